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

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from .config import FitConfig
from .cppn import CPPN, coordinate_grid, extent, fast_training_tanh
from .image import LUMA, fit_size, resize_image

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
#: A varied fit's latent components, and the waves' highest frequency (cycles per unit of the network's coordinates).
VARIED_COMPONENTS, VARIED_FREQUENCY = 4, 0.75
#: A varied fit's displacement (network units at one standard deviation of a component), its light's log gamma at
#: one standard deviation at depth 1 (``picture ** exp(-light)``, which leaves black and white where they are), and
#: the most light it ever has: the light is soft-clipped there, under the flash threshold (a change of 0.1 in
#: relative luminance takes 0.27 of log gamma at the worst tone), so that the music moves the cover by many small
#: changes and never flashes it, however loud or dense it is. The targets alone, on the examples x three covers at
#: 256² and up to 3.75 gray levels a frame: at most one flash a second at SSIM 0.83-0.92, where light that swells
#: without the clip flashes 3-4.5 times a second at 0.85-0.91.
VARIED_SHIFT, VARIED_LIGHT, VARIED_MOST = 0.003, 0.16, 0.22
#: The depth of a varied fit's light is solved per song and cover so that its
#: targets change by ``motion`` times ``VARIED_HEADROOM`` gray levels a frame (a 64² luma preview of at most
#: ``VARIED_PAIRS`` pairs of frames): the network learns a little less motion than its targets hold, and the render's
#: latent gain (:func:`neuromv.look.motion.scale_latents`) then meets ``--motion`` from below 1. Within
#: ``VARIED_DEPTHS``.
VARIED_HEADROOM, VARIED_PAIRS, VARIED_DEPTHS = 1.5, 300, (0.05, 8.0)
#: Halvings of the depth's range (its logarithm) that solve it: within 1 % of the depth.
SOLVE_STEPS = 9
#: The depth is at most that at which the 10th percentile of the targets' SSIM to the cover, over ``VARIED_LOOKS``
#: frames at ``VARIED_SIDE``² (the part of the cover a frame shows), is ``VARIED_FIDELITY``: the network and the
#: encoder take 0-0.15 more from a video's frames (20 s of the examples at 256²).
VARIED_FIDELITY, VARIED_LOOKS, VARIED_SIDE = 0.82, 12, 256
#: The latent gain (:class:`CPPNConfig`'s ``z_scale``) of a network that a varied fit starts from: z's pull on the
#: first layer four times the default, so that the fit finds what z does sooner. 20 s of the examples' songs with the
#: coffee photo and the text cover at 256², ``--motion 3``: the video's motion 2.1-2.4 gray levels a frame, against
#: 1.2-2.2 at gain 1, for SSIM 0.71-0.76 against 0.74-0.79.
VARIED_Z_SCALE = 4.0
#: A faithful fit's latent rows and points a step.
FAITHFUL_FRAMES, FAITHFUL_PIXELS = 1, 8192
#: A varied fit's latent rows a step, at the same quarter of the points: the network sees four times as many
#: of the song's rows for the same work, and learns more of what they do (8 s of a metal song with the coffee photo
#: at 128²: 1.5 gray levels a frame of the targets' 2.5, against 1.3 from one row of 8192 points, and 1.3 from 16
#: rows of 512; the frames nearer their targets too, 6.9 gray levels against 7.5 and 7.4).
VARIED_FRAMES = 4
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
    if fit_kind == "varied":
        return FitConfig(steps=steps, lr=lr, motion=motion, faithful=True, frames=VARIED_FRAMES,
                         pixels=FAITHFUL_PIXELS // VARIED_FRAMES, window=window, varied=True)
    if fit_kind == "faithful":
        return FitConfig(steps=steps, lr=lr, motion=motion, faithful=True, frames=FAITHFUL_FRAMES,
                         pixels=FAITHFUL_PIXELS, window=window)
    return FitConfig(steps=steps, lr=lr, motion=motion)


@dataclass
class FitResult:
    """Loss (mean squared error on the sampled pixels) after each step."""

    losses: list[float] = field(default_factory=list)


def fit(model: CPPN, image: np.ndarray | Sequence[np.ndarray], latents: np.ndarray, *,
        config: FitConfig | None = None, seed: int = 0, device: torch.device | str = "cpu",
        progress: bool = True) -> FitResult:
    """Train ``model`` in place so its frames look like ``image`` (float32 [H, W, 3] in [0, 1]).

    ``latents``: float32 [frames, latent_dim], the song's latents; each step uses ``config.frames`` rows of them.
    ``image`` may be a list of pictures (a sequence of covers, each of the first one's aspect: see
    :func:`neuromv.network.image.framed_like`) for a network of as many ``pictures``: the steps take them in turn,
    each through its picture's code (:meth:`CPPN.coord_layer`), and each picture gets ``config.steps`` steps.
    """
    config = config or FitConfig()
    device = torch.device(device)
    images = [image] if isinstance(image, np.ndarray) else list(image)
    if len(images) != model.config.pictures:
        raise ValueError(f"{len(images)} pictures for a network that holds {model.config.pictures}")
    first = images[0]
    width, height = fit_size(first.shape, config.resolution)
    if config.faithful:  # the cover's own detail, up to FAITHFUL_SIDE: the network has to be it at any size
        width, height = fit_size(first.shape, max(config.resolution, min(max(first.shape[:2]), FAITHFUL_SIDE)))
        _unsaturate(model)
    targets = [torch.from_numpy(resize_image(each, width, height).reshape(-1, 3)).to(device)  # [P, 3] each
               for each in images]
    coords = coordinate_grid(width, height, device)  # [P, 3]
    z_all = torch.from_numpy(np.ascontiguousarray(latents)).to(device)  # [frames, latent_dim]
    model.to(device).train()
    generator = torch.Generator(device="cpu").manual_seed(int(seed) + 1)
    # a faithful fit's Adam in one fused kernel on a CPU (3.5x faster than the loop over tensors; equal to rounding)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr,
                                 fused=True if config.faithful and device.type == "cpu" else None)
    steps = config.steps * len(images)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(step / max(steps, 1), 1.0))))
    result = FitResult()
    pixels = config.pixels if config.faithful else min(config.pixels, coords.shape[0])
    spread = config.motion / MOTION_PER_SPREAD if config.frames > 1 else 0.0
    pictures = [target.t().reshape(1, 3, height, width) for target in targets]  # read at continuous points
    variations: list[Variations] = []
    if config.varied:
        for picture in pictures:  # the same waves for every picture, each as deep as its own motion asks
            variations.append(Variations(latents, extent(width, height), seed))
            variations[-1].solve(picture, config.motion, config.window)
    codes = torch.eye(len(images), device=device)  # [pictures, pictures]: each picture's own code, whole
    bar = tqdm(range(steps), desc="fitting", unit="step", disable=not progress, leave=False)
    with fast_training_tanh() if config.faithful else contextlib.nullcontext():  # classic's fit as it was
        for step in bar:
            which = step % len(images)
            picture, target = pictures[which], targets[which]
            code = codes[which] if len(images) > 1 else None
            rows = torch.randint(0, z_all.shape[0], (config.frames,), generator=generator).to(device)
            if config.faithful:  # every frame is the image, at points anywhere in it
                unit, points = _points(picture, pixels, generator, config.window)
                z = z_all[rows]
                if not variations:
                    wanted = _read(picture, unit)[None]
                else:
                    others = torch.randint(0, z_all.shape[0], (config.frames,), generator=generator).to(device)
                    z = variations[which].mixed(z, z_all[others])
                    wanted = variations[which].targets(picture, unit, z)
                loss = torch.mean((model(points, z, summed=True, picture=code) - wanted) ** 2)
            else:
                where = torch.randperm(coords.shape[0], generator=generator)[:pixels].to(device)
                prediction = model(coords[where], z_all[rows], picture=code)  # [frames, pixels, 3]
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
    independent ways. Component i displaces the cover along a smooth wave, by ``depth`` x :data:`VARIED_SHIFT` up to
    depth 1, and lights or shades its tones along another, by ``depth`` x :data:`VARIED_LIGHT` of log gamma,
    soft-clipped at :data:`VARIED_MOST` (each wave a sine of a random low frequency, phase and direction, drawn from
    ``seed``); :meth:`solve` finds the depth for a picture and a motion.
    """

    def __init__(self, latents: np.ndarray, half: tuple[float, float], seed: int, depth: float = 1.0):
        centre = latents.mean(axis=0, dtype=np.float64)
        count = min(VARIED_COMPONENTS, latents.shape[0], latents.shape[1])
        _, spread, axes = np.linalg.svd(latents - centre, full_matrices=False)
        scale = np.maximum(spread[:count] / math.sqrt(latents.shape[0]), 1e-6)
        self.latents = latents
        self.centre = torch.from_numpy(centre.astype(np.float32))
        self.axes = torch.from_numpy((axes[:count] / scale[:, None]).astype(np.float32))  # [k, latent_dim]
        self.basis = torch.from_numpy(axes[:count].astype(np.float32))  # orthonormal [k, latent_dim]
        drawn = torch.Generator().manual_seed(int(seed) + 2)
        self.frequencies = (torch.rand(2 * count, 2, generator=drawn) * 2 - 1) * VARIED_FREQUENCY * 2 * math.pi
        self.phases = torch.rand(2 * count, generator=drawn) * 2 * math.pi
        angles = torch.rand(count, generator=drawn) * 2 * math.pi
        self.directions = torch.stack([angles.cos(), angles.sin()], dim=1)  # [k, 2]
        self.half = torch.tensor(half, dtype=torch.float32)
        self.depth = depth

    def amounts(self, z: torch.Tensor) -> torch.Tensor:
        """[B, latent_dim] -> [B, k]: each row's components, about N(0, 1) over the song."""
        return ((z - self.centre) @ self.axes.t()).clamp(-3.0, 3.0)

    def mixed(self, z: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        """Rows with ``z``'s components and ``other``'s rest (each [B, latent_dim]): what a fit step shows the
        network, so that it learns the variations from the components alone and is still where the rest of z
        moves (which would otherwise flicker frames the targets hold)."""
        own = (z - self.centre) @ self.basis.t() @ self.basis
        rest = (other - self.centre) - (other - self.centre) @ self.basis.t() @ self.basis
        return self.centre + own + rest

    def targets(self, picture: torch.Tensor, unit: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The variations of ``picture`` ([1, 3, H, W]) for latent rows ``z`` [B, latent_dim] at points ``unit``
        ([P, 2], as :func:`_points` draws them): [B, P, 3] in [0, 1]."""
        count = self.directions.shape[0]
        amounts = self.amounts(z)  # [B, k]
        waves = torch.sin((unit * self.half) @ self.frequencies.t() + self.phases)  # [P, 2k], in the picture's units
        moved = waves[:, :count] @ (amounts[:, :, None] * self.directions)  # [B, P, 2]: sum over the components
        light = VARIED_LIGHT * self.depth * (amounts @ waves[:, count:].t())  # [B, P]
        light = VARIED_MOST * torch.tanh(light / VARIED_MOST)
        shift = VARIED_SHIFT * min(self.depth, 1.0)
        read = _read(picture, unit[None] + shift * moved / self.half).clamp(1e-4, 1.0)  # [B, P, 3]
        return read ** torch.exp(-light)[..., None]

    def _grid(self, picture: torch.Tensor, side: int, window: tuple[float, float] | None) -> torch.Tensor:
        """The points of a ``side``² picture of the part of the cover a frame shows (``window``, as :func:`_points`
        takes it): [side², 2], as :func:`_read` takes them."""
        across = (torch.arange(side, dtype=torch.float32) + 0.5) / side * 2 - 1
        y, x = torch.meshgrid(across, across, indexing="ij")
        unit = torch.stack([x, y], dim=-1).reshape(-1, 2).to(picture.device)
        if window is None:
            return unit
        return unit * torch.tensor([window[0], window[1]], device=picture.device) / self.half.to(picture.device)

    def _rows(self, count: int, pairs: bool = False) -> torch.Tensor:
        """``count`` latent rows spread evenly over the song (with ``pairs``, each with the row after it)."""
        frames = self.latents.shape[0]
        starts = np.unique(np.linspace(0, frames - 1 - pairs, min(count, frames - pairs)).round().astype(np.int64))
        rows = np.stack([starts, starts + 1], axis=1).ravel() if pairs else starts
        return torch.from_numpy(np.ascontiguousarray(self.latents[rows]))

    def motion(self, picture: torch.Tensor, window: tuple[float, float] | None = None, side: int = 64) -> float:
        """Gray levels a frame the targets change by: a ``side``² luma preview of the part of the picture a frame
        shows, over at most :data:`VARIED_PAIRS` pairs of frames."""
        if self.latents.shape[0] < 2:
            return 0.0
        rows = self._rows(VARIED_PAIRS, pairs=True).to(picture.device)
        luma = torch.tensor(LUMA, dtype=torch.float32, device=picture.device) * 255.0
        gray = self.targets(picture, self._grid(picture, side, window), rows) @ luma  # [2 * pairs, P]
        return float((gray[1::2] - gray[0::2]).abs().mean())

    def fidelity(self, picture: torch.Tensor, window: tuple[float, float] | None = None,
                 side: int = VARIED_SIDE) -> float:
        """The 10th percentile of the targets' SSIM to the cover (as the score measures a video's frames), over
        :data:`VARIED_LOOKS` frames spread over the song, at ``side``² of the part a frame shows."""
        from ..scoring import ssim  # the score's own measure

        unit = self._grid(picture, side, window)
        cover = _read(picture, unit).reshape(side, side, 3).cpu().numpy() * 255.0
        frames = self.targets(picture, unit, self._rows(VARIED_LOOKS).to(picture.device))
        found = [ssim(frame.reshape(side, side, 3).cpu().numpy() * 255.0, cover) for frame in frames]
        return float(np.percentile(found, 10))

    def solve(self, picture: torch.Tensor, motion: float, window: tuple[float, float] | None = None) -> float:
        """Set and return the depth at which the targets change by ``motion`` x :data:`VARIED_HEADROOM` gray levels
        a frame, or less where their frames would stray from the cover (:meth:`fidelity` under
        :data:`VARIED_FIDELITY`), within :data:`VARIED_DEPTHS`: halvings of its logarithm (both rise with the
        depth; the motion saturates as the light reaches :data:`VARIED_MOST`)."""
        low, high = (math.log(bound) for bound in VARIED_DEPTHS)
        wanted = motion * VARIED_HEADROOM
        for _ in range(SOLVE_STEPS):
            middle = (low + high) / 2
            self.depth = math.exp(middle)
            shallow = self.motion(picture, window) < wanted and self.fidelity(picture, window) >= VARIED_FIDELITY
            low, high = (middle, high) if shallow else (low, middle)
        self.depth = math.exp((low + high) / 2)
        return self.depth


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
