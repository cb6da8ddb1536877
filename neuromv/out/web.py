"""The web sink: a prepared video as a static folder that the browser player plays (:func:`export_web`), and a
loopback server for such a folder (:class:`Server`, :func:`play`).

The folder holds the player (``index.html`` and its JavaScript modules, nothing fetched from another origin), the
networks' weights, each panel's latent terms, the excerpt's feature bank and the presets to choose from (the player
computes their parameter tracks with the same semantics as :mod:`neuromv.presets`), the song as AAC, and the stems'
labels. ``data.json`` describes ``data.bin``, a run of little-endian float32 arrays. Frame k in the browser is the
same function of k as in the MP4 (docs/player.md).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import logging
import mimetypes
import os
import shutil
import tempfile
import threading
import uuid
import webbrowser
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import soundfile

from .. import __version__
from ..io import ffmpeg
from ..look import presets
from ..io.audio import load_audio
from ..look.sharpen import TAPS
from ..errors import OptionError, OutputError
from ..io.files import content_hash
from ..api import Prepared, make_spec, prepare, song_bank
from ..render import cpu_threads, label_overlay, latent_terms, panel_grid, pick_device
from ..spec import RenderSpec
from ..music.stems import default_cache_dir

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
    width, height = spec.frame_size
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
    bank = song_bank(spec, learned_too=wanted or spec.features != "mel")
    if bank.frames != prepared.frame_count:  # the bank and the latents share the frame grid
        raise OptionError(f"feature bank of {bank.frames} frames does not fit {prepared.frame_count} frames")
    return {
        "format": FORMAT, "neuromv": __version__, "data": DATA_FILE, "audio": AUDIO_FILE,
        "labels": LABELS_FILE if prepared.labels else None,
        "fps": str(spec.frame_rate), "frames": prepared.frame_count, "duration": prepared.facts["duration"],
        "width": width, "height": height, "columns": columns, "rows": rows,
        "networks": described, "panels": panels,
        "features": {"names": list(bank.names), "array": arrays.add("features", bank.values)},
        "presets": offered, "preset": default,
        "calm": {"preset": default, "window": prepared.facts.get("flashes", {}).get("window", 1)},
        "sharpen": {"preset": default, "amount": prepared.sharpen, "taps": list(TAPS)},
        "spec": spec.record(),
    }


def _write_audio(prepared: Prepared, target: Path) -> None:
    """The excerpt, decoded by neuromv as the latents were, encoded to AAC in an MP4 container."""
    spec = prepared.spec
    audio = load_audio(spec.song, start=spec.start, duration=spec.duration)
    with tempfile.TemporaryDirectory(prefix="neuromv-audio-") as work:
        wav = Path(work) / "excerpt.wav"
        soundfile.write(str(wav), audio.samples.T, audio.sample_rate, subtype="FLOAT")
        ffmpeg.run(["-v", "error", "-y", "-i", str(wav), "-c:a", "aac",
                    "-b:a", AUDIO_BITRATE, "-movflags", "+faststart", str(target)], what="encoding the song for the web")


def write_web(prepared: Prepared, folder: str | Path, *, overwrite: bool = False) -> Path:
    """The web sink: write the player's folder for ``prepared`` at ``folder``, atomically (built beside it under a
    temporary name, then renamed; an existing folder is replaced only with ``overwrite``)."""
    folder = Path(folder)
    _check_folder(folder, overwrite)
    work = folder.parent / f".{folder.name}.partial-{uuid.uuid4().hex[:12]}"
    work.mkdir()
    try:
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

            width, height = prepared.spec.frame_size
            columns, rows = panel_grid(len(prepared.panels), prepared.spec.layout or "row")
            overlay = label_overlay(prepared.labels, width, height, columns, rows)
            Image.fromarray(np.round(overlay * 255).astype(np.uint8), "RGBA").save(work / LABELS_FILE)
        _write_audio(prepared, work / AUDIO_FILE)
        if folder.exists():
            old = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex[:12]}"
            folder.rename(old)
            work.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            work.rename(folder)
    except OSError as exc:  # a full disk, a folder taken away
        shutil.rmtree(work, ignore_errors=True)
        raise OutputError(f"cannot write the web export {str(folder)!r} ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder


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


# --- serving ----------------------------------------------------------------------------------------------------

def _cache_key(spec: RenderSpec) -> str:
    """What a cached export depends on: the spec's picture (not its local fields) and the inputs' content."""
    digest = hashlib.sha256(json.dumps(spec.record(), sort_keys=True).encode())
    for path in (spec.song, spec.image, spec.model):
        digest.update(content_hash(path).encode() if path is not None else b"-")
    digest.update(__version__.encode())
    return digest.hexdigest()[:24]


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET and HEAD of the export's own files, by their bare names; anything else is 404 (no listing, no
    ``..``, no absolute paths: a name is served only if it is one of the folder's files)."""

    files: dict[str, Path] = {}
    server_version = "neuromv"

    def _file(self) -> Path | None:
        path = unquote(urlsplit(self.path).path)
        name = "index.html" if path == "/" else path[1:] if path.startswith("/") else ""
        return self.files.get(name)

    def _send(self, body: bool) -> None:
        target = self._file()
        if target is None:
            self.send_error(404, "not found")
            return
        data = target.read_bytes()
        kind = "text/javascript" if target.suffix == ".js" else \
            "audio/mp4" if target.suffix == ".m4a" else mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        self._send(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._send(False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class Server:
    """A web export's folder served on 127.0.0.1 (loopback only) at ``port`` (0: a free one). ``url`` is its
    address; :meth:`serve_forever` blocks until Ctrl-C, :meth:`start` serves from a background thread, and
    :meth:`close` (or leaving a ``with`` block) stops it. The port is taken at once, so a busy one is refused
    before any slow work; ``folder`` can be given later, with :meth:`show`."""

    def __init__(self, folder: str | Path | None = None, port: int = 0):
        if not (isinstance(port, int) and not isinstance(port, bool) and 0 <= port <= 65535):
            raise OptionError(f"port={port!r} must be a whole number from 0 (a free port) to 65535")
        self.handler: type[_Handler] = type("Handler", (_Handler,), {"files": {}})
        try:
            self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), self.handler)
        except OSError as exc:
            raise OptionError(f"port={port} cannot be used on 127.0.0.1 ({exc.strerror}); pick another or 0 for a "
                              "free one") from None
        self.httpd.daemon_threads = True
        self.thread: threading.Thread | None = None
        if folder is not None:
            self.show(folder)

    def show(self, folder: str | Path) -> Server:
        """Serve the export in ``folder``: its files, by name."""
        folder = Path(folder)
        if not (folder / HEADER_FILE).is_file():
            self.httpd.server_close()
            raise OptionError(f"{str(folder)!r} is not a neuromv web export (no {HEADER_FILE})")
        self.handler.files = {entry.name: entry for entry in folder.iterdir()
                              if entry.is_file() and not entry.name.startswith(".")}
        return self

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> Server:
        self.thread = threading.Thread(target=self.serve_forever, name="neuromv-web", daemon=True)
        self.thread.start()
        return self

    def close(self) -> None:
        if self.thread is not None:
            self.httpd.shutdown()
            self.thread.join()
            self.thread = None
        self.httpd.server_close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cached_export(spec: RenderSpec) -> Path:
    """The web export of ``spec`` in the cache, made if it is not there yet: ``<cache_dir>/web/<key>``, by default
    beside the stems' cache (``~/.cache/neuromv/web``, or under ``NEUROMV_CACHE``)."""
    base = Path(spec.cache_dir) if spec.cache_dir else default_cache_dir().parent
    folder = base / "web" / _cache_key(spec)
    if (folder / HEADER_FILE).is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    device = pick_device(spec.device)
    with cpu_threads(spec.threads):
        return write_web(prepare(spec, device), folder, overwrite=True)


def play(song: str | Path | None = None, *, port: int = 0, browser: bool = True, spec: RenderSpec | None = None,
         **options: Any) -> None:
    """Export the song's video to the cache, serve it on 127.0.0.1 and open the browser on it; blocks until Ctrl-C
    (or SIGTERM, from the command line)."""
    spec = make_spec(spec, song=song, **options)
    if spec.song is None:
        raise OptionError("no song given: name one (neuromv play SONG) or use a spec that has one")
    with Server(port=port) as server:
        server.show(cached_export(spec))
        print(f"neuromv: playing at {server.url} (Ctrl-C stops)", flush=True)
        if browser:
            webbrowser.open(server.url)
        server.serve_forever()
