"""The process's heap policy: glibc's malloc thresholds fixed, so peak memory does not drift with a song's length;
and reading a process's peak memory.

Applied by the stages that allocate large blocks again and again (the mel analysis, the renderer) before they start;
a no-op on other C libraries.
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

#: Allocations from this size up get pages of their own, returned to the OS when freed (glibc ``M_MMAP_THRESHOLD``).
#: glibc's default threshold moves up to 32 MiB as large blocks are freed, after which each new frame batch (6 MiB at
#: 512x512) is carved from a fragmenting heap: a 10 s render at 512x512 then peaked anywhere from 300 to 520 MB;
#: fixed at 4 MiB, at 300-330 MB. The network's own [16K, 32] float32 blocks (2 MiB) stay below it.
MMAP_THRESHOLD = 4 << 20
#: Free memory the heap keeps at its top (glibc ``M_TRIM_THRESHOLD``; fixing the mmap threshold would otherwise drop
#: it to 128 KiB, and every freed 2 MiB block would go back to the OS and fault in again: 2x slower at 512x512).
TRIM_THRESHOLD = 64 << 20


@functools.cache
def bound_heap() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD` so peak memory does not drift with a render's length or
    timing; True when set (glibc), False elsewhere (other C libraries keep their own policy).

    Before the mel analysis too: with glibc's moving threshold its per-block buffers fragmented the heap, and the
    analysis of a 10-minute song peaked at 363 MB against 265 MB for 1 minute (with it: 269 against 259 MB)."""
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(ctypes.c_int(m_trim_threshold), ctypes.c_int(TRIM_THRESHOLD))
                and mallopt(ctypes.c_int(m_mmap_threshold), ctypes.c_int(MMAP_THRESHOLD)))


def peak_mb(pid: int | str = "self", field: str = "VmHWM") -> float | None:
    """A process's peak resident memory in MB (``field="VmRSS"``: its current one), from Linux's /proc; None
    elsewhere or when the process is gone. (``ru_maxrss`` would carry a parent's peak across exec.)"""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith(field + ":")), None)
