"""Render the sample twice, at two --motion settings, and score both: fidelity against motion.

    python examples/score.py
"""

from pathlib import Path

import neuromv

here = Path(__file__).parent
cover = here / "cover.jpg"
for motion in (1.0, 6.0):
    video = neuromv.render(here / "vibe_ace_30s.ogg", f"motion_{motion:g}.mp4", image=cover, size=(128, 128),
                           duration=6, steps=600, motion=motion, overwrite=True, quiet=True)
    s = neuromv.score(video, image=cover)
    print(f"motion={motion:g}: PSNR {s.psnr_median:.1f} dB, SSIM {s.ssim_median:.2f}, "
          f"reactivity {s.reactivity:.2f}, motion {s.motion:.1f} gray levels/frame, lag {s.lag} frames")
