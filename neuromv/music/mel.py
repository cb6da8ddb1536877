"""Samples to latents: a log-mel spectrogram on the video's exact time grid, normalised and smoothed.

Frame ``i`` is analysed by a Hann window of two hops (``2 / fps`` s) centred on sample ``i * sample_rate / fps``
(computed exactly, so there is no drift for any fps). The number of mel bins is the latent size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..errors import OptionError
from ..io.audio import Audio, AudioStream, as_fps, frame_count, to_mono
from ..io.heap import bound_heap

#: Floor of the log-mel range below the song's loudest bin, in dB.
DYNAMIC_RANGE_DB = 80.0
#: Smallest spread the normalisation divides by, in dB: audio that barely changes (a sustained chord, a near-silent
#: stem) keeps small latents instead of having its noise blown up to full scale. Songs measured 6-9 dB.
MIN_SPREAD_DB = 4.0
#: The highest mel band edge, Hz, when the config gives none (or the song's Nyquist frequency, if lower).
MAX_FMAX = 16000.0
#: The shortest analysis window, samples (at very high frame rates).
MIN_WINDOW = 16
#: The power each mel bin is floored at before the log (-120 dB).
POWER_FLOOR = 1e-12
#: Frames analysed per block, which bounds memory whatever the song's length.
BLOCK_FRAMES = 512


@dataclass(frozen=True)
class LatentConfig:
    """How audio becomes latents.

    ``latent_dim``: mel bins (the latent size). ``fmin``/``fmax``: mel band edges in Hz (``fmax=None``: the
    lower of :data:`MAX_FMAX` and Nyquist). ``release``: seconds for a bin to fall back after a rise (fast attack,
    slow release; 0 disables smoothing).
    """

    latent_dim: int = 64
    fmin: float = 30.0
    fmax: float | None = None
    release: float = 0.25

    def __post_init__(self) -> None:
        if not (isinstance(self.latent_dim, int) and 1 <= self.latent_dim <= 512):
            raise OptionError(f"latent_dim={self.latent_dim!r} must be a whole number of mel bins from 1 to 512")
        if not (math.isfinite(self.release) and self.release >= 0):
            raise OptionError(f"release={self.release!r} must be a number of seconds >= 0")


def hz_to_mel(hz: float | np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz (3 bins per 200 Hz), logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz * 3.0 / 200.0
    log_part = hz >= 1000.0
    return np.where(log_part, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) * 27.0 / np.log(6.4), mel)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((mel - 15.0) * np.log(6.4) / 27.0), mel * 200.0 / 3.0)


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """float32 [n_mels, n_fft // 2 + 1]: triangular filters evenly spaced in mel, each of unit area in Hz."""
    bins = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    width = np.diff(edges)
    rising = (bins[None, :] - edges[:-2, None]) / width[:-1, None]
    falling = (edges[2:, None] - bins[None, :]) / width[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def log_mel(samples: np.ndarray | Iterable[np.ndarray], sample_rate: int, fps: Fraction | float | str,
            config: LatentConfig) -> np.ndarray:
    """float32 [frames, latent_dim]: log-mel power in dB, one row per video frame.

    ``samples``: float32 [n] mono, or an iterable of such blocks (a long song streamed: memory stays bounded).
    ``frames == ceil(n * fps / sample_rate)``; the result is the same (to float rounding) however the samples are split
    into blocks.
    """
    import torch  # here, not at the top: the feature bank uses this module's filterbank without torch

    fps = as_fps(fps)
    bound_heap()
    window = max(MIN_WINDOW, round(2 * sample_rate / fps))
    half = window // 2
    fmax = min(config.fmax or MAX_FMAX, sample_rate / 2.0)
    fmin = min(config.fmin, fmax / 2.0)
    # [bins, latent_dim], applied by torch rather than numpy: OpenBLAS's threads spin for a while after each product,
    # and on a 2-core machine they starved the renderer's threads that came next (12 ms per op for ~70 ms). The FFT
    # stays numpy's: torch's was 5x faster but kept 130 MB more by a 10-minute song (per-thread MKL workspaces), numpy's
    # 38 MB.
    basis = torch.from_numpy(mel_filterbank(sample_rate, window, config.latent_dim, fmin, fmax).T.copy())
    hann = np.hanning(window + 2)[1:-1].astype(np.float32)
    offsets = np.arange(window)
    step = max(1, min(BLOCK_FRAMES, 4_000_000 // window))  # frames per FFT batch: bounded memory at any fps

    # The signal is padded with `window` zeros at both ends; frame i's window starts at padded sample
    # floor(i * rate / fps) + window - half. `buffer` holds padded samples from index `buffer_start` on.
    buffer, buffer_start = np.zeros(window, dtype=np.float32), 0
    rows: list[np.ndarray] = []
    done, total = 0, 0

    def window_start(index: np.ndarray) -> np.ndarray:
        return (index * (sample_rate * fps.denominator)) // fps.numerator + window - half

    def analyse(upto: int) -> None:  # frames done..upto-1, all inside `buffer`
        nonlocal done
        for first in range(done, upto, step):
            index = np.arange(first, min(first + step, upto))
            starts = window_start(index) - buffer_start  # [block]
            segment = buffer[starts[:, None] + offsets[None, :]] * hann  # [block, window]
            power = np.abs(np.fft.rfft(segment, axis=1)) ** 2  # [block, window // 2 + 1]
            rows.append(torch.from_numpy(power.astype(np.float32)).mm(basis).numpy())  # [block, latent_dim]
        done = max(done, upto)

    blocks = [samples] if isinstance(samples, np.ndarray) else samples
    for block in blocks:
        total += block.shape[0]
        buffer = np.concatenate([buffer, block.astype(np.float32, copy=False)])
        end = buffer_start + buffer.shape[0]  # padded index just past the buffer
        # frames whose whole window lies in the buffer: floor(i * rate / fps) <= end - 2 * window + half
        last = end - 2 * window + half
        ready = -(-(last + 1) * fps.numerator // (sample_rate * fps.denominator)) if last >= 0 else 0
        ready = min(ready, frame_count(total, sample_rate, fps))
        analyse(ready)
        keep_from = int(window_start(np.array(done))) - buffer_start
        if keep_from > 0:
            buffer, buffer_start = buffer[keep_from:], buffer_start + keep_from
    buffer = np.concatenate([buffer, np.zeros(window, dtype=np.float32)])
    analyse(frame_count(total, sample_rate, fps))
    return _decibels(rows, config.latent_dim)


def _decibels(rows: list[np.ndarray], dims: int) -> np.ndarray:
    """The mel power rows, joined (and let go of), in dB: float32 [frames, dims]."""
    out = np.concatenate(rows) if rows else np.zeros((0, dims), np.float32)
    rows.clear()
    np.maximum(out, POWER_FLOOR, out=out)  # in place from here on: an hour of latents is 28 MB a copy
    np.log10(out, out=out)
    out *= 10.0
    return out


def normalise(db: np.ndarray) -> np.ndarray:
    """float32 [frames, dim] in (-1, 1): loudness-independent deviations of each bin from its own mean.

    The range is floored ``DYNAMIC_RANGE_DB`` below the loudest value, each bin is centred on its mean and the whole
    is divided by the overall standard deviation (at least ``MIN_SPREAD_DB``), so a quiet song and a loud one move
    the picture alike while a sustained sound stays calm.
    """
    out = np.maximum(db, db.max() - DYNAMIC_RANGE_DB).astype(np.float32, copy=False)  # the one copy
    out -= out.mean(axis=0, keepdims=True)
    scale = max(float(out.std()), MIN_SPREAD_DB)
    out /= np.float32(2.0 * scale)
    return np.tanh(out, out=out)


def smooth(latents: np.ndarray, fps: Fraction | float | str, release: float) -> np.ndarray:
    """Fast attack, slow release: rises follow at once, falls decay with time constant ``release`` seconds."""
    if release <= 0 or latents.shape[0] == 0:
        return latents
    keep = math.exp(-1.0 / (release * float(as_fps(fps))))
    out = np.empty_like(latents)
    level = latents[0].copy()
    for i, row in enumerate(latents):
        level = np.maximum(row, keep * level + (1.0 - keep) * row)
        out[i] = level
    return out


def mel_latents(audio: Audio | AudioStream, fps: Fraction | float | str = 30, config: LatentConfig | None = None
                ) -> np.ndarray:
    """Latents for ``audio``: float32 [frames, latent_dim] in (-1, 1), ``frames == ceil(duration * fps)``.

    Row ``i`` describes the audio around ``t = i / fps`` seconds (relative to ``audio.start``). An
    :class:`AudioStream` is decoded block by block (and checked: too short or silent audio raises).
    """
    config = config or LatentConfig()
    if isinstance(audio, AudioStream):
        mono = (to_mono(block) for block in audio.blocks())
        db = log_mel(mono, audio.sample_rate, fps, config)
        audio.check()
    else:
        db = log_mel(audio.mono(), audio.sample_rate, fps, config)
    return smooth(normalise(db), fps, config.release)
