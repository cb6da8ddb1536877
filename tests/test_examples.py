"""The notebook and every example script, executed as a user would run them; each video they write is checked."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import neuromv

ROOT = Path(__file__).resolve().parent.parent


def check_video(path: Path, frames: int, fps: float = 30) -> None:
    info = neuromv.probe(path)
    assert (info.codec, info.pix_fmt, info.audio_codec) == ("h264", "yuv420p", "aac")
    count = neuromv.read_frames(path, size=(16, 16), gray=True).shape[0]
    assert count == frames
    audio_seconds = len(neuromv.read_audio(path)) / 22050
    assert abs(count / fps - audio_seconds) <= 1 / fps


def test_notebook_runs_top_to_bottom(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(ROOT / "notebooks" / "neuromv_colab.ipynb", as_version=4)
    cells = [c for c in notebook.cells if "install" not in c.metadata.get("tags", [])]
    at = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    smoke = nbformat.v4.new_code_cell(f"REPO = {str(ROOT)!r}\nSIZE, SECONDS, STEPS = 64, 2, 40\n"
                                      "STEMS, SEPARATOR = 2, \"hpss\"\nPRESET = \"prism\"")
    cells.insert(0, nbformat.v4.new_code_cell(f"REPO = {str(ROOT)!r}"))
    cells.insert(at + 2, smoke)  # after the parameters cell: the smoke setting wins
    notebook.cells = cells
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    check_video(tmp_path / "neuromv_video.mp4", frames=60)
    tag = neuromv.probe(tmp_path / "neuromv_video.mp4").metadata
    assert tag["made"]["stems"] == ["harmonic", "percussive"] and '"name":"prism"' in tag["spec"]["preset"]
    outputs = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "device: cpu" in outputs or "device: cuda" in outputs
    assert "reactivity" in outputs
    assert "the player is at http://127.0.0.1:" in outputs
    header = json.loads((tmp_path / "neuromv_web" / "data.json").read_text())
    assert header["frames"] == 60 and header["columns"] == 2 and header["preset"] == "prism"


SCRIPTS = {
    "quickstart.py": [("vibe_ace.mp4", 300)],
    "score.py": [("motion_1.mp4", 180), ("motion_6.mp4", 180)],
    "frames.py": [],
    "stems.py": [("stems.mp4", 180)],
    "presets.py": [(f"presets_{name}.mp4", 90) for name in ("classic", "pulse", "kaleidoscope", "ripple")],
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_example_script(script, tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    for name, frames in SCRIPTS[script]:
        check_video(tmp_path / name, frames)
    if script == "frames.py":
        assert len(list((tmp_path / "frames").glob("*.png"))) == math.ceil(3 * 15)
        assert (tmp_path / "frames" / "frames.gif").stat().st_size > 0


def test_every_example_is_tested():
    assert {p.name for p in (ROOT / "examples").glob("*.py")} == set(SCRIPTS)
