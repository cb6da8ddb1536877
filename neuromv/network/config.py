"""The network's and the fitting's settings: validated frozen dataclasses, free of torch, so that the render spec
(and with it the CLI) can check and describe them without loading the network."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import OptionError

#: The most pictures one network holds.
MAX_PICTURES = 16


def _whole_numbers(config: object, **ranges: tuple[int, int]) -> None:
    """Each field named in ``ranges`` is a whole number within its (lowest, highest)."""
    for name, (low, high) in ranges.items():
        value = getattr(config, name)
        if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
            raise OptionError(f"{name}={value!r} must be a whole number from {low} to {high}")


@dataclass(frozen=True)
class CPPNConfig:
    """Shape and initialisation of a CPPN.

    ``latent_dim``: size of z (mel bins). ``hidden``: width of each hidden layer. ``layers``: number of tanh hidden
    layers. ``sigma``: std of the N(0, sigma) initial weights. ``z_scale``: gain of the latent input; z enters as
    ``z * z_scale / sqrt(latent_dim)`` so its pull on the picture does not grow with the number of mel bins.
    ``fourier``: number of random Fourier features ``sin/cos(2 pi b . (x, y))`` added to (x, y, r), with frequencies
    ``b ~ N(0, fourier_scale)`` cycles per unit; their weights start at zero, so an unfitted network looks as
    without them, and fitting uses them for detail. They cost nothing per frame: they only feed the coordinate term.
    ``pictures``: how many pictures the network holds (a sequence of covers): above 1, each has a learned code that
    enters the first layer beside z (see :class:`neuromv.network.cppn.CPPN`).
    """

    latent_dim: int = 64
    hidden: int = 32
    layers: int = 5
    sigma: float = 1.0
    z_scale: float = 1.0
    fourier: int = 128
    fourier_scale: float = 8.0
    pictures: int = 1

    def __post_init__(self) -> None:
        _whole_numbers(self, latent_dim=(1, 512), hidden=(1, 1024), layers=(1, 32), fourier=(0, 4096),
                       pictures=(1, MAX_PICTURES))
        for name in ("sigma", "z_scale", "fourier_scale"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise OptionError(f"{name}={value!r} must be a finite number >= 0")


@dataclass(frozen=True)
class FitConfig:
    """Training settings. ``steps``: Adam steps. ``lr``: peak learning rate (cosine decay to 5% of it).
    ``frames``: latent rows per step. ``pixels``: pixels per step. ``resolution``: long side of the training image.
    ``motion``: the knob between fidelity and motion, roughly the mean change in gray levels per frame the fitted
    video keeps (0: fit every frame to the image, most faithful and nearly still; higher: more motion, softer cover).
    ``faithful``: fit every frame to the image at continuous coordinates (``motion`` is not used): each step's pixels
    are drawn anywhere in the picture, not on the training grid, and their targets read bilinearly from the image at
    ``resolution``, so the network is the image between grid points too, at any output size.
    ``window``: with ``faithful``, the half-width and half-height (in the network's coordinates) of the part of the
    image the frame shows, when that is not all of it: most of the points are drawn there. ``varied``: with
    ``faithful``, each frame is not the image itself but its variation for that frame's z (smooth displacements and
    relightings whose amounts are the song's principal latent components, as deep as ``motion`` asks; see
    :class:`neuromv.network.fit.Variations`), so that z moves the picture through the network.
    """

    steps: int = 2000
    lr: float = 0.01
    frames: int = 4
    pixels: int = 4096
    resolution: int = 256
    motion: float = 3.0
    faithful: bool = False
    window: tuple[float, float] | None = None
    varied: bool = False

    def __post_init__(self) -> None:
        _whole_numbers(self, steps=(0, 1_000_000), frames=(1, 4096), pixels=(1, 10_000_000), resolution=(8, 4096))
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise OptionError(f"lr={self.lr!r} must be a positive number")
        if not (isinstance(self.motion, (int, float)) and 0 <= self.motion <= 50):
            raise OptionError(f"motion={self.motion!r} must be a number of gray levels per frame from 0 to 50")
