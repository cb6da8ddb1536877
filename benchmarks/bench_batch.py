"""What does Ray cost and buy for a catalogue? A 12-song manifest rendered three ways on this machine, and a 10 000-song
catalogue at 1080p on paper from the measured per-frame figures.

    python benchmarks/bench_batch.py                      # songs: the held-out package of scripts/train_features.py
    python benchmarks/bench_batch.py --songs DIR --seconds 10 --size 128

1. plain: one process calling ``neuromv.render()`` for each song in turn, with every core (the baseline);
2. ray x1: ``neuromv batch`` on a local Ray, one job at a time with every core (``--cpus-per-job`` = the cores);
3. ray x2 ...: as many jobs at once as there are cores, one core each.

Each runs in a fresh process (imports, Ray's start-up and its workers' start-up included in the wall time). Ray's
start-up: from the batch's call to its first render starting (the manifest read, Ray and a worker started, neuromv
imported there). Its overhead per job after that: (the first render's start to the last's end - the renders' own
seconds / the jobs at once) / jobs: scheduling, the tasks' arguments and results, the ledger. Peak memory: the driver's and each
worker's VmHWM, and the largest resident size of Ray's head processes (GCS, raylet) sampled while it runs.
Then a 1080p render here gives the frames/s that the catalogue estimate scales.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from neuromv.io.heap import peak_mb

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SONGS = Path.home() / ".cache" / "neuromv-music" / "singularity-music"


def songs(folder: Path, count: int) -> list[Path]:
    from neuromv.music import learned

    found = learned.find_songs([folder]) if folder.is_dir() else []
    found = found or [ROOT / "examples" / "vibe_ace_30s.ogg", ROOT / "examples" / "metal_madness_30s.ogg"]
    return [found[i % len(found)] for i in range(count)]


class HeadSampler(threading.Thread):
    """The largest resident size seen of Ray's head processes (gcs_server, raylet), summed, while it runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.25):
            total = 0.0
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        name = (entry / "comm").read_text().strip()
                    except OSError:
                        continue
                    if name in ("gcs_server", "raylet"):
                        total += peak_mb(entry.name, "VmRSS") or 0.0
            self.peak = max(self.peak, total)


def run_mode(mode: str, manifest: Path, out: Path) -> dict:
    """One mode, in this (fresh) process."""
    started = time.perf_counter()
    import neuromv
    from neuromv.batch import render_batch

    lines = [json.loads(text) for text in manifest.read_text().splitlines()]
    cores = os.cpu_count() or 1
    if mode == "plain":
        imported = time.perf_counter()
        for line in lines:
            neuromv.render(**{**line, "output": str(out / line["output"])}, quiet=True, overwrite=True)
        return {"wall": time.perf_counter() - started, "imports": imported - started, "jobs": len(lines),
                "at_once": 1, "driver_mb": peak_mb()}
    at_once = int(mode.removeprefix("ray x"))
    sampler = HeadSampler()
    sampler.start()
    clock = time.time()
    result = render_batch(manifest, out, cpus_per_job=cores // at_once, quiet=True)
    sampler.stop.set()
    wall, ended = time.perf_counter() - started, time.time()
    entries = [json.loads(t) for t in (out / "results.jsonl").read_text().splitlines()]
    done = [e for e in entries if e["status"] == "done"]
    assert result.ok and len(done) == len(lines), result
    busy = sum(e["seconds"] for e in done)
    first = min(e["started"] for e in done)
    return {"wall": wall, "jobs": len(lines), "at_once": at_once, "render_seconds": busy,
            "start_up": first - clock,
            "overhead_per_job": ((ended - first) - busy / at_once) / len(lines), "driver_mb": peak_mb(),
            "worker_mb": max(e["peak_mb"] for e in done), "head_mb": sampler.peak,
            "workers": len({e["pid"] for e in done})}


def per_frame_1080p(song: Path, seconds: float) -> float:
    """Frames/s of a 1080p render here (every core), end to end."""
    import neuromv

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        neuromv.render(song, Path(folder) / "hd.mp4", size="1920x1080", start=10, duration=seconds, quiet=True)
        return round(seconds * 30 / (time.perf_counter() - started), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=Path, default=DEFAULT_SONGS, help="a folder of songs (12 taken)")
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=10.0, help="the excerpt of each song")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--hd-seconds", type=float, default=4.0, help="the 1080p excerpt timed")
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--manifest", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:  # a child: one mode
        print(json.dumps(run_mode(args.mode, args.manifest, args.out)))
        return
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "catalogue.jsonl"
        manifest.write_text("".join(json.dumps({"song": str(song), "size": args.size, "start": 10.0,
                                                "duration": args.seconds, "output": f"{i:02d}.mp4"}) + "\n"
                                    for i, song in enumerate(songs(args.songs, args.count))))
        figures = {}
        for mode in ["plain", "ray x1", f"ray x{cores}"] if cores > 1 else ["plain", "ray x1"]:
            out = Path(folder) / mode.replace(" ", "")
            out.mkdir()
            done = subprocess.run([sys.executable, __file__, "--mode", mode, "--manifest", str(manifest),
                                   "--out", str(out)], capture_output=True, text=True, check=True)
            figures[mode] = json.loads(done.stdout.strip().splitlines()[-1])
            print(mode, figures[mode], flush=True)
        hd = per_frame_1080p(songs(args.songs, 1)[0], args.hd_seconds)
    frames = args.count * args.seconds * 30
    base = figures["plain"]["wall"]
    print(f"\n{args.count} songs x {args.seconds:g} s at {args.size}x{args.size} ({frames:.0f} frames), "
          f"{cores} cores")
    print("| run | wall | videos/min | vs plain | Ray's start-up | Ray's overhead per job | "
          "peak: driver / a worker / Ray's head |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for mode, f in figures.items():
        overhead = f"{f['start_up']:.1f} s | {f['overhead_per_job']:.2f} s" if "start_up" in f else "- | -"
        memory = f"{f['driver_mb']:.0f} MB" + (f" / {f['worker_mb']:.0f} MB / {f['head_mb']:.0f} MB"
                                              if "worker_mb" in f else "")
        print(f"| {mode} | {f['wall']:.1f} s | {f['jobs'] / f['wall'] * 60:.1f} | {base / f['wall']:.2f}x | "
              f"{overhead} | {memory} |")
    minutes, catalogue = 3.5, 10_000
    total = catalogue * minutes * 60 * 30
    print(f"\n1080p end to end here: {hd} frames/s. A catalogue of {catalogue} songs x {minutes} min at 30 fps = "
          f"{total / 1e6:.0f} M frames:")
    for nodes in (1, 10, 100):
        print(f"  {nodes} node(s) like this one: {total / (hd * nodes) / 86400:.1f} days")


if __name__ == "__main__":
    main()
