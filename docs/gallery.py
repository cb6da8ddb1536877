"""The preset gallery of docs/presets.md: one strip of frames per built-in preset, each rendered as `neuromv render
--preset NAME` renders it (its latents' and swings' scaling, its flash limit, its sharpening), every varied preset
from one network fitted to the sample cover's variations and classic from its own spread fit; each row is labelled
with its frames' SSIM against the cover (mean) and their fine detail over the cover's (`neuromv score`).

    python docs/gallery.py                  # writes docs/presets.jpg (about three minutes on a 2-core CPU)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import neuromv
from neuromv.look import presets

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
SONG, COVER = EXAMPLES / "metal_madness_30s.ogg", EXAMPLES / "cover.jpg"
SIDE, START, SECONDS, TIMES = 160, 8.0, 5.0, (0.5, 1.5, 2.5, 3.5, 4.5)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        options = dict(size=SIDE, start=START, duration=SECONDS, quiet=True, overwrite=True)
        fitted = {}  # fit -> the saved network, fitted once
        rows = []
        for name, preset in presets.built_in().items():
            video = tmp / f"{name}.mp4"
            if preset.fit in fitted:
                neuromv.render(SONG, video, preset=name, model=fitted[preset.fit], **options)
            else:
                fitted[preset.fit] = tmp / f"{preset.fit}.pt"
                neuromv.render(SONG, video, preset=name, image=COVER, save_model=fitted[preset.fit], **options)
            frames = neuromv.read_frames(video)
            scored = neuromv.score(video, image=COVER)
            strip = np.concatenate([frames[round(t * 30)] for t in TIMES], axis=1)
            label = Image.new("RGB", (150, SIDE), (16, 16, 16))
            text = f"{name}\n\nSSIM {scored.ssim_mean:.2f}\ndetail {scored.detail:.2f}"
            ImageDraw.Draw(label).multiline_text((8, SIDE // 2 - 28), text, fill=(235, 235, 235))
            rows.append(np.concatenate([np.asarray(label), strip], axis=1))
            print(f"{name}: SSIM {scored.ssim_mean:.2f} / {scored.ssim_p10:.2f}, detail {scored.detail:.2f}, "
                  f"motion {scored.motion:.1f}, flashes {scored.flashes:g}", flush=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(HERE / "presets.jpg", quality=82, optimize=True)
    print(HERE / "presets.jpg")


if __name__ == "__main__":
    main()
