"""The exceptions neuromv raises for problems a user can fix.

Every message repeats the offending value and says what is valid, in one line, so the CLI can print it as is.
Anything else that escapes the library is a bug.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(value: object, choices: Iterable[object], otherwise: str = "") -> str:
    """``" (did you mean 'x'?)"`` with the valid choice nearest to ``value``, or ``otherwise`` when none is near."""
    close = difflib.get_close_matches(str(value), [str(choice) for choice in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else otherwise


class NeuromvError(Exception):
    """Base class: a run that could not be done as asked (the CLI exits 1)."""

    exit_code = 1


class OptionError(NeuromvError, ValueError):
    """An impossible option value, e.g. ``fps=0`` (the CLI exits 2)."""

    exit_code = 2


class AudioError(NeuromvError):
    """The song is missing, unreadable, silent or too short."""


class ImageError(NeuromvError):
    """The cover image is missing or unreadable."""


class ModelError(NeuromvError):
    """A saved CPPN could not be loaded or does not fit the options."""


class OutputError(NeuromvError):
    """The output path cannot be written (missing folder, no permission, exists without overwrite)."""


class FFmpegError(NeuromvError):
    """FFmpeg is missing or failed; the message carries FFmpeg's last words."""
