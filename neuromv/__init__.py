"""neuromv: turn a song into a music video that pulses with it.

``neuromv.render("song.mp3", image="cover.jpg")`` is the whole pipeline, and :class:`RenderSpec` everything that
decides a video. Its stages: :func:`prepare` (a spec -> :class:`Prepared`: the song's latents and the networks) ->
:class:`FrameSource` (frame k a pure function of k) -> :class:`VideoWriter` (or :func:`write_web`, the
browser player's folder: :func:`export_web`, :func:`play`); a catalogue on Ray: :func:`render_batch`; and below them :func:`load_audio`,
:func:`mel_latents`, :class:`CPPN` (:func:`build`, :func:`fit`) and :func:`frames`.
"""

__version__ = "0.2.0"

from .io.audio import Audio, AudioStream, as_fps, frame_count, load_audio, open_audio  # noqa: E402
from .network.cppn import CPPN, CPPNConfig, build, coordinate_grid  # noqa: E402
from .errors import (  # noqa: E402
    AudioError, FFmpegError, ImageError, ModelError, NeuromvError, OptionError, OutputError,
)
from .music.mel import LatentConfig, mel_latents  # noqa: E402
from .network.fit import FitConfig, FitResult, fit, load_image  # noqa: E402
from .api import Prepared, prepare, render, resolve  # noqa: E402
from .render import FrameSource, frames, pick_device  # noqa: E402
from .score import Score, score  # noqa: E402
from .spec import RenderSpec, parse_size  # noqa: E402
from .out.video import AudioTrack, VideoWriter, probe, read_audio, read_frames  # noqa: E402
from .out.web import Server, export_web, play, write_web  # noqa: E402
from .batch import BatchResult, render_batch  # noqa: E402

__all__ = [
    "__version__", "render", "render_batch", "BatchResult", "export_web", "play", "write_web", "Server", "RenderSpec", "prepare", "Prepared", "resolve", "FrameSource", "score", "Score", "load_audio", "open_audio", "Audio", "AudioStream", "as_fps",
    "frame_count", "mel_latents", "LatentConfig",
    "CPPN", "CPPNConfig", "build", "coordinate_grid", "fit", "FitConfig", "FitResult", "load_image", "frames",
    "pick_device", "VideoWriter", "AudioTrack", "probe", "read_frames", "read_audio", "parse_size",
    "NeuromvError", "OptionError", "AudioError", "ImageError", "ModelError", "OutputError", "FFmpegError",
]
