"""End to end against another revision of neuromv, in the same run: speed and peak memory of ``neuromv.render()``.

    python benchmarks/bench_against.py c892be6                            # 256x256 and 512x512, 60 s songs
    python benchmarks/bench_against.py HEAD~3 --sizes 256x256 --seconds 30 --minutes 10

Checks out REV into a temporary git worktree and renders the same song with each tree in a fresh process, the two
taking turns ``--repeats`` times (a shared machine wanders by 10-30 %); prints the best run of each, CPU included
(FFmpeg's too), and the peak RSS. The song is the example song looped to ``--seconds`` (and, with ``--minutes``, a
long synthetic one for memory). Only the API both revisions share is used: ``render(song, output, size=...)``.
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
from bench_render import looped_song, synthetic_song  # noqa: E402

CHILD = """
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
import neuromv
t, c = time.perf_counter(), os.times()
out = neuromv.render(sys.argv[2], sys.argv[3], size=sys.argv[4], quiet=True, overwrite=True)
wall, d = time.perf_counter() - t, os.times()
cpu = sum(getattr(d, k) - getattr(c, k) for k in ("user", "system", "children_user", "children_system"))
rss = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
frames = neuromv.read_frames(out, size=(16, 16), gray=True).shape[0]
print(json.dumps({"file": neuromv.__file__, "fps": frames / wall, "cpu_ms": 1000 * cpu / frames, "rss": rss}))
"""


def run(tree: Path, song: Path, out: Path, size: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(song), str(out), size], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["file"].startswith(str(tree)), f"{result['file']} is not from {tree}"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rev", help="the revision to compare with (a commit, tag or branch)")
    parser.add_argument("--sizes", nargs="+", default=["256x256", "512x512"])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the looped example song")
    parser.add_argument("--minutes", type=float, help="also a synthetic song this long, for peak RSS")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root = HERE.parent
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "rev"
        subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(worktree), args.rev], check=True,
                       capture_output=True)
        try:
            songs = [("looped example", looped_song(args.seconds, Path(tmp) / "song.wav"), args.sizes)]
            if args.minutes:
                songs.append((f"{args.minutes:g} min synthetic", synthetic_song(args.minutes, Path(tmp) / "long.wav"),
                              args.sizes[:1]))
            print(f"| song | size | {args.rev} frames/s | this tree frames/s | ratio | {args.rev} CPU ms/frame | "
                  f"this tree CPU ms/frame | {args.rev} peak RSS MB | this tree peak RSS MB |")
            print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
            for label, song, sizes in songs:
                for size in sizes:
                    runs: dict[str, list[dict]] = {"rev": [], "tree": []}
                    for _ in range(args.repeats):  # taking turns
                        for key, tree in (("rev", worktree), ("tree", root)):
                            runs[key].append(run(tree, song, Path(tmp) / "out.mp4", size))
                    old, new = (max(runs[key], key=lambda r: r["fps"]) for key in ("rev", "tree"))
                    print(f"| {label} | {size} | {old['fps']:.1f} | {new['fps']:.1f} | {new['fps'] / old['fps']:.2f}x | "
                          f"{old['cpu_ms']:.2f} | {new['cpu_ms']:.2f} | {min(r['rss'] for r in runs['rev']):.0f} | "
                          f"{min(r['rss'] for r in runs['tree']):.0f} |", flush=True)
        finally:
            subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(worktree)], check=False,
                           capture_output=True)


if __name__ == "__main__":
    main()
