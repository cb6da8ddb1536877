"""Digests of the decoded frames of a fixed set of renders, to show that a change of code leaves the pictures alone.

    python scripts/frame_digests.py OUT_DIR            # prints one line a render: its name and the SHA-256 of its frames

The set: the default look with a cover, classic, two warping presets, stems with labels, and the web export's canvas
in headless Chromium (frames 0, 15 and 60 read back). Run it on two checkouts (``PYTHONPATH=OTHER_CHECKOUT``) and
compare the lines. Only the public API is used, so both sides may be laid out differently.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import sys
from pathlib import Path

import numpy as np

import neuromv

ROOT = Path(__file__).resolve().parents[1]
SONG, COVER = ROOT / "examples" / "vibe_ace_30s.ogg", ROOT / "examples" / "cover.jpg"
COMMON = dict(duration=3.0, size="96x96", steps=150, quiet=True, overwrite=True, threads=2, cache=False)
RENDERS = {
    "default+cover": dict(image=COVER),
    "classic+cover": dict(image=COVER, preset="classic"),
    "kaleidoscope": dict(preset="kaleidoscope"),
    "ripple+cover": dict(image=COVER, preset="ripple"),
    "stems+labels": dict(image=COVER, stems=2, separator="hpss", labels=True),
}


def digest(frames: np.ndarray) -> str:
    return f"{frames.shape} {hashlib.sha256(np.ascontiguousarray(frames).tobytes()).hexdigest()[:16]}"


def canvas(folder: Path, rows: tuple[int, ...] = (0, 15, 60)) -> np.ndarray:
    """The export's canvas at frames ``rows``, read back from headless Chromium."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from browser import launch

    with neuromv.Server(folder).start() as server, sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.goto(server.url)
        page.wait_for_function("window.neuromv && (window.neuromv.ready || window.neuromv.error)", timeout=120_000)
        shots = []
        for k in rows:
            page.evaluate(f"window.neuromv.draw({k})")
            url = page.evaluate("window.neuromv.snapshot()")
            shots.append(np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")))
        browser.close()
    return np.stack(shots)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, options in RENDERS.items():
        video = neuromv.render(SONG, out / f"{name}.mp4", **COMMON, **options)
        print(name, digest(neuromv.read_frames(video)), flush=True)
    web = out / "web"
    shutil.rmtree(web, ignore_errors=True)
    neuromv.export_web(SONG, web, image=COVER, **{k: v for k, v in COMMON.items() if k != "overwrite"})
    print("web canvas", digest(canvas(web)), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
