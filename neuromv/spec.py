"""The render spec: everything that decides a video, as one frozen, validated value.

:class:`RenderSpec` holds every option of ``neuromv render``. The CLI derives its flags from the spec's fields, the
Python API takes the same names as keywords, a JSON file (``--spec``), a batch manifest line and the MP4's ``neuromv``
tag carry the same flat object; so no option can exist in one and not the others. A spec is checked once, when it
is built: a bad value is an :class:`OptionError` naming the field, the value and what is valid.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import checks
from .checks import DEVICES, Check, Size, check_batch_size, check_threads, parse_size
from .errors import NeuromvError, OptionError, did_you_mean
from .io.audio import MIN_DURATION, as_fps
from .music.stems import SEPARATORS, stem_names
from .network.config import CPPNConfig, FitConfig
from .out.video import DEFAULT_CRF, ENCODERS, X264_PRESET_CHOICES, check_crf

LAYOUTS = ("row", "grid")
PRECISIONS = ("auto", "float32", "bfloat16", "float16")
PANELS = ("shared", "own")
STEM_COUNTS = (2, 4, 5)
#: The inputs whose content a video records (their SHA-256), by field.
HASHED = ("image", "model", "cue")
#: The groups of options, in the order the CLI's help and docs/options.md show them.
GROUPS = {
    "input": "what to render",
    "excerpt": "which part of the song",
    "look": "the network and its look",
    "fit": "fitting the network to the cover",
    "video": "frame size, rate and encoding",
    "device": "where and how the network runs",
    "stems": "split the song and give each stem its own panel",
    "run": "how the command behaves",
}



# --- the fields --------------------------------------------------------------------------------------------------

def _option(default: Any, group: str, help: str, *, check: Check | None = None, choices: Sequence[Any] = (),
            shown: str | None = None, short: str | None = None, local: bool = False, path: bool = False,
            metavar: str | None = None) -> Any:
    """A spec field. ``help``: one line for ``--help`` and docs/options.md. ``shown``: the default as that table says it
    (when not the value itself). ``local``: about this machine or this run, not the picture (output paths,
    progress, caches, threads): left out of the record in the video and not carried over by ``--like``.
    ``path``: a file name (a ``Path`` is accepted; the record keeps only its last part)."""
    meta = dict(group=group, help=help, check=check or (checks.one_of(choices) if choices else None),
                choices=tuple(choices), shown=shown, short=short, local=local, path=path, metavar=metavar)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class RenderSpec:
    """Everything that decides a video. Build it with keywords (the names of ``neuromv render``'s flags with ``_``
    for ``-``), :meth:`from_dict` or :meth:`from_json`; change it with :meth:`replace`. Every field is checked when the
    spec is built.

    ``None`` for ``size``, ``hidden``, ``latent_dim``, ``layout`` and ``panels`` means "decided by the inputs" (the
    cover's aspect, a saved model's config, the stem count); a rendered video records the resolved values.
    """

    # input
    song: str | None = _option(None, "input", "the song: mp3, wav, flac, ogg, m4a, opus, or a video with an audio "
                               "track", path=True, shown="required", metavar="SONG")
    output: str | None = _option(None, "input", "the MP4 to write", shown="the song's path with .mp4", short="-o",
                                 local=True, path=True, metavar="FILE")
    image: str | tuple[str, ...] | None = _option(
        None, "input", "cover to fit the network to: JPEG, PNG (RGBA, palette, 16-bit), WebP, grayscale; any size. "
        "Repeat it for a sequence of covers, one network holding them all, changing at the song's strongest section "
        "changes (or where --cue says)", shown="none (random network)", path=True, metavar="FILE",
        check=checks.images)
    cue: str | None = _option(None, "input", "with several --image: a JSON list of {\"picture\": FILE, \"start\": "
                              "SECONDS} or {\"picture\": FILE, \"section\": N}, where each picture begins",
                              shown="the strongest section changes", path=True, metavar="FILE")
    model: str | None = _option(None, "input", "render from a network written by --save-model (no refitting)",
                                path=True, metavar="FILE")
    save_model: str | None = _option(None, "input", "write the (fitted) network and its config to this file",
                                     local=True, path=True, metavar="FILE")
    # excerpt
    start: float = _option(0.0, "excerpt", "start of the excerpt in seconds; its own audio is muxed",
                           check=checks.seconds(0.0))
    duration: float | None = _option(None, "excerpt", "length of the excerpt in seconds", shown="to the end",
                                     check=checks.seconds(MIN_DURATION))
    # look
    preset: str = _option("flow", "look", "the visual preset: a built-in's name (neuromv presets lists them) or a "
                          "preset .json file", check=checks.preset, metavar="NAME|FILE")
    seed: int = _option(0, "look", "seeds the network and the fitting; the same seed gives the same frames on a "
                        "device", check=checks.seed)
    hidden: int | None = _option(None, "look", "hidden-layer width", shown="32, or the saved model's",
                                 check=checks.through(CPPNConfig))
    latent_dim: int | None = _option(None, "look", "mel bins = latent size", shown="64, or the saved model's",
                                     check=checks.through(CPPNConfig))
    features: str = _option("mel", "look", "what z is: mel (the song's mel spectrogram), learned (the autoencoder "
                            "shipped with neuromv: 10 numbers a frame) or a features model from neuromv "
                            "train-features", check=checks.features, path=True, metavar="mel|learned|FILE")
    transition: int = _option(2, "look", "beats one cover takes to become the next, through the network's own "
                              "in-between pictures", check=checks.whole(1, 4))
    flash_limit: bool | None = _option(None, "look", "tame a render that would flash more than 3 times a second "
                                       "(WCAG 2.3.1, general or red flashes; neuromv score measures them): the "
                                       "latents' swings and the preset's are scaled or smoothed just enough, and a "
                                       "notice says so; --no-flash-limit renders as is",
                                       shown="on (off for classic, whose frames stay as they were)")
    # fit
    steps: int = _option(FitConfig.steps, "fit", "fitting steps with --image", check=checks.through(FitConfig))
    lr: float = _option(FitConfig.lr, "fit", "peak learning rate of the fitting (cosine decay)",
                        check=checks.through(FitConfig))
    motion: float = _option(FitConfig.motion, "fit", "fidelity vs motion: about the gray levels of change per frame "
                            "(0 = stillest); flow (the default) scales its latents' swings to it, glow its light's "
                            "too, classic keeps that much of z's spread when fitting", check=checks.through(FitConfig))
    # video
    size: str | None = _option(None, "video", "frame size WxH, both even (H.264), 16-8192; with --stems, a panel's "
                               "size", shown="512 on the long side, the cover's (or model's) aspect", check=checks.size,
                               metavar="WxH")
    fps: str = _option("30", "video", "frames per second: 24, 25, 29.97 (= 30000/1001), 30, 60, ...; exactly one "
                       "latent per frame", check=checks.fps)
    crf: int = _option(DEFAULT_CRF, "video", "x264 quality, 0-51, lower is better (NVENC: -cq)",
                       check=checks.via(check_crf))
    x264_preset: str = _option("auto", "video", "x264 speed preset (NVENC: the matching p1-p7); auto = veryfast, "
                               "on one thread when the CPU renders (the encoder leaves the cores to the network)",
                               choices=X264_PRESET_CHOICES)
    encoder: str = _option("auto", "video", "video encoder: auto = NVENC when rendering on a CUDA GPU that has it "
                           "(T4, L4, RTX), else libx264", choices=ENCODERS)
    # device
    device: str = _option("auto", "device", "where the network runs: auto = CUDA, then Apple MPS, then the CPU",
                          check=checks.device, choices=DEVICES)
    precision: str = _option("auto", "device", "the hidden layers' dtype (auto = float32)", choices=PRECISIONS)
    batch_size: int | None = _option(None, "device", "frames per batch", shown="8 on a CPU, from free memory on a "
                                     "GPU", check=checks.via(check_batch_size))
    threads: int | None = _option(None, "device", "CPU threads for rendering, fitting and Demucs; give each of "
                                  "several renders at once its share of the cores", shown="one per core",
                                  check=checks.via(check_threads), local=True)
    # stems
    stems: int | None = _option(None, "stems", "split the song into stems, each in its own panel: 2 = vocals and "
                                "accompaniment; 4 = vocals, drums, bass, other; 5 = those and piano", shown="none",
                                choices=STEM_COUNTS)
    separator: str = _option("auto", "stems", "auto = the first of demucs, spleeter and hpss that runs here; hpss is "
                             "built in (harmonic and percussive, no model)", choices=SEPARATORS)
    layout: str | None = _option(None, "stems", "how the panels are laid out", shown="row for 2, grid for 4-5",
                                 choices=LAYOUTS)
    labels: bool = _option(False, "stems", "write each stem's name on its panel")
    panels: str | None = _option(None, "stems", "one network for every panel (the fitted cover) or one each "
                                 "(seeds seed, seed+1, ...)", shown="shared with a cover, own without",
                                 choices=PANELS)
    cache: bool = _option(True, "stems", "analyse and separate again instead of reusing a cached song analysis or "
                          "separation", shown="off (cached analyses and separations are reused)", local=True)
    cache_dir: str | None = _option(None, "stems", "where separations are cached (song analyses in its analysis/ "
                                    "folder)", shown="~/.cache/neuromv/stems",
                                    local=True, path=True, metavar="DIR")
    spleeter_python: str | None = _option(None, "stems", "the Python of Spleeter's own environment",
                                          shown="NEUROMV_SPLEETER_PYTHON, or a spleeter on PATH", local=True,
                                          path=True, metavar="FILE")
    spleeter_config: str | None = _option(None, "stems", "a Spleeter config other than spleeter:<stems>stems")
    demucs_model: str = _option("htdemucs", "stems", "the Demucs model name")
    demucs_repo: str | None = _option(None, "stems", "a local folder of Demucs models", local=True, path=True,
                                      metavar="DIR")
    # run
    overwrite: bool = _option(False, "run", "replace an existing output file", short="-y", local=True)
    quiet: bool = _option(False, "run", "no progress bars", short="-q", local=True)

    def __post_init__(self) -> None:
        for spec_field in fields():
            value = _checked(spec_field, getattr(self, spec_field.name))
            object.__setattr__(self, spec_field.name, value)  # the canonical form: "512x512", "30000/1001", 2.0
        if self.image is not None and self.model is not None:
            raise OptionError("image and model cannot be used together: a saved model is already fitted")
        if self.cue is not None and len(self.images) < 2 and self.model is None:
            raise OptionError("cue needs a sequence of covers: give --image more than once (or a saved model that "
                              "holds several)")
        if self.stems is not None:
            stem_names(self.stems, self.separator)

    # --- building and changing ------------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, options: Mapping[str, Any]) -> RenderSpec:
        """A spec from a flat mapping of field names (a parsed JSON object, a manifest line, keywords)."""
        if not isinstance(options, Mapping):
            raise OptionError(f"a render spec must be a JSON object of options, not {type(options).__name__}")
        check_names(options)
        return cls(**options)

    @classmethod
    def from_json(cls, text: str) -> RenderSpec:
        """The inverse of :meth:`to_json`."""
        try:
            options = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OptionError(f"the spec is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
        return cls.from_dict(options)

    @classmethod
    def from_file(cls, path: str | Path) -> RenderSpec:
        """Read a spec written by :meth:`to_json` (``neuromv render --dump-spec``) from ``path``."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise NeuromvError(f"spec file {str(path)!r} cannot be read ({exc.__class__.__name__}: "
                               f"{getattr(exc, 'strerror', None) or exc})") from None
        try:
            return cls.from_json(text)
        except OptionError as exc:
            raise OptionError(f"spec file {str(path)!r}: {exc}") from None

    def replace(self, **changes: Any) -> RenderSpec:
        """A copy with ``changes`` (field names), checked like a new spec."""
        check_names(changes)
        return dataclasses.replace(self, **changes)

    # --- reading --------------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Every field, flat, as plain JSON values."""
        return {spec_field.name: list(value) if isinstance(value := getattr(self, spec_field.name), tuple) else value
                for spec_field in fields()}

    def to_json(self, indent: int | None = 2) -> str:
        """The spec as a JSON object; :meth:`from_json` gives back an equal spec."""
        return json.dumps(self.to_dict(), indent=indent)

    def record(self) -> dict[str, Any]:
        """What a video keeps of the spec: every field that decides the picture, file names without their folders
        (a published video does not carry its maker's paths); the local fields are left out."""
        kept = {}
        for spec_field in fields():
            value = getattr(self, spec_field.name)
            if spec_field.metadata["local"]:
                continue
            if spec_field.metadata["path"] and value is not None:
                value = [Path(v).name for v in value] if isinstance(value, tuple) else Path(value).name
            kept[spec_field.name] = value
        return kept

    @property
    def images(self) -> tuple[str, ...]:
        """The covers, in order: none, one, or a sequence."""
        return () if self.image is None else (self.image,) if isinstance(self.image, str) else tuple(self.image)

    @property
    def files(self) -> tuple[str, ...]:
        """Every input file the spec names: the song, the covers, a saved model, a cue file."""
        named = (self.song, *self.images, self.model, self.cue)
        return tuple(path for path in named if path is not None)

    @property
    def frame_size(self) -> Size | None:
        """(width, height) of a frame (a panel with stems), or None until resolved."""
        return parse_size(self.size) if self.size is not None else None

    @property
    def panel_size(self) -> Size:
        """(width, height) of a resolved spec's frame (a panel with stems)."""
        if self.size is None:
            raise OptionError("size is not decided yet: resolve the spec first (neuromv.resolve)")
        return parse_size(self.size)

    @property
    def song_path(self) -> str:
        """The song; a spec without one cannot be rendered."""
        if self.song is None:
            raise OptionError("no song given: name one (neuromv render SONG, render('song.mp3')) or use a spec that "
                              "has one")
        return self.song

    @property
    def frame_rate(self) -> Fraction:
        """The exact frame rate."""
        return as_fps(self.fps)


def fields() -> tuple[dataclasses.Field[Any], ...]:
    """The spec's fields, in order."""
    return dataclasses.fields(RenderSpec)


@functools.cache
def _hints() -> dict[str, Any]:
    return typing.get_type_hints(RenderSpec)


def base_type(spec_field: dataclasses.Field[Any]) -> type:
    """``int`` for ``int | None``, and so on."""
    hint = _hints()[spec_field.name]
    return next(kind for kind in typing.get_args(hint) or (hint,) if kind is not type(None))


def optional(spec_field: dataclasses.Field[Any]) -> bool:
    """Whether the field may be None."""
    return type(None) in typing.get_args(_hints()[spec_field.name])


_KIND_WORDS = {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}


def _checked(spec_field: dataclasses.Field[Any], value: Any) -> Any:
    """``value`` of ``spec_field`` in its canonical form, or an OptionError naming the field, value and what is
    valid."""
    name, meta, kind = spec_field.name, spec_field.metadata, base_type(spec_field)
    if value is None:
        if optional(spec_field):
            return None
        raise OptionError(f"{name}=None must be {_KIND_WORDS[kind]}")
    if meta["path"] and isinstance(value, os.PathLike):
        value = os.fspath(value)
    if name not in ("size", "fps", "preset", "image"):  # those take more than one type and say so themselves
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise OptionError(f"{name}={value!r} must be {_KIND_WORDS[kind]}, not {type(value).__name__}")
    return meta["check"](name, value) if meta["check"] is not None else value


def check_names(options: Mapping[str, Any]) -> None:
    """Refuse a key that is no field, naming the nearest valid one."""
    names = [spec_field.name for spec_field in fields()]
    for key in options:
        if key not in names:
            raise OptionError(f"unknown option {key!r}{did_you_mean(key, names, f'; valid: {names}')}")


def flag(spec_field: dataclasses.Field[Any]) -> str:
    """The CLI flag of a field: ``--batch-size``; ``--no-cache`` for a switch that is on by default; ``SONG``."""
    if spec_field.name == "song":
        return "SONG"
    name = spec_field.name.replace("_", "-")
    return f"--no-{name}" if spec_field.default is True else f"--{name}"


def grouped() -> Iterator[tuple[str, list[dataclasses.Field[Any]]]]:
    """(group, its fields) in :data:`GROUPS` order."""
    for group in GROUPS:
        yield group, [spec_field for spec_field in fields() if spec_field.metadata["group"] == group]


def shown_default(spec_field: dataclasses.Field[Any]) -> str:
    """The default as ``--help`` and docs/options.md say it."""
    default = spec_field.default
    return spec_field.metadata["shown"] or ("off" if default is False else "on" if default is True else
                                            "none" if default is None else str(default))


def options_table() -> str:
    """The options table of docs/options.md (Markdown), made from the fields: a test checks the file holds it."""
    rows = ["| option | default | meaning |", "| --- | --- | --- |"]
    for group, members in grouped():
        rows.append(f"| **{group}** | | *{GROUPS[group]}* |")
        for spec_field in members:
            meta = spec_field.metadata
            names = ", ".join(n for n in (meta["short"], flag(spec_field)) if n)
            choices = f" ({', '.join(map(str, meta['choices']))})" if meta["choices"] else ""
            cells = (f"`{names}`", shown_default(spec_field), meta["help"] + choices)
            rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)


def make_spec(spec: RenderSpec | None = None, **options: Any) -> RenderSpec:
    """``spec`` (default: the defaults) with ``options`` (spec field names) changed; ``None`` song/output kept."""
    for name in ("song", "output"):
        if options.get(name) is None:
            options.pop(name, None)
    return (spec or RenderSpec()).replace(**options)
