"""Frames without a video: the stages one by one, ending in PNGs and an animated GIF.

    python examples/frames.py                # writes frames/0000.png ... and frames/frames.gif
"""

from pathlib import Path

import numpy as np
from PIL import Image

import neuromv

here = Path(__file__).parent
out = Path("frames")
out.mkdir(exist_ok=True)

song = neuromv.load_audio(here / "vibe_ace_30s.ogg", start=5, duration=3)  # float32 [channels, n]
latents = neuromv.mel_latents(song, fps=15)                               # float32 [45, 64], one per frame
network = neuromv.build(neuromv.CPPNConfig(), seed=3)                     # a random CPPN: abstract art

pictures = []
for batch in neuromv.frames(network, latents, 160, 160):                  # uint8 [b, 160, 160, 3]
    for frame in batch:
        Image.fromarray(frame).save(out / f"{len(pictures):04d}.png")
        pictures.append(Image.fromarray(frame))
pictures[0].save(out / "frames.gif", save_all=True, append_images=pictures[1:], duration=1000 // 15, loop=0)
print(f"{len(pictures)} frames in {out}/, mean level {np.mean([np.asarray(p).mean() for p in pictures]):.0f}")
