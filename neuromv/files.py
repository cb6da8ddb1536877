"""Small facts about files that several stages need."""

from __future__ import annotations

import hashlib
from pathlib import Path


def content_hash(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
