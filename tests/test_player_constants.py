"""One source for every constant the browser player shares with the Python side: the export's header carries
them (``neuromv/out/player_constants.py``), and the player's JavaScript types none of them again."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import neuromv
from neuromv.look import effects, presets
from neuromv.look.sharpen import TAPS
from neuromv.music import mel
from neuromv.out import web
from neuromv.out.player_constants import player_constants

PLAYER = Path(web.__file__).parent / "player"
SCRIPTS = {path.name: path.read_text() for path in sorted(PLAYER.glob("*.js"))}


def number(value: float) -> str:
    """A regex for ``value`` typed as a number literal (as JavaScript or GLSL would spell it), not inside a longer
    number or a name."""
    text = repr(float(value))
    forms = {text, text.removesuffix(".0"), f"{float(value):.4g}"}
    if float(value).is_integer():
        whole = int(value)
        forms |= {str(whole), f"{whole:_}", f"{whole:.0e}".replace("e+0", "e"), f"{whole:.0e}".replace("e+0", "e+")}
    return r"(?<![\w.])(?:" + "|".join(re.escape(form) for form in sorted(forms)) + r")(?![\w])"


def test_the_constants_are_the_python_modules_values():
    constants = player_constants()
    assert constants == {
        "NEUTRAL": {name: neutral for name, (neutral, _) in presets.PARAMS.items()},
        "WARPS": list(presets.WARPS), "COLOURS": list(presets.COLOURS), "LIGHTS": list(presets.LIGHTS),
        "RIPPLE_RINGS": effects.RIPPLE_RINGS, "RIPPLE_SPEED": effects.RIPPLE_SPEED,
        "LIGHT_RINGS": effects.LIGHT_RINGS, "LUMA": list(effects.LUMA), "MAX_WARP_FIELD": effects.MAX_WARP_FIELD,
        "LATENTS": {"DYNAMIC_RANGE_DB": mel.DYNAMIC_RANGE_DB, "MIN_SPREAD_DB": mel.MIN_SPREAD_DB,
                    "MAX_FMAX": mel.MAX_FMAX, "MIN_WINDOW": mel.MIN_WINDOW, "POWER_FLOOR": mel.POWER_FLOOR},
    }
    assert json.loads(json.dumps(constants)) == constants  # they travel as JSON unchanged


def test_the_player_reads_exactly_these_names():
    found = re.search(r"export const NAMES = Object\.freeze\(\[(.*?)\]\)", SCRIPTS["constants.js"], re.S)
    assert found, "constants.js lists the names it reads in NAMES"
    names = re.findall(r"'(\w+)'", found.group(1))
    assert names == list(player_constants())
    code = "\n".join(SCRIPTS.values())
    for name in names:  # every one is used somewhere besides the list
        assert re.search(rf"constants\.{name}\b", code), name


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_no_shared_constant_is_typed_in_the_player(script):
    text = SCRIPTS[script]
    constants = player_constants()
    for name in [*constants, *constants["LATENTS"]]:
        # no `RIPPLE_RINGS = 3.0` (JavaScript or GLSL): an assignment takes the header's value or a ${...} of it
        assert not re.search(rf"\b{name}\s*[=:]\s*[-\d.\[{{]", text), (script, name)
    scalars = {name: value for name, value in constants.items() if isinstance(value, (int, float))}
    numbers = {**{f"LUMA[{i}]": w for i, w in enumerate(constants["LUMA"])},
               **{f"TAPS[{i}]": w for i, w in enumerate(TAPS)},
               **{name: value for name, value in scalars.items() if name in ("RIPPLE_SPEED", "MAX_WARP_FIELD")},
               **{name: constants["LATENTS"][name] for name in ("DYNAMIC_RANGE_DB", "MAX_FMAX", "POWER_FLOOR")}}
    for name, value in numbers.items():
        assert not re.search(number(value), text), (script, name, value)
    for name in ("WARPS", "COLOURS", "LIGHTS"):  # no list of those names, in either quotes
        items = constants[name]
        for first, second in zip(items, items[1:], strict=False):  # each name with the next
            assert not re.search(rf"['\"`]{first}['\"`]\s*,\s*['\"`]{second}['\"`]", text), (script, name)
    params = "|".join(constants["NEUTRAL"])  # no table of neutral values: `zoom: 1, rotation: 0`
    assert not re.search(rf"\b(?:{params})\s*:\s*-?[\d.]+\s*,\s*(?:{params})\s*:\s*-?[\d.]", text), script


def test_the_shader_takes_the_rings_from_the_header():
    shader = SCRIPTS["shader.js"]
    for name in ("RIPPLE_RINGS", "LIGHT_RINGS"):
        assert re.search(rf"const float {name} = \$\{{glslFloat\(constants\.{name}\)\}};", shader), name


def test_the_header_carries_them(song):
    prepared = neuromv.prepare(neuromv.make_spec(song=str(song), size="32x32", duration=1.0, quiet=True))
    header = web._header(prepared, web._Arrays())
    assert header["constants"] == player_constants()
