"""Frames per second of the browser player in headless Chromium (software WebGL2, SwiftShader, on this machine's
CPU) next to the CPU torch renderer in the same run, and the shader's multiply-adds per pixel.

    python benchmarks/bench_player.py                        # 256x256 and 512x512, classic and pulse
    python benchmarks/bench_player.py --sizes 256x256 --frames 30

Both draw the same frames of the default network on the example song: the player one frame at a time as it plays
(``neuromv.draw(k)``, waited for with ``gl.finish``), torch in its render batches on its render threads. Each figure
is the best of ``--repeats`` runs, the two taking turns. A GPU's figures are not measured here.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import neuromv
from neuromv.prepared import prepare
from neuromv.spec import make_spec

ROOT = Path(__file__).resolve().parent.parent
SONG = ROOT / "examples" / "vibe_ace_30s.ogg"
sys.path.insert(0, str(ROOT / "tests"))
from browser import launch  # noqa: E402  (the tests' Chromium set-up)

PLAY = """async (n) => {
  await window.neuromv.draw(0);  // programs compiled, terms computed
  const start = performance.now();
  for (let k = 1; k <= n; k++) await window.neuromv.draw(k);
  return n / ((performance.now() - start) / 1000);
}"""


def multiply_adds(config: neuromv.CPPNConfig, warped: bool) -> tuple[int, int]:
    """(per pixel and frame, per point of the coordinate pass that runs once per size or preset)."""
    per_frame = (config.layers - 1) * config.hidden ** 2 + 3 * config.hidden + (4 * config.hidden if warped else 0)
    return per_frame, (3 + 2 * config.fourier) * config.hidden


def torch_fps(prepared: neuromv.Prepared, frames: int) -> float:
    source = prepared.frames()
    start = time.perf_counter()
    drawn = sum(batch.shape[0] for batch in source.batches())
    assert drawn == frames
    return drawn / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["256x256", "512x512"])
    parser.add_argument("--presets", nargs="+", default=["classic", "pulse"])
    parser.add_argument("--frames", type=int, default=60, help="frames drawn per run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as work, sync_playwright() as playwright:
        browser = launch(playwright)
        for size in args.sizes:
            for preset in args.presets:
                spec = make_spec(song=str(SONG), start=5.0, duration=(args.frames + 1) / 30, size=size,
                                 preset=preset, quiet=True, device="cpu")
                prepared = prepare(spec)
                folder = neuromv.write_web(prepared, Path(work) / f"{size}-{preset}")
                with neuromv.Server(folder).start() as server:
                    page = browser.new_page()
                    page.goto(server.url)
                    page.wait_for_function("window.neuromv.ready || window.neuromv.error", timeout=120_000)
                    best_web = best_torch = 0.0
                    for _ in range(args.repeats):
                        best_web = max(best_web, page.evaluate(PLAY, args.frames))
                        best_torch = max(best_torch, torch_fps(prepared, prepared.frame_count))
                    page.close()
                per_frame, once = multiply_adds(prepared.panels[0][0].config, prepared.params is not None)
                rows.append((size, preset, best_web, best_torch, per_frame, once))
                print(f"{size:>9} {preset:8} player {best_web:6.1f} fps   torch CPU {best_torch:6.1f} fps   "
                      f"ratio {best_web / best_torch:4.2f}   {per_frame} multiply-adds/pixel/frame "
                      f"(+{once} per point, once)", flush=True)
        browser.close()
    print("\n| size | preset | player (SwiftShader) | torch CPU | player / torch | multiply-adds per pixel |")
    print("| --- | --- | --- | --- | --- | --- |")
    for size, preset, web, cpu, per_frame, _ in rows:
        print(f"| {size} | {preset} | {web:.1f} fps | {cpu:.1f} fps | {web / cpu:.2f} | {per_frame} |")


if __name__ == "__main__":
    main()
