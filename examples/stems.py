"""Split the sample rock song into stems and give each its own panel, side by side, over the full mix.

    python examples/stems.py                  # hpss: built in, no model, works offline
    python examples/stems.py demucs 4         # needs: pip install "neuromv[demucs]" (downloads its model once)
"""

import sys
from pathlib import Path

import neuromv

here = Path(__file__).parent
separator = sys.argv[1] if len(sys.argv) > 1 else "hpss"
stems = int(sys.argv[2]) if len(sys.argv) > 2 else 2
video = neuromv.render(here / "metal_madness_30s.ogg", "stems.mp4", stems=stems, separator=separator, size=(192, 192),
                       start=4, duration=6, labels=True, overwrite=True)
info = neuromv.probe(video)
made = info.metadata["made"]  # what the run decided: the stems and the separator that ran
print(video, f"{info.width}x{info.height}", "stems:", ", ".join(made["stems"]), "by", made["separator"])
