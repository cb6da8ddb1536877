"""``render()``, the one entry point that the CLI, the notebook and the examples call.

a :class:`RenderSpec` -> :func:`prepare` (the song opened, its latents on the frame grid, the networks built, fitted
or loaded, the look's motion decided: a :class:`Prepared`) -> its :class:`FrameSource` (frame k a pure function of k)
-> a sink (:func:`write_mp4`; the web export takes the same prepared value).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from .draw import cpu_threads, pick_device
from .io.files import check_output
from .network.cppn import CPPN
from .out.mp4 import Encoding, write_mp4
from .prepared import prepare
from .spec import RenderSpec, fields, make_spec


def render(song: str | Path | None = None, output: str | Path | None = None, *, spec: RenderSpec | None = None,
           **options: Any) -> Path:
    """Render a music video for ``song`` and return the MP4's path.

    ``output``: the MP4 to write (default: the song's path with ``.mp4``). ``spec``: a :class:`RenderSpec` to start
    from; ``options``: any of its fields as keywords, e.g. ``image="cover.jpg", size=512, seed=7`` (listed in
    ``neuromv render --help`` and docs/options.md; a misspelt one is refused with the nearest name).
    """
    return render_spec(make_spec(spec, song=song, output=output, **options))


def render_spec(spec: RenderSpec, fitted: CPPN | None = None) -> Path:
    """:func:`render` of a whole spec (``fitted``: see :func:`prepare`); returns the MP4's path."""
    target = output_path(spec)
    device = pick_device(spec.device)
    encoding = Encoding.of(spec, device)
    with cpu_threads(spec.threads):  # every slow stage
        return write_mp4(prepare(spec, device, fitted), target, encoding)


def output_path(spec: RenderSpec) -> Path:
    """Where the video goes (default: the song's path with ``.mp4``), checked before any slow work."""
    inputs = tuple(Path(p) for p in spec.files)
    return check_output(spec.output or Path(spec.song_path).with_suffix(".mp4"), overwrite=spec.overwrite,
                        inputs=inputs)


def _signature() -> inspect.Signature:
    """render()'s signature with every spec field as a keyword (for help(), IDEs and the test that walks them)."""
    head = list(inspect.signature(render).parameters.values())[:3]
    keywords = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
                for f in fields() if f.name not in ("song", "output")]
    return inspect.Signature(head + keywords, return_annotation=Path)


render.__signature__ = _signature()  # type: ignore[attr-defined]
