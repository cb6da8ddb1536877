"""``neuromv batch``: a catalogue of renders on Ray, resumable, idempotent, surviving killed workers and lost nodes.

A manifest (JSON Lines: one object a line, with :func:`render`'s keyword names) -> :class:`Job` s (each line checked
on its own and named by the hash of its spec and its inputs' content) -> Ray tasks (one fit per song and cover that
several jobs share, saved beside the videos; then one render per job) -> each video written atomically to its final
path by the worker (never through Ray's object store) -> the ledger ``results.jsonl`` in the output folder, one line
per job and outcome, written by this process alone. A rerun skips the jobs the ledger records as done.

Ray is the engine (``pip install "neuromv[cluster]"``): started on this machine's cores, on loopback, when no address
is given; otherwise the existing cluster at ``address`` (``HOST:PORT`` or ``ray://HOST:10001``), whose workers must
see the manifest's paths and the output folder at the same places (shared storage) and have neuromv installed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import logging
import os
import socket
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePath
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .out import provenance as record
from .network import cppn
from .look import flashes, presets
from .errors import NeuromvError, OptionError, OutputError
from .io.files import content_hash
from .io.heap import peak_mb
from .api import prepare, render_spec, resolve
from .render import cpu_threads
from .spec import RenderSpec, fields
from .out.video import sweep_partial_files

log = logging.getLogger("neuromv")

#: The ledger's name in the output folder.
LEDGER = "results.jsonl"
#: Where shared fits are kept in the output folder.
FITS = Path(".neuromv") / "fits"
#: Fields a manifest line may not set: the batch sets them (threads from the resources a job is given).
SET_BY_BATCH = ("threads", "overwrite", "quiet", "save_model")
#: Fields that change a video's frames but not the fitted network: jobs differing only in these share one fit.
RENDER_ONLY = ("size", "preset", "crf", "x264_preset", "encoder", "batch_size", "precision", "layout", "labels")
#: Retries of a job whose worker or node died (a job's own error is not retried).
RETRIES = 3
#: Sessions asked of a Ray Client server that fails to start one (it can, under load) before giving up.
CLIENT_ATTEMPTS = 3
#: Seconds the driver waits for cancelled renders to end before it sweeps their partial files.
CANCEL_WAIT = 20.0


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


@dataclass
class BatchResult:
    """What a batch did: the counts, and ``failed`` as (manifest line, one-line reason). ``ok``: every job done."""

    done: int = 0
    skipped: int = 0
    failed: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    cancelled: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled


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
    """The SHA-256 of the song and of each input :func:`record.input_hashes` names, each file hashed once a
    manifest (``hashes``, by path). ``resolve()`` has read the others: only the song can still be missing."""
    if not Path(spec.song).is_file():
        raise NeuromvError(f"song {spec.song!r} does not exist")

    def digest(path: str) -> str:
        if path not in hashes:
            hashes[path] = content_hash(path)
        return hashes[path]

    return {"song_sha256": digest(spec.song), **record.input_hashes(spec, digest)}


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
        how = presets.load(spec.preset).fit  # the preset decides how the cover is fitted
        framed = {"frame": str(Fraction(*spec.frame_size))} if how == "faithful" else {}  # and the frame's part of it
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
    """``results.jsonl``: one JSON object a line and outcome (``done``, ``failed``, ``skipped``), appended and flushed
    as each job ends, so a batch stopped in any way keeps what it finished. A torn last line is ignored."""

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
        return {entry.get("key") for entry in self.entries() if entry.get("status") == "done"}

    def append(self, job_or_line: Job | int, status: str, **facts: Any) -> None:
        """Record one outcome (``facts``: path, seconds, node ... or reason)."""
        if isinstance(job_or_line, Job):
            head = {"line": job_or_line.line, "key": job_or_line.key, "output": job_or_line.output}
        else:
            head = {"line": job_or_line}
        entry = {**head, "status": status, **facts,
                 "at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        try:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise OutputError(f"cannot write the ledger {str(self.path)!r} ({exc.strerror})") from None


# --- what the workers run ----------------------------------------------------------------------------------------

def _where() -> dict[str, Any]:
    """The node, host and process a task runs in, and its peak memory so far (MB)."""
    import ray

    peak = peak_mb()
    return {"node": ray.get_runtime_context().get_node_id(), "host": socket.gethostname(), "pid": os.getpid(),
            "peak_mb": round(peak, 1) if peak is not None else None}


def fit_task(spec_json: str, model: str, threads: int) -> dict[str, Any]:
    """A Ray task: fit the network of ``spec`` and save it to ``model`` (atomically); a fit already there is kept."""
    started = time.perf_counter()
    if not Path(model).is_file():
        spec = RenderSpec.from_json(spec_json).replace(save_model=model, threads=threads, quiet=True)
        with cpu_threads(threads):
            prepare(spec)
    return {"seconds": round(time.perf_counter() - started, 3), **_where()}


def render_task(spec_json: str, model: str | None, threads: int, tracker: Any, key: str,
                fitted: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Ray task: render ``spec`` (with the shared fit ``model`` when given; ``fitted``, its fit task's result, makes
    Ray run this after it) straight to its output path. Returns where and how long."""
    tracker.start.remote(key)
    started, clock = time.perf_counter(), time.time()
    spec = RenderSpec.from_json(spec_json).replace(threads=threads)
    render_spec(spec, cppn.load(model)[0] if model is not None else None)
    return {"seconds": round(time.perf_counter() - started, 3), "started": round(clock, 3), **_where()}


class Tracker:
    """A Ray actor on no CPU: the jobs whose render has started, for the progress bar's running count."""

    def __init__(self) -> None:
        self.started: set[str] = set()

    def start(self, key: str) -> None:
        self.started.add(key)

    def keys(self) -> set[str]:
        return self.started


# --- the driver --------------------------------------------------------------------------------------------------

def _compile_kernels() -> None:
    """Compile the numba kernels a render runs (librosa's beat tracker, the flash counter), here, once, into
    numba's on-disk cache, before any worker starts. Workers of a fresh install that compile the same cached kernel at
    once can load each other's half-written cache and crash (seen: SIGSEGV in librosa's beat tracker, two workers on
    one machine). Workers on other machines compile their own; see docs/batch.md."""
    from .io.audio import Audio
    from .music.bank import feature_bank

    seconds = 2.0
    t = np.arange(int(22050 * seconds), dtype=np.float32) / 22050
    clicks = (np.sin(2 * np.pi * 220 * t) * (np.mod(t, 0.5) < 0.05)).astype(np.float32)[None]
    feature_bank(Audio(clicks, 22050, Path("kernels.wav")), 30)
    flashes.flashes(np.zeros((4, 2 * flashes.GRID, 2 * flashes.GRID, 3), np.uint8), 30.0)


@contextlib.contextmanager
def _ray(address: str | None) -> Iterator[Any]:
    """Ray connected to ``address``, or started on this machine's cores on loopback; shut down (or disconnected)
    afterwards."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address is None:  # a local instance listens on 127.0.0.1 only (read when ray is first imported)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise NeuromvError('neuromv batch needs Ray: pip install "neuromv[cluster]"') from None
    options: dict[str, Any] = dict(log_to_driver=False, logging_level=logging.ERROR)
    if address is None:
        options.update(include_dashboard=False, _node_ip_address="127.0.0.1")
    for attempt in range(CLIENT_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the client's own timeout warning: the error below says it once
                ray.init(address=address, **options)
            break
        except ConnectionAbortedError as exc:  # a Ray Client server that failed to start this session's server
            if attempt + 1 == CLIENT_ATTEMPTS:
                raise NeuromvError(f"the Ray Client server at {address!r} could not start a session "
                                   f"{CLIENT_ATTEMPTS} times ({_last_line(exc)}); see ray_client_server*.err in "
                                   "the head's /tmp/ray/session_latest/logs") from None
            time.sleep(2.0 * (attempt + 1))
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise NeuromvError(f"cannot connect to the Ray cluster at {address!r} "
                               f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); is it running? "
                               "(ray start --head, or leave --address out to start one here)") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _last_line(exc: BaseException) -> str:
    """The last non-blank line of an error's text (the server's own error, under a remote traceback)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def _reachable(address: str) -> None:
    """Refuse at once an address nothing listens at (Ray itself retries for minutes)."""
    if address in ("auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise OptionError(f"address={address!r} must be HOST:PORT (the head's GCS, e.g. 10.0.0.1:6379) or "
                          "ray://HOST:PORT (its Ray Client server, e.g. ray://head:10001)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise NeuromvError(f"cannot connect to the Ray cluster at {address!r}: nothing answers at {host}:{port} "
                           f"({exc.strerror or type(exc).__name__}); start it (ray start --head) or leave --address "
                           "out to start Ray here") from None


def _reason(exc: BaseException, retries: int) -> str:
    """One line for a failed task: the job's own error as neuromv said it, or how its worker was lost."""
    import ray.exceptions as rex

    cause = getattr(exc, "cause", None) if isinstance(exc, rex.RayTaskError) else None
    if isinstance(cause, NeuromvError):
        return str(cause)
    if cause is not None:
        return f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}".rstrip(": ")
    if isinstance(exc, (rex.WorkerCrashedError, rex.NodeDiedError, rex.OutOfMemoryError, rex.RaySystemError)):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"its worker was lost {retries + 1} times ({type(exc).__name__}: {first})"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


def _resources(ray: Any, cpus: int) -> dict[str, Any]:
    """What one render asks Ray for: a GPU (and ``cpus`` CPUs) where the cluster has GPUs, else ``cpus`` CPUs."""
    gpus = ray.cluster_resources().get("GPU", 0)
    return dict(num_cpus=cpus, num_gpus=1 if gpus > 0 else 0)


def render_batch(manifest: str | Path, out: str | Path, *, address: str | None = None, cpus_per_job: int = 1,
          retries: int = RETRIES, quiet: bool = False) -> BatchResult:
    """Render every job of ``manifest`` into the folder ``out`` on Ray, and record each outcome in ``out``'s ledger.

    ``address``: an existing Ray cluster (default: one started here). ``cpus_per_job``: the CPUs (and render threads)
    each job is given; a job gets a GPU as well where the cluster has them. ``retries``: of a job whose worker or
    node died. A line that is not a job, or whose render fails by itself, fails alone and at once (logged, and in
    the ledger). Ctrl-C (KeyboardInterrupt) cancels the running renders, removes their partial files and re-raises.
    """
    if not (isinstance(cpus_per_job, int) and 1 <= cpus_per_job <= 256):
        raise OptionError(f"cpus_per_job={cpus_per_job!r} must be a whole number of CPUs from 1 to 256")
    if not (isinstance(retries, int) and 0 <= retries <= 100):
        raise OptionError(f"retries={retries!r} must be a whole number from 0 to 100")
    if address is not None:
        _reachable(address)
    out = Path(out)
    try:
        (out / FITS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {str(out)!r} ({exc.strerror})") from None
    ledger = Ledger(out / LEDGER)
    result = BatchResult()
    jobs, bad = read_manifest(manifest, out)
    for number, reason in bad:
        log.error("line %d: %s", number, reason)
        ledger.append(number, "failed", reason=reason)
        result.failed.append((number, reason))
    done = ledger.done()
    todo = []
    for job in jobs:
        target = Path(job.spec.output)
        if job.key in done and target.is_file():
            ledger.append(job, "skipped", path=job.spec.output)
            result.skipped += 1
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = f"cannot create the folder {str(target.parent)!r} ({exc.strerror})"
            log.error("line %d: %s", job.line, reason)
            ledger.append(job, "failed", reason=reason)
            result.failed.append((job.line, reason))
            continue
        todo.append(job)
    with tqdm(total=len(jobs) + len(bad), initial=len(bad) + result.skipped, desc="batch", unit="video",
              disable=quiet, dynamic_ncols=True) as bar:
        if todo:
            _compile_kernels()
            _run(todo, out, ledger, result, bar, address=address, cpus=cpus_per_job, retries=retries)
    return result


def _run(todo: list[Job], out: Path, ledger: Ledger, result: BatchResult, bar: Any, *, address: str | None,
         cpus: int, retries: int) -> None:
    """Submit the jobs (and their shared fits) to Ray and record each outcome as it comes."""
    with _ray(address) as ray:
        asks = _resources(ray, cpus)
        fit = ray.remote(fit_task).options(**asks, max_retries=retries)
        render = ray.remote(render_task).options(**asks, max_retries=retries)
        tracker = ray.remote(num_cpus=0)(Tracker).remote()
        fits: dict[str, tuple[str, Any]] = {}
        pending: dict[Any, Job] = {}
        finished: set[str] = set()
        try:
            groups: dict[str, list[Job]] = {}
            for job in todo:
                if job.fit_key is not None:
                    groups.setdefault(job.fit_key, []).append(job)
            for fit_key, members in groups.items():
                if len(members) > 1:  # one fit, every size rendered from it
                    model = str(out / FITS / f"{fit_key}.pt")
                    fits[fit_key] = (model, fit.remote(members[0].spec.to_json(), model, cpus))
            for job in todo:
                model, fitted = fits.get(job.fit_key, (None, None)) if job.fit_key is not None else (None, None)
                pending[render.remote(job.spec.to_json(), model, cpus, tracker, job.key, fitted)] = job
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                for ref in ready:
                    job = pending.pop(ref)
                    finished.add(job.key)
                    try:
                        facts = ray.get(ref)
                    except Exception as exc:  # the job's own error, or its worker lost past the retries
                        reason = _reason(exc, retries)
                        log.error("line %d: %s", job.line, reason)
                        ledger.append(job, "failed", reason=reason)
                        result.failed.append((job.line, reason))
                        sweep_partial_files(Path(job.spec.output))
                    else:
                        ledger.append(job, "done", path=job.spec.output, **facts)
                        result.done += 1
                    bar.update(1)
                with contextlib.suppress(Exception):
                    running = len(ray.get(tracker.keys.remote(), timeout=5) - finished)
                    bar.set_postfix_str(f"done {result.done + result.skipped} · failed {len(result.failed)} · "
                                        f"running {running}", refresh=False)
        except KeyboardInterrupt:
            result.cancelled = len(pending)
            _cancel(ray, pending, [ref for _, ref in fits.values()])
            raise


def _cancel(ray: Any, pending: dict[Any, Job], fits: list[Any]) -> None:
    """Stop the running and queued renders (their workers killed, and with them FFmpeg), then remove their partial
    files; the videos already done and the ledger stay as they are."""
    refs = list(pending) + fits
    for ref in refs:
        with contextlib.suppress(Exception):
            ray.cancel(ref, force=True)
    deadline = time.monotonic() + CANCEL_WAIT
    with contextlib.suppress(Exception):
        ray.wait(refs, num_returns=len(refs), timeout=CANCEL_WAIT)
    for job in pending.values():  # a partial file is locked until its render's process is gone
        target = Path(job.spec.output)
        while True:
            sweep_partial_files(target)
            if not any(target.parent.glob(f".{target.name}.*.part")) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
