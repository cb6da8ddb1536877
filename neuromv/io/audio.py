"""Decode a song to float32 samples at its own rate, and the exact time grid shared by latents and video.

libsndfile (through soundfile) reads wav, flac, ogg and mp3 directly; everything it cannot read (m4a/AAC, opus, the
audio track of a video file, ...) is decoded by FFmpeg. Times on the grid are exact fractions: frame ``i`` sits at
``i / fps`` seconds, i.e. at sample ``i * sample_rate / fps``, so latents and frames never drift apart.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import AudioError, OptionError
from ..io import ffmpeg

log = logging.getLogger("neuromv")

#: Shortest audio (after ``start``/``duration``) worth a video, in seconds.
MIN_DURATION = 0.5
#: Peak level below which audio counts as silent (-100 dBFS).
SILENCE_PEAK = 1e-5
#: Frame rates accepted, in frames per second.
MAX_FPS = 240
#: Decimal spellings of the NTSC rates, mapped to their exact values.
_NTSC = {"23.976": Fraction(24000, 1001), "29.97": Fraction(30000, 1001), "59.94": Fraction(60000, 1001)}


def as_fps(fps: float | int | str | Fraction) -> Fraction:
    """Parse a frame rate to an exact fraction: ``30``, ``"29.97"`` (= 30000/1001), ``"30000/1001"``, ``24.5``."""
    try:
        text = str(fps).strip()
        value = _NTSC.get(text) or Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise OptionError(f"fps={fps!r} must be a positive number such as 24, 25, 29.97, 30 or 60") from None
    value = value.limit_denominator(1001)
    if not 0 < value <= MAX_FPS:
        raise OptionError(f"fps={fps} must be a positive number up to {MAX_FPS}")
    return value


def frame_count(n_samples: int, sample_rate: int, fps: Fraction) -> int:
    """Number of video frames for ``n_samples``: exactly ``ceil(duration * fps)``."""
    return math.ceil(Fraction(n_samples) * fps / sample_rate)


@dataclass(frozen=True)
class Audio:
    """Decoded audio.

    ``samples``: float32 [channels, n] in [-1, 1]; ``sample_rate`` in Hz; ``source`` the file it came from and
    ``start`` the second in that file where ``samples[:, 0]`` sits.
    """

    samples: np.ndarray
    sample_rate: int
    source: Path
    start: float = 0.0

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n_samples / self.sample_rate

    def mono(self) -> np.ndarray:
        """float32 [n]: the channels averaged."""
        return to_mono(self.samples)


def to_mono(samples: np.ndarray) -> np.ndarray:
    """float32 [n]: the channels of ``samples`` [channels, n] averaged, added row by row (decoded blocks are
    interleaved, and ``mean(axis=0)`` over them was 8x slower: 33 ms a minute of stereo)."""
    if samples.shape[0] == 1:
        return samples[0]
    out = samples[0].astype(np.float32)  # a copy
    for channel in samples[1:]:
        out += channel
    out *= np.float32(1.0 / samples.shape[0])
    return out


class AudioStream:
    """A song decoded once, block by block: iterate :meth:`blocks` (float32 [channels, n] each) and memory stays
    bounded whatever the song's length. After iterating, :meth:`check` raises for audio that is too short or silent.

    Made by :func:`open_audio`; ``start`` and ``duration`` select the excerpt.
    """

    def __init__(self, path: Path, start: float, duration: float | None, sample_rate: int, channels: int,
                 reader: Iterator[np.ndarray]):
        self.path, self.start, self.duration = path, start, duration
        self.sample_rate, self.channels = sample_rate, channels
        self.n_samples = 0
        self.peak = 0.0
        #: Samples that were NaN or infinite (played and analysed as silence), and the time of the first.
        self.bad_samples = 0
        self.first_bad: float | None = None
        self._reader = reader

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield float32 [channels, n] blocks in order (once). NaN and infinite samples (a corrupt float file) are
        replaced by silence and counted (see :meth:`check`)."""
        for block in self._reader:
            if block.shape[1] == 0:
                continue
            bad = ~np.isfinite(block)
            if bad.any():
                if self.first_bad is None:
                    self.first_bad = self.start + (self.n_samples + int(np.argmax(bad.any(axis=0)))) / self.sample_rate
                self.bad_samples += int(bad.sum())
                block = np.where(bad, np.float32(0.0), block)
            self.n_samples += block.shape[1]
            self.peak = max(self.peak, float(np.max(np.abs(block))))
            yield block

    def check(self) -> None:
        """Raise :class:`AudioError` if the audio read was shorter than ``MIN_DURATION`` or silent."""
        where = f" from {self.start:g} s" if self.start else ""
        seconds = self.n_samples / self.sample_rate
        if seconds < MIN_DURATION:
            raise AudioError(f"song {str(self.path)!r} has {seconds:.2f} s of audio{where}; "
                             f"neuromv needs at least {MIN_DURATION} s")
        if not self.peak > SILENCE_PEAK:
            damaged = f", and {self.bad_samples} of its samples are NaN or infinite" if self.bad_samples else ""
            raise AudioError(f"song {str(self.path)!r} is silent{where} (peak {self.peak:.1e}{damaged}); "
                             "there is no music to follow")
        if self.bad_samples:
            _warn_once(f"warning: song {str(self.path)!r} has {self.bad_samples} NaN or infinite samples, the first "
                       f"at {self.first_bad:.3f} s; they are played as silence")


def open_audio(path: str | Path, *, start: float = 0.0, duration: float | None = None,
               block_seconds: float = 10.0) -> AudioStream:
    """Open ``path`` for decoding from ``start`` seconds for ``duration`` seconds (to the end when ``None``).

    Raises :class:`AudioError` for a missing or unreadable song or a ``start`` past its end and
    :class:`OptionError` for an impossible ``start``/``duration``.
    """
    path = Path(path)
    if not (isinstance(start, (int, float)) and math.isfinite(start) and start >= 0):
        raise OptionError(f"start={start!r} must be a number of seconds >= 0")
    if duration is not None and not (isinstance(duration, (int, float)) and math.isfinite(duration)
                                     and duration >= MIN_DURATION):
        raise OptionError(f"duration={duration!r} must be a number of seconds >= {MIN_DURATION}")
    if not path.exists():
        raise AudioError(f"song {str(path)!r} does not exist")
    if not path.is_file():
        raise AudioError(f"song {str(path)!r} is not a file")
    if path.stat().st_size == 0:
        raise AudioError(f"song {str(path)!r} is an empty file")
    return _open_soundfile(path, start, duration, block_seconds) or _open_ffmpeg(path, start, duration,
                                                                                block_seconds)


def load_audio(path: str | Path, *, start: float = 0.0, duration: float | None = None) -> Audio:
    """Decode ``path`` from ``start`` seconds for ``duration`` seconds (to the end when ``None``) into memory.

    Raises :class:`AudioError` for a missing, unreadable, silent or too short (< ``MIN_DURATION``) song and
    :class:`OptionError` for an impossible ``start``/``duration``. For long songs prefer :func:`open_audio`.
    """
    stream = open_audio(path, start=start, duration=duration)
    blocks = list(stream.blocks())
    stream.check()
    samples = np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]
    return Audio(np.ascontiguousarray(samples, dtype=np.float32), stream.sample_rate, stream.path, float(start))


def _past_end(path: Path, start: float, length: float) -> AudioError:
    return AudioError(f"start={start:g} s is past the end of {str(path)!r}, which is {length:.2f} s long")


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence C libraries that print to file descriptor 2 (libsndfile's mpg123 warns about odd mp3 headers)."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _open_soundfile(path: Path, start: float, duration: float | None, block_seconds: float) -> AudioStream | None:
    """Open with libsndfile; ``None`` when it cannot read this file (FFmpeg is tried next)."""
    import soundfile

    try:
        with _quiet_stderr():
            f = soundfile.SoundFile(str(path))
            rate, total = int(f.samplerate), int(f.frames)
            first = round(start * rate)
            if total > 0 and first >= total:
                f.close()
                raise _past_end(path, start, total / rate)
            if first:
                f.seek(first)
            head = f.read(min(rate, total if total > 0 else rate), dtype="float32", always_2d=True)
    except AudioError:
        raise
    except Exception:  # libsndfile's many ways of saying "not for me": let FFmpeg try
        return None
    if head.shape[0] == 0:
        f.close()
        return None
    want = None if duration is None else round(duration * rate)
    block = max(1, round(block_seconds * rate))

    def read() -> Iterator[np.ndarray]:
        left = want
        try:
            first_block = head if left is None else head[:left]
            left = None if left is None else left - first_block.shape[0]
            yield first_block.T
            while left is None or left > 0:
                try:
                    with _quiet_stderr():
                        data = f.read(block if left is None else min(block, left), dtype="float32",
                                      always_2d=True)
                except Exception:  # a truncated file: the readable part is the song
                    break
                if data.shape[0] == 0:
                    break
                left = None if left is None else left - data.shape[0]
                yield data.T
        finally:
            f.close()

    return AudioStream(path, start, duration, rate, int(head.shape[1]), read())


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_AUDIO = re.compile(r"Stream #\d+:\d+.*?: Audio: ([^\n]*)")


def _open_ffmpeg(path: Path, start: float, duration: float | None, block_seconds: float) -> AudioStream:
    """Decode the first audio stream with FFmpeg, keeping the rate, as mono or stereo float32 blocks."""
    info = ffmpeg.stderr_of(["-i", str(path)])
    stream = _AUDIO.search(info)
    if stream is None:
        if "Invalid data found" in info or "could not find codec" in info.lower() or "Duration" not in info:
            raise AudioError(f"song {str(path)!r} is not a readable audio file ({ffmpeg.last_words(info)})")
        raise AudioError(f"{str(path)!r} has no audio stream")
    rate_match = re.search(r"(\d+) Hz", stream.group(1))
    rate = int(rate_match.group(1)) if rate_match else 44100
    channels = 1 if re.search(r"\bmono\b", stream.group(1)) else 2
    length = _DURATION.search(info)
    if length:
        hours, minutes, seconds = length.groups()
        total = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        if start >= total:
            raise _past_end(path, start, total)
    args = ["-ss", f"{start:.6f}"] if start else []
    args += ["-i", str(path)]
    if duration is not None:
        args += ["-t", f"{duration:.6f}"]
    args += ["-map", "0:a:0", "-vn", "-ac", str(channels), "-ar", str(rate), "-f", "f32le", "-c:a", "pcm_f32le",
             "pipe:1"]
    frame_bytes = 4 * channels
    block_bytes = max(1, round(block_seconds * rate)) * frame_bytes

    def read() -> Iterator[np.ndarray]:
        process = ffmpeg.Process(args, what=f"decoding {str(path)!r}", read=True)
        try:
            pending = b""
            while chunk := process.read(block_bytes):
                pending += chunk
                whole = len(pending) - len(pending) % frame_bytes
                if whole:
                    yield np.frombuffer(pending[:whole], dtype="<f4").reshape(-1, channels).T
                    pending = pending[whole:]
            process.finish()
        finally:
            process.kill()

    return AudioStream(path, start, duration, rate, channels, read())


@functools.lru_cache(maxsize=256)
def _warn_once(message: str) -> None:
    """Log ``message`` as a warning the first time only: a render decodes its song more than once (the latents,
    the preset's features)."""
    log.warning("%s", message)
