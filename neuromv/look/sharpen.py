"""The cover's fine detail at the size a video is published: a faithful network's frames sharpened, or softened, so
that they carry as much fine detail as the cover does at that size.

A network fitted to a cover is an image at every size, but its amount of fine detail is its own: a 384-pixel photo's
network at 1024² is softer than the photo enlarged (0.3 of its Laplacian energy), thin glowing lines come out with
half as much again. One number per render corrects both: each frame ``f`` becomes ``f + amount * (f - blur(f))``, where
``blur`` is a 5-tap Gaussian (sigma one pixel) each way with the border repeated: an unsharp mask when the amount is
positive, a softening when it is negative. The amount is solved, in closed form, from a few of the render's own frames
so that their Laplacian energy is :data:`DETAIL_SHARE` times the cover's at the scale the frame shows it, and is kept
within [:data:`LEAST`, :data:`MOST`]. It is decided before the first frame and recorded, so frame k stays a pure
function of k; the web player applies the same pass (``player/sharpen.js``).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch

from ..look.effects import LUMA

#: The blur's taps each way: exp(-x^2 / 2) at x = -2..2, normalised (the web player uses these numbers).
TAPS = tuple(float(w) for w in np.exp(-0.5 * np.arange(-2, 3) ** 2) / np.exp(-0.5 * np.arange(-2, 3) ** 2).sum())
#: The frames' Laplacian energy over the cover's that the amount aims at (the encoder adds some; see docs/quality.md).
DETAIL_SHARE = 0.85
#: The softest and the sharpest amounts: a blur of at most 0.8 of the Gaussian, an unsharp mask of at most 2.5 (beyond
#: it a soft network's own ripples become visible).
LEAST, MOST = -0.8, 2.5
#: Frames, spread over the video, that the amount is solved from.
SAMPLES = 6
#: Scales (output pixels per cover pixel) at which the cover's fine detail is measured, once per render and kept with a
#: saved network (a render interpolates between them); and the largest side the cover is enlarged to for them.
LADDER = tuple(2.0 ** (i / 2) for i in range(-6, 9))
LADDER_SIDE = 2048
#: How fast a picture's Laplacian energy falls as it is enlarged further (its Laplacian falls as the scale squared).
ENLARGED = 4.0


def laplacian(gray: np.ndarray) -> np.ndarray:
    """The 4-neighbour Laplacian of a grayscale image [H, W] (or a stack [..., H, W]), inside its border:
    float64 [..., H-2, W-2]."""
    g = gray.astype(np.float64)
    return 4 * g[..., 1:-1, 1:-1] - g[..., :-2, 1:-1] - g[..., 2:, 1:-1] - g[..., 1:-1, :-2] - g[..., 1:-1, 2:]


def blur(planes: torch.Tensor) -> torch.Tensor:
    """[n, H, W] float -> [n, H, W]: :data:`TAPS` along each axis, the border repeated."""
    kernel = torch.tensor(TAPS, dtype=planes.dtype, device=planes.device)
    x = torch.nn.functional.pad(planes[:, None], (2, 2, 2, 2), mode="replicate")  # [n, 1, H + 4, W + 4]
    x = torch.nn.functional.conv2d(x, kernel.view(1, 1, 1, 5))  # [n, 1, H + 4, W]
    return torch.nn.functional.conv2d(x, kernel.view(1, 1, 5, 1))[:, 0]  # [n, H, W]


@functools.cache
def _cpu_sharpen() -> Any:
    """The compiled :func:`sharpen` for frames on the CPU (compiled once per machine: numba caches it): the two blur
    passes and the mask fused, 10-30x faster than torch's convolutions there."""
    import numba

    @numba.njit(nogil=True, cache=True)
    def run(frames: np.ndarray, amount: float, taps: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
        """``out`` [b, H, W, 3] uint8: ``frames`` sharpened (see :func:`sharpen`). Each row is handled as one run of
        ``W * 3`` values (a pixel's colours side by side), so that the innermost loops have no branches and
        vectorise: 2-3x faster than a loop over pixels and colours with each tap's border clamped, and equal to it
        bit for bit (the same products summed in the same order)."""
        size, height, width, colours = frames.shape
        row = width * colours
        pad = 2 * colours
        line = np.empty(row + 2 * pad, np.float32)  # one row as float32, its border repeated
        across = np.empty((height, row), np.float32)  # the blur along each row
        t0, t1, t2, t3, t4 = taps[0], taps[1], taps[2], taps[3], taps[4]
        gain = np.float32(amount)
        for n in range(size):
            image = frames[n].reshape(height, row)
            target = out[n].reshape(height, row)
            for y in range(height):
                source = image[y]
                for i in range(row):
                    line[pad + i] = np.float32(source[i])
                for j in range(pad):
                    line[j] = line[pad + j % colours]
                    line[pad + row + j] = line[pad + row - colours + j % colours]
                blurred = across[y]
                for i in range(row):
                    blurred[i] = (t0 * line[i] + t1 * line[i + colours] + t2 * line[i + pad]
                                  + t3 * line[i + pad + colours] + t4 * line[i + 2 * pad])
            for y in range(height):
                r0, r1 = across[max(y - 2, 0)], across[max(y - 1, 0)]
                r2, r3, r4 = across[y], across[min(y + 1, height - 1)], across[min(y + 2, height - 1)]
                source, dest = image[y], target[y]
                for i in range(row):
                    total = t0 * r0[i] + t1 * r1[i] + t2 * r2[i] + t3 * r3[i] + t4 * r4[i]
                    value = np.float32(source[i])
                    value = value + gain * (value - total)
                    dest[i] = np.uint8(min(max(value, np.float32(0.0)), np.float32(255.0)) + np.float32(0.5))

    return run


def sharpen(frames: torch.Tensor, amount: float) -> torch.Tensor:
    """uint8 [b, H, W, 3] -> uint8 [b, H, W, 3]: each colour ``f + amount * (f - blur(f))``, clamped and rounded;
    ``frames`` itself when the amount is 0."""
    if amount == 0.0:
        return frames
    if frames.device.type == "cpu":
        out = torch.empty_like(frames)
        _cpu_sharpen()(frames.numpy(), amount, np.asarray(TAPS, np.float32), out.numpy())
        return out
    return _sharpen_tensors(frames, amount)


def _sharpen_tensors(frames: torch.Tensor, amount: float) -> torch.Tensor:
    """:func:`sharpen` in torch's convolutions, on any device (a GPU's path)."""
    size, height, width, _ = frames.shape
    planes = frames.permute(0, 3, 1, 2).reshape(size * 3, height, width).float()  # [b * 3, H, W]
    sharp = planes.sub(blur(planes)).mul_(amount).add_(planes).clamp_(0.0, 255.0).add_(0.5)
    return sharp.to(torch.uint8).reshape(size, 3, height, width).permute(0, 2, 3, 1).contiguous()


def _energy(luma: np.ndarray, width: int, height: int) -> float:
    """The Laplacian energy of float32 [H, W] ``luma`` (0-255) resized to ``width`` x ``height`` (Lanczos, as the
    score resizes the cover)."""
    from PIL import Image

    resized = np.asarray(Image.fromarray(luma, mode="F").resize((width, height), Image.Resampling.LANCZOS))
    lap = laplacian(np.clip(resized, 0.0, 255.0))
    return float(np.mean(lap * lap))


def ladder(cover: np.ndarray) -> dict[str, Any]:
    """The cover's fine detail at every scale, as a render and a saved network keep it: the cover's size and its
    luma's Laplacian energy at each of :data:`LADDER`'s scales (output pixels per cover pixel, while the enlarged
    cover is at most :data:`LADDER_SIDE` a side)."""
    height, width = cover.shape[:2]
    luma = np.ascontiguousarray(cover @ (LUMA * 255.0), dtype=np.float32)
    energies = [[scale, _energy(luma, max(3, round(width * scale)), max(3, round(height * scale)))]
                for scale in LADDER if max(width, height) * scale <= LADDER_SIDE and min(width, height) * scale >= 8]
    return {"size": [width, height], "energy": energies}


def cover_energy(kept: dict[str, Any], panel: tuple[int, int]) -> float:
    """The Laplacian energy of the cover (its :func:`ladder`) as a ``panel`` (width, height) frame shows it, its
    short side on the frame's short side (the render's coordinates): interpolated in log energy over log scale;
    beyond the largest scale, falling as an enlarged picture's does (as the scale to the -4th power)."""
    scale = min(panel) / min(kept["size"])
    scales, energies = np.log(np.maximum(np.array(kept["energy"], dtype=np.float64), 1e-12)).T  # a flat cover: 0
    found = np.interp(math.log(scale), scales, energies)
    if math.log(scale) > scales[-1]:
        found = energies[-1] - ENLARGED * (math.log(scale) - scales[-1])
    return float(np.exp(found))


def amount(frames: np.ndarray, energy: float, target: float = DETAIL_SHARE) -> float:
    """The amount whose :func:`sharpen` gives uint8 [n, H, W, 3] ``frames`` ``target`` times the Laplacian
    ``energy`` (the cover's), rounded to 3 decimals and within [:data:`LEAST`, :data:`MOST`].

    The sharpened luma's Laplacian is ``L f + a L h`` with ``h = f - blur(f)`` (both linear), so its energy is the
    quadratic ``A + 2 B a + C a^2``; the root above its minimum is taken, or the minimum when the target is below it.
    """
    luma = torch.from_numpy(frames.astype(np.float64) @ LUMA)  # [n, H, W]
    lf, lh = laplacian(luma.numpy()), laplacian((luma - blur(luma)).numpy())
    a, b, c = float(np.mean(lf * lf)), float(np.mean(lf * lh)), float(np.mean(lh * lh))
    if c <= 1e-12 or energy <= 0:  # a flat picture: nothing to match
        return 0.0
    goal = target * energy
    disc = b * b - c * (a - goal)
    found = (-b + math.sqrt(disc)) / c if disc >= 0 else -b / c
    return round(min(max(found, LEAST), MOST), 3)
