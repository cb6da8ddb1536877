"""Where a render's time goes: each stage of ``neuromv.render()`` timed, for this tree and (``--against REV``)
another revision, in the same run.

    python benchmarks/bench_stages.py                                   # 3 minutes at 512x512 with examples/cover.jpg
    python benchmarks/bench_stages.py --seconds 20 --size 1920x1080
    python benchmarks/bench_stages.py --against 6d5b4e8 --song SONG --cover COVER

Each tree renders in a fresh process, with a fresh cache folder (nothing analysed, separated or compiled by neuromv
before: the first render of a song), its stages timed by wrapping the functions that run them: decode and latents,
the feature bank, the fit (the depth solve of a varied fit included), the searches (motion, latent gain, flash
limit), the sharpening's solve, and the frames with their encoding; the rest (start-up, imports, reading the cover,
muxing) is what is left of the wall time. A function a revision does not have is not timed there. ``--again``
renders a second time in the same cache folder (another look at the same song). The song is the example song looped
to ``--seconds`` unless one is given (cut to ``--seconds``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_render import looped_song  # noqa: E402

#: Stage name -> the (module, function) pairs whose calls it is made of (the outermost call counted once).
STAGES = {
    "decode + latents": [("neuromv.prepared", "song_latents")],
    "feature bank": [("neuromv.prepared", "song_bank")],
    "fit": [("neuromv.prepared", "fit_networks")],
    "searches": [("neuromv.look.motion", "scale_latents"), ("neuromv.look.motion", "scale_motion"),
                 ("neuromv.look.motion", "tame")],
    "sharpening solve": [("neuromv.prepared", "sharpening")],
    "frames + encode": [("neuromv.out.mp4", "write_mp4")],
}

CHILD = r"""
import importlib, json, os, sys, time
sys.path.insert(0, sys.argv[1])
stages, spent, depth = json.loads(sys.argv[2]), {}, [0]
start = time.perf_counter()
import neuromv, neuromv.api

def timed(stage, function):
    def run(*args, **kwargs):
        depth[0] += 1
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - began
    return run

for stage, places in stages.items():
    for module_name, name in places:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        original = getattr(module, name, None)
        if original is not None:
            wrapped = timed(stage, original)
            for other in list(sys.modules.values()):  # and every module that imported it by name
                if str(getattr(other, "__name__", "")).startswith("neuromv") and getattr(other, name, None) is original:
                    setattr(other, name, wrapped)
options = json.loads(sys.argv[3])
neuromv.render(options.pop("song"), options.pop("output"), quiet=True, overwrite=True, **options)
spent["total"] = time.perf_counter() - start
print(json.dumps({"file": neuromv.__file__, "spent": spent}))
"""


def run(tree: Path, options: dict, cache: Path) -> dict:
    """One render by ``tree`` in a fresh process, its cache in ``cache``: the seconds of each stage."""
    env = {"NEUROMV_CACHE": str(cache), "PATH": "/usr/local/bin:/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(tree), json.dumps(STAGES), json.dumps(options)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"render by {tree} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["spent"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--song", help="a song (default: the example song looped to --seconds)")
    parser.add_argument("--cover", default=str(HERE.parent / "examples" / "cover.jpg"), help="'' for none")
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--size", default="512x512")
    parser.add_argument("--against", help="another revision to time in the same run")
    parser.add_argument("--again", action="store_true", help="render a second time with the same cache")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        song = Path(args.song) if args.song else looped_song(args.seconds, folder / "song.wav")
        options = {"song": str(song), "output": str(folder / "out.mp4"), "size": args.size,
                   "duration": args.seconds, **({"image": args.cover} if args.cover else {})}
        trees = {"this tree": HERE.parent}
        if args.against:
            subprocess.run(["git", "-C", str(HERE.parent), "worktree", "add", "--detach", str(folder / "rev"),
                            args.against], check=True, capture_output=True)
            trees[args.against] = folder / "rev"
        results = {}
        try:
            for name, tree in trees.items():
                cache = folder / f"cache-{len(results)}"
                results[name] = run(tree, options, cache)
                if args.again:
                    results[f"{name}, again"] = run(tree, options, cache)
        finally:
            if args.against:
                subprocess.run(["git", "-C", str(HERE.parent), "worktree", "remove", "--force", str(folder / "rev")],
                               capture_output=True)
    print(f"{args.seconds:g} s at {args.size}" + (f" with {Path(args.cover).name}" if args.cover else ", no cover")
          + f" ({song.name})\n")
    names = list(results)
    print("| stage | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    for stage in [*STAGES, "the rest", "total"]:
        cells = []
        for name in names:
            spent = results[name]
            rest = spent["total"] - sum(spent.get(s, 0.0) for s in STAGES)
            value = rest if stage == "the rest" else spent.get(stage)
            cells.append("" if value is None else f"{value:.1f} s ({value / spent['total']:.0%})")
        print(f"| {stage} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
