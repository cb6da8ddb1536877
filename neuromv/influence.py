"""What moves the picture: the latents through the network, or the preset's parameters drawn over it.

A render's frames are drawn three ways from the same networks and tracks, on frames spread over the video: as they
are, with every panel's z frozen at the song's mean latent, and with the preset's parameters neutral. Then

- ``latent`` (L): the mean absolute difference, in gray levels, between the frames and the frames with z frozen:
  what the latents do;
- ``preset`` (P): the same against the frames with the parameters neutral: what the preset does;
- ``share``: L / (L + P), the **latent share** (1 for a look without parameters);
- ``latent_motion``: gray levels a frame that consecutive frames with every parameter neutral change by: the
  latents alone moving the picture;
- ``first_component``: the share of the variance of (frame - frame with z frozen), on :data:`COMPONENT_SIDE`²
  luma, that its first principal component holds: near 1 when the music moves the picture in one way only.

Each figure is measured on a preview (:data:`SIDE` pixels on the long side, the render's own sharpening), of
:data:`PAIRS` pairs of consecutive frames at most. :func:`video_influence` renders a video again from its record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .look import motion
from .look.effects import LUMA
from .prepared import Prepared, prepare

#: Long side of the previews the figures are measured on.
SIDE = 128
#: Side of the square luma frames the principal components are taken over.
COMPONENT_SIDE = 64
#: Pairs of consecutive frames measured at most, spread evenly over the video.
PAIRS = 150


@dataclass(frozen=True)
class Influence:
    """The figures of :mod:`neuromv.influence` (gray levels, and shares in [0, 1])."""

    latent: float
    preset: float
    share: float
    latent_motion: float
    first_component: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pair_rows(frames: int, pairs: int = PAIRS) -> np.ndarray:
    """int64 [2 m]: the rows of m pairs of consecutive frames (k, k + 1), spread evenly over ``frames``."""
    starts = np.unique(np.linspace(0, max(frames - 2, 0), min(pairs, max(frames - 1, 1))).round().astype(np.int64))
    return np.stack([starts, np.minimum(starts + 1, frames - 1)], axis=1).ravel()


def preview_size(panel: tuple[int, int], side: int = SIDE) -> tuple[int, int]:
    """A panel's size scaled to ``side`` pixels on its long side, both even."""
    scale = side / max(panel)
    return tuple(max(2, 2 * round(n * scale / 2)) for n in panel)  # type: ignore[return-value]


def influence(prepared: Prepared, side: int = SIDE, pairs: int = PAIRS) -> Influence:
    """The latents' and the preset's parts in the motion of ``prepared``'s frames (see the module's docstring)."""
    spec, device, params = prepared.spec, prepared.device, prepared.params
    rows = pair_rows(prepared.frame_count, pairs)
    frozen = motion.still(prepared.panels)
    size = preview_size(spec.panel_size, side)

    def gray(panels: motion.Panels, tracks: Any, at: tuple[int, int] = size) -> np.ndarray:
        frames = motion.preview(spec, panels, tracks, device, rows, size=at, sharpen=prepared.sharpen,
                                pictures=prepared.pictures)
        return frames.astype(np.float32) @ np.asarray(LUMA, np.float32)  # [2 m, h, w]

    shown, still = gray(prepared.panels, params), gray(frozen, params)
    neutral = shown if params is None else gray(prepared.panels, None)
    latent = float(np.abs(shown - still).mean())
    preset = float(np.abs(shown - neutral).mean())
    square = (COMPONENT_SIDE, COMPONENT_SIDE)
    change = (gray(prepared.panels, params, square) - gray(frozen, params, square)).reshape(rows.size, -1)
    return Influence(latent=latent, preset=preset, share=latent / max(latent + preset, 1e-9),
                     latent_motion=float(np.abs(neutral[1::2] - neutral[0::2]).mean()),
                     first_component=first_component(change))


def first_component(samples: np.ndarray) -> float:
    """The share of the variance of ``samples`` (float [n, d], one row a sample) along its first principal axis
    (0 when nothing varies)."""
    centred = samples - samples.mean(axis=0, keepdims=True)
    energy = np.linalg.svd(centred.astype(np.float64), compute_uv=False) ** 2
    total = float(energy.sum())
    return float(energy[0] / total) if total > 1e-12 else 0.0


def video_influence(video: str | Path, *, audio: str | Path | None = None, image: str | Path | None = None,
                    model: str | Path | None = None) -> Influence:
    """:func:`influence` of a video neuromv made, rendered again from its record (``--like``): with its cover or
    saved model (found beside it, or given) and ``audio`` (default: the video's own sound track, which is the
    excerpt). A video that cannot be rendered again is an :class:`OptionError` saying why."""
    from .out.provenance import like

    given: dict[str, Any] = {"quiet": True}
    if image is not None:
        given["image"] = str(image)
    if model is not None:
        given["model"] = str(model)
    if audio is None:  # the sound track is the excerpt already
        given.update(song=str(video), start=0.0, duration=None)
    else:
        given["song"] = str(audio)
    return influence(prepare(like(video, **given)))
