"""The web sink: a prepared video as a static folder that the browser player plays (:func:`export_web`), and a
loopback server for such a folder (:class:`Server`, :func:`play`).

The folder holds the player (``index.html`` and its JavaScript modules, nothing fetched from another origin), the
networks' weights, each panel's latent terms, the excerpt's feature bank and the presets to choose from (the player
computes their parameter tracks with the same semantics as :mod:`neuromv.presets`), the song as AAC, the stems'
labels, and a sequence of covers' shares of each frame (each picture's coordinate half is among the weights).
``data.json`` describes ``data.bin``, a run of little-endian float32 arrays. Frame k in the browser is the
same function of k as in the MP4 (docs/player.md).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from .. import __version__
from ..draw import cpu_threads, label_overlay, latent_terms, panel_grid, pick_device
from ..errors import OptionError, OutputError
from ..io import ffmpeg
from ..io.audio import load_audio
from ..io.files import Partial
from ..look import presets
from ..look.sharpen import TAPS
from ..prepared import Prepared, latent_config, prepare
from ..spec import RenderSpec, make_spec
from .player_constants import player_constants

log = logging.getLogger("neuromv")

FORMAT = "neuromv-web/1"
PLAYER = resources.files(__package__) / "player"
#: The song's format in the folder: AAC in MP4, which every current browser decodes.
AUDIO_FILE, AUDIO_BITRATE = "song.m4a", "160k"
DATA_FILE, HEADER_FILE, LABELS_FILE = "data.bin", "data.json", "labels.png"
#: The tensors of a network the player needs (the latent layer is folded into the latent terms).
_SKIPPED = ("latent.weight",)


def _check_folder(folder: Path, overwrite: bool) -> None:
    parent = folder.parent
    if not parent.is_dir():
        raise OutputError(f"output folder {str(parent)!r} does not exist; create it or choose another -o")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {str(parent)!r} is not writable; choose another -o")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output {str(folder)!r} is a file; the web export is a folder")
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise OutputError(f"output {str(folder)!r} already exists; pass -y/--overwrite to replace it")


class _Arrays:
    """float32 arrays laid end to end in ``data.bin``, with their offsets and shapes for ``data.json``."""

    def __init__(self) -> None:
        self.index: dict[str, dict[str, Any]] = {}
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, name: str, array: Any) -> str:
        data = np.ascontiguousarray(np.asarray(array, dtype="<f4"))
        self.index[name] = {"offset": self.size, "shape": list(data.shape)}
        self.parts.append(data.tobytes())
        self.size += data.nbytes
        return name


def _presets(spec_preset: str) -> tuple[list[dict[str, Any]], str]:
    """The presets the page offers (the render's own first, then the built-in ones) and the one it starts with."""
    own = presets.load(spec_preset)
    chosen = [own.to_dict()]
    for name, preset in presets.built_in().items():
        if name != own.name:
            chosen.append(preset.to_dict())
    return chosen, own.name


def _header(prepared: Prepared, arrays: _Arrays) -> dict[str, Any]:
    spec = prepared.spec
    width, height = spec.panel_size
    columns, rows = panel_grid(len(prepared.panels), spec.layout or "row")
    numbers: dict[int, int] = {}  # id(network) -> its index: stems' panels may share one
    described: list[dict[str, Any]] = []
    panels = []
    for index, (model, latents) in enumerate(prepared.panels):
        if id(model) not in numbers:
            number = numbers[id(model)] = len(described)
            described.append({"config": asdict(model.config),
                              "arrays": {name: arrays.add(f"network{number}/{name}", tensor.cpu().numpy())
                                         for name, tensor in model.state_dict().items() if name not in _SKIPPED}})
        panels.append({"network": numbers[id(model)],
                       "latent_terms": arrays.add(f"panel{index}/latent_terms", latent_terms(model, latents).numpy())})
    offered, default = _presets(spec.preset)
    wanted = any(presets.learned_features(presets.parse(p)) for p in offered)
    bank = prepared.feature_bank(learned_too=wanted or spec.features != "mel")
    if bank.frames != prepared.frame_count:  # the bank and the latents share the frame grid
        raise OptionError(f"feature bank of {bank.frames} frames does not fit {prepared.frame_count} frames")
    return {
        "format": FORMAT, "neuromv": __version__, "data": DATA_FILE, "audio": AUDIO_FILE,
        "labels": LABELS_FILE if prepared.labels else None,
        "fps": str(spec.frame_rate), "frames": prepared.frame_count, "duration": prepared.made.duration,
        "width": width, "height": height, "columns": columns, "rows": rows,
        "networks": described, "panels": panels,
        "features": {"names": list(bank.names), "array": arrays.add("features", bank.values)},
        "pictures": None if prepared.pictures is None else {
            "count": prepared.pictures.shape[1], "array": arrays.add("pictures", prepared.pictures),
            "changes": prepared.made.changes},
        "presets": offered, "preset": default,
        "calm": {"preset": default, "window": taming.window if (taming := prepared.moves.taming) else 1},
        "sharpen": {"preset": default, "taps": list(TAPS),  # one amount a picture for a sequence of covers
                    "amount": list(prepared.sharpen) if isinstance(prepared.sharpen, tuple) else prepared.sharpen},
        "constants": player_constants(),
        # how a song becomes z, for a song the page analyses itself (none when z is a features model's codes)
        "latents": asdict(latent_config(spec)) if spec.features == "mel" else None,
        "spec": spec.record(),
    }


def _write_audio(prepared: Prepared, target: Path) -> None:
    """The excerpt, decoded by neuromv as the latents were, encoded to AAC in an MP4 container."""
    spec = prepared.spec
    audio = load_audio(spec.song_path, start=spec.start, duration=spec.duration)
    with tempfile.TemporaryDirectory(prefix="neuromv-audio-") as work:
        wav = Path(work) / "excerpt.wav"
        soundfile.write(str(wav), audio.samples.T, audio.sample_rate, subtype="FLOAT")
        ffmpeg.run(["-v", "error", "-y", "-i", str(wav), "-c:a", "aac", "-b:a", AUDIO_BITRATE,
                    "-movflags", "+faststart", str(target)], what="encoding the song for the web")


def write_web(prepared: Prepared, folder: str | Path, *, overwrite: bool = False) -> Path:
    """The web sink: write the player's folder for ``prepared`` at ``folder``, atomically (built beside it under a
    temporary name, then renamed; an existing folder is replaced only with ``overwrite``)."""
    folder = Path(folder)
    _check_folder(folder, overwrite)
    try:
        with Partial(folder, folder=True) as partial:
            _write_folder(prepared, partial.temporary)
    except OSError as exc:  # a full disk, a folder taken away
        raise OutputError(f"cannot write the web export {str(folder)!r} ({exc.strerror or exc})") from None
    return folder


def _write_folder(prepared: Prepared, work: Path) -> None:
    """The player's files, the arrays, the header, the labels and the song, in ``work``."""
    for entry in PLAYER.iterdir():
        if entry.name.endswith((".html", ".js", ".css")):
            (work / entry.name).write_bytes(entry.read_bytes())
    arrays = _Arrays()
    header = _header(prepared, arrays)
    with open(work / DATA_FILE, "wb") as f:
        for part in arrays.parts:
            f.write(part)
    header["arrays"] = arrays.index
    (work / HEADER_FILE).write_text(json.dumps(header, separators=(",", ":")))
    if prepared.labels:
        from PIL import Image

        width, height = prepared.spec.panel_size
        columns, rows = panel_grid(len(prepared.panels), prepared.spec.layout or "row")
        overlay = label_overlay(prepared.labels, width, height, columns, rows)
        Image.fromarray(np.round(overlay * 255).astype(np.uint8), "RGBA").save(work / LABELS_FILE)
    _write_audio(prepared, work / AUDIO_FILE)


def default_folder(spec: RenderSpec) -> Path:
    """Where a web export goes without ``-o``: beside the song, named after it (``song-web``)."""
    song = Path(str(spec.song))
    return song.with_name(f"{song.stem}-web")


def export_web(song: str | Path | None = None, folder: str | Path | None = None, *, spec: RenderSpec | None = None,
               **options: Any) -> Path:
    """Export a song's video as a static folder for the browser player and return the folder's path.

    Takes the same options as :func:`neuromv.render` (``spec`` and the spec's fields as keywords); ``folder``
    (default: ``output``, else the song's name with ``-web``) is where the player's files go.
    """
    spec = make_spec(spec, song=song, **options)
    if spec.song is None:
        raise OptionError("no song given: name one (neuromv export-web SONG) or use a spec that has one")
    target = Path(folder if folder is not None else spec.output or default_folder(spec))
    _check_folder(target, spec.overwrite)
    device = pick_device(spec.device)
    with cpu_threads(spec.threads):
        return write_web(prepare(spec, device), target, overwrite=spec.overwrite)
