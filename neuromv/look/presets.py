"""Presets: JSON files that map the feature bank's audio features to the picture's parameters.

A preset (format version 1)::

    {"version": 1, "name": "pulse", "description": "zooms in on every beat",
     "params": {"zoom": {"feature": "beat", "min": 1.0, "max": 1.25, "smooth": 0.05},
                "hue":  {"feature": "chroma.C", "min": 0, "max": 0.1, "step": 0.02, "fps": 4}}}

Each parameter takes a ``feature`` (a name from :data:`neuromv.bank.FEATURES`) or a constant ``value``, and maps it
frame by frame, in this order (:func:`track`; the golden vectors in ``tests/data/preset_vectors.json`` pin it down
for every implementation, the browser player's included):

1. **smooth**: ``y[0] = u[0]``, ``y[i] = y[i-1] + a * (u[i] - y[i-1])`` with ``a = 1 - exp(-1 / (smooth * fps))``
   (``smooth`` seconds; 0: none);
2. **map**: monotone and piecewise linear through (0, ``min``), (0.5, ``avg``), (1, ``max``); ``avg`` defaults to
   the midpoint;
3. **quantise**: ``min + floor((v - min) / step + 0.5) * step`` (``step``: none by default);
4. **hold** on the song clock at ``fps`` updates a second: frame ``i`` takes the value of frame
   ``ceil(floor(i * fps / video_fps + 1e-9) / fps * video_fps - 1e-9)``, the first frame at or after the latest update
   time (default: every frame);
5. **integrate** (optional): the value is a speed per second and the parameter its running sum,
   ``p[0] = 0``, ``p[i] = p[i-1] + v[i] / video_fps`` (rotation and pan that travel): the step into frame ``i`` is
   frame ``i``'s speed, so a travel is on time with the music.

So a parameter's track is a function of the feature track alone, and frame k of a video depends only on k.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionError, did_you_mean
from ..music.bank import FEATURES, FeatureBank

VERSION = 1
#: The picture's parameters: name -> (neutral value, what it means). A parameter a preset leaves out stays neutral.
PARAMS: dict[str, tuple[float, str]] = {
    "zoom": (1.0, "scale of the picture about its centre (1: as drawn; 1.2: 20 % closer)"),
    "rotation": (0.0, "turn of the picture, in degrees counter-clockwise"),
    "pan_x": (0.0, "shift right, in half-heights of the frame"),
    "pan_y": (0.0, "shift up, in half-heights of the frame"),
    "latent_gain": (1.0, "how strongly the music's latents move the picture (0: still; 1: classic)"),
    "hue": (0.0, "hue turn, in turns of the colour wheel"),
    "saturation": (1.0, "colour saturation (0: gray; 1: as drawn)"),
    "brightness": (0.0, "added light, in fractions of full scale"),
    "contrast": (1.0, "contrast about mid-gray (1: as drawn)"),
    "kaleido": (0.0, "mirror folds about the centre, rounded to a whole number (below 2: none)"),
    "ripple": (0.0, "depth of a radial ripple travelling outwards, in half-heights"),
    "light": (0.0, "depth of rings of light over the picture: its exposure swings by this much either way"),
    "light_phase": (0.0, "how far the rings of light have travelled outwards, in rings (integrate a speed to move "
                         "them)"),
}
#: The parameters that move where each pixel samples the picture (a warp of the coordinates).
WARPS = ("zoom", "rotation", "pan_x", "pan_y", "kaleido", "ripple")
#: The parameters that change the colours of the drawn picture.
COLOURS = ("hue", "saturation", "brightness", "contrast")
#: The parameters of the rings of light (an exposure that varies over the picture, after the colours).
LIGHTS = ("light", "light_phase")
#: The parameters a ``"motion": "scaled"`` preset scales, and the value each swings from: its neutral value, but 0
#: (still) for the latents' pull. Folds are counted, so they are not scaled; the light's travel is a speed
#: (:data:`SPEEDS`).
SWINGS_FROM = {name: 0.0 if name == "latent_gain" else neutral for name, (neutral, _) in PARAMS.items()
               if name not in ("kaleido", "light_phase")}
#: What a scaled preset speeds up, from 0, beyond a gain of 1 (see :meth:`Preset.scaled`).
SPEEDS = ("light_phase",)
#: A scaled preset's swings are at most this many times the preset's own; beyond a gain of its square, the rest of
#: the gain is speed alone (see :meth:`Preset.scaled`).
MAX_DEPTH = 4.0
_KEYS = ("feature", "value", "min", "max", "avg", "step", "fps", "smooth", "integrate")
BUILT_IN = resources.files(__package__) / "preset_files"


@dataclass(frozen=True)
class Mapping:
    """One parameter's mapping (see the module's docstring)."""

    feature: str | None = None
    value: float | None = None
    min: float = 0.0
    max: float = 1.0
    avg: float | None = None
    step: float | None = None
    fps: float | None = None
    smooth: float = 0.0
    integrate: bool = False


#: How a preset has the cover fitted: ``spread`` keeps the latents' spread around the cover (the picture re-forms
#: with z: the classic look); ``faithful`` fits every frame to the cover, so that the parameters move a picture that
#: stays the cover; ``varied`` fits every frame to the cover's variation for its z (smooth displacements and
#: relightings: :class:`neuromv.network.fit.Variations`), so that the music moves the cover through the network.
FITS = ("spread", "faithful", "varied")
#: A preset's top-level keys.
_TOP = ("version", "name", "description", "fit", "motion", "params")


@dataclass(frozen=True)
class Preset:
    """A parsed, checked preset: ``params`` maps parameter names to their :class:`Mapping`.

    ``fit``: one of :data:`FITS`. ``motion``: ``"scaled"`` when the parameters' swings are scaled, per song, so that
    the video changes by about ``--motion`` gray levels a frame (see :meth:`scaled`); a video records the scaled
    preset, which is plain again.
    """

    name: str
    description: str
    params: dict[str, Mapping]
    fit: str = "spread"
    motion: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The preset as its JSON object (defaults left out), the same as :func:`parse` reads."""
        params = {}
        for name, mapping in self.params.items():
            default = Mapping()
            params[name] = {key: getattr(mapping, key) for key in _KEYS
                            if getattr(mapping, key) != getattr(default, key)}
        top: dict[str, Any] = {"version": VERSION, "name": self.name, "description": self.description}
        if self.fit != "spread":
            top["fit"] = self.fit
        if self.motion is not None:
            top["motion"] = self.motion
        return {**top, "params": params}

    def scaled(self, gain: float) -> Preset:
        """The preset's swings scaled by ``gain``, as a plain preset (``motion`` no longer asks for scaling).

        Up to 1, every parameter's swing from :data:`SWINGS_FROM` is ``gain`` times the preset's (its mapping's min,
        max, avg, value and step: the track scales exactly); gain 0 is a still picture. Beyond 1 the gain is shared
        between the swings' strength and the light's speed (:data:`SPEEDS`), ``sqrt(gain)`` each, until the swings
        reach :data:`MAX_DEPTH`; the rest is speed (gain 25: swings 4x, speed 6.25x). A frame strays from the cover
        by the swings' depth alone, so faster rings buy motion without costing fidelity. z's pull
        (``latent_gain``, 1 when left out) is scaled too, but never beyond what it was (a fitted network has seen no
        further), except on a ``varied`` fit, whose latents' swings are scaled about their mean instead
        (:func:`neuromv.look.motion.scale_latents`)."""
        depth = gain if gain <= 1 else min(math.sqrt(gain), MAX_DEPTH)
        speed = 1.0 if gain <= 1 else gain / depth

        def scale(name: str, m: Mapping) -> Mapping:
            times = min(gain, 1.0) if name == "latent_gain" else speed if name in SPEEDS else depth
            origin = SWINGS_FROM.get(name, 0.0)

            def swing(value: float, origin: float = origin) -> float:
                return float(f"{origin + times * (value - origin):.9g}")

            def about(value: float | None, origin: float = origin) -> float | None:
                return None if value is None else swing(value, origin)

            return dataclasses.replace(m, min=swing(m.min), max=swing(m.max), avg=about(m.avg), value=about(m.value),
                                       step=about(m.step, 0.0) if times > 0 else None)

        given = dict(self.params)
        if self.fit != "varied":  # z's pull is scaled too; a varied network's latents are scaled on their own
            given = {"latent_gain": Mapping(value=PARAMS["latent_gain"][0]), **given}
        params = {name: scale(name, m) if name in SWINGS_FROM or name in SPEEDS else m for name, m in given.items()}
        return dataclasses.replace(self, params=params, motion=None)

    def to_json(self) -> str:
        """Compact, canonical JSON: equal presets give equal text."""
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    @property
    def faithful(self) -> bool:
        """Whether the cover is fitted at continuous points, every frame the cover or its variation: the network is
        the cover at any size (Fourier features, the sharpening to the cover's detail)."""
        return self.fit in ("faithful", "varied")

    @property
    def classic(self) -> bool:
        """Nothing moves but z: every parameter neutral, the cover (if any) fitted with the latents' spread."""
        return not self.params and self.fit == "spread" and self.motion is None


def _nearest(value: str, valid: tuple[str, ...] | list[str]) -> str:
    return did_you_mean(value, valid, f"; valid: {list(valid)}")


def _number(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise OptionError(f"preset {where}: {key}={value!r} must be a finite number")
    return float(value)


def _mapping(where: str, spec: Any, features: tuple[str, ...]) -> Mapping:
    if not isinstance(spec, dict):
        raise OptionError(f"preset {where} must be an object such as {{\"feature\": \"beat\", \"min\": 1, "
                          f"\"max\": 1.2}}, not {json.dumps(spec)}")
    for key in spec:
        if key not in _KEYS:
            raise OptionError(f"preset {where}: unknown key {key!r}{_nearest(key, _KEYS)}")
    if ("feature" in spec) == ("value" in spec):
        raise OptionError(f"preset {where} needs exactly one of 'feature' (a feature's name) or 'value' (a constant)")
    options: dict[str, Any] = {}
    if "feature" in spec:
        if spec["feature"] not in features and not is_learned(spec["feature"]):
            raise OptionError(f"preset {where}: feature {spec['feature']!r} is not in the bank"
                              f"{_nearest(str(spec['feature']), features)}")
        options["feature"] = spec["feature"]
    for key in ("value", "min", "max", "avg", "step", "fps", "smooth"):
        if key in spec:
            options[key] = _number(where, key, spec[key])
    if "integrate" in spec:
        if not isinstance(spec["integrate"], bool):
            raise OptionError(f"preset {where}: integrate={spec['integrate']!r} must be true or false")
        options["integrate"] = spec["integrate"]
    mapping = Mapping(**options)
    low, high = mapping.min, mapping.max
    if low > high:
        raise OptionError(f"preset {where}: min={low:g} is above max={high:g}")
    if mapping.avg is not None and not low <= mapping.avg <= high:
        raise OptionError(f"preset {where}: avg={mapping.avg:g} must lie from min={low:g} to max={high:g}")
    for key in ("step", "fps"):
        if getattr(mapping, key) is not None and not getattr(mapping, key) > 0:
            raise OptionError(f"preset {where}: {key}={getattr(mapping, key):g} must be > 0 (leave it out for "
                              f"{'continuous values' if key == 'step' else 'every frame'})")
    if mapping.smooth < 0:
        raise OptionError(f"preset {where}: smooth={mapping.smooth:g} must be a number of seconds >= 0")
    return mapping


def is_learned(feature: Any) -> bool:
    """Whether ``feature`` names a learned feature (``learned.0``, ``learned.1``, ...), which the bank has when a
    features model is given (see :mod:`neuromv.learned`)."""
    return isinstance(feature, str) and re.fullmatch(r"learned\.(0|[1-9][0-9]*)", feature) is not None


def learned_features(preset: Preset) -> list[str]:
    """The learned features a preset maps."""
    return [m.feature for m in preset.params.values() if m.feature is not None and is_learned(m.feature)]


def parse(data: Any, source: str = "preset", features: tuple[str, ...] = FEATURES) -> Preset:
    """A checked :class:`Preset` from a parsed JSON object; any fault is one :class:`OptionError` line."""
    if not isinstance(data, dict):
        raise OptionError(f"{source} must be a JSON object with version, name, description and params")
    for key in data:
        if key not in _TOP:
            raise OptionError(f"{source}: unknown key {key!r}{_nearest(key, _TOP)}")
    if data.get("version") != VERSION:
        raise OptionError(f"{source}: version={data.get('version')!r} is not supported; this neuromv reads version "
                          f"{VERSION}")
    name, description = data.get("name"), data.get("description", "")
    if not (isinstance(name, str) and name):
        raise OptionError(f"{source}: name={name!r} must be a non-empty string")
    if not isinstance(description, str):
        raise OptionError(f"{source}: description={description!r} must be a string")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise OptionError(f"{source}: params must be an object of parameter name -> mapping")
    checked = {}
    for param, spec in params.items():
        if param not in PARAMS:
            raise OptionError(f"{source}: unknown parameter {param!r}{_nearest(param, tuple(PARAMS))}")
        checked[param] = _mapping(f"{source} {param}", spec, features)
    fit = data.get("fit", "spread")
    if fit not in FITS:
        raise OptionError(f"{source}: fit={fit!r} must be one of {list(FITS)}")
    motion = data.get("motion")
    if motion not in (None, "scaled"):
        raise OptionError(f"{source}: motion={motion!r} must be \"scaled\" (the swings scaled to --motion) or left "
                          "out")
    return Preset(name, description, checked, fit=fit, motion=motion)


@functools.cache
def _shipped() -> dict[str, Preset]:
    """The built-in presets, parsed once a process (the package's files do not change under it)."""
    found = {}
    for entry in sorted(BUILT_IN.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            preset = parse(json.loads(entry.read_text(encoding="utf-8")), f"preset file {entry.name!r}")
            found[preset.name] = preset
    return found


def built_in() -> dict[str, Preset]:
    """The presets that ship with neuromv, by name."""
    return dict(_shipped())


@functools.lru_cache(maxsize=64)
def _inline(text: str) -> Preset:
    """A preset given as JSON text (a render reads its own recorded preset several times)."""
    try:
        return parse(json.loads(text))
    except json.JSONDecodeError as exc:
        raise OptionError(f"preset is not JSON ({exc.msg} at column {exc.colno})") from None


def load(preset: str) -> Preset:
    """A preset by built-in name, by JSON file path, or as inline JSON text (``{...}``, as a video records it)."""
    text = preset.strip()
    if text.startswith("{"):
        return _inline(text)
    presets = _shipped()
    if preset in presets:
        return presets[preset]
    path = Path(preset)
    if path.suffix.lower() != ".json" and not path.is_file():
        raise OptionError(f"preset={preset!r} is not one of {list(presets)} nor a .json file"
                          f"{did_you_mean(preset, presets)}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OptionError(f"preset file {preset!r} cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OptionError(f"preset file {preset!r} is not JSON ({exc.msg} at line {exc.lineno}, column "
                          f"{exc.colno})") from None
    return parse(data, f"preset file {preset!r}")


# --- the semantics ---------------------------------------------------------------------------------------------

def smooth(u: np.ndarray, seconds: float, fps: float) -> np.ndarray:
    """One-pole smoothing with time constant ``seconds`` (float64)."""
    u = np.asarray(u, dtype=np.float64)
    if seconds <= 0 or u.size == 0:
        return u.copy()
    a = 1.0 - math.exp(-1.0 / (seconds * fps))
    out = np.empty_like(u)
    level = u[0]
    for i, x in enumerate(u):
        level = level + a * (x - level)
        out[i] = level
    return out


def map_value(u: np.ndarray, low: float, high: float, avg: float | None = None) -> np.ndarray:
    """Monotone, piecewise linear: 0 -> ``low``, 0.5 -> ``avg`` (default the midpoint), 1 -> ``high``."""
    mid = (low + high) / 2 if avg is None else avg
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    return np.where(u < 0.5, low + (mid - low) * 2 * u, mid + (high - mid) * (2 * u - 1))


def quantise(v: np.ndarray, low: float, step: float | None) -> np.ndarray:
    """``low + floor((v - low) / step + 0.5) * step`` (no change without a step)."""
    if step is None:
        return v
    return low + np.floor((v - low) / step + 0.5) * step


def hold_index(frames: int, video_fps: float, rate: float | None) -> np.ndarray:
    """int64 [frames]: the frame whose value frame ``i`` shows when the parameter updates ``rate`` times a second."""
    index = np.arange(frames)
    if rate is None:
        return index
    update = np.floor(index * rate / video_fps + 1e-9)
    return np.minimum(np.ceil(update / rate * video_fps - 1e-9), index).astype(np.int64)


def integrate(v: np.ndarray, video_fps: float) -> np.ndarray:
    """The running sum of a speed per second: ``p[0] = 0``, ``p[i] = p[i-1] + v[i] / video_fps`` (the step into
    frame ``i`` at frame ``i``'s speed)."""
    out = np.zeros_like(v)
    out[1:] = np.cumsum(v[1:]) / video_fps
    return out


def track(mapping: Mapping, feature: np.ndarray | None, frames: int, video_fps: Fraction | float) -> np.ndarray:
    """float64 [frames]: one parameter over the song, from its feature's track (float [frames] in [0, 1])."""
    fps = float(video_fps)
    if mapping.value is not None:
        v = np.full(frames, mapping.value, dtype=np.float64)
    else:
        assert feature is not None and feature.shape[0] == frames
        v = map_value(smooth(feature, mapping.smooth, fps), mapping.min, mapping.max, mapping.avg)
        v = quantise(v, mapping.min, mapping.step)[hold_index(frames, fps, mapping.fps)]
    return integrate(v, fps) if mapping.integrate else v


@dataclass(frozen=True)
class ParamTracks:
    """The picture's parameters over a video: ``values`` float32 [frames, len(names)], row k for frame k; only the
    parameters the preset sets (the others stay neutral)."""

    names: tuple[str, ...]
    values: np.ndarray
    fps: float = 30.0

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.names:
            return self.values[:, self.names.index(name)]
        return np.full(self.values.shape[0], PARAMS[name][0], dtype=np.float32)

    def moves(self, names: tuple[str, ...]) -> bool:
        """Whether any of ``names`` is set by the preset."""
        return any(name in self.names for name in names)


def tracks(preset: Preset, bank: FeatureBank) -> ParamTracks:
    """Every parameter the preset sets, over the bank's frames."""
    names = tuple(preset.params)
    for mapping in preset.params.values():
        if mapping.feature is not None and is_learned(mapping.feature) and mapping.feature not in bank.names:
            given = [n for n in bank.names if is_learned(n)]
            raise OptionError(f"preset {preset.name!r} maps {mapping.feature!r}, but the features model gives "
                              f"{len(given)} (learned.0 .. learned.{len(given) - 1})" if given else
                              f"preset {preset.name!r} maps {mapping.feature!r}, and the bank has no learned features")
    columns = [track(m, bank[m.feature] if m.feature else None, bank.frames, bank.fps) for m in preset.params.values()]
    values = np.stack(columns, axis=1).astype(np.float32) if columns else np.zeros((bank.frames, 0), np.float32)
    return ParamTracks(names, values, float(bank.fps))
