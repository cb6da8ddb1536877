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
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..network.cppn import CPPN, coordinate_grid, extent
from ..errors import ImageError, OptionError

#: Largest cover accepted, in pixels (guards against decompression bombs).
MAX_IMAGE_PIXELS = 100_000_000
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
#: A faithful fit's latent rows and points a step.
FAITHFUL_FRAMES, FAITHFUL_PIXELS = 1, 8192
#: The share of a faithful fit's points drawn in the part of the cover the frame shows, when it shows only a part (a
#: square frame of a 2:1 cover); the rest are drawn over the whole cover, so another framing still has it.
FRAMED_SHARE = 0.75


@dataclass(frozen=True)
class FitConfig:
    """Training settings. ``steps``: Adam steps. ``lr``: peak learning rate (cosine decay to 5% of it).
    ``frames``: latent rows per step. ``pixels``: pixels per step. ``resolution``: long side of the training image.
    ``motion``: the knob between fidelity and motion, roughly the mean change in gray levels per frame the fitted
    video keeps (0: fit every frame to the image, most faithful and nearly still; higher: more motion, softer cover).
    ``faithful``: fit every frame to the image at continuous coordinates (``motion`` is not used): each step's pixels
    are drawn anywhere in the picture, not on the training grid, and their targets read bilinearly from the image at
    ``resolution``, so the network is the image between grid points too, at any output size (see
    :func:`_continuous`). ``window``: with ``faithful``, the half-width and half-height (in the network's coordinates)
    of the part of the image the frame shows, when that is not all of it: :data:`FRAMED_SHARE` of the points are
    drawn there.
    """

    steps: int = 2000
    lr: float = 0.01
    frames: int = 4
    pixels: int = 4096
    resolution: int = 256
    motion: float = 3.0
    faithful: bool = False
    window: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        for name, low, high in (("steps", 0, 1_000_000), ("frames", 1, 4096), ("pixels", 1, 10_000_000),
                                ("resolution", 8, 4096)):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
                raise OptionError(f"{name}={value!r} must be a whole number from {low} to {high}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise OptionError(f"lr={self.lr!r} must be a positive number")
        if not (isinstance(self.motion, (int, float)) and 0 <= self.motion <= 50):
            raise OptionError(f"motion={self.motion!r} must be a number of gray levels per frame from 0 to 50")


def recipe(fit_kind: str, *, steps: int, lr: float, motion: float,
           window: tuple[float, float] | None = None) -> FitConfig:
    """The fitting a preset asks for (its ``fit``, see :data:`neuromv.presets.FITS`): ``spread`` keeps ``motion``
    of the latents' spread; ``faithful`` fits every frame to the cover at continuous points, one latent row and
    :data:`FAITHFUL_PIXELS` points a step, most of them in ``window`` when the frame shows only that part of the
    cover (:func:`shown`)."""
    if fit_kind == "faithful":
        return FitConfig(steps=steps, lr=lr, motion=motion, faithful=True, frames=FAITHFUL_FRAMES,
                         pixels=FAITHFUL_PIXELS, window=window)
    return FitConfig(steps=steps, lr=lr, motion=motion)


@dataclass
class FitResult:
    """Loss (mean squared error on the sampled pixels) after each step."""

    losses: list[float] = field(default_factory=list)


def load_image(path: str | Path) -> np.ndarray:
    """Read a cover as float32 [height, width, 3] in [0, 1].

    JPEG, PNG (RGBA, palette, 16-bit), WebP, grayscale and anything else Pillow reads; EXIF rotation is applied and
    transparency is composited over black.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise ImageError(f"image {str(path)!r} does not exist")
    if path.stat().st_size == 0:
        raise ImageError(f"image {str(path)!r} is an empty file")
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            img.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"image {str(path)!r} is not a readable image ({exc.__class__.__name__}: {exc})") from None
    if img.width < 1 or img.height < 1:
        raise ImageError(f"image {str(path)!r} has no pixels ({img.width}x{img.height})")
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):  # 16/32-bit grayscale: scale by the type's range
        gray = np.asarray(img, dtype=np.float32)
        top = 65535.0 if img.mode.startswith("I;16") or gray.max() > 255 else 255.0
        gray = np.clip(gray / top, 0.0, 1.0)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        return np.ascontiguousarray(rgba[:, :, :3] * rgba[:, :, 3:])
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def resize_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """float32 [H, W, 3] -> float32 [height, width, 3], area-averaged (Lanczos when enlarging)."""
    from PIL import Image

    if image.shape[:2] == (height, width):
        return image
    planes = [Image.fromarray(image[:, :, c], mode="F").resize((width, height), Image.Resampling.LANCZOS)
              for c in range(3)]
    return np.clip(np.stack([np.asarray(p) for p in planes], axis=2), 0.0, 1.0)


def shown(image_shape: tuple[int, ...], frame_size: tuple[int, int]) -> tuple[float, float] | None:
    """The half-width and half-height, in the network's coordinates (the short side spanning [-1, 1]), of the part of
    an image that a frame of ``frame_size`` (width, height) shows; None when it shows all of it."""
    (cx, cy), (fx, fy) = extent(image_shape[1], image_shape[0]), extent(*frame_size)
    window = min(fx, cx), min(fy, cy)
    return None if window[0] >= cx - 1e-9 and window[1] >= cy - 1e-9 else window


def fit_size(image_shape: tuple[int, ...], resolution: int) -> tuple[int, int]:
    """(width, height) with the image's aspect and the long side ``resolution``."""
    height, width = image_shape[:2]
    scale = resolution / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


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
        _settle(model)
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
    bar = tqdm(range(config.steps), desc="fitting", unit="step", disable=not progress, leave=False)
    for _ in bar:
        rows = torch.randint(0, z_all.shape[0], (config.frames,), generator=generator).to(device)
        if config.faithful:  # every frame is the image, at points anywhere in it
            points, wanted = _continuous(picture, pixels, generator, config.window)
            loss = torch.mean((model(points, z_all[rows], summed=True) - wanted[None]) ** 2)
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


def _continuous(picture: torch.Tensor, count: int, generator: torch.Generator,
                window: tuple[float, float] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` points drawn uniformly over the picture ([1, 3, H, W]) as the network's (x, y, r) coordinates
    ([count, 3], the short side spanning [-1, 1] as :func:`coordinate_grid`), and the picture there, read bilinearly
    ([count, 3]). With a ``window`` (half-width, half-height), :data:`FRAMED_SHARE` of them are drawn in it."""
    height, width = picture.shape[2:]
    ex, ey = extent(width, height)
    unit = torch.rand((count, 2), generator=generator).to(picture.device) * 2 - 1  # [-1, 1] across each side
    if window is not None:  # the frame's part of the picture, as a fraction of its half-extent
        framed = int(count * FRAMED_SHARE)
        unit[:framed] *= torch.tensor([window[0] / ex, window[1] / ey], device=picture.device)
    x, y = unit[:, 0] * ex, unit[:, 1] * ey
    points = torch.stack([x, y, torch.sqrt(x * x + y * y)], dim=1)
    wanted = torch.nn.functional.grid_sample(picture, unit.view(1, 1, count, 2), mode="bilinear",
                                             padding_mode="border", align_corners=False)  # [1, 3, 1, count]
    return points, wanted[0, :, 0].t()


def _settle(model: CPPN) -> None:
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
