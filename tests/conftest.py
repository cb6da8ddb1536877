"""Shared fixtures: synthetic songs written to real files, small covers, and a check for leftover FFmpeg processes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

RATE = 22050


def tone(seconds: float, rate: int = RATE, freq: float = 220.0, level: float = 0.2) -> np.ndarray:
    """A quiet sustained chord: float32 [n]."""
    t = np.arange(round(seconds * rate)) / rate
    chord = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 1.5, 2))
    return (level * chord / 3).astype(np.float32)


def clicks(seconds: float, times: list[float], rate: int = RATE, level: float = 0.9) -> np.ndarray:
    """Short decaying noise bursts (drum hits) starting at ``times``: float32 [n]."""
    out = np.zeros(round(seconds * rate), dtype=np.float32)
    length = round(0.03 * rate)
    burst = np.random.default_rng(0).standard_normal(length) * np.exp(-np.linspace(0, 6, length))
    for t in times:
        i = round(t * rate)
        piece = burst[: max(0, min(len(burst), len(out) - i))]
        out[i:i + len(piece)] += level * piece.astype(np.float32)
    return out


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    soundfile.write(str(path), samples, rate)
    return path


def beat_track(seconds: float, bpm: float = 120.0, rate: int = RATE,
               offset: float = 0.25) -> tuple[np.ndarray, list[float]]:
    """A pad with drum hits on every beat; returns (samples, beat times)."""
    beats = list(np.arange(offset, seconds - 0.1, 60.0 / bpm))
    return tone(seconds, rate, level=0.05) + clicks(seconds, beats, rate), beats


@pytest.fixture
def song(tmp_path: Path) -> Path:
    """3 s of beats over a pad, 22.05 kHz mono WAV."""
    samples, _ = beat_track(3.0)
    return write_wav(tmp_path / "song.wav", samples)


@pytest.fixture
def cover(tmp_path: Path) -> Path:
    """A 48x40 picture with a disc, stripes and a gradient (PNG)."""
    from PIL import Image

    h, w = 40, 48
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    img = np.stack([x, y, 0.5 + 0.5 * np.sin(12 * x)], axis=2)
    img[(x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.06] = [1.0, 0.9, 0.1]
    path = tmp_path / "cover.png"
    Image.fromarray((img * 255).astype(np.uint8)).save(path)
    return path


def ffmpeg_parents(marker: str | None = None) -> dict[int, int]:
    """{pid: parent pid} of the live FFmpeg processes that are our children or whose command line contains
    ``marker``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if "ffmpeg" not in cmdline.split(" ")[0]:
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if state == "Z":
            continue
        if int(parent) == os.getpid() or (marker is not None and marker in cmdline):
            found[int(entry.name)] = int(parent)
    return found


def ffmpeg_processes(marker: str | None = None) -> list[int]:
    """PIDs of live FFmpeg processes that are our children or whose command line contains ``marker``."""
    return list(ffmpeg_parents(marker))


@pytest.fixture
def no_ffmpeg_left():
    """Fails the test if it leaves an FFmpeg child process running."""
    yield
    assert ffmpeg_processes() == []
