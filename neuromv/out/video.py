"""Frames + audio -> MP4 through FFmpeg, atomically; and reading a video back (frames, audio, stream facts).

The writer streams raw RGB frames into FFmpeg's stdin from a thread fed by a bounded queue, so rendering and
encoding overlap and memory stays bounded. The sound is the song as neuromv decoded it for the latents (the same
decoder, the same samples), streamed as float32 through a second pipe a little ahead of the frames. FFmpeg writes
H.264 (yuv420p, ``+faststart``) with that audio as AAC to a hidden partial file beside the target, which is renamed
on success and removed on any failure or interrupt; FFmpeg is always reaped. A partial file is locked while its render
runs, so one left by a render that was killed outright is recognised and removed by the next render to that path.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import re
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from ..errors import FFmpegError, OptionError
from ..io import ffmpeg
from ..io.audio import open_audio
from ..io.files import Partial, sweep_partial_files

#: Encoder settings: x264 quality (lower is better) and speed preset.
DEFAULT_CRF = 18
DEFAULT_PRESET = "auto"
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
X264_PRESET_CHOICES = ("auto", *X264_PRESETS)
#: What ``preset="auto"`` means, by where the frames are rendered: veryfast on both. Against ultrafast it halves the
#: bits at a better picture (glow at 1920x1080, CRF 18: 9.2 against 21.3 Mbit/s, SSIM 0.991 against 0.983 to the
#: lossless frames; 256x256: 0.69 against 1.27 Mbit/s), and on a CPU its one thread (18 frames/s at 1080p on one core
#: of a 2-core EPYC) stays far ahead of the network (3 frames/s there): a 20 s glow render at 256x256 took the same
#: time with either, within the machine's noise.
AUTO_PRESETS = {"cpu": "veryfast", "gpu": "veryfast"}
#: x264's threads under ``preset="auto"`` with the CPU rendering: the renderer holds every core, and one x264 thread
#: does the same work with 12-15 % less CPU than x264's frame threads (no hand-offs between them) while staying ahead
#: of the network. 0 = x264's own choice.
AUTO_THREADS = {"cpu": 1, "gpu": 0}
ENCODERS = ("auto", "libx264", "h264_nvenc")
#: x264 presets mapped to NVENC's p1 (fastest) .. p7 (best).
_NVENC_PRESETS = dict(zip(X264_PRESETS, ("p1", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p7"), strict=True))
#: AAC bitrate of the sound track. FFmpeg's ``fast`` AAC coder is used: at this rate it is transparent for music and
#: takes half the CPU of the default ``twoloop`` (0.46 against 1.0 s per minute of audio on a 2-core Xeon), which
#: a CPU render would otherwise take from the network.
AUDIO_BITRATE = "192k"
#: Batches of frames waiting for the encoder; bounds memory while keeping the pipe full.
QUEUE_BATCHES = 4
#: The MP4 metadata key (an mdta tag, so any length) that carries neuromv's settings as JSON.
METADATA_KEY = "neuromv"
#: How far the sound may run ahead of the frames written, in seconds: FFmpeg holds no more than this of it.
AUDIO_LEAD = 2.0
#: Every video's colours: BT.709 matrix, primaries and transfer, limited range, as web video and HD players expect.
#: The RGB -> YUV conversion uses the matrix the tags name (FFmpeg's own default is BT.601, untagged, which players
#: showing HD read as BT.709: green 8 levels too bright in Chromium), and decoders that read the tags invert it.
COLOUR_FILTER = ("scale=out_color_matrix=bt709:out_range=tv,"
                 "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv")  # tags on each frame
COLOUR_TAGS = ("-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv")
#: Seconds of sound decoded at a time for the track: small blocks keep the sound thread's heap small.
SOUND_BLOCK = 0.5


@dataclass(frozen=True)
class AudioTrack:
    """The stretch of ``source`` to mux as the video's sound: ``duration`` seconds from ``start`` (None: to the end),
    decoded by :func:`open_audio` as for the latents, so the sound is sample for sample what the latents describe."""

    source: Path
    start: float
    duration: float | None


@functools.cache
def nvenc_works() -> bool:
    """Whether this FFmpeg can open an NVENC H.264 encoder on this machine (tried once, on a tiny clip)."""
    try:
        done = ffmpeg.call(["-loglevel", "error", "-f", "lavfi", "-i", "color=c=black:s=256x256:d=0.1",
                            "-c:v", "h264_nvenc", "-f", "null", "-"])
    except FFmpegError:
        return False
    return done.returncode == 0


def pick_encoder(encoder: str | None, device_type: str = "cpu") -> str:
    """``auto``: NVENC when rendering on a CUDA GPU that has it (T4, L4, RTX; not H100), else libx264.
    ``h264_nvenc`` when it cannot open here is an error naming the fallback."""
    name = encoder or "auto"
    if name not in ENCODERS:
        raise OptionError(f"encoder={name!r} is not one of {list(ENCODERS)}")
    if name == "auto":
        return "h264_nvenc" if device_type == "cuda" and nvenc_works() else "libx264"
    if name == "h264_nvenc" and not nvenc_works():
        raise OptionError("encoder='h264_nvenc' cannot open here (no NVENC-capable GPU or driver); "
                          "use --encoder libx264 or auto")
    return name


def pick_preset(preset: str | None, device_type: str = "cpu") -> str:
    """The x264 preset to use: ``auto`` (or None) resolves by the render device (:data:`AUTO_PRESETS`)."""
    name = preset or "auto"
    if name not in X264_PRESET_CHOICES:
        raise OptionError(f"x264_preset={name!r} is not one of {list(X264_PRESET_CHOICES)}")
    if name == "auto":
        return AUTO_PRESETS["cpu" if device_type == "cpu" else "gpu"]
    return name


def pick_threads(preset: str | None, device_type: str = "cpu") -> int:
    """x264's thread count: :data:`AUTO_THREADS` under ``preset="auto"``, else 0 (x264's own choice)."""
    return AUTO_THREADS["cpu" if device_type == "cpu" else "gpu"] if (preset or "auto") == "auto" else 0


def check_crf(crf: int) -> None:
    """x264's constant rate factor: a whole number from 0 (lossless) to 51."""
    if not (isinstance(crf, int) and not isinstance(crf, bool) and 0 <= crf <= 51):
        raise OptionError(f"crf={crf!r} must be a whole number from 0 (lossless) to 51")


class VideoWriter:
    """Stream uint8 frames [b, height, width, 3] into an MP4 at ``path``.

    Use as a context manager; the file appears at ``path`` only when the block ends without an exception.
    ``preset="auto"`` is the CPU's choice (see :func:`pick_preset`, :func:`pick_threads`); a caller rendering on a GPU
    resolves it first. ``threads``: x264's threads (0 = x264's own choice; None = by the preset).
    ``metadata`` (plain JSON values) is stored in the MP4 so the video can be rendered again.
    """

    def __init__(self, path: str | Path, width: int, height: int, fps: Fraction, *, audio: AudioTrack | None = None,
                 metadata: dict[str, Any] | None = None, crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET,
                 encoder: str = "libx264", threads: int | None = None):
        if width % 2 or height % 2:
            raise OptionError(f"size={width}x{height}: width and height must be even for H.264 (yuv420p)")
        threads = pick_threads(preset) if threads is None else threads
        preset = pick_preset(preset)
        if encoder not in ENCODERS[1:]:
            raise OptionError(f"encoder={encoder!r} is not one of {list(ENCODERS[1:])} (resolve 'auto' with "
                              "pick_encoder)")
        check_crf(crf)
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, fps
        self.frames_written = 0
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=QUEUE_BATCHES)
        self._failure: BaseException | None = None
        self._shown = threading.Condition()  # guards frames_written and _video_done, which the sound keeps pace with
        self._video_done = False
        self._sound_thread: threading.Thread | None = None
        sweep_partial_files(self.path)
        self._partial = Partial(self.path, lock=True)
        try:
            self._start(width, height, fps, audio, metadata, crf, preset, encoder, threads)
        except BaseException:
            self._partial.discard()
            raise

    def _start(self, width: int, height: int, fps: Fraction, audio: AudioTrack | None,
               metadata: dict[str, Any] | None, crf: int, preset: str, encoder: str, threads: int) -> None:
        """Start FFmpeg and the threads that feed it frames and sound."""
        rate = f"{fps.numerator}/{fps.denominator}"
        args = ["-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
                "-framerate", rate, "-i", "pipe:0"]
        sound = None if audio is None else open_audio(audio.source, start=audio.start, duration=audio.duration,
                                                      block_seconds=SOUND_BLOCK)
        sound_in, sound_out = os.pipe() if sound is not None else (-1, -1)
        if sound is not None:  # decoded as for the latents; FFmpeg reads it from a pipe of its own
            args += ["-f", "f32le", "-ar", str(sound.sample_rate), "-ac", str(sound.channels), "-i", f"pipe:{sound_in}",
                     "-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-aac_coder", "fast", "-b:a", AUDIO_BITRATE]
        args += ["-vf", COLOUR_FILTER, "-c:v", encoder, "-pix_fmt", "yuv420p", *COLOUR_TAGS, "-r", rate]
        if encoder == "libx264":
            args += ["-crf", str(crf), "-preset", preset] + (["-threads", str(threads)] if threads else [])
        else:
            args += ["-rc", "vbr", "-cq", str(crf), "-b:v", "0", "-preset", _NVENC_PRESETS[preset]]
        if metadata is not None:
            args += ["-metadata", f"{METADATA_KEY}={json.dumps(metadata, separators=(',', ':'))}",
                     "-metadata", f"comment=made with neuromv {metadata.get('neuromv', '')}".rstrip()]
        args += ["-movflags", "+faststart+use_metadata_tags", "-f", "mp4", "-y", str(self._partial.temporary)]
        try:
            self._process = ffmpeg.Process(args, what=f"encoding {str(self.path)!r}",
                                           pass_fds=(sound_in,) if sound is not None else ())
        except BaseException:
            if sound is not None:
                os.close(sound_out)
            raise
        finally:
            if sound is not None:
                os.close(sound_in)  # FFmpeg holds its own copy
        self._thread = threading.Thread(target=self._pump, name="neuromv-encode", daemon=True)
        self._thread.start()
        if sound is not None:
            self._sound_thread = threading.Thread(target=self._pump_sound, args=(sound, sound_out),
                                                  name="neuromv-sound", daemon=True)
            self._sound_thread.start()

    def _pump(self) -> None:
        try:
            while (batch := self._queue.get()) is not None:
                self._process.write(batch.data.cast("B"))
        except BaseException as exc:  # surfaced by the next write() or close()
            self._failure = exc
            while self._queue.get() is not None:  # let the producer finish putting
                pass

    def _may_send(self, sent: float) -> bool:
        """Whether the sound, ``sent`` seconds of it written, may go on: within :data:`AUDIO_LEAD` of the frames, or
        the frames done, or failed."""
        return self._video_done or self._failure is not None or sent <= self.frames_written / self.fps + AUDIO_LEAD

    def _pump_sound(self, sound: Any, fd: int) -> None:
        """Write the decoded song to FFmpeg's second pipe, at most :data:`AUDIO_LEAD` seconds ahead of the frames."""
        written = 0
        try:
            with open(fd, "wb", buffering=0) as pipe, contextlib.closing(sound.blocks()) as blocks:
                for block in blocks:  # float32 [channels, n]
                    with self._shown:
                        self._shown.wait_for(functools.partial(self._may_send, written / sound.sample_rate))
                    if self._failure is not None:
                        return
                    pipe.write(np.ascontiguousarray(block.T, dtype="<f4").data.cast("B"))
                    written += block.shape[1]
        except BrokenPipeError:  # FFmpeg stopped reading: its own error is the one to report
            pass
        except BaseException as exc:
            self._failure = self._failure or exc

    def write(self, frames: np.ndarray) -> None:
        """Queue uint8 frames [b, height, width, 3] (or one [height, width, 3]) for encoding."""
        if frames.ndim == 3:
            frames = frames[None]
        if frames.dtype != np.uint8 or frames.shape[1:] != (self.height, self.width, 3):
            raise ValueError(f"frames must be uint8 [b, {self.height}, {self.width}, 3], got {frames.dtype} "
                             f"{list(frames.shape)}")
        if self._failure is not None:
            raise self._failure
        self._queue.put(np.ascontiguousarray(frames))
        with self._shown:
            self.frames_written += frames.shape[0]
            self._shown.notify_all()

    def _end_video(self) -> None:
        with self._shown:
            self._video_done = True
            self._shown.notify_all()

    def close(self) -> Path:
        """Finish encoding and move the video into place; raises if FFmpeg failed."""
        self._queue.put(None)
        self._end_video()
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        if self.frames_written == 0:
            raise FFmpegError(f"no frames were written to {str(self.path)!r}")
        self._process.finish()  # the frames' end; FFmpeg ends once the sound's pipe ends too
        if self._sound_thread is not None:
            self._sound_thread.join()
        if self._failure is not None:  # the sound could not be read to its end
            raise self._failure
        return self._partial.commit()

    def abort(self) -> None:
        """Stop FFmpeg and remove the partial file (idempotent)."""
        self._end_video()
        self._process.kill()  # the sound's pipe breaks, and its pump ends
        if self._thread.is_alive():
            with contextlib.suppress(queue.Full):  # once FFmpeg is dead the pump drains the queue, waits for this
                self._queue.put(None, timeout=5)
            self._thread.join(timeout=5)
        if self._sound_thread is not None:
            self._sound_thread.join(timeout=5)
        self._partial.discard()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if kind is None:
            try:
                self.close()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` reads from a video: frame size and rate, codecs, colour tags and neuromv's metadata.

    ``colour``: the pixel format's tags as FFmpeg prints them (``"tv, bt709, progressive"``), or None untagged."""

    width: int
    height: int
    fps: float
    codec: str
    pix_fmt: str
    audio_codec: str | None
    metadata: dict[str, Any] | None
    colour: str | None = None


def probe(path: str | Path) -> VideoInfo:
    """Read the first video stream's facts (and neuromv's metadata, if any) from ``path``."""
    done = ffmpeg.call(["-i", str(path), "-f", "ffmetadata", "pipe:1"])
    info = done.stderr.decode(errors="replace")
    video = re.search(r"Stream #\d+:\d+.*?: Video: (\w+)[^,]*, (\w+)(?:\(([^)]*)\))?[^,]*, (\d+)x(\d+)", info)
    if video is None:
        raise FFmpegError(f"{str(path)!r} has no readable video stream ({ffmpeg.last_words(info)})")
    fps = re.search(r"([\d.]+) fps", info)
    audio = re.search(r"Stream #\d+:\d+.*?: Audio: (\w+)", info)
    tags = done.stdout.decode(errors="replace")  # ffmetadata: key=value lines, specials escaped by a backslash
    meta = re.search(rf"^{METADATA_KEY}=(.*)$", tags, re.MULTILINE)
    return VideoInfo(int(video.group(4)), int(video.group(5)), float(fps.group(1)) if fps else 0.0,
                     video.group(1), video.group(2), audio.group(1) if audio else None,
                     json.loads(re.sub(r"\\(.)", r"\1", meta.group(1))) if meta else None, colour=video.group(3))


def read_frames(path: str | Path, *, size: tuple[int, int] | None = None, gray: bool = False,
                every: int = 1) -> np.ndarray:
    """Decode the frames of ``path``: uint8 [frames, height, width, 3] (or [frames, height, width] with ``gray``).

    ``size=(width, height)`` scales on decode (area averaging) and ``every=k`` keeps frames 0, k, 2k, ..., both to keep
    memory small for analysis.
    """
    info = probe(path)
    width, height = size or (info.width, info.height)
    filters = [f"select=not(mod(n\\,{every}))"] if every > 1 else []
    if size is not None:
        filters.append(f"scale={width}:{height}:flags=area")
    args = ["-i", str(path), "-map", "0:v:0"]
    if filters:
        args += ["-vf", ",".join(filters), "-fps_mode", "passthrough"]
    args += ["-f", "rawvideo", "-pix_fmt", "gray" if gray else "rgb24", "pipe:1"]
    raw = ffmpeg.run(args, what=f"decoding {str(path)!r}")
    shape = (-1, height, width) if gray else (-1, height, width, 3)
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape)


def read_audio(path: str | Path, sample_rate: int = 22050) -> np.ndarray:
    """Decode the first audio stream of ``path`` to float32 [n] mono at ``sample_rate``."""
    raw = ffmpeg.run(["-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le",
                      "-c:a", "pcm_f32le", "pipe:1"], what=f"decoding the audio of {str(path)!r}")
    return np.frombuffer(raw, dtype="<f4")
