"""Render the sample song with the sample cover: the Python API in ten lines.

    python examples/quickstart.py            # writes vibe_ace.mp4 in the current folder
"""

from pathlib import Path

import neuromv

here = Path(__file__).parent
video = neuromv.render(here / "vibe_ace_30s.ogg", "vibe_ace.mp4", image=here / "cover.jpg", size=(256, 256),
                       duration=10, seed=7, overwrite=True)
print(video, neuromv.probe(video))
