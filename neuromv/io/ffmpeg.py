"""The one place that starts FFmpeg: find the binary, run it to completion, or stream into it.

The binary is the one named by ``NEUROMV_FFMPEG`` (a path or a command on PATH) when set, else the one shipped by the
``imageio-ffmpeg`` wheel, so ``pip install`` is the whole set-up. A missing FFmpeg and FFmpeg failing on a file are
different errors with different messages.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import functools
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Sequence
from typing import Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from ..errors import FFmpegError

ENV_VAR = "NEUROMV_FFMPEG"


def executable() -> str:
    """Path of the FFmpeg binary to use (see the module docstring); raises :class:`FFmpegError` if there is none."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise FFmpegError(f"{ENV_VAR}={configured!r} is not an executable FFmpeg; unset it or point it at one")
        return found
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # a broken install: it is a dependency
        raise FFmpegError("imageio-ffmpeg is not installed; run: pip install imageio-ffmpeg") from exc
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise FFmpegError(f"no FFmpeg binary found ({exc}); set {ENV_VAR} to an FFmpeg executable") from exc


def last_words(stderr: str, lines: int = 1) -> str:
    """FFmpeg's last meaningful stderr lines, joined by ' | ' (for one-line error messages)."""
    kept = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("  ")]
    kept = [line for line in kept if not line.startswith(("frame=", "size=", "video:", "[out#"))] or kept
    return " | ".join(kept[-lines:]) if kept else "no output"


def call(args: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    """Run ``ffmpeg -hide_banner -nostdin ARGS`` to completion, whatever its exit status; stdout and stderr kept."""
    cmd = [executable(), "-hide_banner", "-nostdin", *args]
    try:
        return subprocess.run(cmd, capture_output=True, check=False, start_new_session=True)
    except OSError as exc:
        raise FFmpegError(f"could not start FFmpeg at {cmd[0]!r}: {exc}") from exc


def run(args: Sequence[str], *, what: str) -> bytes:
    """Run FFmpeg to completion and return its stdout; ``what`` names the job for the error, e.g.
    ``"decoding 'song.mp3'"``."""
    done = call(args)
    if done.returncode != 0:
        raise FFmpegError(f"FFmpeg failed {what}: {last_words(done.stderr.decode(errors='replace'))}")
    return done.stdout


def stderr_of(args: Sequence[str]) -> str:
    """FFmpeg's stderr whatever the exit status (for ``ffmpeg -i FILE`` style probing)."""
    return call(args).stderr.decode(errors="replace")


#: Bytes a pipe to or from FFmpeg may hold (Linux's default is 64 KiB; 1 MiB is the unprivileged maximum): a frame or
#: a batch crosses in one write, with fewer wake-ups of either side.
PIPE_BYTES = 1 << 20


def _widen_pipe(pipe: Any) -> None:
    """Ask for a :data:`PIPE_BYTES` pipe where the OS allows it (Linux); elsewhere, or if refused, keep the default."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if pipe is None or set_size is None:
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(pipe.fileno(), set_size, PIPE_BYTES)


#: Linux's prctl option that signals a child when the thread that started it ends.
_PR_SET_PDEATHSIG = 1


@functools.cache
def _prctl() -> Any:
    """libc's prctl on Linux, else None."""
    if os.uname().sysname != "Linux":
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _die_with(parent: int) -> None:
    """Run in the child between fork and exec: SIGKILL it when its parent ends, however that ends (SIGKILL, a lost
    Ray worker, the OOM killer), and end at once if the parent is already gone."""
    prctl = _prctl()
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)


class Process:
    """A running FFmpeg that reads from our pipe (or, with ``read=True``, that we read from); its stderr is drained
    in a thread so it can never block.

    FFmpeg runs in its own session so a Ctrl-C reaches Python only; :meth:`kill` and :meth:`finish` always reap it.
    On Linux it never outlives the thread that started it: a render killed outright takes its FFmpeg with it (the
    thread must outlive the process: every caller starts, feeds and reaps it on one thread).
    """

    def __init__(self, args: Sequence[str], *, what: str, read: bool = False, pass_fds: Sequence[int] = ()):
        self.what = what
        cmd = [executable(), "-hide_banner", "-nostdin", *args]  # -nostdin: no keyboard commands; pipe:0 still works
        try:
            self.popen = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL if read else subprocess.PIPE,
                stdout=subprocess.PIPE if read else subprocess.DEVNULL, stderr=subprocess.PIPE,
                start_new_session=True, pass_fds=tuple(pass_fds),  # pass_fds: more pipes, read as pipe:N
                preexec_fn=functools.partial(_die_with, os.getpid()) if _prctl() is not None else None,
            )
        except OSError as exc:
            raise FFmpegError(f"could not start FFmpeg at {cmd[0]!r}: {exc}") from exc
        _widen_pipe(self.popen.stdout if read else self.popen.stdin)
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()

    def _read_stderr(self) -> None:
        assert self.popen.stderr is not None
        for raw in iter(self.popen.stderr.readline, b""):
            self._stderr.append(raw.decode(errors="replace"))

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def error(self) -> FFmpegError:
        """The error to raise when FFmpeg stopped early, with its last words."""
        self._drain.join(timeout=5)
        return FFmpegError(f"FFmpeg failed {self.what}: {last_words(self.stderr)}")

    def write(self, data: bytes | memoryview) -> None:
        """Write bytes to FFmpeg's stdin; raises :class:`FFmpegError` if FFmpeg has gone away."""
        assert self.popen.stdin is not None
        try:
            self.popen.stdin.write(data)
        except (BrokenPipeError, ValueError, OSError) as exc:
            self.popen.wait()
            raise self.error() from exc

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes of FFmpeg's stdout (fewer only at its end; empty when it has ended)."""
        assert self.popen.stdout is not None
        parts, got = [], 0
        while got < size:
            part = self.popen.stdout.read(size - got)
            if not part:
                break
            parts.append(part)
            got += len(part)
        return b"".join(parts)

    def finish(self, timeout: float = 600) -> None:
        """Close stdin, wait for FFmpeg to end and raise if it failed."""
        try:
            if self.popen.stdin is not None:
                self.popen.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        self._drain.join(timeout)  # FFmpeg's stderr ends when it exits (Popen.wait(timeout) would poll in sleeps)
        if self._drain.is_alive():
            self.kill()
            raise FFmpegError(f"FFmpeg did not finish {self.what} within {timeout:.0f} s")
        if self.popen.wait() != 0:
            raise self.error()

    def kill(self) -> None:
        """Stop FFmpeg now (idempotent) and reap it, so no process is left behind."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.popen.kill()
        for pipe in (self.popen.stdin, self.popen.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except (BrokenPipeError, OSError):
                pass
        self.popen.wait()
        self._drain.join(timeout=5)
