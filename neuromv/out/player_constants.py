"""The constants the browser player shares with the Python side, for the export's header (``data.json``'s
``constants``).

Each is taken from the module that defines it, never typed again: the player reads them from the header (and its
shader generator writes them into the GLSL), so the two sides cannot drift apart. ``tests/test_player_constants.py``
checks that the player's JavaScript types none of them itself. The sharpening's taps travel beside its amount, in
the header's ``sharpen``.
"""

from __future__ import annotations

from typing import Any

from ..look import effects, presets
from ..music import mel


def player_constants() -> dict[str, Any]:
    """The constants and parameter lists the player needs, by their Python names, as JSON values."""
    return {
        # preset semantics (neuromv/look/presets.py): each parameter's neutral value, and which move what
        "NEUTRAL": {name: float(neutral) for name, (neutral, _) in presets.PARAMS.items()},
        "WARPS": list(presets.WARPS),
        "COLOURS": list(presets.COLOURS),
        "LIGHTS": list(presets.LIGHTS),
        # the effects (neuromv/look/effects.py): the ripple's and the light's rings, saturation's luma weights, and
        # the largest field of coordinate terms a warp samples from
        "RIPPLE_RINGS": float(effects.RIPPLE_RINGS),
        "RIPPLE_SPEED": float(effects.RIPPLE_SPEED),
        "LIGHT_RINGS": float(effects.LIGHT_RINGS),
        "LUMA": [float(w) for w in effects.LUMA],
        "MAX_WARP_FIELD": int(effects.MAX_WARP_FIELD),
        # the mel latents (neuromv/music/mel.py), for a song the page analyses itself (latents.js)
        "LATENTS": {"DYNAMIC_RANGE_DB": float(mel.DYNAMIC_RANGE_DB), "MIN_SPREAD_DB": float(mel.MIN_SPREAD_DB),
                    "MAX_FMAX": float(mel.MAX_FMAX), "MIN_WINDOW": int(mel.MIN_WINDOW),
                    "POWER_FLOOR": float(mel.POWER_FLOOR)},
    }
