"""The one boundary to PyAV: decode recordings to 16 kHz mono, cut them into chunks, encode WAV."""

from __future__ import annotations

import codecs
import dataclasses
import io
import math
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from gemloom.errors import GemloomError

RATE = 16_000
MAX_CHUNK_SECONDS = 30.0  # Gemma 4 takes at most 30 s of audio per item
OVERLAP_SECONDS = 1.0
SEARCH_SECONDS = 8.0  # where to look for a quiet point before the 30 s limit
FRAME = 320  # 20 ms energy frames
BLOCK_SAMPLES = 441_000  # about 10 s of decoded audio per resampler call
SILENCE_DBFS = -50.0  # a chunk whose loudest 100 ms stays below this holds no speech
EXTENSIONS = frozenset(
    {".wav", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".wma", ".amr"}
    | {".mp4", ".m4v", ".mkv", ".webm", ".mov", ".3gp"}
)


class AudioError(GemloomError):
    """A recording cannot be turned into audio samples."""


class EmptyRecording(AudioError):
    """The file has no bytes at all."""


class NotARecording(AudioError):
    """The file is text or some other non-media data with a recording's name."""


class CorruptRecording(AudioError):
    """The file looks like media but cannot be decoded."""


class NoAudioStream(AudioError):
    """The container (for example a screen capture video) has no audio track."""


@dataclass(frozen=True)
class Audio:
    """Decoded audio: 16 kHz mono int16 samples."""

    samples: np.ndarray
    rate: int = RATE

    @property
    def seconds(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate


@dataclass(frozen=True)
class Chunk:
    """A piece of at most 30 s, with its place in the recording."""

    index: int
    start: float
    samples: np.ndarray
    rate: int = RATE
    # the stretch whose words this chunk's transcript keeps: from the cut before it (the end of
    # the previous chunk, a quiet point) to its own end, the rule `stitch` applies to segments
    owns: tuple[float, float] = (-math.inf, math.inf)

    @property
    def end(self) -> float:
        """Where the chunk ends, in seconds from the start of the recording."""
        return self.start + len(self.samples) / self.rate

    @property
    def silent(self) -> bool:
        """Whether no 100 ms stretch of the chunk is louder than SILENCE_DBFS."""
        return loudest_dbfs(self.samples, self.rate) < SILENCE_DBFS

    def float32(self) -> np.ndarray:
        """Samples scaled to [-1, 1], as Whisper wants them."""
        return self.samples.astype(np.float32) / 32768.0

    def wav(self) -> bytes:
        """The chunk as 16 kHz mono 16-bit WAV bytes."""
        return wav_bytes(self.samples, self.rate)


def wav_bytes(samples: np.ndarray, rate: int = RATE) -> bytes:
    """Mono int16 samples as a WAV file in memory."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return buffer.getvalue()


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:  # incremental: a character cut at the end of the 512 bytes is not an error
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def preflight(path: Path) -> None:
    """The clear error for a file that cannot be a recording (unreadable, empty, text), from
    its first 512 bytes: before anything is decoded, or anything slow is started for it."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        raise AudioError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if size == 0:
        raise EmptyRecording(f"{path.name} is empty (0 bytes): nothing to transcribe.")
    if _looks_like_text(head):
        raise NotARecording(f"{path.name} is a text file, not an audio or video recording.")


def _open(path: Path) -> av.container.InputContainer:
    preflight(path)
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise CorruptRecording(f"{path.name} cannot be decoded as media: {_why(exc)}.") from None


def _why(exc: Exception) -> str:
    return str(getattr(exc, "strerror", None) or exc).rstrip(".")


def _blocks(
    container: av.container.InputContainer, stream: av.AudioStream
) -> Iterator[av.AudioFrame]:
    """Decoded frames joined into ~10 s blocks: the resampler's cost is per call, not per sample."""
    pending: list[np.ndarray] = []
    shape: tuple[str, str, int] | None = None  # set with the first frame
    size = 0
    for frame in container.decode(stream):
        key = (frame.format.name, frame.layout.name, frame.rate)
        if pending and shape is not None and (key != shape or size >= BLOCK_SAMPLES):
            yield _joined(pending, shape)
            pending, size = [], 0
        shape = key
        pending.append(frame.to_ndarray())
        size += frame.samples
    if pending and shape is not None:
        yield _joined(pending, shape)


def _joined(arrays: list[np.ndarray], shape: tuple[str, str, int]) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(np.concatenate(arrays, axis=1), shape[0], shape[1])
    frame.rate = shape[2]
    return frame


def _frames(container: av.container.InputContainer, path: Path) -> Iterator[np.ndarray]:
    if not container.streams.audio:
        raise NoAudioStream(f"{path.name} has no audio track to transcribe.")
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    try:
        for block in _blocks(container, container.streams.audio[0]):
            for out in resampler.resample(block):
                yield out.to_ndarray().reshape(-1)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1)
    except (av.FFmpegError, ValueError) as exc:
        raise CorruptRecording(
            f"{path.name} is damaged and cannot be decoded: {_why(exc)}."
        ) from None


def decode(path: str | Path) -> Audio:
    """Decode the first audio track of any recording or video to 16 kHz mono int16."""
    path = Path(path)
    with _open(path) as container:
        pieces = list(_frames(container, path))
    if not pieces:
        raise CorruptRecording(f"{path.name} holds no decodable audio samples.")
    return Audio(np.concatenate(pieces))


def frame_energy(samples: np.ndarray) -> np.ndarray:
    """Mean square of each 20 ms frame, computed in blocks to bound memory."""
    usable = len(samples) // FRAME * FRAME
    frames = samples[:usable].reshape(-1, FRAME)
    energy = np.empty(len(frames), dtype=np.float32)
    block = 30_000  # 10 minutes of frames at a time
    for i in range(0, len(frames), block):
        part = frames[i : i + block].astype(np.float32)
        energy[i : i + block] = np.einsum("ij,ij->i", part, part) / FRAME
    return energy


def loudest_dbfs(samples: np.ndarray, rate: int = RATE) -> float:
    """Loudness in dBFS of the loudest 100 ms of the samples."""
    energy = frame_energy(samples)
    if not len(energy):
        return -120.0
    width = max(1, rate // 10 // FRAME)
    smooth = (
        np.convolve(energy, np.ones(width) / width, mode="valid")
        if len(energy) >= width
        else energy
    )
    return float(10 * np.log10(smooth.max() / 32768.0**2 + 1e-12))


def _quiet_cut(smooth: np.ndarray, lo: int, hi: int) -> int:
    """The frame index in [lo, hi) with the least smoothed energy, the latest of equal minima."""
    window = smooth[lo:hi]
    return lo + len(window) - 1 - int(np.argmin(window[::-1]))


def split(
    audio: Audio,
    max_seconds: float = MAX_CHUNK_SECONDS,
    overlap: float = OVERLAP_SECONDS,
    search: float = SEARCH_SECONDS,
) -> list[Chunk]:
    """Chunks of at most `max_seconds`, cut at the quietest point before the limit, overlapping."""
    energy = frame_energy(audio.samples)
    smooth = np.convolve(energy, np.ones(10, dtype=np.float32) / 10, mode="same")  # 200 ms
    per_second = audio.rate / FRAME
    total = len(audio.samples)
    limit, back, search_frames = (int(x * per_second) for x in (max_seconds, overlap, search))
    chunks: list[Chunk] = []
    start = 0  # start and cut are in frames
    while True:
        if start * FRAME + limit * FRAME >= total:
            cut_sample = total
        else:
            hi = start + limit
            cut_sample = _quiet_cut(smooth, max(start + back + 1, hi - search_frames), hi) * FRAME
        samples = audio.samples[start * FRAME : cut_sample]
        chunks.append(Chunk(len(chunks), start * FRAME / audio.rate, samples, audio.rate))
        if cut_sample >= total:
            return _owning(chunks)
        start = cut_sample // FRAME - back


def _owning(chunks: list[Chunk]) -> list[Chunk]:
    """The chunks with the stretch each one owns: from cut to cut (the overlap is the earlier's)."""
    bounds = [-math.inf, *(c.end for c in chunks[:-1]), math.inf]
    return [dataclasses.replace(c, owns=(bounds[i], bounds[i + 1])) for i, c in enumerate(chunks)]


def joined(chunks: Sequence[Chunk]) -> np.ndarray:
    """The samples of consecutive overlapping chunks as one stretch, each overlap once."""
    pieces, end = [], None
    for chunk in chunks:
        skip = 0 if end is None else max(0, round((end - chunk.start) * chunk.rate))
        pieces.append(chunk.samples[skip:])
        end = chunk.end
    return np.concatenate(pieces) if pieces else np.zeros(0, np.int16)


def write(
    path: str | Path, samples: np.ndarray, codec: str, rate: int = RATE, bit_rate: int = 0
) -> Path:
    """Encode mono int16 samples into a media file (for fixtures and benchmarks)."""
    path = Path(path)
    samples = np.ascontiguousarray(samples, dtype=np.int16).reshape(1, -1)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=48_000 if "opus" in codec else rate)
        if not isinstance(stream, av.AudioStream):
            raise ValueError(f"{codec} is not an audio codec")
        stream.layout = "mono"
        if bit_rate:
            stream.bit_rate = bit_rate
        step = rate // 10  # small frames: PyAV re-buffers one huge frame very slowly
        for start in range(0, samples.shape[1], step):
            frame = av.AudioFrame.from_ndarray(
                samples[:, start : start + step].copy(), format="s16", layout="mono"
            )
            frame.rate, frame.pts = rate, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@dataclass(frozen=True)
class Frame:
    """A still from a video at a scene change (a new slide, a new screen share)."""

    seconds: float
    png: bytes


SCENE_THRESHOLD = 10.0  # mean absolute grey-level change (0-255) that counts as a new scene
THUMB_WIDTH = 64  # scenes are compared on thumbnails: cheap, and blind to compression noise
FRAME_MAX_WIDTH = 1280


def _thumb(frame: av.VideoFrame) -> np.ndarray:
    grey = frame.to_ndarray(format="gray").astype(np.float32)
    step = max(1, grey.shape[1] // THUMB_WIDTH)
    return grey[::step, ::step]


def _png(frame: av.VideoFrame) -> bytes:
    image = frame.to_image()
    if image.width > FRAME_MAX_WIDTH:
        height = round(image.height * FRAME_MAX_WIDTH / image.width)
        image = image.resize((FRAME_MAX_WIDTH, height))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def scene_frames(
    path: str | Path, max_frames: int = 12, threshold: float = SCENE_THRESHOLD
) -> list[Frame]:
    """Stills where the picture changes (slides, screen shares); [] for audio-only files.

    Only key frames are decoded, which is fast and enough: encoders place key frames at cuts.
    """
    path = Path(path)
    with _open(path) as container:
        if not container.streams.video:
            return []
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        kept: list[Frame] = []
        last: np.ndarray | None = None
        try:
            for frame in container.decode(stream):
                thumb = _thumb(frame)
                changed = last is None or thumb.shape != last.shape
                if changed or float(np.abs(thumb - last).mean()) > threshold:
                    kept.append(Frame(float(frame.time or 0.0), _png(frame)))
                    last = thumb
                    if len(kept) >= max_frames:
                        break
        except av.FFmpegError as exc:
            raise CorruptRecording(f"{path.name}: cannot read its video ({_why(exc)}).") from None
    return kept
