"""The checks of the render spec's single values: each returns the value in its canonical form or raises an
:class:`OptionError` that names the field, the value and what is valid. Free of torch, as the spec is."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from .errors import OptionError, did_you_mean
from .io.audio import as_fps
from .look import presets
from .out.video import X264_PRESETS

#: Long side of the video when no size is given, in pixels.
DEFAULT_SIDE = 512
MIN_SIDE, MAX_SIDE = 16, 8192
DEVICES = ("auto", "cpu", "cuda", "mps")
#: Most CPU threads a render may be given.
MAX_THREADS = 1024

Size = tuple[int, int]


def parse_size(size: str | int | Sequence[int]) -> Size:
    """``"1280x720"``, ``512`` or ``(1280, 720)`` -> (width, height); both even, from 16 to 8192."""
    text = size if isinstance(size, str) else None
    try:
        if isinstance(size, str):
            match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*|\s*(\d+)\s*", size)
            if match is None:
                raise ValueError
            width, height = (int(match.group(3)),) * 2 if match.group(3) else (int(match.group(1)),
                                                                              int(match.group(2)))
        elif isinstance(size, bool):
            raise TypeError
        elif isinstance(size, int):
            width = height = size
        else:
            width, height = (int(v) for v in size)
    except (ValueError, TypeError):
        raise OptionError(f"size={size!r} must be WIDTHxHEIGHT in pixels, e.g. 512x512 or 1280x720") from None
    shown = text or f"{width}x{height}"
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise OptionError(f"size={shown} must be from {MIN_SIDE} to {MAX_SIDE} pixels on each side")
    if width % 2 or height % 2:
        raise OptionError(f"size={shown}: width and height must be even for H.264 (yuv420p); "
                          f"try {width + width % 2}x{height + height % 2}")
    return width, height


def check_batch_size(batch_size: int | None) -> None:
    if batch_size is not None and not (isinstance(batch_size, int) and not isinstance(batch_size, bool)
                                       and 1 <= batch_size <= 4096):
        raise OptionError(f"batch_size={batch_size!r} must be a whole number of frames from 1 to 4096")


def check_threads(threads: int | None) -> None:
    """``threads``: None (torch's count) or a whole number from 1 to :data:`MAX_THREADS`."""
    if threads is not None and not (isinstance(threads, int) and not isinstance(threads, bool)
                                    and 1 <= threads <= MAX_THREADS):
        raise OptionError(f"threads={threads!r} must be a whole number of CPU threads from 1 to {MAX_THREADS}")


def size_for_aspect(aspect: float, side: int = DEFAULT_SIDE) -> Size:
    """(width, height) with ``width / height ~= aspect``, the long side ``side``, both even."""
    def even(value: float) -> int:
        return max(MIN_SIDE, 2 * round(value / 2))
    return (even(side), even(side / aspect)) if aspect >= 1 else (even(side * aspect), even(side))


# --- checks of single values: each returns the value in its canonical form or raises OptionError --------------------

Check = Callable[[str, Any], Any]


def via(check: Callable[[Any], Any]) -> Check:
    """A module's own check of a value (one place for each range)."""
    def checked(name: str, value: Any) -> Any:
        check(value)
        return value
    return checked


def whole(low: int, high: int) -> Check:
    def check(name: str, value: int) -> int:
        if not low <= value <= high:
            raise OptionError(f"{name}={value!r} must be a whole number from {low} to {high}")
        return value
    return check


def seed(name: str, value: int) -> int:
    if not 0 <= value < 2**63:
        raise OptionError(f"seed={value!r} must be a whole number from 0 to 2**63 - 1")
    return value


def device(name: str, value: str) -> str:
    kind, _, index = value.partition(":")
    if kind not in DEVICES or (index and not (kind in ("cuda", "mps") and index.isdigit())):
        raise OptionError(f"device={value!r} is not one of {list(DEVICES)} (or cuda:N){did_you_mean(value, DEVICES)}")
    return value


def seconds(low: float) -> Check:
    def check(name: str, value: float) -> float:
        if not (math.isfinite(value) and value >= low):
            raise OptionError(f"{name}={value!r} must be a number of seconds >= {low:g}")
        return value
    return check


def one_of(choices: Sequence[Any]) -> Check:
    def check(name: str, value: Any) -> Any:
        if value not in choices:
            raise OptionError(f"{name}={value!r} is not one of {list(choices)}{did_you_mean(value, choices)}")
        return value
    return check


def through(config: type, **fixed: Any) -> Check:
    """The check of ``config``'s own field of the same name (one place for each range: CPPNConfig, FitConfig)."""
    def check(name: str, value: Any) -> Any:
        config(**{**fixed, name: value})
        return value
    return check


def size(name: str, value: Any) -> str:
    width, height = parse_size(value)
    return f"{width}x{height}"


def fps(name: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Fraction)):
        raise OptionError(f"fps={value!r} must be a positive number such as 24, 25, 29.97, 30 or 60")
    return str(as_fps(value))


def preset(name: str, value: Any) -> str:
    """A built-in preset's name, a preset file's path, or a preset's JSON (text or object): checked here, before any
    slow work; kept as given (a video records its content)."""
    if isinstance(value, dict):
        value = json.dumps(value, separators=(",", ":"), sort_keys=True)
    if not isinstance(value, str):
        raise OptionError(f"preset={value!r} must be a preset's name, a .json file or a JSON object")
    if value in X264_PRESETS:
        raise OptionError(f"preset={value!r} is an x264 speed: use --x264-preset {value} (x264_preset={value!r}); "
                          f"--preset picks the look, one of {list(presets.built_in())}")
    presets.load(value)
    return value


def images(name: str, value: Any) -> str | tuple[str, ...] | None:
    """One cover (a path) or a sequence of them, in the order the song shows them: a list of one is that one, of
    several a tuple of paths, each once (a cue file shows a picture again)."""
    from .network.config import MAX_PICTURES

    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, (str, os.PathLike)) for v in value):
        raise OptionError(f"{name}={value!r} must be an image's path or a list of them")
    paths = tuple(os.fspath(v) for v in value)
    if len(paths) > MAX_PICTURES:
        raise OptionError(f"{name}: {len(paths)} images, but a network holds at most {MAX_PICTURES}")
    repeated = sorted({p for p in paths if paths.count(p) > 1})
    if repeated:
        raise OptionError(f"{name}: {repeated[0]!r} is given twice; give each picture once (a cue file, --cue, can "
                          "show it again)")
    return None if not paths else paths[0] if len(paths) == 1 else paths


#: What z can be besides a features model's file.
FEATURE_KINDS = ("mel", "learned")


def features(name: str, value: Any) -> str:
    """``mel``, ``learned`` or a features model's path (read when the song is: the spec stays cheap to build)."""
    if not isinstance(value, str) or not value:
        raise OptionError(f"features={value!r} must be mel, learned or a features model .pt file")
    if value not in FEATURE_KINDS and not value.endswith(".pt"):
        raise OptionError(f"features={value!r} is not one of {list(FEATURE_KINDS)} nor a .pt features model"
                          f"{did_you_mean(value, FEATURE_KINDS)}")
    return value
