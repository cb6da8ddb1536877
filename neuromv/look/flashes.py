"""Photosensitivity: general and red flashes per second, with the area rule of WCAG 2.3.1 (ITU-R BT.1702's test).

A **general flash** is a pair of opposing changes in relative luminance of at least 0.1 (of the maximum, 1.0) where
the darker state is below 0.8. A **red flash** is a pair of opposing changes of at least 20 in WCAG 2.0's measure of
saturated red, ``max(0, R - G - B) * 320`` (R, G, B linear, 0-1). Content fails when more than three flashes of
either kind happen within any one second over an area larger than a quarter of any 10-degree visual field, which on
the reference 1024x768 screen is a third of the width by a third of the height: a flashing area above 1/36 of the
frame, inside a window a third of its size.

Measured on a :data:`GRID` x :data:`GRID` grid of cells (each the mean linear colour of its part of the frame).
Each cell counts transitions with hysteresis: a change counts once it reaches the threshold from the last extreme, so
flicker below the threshold never adds up to a flash. For each one-second window (sliding by a frame), the rate is
the largest flash count that cells covering more than a quarter of some third-by-third window all reach.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Cells across and down the frame (a field-sized window is 11 x 11 of them).
GRID = 32
#: Frames turned into cells at a time (bounds the memory of a long video's analysis).
CHUNK = 256
#: The 10-degree visual field, as a fraction of the frame's width and height (341 x 256 of 1024 x 768).
FIELD = 1 / 3
#: The part of that field a flash may cover (0.006 sr of about 0.024).
AREA = 0.25
#: Most flashes allowed in any one second.
LIMIT = 3
LUMINANCE_STEP, DARK_LIMIT = 0.1, 0.8
RED_STEP = 20.0


@dataclass(frozen=True)
class Flashes:
    """The worst one-second windows: general and red flashes per second, when the worst begins (seconds), and
    whether both stay within :data:`LIMIT`."""

    general: float
    red: float
    worst_at: float

    @property
    def safe(self) -> bool:
        return self.general <= LIMIT and self.red <= LIMIT

    @property
    def worst(self) -> float:
        """The worse of the general and red flashes a second."""
        return max(self.general, self.red)


def linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB uint8 (or 0-255 floats) -> linear light, 0-1 (float32)."""
    if rgb.dtype == np.uint8:
        return _LINEAR[rgb]
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


_LINEAR = linear(np.arange(256, dtype=np.float64))


def cells(frames: np.ndarray, grid: int = GRID) -> np.ndarray:
    """uint8 frames [T, H, W, 3] (H, W >= grid) -> float32 [T, grid, grid, 3]: the mean linear colour of each
    cell."""
    count, h, w, _ = frames.shape
    if h % grid == 0 and w % grid == 0:  # equal cells (the previews'): sums of whole rows, then of columns, 2.5x as
        # fast as the general sums; the same to the bit for 2 x 2 pixels a cell, to the float's last bit for more
        tall, wide = h // grid, w // grid
        return np.concatenate([
            (_LINEAR.take(frames[first:first + CHUNK]).reshape(-1, grid, tall, w * 3).sum(axis=2)
             .reshape(-1, grid, grid, wide, 3).sum(axis=3) / (tall * wide)).astype(np.float32)
            for first in range(0, count, CHUNK)])
    rows, columns = np.linspace(0, h, grid + 1).astype(int), np.linspace(0, w, grid + 1).astype(int)
    area = (np.diff(rows)[:, None] * np.diff(columns)[None, :])[None, :, :, None]
    return np.concatenate([
        np.add.reduceat(np.add.reduceat(linear(frames[first:first + CHUNK]), rows[:-1], axis=1), columns[:-1], axis=2)
        / area for first in range(0, count, CHUNK)]).astype(np.float32)


@functools.cache
def _counter() -> Callable[..., None]:
    """The compiled hysteresis counter (numba caches it): one pass over a stretch of frames for every cell, its state
    carried from the stretch before."""
    import numba

    @numba.njit(nogil=True, cache=True)
    def count(signal: np.ndarray, step: float, dark: float, state: np.ndarray, direction: np.ndarray,
              started: bool, out: np.ndarray) -> None:  # pragma: no cover
        """``out[t, c]``: whether series c completes a transition at frame t (see :func:`transitions`); ``dark`` < 0
        for no darkness condition. ``state`` [3, cells] (low, high, extreme) and ``direction`` [cells] carry each
        series from one stretch to the next; ``started``: whether a stretch came before (else the first frame
        starts every series)."""
        for c in range(signal.shape[1]):
            first = 0
            if started:
                low, high, extreme, going = state[0, c], state[1, c], state[2, c], direction[c]
            else:
                low = high = extreme = signal[0, c]
                going = 0
                first = 1
            for t in range(first, signal.shape[0]):
                x = signal[t, c]
                if going == 0:
                    low, high = min(low, x), max(high, x)
                    if x - low >= step and (dark < 0 or low < dark):
                        out[t, c], going, extreme = True, 1, x
                    elif high - x >= step and (dark < 0 or x < dark):
                        out[t, c], going, extreme = True, -1, x
                elif going > 0:
                    if x > extreme:
                        extreme = x
                    elif extreme - x >= step and (dark < 0 or x < dark):
                        out[t, c], going, extreme = True, -1, x
                else:
                    if x < extreme:
                        extreme = x
                    elif x - extreme >= step and (dark < 0 or extreme < dark):
                        out[t, c], going, extreme = True, 1, x
            state[0, c], state[1, c], state[2, c], direction[c] = low, high, extreme, going

    return count


class _Transitions:
    """The hysteresis counter of every series of one kind, fed stretches of frames in order (see
    :func:`transitions`)."""

    def __init__(self, step: float, dark: float | None = None):
        self.step, self.dark = float(step), -1.0 if dark is None else float(dark)
        self.state: np.ndarray | None = None
        self.direction: np.ndarray | None = None

    def __call__(self, signal: np.ndarray) -> np.ndarray:
        """bool [b, ...]: where each series of the next ``b`` frames of ``signal`` [b, ...] completes a transition."""
        series = np.ascontiguousarray(signal.reshape(signal.shape[0], -1), dtype=np.float64)
        out = np.zeros(series.shape, dtype=np.bool_)
        if series.shape[0] == 0:
            return out.reshape(signal.shape)
        started = self.state is not None
        if self.state is None or self.direction is None:
            self.state = np.zeros((3, series.shape[1]), np.float64)
            self.direction = np.zeros(series.shape[1], np.int64)
        _counter()(series, self.step, self.dark, self.state, self.direction, started, out)
        return out.reshape(signal.shape)


def transitions(signal: np.ndarray, step: float, dark: float | None = None) -> np.ndarray:
    """bool [T, ...]: where each series of ``signal`` [T, ...] completes a transition, a move of at least ``step``
    from its last extreme against the direction it was going (with ``dark``, only when the lower end is below it).
    Before its first transition a series moves from the lowest or highest value it has had."""
    return _Transitions(step, dark)(signal)


def window_sums(image: np.ndarray, size: int) -> np.ndarray:
    """The sum over each ``size`` x ``size`` window of ``image`` [H, W] (valid part only), by a summed-area table:
    [H - size + 1, W - size + 1]."""
    table = np.zeros((image.shape[0] + 1, image.shape[1] + 1), np.int64 if image.dtype.kind in "biu" else np.float64)
    np.cumsum(image, axis=0, out=table[1:, 1:])
    np.cumsum(table[1:, 1:], axis=1, out=table[1:, 1:])
    return table[size:, size:] - table[:-size, size:] - table[size:, :-size] + table[:-size, :-size]


class _Windows:
    """The one-second windows (sliding by a frame) of one kind of transitions, fed in order: the worst window's
    flash count, counting only counts reached over more than :data:`AREA` of some field-sized window, and the
    windows in which some cell passes ``cells_over`` transitions. Holds a second of transitions, whatever the
    length."""

    def __init__(self, frames: int, fps: float, grid: int = GRID, cells_over: float | None = None):
        self.span = max(1, min(frames, round(fps)))
        self.side = max(1, round(grid * FIELD))
        self.needed = AREA * self.side * self.side
        self.ring = np.zeros((self.span, grid, grid), np.int32)  # the last second's transitions
        self.counts = np.zeros((grid, grid), np.int32)
        self.seen, self.best, self.at = 0, 0, 0
        self.cells_over = cells_over
        self.over: list[int] = []

    def add(self, changes: np.ndarray) -> None:
        """The next frames' transitions, bool [b, grid, grid]."""
        for change in changes:
            slot = self.seen % self.span
            self.counts += change
            if self.seen >= self.span:
                self.counts -= self.ring[slot]
            self.ring[slot] = change
            self.seen += 1
            if self.seen >= self.span:
                self._window(self.seen - self.span)

    def _window(self, start: int) -> None:
        counts = self.counts
        top = int(counts.max())
        if self.cells_over is not None and top > self.cells_over:
            self.over.append(start)
        if top <= self.best:
            return
        above = counts > self.best
        if np.count_nonzero(above) <= self.needed:  # too few cells above the worst so far to cover the area anywhere
            return
        for value in np.unique(counts[above])[::-1]:
            reached = counts >= value
            if np.count_nonzero(reached) > self.needed and window_sums(reached, self.side).max() > self.needed:
                self.best, self.at = int(value), start
                return

    @property
    def rate(self) -> tuple[float, int]:
        """(flashes per second, the worst window's first frame)."""
        return self.best / 2.0, self.at


def worst_rate(changes: np.ndarray, fps: float) -> tuple[float, int]:
    """(flashes per second, the window's first frame) of the worst one-second window of ``changes`` [T, grid, grid],
    counting only counts reached over more than :data:`AREA` of some field-sized window."""
    windows = _Windows(changes.shape[0], fps, changes.shape[1])
    windows.add(changes)
    return windows.rate


class Meter:
    """The flash figures of ``frames`` uint8 frames [H, W, 3] (at least :data:`GRID` pixels a side; twice that is
    plenty) shown at ``fps``, fed in order in batches (:meth:`add`), in memory a second of cells whatever the
    length. With ``rate``, also where a window may flash more than ``rate`` times a second (:meth:`spans`)."""

    def __init__(self, frames: int, fps: float, rate: float | None = None):
        self.fps, self.rate = fps, rate
        over = None if rate is None else 2 * rate
        self.kinds = [(_Transitions(LUMINANCE_STEP, DARK_LIMIT), _Windows(frames, fps, cells_over=over)),
                      (_Transitions(RED_STEP), _Windows(frames, fps, cells_over=over))]

    def add(self, frames: np.ndarray) -> None:
        """The next uint8 frames [b, H, W, 3]."""
        colour = cells(frames)
        luminance = colour @ np.array([0.2126, 0.7152, 0.0722])
        redness = np.maximum(0.0, colour[..., 0] - colour[..., 1] - colour[..., 2]) * 320.0
        for (counter, windows), signal in zip(self.kinds, (luminance, redness), strict=True):
            windows.add(counter(signal))

    @property
    def found(self) -> Flashes:
        """The figures of the frames so far."""
        (general, general_at), (red, red_at) = (windows.rate for _, windows in self.kinds)
        return Flashes(general=general, red=red, worst_at=(general_at if general >= red else red_at) / self.fps)

    def spans(self) -> list[tuple[int, int]]:
        """The spans of frames, [first, end), outside which no one-second window flashes more than ``rate`` times a
        second (such a window has a cell with more than ``2 * rate`` transitions); each span reaches a second back
        from its window, for the transitions' history, and overlapping spans are merged. None when the figures
        stay within ``rate``."""
        if self.rate is None or self.found.worst <= self.rate:
            return []
        span = self.kinds[0][1].span
        starts = sorted({start for _, windows in self.kinds for start in windows.over})
        return merged([(max(0, start - span), start + span) for start in starts])


def flashes(frames: np.ndarray, fps: float) -> Flashes:
    """The flash figures of uint8 frames [T, H, W, 3] shown at ``fps`` (see :class:`Meter`)."""
    meter = Meter(frames.shape[0], fps)
    meter.add(frames)
    return meter.found


def suspects(frames: np.ndarray, fps: float, rate: float) -> tuple[Flashes, list[tuple[int, int]]]:
    """The flash figures of ``frames`` (as :func:`flashes`) and the spans of frames outside which no one-second window
    flashes more than ``rate`` times a second (see :meth:`Meter.spans`)."""
    meter = Meter(frames.shape[0], fps, rate)
    meter.add(frames)
    return meter.found, meter.spans()


def merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans [first, end), sorted, with those that overlap or touch made one."""
    out: list[tuple[int, int]] = []
    for first, end in sorted(spans):
        if out and first <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((first, end))
    return out


# --- taming a render -----------------------------------------------------------------------------------------------

#: The flashes a second a render is tamed to, measured on its preview: below :data:`LIMIT`, so that the video itself
#: (larger, through the encoder) stays within it.
TARGET_RATE = 2.5
#: The longest smoothing of the taming, in seconds.
LONGEST = 2.0


def centred_mean(values: np.ndarray, span: int) -> np.ndarray:
    """The mean of each row's ``span`` neighbours (centred; fewer at the ends) of ``values`` [frames, n]."""
    frames = values.shape[0]
    half = max(0, span // 2)
    table = np.concatenate([np.zeros((1,) + values.shape[1:]), np.cumsum(values, axis=0, dtype=np.float64)])
    lo = np.clip(np.arange(frames) - half, 0, frames)
    hi = np.clip(np.arange(frames) + half + 1, 0, frames)
    return (table[hi] - table[lo]) / (hi - lo)[:, None]


def calm(values: np.ndarray, window: int) -> np.ndarray:
    """``values`` [frames, n] smoothed over ``window`` frames (a centred triangle: the box mean twice; 1: as they
    are). Centred, so the changes stay on their frames; fast swings shrink far more than slow ones."""
    if window <= 1:
        return values
    return centred_mean(centred_mean(values, window), window).astype(values.dtype)


@dataclass(frozen=True)
class Taming:
    """What :func:`tame` decided: the smoothing ``window`` in frames (1: untouched), and the preview's flashes a
    second before and after (the worse of general and red)."""

    window: int
    before: float
    after: float


def tame(check: Callable[[int], Flashes], fps: float) -> Taming:
    """The shortest smoothing window (frames, up to :data:`LONGEST` seconds) whose preview, ``check(window)``,
    flashes at most :data:`TARGET_RATE` times a second; 1 when the render is already safe, after a single look."""
    before = check(1).worst
    if before <= TARGET_RATE:
        return Taming(1, before, before)
    low, high = 1, max(3, round(LONGEST * fps))  # low fails; high is taken when nothing shorter passes
    after = None
    while high - low > 1:
        middle = (low + high) // 2
        result = check(middle).worst
        if result <= TARGET_RATE:
            high, after = middle, result
        else:
            low = middle
    return Taming(high, before, after if after is not None else check(high).worst)
