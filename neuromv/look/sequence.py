"""A sequence of covers: which picture each frame shows, and how one becomes the next.

A network that holds several pictures (:class:`neuromv.network.cppn.CPPN`) shows, in frame k, a share of each
picture's code (row k of :func:`shares`): one picture whole between changes, and over the ``transition`` beats
before a change a mix going from the picture before it to the one after it, through the network's own in-between
pictures. The new picture has all of it from the frame of the change.

Where the pictures change (:func:`changes`): by default at the song's strongest section boundaries
(:mod:`neuromv.music.sections`), as many as pictures minus one, in the order the pictures were given; or as a cue file
says (:func:`read_cue`). The pace through a transition is even to the eye (:func:`even_pace`): the share is timed
so that the network's in-between frames change by the same amount each frame.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionError
from ..music.sections import Sections

#: Points along a transition at which :func:`even_pace` previews the network.
PACE_POINTS = 17


@dataclass(frozen=True)
class Cue:
    """One line of a cue file: ``picture`` (its index among the images) from ``start`` seconds of the song, or from
    the start of section ``section`` (1 is the first)."""

    picture: int
    start: float | None = None
    section: int | None = None


@dataclass(frozen=True)
class Change:
    """From ``frame`` on, the video shows ``picture`` (an index among the images) whole."""

    frame: int
    picture: int

    def record(self, fps: Fraction, names: Sequence[str]) -> dict[str, Any]:
        """As the video records it: the frame, its time in the video, the picture's index and file name (and, added by
        the render, the first frame of its transition)."""
        return {"frame": self.frame, "time": round(self.frame / float(fps), 4), "picture": self.picture,
                "image": names[self.picture]}


def read_cue(path: str | Path, images: Sequence[str]) -> list[Cue]:
    """The cues of a cue file: a JSON list of ``{"picture": NAME, "start": SECONDS}`` or ``{"picture": NAME,
    "section": N}`` in time order, ``NAME`` one of ``images`` by its file name (or its index from 0). Anything else is
    an :class:`OptionError` naming the file, the line and what is valid."""
    where = f"cue file {str(path)!r}"
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OptionError(f"{where} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OptionError(f"{where} cannot be read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise OptionError(f"{where} is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(entries, list) or not entries:
        raise OptionError(f"{where} must be a non-empty JSON list of {{\"picture\": NAME, \"start\": SECONDS}} or "
                          "{\"picture\": NAME, \"section\": N}")
    names = [Path(image).name for image in images]
    cues = []
    for number, entry in enumerate(entries, start=1):
        line = f"{where}, entry {number}"
        if not isinstance(entry, dict) or "picture" not in entry or len(set(entry) & {"start", "section"}) != 1 \
                or set(entry) - {"picture", "start", "section"}:
            raise OptionError(f"{line}: {json.dumps(entry)} must be {{\"picture\": NAME, \"start\": SECONDS}} or "
                              "{\"picture\": NAME, \"section\": N}")
        picture = entry["picture"]
        if isinstance(picture, int) and not isinstance(picture, bool) and 0 <= picture < len(names):
            index = picture
        elif isinstance(picture, str) and Path(picture).name in names:
            index = names.index(Path(picture).name)
        else:
            raise OptionError(f"{line}: picture {picture!r} is not one of the images {names} (or 0-{len(names) - 1})")
        start, section = entry.get("start"), entry.get("section")
        if start is not None and not (isinstance(start, (int, float)) and not isinstance(start, bool)
                                      and np.isfinite(start) and start >= 0):
            raise OptionError(f"{line}: start {start!r} must be a number of seconds >= 0")
        if section is not None and not (isinstance(section, int) and not isinstance(section, bool) and section >= 1):
            raise OptionError(f"{line}: section {section!r} must be a whole number from 1 (the first section)")
        cues.append(Cue(index, None if start is None else float(start), section))
    return cues


def changes(count: int, sections: Sections, fps: Fraction, frames: int, *, start: float = 0.0,
            cues: Sequence[Cue] | None = None, cue_file: str = "the cue file") -> list[Change]:
    """Where each picture of ``count`` begins: frame 0 the first, then at the ``count - 1`` strongest section
    boundaries, in order; or where ``cues`` say (seconds of the song: the excerpt starts at ``start``; the last cue
    at or before it opens the video, the first image before any cue). Too few sections, cues out of order, past the
    excerpt's end or naming a section the song does not have are :class:`OptionError` s."""
    if cues is None:
        found = sections.boundaries.size
        if found < count - 1:
            raise OptionError(f"{count} pictures need {count - 1} changes of section, but the song has "
                              f"{found + 1} section{'s' if found else ''} ({found} change{'s' if found != 1 else ''}); "
                              "give fewer images, or a cue file (--cue) with their times")
        return [Change(0, 0), *(Change(int(frame), index + 1)
                                for index, frame in enumerate(sections.strongest(count - 1)))]
    starts = [0, *(int(frame) for frame in sections.boundaries)]  # section n starts at starts[n - 1]
    out = [Change(0, 0)]
    last = -1
    for number, cue in enumerate(cues, start=1):
        if cue.section is not None:
            if cue.section > len(starts):
                raise OptionError(f"{cue_file}, entry {number}: section {cue.section}, but the song has "
                                  f"{len(starts)} sections (more changes than sections)")
            frame = starts[cue.section - 1]
        else:
            assert cue.start is not None
            frame = max(0, round((cue.start - start) * float(fps)))
            if frame >= frames:
                raise OptionError(f"{cue_file}, entry {number}: start {cue.start:g} s is past the end of the "
                                  f"excerpt ({start + frames / float(fps):.2f} s)")
        if frame < last or (frame == last and frame > 0):
            raise OptionError(f"{cue_file}, entry {number}: its time is before the entry above it (cues go in time "
                              "order)")
        last = frame
        if frame == 0:
            out = [Change(0, cue.picture)]
        elif cue.picture != out[-1].picture:
            out.append(Change(frame, cue.picture))
    return out


def even_pace(mixed: Callable[[float], np.ndarray]) -> np.ndarray:
    """float64 [:data:`PACE_POINTS`]: the shares of the next picture, at evenly spaced times through a transition,
    at which the frames change by the same amount each frame. ``mixed(share)`` is a small preview (gray levels) of
    the network with that share of the next picture and z held still."""
    grid = np.linspace(0.0, 1.0, PACE_POINTS)
    looks = np.stack([mixed(float(share)).astype(np.float64) for share in grid])
    steps = np.abs(np.diff(looks, axis=0)).reshape(PACE_POINTS - 1, -1).mean(axis=1) + 1e-9
    travelled = np.concatenate([[0.0], np.cumsum(steps)])
    return np.interp(np.linspace(0.0, travelled[-1], PACE_POINTS), travelled, grid)


def steady_gains(spread: Callable[[float], float]) -> np.ndarray:
    """float64 [:data:`PACE_POINTS`]: the latents' gain at evenly spaced shares of the next picture (as
    :func:`even_pace` lays them) that keeps the music moving the in-between pictures as much as it moves the two
    pictures either side. ``spread(share)``: how much z moves a preview of the network with that share (gray levels
    about the preview's mean frame). Between its codes the network was never fitted, and answers z up to 3 times as
    much there (two synthetic pictures at 64²: 6.4 and 7.4 gray levels on the pictures, 18.7 halfway); the gain is
    never above 1."""
    grid = np.linspace(0.0, 1.0, PACE_POINTS)
    found = np.array([spread(float(share)) for share in grid])
    wanted = (1.0 - grid) * found[0] + grid * found[-1]
    return np.minimum(1.0, wanted / np.maximum(found, 1e-9))


def steadied(latents: np.ndarray, shares: np.ndarray, changes: Sequence[Change], gains: Sequence[np.ndarray],
             centre: np.ndarray) -> np.ndarray:
    """``latents`` with each transition's rows moved toward ``centre`` by their :func:`steady_gains` (``gains[i]``
    for change ``i + 1``, read at the row's share of the next picture)."""
    out = latents.copy()
    grid = np.linspace(0.0, 1.0, PACE_POINTS)
    for before, change, gain in zip(changes[:-1], changes[1:], gains, strict=True):
        rows = np.arange(before.frame, change.frame)
        rows = rows[(shares[rows, change.picture] > 0) & (shares[rows, change.picture] < 1)]
        at = np.interp(shares[rows, change.picture], grid, gain)[:, None]
        out[rows] = (centre + at * (latents[rows] - centre)).astype(latents.dtype)
    return out


def shares(changes: Sequence[Change], count: int, frames: int, beats: np.ndarray, transition: int,
           paces: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """float32 [frames, count]: each frame's share of each picture. Each change after the first is reached over
    the ``transition`` beats before its frame (from the beat that many beats before the latest beat at or before
    it; by the median beat's length where the beats run out), at ``paces[i]`` (:func:`even_pace`, for change
    ``i + 1``; linear without)."""
    out = np.zeros((frames, count), np.float32)
    period = float(np.median(np.diff(beats))) if beats.size >= 2 else 15.0
    for index, change in enumerate(changes):
        end = changes[index + 1].frame if index + 1 < len(changes) else frames
        out[change.frame:end, change.picture] = 1.0
    for index, change in enumerate(changes[1:]):
        before = changes[index]
        at = int(np.searchsorted(beats, change.frame, side="right")) - 1  # the latest beat at or before the change
        first = int(beats[at - transition]) if at - transition >= 0 and beats[at] == change.frame \
            else round(change.frame - transition * period)
        first = max(first, before.frame + 1, 0)
        length = change.frame - first
        if length <= 0:
            continue
        progress = (np.arange(length) + 1.0) / (length + 1.0)  # neither end: the frames either side are whole
        pace = paces[index] if paces is not None else np.linspace(0.0, 1.0, PACE_POINTS)
        share = np.interp(progress, np.linspace(0.0, 1.0, PACE_POINTS), pace).astype(np.float32)
        out[first:change.frame] = 0.0
        out[first:change.frame, before.picture] = 1.0 - share
        out[first:change.frame, change.picture] += share
    return out
