"""The song's sections: where it changes (verse to chorus, a drop, a new song), on its tracked beats.

The beats are the feature bank's (:mod:`.beats`, on the frame grid: each is a frame). Each beat's features are
the bank's timbre and harmony (the band energies, the centroid, the harmonic and percussive energies, the chroma) and
the mel latents, averaged over the beat and standardised over the song. A change of section is where the features of
the :data:`HALF` beats before a beat are alike among themselves and unlike those of the :data:`HALF` beats after it:
the novelty of a checkerboard kernel (Foote, 2000) slid along the diagonal of the beats' self-similarity, with a
Gaussian taper. Its peaks, at least :data:`HALF` beats from the ends and from each other, are the boundaries;
their heights (in standard deviations of the novelty over the song) rank them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bank import BANDS, PITCHES, FeatureBank

#: Beats either side of a boundary that the novelty compares (two bars of 4/4).
HALF = 8
#: A peak of the novelty is a section boundary when it stands this many standard deviations above its mean.
THRESHOLD = 0.5
#: Seconds between beats when the tracker found too few (ambient music, silence): the sections are searched on
#: this grid instead.
NO_BEAT = 0.5
#: The bank's features the sections compare, with the mel latents.
COMPARED = ("rms", "centroid", "harmonic", "percussive", *BANDS, *(f"chroma.{p}" for p in PITCHES))


@dataclass(frozen=True)
class Sections:
    """``beats``: int64 frames of the tracked beats (on a :data:`NO_BEAT` grid without any). ``boundaries``: int64
    frames where a new section starts, in time order, each a beat; ``strengths``: each boundary's novelty (standard
    deviations above the song's mean)."""

    beats: np.ndarray
    boundaries: np.ndarray
    strengths: np.ndarray

    def strongest(self, count: int) -> np.ndarray:
        """The ``count`` strongest boundaries, in time order."""
        order = np.argsort(-self.strengths, kind="stable")[:count]
        return np.sort(self.boundaries[order])


def beat_frames(bank: FeatureBank) -> np.ndarray:
    """int64 frames of the bank's tracked beats (its ``beat`` pulse is 1 there), or a :data:`NO_BEAT` grid when it
    found fewer than two."""
    beats = np.flatnonzero(bank["beat"] >= 1.0)
    if beats.size >= 2:
        return beats.astype(np.int64)
    step = max(1, round(NO_BEAT * float(bank.fps)))
    return np.arange(0, bank.frames, step, dtype=np.int64)


def beat_features(bank: FeatureBank, latents: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """float64 [beats, features]: each beat's features (:data:`COMPARED` and the latents), averaged from the beat to
    the next, standardised over the song."""
    columns = np.concatenate([np.stack([bank[name] for name in COMPARED], axis=1), latents], axis=1)
    edges = np.append(beats, bank.frames)
    per_beat = np.stack([columns[a:max(b, a + 1)].mean(axis=0, dtype=np.float64)
                         for a, b in zip(edges[:-1], edges[1:], strict=True)])
    spread = per_beat.std(axis=0)
    return (per_beat - per_beat.mean(axis=0)) / np.where(spread > 1e-9, spread, 1.0)


def novelty(features: np.ndarray, half: int) -> np.ndarray:
    """float64 [beats]: how much the ``half`` beats before each beat differ from the ``half`` from it on (0 within
    ``half`` beats of either end)."""
    count = features.shape[0]
    unit = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-9)
    similar = unit @ unit.T  # [beats, beats], cosine
    offsets = np.arange(-half, half) + 0.5
    taper = np.exp(-0.5 * (offsets / (half / 2)) ** 2)
    kernel = np.outer(taper, taper) * np.sign(offsets)[:, None] * np.sign(offsets)[None, :]  # + within, - across
    out = np.zeros(count)
    for beat in range(half, count - half + 1):
        out[beat] = float((kernel * similar[beat - half:beat + half, beat - half:beat + half]).sum())
    return out


def find_sections(bank: FeatureBank, latents: np.ndarray) -> Sections:
    """The song's sections (see the module's docstring) from its feature bank and its mel latents (or any per-frame
    features on the same grid)."""
    beats = beat_frames(bank)
    curve = novelty(beat_features(bank, latents, beats), HALF)
    inside = curve[HALF:max(HALF, beats.size - HALF + 1)]
    if inside.size == 0:
        return Sections(beats, np.zeros(0, np.int64), np.zeros(0))
    spread = inside.std()
    heights = (curve - inside.mean()) / (spread if spread > 1e-12 else 1.0)
    peaks = [b for b in range(HALF, beats.size - HALF + 1)
             if heights[b] >= THRESHOLD and heights[b] == heights[max(0, b - HALF):b + HALF + 1].max()]
    kept: list[int] = []
    for beat in sorted(peaks, key=lambda b: -heights[b]):  # the strongest first, none within HALF beats of another
        if all(abs(beat - other) >= HALF for other in kept):
            kept.append(beat)
    kept.sort()
    return Sections(beats, beats[kept].astype(np.int64), heights[kept])
