"""neuromv: turn a song into a music video that pulses with it.

``neuromv.render("song.mp3", image="cover.jpg")`` is the whole pipeline, and :class:`RenderSpec` everything that
decides a video. Its stages: :func:`prepare` (a spec -> :class:`Prepared`: the song's latents and the networks) ->
:class:`FrameSource` (frame k a pure function of k) -> :class:`VideoWriter` (or :func:`write_web`, the
browser player's folder: :func:`export_web`, :func:`play`); a catalogue on Ray: :func:`render_batch`; and below them
:func:`load_audio`, :func:`mel_latents`, :class:`CPPN` (:func:`build`, :func:`fit`) and :func:`frames`.

Importing neuromv does no work: each public name is imported from its stage's module when it is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

#: Each public name and the module that defines it.
_EXPORTS = {
    "render": "api", "render_spec": "api",
    "RenderSpec": "spec", "make_spec": "spec", "parse_size": "spec",
    "prepare": "prepared", "Prepared": "prepared", "resolve": "prepared", "fit_network": "prepared",
    "FrameSource": "draw", "frames": "draw", "pick_device": "draw",
    "score": "scoring", "Score": "scoring",
    "render_batch": "batch", "BatchResult": "batch",
    "Audio": "io.audio", "AudioStream": "io.audio", "as_fps": "io.audio", "frame_count": "io.audio",
    "load_audio": "io.audio", "open_audio": "io.audio",
    "LatentConfig": "music.mel", "mel_latents": "music.mel",
    "CPPN": "network.cppn", "CPPNConfig": "network.cppn", "build": "network.cppn", "coordinate_grid": "network.cppn",
    "FitConfig": "network.fit", "FitResult": "network.fit", "fit": "network.fit", "load_image": "network.image",
    "AudioTrack": "out.video", "VideoWriter": "out.video", "probe": "out.video", "read_audio": "out.video",
    "read_frames": "out.video",
    "export_web": "out.web", "write_web": "out.web", "Server": "out.server", "play": "out.server",
    "NeuromvError": "errors", "OptionError": "errors", "AudioError": "errors", "ImageError": "errors",
    "ModelError": "errors", "OutputError": "errors", "FFmpegError": "errors",
}

__all__ = [  # the public names (a test checks they are _EXPORTS' keys)
    "__version__", "render", "render_spec", "RenderSpec", "make_spec", "parse_size", "prepare", "Prepared",
    "resolve", "fit_network", "FrameSource", "frames", "pick_device", "score", "Score", "render_batch",
    "BatchResult", "Audio", "AudioStream", "as_fps", "frame_count", "load_audio", "open_audio", "LatentConfig",
    "mel_latents", "CPPN", "CPPNConfig", "build", "coordinate_grid", "FitConfig", "FitResult", "fit", "load_image",
    "AudioTrack", "VideoWriter", "probe", "read_audio", "read_frames", "export_web", "write_web", "Server", "play",
    "NeuromvError", "OptionError", "AudioError", "ImageError", "ModelError", "OutputError", "FFmpegError",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'neuromv' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # what type checkers and IDEs see: the same names, imported eagerly
    from .api import render, render_spec
    from .batch import BatchResult, render_batch
    from .draw import FrameSource, frames, pick_device
    from .errors import AudioError, FFmpegError, ImageError, ModelError, NeuromvError, OptionError, OutputError
    from .io.audio import Audio, AudioStream, as_fps, frame_count, load_audio, open_audio
    from .music.mel import LatentConfig, mel_latents
    from .network.cppn import CPPN, CPPNConfig, build, coordinate_grid
    from .network.fit import FitConfig, FitResult, fit
    from .network.image import load_image
    from .out.server import Server, play
    from .out.video import AudioTrack, VideoWriter, probe, read_audio, read_frames
    from .out.web import export_web, write_web
    from .prepared import Prepared, fit_network, prepare, resolve
    from .scoring import Score, score
    from .spec import RenderSpec, make_spec, parse_size
