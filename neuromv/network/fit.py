"""Fitting a CPPN to a reference image (the cover) across the song's own latents.

Each Adam step takes a few latent rows drawn from the song and a random subset of the image's pixels, so the network
learns the image for the range of z that will drive it rather than for one frozen z.

Fit every frame to the image and the network learns to ignore z: the video goes still (the trade-off the NeuroMV
authors reported). So, with ``motion > 0``, the loss asks two things of each batch of frames: their *mean* should
be the image, and their per-pixel spread across the song's latents should be ``motion / MOTION_PER_SPREAD``. The
picture stays recognisable (the median frame is close to the mean) and keeps moving by about ``motion`` gray levels
per frame, where the music moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from .config import FitConfig
from .cppn import CPPN, coordinate_grid, extent
from .image import fit_size, resize_image

#: Measured on sample songs and covers: mean visual change (gray levels per frame) per unit of per-pixel spread.
MOTION_PER_SPREAD = 30.0
#: Longest side of the picture a faithful fit reads its targets from (a larger cover is reduced to it).
FAITHFUL_SIDE = 1024
#: A faithful fit's hidden and output weights start at ``SETTLED_GAIN / sqrt(fan-in)`` times their drawn values, and
#: its Fourier frequencies at ``SETTLED_FOURIER`` cycles per unit (the drawn ones rescaled).
SETTLED_GAIN, SETTLED_FOURIER = 1.0, 4.0
#: Fourier features of a network fitted faithfully (the classic look keeps :class:`CPPNConfig`'s). They cost nothing
#: per frame (the coordinate term is computed once per frame size) and double what a 32-wide network can hold of
#: the cover: still frames' SSIM at 256 / 512 / 1024, 128 features at 6 cycles a unit against 256 at 4: thin rings
#: 0.86 / 0.80 / 0.78 -> 0.95 / 0.91 / 0.89, and their grain at 1024² (detail 2.3x the cover's -> 1.4x); coffee
#: 0.83 / 0.78 / 0.80 -> 0.90 / 0.85 / 0.85 (docs/quality.md).
FAITHFUL_FOURIER = 256
#: A varied fit's latent components, the waves' highest frequency (cycles per unit of the network's coordinates), and
#: at ``--motion`` 3 its displacement (network units) and log brightness at one standard deviation of a component:
#: measured on 8 s of a metal song with the coffee photo at 256², 2.5 gray levels a frame at SSIM 0.69.
VARIED_COMPONENTS, VARIED_FREQUENCY, VARIED_SHIFT, VARIED_LIGHT = 4, 0.75, 0.01, 0.08
#: A faithful fit's latent rows and points a step.
FAITHFUL_FRAMES, FAITHFUL_PIXELS = 1, 8192
#: The share of a faithful fit's points drawn in the part of the cover the frame shows, when it shows only a part (a
#: square frame of a 2:1 cover); the rest are drawn over the whole cover, so another framing still has it.
FRAMED_SHARE = 0.75


def recipe(fit_kind: str, *, steps: int, lr: float, motion: float,
           window: tuple[float, float] | None = None) -> FitConfig:
    """The fitting a preset asks for (its ``fit``, see :data:`neuromv.presets.FITS`): ``spread`` keeps ``motion``
    of the latents' spread; ``faithful`` fits every frame to the cover at continuous points, one latent row and
    :data:`FAITHFUL_PIXELS` points a step, most of them in ``window`` when the frame shows only that part of the
    cover (:func:`neuromv.network.image.shown`); ``varied`` is ``faithful`` to the cover's variations indexed by z
    (:class:`Variations`), as deep as ``motion`` asks."""
    if fit_kind in ("faithful", "varied"):
        return FitConfig(steps=steps, lr=lr, motion=motion, faithful=True, frames=FAITHFUL_FRAMES,
                         pixels=FAITHFUL_PIXELS, window=window, varied=fit_kind == "varied")
    return FitConfig(steps=steps, lr=lr, motion=motion)


@dataclass
class FitResult:
    """Loss (mean squared error on the sampled pixels) after each step."""

    losses: list[float] = field(default_factory=list)


def fit(model: CPPN, image: np.ndarray, latents: np.ndarray, *, config: FitConfig | None = None, seed: int = 0,
        device: torch.device | str = "cpu", progress: bool = True) -> FitResult:
    """Train ``model`` in place so its frames look like ``image`` (float32 [H, W, 3] in [0, 1]).

    ``latents``: float32 [frames, latent_dim], the song's latents; each step uses ``config.frames`` rows of them.
    """
    config = config or FitConfig()
    device = torch.device(device)
    width, height = fit_size(image.shape, config.resolution)
    if config.faithful:  # the cover's own detail, up to FAITHFUL_SIDE: the network has to be it at any size
        width, height = fit_size(image.shape, max(config.resolution, min(max(image.shape[:2]), FAITHFUL_SIDE)))
        _unsaturate(model)
    target = torch.from_numpy(resize_image(image, width, height).reshape(-1, 3)).to(device)  # [P, 3]
    coords = coordinate_grid(width, height, device)  # [P, 3]
    z_all = torch.from_numpy(np.ascontiguousarray(latents)).to(device)  # [frames, latent_dim]
    model.to(device).train()
    generator = torch.Generator(device="cpu").manual_seed(int(seed) + 1)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(step / max(config.steps, 1), 1.0))))
    result = FitResult()
    pixels = config.pixels if config.faithful else min(config.pixels, coords.shape[0])
    spread = config.motion / MOTION_PER_SPREAD if config.frames > 1 else 0.0
    picture = target.t().reshape(1, 3, height, width)  # read at continuous points by a faithful fit
    variations = Variations(latents, config.motion, extent(width, height), seed) if config.varied else None
    bar = tqdm(range(config.steps), desc="fitting", unit="step", disable=not progress, leave=False)
    for _ in bar:
        rows = torch.randint(0, z_all.shape[0], (config.frames,), generator=generator).to(device)
        if config.faithful:  # every frame is the image, at points anywhere in it
            unit, points = _points(picture, pixels, generator, config.window)
            z = z_all[rows]
            wanted = _read(picture, unit)[None] if variations is None else variations.targets(picture, unit, z)
            loss = torch.mean((model(points, z_all[rows], summed=True) - wanted) ** 2)
        else:
            where = torch.randperm(coords.shape[0], generator=generator)[:pixels].to(device)
            prediction = model(coords[where], z_all[rows])  # [frames, pixels, 3]
            if spread > 0:  # the mean frame is the image; the frames spread around it by `spread`
                loss = torch.mean((prediction.mean(dim=0) - target[where]) ** 2)
                loss = loss + (prediction.std(dim=0).mean() - spread) ** 2
            else:
                loss = torch.mean((prediction - target[where][None]) ** 2)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        result.losses.append(loss.item())
        bar.set_postfix(loss=f"{result.losses[-1]:.4f}", refresh=False)
    model.eval()
    return result


def _points(picture: torch.Tensor, count: int, generator: torch.Generator,
            window: tuple[float, float] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` points drawn uniformly over the picture ([1, 3, H, W]): where they are across each side (float32
    [count, 2] in [-1, 1], as :func:`_read` takes them) and as the network's (x, y, r) coordinates ([count, 3], the
    short side spanning [-1, 1] as :func:`coordinate_grid`). With a ``window`` (half-width, half-height),
    :data:`FRAMED_SHARE` of them are drawn in it."""
    height, width = picture.shape[2:]
    ex, ey = extent(width, height)
    unit = torch.rand((count, 2), generator=generator).to(picture.device) * 2 - 1  # [-1, 1] across each side
    if window is not None:  # the frame's part of the picture, as a fraction of its half-extent
        framed = int(count * FRAMED_SHARE)
        unit[:framed] *= torch.tensor([window[0] / ex, window[1] / ey], device=picture.device)
    x, y = unit[:, 0] * ex, unit[:, 1] * ey
    return unit, torch.stack([x, y, torch.sqrt(x * x + y * y)], dim=1)


def _read(picture: torch.Tensor, unit: torch.Tensor) -> torch.Tensor:
    """The picture ([1, 3, H, W]) read bilinearly at ``unit`` ([..., 2] in [-1, 1] across each side): [..., 3]."""
    grid = unit.reshape(1, 1, -1, 2)
    wanted = torch.nn.functional.grid_sample(picture, grid, mode="bilinear", padding_mode="border",
                                             align_corners=False)  # [1, 3, 1, n]
    return wanted[0, :, 0].t().reshape(*unit.shape[:-1], 3)


class Variations:
    """The cover's variations indexed by z, that a ``varied`` fit teaches the network, so that the music moves the
    picture through it: frame k's target is the cover displaced and relit smoothly by amounts that are functions of
    its latent row alone.

    The amounts are the song's :data:`VARIED_COMPONENTS` principal latent components (each scaled to unit spread
    over the song, within +-3): uncorrelated over the song, so that the music moves the picture in as many
    independent ways. Component i moves the cover along a smooth wave of displacement and brightens or darkens it
    along another (each a sine of a random low frequency, phase and direction, drawn from ``seed``), as deep as
    ``motion`` asks (:data:`VARIED_SHIFT` and :data:`VARIED_LIGHT` at ``motion`` 3, in proportion).
    """

    def __init__(self, latents: np.ndarray, motion: float, half: tuple[float, float], seed: int):
        centre = latents.mean(axis=0, dtype=np.float64)
        count = min(VARIED_COMPONENTS, latents.shape[0], latents.shape[1])
        _, spread, axes = np.linalg.svd(latents - centre, full_matrices=False)
        scale = np.maximum(spread[:count] / math.sqrt(latents.shape[0]), 1e-6)
        self.centre = torch.from_numpy(centre.astype(np.float32))
        self.axes = torch.from_numpy((axes[:count] / scale[:, None]).astype(np.float32))  # [k, latent_dim]
        drawn = torch.Generator().manual_seed(int(seed) + 2)
        self.frequencies = (torch.rand(2 * count, 2, generator=drawn) * 2 - 1) * VARIED_FREQUENCY * 2 * math.pi
        self.phases = torch.rand(2 * count, generator=drawn) * 2 * math.pi
        angles = torch.rand(count, generator=drawn) * 2 * math.pi
        self.directions = torch.stack([angles.cos(), angles.sin()], dim=1)  # [k, 2]
        self.half = torch.tensor(half, dtype=torch.float32)
        self.shift, self.light = VARIED_SHIFT * motion / 3.0, VARIED_LIGHT * motion / 3.0

    def amounts(self, z: torch.Tensor) -> torch.Tensor:
        """[B, latent_dim] -> [B, k]: each row's components, about N(0, 1) over the song."""
        return ((z - self.centre) @ self.axes.t()).clamp(-3.0, 3.0)

    def targets(self, picture: torch.Tensor, unit: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The variations of ``picture`` ([1, 3, H, W]) for latent rows ``z`` [B, latent_dim] at points ``unit``
        ([P, 2], as :func:`_points` draws them): [B, P, 3] in [0, 1]."""
        count = self.directions.shape[0]
        amounts = self.amounts(z)  # [B, k]
        waves = torch.sin((unit * self.half) @ self.frequencies.t() + self.phases)  # [P, 2k], in the picture's units
        moved = (amounts[:, None, :, None] * waves[None, :, :count, None] * self.directions).sum(dim=2)  # [B, P, 2]
        lit = torch.exp(self.light * (amounts[:, None, :] * waves[None, :, count:]).sum(dim=2))  # [B, P]
        read = _read(picture, unit[None] + self.shift * moved / self.half)  # [B, P, 3]
        return (read * lit[..., None]).clamp(0.0, 1.0)


def _unsaturate(model: CPPN) -> None:
    """Scale the hidden and output layers' drawn N(0, sigma) weights by ``SETTLED_GAIN / sqrt(fan-in)`` and their
    biases by 1/10. Drawn for a picture, the tanh units saturate, and a fit through them stays grainy and misses
    the cover; settled, the network starts smooth and the fit adds the cover's detail (measured in
    docs/quality.md). The Fourier frequencies are rescaled to :data:`SETTLED_FOURIER` (the saved buffer holds them;
    the config keeps the scale they were drawn at)."""
    with torch.no_grad():
        for layer in [*model.hidden, model.out]:
            layer.weight.mul_(SETTLED_GAIN / math.sqrt(layer.weight.shape[1]))
            layer.bias.mul_(0.1)
        if model.config.fourier_scale > 0:
            model.frequencies.mul_(SETTLED_FOURIER / model.config.fourier_scale)
