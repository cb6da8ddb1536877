"""The CPPN: pixel coordinates (x, y, r) plus a latent z -> RGB, through tanh hidden layers and a sigmoid.

Only the network lives here: its config, the module, the coordinate grid, weight init and checkpoints.
The first layer is split in two, ``W_xy @ (x, y, r) + W_z @ z + b``, because the coordinate half does not depend on
z: a renderer computes it once per frame size (:meth:`CPPN.coord_term`) and adds each frame's latent term.

A network that holds several pictures (a sequence of covers) has a coordinate half per picture, its code, and shares
``W_z``, the hidden layers and the Fourier frequencies: away from a change of picture it costs what a one-picture
network does, and as one picture becomes the next the frame's coordinate half goes from one code to the other, so
the in-between pictures are the network's own (a mix of first layers through four tanh layers, not of two renders).
Measured against a code that only shifts the first layer (a learned bias per picture): a metal song with the coffee
photo and the Hubble deep field at 256², SSIM to each picture 0.78 / 0.74 (one network each: 0.77 / 0.73), against
0.75 / 0.67.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
import time
import typing
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from ..errors import ModelError
from ..io.files import write_atomically
from .config import CPPNConfig

CHECKPOINT_FORMAT = "neuromv-cppn/1"


class CPPN(nn.Module):
    """``forward(coords [P, 3], z [B, latent_dim], summed=False, picture=None) -> rgb [B, P, 3]`` in (0, 1)
    (``summed`` and ``picture``: see :meth:`coord_term`)."""

    frequencies: torch.Tensor  # a buffer: [K, 2] cycles per unit

    def __init__(self, config: CPPNConfig):
        super().__init__()
        self.config = config
        self.coords = nn.Linear(3 + 2 * config.fourier, config.hidden)
        self.register_buffer("frequencies", torch.zeros(config.fourier, 2))  # [K, 2], drawn by init_weights
        self.latent = nn.Linear(config.latent_dim, config.hidden, bias=False)
        self.hidden = nn.ModuleList(nn.Linear(config.hidden, config.hidden) for _ in range(config.layers - 1))
        self.out = nn.Linear(config.hidden, 3)
        self.latent_gain = config.z_scale / math.sqrt(config.latent_dim)
        # the coordinate halves of pictures 1, 2 ...: registered last, so that a one-picture network is as it was
        self.more_coords = nn.ModuleList(nn.Linear(3 + 2 * config.fourier, config.hidden)
                                         for _ in range(config.pictures - 1))

    def coord_features(self, coords: torch.Tensor) -> torch.Tensor:
        """[P, 3] (x, y, r) -> [P, 3 + 2K]: the coordinates and their Fourier features."""
        if self.config.fourier == 0:
            return coords
        phase = self._phase(coords)
        return torch.cat([coords, torch.sin(phase), torch.cos(phase)], dim=1)

    def _phase(self, coords: torch.Tensor) -> torch.Tensor:
        """[P, 3] -> [P, K]: the Fourier features' phases, in radians."""
        return (2 * math.pi) * coords[:, :2] @ self.frequencies.t()

    def coord_layer(self, picture: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight [hidden, 3 + 2K], bias [hidden]) of the first layer's coordinate half: picture 0's, or with
        ``picture`` ([pictures]: how much of each picture's code, summing to 1) that mix of the pictures' (a picture's
        own when it has all of it)."""
        layers = [self.coords, *typing.cast("list[nn.Linear]", self.more_coords)]
        if picture is None or len(layers) == 1:
            return self.coords.weight, self.coords.bias
        shares = picture.tolist()
        if max(shares) == 1.0:
            layer = layers[shares.index(1.0)]
            return layer.weight, layer.bias
        mixed = [(share, layer) for share, layer in zip(shares, layers, strict=True) if share != 0.0]
        return (sum(share * layer.weight for share, layer in mixed),
                sum(share * layer.bias for share, layer in mixed))

    def coord_term(self, coords: torch.Tensor, chunk: int = 16384, summed: bool = False,
                   picture: torch.Tensor | None = None) -> torch.Tensor:
        """[P, 3] -> [P, hidden]: the z-independent part of the first layer, bias included (of ``picture``: see
        :meth:`coord_layer`). Without gradients it goes ``chunk`` pixels at a time, so the [P, 3 + 2K] features never
        exist whole (2 GB at 1080p). ``summed``: the coordinates', sines' and cosines' parts of the layer summed
        instead, never the features copied together (that copy took a third of a faithful fit's step on a CPU);
        equal to float rounding, and kept to the fits that ask for it, so that the classic fit's networks stay what
        they were, bit for bit."""
        weight, bias = self.coord_layer(picture)
        if summed:
            return self._summed_coord_term(coords, weight, bias)
        if coords.shape[0] <= chunk or (torch.is_grad_enabled() and weight.requires_grad):
            return torch.nn.functional.linear(self.coord_features(coords), weight, bias)
        out = coords.new_empty((coords.shape[0], self.config.hidden))
        for start in range(0, coords.shape[0], chunk):
            torch.addmm(bias, self.coord_features(coords[start:start + chunk]), weight.t(),
                        out=out[start:start + chunk])
        return out

    def _summed_coord_term(self, coords: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """:meth:`coord_term` with ``summed``, of the layer ``weight`` and ``bias``."""
        fourier = self.config.fourier
        out = torch.addmm(bias, coords, weight[:, :3].t())  # [P, hidden]
        if fourier == 0:
            return out
        phase = self._phase(coords)  # [P, K]
        out = torch.addmm(out, torch.sin(phase), weight[:, 3:3 + fourier].t())
        return torch.addmm(out, torch.cos(phase), weight[:, 3 + fourier:].t())

    def latent_term(self, z: torch.Tensor) -> torch.Tensor:
        """[B, latent_dim] -> [B, hidden]: the latent's part of the first layer."""
        return self.latent(z * self.latent_gain)

    def head(self, first: torch.Tensor, spare: torch.Tensor | None = None) -> torch.Tensor:
        """[..., hidden] first-layer pre-activations -> [..., 3] RGB in (0, 1). Overwrites ``first`` when no
        gradient is needed; with ``spare`` (a [rows, hidden] buffer) too, the hidden layers alternate between the two
        and allocate nothing."""
        h = _tanh(first.reshape(-1, first.shape[-1]))  # [rows, hidden]
        for layer in typing.cast("list[nn.Linear]", self.hidden):  # addmm + tanh in place
            if spare is None:
                h = _tanh(torch.addmm(layer.bias, h, layer.weight.t()))
            else:
                h, spare = _tanh(torch.addmm(layer.bias, h, layer.weight.t(), out=spare)), h
        rgb = torch.addmm(self.out.bias, h, self.out.weight.t()).sigmoid_()  # [rows, 3]
        return rgb.reshape(*first.shape[:-1], 3)

    def forward(self, coords: torch.Tensor, z: torch.Tensor, summed: bool = False,
                picture: torch.Tensor | None = None) -> torch.Tensor:
        coord_term = self.coord_term(coords, summed=summed, picture=picture)  # [P, hidden]
        first = coord_term[None, :, :] + self.latent_term(z)[:, None, :]  # [B, P, hidden]
        return self.head(first)  # [B, P, 3]


def shown_pictures(pictures: np.ndarray | None) -> list[int]:
    """The pictures that frames with shares ``pictures`` ([frames, pictures], see :meth:`CPPN.coord_layer`) show any
    of; [0] without."""
    return [0] if pictures is None else [int(index) for index in np.flatnonzero(pictures.max(axis=0) > 0)]


def mix(terms: dict[int, torch.Tensor], shares: np.ndarray) -> torch.Tensor:
    """The pictures' coordinate ``terms`` (alike in shape, by picture) mixed in ``shares`` ([pictures], summing to
    1): elementwise, so that a frame between two pictures is the same on any number of threads."""
    parts = [(float(share), terms[index]) for index, share in enumerate(shares) if share > 0]
    out = parts[0][1] * parts[0][0]
    for share, term in parts[1:]:
        out = out.add_(term, alpha=share)
    return out


_training = threading.local()  # .fast: this thread's fit takes the faster tanh with gradients too


@contextlib.contextmanager
def fast_training_tanh() -> Iterator[None]:
    """Within the block, this thread's tanh with gradients (a fit's) runs on a CPU in the faster form as well
    (:func:`cpu_tanh`), its gradient from its output as torch's (``1 - tanh^2``). Equal to float rounding, and kept
    to the fits that ask for it (the faithful ones: 30 % of a step), so that the classic fit's networks stay what
    they were, bit for bit."""
    was = getattr(_training, "fast", False)
    _training.fast = True
    try:
        yield
    finally:
        _training.fast = was


class _SigmoidTanh(torch.autograd.Function):
    """tanh as ``2 * sigmoid(2x) - 1`` forward, torch's tanh gradient backward."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        out = torch.sigmoid(x * 2.0).mul_(2.0).sub_(1.0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (out,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, out)


def _tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh, in place when no gradient is needed. On a CPU it runs whichever of ``torch.tanh`` and
    ``2 * sigmoid(2x) - 1`` (equal to float rounding, 1.8e-7) is faster here: see :func:`cpu_tanh` (with gradients
    only inside :func:`fast_training_tanh`)."""
    if x.requires_grad and torch.is_grad_enabled():
        if getattr(_training, "fast", False) and x.device.type == "cpu" and cpu_tanh() == "sigmoid":
            return typing.cast(torch.Tensor, _SigmoidTanh.apply(x))
        return torch.tanh(x)
    if x.device.type == "cpu" and cpu_tanh() == "sigmoid":
        return torch.sigmoid_(x.mul_(2.0)).mul_(2.0).sub_(1.0)
    return x.tanh_()


#: How much faster the sigmoid form must be before the CPU uses it, so that a close call cannot flip between runs.
SIGMOID_MARGIN = 0.75
#: Rounds of the tanh probe (each times both forms once).
PROBE_ROUNDS = 7


@functools.cache
def cpu_tanh() -> Literal["tanh", "sigmoid"]:
    """The in-place tanh this CPU runs faster, timed once per process on a 16K x 32 block (a few milliseconds).

    Measured: ``2 * sigmoid(2x) - 1`` was 4x faster than ``torch.tanh`` on a 2-core AMD EPYC, and ``torch.tanh`` 2x
    faster on a 2-core Intel Xeon (both AVX-512, torch 2.13). ``tanh`` unless the sigmoid form takes at most
    :data:`SIGMOID_MARGIN` of its time. ``NEUROMV_CPU_TANH=tanh|sigmoid`` fixes the choice.

    Timed on one thread, as the render threads run it (a single thread is not held up at barriers by whatever else
    runs), the two forms alternating over :data:`PROBE_ROUNDS` rounds, so that a passing disturbance slows both: on
    two cores, another library's threads still spinning after its own work once slowed every op 100x for 70 ms,
    and the slower form was taken when the forms were timed one after the other.
    """
    forced = os.environ.get("NEUROMV_CPU_TANH")
    if forced in ("tanh", "sigmoid"):
        return typing.cast(Literal["tanh", "sigmoid"], forced)
    block = torch.randn(16384, 32, generator=torch.Generator().manual_seed(0))
    work = torch.empty_like(block)
    forms = {"tanh": lambda: work.copy_(block).tanh_(),
             "sigmoid": lambda: torch.sigmoid_(work.copy_(block).mul_(2.0)).mul_(2.0).sub_(1.0)}
    best = dict.fromkeys(forms, math.inf)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            for form in forms.values():
                form()  # warm-up
            for _ in range(PROBE_ROUNDS):
                for name, form in forms.items():
                    start = time.perf_counter()
                    form()
                    best[name] = min(best[name], time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    return "sigmoid" if best["sigmoid"] <= SIGMOID_MARGIN * best["tanh"] else "tanh"


def init_weights(model: CPPN, seed: int) -> CPPN:
    """Draw every weight and bias from N(0, sigma) with a CPU generator, so a seed gives the same net on any device."""
    generator = torch.Generator().manual_seed(int(seed))
    config = model.config
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.startswith("more_coords."):  # every picture's code starts as picture 0's
                continue
            if name == "coords.weight":  # (x, y, r) columns drawn; Fourier columns start at zero
                param.zero_()
                param[:, :3] = torch.randn((param.shape[0], 3), generator=generator) * config.sigma
            else:
                param.copy_(torch.randn(param.shape, generator=generator) * config.sigma)
        model.frequencies.copy_(torch.randn((config.fourier, 2), generator=generator) * config.fourier_scale)
        for layer in typing.cast("list[nn.Linear]", model.more_coords):
            layer.load_state_dict(model.coords.state_dict())
    return model


def build(config: CPPNConfig, seed: int = 0) -> CPPN:
    """A freshly initialised CPPN on the CPU."""
    return init_weights(CPPN(config), seed)


def extent(width: int, height: int) -> tuple[float, float]:
    """How far a picture of ``width`` x ``height`` reaches from its centre in the network's coordinates (x, y): 1 on
    the shorter side, further on the longer one (see :func:`coordinate_grid`)."""
    return width / min(width, height), height / min(width, height)


def coordinate_grid(width: int, height: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """float32 [height * width, 3]: (x, y, r) at pixel centres, row-major.

    The shorter side spans [-1, 1] and the longer one extends further at the same scale, so the aspect ratio is
    kept and the same picture appears at any resolution.
    """
    scale = 2.0 / min(width, height)
    xs = (torch.arange(width, dtype=torch.float32, device=device) + 0.5 - width / 2) * scale  # [W]
    ys = (torch.arange(height, dtype=torch.float32, device=device) + 0.5 - height / 2) * scale  # [H]
    y, x = torch.meshgrid(ys, xs, indexing="ij")  # [H, W] each
    return torch.stack([x, y, torch.sqrt(x * x + y * y)], dim=-1).reshape(-1, 3)  # [H * W, 3]


def save(model: CPPN, path: str | Path, **meta: Any) -> Path:
    """Write the weights with their config (and ``meta``: plain values such as the cover's aspect) to ``path``
    (atomically)."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    blob = {"format": CHECKPOINT_FORMAT, "config": asdict(model.config), "state_dict": state, "meta": meta}
    return write_atomically(path, lambda temporary: torch.save(blob, temporary))


def load(path: str | Path) -> tuple[CPPN, dict[str, Any]]:
    """Read a checkpoint written by :func:`save`: ``(model on the CPU, meta)``."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model {str(path)!r} does not exist")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(f"model {str(path)!r} is not a neuromv checkpoint ({type(exc).__name__})") from None
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
        raise ModelError(f"model {str(path)!r} is not a neuromv checkpoint (expected format {CHECKPOINT_FORMAT})")
    model = CPPN(CPPNConfig(**blob["config"]))
    model.load_state_dict(blob["state_dict"])
    return model, dict(blob.get("meta") or {})
