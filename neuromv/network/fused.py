"""The CPPN's head as one compiled loop on a CPU: ``head.cpp``, built once per machine with the system's C++ compiler.

torch runs the head layer by layer: each hidden layer a matrix product written to memory, then a tanh pass over it,
so a 5 x 32 network reads and writes every pixel's activations ten times and the tanh runs as a separate op. The
fused kernel keeps a tile of 16 pixels' activations in registers through every layer and runs the tanh as a rational
polynomial in the same loop: on a 2-core AMD EPYC (AVX-512) it draws 512² frames about 3x as fast as torch's path
(see docs/benchmarks.md).

The library is compiled at first use into the cache (``kernels`` in :func:`files.cache_root`), keyed by the
source, the compiler, the flags, the width and the CPU, written atomically, and loaded with ctypes (which lets go of
the GIL during a call, so the render threads draw at once). Without a compiler, on a failed build, or with
``NEUROMV_FUSED=0`` the renderer keeps torch's path: :func:`kernel` answers None and says why once in the log.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import typing
from pathlib import Path

import torch
from torch import nn

from ..io.files import cache_root, write_atomically
from .cppn import CPPN

log = logging.getLogger(__name__)

#: Pixels a tile: the lanes of one vector in head.cpp.
LANES = 16
#: Set to 0 to draw with torch's head only.
FUSED_ENV = "NEUROMV_FUSED"
#: The compiler, when not the first of ``c++``, ``g++`` and ``clang++`` found.
COMPILER_ENV = "CXX"
SOURCE = Path(__file__).with_name("head.cpp")
#: Tuned to this machine first; without it (a compiler that does not take it) portable code.
FLAGS = (["-O3", "-march=native", "-ffp-contract=fast", "-fno-math-errno", "-std=c++17", "-shared", "-fPIC"],
         ["-O3", "-ffp-contract=fast", "-fno-math-errno", "-std=c++17", "-shared", "-fPIC"])

_pointer, _size = ctypes.c_void_p, ctypes.c_int64


def _compiler() -> str | None:
    """The C++ compiler's path, or None."""
    named = os.environ.get(COMPILER_ENV)
    if named:
        return shutil.which(named)
    return next((found for name in ("c++", "g++", "clang++") if (found := shutil.which(name))), None)


def _machine() -> str:
    """What ``-march=native`` depends on: the architecture and the CPU's feature flags (on Linux)."""
    flags = ""
    try:
        with open("/proc/cpuinfo") as info:
            flags = next((line for line in info if line.startswith(("flags", "Features"))), "")
    except OSError:
        pass
    return f"{platform.machine()} {platform.processor()} {flags.strip()}"


def _build(compiler: str, hidden: int) -> Path | None:
    """The compiled library for ``hidden``, from the cache or built into it now; None when no flags build it."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False).stdout
    folder = cache_root() / "kernels"
    errors = []
    for flags in FLAGS:
        key = hashlib.sha256("\n".join([SOURCE.read_text(), compiler, version, " ".join(flags), str(hidden),
                                        _machine()]).encode()).hexdigest()[:24]
        library = folder / f"head-{hidden}-{key}.so"
        if library.is_file():
            return library
        folder.mkdir(parents=True, exist_ok=True)

        def compile_to(path: Path, flags: list[str] = flags) -> None:
            done = subprocess.run([compiler, *flags, f"-DHIDDEN={hidden}", str(SOURCE), "-o", str(path)],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")

        try:
            return write_atomically(library, compile_to)
        except (RuntimeError, OSError) as exc:
            errors.append(f"{' '.join(flags)}: {exc}")
    log.info("the fused head did not build with %s: %s", compiler, "; ".join(errors))
    return None


@functools.cache
def kernel(hidden: int) -> typing.Any | None:
    """The compiled ``neuromv_head`` for networks ``hidden`` wide, or None (torch's path: see the module)."""
    if os.environ.get(FUSED_ENV, "1") == "0":
        return None
    compiler = _compiler()
    if compiler is None:
        log.info("no C++ compiler (set %s): the head runs in torch", COMPILER_ENV)
        return None
    library = _build(compiler, hidden)
    if library is None:
        return None
    try:
        loaded = ctypes.CDLL(str(library))
    except OSError as exc:
        log.info("the fused head did not load (%s): the head runs in torch", exc)
        return None
    if loaded.neuromv_head_hidden() != hidden:
        return None
    head = loaded.neuromv_head
    head.argtypes = [_pointer, _pointer, _size, _size, _size, _pointer, _pointer, _size, _pointer, _pointer, _pointer]
    head.restype = None
    return head


def pack(terms: torch.Tensor) -> torch.Tensor:
    """float32 [P, hidden] coordinate terms -> [tiles, hidden, LANES], the layout the kernel reads: tile t holds
    pixels t * LANES ..., the last tile padded with zeros."""
    pixels, hidden = terms.shape
    tiles = -(-pixels // LANES)
    out = torch.zeros((tiles * LANES, hidden), dtype=torch.float32)
    out[:pixels] = terms
    return out.view(tiles, LANES, hidden).transpose(1, 2).contiguous()


class FusedHead:
    """A CPPN's head for the compiled kernel: its hidden and output layers' weights, contiguous float32 on the host.
    :meth:`__call__` draws frames from packed coordinate terms (:func:`pack`) and their latent terms."""

    def __init__(self, model: CPPN, function: typing.Any):
        hidden = typing.cast("list[nn.Linear]", model.hidden)
        with torch.no_grad():
            self.weights = torch.stack([layer.weight.t() for layer in hidden]).float().cpu().contiguous()
            self.biases = torch.stack([layer.bias for layer in hidden]).float().cpu().contiguous()
            self.out_weight = model.out.weight.float().cpu().contiguous()  # [3, hidden]
            self.out_bias = model.out.bias.float().cpu().contiguous()
        self.layers, self.function = len(hidden), function

    def __call__(self, packed: torch.Tensor, latent_terms: torch.Tensor, start: int, count: int,
                 out: torch.Tensor) -> torch.Tensor:
        """``out`` (float32 [frames, count, 3], contiguous) filled with sigmoid RGB: pixels ``start .. start + count``
        (``start`` a multiple of :data:`LANES`) of each frame, over ``packed`` [tiles, hidden, LANES] and float32
        ``latent_terms`` [frames, hidden] (contiguous)."""
        if start % LANES or not (packed.is_contiguous() and latent_terms.is_contiguous() and out.is_contiguous()):
            raise ValueError("the fused head takes contiguous tensors and a start on a tile")
        if out.shape != (latent_terms.shape[0], count, 3) or (start + count) > packed.shape[0] * LANES:
            raise ValueError(f"out {list(out.shape)} does not fit {latent_terms.shape[0]} frames of {count} pixels")
        self.function(packed.data_ptr(), latent_terms.data_ptr(), latent_terms.shape[0], start, count,
                      self.weights.data_ptr(), self.biases.data_ptr(), self.layers, self.out_weight.data_ptr(),
                      self.out_bias.data_ptr(), out.data_ptr())
        return out


def fused_head(model: CPPN) -> FusedHead | None:
    """``model``'s head for the compiled kernel, or None where the kernel is not available (see :func:`kernel`)."""
    function = kernel(model.config.hidden)
    return None if function is None else FusedHead(model, function)

