"""How much of a large frame a coarser drawing could stand for: the work a 1080p frame does not need, measured.

    python benchmarks/bench_coarse.py examples/coffee.jpg              # 1920x1080, half resolution
    python benchmarks/bench_coarse.py examples/hubble.jpg --factor 4 --thresholds 4 8

Fits the default look's network to the cover (4 s of the example metal song) and draws six frames spread over it
exactly and at 1/``factor`` of the resolution, the coarse frame enlarged bilinearly. Prints, against the exact frames
(before the sharpening pass), the coarse frame's error everywhere; the share of 16x16 tiles whose every pixel it
holds within 1 and 3 gray levels (what an oracle could leave coarse); and for a predictor a renderer could use (a
tile drawn coarse when the coarse frame's largest second difference over it is at most a threshold, else exactly)
the error of the mixed frame, the share left coarse, and the work against the exact frame's (coarse frame + the
exact tiles), with its speed-up bound. Issue 35's bounds for such a frame: mean <= 0.5, p99.9 <= 3 gray levels.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from neuromv.draw import FrameSource
from neuromv.prepared import prepare
from neuromv.spec import make_spec

SONG = Path(__file__).resolve().parent.parent / "examples" / "metal_madness_30s.ogg"
TILE = 16


def drawn(network, latents: np.ndarray, width: int, height: int) -> np.ndarray:
    """float32 [n, height, width, 3]: the frames of ``latents``, the network alone (no sharpening)."""
    source = FrameSource([(network, latents)], width, height, fused=True)
    return np.concatenate(list(source.batches())).astype(np.float32)


def tiles(image: np.ndarray) -> np.ndarray:
    """[n, H, W, ...] -> [n, H / TILE, TILE, W / TILE, TILE, ...] (the whole tiles)."""
    n, height, width = image.shape[:3]
    cut = image[:, : height // TILE * TILE, : width // TILE * TILE]
    return cut.reshape(n, height // TILE, TILE, width // TILE, TILE, *image.shape[3:])


def roughness(coarse: np.ndarray) -> np.ndarray:
    """[n, h, w]: each coarse pixel's largest |second difference| across and down, of its gray."""
    gray = coarse.mean(axis=3)
    out = np.zeros_like(gray)
    out[:, 1:-1] = np.abs(gray[:, 2:] - 2 * gray[:, 1:-1] + gray[:, :-2])
    out[:, :, 1:-1] = np.maximum(out[:, :, 1:-1], np.abs(gray[:, :, 2:] - 2 * gray[:, :, 1:-1] + gray[:, :, :-2]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cover")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--factor", type=int, default=2, help="the coarse frame's fraction of the resolution")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[4.0, 6.0, 8.0])
    args = parser.parse_args()
    if TILE % args.factor:
        parser.error(f"--factor {args.factor} does not divide the {TILE}-pixel tile; use 2, 4, 8 or 16")
    width, height = (int(v) for v in args.size.split("x"))
    spec = make_spec(song=str(SONG), image=args.cover, duration=4.0, size=args.size, quiet=True)
    network, latents = prepare(spec).panels[0]
    rows = latents[np.linspace(0, latents.shape[0] - 1, 6).round().astype(int)]
    exact = drawn(network, rows, width, height)
    coarse = drawn(network, rows, width // args.factor, height // args.factor)
    enlarged = torch.nn.functional.interpolate(torch.from_numpy(coarse).permute(0, 3, 1, 2), size=(height, width),
                                               mode="bilinear", align_corners=False).permute(0, 2, 3, 1).numpy()
    error = np.abs(enlarged - exact)
    print(f"{Path(args.cover).name}, {args.size}, 1/{args.factor} resolution enlarged: mean {error.mean():.2f}, "
          f"p99.9 {np.quantile(error, 0.999):.1f} gray levels")
    worst = tiles(error).max(axis=(2, 4, 5))
    for bound in (1.0, 3.0):
        share = float((worst <= bound).mean())
        work = 1 / args.factor ** 2 + 1 - share
        print(f"  tiles within {bound:g} gray (an oracle): {share:.0%}; work {work:.2f} of exact, {1 / work:.2f}x")
    per = TILE // args.factor
    rough = roughness(coarse)[:, : height // TILE * per, : width // TILE * per]
    rough = rough.reshape(rough.shape[0], height // TILE, per, width // TILE, per).max(axis=(2, 4))
    for threshold in args.thresholds:
        left = rough <= threshold
        mixed = np.where(left[:, :, None, :, None, None], tiles(enlarged), tiles(exact))
        gap = np.abs(mixed - tiles(exact))
        work = 1 / args.factor ** 2 + 1 - float(left.mean())
        print(f"  coarse where roughness <= {threshold:g}: {left.mean():.0%} of tiles; mean {gap.mean():.2f}, p99.9 "
              f"{np.quantile(gap, 0.999):.1f}, max {gap.max():.0f} gray; work {work:.2f} of exact, {1 / work:.2f}x")


if __name__ == "__main__":
    main()
