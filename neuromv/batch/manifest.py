"""A batch's manifest and ledger: JSON Lines in, one checked :class:`Job` a line (named by the hash of its spec and
its inputs' content), and ``results.jsonl``, one line per job and outcome, appended and flushed as each ends."""


from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePath
from typing import Any

from ..errors import NeuromvError, OptionError, OutputError
from ..io.files import content_hash, write_atomically
from ..look import presets
from ..prepared import input_hashes, resolve
from ..spec import RenderSpec, fields

log = logging.getLogger("neuromv")

#: The ledger's name in the output folder.
LEDGER = "results.jsonl"
#: Where shared fits are kept in the output folder.
FITS = Path(".neuromv") / "fits"
#: Fields a manifest line may not set: the batch sets them (threads from the resources a job is given).
SET_BY_BATCH = ("threads", "overwrite", "quiet", "save_model")
#: Fields that change a video's frames but not the fitted network: jobs differing only in these share one fit.
RENDER_ONLY = ("size", "preset", "crf", "x264_preset", "encoder", "batch_size", "precision", "layout", "labels")


@dataclass(frozen=True)
class Job:
    """One manifest line, checked: its spec (paths absolute, ``output`` in the output folder), its identity ``key``
    (the hash of the spec and its inputs' content), and ``fit_key`` when its network is fitted to a cover (jobs with
    the same one share the fit)."""

    line: int
    spec: RenderSpec
    output: str
    key: str
    fit_key: str | None

    @property
    def target(self) -> Path:
        """Where the video goes: ``output`` in the output folder, absolute."""
        return Path(self.spec.output or self.output)


# --- the manifest ------------------------------------------------------------------------------------------------

def _path_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields() if f.metadata["path"])


def _absolute(options: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The line's file names, relative ones taken from the manifest's folder (a preset or features .json/.pt too)."""
    resolved = dict(options)
    for name, value in options.items():
        is_file = name in _path_fields() and name not in ("output", "features") or \
            (name == "features" and isinstance(value, str) and value.endswith(".pt")) or \
            (name == "preset" and isinstance(value, str) and value.endswith(".json"))
        if is_file and isinstance(value, str) and value and not os.path.isabs(value):
            resolved[name] = str(folder / value)
        elif is_file and isinstance(value, list):  # a sequence of covers
            resolved[name] = [str(folder / v) if isinstance(v, str) and v and not os.path.isabs(v) else v
                              for v in value]
    return resolved


def _output_of(options: dict[str, Any], song: str) -> str:
    """The line's output, relative to the output folder (default: the song's name with .mp4)."""
    output = options.get("output")
    if output is None:
        return Path(song).with_suffix(".mp4").name
    if not isinstance(output, str) or not output.endswith(".mp4"):
        raise OptionError(f"output={output!r} must be a .mp4 file name, relative to --out")
    relative = PurePath(output)
    if relative.is_absolute() or ".." in relative.parts:
        raise OptionError(f"output={output!r} must be relative to --out and stay inside it (no leading / or ..)")
    return relative.as_posix()


def _inputs(spec: RenderSpec, hashes: dict[str, str]) -> dict[str, str | None]:
    """The SHA-256 of the song and of each input :func:`input_hashes` names, each file hashed once a
    manifest (``hashes``, by path). ``resolve()`` has read the others: only the song can still be missing."""
    if not Path(spec.song_path).is_file():
        raise NeuromvError(f"song {spec.song!r} does not exist")

    def digest(path: str) -> str:
        if path not in hashes:
            hashes[path] = content_hash(path)
        return hashes[path]

    return {"song_sha256": digest(spec.song_path), **input_hashes(spec, digest)}


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def shares_fit(spec: RenderSpec) -> bool:
    """Whether ``spec``'s network is fitted to a cover once for all its panels (what a shared fit can stand for)."""
    return spec.image is not None and spec.steps > 0 and (spec.stems is None or spec.panels != "own")


def _job(number: int, text: str, folder: Path, out: Path, hashes: dict[str, str]) -> Job:
    try:
        options = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OptionError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(options, dict):
        raise OptionError(f"a line must be a JSON object of render options, not {type(options).__name__}")
    for name in SET_BY_BATCH:
        if name in options:
            raise OptionError(f"{name} is set by the batch (threads: from --cpus-per-job); leave it out")
    if options.get("song") is None:
        raise OptionError("no song: every line names one (\"song\": \"a.mp3\")")
    options = _absolute(options, folder)
    output = _output_of(options, str(options["song"]))
    options["output"] = str(out / output)
    spec = resolve(RenderSpec.from_dict(options).replace(overwrite=True, quiet=True))  # the inputs read once here
    inputs = _inputs(spec, hashes)
    recorded = spec.record()
    key = _digest({"spec": recorded, "output": output, "inputs": inputs})
    fit_key = None
    if shares_fit(spec):
        look = presets.load(spec.preset)  # the preset decides how the cover is fitted
        how = look.fit
        framed = {"frame": str(Fraction(*spec.panel_size))} if look.faithful else {}  # and the frame's part of it
        fit_key = _digest({"spec": {k: v for k, v in recorded.items() if k not in RENDER_ONLY}, "inputs": inputs,
                           "fit": how, **framed})
    return Job(number, spec, output, key, fit_key)


def read_manifest(manifest: str | Path, out: str | Path) -> tuple[list[Job], list[tuple[int, str]]]:
    """The jobs of ``manifest`` (a JSON Lines file) for the output folder ``out``, and the lines that are not jobs as
    (line number, one-line reason). Blank lines and lines starting with ``#`` are skipped."""
    manifest, out = Path(manifest), Path(out)
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise NeuromvError(f"manifest {str(manifest)!r} cannot be read ({getattr(exc, 'strerror', None) or exc})"
                           ) from None
    jobs: list[Job] = []
    bad: list[tuple[int, str]] = []
    outputs: dict[str, int] = {}
    hashes: dict[str, str] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        try:
            job = _job(number, text, manifest.parent, out, hashes)
        except NeuromvError as exc:
            bad.append((number, str(exc)))
            continue
        if job.output in outputs:
            bad.append((number, f"output {job.output!r} is line {outputs[job.output]}'s too; give each line its own"))
            continue
        outputs[job.output] = number
        jobs.append(job)
    if not jobs and not bad:
        raise OptionError(f"manifest {str(manifest)!r} has no jobs (one JSON object a line)")
    return jobs, bad


# --- the ledger --------------------------------------------------------------------------------------------------

class Ledger:
    """``results.jsonl``: one JSON object a line and outcome (``done``, ``failed``, ``skipped``), written as each job
    ends (the whole file again, atomically and synced, by the driver alone), so a batch stopped in any way keeps what it
    finished and a reader never sees a torn line (one left by an older version is ignored)."""

    def __init__(self, path: Path):
        self.path = path

    def entries(self) -> Iterator[dict[str, Any]]:
        """The ledger's entries, oldest first."""
        if not self.path.is_file():
            return
        with open(self.path, encoding="utf-8") as f:
            for text in f:
                with contextlib.suppress(json.JSONDecodeError):
                    entry = json.loads(text)
                    if isinstance(entry, dict):
                        yield entry

    def done(self) -> set[str]:
        """The keys of the jobs recorded as done."""
        return {str(entry.get("key")) for entry in self.entries() if entry.get("status") == "done"}

    def append(self, job_or_line: Job | int, status: str, **facts: Any) -> None:
        """Record one outcome (``facts``: path, seconds, node ... or reason)."""
        if isinstance(job_or_line, Job):
            head = {"line": job_or_line.line, "key": job_or_line.key, "output": job_or_line.output}
        else:
            head = {"line": job_or_line}
        entry = {**head, "status": status, **facts,
                 "at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        before = self.path.read_bytes() if self.path.is_file() else b""
        if before and not before.endswith(b"\n"):  # a line torn by a stopped batch stays one bad line
            before += b"\n"

        def write(temporary: Path) -> None:
            with open(temporary, "wb") as f:
                f.write(before + (json.dumps(entry) + "\n").encode())
                f.flush()
                os.fsync(f.fileno())

        try:
            write_atomically(self.path, write)
        except OSError as exc:
            raise OutputError(f"cannot write the ledger {str(self.path)!r} ({exc.strerror})") from None
