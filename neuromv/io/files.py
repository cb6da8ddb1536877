"""Files every stage writes the same way: content hashes, output checks, and the one atomic write.

Every writer (the MP4, the web export's folder, the stems cache, saved networks and features models) builds its
output under a hidden partial name beside the target, unique to the attempt (:func:`partial_name`), and renames it
onto the target only when it is whole (:class:`Partial`), so a reader sees the old file or the whole new one, never a
part, and a failed or interrupted write leaves nothing at the target. A partial file can be locked for its writer's
lifetime, so that :func:`sweep_partial_files` removes only those whose writer is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ..errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: partial files are not locked, nor swept
    fcntl = None  # type: ignore[assignment]

#: The suffix of every partial file and folder.
PARTIAL = ".partial"
#: The environment variable that moves neuromv's cache (stem separations, web exports, compiled kernels).
CACHE_ENV = "NEUROMV_CACHE"


def cache_root() -> Path:
    """Where neuromv caches what it made once (each kind in a folder of its own): ``NEUROMV_CACHE``, else
    ``$XDG_CACHE_HOME/neuromv`` (``~/.cache/neuromv``)."""
    root = os.environ.get(CACHE_ENV) or os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                      os.path.expanduser("~/.cache"), "neuromv")
    return Path(root)


def content_hash(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def check_output(output: str | Path, *, overwrite: bool, inputs: tuple[Path, ...] = ()) -> Path:
    """Validate where an output will be written: the folder exists and is writable, no clobbering without
    ``overwrite``, never onto an input. Returns the path."""
    output = Path(output)
    folder = output.parent
    if not folder.is_dir():
        raise OutputError(f"output folder {str(folder)!r} does not exist; create it or choose another --output")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {str(folder)!r} is not writable; choose another --output")
    if output.is_dir():
        raise OutputError(f"output {str(output)!r} is a folder; give a file name such as {str(output / 'video.mp4')!r}")
    for path in inputs:
        if path.exists() and output.exists() and output.resolve() == path.resolve():
            raise OutputError(f"output {str(output)!r} is also an input; choose another --output")
    if output.exists() and not overwrite:
        raise OutputError(f"output {str(output)!r} already exists; pass -y/--overwrite to replace it")
    return output


def partial_name(path: Path) -> Path:
    """A hidden partial name beside ``path``, unique to this attempt."""
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{PARTIAL}")


def partial_files(path: Path) -> list[Path]:
    """The partial files and folders of writes to ``path`` (running or abandoned)."""
    return sorted(path.parent.glob(f".{path.name}.*{PARTIAL}"))


class Partial:
    """A file (or, with ``folder``, a folder) written at :attr:`temporary` and renamed onto ``path`` by
    :meth:`commit`; :meth:`discard` removes it. As a context manager it commits when its block ends normally and
    discards on any exception (Ctrl-C included). ``lock``: create the file now and hold an exclusive lock on it
    until it is committed or discarded, so that :func:`sweep_partial_files` leaves it alone.

    A committed folder replaces an existing one: the old is moved aside first and removed after.
    """

    def __init__(self, path: str | Path, *, folder: bool = False, lock: bool = False):
        self.path, self.folder = Path(path), folder
        self.temporary = partial_name(self.path)
        self._lock: int | None = None
        try:
            if folder:
                self.temporary.mkdir()
            elif lock:
                self._lock = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                if fcntl is not None:
                    fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise OutputError(f"cannot write in the output folder {str(self.path.parent)!r} ({exc.strerror}); "
                              "choose another output") from None

    def commit(self) -> Path:
        """Rename the whole output onto ``path``."""
        if self.folder and self.path.exists():
            old = partial_name(self.path)
            self.path.rename(old)
            self.temporary.rename(self.path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.temporary, self.path)
        self._release()
        return self.path

    def discard(self) -> None:
        """Remove the partial output (nothing is left of it)."""
        if self.folder:
            shutil.rmtree(self.temporary, ignore_errors=True)
        else:
            self.temporary.unlink(missing_ok=True)
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def __enter__(self) -> Partial:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write`` on a partial name beside ``path``, then rename it to ``path`` (see :class:`Partial`)."""
    with Partial(path) as partial:
        write(partial.temporary)
    return Path(path)


def sweep_partial_files(path: Path) -> list[Path]:
    """Remove the partial files of writes to ``path`` that are no longer running (killed outright, or the machine
    lost power): a running writer holds a lock on its own. Returns the files removed."""
    removed: list[Path] = []
    if fcntl is None:
        return removed
    for stale in partial_files(path):
        if not stale.is_file():
            continue
        try:
            fd = os.open(stale, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by a running writer: not ours to remove
        except OSError:
            os.close(fd)
            continue
        with contextlib.suppress(OSError):
            stale.unlink()
            removed.append(stale)
        os.close(fd)
    return removed
