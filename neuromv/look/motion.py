"""How much a look moves: a ``"motion": "scaled"`` preset's swings scaled per song to ``--motion``, and a render held
under the flash limit.

Both decide from small previews of every frame (each panel :data:`PREVIEW` pixels a side, as the score and the flash
counter see a video), before the first frame of the video is drawn, and what they decide is recorded.

- :func:`scale_motion`: the preset's gain found by a secant search (:func:`motion_gain`) so that the preview changes
  by ``--motion`` gray levels a frame; then, when the render keeps to the flash limit and that gain flashes, the
  largest gain below it that does not (:class:`_SafeGain`), searched on the seconds where the larger gains flashed
  and checked on every frame.
- :func:`tame`: for the other looks, z and the parameter tracks smoothed just enough (:func:`flashes.tame`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..draw import FrameSource
from ..music.bank import FeatureBank
from ..network.cppn import CPPN
from ..scoring import visual_change
from ..spec import RenderSpec
from . import flashes, presets
from .effects import LUMA

log = logging.getLogger("neuromv")

Panels = list[tuple[CPPN, np.ndarray]]

#: Side of each panel in the previews: 4 samples in each cell of the flash analysis's grid.
PREVIEW = 2 * flashes.GRID
#: A ``"motion": "scaled"`` preset's gain is at most this: its swings 4 times as deep and its light 6.25 times as
#: fast (:meth:`presets.Preset.scaled`; at most 0.31 of a ring a frame at glow's fastest), so that a near-silent song
#: does not swing wildly and the rings never step half a ring a frame.
MAX_GAIN = 25.0
#: A varied network's latent gain is at most this: its variations were learned for the song's own swings (within
#: 3 standard deviations), and the depth solved before the fit leaves the gain near 1.
MAX_LATENT_GAIN = 1.25
#: The motion search's steps after gains 0 and 1, and how near (a fraction of ``--motion``) it stops.
GAIN_STEPS, GAIN_TOLERANCE = 4, 0.05
#: Pairs of consecutive frames the motion search previews at most (20 s at 30 fps: every pair).
MOTION_PAIRS = 600
#: Halvings of the gain when the wanted motion would flash (on the frames where it did), and the rounds of them
#: (each checked on every frame; a round that fails searches below its gain, with where that gain flashed too).
SAFE_STEPS, SAFE_ROUNDS = 6, 3


@dataclass(frozen=True)
class Scaling:
    """What :func:`scale_motion` decided: the preset's ``gain``, the ``wanted`` motion (``--motion``), the preview's
    motion at that gain (gray levels a frame), and its worst flashes a second when they were measured."""

    gain: float
    wanted: float
    preview: float
    flashes: float | None = None

    def record(self) -> dict[str, float]:
        """As the video records it."""
        found = dict(gain=self.gain, wanted=self.wanted, preview=self.preview)
        return found if self.flashes is None else {**found, "flashes": self.flashes}


def limits_flashes(spec: RenderSpec) -> bool:
    """Whether the render is kept under the flash limit: ``flash_limit``, whose default is on for every preset but
    ``classic`` (whose frames stay as they always were)."""
    return spec.flash_limit if spec.flash_limit is not None else not presets.load(spec.preset).classic


def drawn_fused(spec: RenderSpec, params: presets.ParamTracks | None) -> bool:
    """Whether the look's frames draw with the fused head (:class:`FrameSource`'s ``fused``): every look but classic,
    whose frames stay torch's, bit for bit."""
    return params is not None or not presets.load(spec.preset).classic


def preview_batches(spec: RenderSpec, panels: Panels, params: presets.ParamTracks | None, device: torch.device,
                    rows: np.ndarray | None = None, size: tuple[int, int] = (PREVIEW, PREVIEW),
                    sharpen: float | tuple[float, ...] = 0.0,
                    pictures: np.ndarray | None = None) -> Generator[np.ndarray, None, None]:
    """uint8 [b, h, w, 3] batches, in order: every frame, or frames ``rows`` alone (each a pure function of its rows),
    each panel ``size`` (width, height; :data:`PREVIEW` pixels a side by default), sharpened by ``sharpen`` (one
    amount, or one a picture), with a sequence of covers' ``pictures`` shares; drawn as the look's video draws them
    (the fused head but for classic: see :class:`FrameSource`). A song's whole preview is never in memory at once (an
    hour at 128² is 5 GB)."""
    if rows is not None:
        panels = [(network, latents[rows]) for network, latents in panels]
        params = None if params is None else replace(params, values=params.values[rows])
        pictures = None if pictures is None else pictures[rows]
    source = FrameSource(panels, *size, layout=spec.layout or "row", device=device, precision=spec.precision,
                         params=params, pictures=pictures, sharpen=sharpen,
                         fused=drawn_fused(spec, params))
    with contextlib.closing(source.batches()) as batches:
        yield from batches


def preview(spec: RenderSpec, panels: Panels, params: presets.ParamTracks | None, device: torch.device,
            rows: np.ndarray | None = None, size: tuple[int, int] = (PREVIEW, PREVIEW),
            sharpen: float | tuple[float, ...] = 0.0, pictures: np.ndarray | None = None) -> np.ndarray:
    """uint8 [frames, h, w, 3]: :func:`preview_batches` together."""
    return np.concatenate(list(preview_batches(spec, panels, params, device, rows, size, sharpen, pictures)))


def metered(batches: Generator[np.ndarray, None, None], frames: int, fps: float,
            rate: float | None = None) -> flashes.Meter:
    """The flash meter (:class:`flashes.Meter`) of ``frames`` frames of a preview, fed batch by batch."""
    meter = flashes.Meter(frames, fps, rate)
    with contextlib.closing(batches):
        for batch in batches:
            meter.add(batch)
    return meter


def _motion(spec: RenderSpec, panels: Panels, params: presets.ParamTracks | None, device: torch.device,
            pictures: np.ndarray | None = None) -> float:
    """Gray levels a frame that a preview changes by: over every pair of consecutive frames, or over
    :data:`MOTION_PAIRS` pairs spread evenly across a longer song."""
    frames = panels[0][1].shape[0]
    if frames < 2:
        return 0.0
    rows = None
    if frames - 1 > MOTION_PAIRS:
        starts = np.linspace(0, frames - 2, MOTION_PAIRS).round().astype(np.int64)
        rows = np.stack([starts, starts + 1], axis=1).ravel()
    gray = preview(spec, panels, params, device, rows, pictures=pictures).astype(np.float32) @ np.asarray(LUMA,
                                                                                                       np.float32)
    return float(visual_change(gray)[1:].mean() if rows is None else np.abs(gray[1::2] - gray[0::2]).mean())


def motion_gain(measure: Callable[[float], float], target: float, highest: float = MAX_GAIN) -> float:
    """The gain whose ``measure`` (motion, rising with the gain) is ``target``: a secant search from gains 0 and 1,
    within :data:`GAIN_TOLERANCE` of it or :data:`GAIN_STEPS` steps, and from 0 to ``highest``."""
    points = [(0.0, measure(0.0)), (1.0, measure(1.0))]
    gain = 1.0
    for _ in range(GAIN_STEPS):
        (g0, m0), (g1, m1) = sorted(points, key=lambda p: abs(p[1] - target))[:2]
        if abs(m1 - m0) < 1e-6:
            break
        gain = min(max(g1 + (target - m1) * (g1 - g0) / (m1 - m0), 0.0), highest)
        if any(abs(gain - g) < 1e-4 for g, _ in points):
            break
        points.append((gain, measure(gain)))
        if abs(points[-1][1] - target) <= GAIN_TOLERANCE * max(target, 0.1):
            break
    return min(points, key=lambda p: abs(p[1] - target))[0]


class _SafeGain:
    """The largest gain at most ``wanted`` whose preview flashes at most :data:`flashes.TARGET_RATE` times a second.

    ``draw(gain, rows)``: the batches of the preview of frames ``rows`` (None: every frame) with the preset scaled by
    ``gain``. ``worst`` holds each gain checked on every frame; ``spans`` where the lowest gain found to flash did.
    """

    def __init__(self, draw: Callable[[float, np.ndarray | None], Generator[np.ndarray, None, None]], fps: float,
                 frame_count: int):
        self.draw, self.fps, self.frame_count = draw, fps, frame_count
        self.worst: dict[float, float] = {}
        self.spans: list[tuple[int, int]] = []

    def _within(self, gain: float, first: int = 0, end: int | None = None) -> tuple[float, bool]:
        """(the worst flashes a second, whether within the target) of the gain's preview of frames ``first .. end``
        (every frame without them), previewed alone; where they flashed becomes the spans to look at next."""
        rows = None if end is None else np.arange(first, end)
        meter = metered(self.draw(gain, rows), self.frame_count if rows is None else rows.size, self.fps,
                        flashes.TARGET_RATE)
        found, where = meter.found, meter.spans()
        if where:
            self.spans = [(first + a, first + b) for a, b in where]
        return found.worst, found.worst <= flashes.TARGET_RATE

    def safe(self, gain: float) -> bool:
        """Every frame of the gain's preview within the target."""
        if gain not in self.worst:
            self.worst[gain] = self._within(gain)[0]
        return self.worst[gain] <= flashes.TARGET_RATE

    def safe_where_it_flashed(self, gain: float) -> bool:
        """:meth:`safe` on the spans where the lowest gain known to flash did, each previewed alone."""
        cut = [(first, min(end, self.frame_count)) for first, end in self.spans]
        if not 0 < sum(end - first for first, end in cut) <= self.frame_count // 2:
            return self.safe(gain)
        return all(self._within(gain, first, end)[1] for first, end in cut)

    def search(self, high: float) -> float:
        """Halvings below ``high`` where the unsafe gains flashed, each round checked on every frame."""
        for _ in range(SAFE_ROUNDS):
            low = 0.0
            for _ in range(SAFE_STEPS):
                middle = (low + high) / 2
                low, high = (middle, high) if self.safe_where_it_flashed(middle) else (low, middle)
            if low == 0.0 or self.safe(low):
                return low
            high = low
        return 0.0


def _searched(spec: RenderSpec, measure: Callable[[float], float], search: _SafeGain, highest: float,
              what: str) -> tuple[float, Scaling]:
    """The gain (at most ``highest``) whose ``measure`` is ``spec.motion``, held by ``search`` to the largest safe
    one below it when the render keeps to the flash limit and it flashes (gain 0 is a still picture); and what was
    found, as the video records it."""
    gain = wanted = motion_gain(measure, spec.motion, highest)
    if limits_flashes(spec) and not search.safe(gain):
        gain = search.search(gain)
        log.warning("tamed: at %.1f gray levels a frame the video would flash %.1f times a second (the limit keeps "
                    "it at %g, under WCAG 2.3.1's 3); %s are held to %.2f of that, %.1f gray levels a frame",
                    spec.motion, search.worst[wanted], flashes.TARGET_RATE, what, gain / max(wanted, 1e-9),
                    measure(gain))
    return gain, Scaling(round(gain, 4), spec.motion, round(measure(gain), 3), search.worst.get(gain))


def still(panels: Panels) -> Panels:
    """Each panel's latents held at their mean: every frame as the music leaves it when only z is frozen."""
    return [(network, np.broadcast_to(latents.mean(axis=0, dtype=np.float64).astype(np.float32), latents.shape))
            for network, latents in panels]


def _gained(panels: Panels, centre: np.ndarray, gain: float) -> Panels:
    """Each panel's latents moved ``gain`` times as far from ``centre`` (the fit's mean latent)."""
    return [(network, (centre + gain * (latents - centre)).astype(np.float32)) for network, latents in panels]


def scale_latents(spec: RenderSpec, panels: Panels, device: torch.device,
                  pictures: np.ndarray | None = None) -> tuple[Panels, Scaling]:
    """A network fitted to the cover's variations (``"fit": "varied"``) moved by ``--motion``: its latents' swings
    about their mean scaled (at most :data:`MAX_LATENT_GAIN`) so that a preview of every frame changes by
    ``spec.motion`` gray levels a frame, then held below the flash limit, when the render keeps to it, by the largest
    smaller gain that keeps it (as :func:`scale_motion`). Scaling, not smoothing: the picture keeps every onset's
    timing, only less deep."""
    centre = np.concatenate([latents for _, latents in panels]).mean(axis=0, dtype=np.float64)
    measure = functools.cache(lambda gain: _motion(spec, _gained(panels, centre, gain), None, device, pictures))
    search = _SafeGain(lambda gain, rows: preview_batches(spec, _gained(panels, centre, gain), None, device, rows,
                                                          pictures=pictures),
                       float(spec.frame_rate), panels[0][1].shape[0])
    gain, found = _searched(spec, measure, search, MAX_LATENT_GAIN, "the latents' swings")
    return _gained(panels, centre, gain), found


def scale_motion(spec: RenderSpec, look: presets.Preset, panels: Panels, bank: FeatureBank, device: torch.device,
                 still_latents: bool = False,
                 pictures: np.ndarray | None = None) -> tuple[RenderSpec, presets.ParamTracks, Scaling]:
    """A ``"motion": "scaled"`` preset's swings scaled so that a preview of every frame changes by ``spec.motion``
    gray levels a frame (at most :data:`MAX_GAIN` times the preset's own), and held below the flash limit when the
    render keeps to it (:func:`limits_flashes`). With ``still_latents`` (a varied network, whose latents make their own
    motion) the swings are measured on frames whose z is held at the latents' mean, so that they add ``--motion`` of
    their own; the flash limit is kept on the frames as drawn. Returns the spec with the scaled preset (what the
    video records), its tracks, and what was found."""
    tracks = functools.cache(lambda gain: presets.tracks(look.scaled(gain), bank))
    measured = still(panels) if still_latents else panels
    measure = functools.cache(lambda gain: _motion(spec, measured, tracks(gain), device, pictures))
    search = _SafeGain(lambda gain, rows: preview_batches(spec, panels, tracks(gain), device, rows,
                                                          pictures=pictures),
                       float(spec.frame_rate), panels[0][1].shape[0])
    gain, found = _searched(spec, measure, search, MAX_GAIN, "its swings")
    return spec.replace(preset=look.scaled(gain).to_json()), tracks(gain), found


def tame(spec: RenderSpec, panels: Panels, params: presets.ParamTracks | None, device: torch.device,
         latents_too: bool = True,
         pictures: np.ndarray | None = None) -> tuple[Panels, presets.ParamTracks | None, flashes.Taming]:
    """The panels' latents (unless not ``latents_too``: a varied network's, already scaled under the flash limit by
    :func:`scale_latents`, keep every onset's timing) and the parameter tracks smoothed just enough that a preview of
    every frame flashes at most :data:`flashes.TARGET_RATE` times a second; as they are when it already does (then
    the frames are exactly the untamed ones)."""
    fps = float(spec.frame_rate)

    def calmed(window: int) -> tuple[Panels, presets.ParamTracks | None]:
        return ([(network, flashes.calm(latents, window) if latents_too else latents) for network, latents in panels],
                None if params is None else replace(params, values=flashes.calm(params.values, window)))

    frames = panels[0][1].shape[0]
    taming = flashes.tame(lambda window: metered(preview_batches(spec, *calmed(window), device, pictures=pictures),
                                                 frames, fps).found, fps)
    if taming.window > 1:
        log.warning("tamed: the video would flash %.1f times a second (the limit keeps it at %g, under WCAG 2.3.1's "
                    "3); %s smoothed over %.2f s, to %.1f a second", taming.before, flashes.TARGET_RATE,
                    "z and the preset's parameters are" if latents_too else "the preset's parameters are",
                    taming.window / fps, taming.after)
    return (*calmed(taming.window), taming)
