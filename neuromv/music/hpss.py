"""Harmonic/percussive separation of a magnitude spectrogram by median filtering (Fitzgerald, 2010).

A sustained sound is a horizontal line of a spectrogram (steady in time), a hit a vertical one (broad in frequency).
A median filter along time keeps the first and removes the second; one along frequency does the opposite. Each bin's
share of harmonic energy is the Wiener-like soft mask ``H² / (H² + P²)`` of the two filtered spectrograms (``1 −``
it, the percussive share); a bin both filters find silent belongs to neither.

The median filters are scipy's one-dimensional ones, run over every row at once by joining the rows end to end,
each padded by mirroring its own edge samples (scipy's ``reflect``): the 1-D filter is several times faster than the
same filter as an N-D footprint, and the result is the same.
"""

from __future__ import annotations

import numpy as np


def median_along(values: np.ndarray, size: int, axis: int) -> np.ndarray:
    """float32, ``values``' shape: the running median of ``size`` (odd) values along ``axis`` of a 2-D array, its
    edges mirrored (the first value repeated, then the second...)."""
    from scipy.ndimage import median_filter

    if size % 2 != 1 or size < 1:
        raise ValueError(f"median size {size} must be odd")
    rows = np.moveaxis(np.asarray(values, np.float32), axis, 1)  # filter along axis 1
    half = size // 2
    if half == 0 or rows.shape[1] == 0:
        return np.array(values, np.float32)
    padded = np.pad(rows, ((0, 0), (half, half)), mode="symmetric")
    flat = median_filter(np.ascontiguousarray(padded).ravel(), size=size, mode="reflect")
    out = flat.reshape(padded.shape)[:, half:half + rows.shape[1]]
    return np.ascontiguousarray(np.moveaxis(out, 1, axis))


def harmonic_share(magnitude: np.ndarray, time_size: int, frequency_size: int) -> np.ndarray:
    """float32 [frames, bins] in [0, 1]: each bin's harmonic share of ``magnitude`` (float [frames, bins]), from
    medians over ``time_size`` frames and ``frequency_size`` bins (both odd)."""
    harmonic = median_along(magnitude, time_size, axis=0)
    percussive = median_along(magnitude, frequency_size, axis=1)
    harmonic *= harmonic
    percussive *= percussive
    total = harmonic + percussive
    return np.divide(harmonic, total, out=np.zeros_like(total), where=total > 1e-20)
