"""A sequence of covers against one cover: each section's frames scored against its own picture, the transitions,
the fit's cost and the per-frame cost.

    python benchmarks/bench_sequence.py            # two covers on the examples' songs, four on two tuning songs
    python benchmarks/bench_sequence.py --quick    # two covers on one song
    python benchmarks/bench_sequence.py --figure docs/sequence.jpg  # a frame of each section and of a change's middle

Each row renders an excerpt at 256² with the default look, end to end (the fit included), and reads the MP4 back.
Per section (from 10 frames after a change to 40 before the next): every 5th frame's SSIM against its picture as
the render frames it (mean / 10th percentile), detail (the frames' Laplacian energy over the picture's), motion
(gray levels a frame) and reactivity (as neuromv score measures it, on the section alone). The transitions: the
largest change from one frame to the next within them, over the video's median change, and the least that any
pace could give: the change from the frame before to the frame of the change, spread evenly. Whole video: reactivity
and flashes (neuromv score). Then the same song with the first cover alone, for the time. Last, the per-frame
cost: 90 frames at 512² drawn by a one-picture network and by a four-picture one away from its changes (best of
three each).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import neuromv
from neuromv.look.effects import LUMA
from neuromv.network import cppn
from neuromv.network.image import framed_like, load_image, resize_image
from neuromv.scoring import CHANGE_SIDE, lagged, laplacian_energy, onset_strength, ssim, visual_change

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from bench_quality import SONGS, drawn_covers  # noqa: E402

SIZE = 256


def sections(video: Path, covers: list[Path]) -> tuple[list[str], list[str]]:
    """Each section's figures against its own picture, and each transition's largest change a frame."""
    frames = neuromv.read_frames(video).astype(np.float64)
    gray = neuromv.read_frames(video, size=(CHANGE_SIDE, CHANGE_SIDE), gray=True)
    onset = onset_strength(neuromv.read_audio(video, 22050), 22050, 30, gray.shape[0])
    seen = visual_change(gray)
    changes = neuromv.probe(video).metadata["made"]["pictures"]
    pictures = [load_image(path) for path in covers]
    pictures = [pictures[0], *(framed_like(p, pictures[0].shape) for p in pictures[1:])]
    own = [resize_image(p, SIZE, SIZE) * 255.0 for p in pictures]
    change = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    ends = [c["frame"] for c in changes] + [frames.shape[0]]
    rows = []
    for index, entry in enumerate(changes):
        shown = range(ends[index] + 10, ends[index + 1] - 40, 5)
        picture = own[entry["picture"]]
        found = [ssim(frames[k], picture) for k in shown]
        detail = np.mean([laplacian_energy(frames[k] @ LUMA) for k in shown]) / laplacian_energy(picture @ LUMA)
        part = slice(ends[index] + 10, ends[index + 1] - 40)
        react = max(lagged(onset[part], seen[part], lag) for lag in (-1, 0, 1))
        rows.append(f"{entry['image']} from {entry['time']:.1f} s: SSIM {np.mean(found):.2f} / "
                    f"{np.percentile(found, 10):.2f}, detail {detail:.2f}, motion {change[part].mean():.1f}, "
                    f"reactivity {react:.2f}")
    median = float(np.median(change))
    moves = []
    for c in changes[1:]:  # against the floor an even pace has: the whole way from one end to the other, evenly
        length = c["frame"] - c["transition_from"] + 1
        floor = np.abs(frames[c["frame"]] - frames[c["transition_from"] - 1]).mean() / length
        moves.append(f"{change[c['transition_from'] - 1:c['frame']].max() / median:.1f}x "
                     f"(even: {floor / median:.1f}x)")
    return rows, moves


def row(song: Path, covers: list[Path], start: float, seconds: float, folder: Path) -> None:
    began = time.perf_counter()
    video = neuromv.render(song, folder / "sequence.mp4", image=[str(c) for c in covers], size=SIZE, start=start,
                           duration=seconds, quiet=True, overwrite=True)
    took = time.perf_counter() - began
    figures, moves = sections(video, covers)
    score = neuromv.score(video)
    began = time.perf_counter()
    neuromv.render(song, folder / "single.mp4", image=covers[0], size=SIZE, start=start, duration=seconds,
                   quiet=True, overwrite=True)
    single = time.perf_counter() - began
    print(f"| {song.stem[:24]} | {len(covers)} | {'<br>'.join(figures)} | {', '.join(moves)} | "
          f"{score.reactivity_best:.2f} | {score.flashes:g} | {took:.0f} s | {single:.0f} s | "
          f"{(took - single) / max(single, 1e-9) / (len(covers) - 1):.2f} |", flush=True)


def frame_cost() -> None:
    """90 frames at 512², one picture against four (away from the changes), best of three."""
    latents = np.random.default_rng(0).standard_normal((90, 64)).astype(np.float32)
    times = {}
    for count in (1, 4):
        network = cppn.build(cppn.CPPNConfig(fourier=256, pictures=count), 0)
        shares = None if count == 1 else np.repeat(np.eye(count, dtype=np.float32)[[0]], 90, axis=0)
        best = np.inf
        for _ in range(3):
            source = neuromv.FrameSource([(network, latents)], 512, 512, pictures=shares)
            began = time.perf_counter()
            for _ in source.batches():
                pass
            best = min(best, time.perf_counter() - began)
        times[count] = best
    print(f"per frame at 512²: one picture {times[1] / 90 * 1000:.1f} ms, four {times[4] / 90 * 1000:.1f} ms "
          f"({times[4] / times[1]:.2f}x)")


def figure(path: Path, song: Path, covers: list[Path], folder: Path) -> None:
    """A frame from the middle of each section and from the middle of each transition, side by side, captioned."""
    from PIL import Image, ImageDraw, ImageFont

    video = neuromv.render(song, folder / "figure.mp4", image=[str(c) for c in covers], size=SIZE, start=5.0,
                           duration=20.0, quiet=True, overwrite=True)
    frames = neuromv.read_frames(video)
    changes = neuromv.probe(video).metadata["made"]["pictures"]
    ends = [c["frame"] for c in changes] + [frames.shape[0]]
    shown: list[tuple[int, str]] = []
    for index, entry in enumerate(changes):
        if index:
            shown.append(((entry["transition_from"] + entry["frame"]) // 2, f"becoming {entry['image']}"))
        shown.append(((ends[index] + ends[index + 1]) // 2, entry["image"]))
    caption = 28
    sheet = Image.new("RGB", (SIZE * len(shown), SIZE + caption), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=16)
    for column, (k, text) in enumerate(shown):
        sheet.paste(Image.fromarray(frames[k]), (column * SIZE, caption))
        draw.text((column * SIZE + 6, 5), f"{text}, frame {k}", fill="black", font=font)
    sheet.save(path, quality=88)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="two covers on one song")
    parser.add_argument("--figure", type=Path, help="write the figure there and stop")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="neuromv-bench-sequence-"))
    covers = drawn_covers(folder)
    two = [covers["coffee"][0], covers["hubble"][0]]
    four = [covers["coffee"][0], covers["hubble"][0], covers["cover"][0], covers["rings"][0]]
    if args.figure:
        figure(args.figure, SONGS["metal_madness"], two, folder)
        return
    print("| song | covers | each section against its own picture | largest change a frame in a transition, "
          "over the median (an even pace's) | reactivity | flashes | fit + render | one cover | added cost a picture |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    row(SONGS["metal_madness"], two, 5.0, 20.0, folder)
    if args.quick:
        return
    row(SONGS["vibe_ace"], two, 5.0, 20.0, folder)
    from tuning_set import tracks

    tuning = tracks()
    for name in ("chaos_god", "morning"):
        row(tuning[name], four, 30.0, 60.0, folder)
    frame_cost()


if __name__ == "__main__":
    main()
