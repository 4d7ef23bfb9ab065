"""Resemblyzer's GE2E speaker encoder run in numpy: 40-band mel frames in, a 256-d voice vector out.

The features follow Resemblyzer 0.1.4 (`audio.wav_to_mel_spectrogram`, which calls librosa's
`melspectrogram` with its defaults): 25 ms periodic Hann windows every 10 ms, centred frames, power
spectrum, Slaney mel filters normalised to unit area. The network is a 3-layer LSTM of 256 units
whose last hidden state goes through a linear layer, a ReLU and an L2 norm.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from gemloom.tools.audio.speaker_weights import load_weights

RATE = 16_000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s per partial utterance
LAYERS = 3
PIECE = 64  # windows per LSTM pass: 64 x 160 frames x 1024 gates of float32 is 42 MB
NORM_TARGET_DBFS = -30.0


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney's scale (librosa's default): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log = hz >= 1000.0
    return np.where(log, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27), mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    hz = mel * (200.0 / 3)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27) * (mel - 15.0)), hz)


def mel_filters(rate: int = RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """librosa.filters.mel(sr=rate, n_fft=n_fft, n_mels=n_mels): shape (n_mels, 1 + n_fft // 2)."""
    fft_freqs = np.linspace(0, rate / 2, 1 + n_fft // 2)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(rate / 2), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


_FILTERS = mel_filters()
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """Mel power frames of float32 16 kHz audio, shape (frames, 40), one per 10 ms."""
    padded = np.pad(wav.astype(np.float32), N_FFT // 2, mode="reflect")
    count = 1 + (len(padded) - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
    spectrum = np.abs(np.fft.rfft(padded[index] * _WINDOW, axis=1)) ** 2
    return (spectrum @ _FILTERS.T).astype(np.float32)


def normalise_volume(wav: np.ndarray, target_dbfs: float = NORM_TARGET_DBFS) -> np.ndarray:
    """Raise quiet audio to the loudness the encoder was trained on (never lowers it)."""
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64))))
    if rms <= 0:
        return wav
    change = target_dbfs - 20 * np.log10(rms)
    return wav * np.float32(10 ** (change / 20)) if change > 0 else wav


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _cores() -> int:
    """The cores this process may run on (its affinity), at most 4."""
    try:
        return min(4, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return min(4, os.cpu_count() or 1)


class SpeakerEncoder:
    """The GE2E voice encoder with its weights in memory."""

    def __init__(self, weights: dict[str, np.ndarray] | None = None):
        self.w = weights if weights is not None else load_weights()

    def _layer(self, x: np.ndarray, k: int) -> np.ndarray:
        """One LSTM layer over (batch, time, features); PyTorch's gate order i, f, g, o."""
        w_ih, w_hh = self.w[f"lstm.weight_ih_l{k}"], self.w[f"lstm.weight_hh_l{k}"]
        bias = self.w[f"lstm.bias_ih_l{k}"] + self.w[f"lstm.bias_hh_l{k}"]
        gates_in = x @ w_ih.T + bias
        batch, steps, _ = x.shape
        size = w_hh.shape[1]
        h = np.zeros((batch, size), np.float32)
        c = np.zeros((batch, size), np.float32)
        out = np.empty((batch, steps, size), np.float32)
        w_hh_t = np.ascontiguousarray(w_hh.T)
        for t in range(steps):
            g = gates_in[:, t] + h @ w_hh_t
            i, f = _sigmoid(g[:, :size]), _sigmoid(g[:, size : 2 * size])
            c = f * c + i * np.tanh(g[:, 2 * size : 3 * size])
            h = _sigmoid(g[:, 3 * size :]) * np.tanh(c)
            out[:, t] = h
        return out

    def embed_partials(self, mels: np.ndarray) -> np.ndarray:
        """Unit voice vectors for a batch of (batch, frames, 40) mel windows.

        The batch is cut into pieces that run side by side on the machine's cores (numpy lets go
        of the GIL in its products): 0.72 s instead of 1.17 s for 128 windows on 2 cores.
        """
        x = mels.astype(np.float32)
        workers = max(1, min(_cores(), -(-len(x) // (PIECE // 2))))  # pieces of 32 at least
        pieces = np.array_split(x, max(workers, -(-len(x) // PIECE))) if len(x) else [x]
        # one BLAS thread each: the LSTM's many small products run ~9x slower when OpenBLAS
        # threads contend for a loaded 2-core machine (bench/diarization.py)
        with threadpool_limits(limits=1, user_api="blas"):
            if workers == 1:
                return np.concatenate([self._embed(p) for p in pieces])
            with ThreadPoolExecutor(workers, thread_name_prefix="gemloom-voice") as pool:
                return np.concatenate(list(pool.map(self._embed, pieces)))

    def _embed(self, x: np.ndarray) -> np.ndarray:
        for k in range(LAYERS):
            x = self._layer(x, k)
        raw = np.maximum(x[:, -1] @ self.w["linear.weight"].T + self.w["linear.bias"], 0)
        return raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-9)

    def embed_utterance(self, wav: np.ndarray) -> np.ndarray:
        """One unit voice vector for a clip: the normalised mean over its 1.6 s partials."""
        mel = mel_frames(normalise_volume(wav))
        if len(mel) < PARTIAL_FRAMES:
            mel = np.pad(mel, ((0, PARTIAL_FRAMES - len(mel)), (0, 0)))
        starts = range(0, len(mel) - PARTIAL_FRAMES + 1, PARTIAL_FRAMES // 2)
        partials = self.embed_partials(np.stack([mel[s : s + PARTIAL_FRAMES] for s in starts]))
        mean = partials.mean(axis=0)
        return mean / np.linalg.norm(mean)
