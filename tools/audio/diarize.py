"""Who spoke when, offline: Silero VAD regions, GE2E voice vectors, agglomerative clustering.

The whole recording is diarized at once, so a speaker keeps one label from start to end. Voice
vectors come from 1.6 s windows every 0.5 s inside speech; windows are clustered by average
linkage on cosine distance, stopping at a distance threshold (or at a given speaker count); each
window's label covers the stretch around its centre, and a one-window island is voted away.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gemloom.tools.audio.speaker_encoder import (
    HOP,
    PARTIAL_FRAMES,
    RATE,
    SpeakerEncoder,
    mel_frames,
    normalise_volume,
)

STEP_FRAMES = 50  # a voice vector every 0.5 s
MERGE_DISTANCE = 0.25  # cosine distance under which average linkage still merges two voices
MAX_CLUSTERED = 800  # windows clustered directly; the rest join the nearest centroid
MIN_REGION_SECONDS = 0.25
MIN_CLUSTER = 4  # a "speaker" heard in fewer windows (about 2 s) is an artefact of turn edges


@dataclass(frozen=True)
class SpeakerTurn:
    """A stretch of speech by one speaker, in seconds from the start of the recording."""

    start: float
    end: float
    speaker: str


def speech_regions(samples: np.ndarray) -> list[tuple[int, int]]:
    """Speech spans in 10 ms frames, from the Silero VAD that faster-whisper ships."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=250, speech_pad_ms=60)
    found = get_speech_timestamps(samples, options, sampling_rate=RATE)
    spans = [(s["start"] // HOP, s["end"] // HOP) for s in found]
    return [(a, b) for a, b in spans if (b - a) * HOP >= MIN_REGION_SECONDS * RATE]


def _windows(mel: np.ndarray, regions: Sequence[tuple[int, int]]) -> tuple[np.ndarray, list]:
    """Zero-padded 160-frame windows inside each region, and the frame span each one labels."""
    batch, spans = [], []
    for a, b in regions:
        starts = list(range(a, max(a, b - PARTIAL_FRAMES) + 1, STEP_FRAMES))
        if starts[-1] + PARTIAL_FRAMES < b:
            starts.append(b - PARTIAL_FRAMES)
        centres = [min(s + PARTIAL_FRAMES // 2, (a + b) // 2) for s in starts]
        bounds = [a] + [(x + y) // 2 for x, y in itertools.pairwise(centres)] + [b]
        for k, s in enumerate(starts):
            piece = mel[s : min(s + PARTIAL_FRAMES, b)]
            batch.append(np.pad(piece, ((0, PARTIAL_FRAMES - len(piece)), (0, 0))))
            spans.append((bounds[k], bounds[k + 1]))
    return np.stack(batch), spans


def _linkage(vectors: np.ndarray, speakers: int | None, threshold: float) -> np.ndarray:
    """Average-linkage clusters of unit vectors (Lance-Williams updates), as labels 0..k-1."""
    n = len(vectors)
    dist = 1.0 - vectors @ vectors.T
    np.fill_diagonal(dist, np.inf)
    sizes = np.ones(n)
    members = [[i] for i in range(n)]
    alive = np.ones(n, bool)
    while alive.sum() > (speakers or 1):
        flat = int(np.argmin(dist))
        i, j = divmod(flat, n)
        if speakers is None and dist[i, j] > threshold:
            break
        merged = (sizes[i] * dist[i] + sizes[j] * dist[j]) / (sizes[i] + sizes[j])
        dist[i, :], dist[:, i] = merged, merged
        dist[i, i] = np.inf
        dist[j, :], dist[:, j] = np.inf, np.inf
        sizes[i] += sizes[j]
        members[i] += members[j]
        alive[j] = False
    labels = np.empty(n, int)
    for k, cluster in enumerate(np.flatnonzero(alive)):
        labels[members[cluster]] = k
    return labels


def _centroids(vectors: np.ndarray, labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return np.stack([vectors[labels == k].mean(axis=0) for k in keep])


def _absorb_small(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Windows of clusters smaller than MIN_CLUSTER join the nearest larger cluster."""
    counts = np.bincount(labels)
    keep = np.flatnonzero(counts >= MIN_CLUSTER)
    if len(keep) in (0, len(counts)):
        return labels
    nearest = keep[np.argmax(vectors @ _centroids(vectors, labels, keep).T, axis=1)]
    labels = np.where(np.isin(labels, keep), labels, nearest)
    return np.unique(labels, return_inverse=True)[1]


def cluster(
    vectors: np.ndarray, speakers: int | None = None, threshold: float = MERGE_DISTANCE
) -> np.ndarray:
    """A speaker index per voice vector; at most MAX_CLUSTERED are linked, others join centroids.

    A given `speakers` count merges the voices found down to it; it never splits one voice.
    """
    pick = np.linspace(0, len(vectors) - 1, min(len(vectors), MAX_CLUSTERED)).astype(int)
    labels = _absorb_small(vectors[pick], _linkage(vectors[pick], None, threshold))
    if speakers and labels.max() + 1 > speakers:  # a given count: merge the closest voices
        cents = _centroids(vectors[pick], labels, np.arange(labels.max() + 1))
        cents /= np.linalg.norm(cents, axis=1, keepdims=True)
        labels = _linkage(cents, speakers, threshold)[labels]
    if len(pick) == len(vectors):
        return labels
    centroids = _centroids(vectors[pick], labels, np.arange(labels.max() + 1))
    return np.argmax(vectors @ centroids.T, axis=1)


def _smooth(labels: np.ndarray) -> np.ndarray:
    """A label seen in one window between two equal neighbours takes theirs."""
    out = labels.copy()
    for k in range(1, len(labels) - 1):
        if labels[k - 1] == labels[k + 1] != labels[k]:
            out[k] = labels[k - 1]
    return out


def _turns(spans: list[tuple[int, int]], labels: np.ndarray) -> list[SpeakerTurn]:
    """Adjacent spans of one label joined; speakers numbered by first appearance."""
    names: dict[int, str] = {}
    turns: list[SpeakerTurn] = []
    for (a, b), label in zip(spans, labels, strict=True):
        name = names.setdefault(int(label), f"Speaker {len(names) + 1}")
        start, end = a * HOP / RATE, b * HOP / RATE
        if turns and turns[-1].speaker == name and start - turns[-1].end < 1.0:
            turns[-1] = SpeakerTurn(turns[-1].start, end, name)
        else:
            turns.append(SpeakerTurn(start, end, name))
    return turns


def diarize(
    samples: np.ndarray, encoder: SpeakerEncoder, speakers: int | None = None
) -> list[SpeakerTurn]:
    """Speaker turns of a 16 kHz recording (int16 or float); `speakers` forces the count."""
    wav = samples.astype(np.float32) / (32768.0 if samples.dtype == np.int16 else 1.0)
    regions = speech_regions(wav)
    if not regions:
        return []
    mel = mel_frames(normalise_volume(wav))
    batch, spans = _windows(mel, regions)
    vectors = encoder.embed_partials(batch)
    count = min(speakers, len(vectors)) if speakers else None
    return _turns(spans, _smooth(cluster(vectors, count)))


def speaker_at(turns: Sequence[SpeakerTurn], start: float, end: float) -> str | None:
    """The speaker who talks most between `start` and `end`, if anyone does."""
    talk: dict[str, float] = {}
    for t in turns:
        overlap = min(t.end, end) - max(t.start, start)
        if overlap > 0:
            talk[t.speaker] = talk.get(t.speaker, 0.0) + overlap
    if not talk and turns:
        middle = (start + end) / 2
        return min(turns, key=lambda t: min(abs(t.start - middle), abs(t.end - middle))).speaker
    return max(talk, key=talk.__getitem__) if talk else None
