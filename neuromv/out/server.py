"""A web export served on 127.0.0.1 (loopback only): :class:`Server`, and :func:`play`, which exports a song's video to
the cache and serves it until Ctrl-C.

The server answers GET and HEAD of the export's own files by their bare names and nothing else.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import mimetypes
import threading
import webbrowser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .. import __version__
from ..draw import cpu_threads, pick_device
from ..errors import OptionError
from ..io.files import cache_root, content_hash
from ..prepared import prepare
from ..spec import RenderSpec, make_spec
from .web import HEADER_FILE, write_web


def _cache_key(spec: RenderSpec) -> str:
    """What a cached export depends on: the spec's picture (not its local fields) and the inputs' content."""
    digest = hashlib.sha256(json.dumps(spec.record(), sort_keys=True).encode())
    for path in spec.files:
        digest.update(content_hash(path).encode())
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
        kind = {".js": "text/javascript", ".m4a": "audio/mp4"}.get(target.suffix) or \
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
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
    base = Path(spec.cache_dir) if spec.cache_dir else cache_root()
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
