"""The feature bank: named audio features on the video's exact frame grid, each in [0, 1], for presets to map.

Row ``i`` describes the audio around ``t = i / fps`` (a window centred on sample ``i * rate / fps``, exactly, as for
the latents). Each feature is scaled to [0, 1] per song between robust percentiles of its own values
(:data:`LOW_PERCENTILE`, :data:`HIGH_PERCENTILE`), which are kept with the bank, so a quiet song and a loud one drive
a preset alike. Energies are in dB before scaling; brightness is the log of the spectral centroid.

================  =============================================================================================
``rms``           loudness: the RMS level of the window
``onset``         onset strength: the rise of the log-mel spectrum since the previous frame (spectral flux)
``percussive``    the energy of the percussive part (median-filtering separation of the spectrogram)
``harmonic``      the energy of the harmonic part
``centroid``      brightness: the spectral centroid
``beat``          a pulse: 1 at each tracked beat, decaying with a time constant of :data:`BEAT_DECAY` s
``chroma.C`` ...  the 12 pitch classes (C, C#, D, ... B), each frame's strongest at 1 before the song's scaling
``low`` ...       band energies: ``low`` 20-250 Hz, ``mid`` 250-2000 Hz, ``high`` 2-11 kHz
================  =============================================================================================
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .audio import Audio, as_fps, frame_count
from .errors import OptionError

#: The rate the bank analyses at (the song is resampled to it), Hz, and its FFT size (93 ms).
RATE = 22050
N_FFT = 2048
LOW_PERCENTILE, HIGH_PERCENTILE = 2.0, 98.0
#: Seconds for the beat pulse to fall to 1/e.
BEAT_DECAY = 0.15
PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
BANDS = {"low": (20.0, 250.0), "mid": (250.0, 2000.0), "high": (2000.0, 11025.0)}
FEATURES = ("rms", "onset", "percussive", "harmonic", "centroid", "beat", *(f"chroma.{p}" for p in PITCHES),
            *BANDS)


@dataclass(frozen=True)
class FeatureBank:
    """``values``: float32 [frames, len(names)] in [0, 1]; column ``j`` is feature ``names[j]``. ``ranges``: each
    feature's (low, high) before scaling (the song's percentiles, in the feature's own unit)."""

    names: tuple[str, ...]
    values: np.ndarray
    fps: Fraction
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        """float32 [frames]: one feature's track."""
        if name not in self.names:
            import difflib

            close = difflib.get_close_matches(name, self.names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; features: {list(self.names)}"
            raise OptionError(f"feature {name!r} is not in the bank{hint}")
        return self.values[:, self.names.index(name)]

    @property
    def frames(self) -> int:
        return self.values.shape[0]

    def with_features(self, names: tuple[str, ...], values: np.ndarray) -> FeatureBank:
        """The bank with more columns (learned features, say): float32 [frames, len(names)] already in [0, 1]."""
        if values.shape != (self.frames, len(names)):
            raise OptionError(f"features of shape {list(values.shape)} do not fit a bank of {self.frames} frames")
        return FeatureBank(self.names + tuple(names), np.concatenate([self.values, values], axis=1), self.fps,
                           self.ranges)


def grid_centres(frames: int, sample_rate: int, fps: Fraction) -> np.ndarray:
    """int64 [frames]: the sample each frame is centred on, ``floor(i * rate / fps)``, exactly."""
    return (np.arange(frames, dtype=np.int64) * (sample_rate * fps.denominator)) // fps.numerator


def _spectra(mono: np.ndarray, frames: int, fps: Fraction) -> tuple[np.ndarray, np.ndarray]:
    """(magnitude [frames, N_FFT // 2 + 1], RMS [frames]) of Hann windows centred on the frame grid."""
    half = N_FFT // 2
    padded = np.concatenate([np.zeros(half, np.float32), mono, np.zeros(half + 1, np.float32)])
    starts = grid_centres(frames, RATE, fps)  # a window starts `half` before its centre: at `centre` once padded
    hann = np.hanning(N_FFT + 2)[1:-1].astype(np.float32)
    offsets = np.arange(N_FFT)
    magnitude = np.empty((frames, half + 1), np.float32)
    rms = np.empty(frames, np.float32)
    for first in range(0, frames, 512):  # bounded working memory
        segment = padded[starts[first:first + 512, None] + offsets[None, :]]  # [block, N_FFT]
        rms[first:first + 512] = np.sqrt(np.mean(segment * segment, axis=1))
        magnitude[first:first + 512] = np.abs(np.fft.rfft(segment * hann, axis=1))
    return magnitude, rms


def _db(power: np.ndarray) -> np.ndarray:
    return (10.0 * np.log10(np.maximum(power, 1e-10))).astype(np.float32)


def _beats(onset: np.ndarray, fps: Fraction) -> np.ndarray:
    """float32 [frames]: 1 at each beat librosa's tracker finds in the onset envelope, decaying between beats."""
    import librosa

    frames = onset.shape[0]
    pulse = np.zeros(frames, np.float32)
    hop = 512  # librosa wants an integer hop: the envelope's rate is fps to within 1/512
    _, beats = librosa.beat.beat_track(onset_envelope=onset.astype(np.float64), sr=round(float(fps) * hop),
                                       hop_length=hop, trim=False)
    if len(beats) == 0:
        return pulse
    decay = math.exp(-1.0 / (BEAT_DECAY * float(fps)))
    since = np.full(frames, np.inf)
    marks = np.zeros(frames, bool)
    marks[np.asarray(beats, dtype=np.int64).clip(0, frames - 1)] = True
    last = -1
    for i in range(frames):  # frames since the latest beat at or before i
        if marks[i]:
            last = i
        if last >= 0:
            since[i] = i - last
    return np.where(np.isfinite(since), decay ** np.minimum(since, 1e6), 0.0).astype(np.float32)


def _scale(raw: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    low, high = (float(v) for v in np.percentile(raw, [LOW_PERCENTILE, HIGH_PERCENTILE]))
    if not high - low > 1e-6:  # a feature that does not change stays at rest
        return np.zeros_like(raw, dtype=np.float32), (low, high)
    return np.clip((raw - low) / (high - low), 0.0, 1.0).astype(np.float32), (low, high)


def feature_bank(audio: Audio, fps: Fraction | float | str = 30) -> FeatureBank:
    """The bank for ``audio`` (decoded, any rate and channels): ``frames == ceil(duration * fps)`` rows."""
    import librosa
    import soxr

    fps = as_fps(fps)
    frames = frame_count(audio.n_samples, audio.sample_rate, fps)
    mono = audio.mono()
    if audio.sample_rate != RATE:
        mono = soxr.resample(mono, audio.sample_rate, RATE, quality="HQ").astype(np.float32)
    magnitude, rms = _spectra(mono, frames, fps)  # [frames, bins]
    power = magnitude * magnitude
    hz = np.fft.rfftfreq(N_FFT, 1.0 / RATE)
    raw: dict[str, np.ndarray] = {"rms": _db(rms * rms)}
    mel = _db(power @ librosa.filters.mel(sr=RATE, n_fft=N_FFT, n_mels=64).T)  # [frames, 64]
    onset = np.zeros(frames, np.float32)
    onset[1:] = np.maximum(mel[1:] - mel[:-1], 0.0).mean(axis=1)
    raw["onset"] = onset
    kernel = max(3, 2 * round(0.1 * float(fps)) + 1)  # about 0.2 s of frames, odd
    harmonic, percussive = librosa.decompose.hpss(magnitude.T, kernel_size=(kernel, 31))  # [bins, frames] each
    raw["percussive"] = _db((percussive ** 2).sum(axis=0))
    raw["harmonic"] = _db((harmonic ** 2).sum(axis=0))
    total = power.sum(axis=1)
    raw["centroid"] = np.log(np.maximum((power @ hz) / np.maximum(total, 1e-12), 20.0)).astype(np.float32)
    chroma = librosa.feature.chroma_stft(S=power.T, sr=RATE, n_fft=N_FFT, tuning=0.0)  # [12, frames]
    for index, pitch in enumerate(PITCHES):
        raw[f"chroma.{pitch}"] = chroma[index].astype(np.float32)
    for band, (low, high) in BANDS.items():
        raw[band] = _db(power[:, (hz >= low) & (hz < high)].sum(axis=1))
    columns, ranges = [], {}
    for name in FEATURES:
        if name == "beat":
            columns.append(_beats(raw["onset"], fps))  # already in [0, 1]
            ranges[name] = (0.0, 1.0)
            continue
        scaled, ranges[name] = _scale(raw[name])
        columns.append(scaled)
    return FeatureBank(FEATURES, np.stack(columns, axis=1), fps, ranges)


def table(names: tuple[str, ...], values: np.ndarray, fps: Fraction, as_json: bool = False) -> str:
    """Per-frame columns as CSV (``time,frame,<names>``) or JSON (``{"fps", "columns", "rows"}``), for plotting."""
    times = np.arange(values.shape[0]) * float(Fraction(1) / fps)
    if as_json:
        rows = [[round(float(t), 6), i, *(round(float(v), 6) for v in row)] for i, (t, row) in enumerate(zip(times,
                                                                                                           values))]
        return json.dumps({"fps": str(fps), "columns": ["time", "frame", *names], "rows": rows})
    lines = [",".join(("time", "frame", *names))]
    lines += [",".join([f"{t:.6f}", str(i), *(f"{v:.6g}" for v in row)]) for i, (t, row) in enumerate(zip(times,
                                                                                                          values))]
    return "\n".join(lines) + "\n"
