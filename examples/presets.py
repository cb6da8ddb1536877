"""Every built-in preset on the same few seconds of the sample rock song, one short video each: pick a look.

    python examples/presets.py          # presets_<name>.mp4 for each built-in (3 s, 192x192, a random network)
"""

from pathlib import Path

import neuromv
from neuromv.look.presets import built_in

here = Path(__file__).parent
for name, preset in built_in().items():
    video = neuromv.render(here / "metal_madness_30s.ogg", f"presets_{name}.mp4", preset=name, seed=4,
                           size=(192, 192), start=8, duration=3, quiet=True, overwrite=True)
    print(f"{video}  {preset.description}")
