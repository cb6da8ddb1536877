"""The preset gallery of docs/presets.md: one strip of frames per built-in preset, from one network fitted to the
sample cover.

    python docs/gallery.py                  # writes docs/presets.jpg (about a minute on a 2-core CPU)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import neuromv
from neuromv.look import presets
from neuromv.music.bank import feature_bank

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
SIDE, TIMES = 160, (0.5, 1.5, 2.5, 3.5, 4.5)


def main() -> None:
    spec = neuromv.RenderSpec(song=str(EXAMPLES / "metal_madness_30s.ogg"), image=str(EXAMPLES / "cover.jpg"),
                              size=f"{SIDE}x{SIDE}", start=8.0, duration=5.0, steps=800, quiet=True)
    prepared = neuromv.prepare(spec)  # the song's latents and the network fitted to the cover, once
    bank = feature_bank(neuromv.load_audio(spec.song, start=spec.start, duration=spec.duration), spec.frame_rate)
    rows = []
    for name, preset in presets.built_in().items():
        params = None if preset.classic else presets.tracks(preset, bank)
        source = neuromv.FrameSource(prepared.panels, SIDE, SIDE, params=params)
        strip = np.concatenate([source.frame(round(t * 30)) for t in TIMES], axis=1)
        label = Image.new("RGB", (120, SIDE), (16, 16, 16))
        ImageDraw.Draw(label).text((8, SIDE // 2 - 6), name, fill=(235, 235, 235))
        rows.append(np.concatenate([np.asarray(label), strip], axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(HERE / "presets.jpg", quality=82, optimize=True)
    print(HERE / "presets.jpg")


if __name__ == "__main__":
    main()
