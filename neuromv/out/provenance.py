"""What a video records of how it was made, and rendering like it again (``neuromv render SONG --like VIDEO``).

The MP4's ``neuromv`` tag is one JSON object: ``format``, the ``neuromv`` version, ``spec`` (the resolved
:meth:`RenderSpec.record`: every option that decides the picture, file names without their folders), the SHA-256 of
the cover and of a saved model, and ``made`` (what the run decided itself: the device, the encoder, the separator
that ran, the frame count).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import NeuromvError, OptionError
from ..io.files import content_hash
from ..spec import HASHED, RenderSpec
from .video import probe

if TYPE_CHECKING:
    from ..prepared import Prepared
    from .mp4 import Encoding

log = logging.getLogger("neuromv")

FORMAT = "neuromv-video/1"


def made(prepared: Prepared, encoding: Encoding) -> dict[str, Any]:
    """The tag of a video made from ``prepared`` with ``encoding``."""
    found, moves = prepared.made, prepared.moves
    facts: dict[str, Any] = {} if found.stems is None else {"stems": list(found.stems), "separator": found.separator}
    facts["duration"] = found.duration
    if moves.scaling is not None:
        facts["motion"] = moves.scaling.record()
    if moves.latent_scaling is not None:
        facts["latent_motion"] = moves.latent_scaling.record()
    if moves.taming is not None:
        facts["flashes"] = asdict(moves.taming)
    if found.changes is not None:
        facts["pictures"] = found.changes
    if prepared.sharpen:
        facts["sharpen"] = list(prepared.sharpen) if isinstance(prepared.sharpen, tuple) else prepared.sharpen
    return {
        "format": FORMAT, "neuromv": __version__, "spec": prepared.spec.record(), **found.hashes,
        "made": {"device": prepared.device.type, "frames": prepared.frame_count,
                 "network": asdict(prepared.panels[0][0].config),
                 "encoder": encoding.encoder, "x264_preset": encoding.preset, "x264_threads": encoding.threads,
                 **facts},
    }


def read(video: str | Path) -> dict[str, Any]:
    """The tag of ``video``. A file FFmpeg cannot read is an :class:`FFmpegError` (exit 1); a video without a
    neuromv tag, or with one from before the render spec, an :class:`OptionError` (exit 2)."""
    if not Path(video).is_file():
        raise NeuromvError(f"video {str(video)!r} does not exist")
    tag = probe(video).metadata
    if tag is None:
        raise OptionError(f"video {str(video)!r} has no neuromv tag (not made by neuromv, or its metadata was "
                          "stripped); --like needs a video neuromv made")
    if not isinstance(tag, dict) or tag.get("format") != FORMAT:
        made_by = tag.get("neuromv", "?") if isinstance(tag, dict) else "?"
        raise OptionError(f"video {str(video)!r} was made by neuromv {made_by}, whose tag holds no render spec; "
                          f"--like needs a video made by neuromv {__version__} or newer")
    return tag


def like(video: str | Path, **given: Any) -> RenderSpec:
    """The spec ``video`` was made with, with the ``given`` fields changed (a new ``song`` among them).

    The recorded cover, saved model or features model is looked for beside the video unless one is given (a given
    cover replaces a recorded model and the other way round). An input whose content differs from the recorded one is
    logged as a warning: the frames will differ.
    """
    tag = read(video)
    recorded = dict(tag["spec"])
    recorded.pop("song", None)
    if any(name in given for name in HASHED):
        for name in HASHED:
            recorded.pop(name, None)
    for name in HASHED:
        if recorded.get(name) is not None:
            names = recorded[name] if isinstance(recorded[name], list) else [recorded[name]]
            found = []
            for each in names:
                beside = Path(video).parent / each
                if not beside.is_file():
                    raise OptionError(f"video {str(video)!r} was made with {name} {each!r}, which is not "
                                      f"beside it; pass --{name} FILE")
                found.append(str(beside))
            recorded[name] = found if isinstance(recorded[name], list) else found[0]
    features = recorded.get("features")
    if "features" not in given and isinstance(features, str) and features.endswith(".pt"):  # a model of one's own
        beside = Path(video).parent / features
        if not beside.is_file():
            raise OptionError(f"video {str(video)!r} was made with features {features!r}, which is not beside it; "
                              "pass --features FILE")
        recorded["features"] = str(beside)
    spec = RenderSpec.from_dict({**recorded, **given})
    for name in HASHED:
        paths, wanted = getattr(spec, name), tag.get(f"{name}_sha256")
        if paths is None or wanted is None:
            continue
        pairs = zip(paths, wanted, strict=False) if isinstance(paths, tuple) else [(paths, wanted)]
        for path, hashed in pairs:
            if isinstance(hashed, str) and Path(path).is_file() and content_hash(path) != hashed:
                log.warning("warning: %s %r is not the one %r was made with (its SHA-256 differs); the frames will "
                            "differ", name, path, str(video))
    return spec
