"""The MP4 sink: a prepared video's frames, in order, streamed into FFmpeg with the excerpt's audio and the video's
record (:mod:`neuromv.out.provenance`)."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..prepared import Prepared
from ..spec import RenderSpec
from . import provenance
from .video import VideoWriter, pick_encoder, pick_preset, pick_threads


@dataclass(frozen=True)
class Encoding:
    """The encoder settings of a video, ``auto`` resolved: :class:`VideoWriter`'s keywords."""

    encoder: str
    preset: str
    threads: int
    crf: int

    @classmethod
    def of(cls, spec: RenderSpec, device: torch.device) -> Encoding:
        """The settings for ``spec``'s frames rendered on ``device``."""
        return cls(pick_encoder(spec.encoder, device.type), pick_preset(spec.x264_preset, device.type),
                   pick_threads(spec.x264_preset, device.type), spec.crf)


def write_mp4(prepared: Prepared, output: Path, encoding: Encoding) -> Path:
    """Every frame of ``prepared``, in order, encoded to ``output`` (atomically) with its sound and record."""
    source = prepared.frames()
    stream = source.batches()
    tag = provenance.made(prepared, encoding)
    with contextlib.closing(stream), \
            VideoWriter(output, source.width, source.height, prepared.spec.frame_rate, audio=prepared.excerpt,
                        metadata=tag, **asdict(encoding)) as writer, \
            tqdm(total=source.count, desc="rendering", unit="frame", disable=prepared.spec.quiet, leave=False) as bar:
        for batch in stream:
            writer.write(batch)
            bar.update(batch.shape[0])
    return output
