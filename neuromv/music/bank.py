"""The feature bank: named audio features on the video's exact frame grid, each in [0, 1], for presets to map.

Row ``i`` describes the audio around ``t = i / fps`` (a window centred on sample ``i * rate / fps``, exactly, as for
the latents). Each feature is scaled to [0, 1] per song between robust percentiles of its own values
(:data:`LOW_PERCENTILE`, :data:`HIGH_PERCENTILE`), which are kept with the bank, so a quiet song and a loud one drive
a preset alike. Energies are in dB before scaling; brightness is the log of the spectral centroid.

================  =============================================================================================
``rms``           loudness: the RMS level of the window
``onset``         onset strength: the rise of the log-mel spectrum since the previous frame (spectral flux)
``percussive``    the energy of the percussive part (median-filtering separation of the spectrogram, :mod:`.hpss`)
``harmonic``      the energy of the harmonic part
``centroid``      brightness: the spectral centroid
``beat``          a pulse: 1 at each beat :mod:`.beats` tracks, decaying with a time constant of :data:`BEAT_DECAY` s
``chroma.C`` ...  the 12 pitch classes (C, C#, D, ... B) of :func:`chroma_basis`, each frame's strongest at 1 before
                  the song's scaling
``low`` ...       band energies: ``low`` 20-250 Hz, ``mid`` 250-2000 Hz, ``high`` 2-11 kHz
================  =============================================================================================
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import OptionError, did_you_mean
from ..io.audio import Audio, AudioStream, as_fps, frame_count, open_audio, to_mono
from ..io.files import content_hash, write_atomically
from . import beats, hpss, mel

#: The rate the bank analyses at (the song is resampled to it), Hz, and its FFT size (93 ms).
RATE = 22050
N_FFT = 2048
LOW_PERCENTILE, HIGH_PERCENTILE = 2.0, 98.0
#: Seconds for the beat pulse to fall to 1/e.
BEAT_DECAY = 0.15
#: The band the chroma reads, Hz: from below the bass's lowest notes to where harmonics outnumber fundamentals.
CHROMA_BAND = (40.0, 5000.0)
#: The harmonic/percussive split's medians: over ~0.2 s of frames (at least 3) and over this many FFT bins (~330 Hz).
SPLIT_BINS = 31
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
            hint = did_you_mean(name, self.names, f"; features: {list(self.names)}")
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


def _db(power: np.ndarray) -> np.ndarray:
    return (10.0 * np.log10(np.maximum(power, 1e-10))).astype(np.float32)


def _beats(onset: np.ndarray, fps: Fraction) -> np.ndarray:
    """float32 [frames]: 1 at each beat :func:`.beats.track` finds in the onset envelope, decaying between beats."""
    frames = onset.shape[0]
    found = beats.track(onset, float(fps))
    if found.size == 0:
        return np.zeros(frames, np.float32)
    since = np.arange(frames) - found[np.maximum(np.searchsorted(found, np.arange(frames), side="right") - 1, 0)]
    pulse = np.exp(-since / (BEAT_DECAY * float(fps)))
    return np.where(since >= 0, pulse, 0.0).astype(np.float32)


def chroma_basis(rate: int = RATE, n_fft: int = N_FFT) -> np.ndarray:
    """float32 [12, n_fft // 2 + 1]: how much of each FFT bin's power goes to each pitch class (C first).

    A bin between :data:`CHROMA_BAND` Hz falls on the pitch ``12 · log2(f / C0)`` semitones (A4 = 440 Hz); its power is
    shared among the 12 classes by a Gaussian of their circular distance to it (half a semitone wide, or half the
    bin's own width in semitones where a low bin spans more), weighted by a Gaussian over octaves around A4 (two octaves
    wide) so that neither rumble nor the top harmonics decide the pitch class."""
    hz = np.fft.rfftfreq(n_fft, 1.0 / rate)
    low, high = CHROMA_BAND
    inside = (hz >= low) & (hz <= high)
    c0 = 440.0 * 2.0 ** (-57.0 / 12.0)
    step = rate / n_fft
    pitch = 12.0 * np.log2(np.maximum(hz, step / 2) / c0)
    width = np.maximum(0.5, 6.0 * np.log2((hz + step / 2) / np.maximum(hz - step / 2, step / 4)))
    classes = np.arange(12.0)[:, None]
    distance = (pitch[None, :] - classes + 6.0) % 12.0 - 6.0
    weights = np.exp(-0.5 * (distance / width[None, :]) ** 2)
    weights /= weights.sum(axis=0, keepdims=True)
    octave = np.exp(-0.5 * (np.log2(np.maximum(hz, step / 2) / 440.0) / 2.0) ** 2)
    return (weights * (octave * inside)[None, :]).astype(np.float32)


def scale(raw: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """float32 in [0, 1]: ``raw`` scaled per song between its robust percentiles, and those (low, high)."""
    low, high = (float(v) for v in np.percentile(raw, [LOW_PERCENTILE, HIGH_PERCENTILE]))
    if not high - low > 1e-6:  # a feature that does not change stays at rest
        return np.zeros_like(raw, dtype=np.float32), (low, high)
    return np.clip((raw - low) / (high - low), 0.0, 1.0).astype(np.float32), (low, high)


#: Frames analysed at a time: working memory stays bounded (about 30 MB) whatever the song's length.
BLOCK = 2048


def mono(audio: Audio | AudioStream) -> np.ndarray:
    """float32 [n]: the song mixed to mono and resampled to :data:`RATE`, block by block for a stream."""
    import soxr

    if isinstance(audio, Audio):
        mono = audio.mono()
        return mono if audio.sample_rate == RATE else soxr.resample(mono, audio.sample_rate, RATE, quality="HQ")
    resampler = soxr.ResampleStream(audio.sample_rate, RATE, 1, dtype="float32", quality="HQ")
    parts = [resampler.resample_chunk(to_mono(block)) for block in audio.blocks()]
    parts.append(resampler.resample_chunk(np.zeros(0, np.float32), last=True))
    audio.check()
    return np.concatenate(parts).astype(np.float32, copy=False)


def _analyse(padded: np.ndarray, centres: np.ndarray, fps: Fraction) -> dict[str, np.ndarray]:
    """The raw (unscaled) features of the frames centred on ``centres`` (indices into ``padded``), in blocks."""
    hann = np.hanning(N_FFT + 2)[1:-1].astype(np.float32)
    offsets = np.arange(N_FFT) - N_FFT // 2
    hz = np.fft.rfftfreq(N_FFT, 1.0 / RATE)
    mel_basis = mel.mel_filterbank(RATE, N_FFT, 64, 0.0, RATE / 2.0).T  # [bins, 64]
    chroma_weights = chroma_basis().T  # [bins, 12]
    kernel = max(3, 2 * round(0.1 * float(fps)) + 1)  # the percussive/harmonic split's time kernel: ~0.2 s, odd
    margin = kernel // 2  # frames either side a block needs for its median filter to be exact
    frames = centres.shape[0]
    names = ("rms", "mel", "percussive", "harmonic", "centroid", "chroma", *BANDS)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for first in range(0, frames, BLOCK):
        lo, hi = max(0, first - margin), min(frames, first + BLOCK + margin)
        segment = padded[centres[lo:hi, None] + offsets[None, :]]  # [block + margins, N_FFT]
        magnitude = np.abs(np.fft.rfft(segment * hann, axis=1)).astype(np.float32)  # [.., bins]
        share = hpss.harmonic_share(magnitude, kernel, SPLIT_BINS)  # [.., bins]
        keep = slice(first - lo, first - lo + min(BLOCK, frames - first))
        segment, magnitude, share = segment[keep], magnitude[keep], share[keep]
        power = magnitude * magnitude
        parts["rms"].append(_db(np.mean(segment * segment, axis=1)))
        parts["mel"].append(_db(power @ mel_basis))
        parts["percussive"].append(_db((power * (1.0 - share) ** 2).sum(axis=1)))
        parts["harmonic"].append(_db((power * share ** 2).sum(axis=1)))
        total = np.maximum(power.sum(axis=1), 1e-12)
        parts["centroid"].append(np.log(np.maximum((power @ hz) / total, 20.0)).astype(np.float32))
        chroma = power @ chroma_weights
        strongest = chroma.max(axis=1, keepdims=True)
        parts["chroma"].append(np.divide(chroma, strongest, out=np.zeros_like(chroma), where=strongest > 1e-12))
        for band, (low, high) in BANDS.items():
            parts[band].append(_db(power[:, (hz >= low) & (hz < high)].sum(axis=1)))
    return {name: np.concatenate(values) for name, values in parts.items()}


def feature_bank(audio: Audio | AudioStream, fps: Fraction | float | str = 30) -> FeatureBank:
    """The bank for ``audio`` (any rate and channels; an :class:`AudioStream` is decoded block by block and checked):
    ``frames == ceil(duration * fps)`` rows. Memory: the song at 22.05 kHz mono (5 MB a minute) and a block."""
    fps = as_fps(fps)
    signal = mono(audio)
    source_rate = audio.sample_rate
    samples = audio.n_samples
    frames = frame_count(samples, source_rate, fps)
    half = N_FFT // 2
    padded = np.concatenate([np.zeros(half, np.float32), signal, np.zeros(half + 1, np.float32)])
    del signal
    centres = np.minimum(grid_centres(frames, RATE, fps) + half, padded.shape[0] - half - 1)
    raw = _analyse(padded, centres, fps)
    mel = raw.pop("mel")
    onset = np.zeros(frames, np.float32)
    onset[1:] = np.maximum(mel[1:] - mel[:-1], 0.0).mean(axis=1)  # spectral flux
    raw["onset"] = onset
    chroma = raw.pop("chroma")  # [frames, 12]
    for index, pitch in enumerate(PITCHES):
        raw[f"chroma.{pitch}"] = chroma[:, index].astype(np.float32)
    columns, ranges = [], {}
    for name in FEATURES:
        if name == "beat":
            columns.append(_beats(raw["onset"], fps))  # already in [0, 1]
            ranges[name] = (0.0, 1.0)
            continue
        scaled, ranges[name] = scale(raw[name])
        columns.append(scaled)
    return FeatureBank(FEATURES, np.stack(columns, axis=1), fps, ranges)


def _made_by() -> str:
    """What a cached bank was computed by: the code of this module and of those it calls (see :func:`cached_bank`)."""
    code = hashlib.sha256()
    for module in (__file__, beats.__file__, hpss.__file__, mel.__file__):
        code.update(Path(module).read_bytes())
    return code.hexdigest()[:16]


def cached_bank(song: str | Path, start: float, duration: float | None, fps: Fraction | float | str,
                folder: Path | None) -> FeatureBank:
    """:func:`feature_bank` of ``song`` from ``start`` for ``duration`` seconds (to the end when None), kept in
    ``folder`` (None: not kept) by the song's content, the excerpt, the frame rate and the code that computes it, so
    that another render of the same song (another look, size or cover) reads it back instead of analysing it again.
    Written atomically; an entry that cannot be read is computed again."""
    fps = as_fps(fps)
    if folder is None or not Path(song).is_file():  # a song that is not there: open_audio says so
        return feature_bank(open_audio(song, start=start, duration=duration), fps)
    key = hashlib.sha256(json.dumps([content_hash(song), round(start, 6), duration and round(duration, 6), str(fps),
                                     _made_by()]).encode()).hexdigest()[:32]
    entry = folder / f"bank-{key}.npz"
    with contextlib.suppress(OSError, ValueError, KeyError), np.load(entry) as kept:
        names = tuple(str(name) for name in kept["names"])
        ranges = {name: (float(low), float(high)) for name, (low, high) in zip(names, kept["ranges"],
                                                                                strict=True)}
        return FeatureBank(names, kept["values"].astype(np.float32), Fraction(str(kept["fps"])), ranges)
    bank = feature_bank(open_audio(song, start=start, duration=duration), fps)
    folder.mkdir(parents=True, exist_ok=True)
    limits = np.array([bank.ranges.get(name, (0.0, 1.0)) for name in bank.names], np.float64)

    def write(path: Path) -> None:
        with open(path, "wb") as out:
            np.savez(out, names=np.array(bank.names), values=bank.values, fps=str(bank.fps), ranges=limits)

    with contextlib.suppress(OSError):  # a cache that cannot be written is not kept
        write_atomically(entry, write)
    return bank


def table(names: tuple[str, ...], values: np.ndarray, fps: Fraction, as_json: bool = False) -> str:
    """Per-frame columns as CSV (``time,frame,<names>``) or JSON (``{"fps", "columns", "rows"}``), for plotting."""
    times = np.arange(values.shape[0]) * float(Fraction(1) / fps)
    numbered = list(enumerate(zip(times, values, strict=True)))
    if as_json:
        rows = [[round(float(t), 6), i, *(round(float(v), 6) for v in row)] for i, (t, row) in numbered]
        return json.dumps({"fps": str(fps), "columns": ["time", "frame", *names], "rows": rows})
    lines = [",".join(("time", "frame", *names))]
    lines += [",".join([f"{t:.6f}", str(i), *(f"{v:.6g}" for v in row)]) for i, (t, row) in numbered]
    return "\n".join(lines) + "\n"
