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
import logging
import os
import socket
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..api import render_spec
from ..draw import cpu_threads
from ..errors import NeuromvError, OptionError, OutputError
from ..io.files import partial_files, sweep_partial_files
from ..io.heap import peak_mb
from ..look import flashes, sharpen
from ..network import cppn
from ..prepared import fit_network
from ..spec import RenderSpec
from .manifest import FITS, LEDGER, Job, Ledger, read_manifest

log = logging.getLogger("neuromv")

#: Retries of a job whose worker or node died (a job's own error is not retried).
RETRIES = 3
#: Sessions asked of a Ray Client server that fails to start one (it can, under load) before giving up.
CLIENT_ATTEMPTS = 3
#: Seconds the driver waits for cancelled renders to end before it sweeps their partial files.
CANCEL_WAIT = 20.0


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
            fit_network(spec)
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
    """Compile the numba kernels a render runs (the flash counter, the sharpening pass), here, once, into numba's
    on-disk cache, before any worker starts. Workers of a fresh install that compile the same cached kernel at once
    can load each other's half-written cache and crash (seen: SIGSEGV, two workers on one machine). Workers on other
    machines compile their own; see docs/batch.md."""
    sharpen.sharpen(torch.zeros((1, 8, 8, 3), dtype=torch.uint8), 0.5)
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
        target = job.target
        if job.key in done and target.is_file():
            ledger.append(job, "skipped", path=str(job.target))
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
        fits: dict[str | None, tuple[str | None, Any]] = {}
        pending: dict[Any, Job] = {}
        finished: set[str] = set()
        try:
            groups: dict[str, list[Job]] = {}
            for job in todo:
                if job.fit_key is not None:
                    groups.setdefault(job.fit_key, []).append(job)
            for fit_key, members in groups.items():
                if len(members) > 1:  # one fit, every size rendered from it
                    saved = str(out / FITS / f"{fit_key}.pt")
                    fits[fit_key] = (saved, fit.remote(members[0].spec.to_json(), saved, cpus))
            for job in todo:
                model, fitted = fits.get(job.fit_key, (None, None))
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
                        sweep_partial_files(job.target)
                    else:
                        ledger.append(job, "done", path=str(job.target), **facts)
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
        target = job.target
        while True:
            sweep_partial_files(target)
            if not partial_files(target) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
