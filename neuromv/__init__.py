"""neuromv: turn a song into a music video that pulses with it.

``neuromv.render("song.mp3", image="cover.jpg")`` is the whole pipeline; its stages are importable on their own:
:func:`load_audio` -> :func:`mel_latents` -> :class:`CPPN` (:func:`build`, :func:`fit`) -> :func:`frames` ->
:class:`VideoWriter`.
"""

__version__ = "0.1.0"

from .audio import Audio, AudioStream, as_fps, frame_count, load_audio, open_audio  # noqa: E402
from .cppn import CPPN, CPPNConfig, build, coordinate_grid  # noqa: E402
from .errors import (  # noqa: E402
    AudioError, FFmpegError, ImageError, ModelError, NeuromvError, OptionError, OutputError,
)
from .features import LatentConfig, mel_latents  # noqa: E402
from .fit import FitConfig, FitResult, fit, load_image  # noqa: E402
from .pipeline import parse_size, render  # noqa: E402
from .render import frames, pick_device  # noqa: E402
from .score import Score, score  # noqa: E402
from .video import AudioTrack, VideoWriter, probe, read_audio, read_frames  # noqa: E402

__all__ = [
    "__version__", "render", "score", "Score", "load_audio", "open_audio", "Audio", "AudioStream", "as_fps",
    "frame_count", "mel_latents", "LatentConfig",
    "CPPN", "CPPNConfig", "build", "coordinate_grid", "fit", "FitConfig", "FitResult", "load_image", "frames",
    "pick_device", "VideoWriter", "AudioTrack", "probe", "read_frames", "read_audio", "parse_size",
    "NeuromvError", "OptionError", "AudioError", "ImageError", "ModelError", "OutputError", "FFmpegError",
]
