"""Stems: each panel follows its own stem; hpss always; the real Demucs and Spleeter code on random-weight models
the tests create; the cache; the errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import beat_track, clicks, tone, write_wav

import neuromv
from neuromv.cli import main
from neuromv.draw import panel_frames
from neuromv.music.mel import LatentConfig
from neuromv.music.stems import SeparatorError, separate

HERE = Path(__file__).resolve().parent


def change(frames: np.ndarray) -> np.ndarray:
    return np.abs(np.diff(frames.astype(np.float32), axis=0)).mean(axis=(1, 2, 3))


@pytest.fixture
def drums_and_chord():
    _, beats = beat_track(6.0, bpm=100, offset=0.3)
    return clicks(6.0, beats), tone(6.0, level=0.3), [round(t * 30) for t in beats]


def test_each_panel_follows_its_own_stem(drums_and_chord):
    drums, chord, hits = drums_and_chord
    net = neuromv.build(neuromv.CPPNConfig(latent_dim=32), seed=1)
    latents = [neuromv.mel_latents(neuromv.Audio(x[None], 22050, Path("x")), 30, LatentConfig(latent_dim=32))
               for x in (drums, chord)]
    frames = np.concatenate(list(panel_frames([(net, latents[0]), (net, latents[1])], 48, 48)))
    assert frames.shape == (180, 48, 96, 3)
    drum_change, chord_change = change(frames[:, :, :48]), change(frames[:, :, 48:])
    on = [k - 1 for k in hits]
    off = np.setdiff1d(np.arange(len(drum_change)), [i for k in hits for i in range(k - 3, k + 3)])
    assert drum_change[on].mean() > 3 * drum_change[off].mean()  # the drum panel jumps on the hits
    assert chord_change[on].mean() < 0.2 * drum_change[on].mean()  # the chord panel does not


def test_hpss_end_to_end(tmp_path, drums_and_chord, no_ffmpeg_left):
    drums, chord, hits = drums_and_chord
    song = write_wav(tmp_path / "mix.wav", drums + chord)
    out = neuromv.render(song, tmp_path / "hpss.mp4", stems=2, separator="hpss", size="32x32", quiet=True,
                         cache_dir=tmp_path / "cache", labels=True)
    info = neuromv.probe(out)
    assert (info.width, info.height) == (64, 32) and info.metadata["made"]["stems"] == ["harmonic", "percussive"]
    frames = neuromv.read_frames(out)
    assert frames.shape[0] == 180
    harmonic, percussive = change(frames[:, 8:, :32]), change(frames[:, 8:, 32:])  # below the labels
    on = [k - 1 for k in hits]
    assert percussive[on].mean() > 2 * harmonic[on].mean()


def test_separations_are_cached_and_never_stale(tmp_path):
    song = write_wav(tmp_path / "s.wav", beat_track(3.0)[0])
    cache = tmp_path / "cache"
    first = separate(song, separator="hpss", cache_dir=cache)
    again = separate(song, separator="hpss", cache_dir=cache)
    assert not first.cached and again.cached and again.backend == "hpss"
    assert all(np.array_equal(first.stems[k], again.stems[k]) for k in first.stems)
    assert not separate(song, separator="hpss", cache_dir=cache, cache=False).cached
    assert not separate(song, separator="hpss", cache_dir=cache, start=0.5).cached  # another excerpt
    entry = min((p for p in cache.iterdir() if not p.name.startswith(".")), key=lambda p: p.stat().st_mtime_ns)
    (entry / "complete.json").unlink()  # a partial entry (the whole song's, written first) is not used
    assert not separate(song, separator="hpss", cache_dir=cache).cached
    write_wav(song, beat_track(3.0, bpm=90)[0])  # new content at the same path
    assert not separate(song, separator="hpss", cache_dir=cache).cached


def test_grid_layout_for_four(tmp_path):
    from neuromv.draw import panel_grid

    assert panel_grid(4, "grid") == (2, 2) and panel_grid(5, "grid") == (3, 2) and panel_grid(2, "row") == (2, 1)


@pytest.mark.parametrize("args,message", [
    (["--stems", "4", "--separator", "hpss"], "separator 'hpss' offers 2 stems (harmonic, percussive)"),
    (["--stems", "5", "--separator", "demucs"], "separator 'demucs' offers 2 or 4 stems"),
    (["--stems", "2", "--separator", "spleeter", "--spleeter-python", "/nonexistent/python"],
     "cannot run Spleeter's Python '/nonexistent/python'"),
])
def test_stem_errors(tmp_path, capsys, args, message):
    song = write_wav(tmp_path / "s.wav", beat_track(2.0)[0])
    code = main(["render", str(song), "--size", "16x16", "-q", "--cache-dir", str(tmp_path / "c"), *args])
    err = capsys.readouterr().err
    assert code in (1, 2) and message in err and err.count("\n") == 1
    assert not song.with_suffix(".mp4").exists()


def test_demucs_not_installed_names_the_pip_command(tmp_path, monkeypatch):
    import importlib.util

    if importlib.util.find_spec("demucs") is not None:
        monkeypatch.setitem(sys.modules, "demucs", None)  # as if it were not installed
        monkeypatch.setitem(sys.modules, "demucs.apply", None)
    song = write_wav(tmp_path / "s.wav", beat_track(2.0)[0])
    with pytest.raises(SeparatorError, match=r'pip install "neuromv\[demucs\]"'):
        separate(song, separator="demucs", cache=False)


def test_spleeter_not_installed_says_how(tmp_path, monkeypatch):
    import importlib.util

    if importlib.util.find_spec("spleeter") is not None:
        pytest.skip("Spleeter is importable here")
    monkeypatch.delenv("NEUROMV_SPLEETER_PYTHON", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no `spleeter` command either
    song = write_wav(tmp_path / "s.wav", beat_track(2.0)[0])
    with pytest.raises(SeparatorError, match="separator 'spleeter' is not installed here: .*NEUROMV_SPLEETER_PYTHON"):
        separate(song, separator="spleeter", cache=False)


def test_auto_falls_back_to_what_runs_here(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # Demucs's pretrained model cannot be fetched here
    monkeypatch.setenv("MODEL_PATH", str(tmp_path / "no-models"))  # nor Spleeter's
    monkeypatch.setenv("GITHUB_HOST", "http://127.0.0.1:9")
    song = write_wav(tmp_path / "s.wav", beat_track(2.0)[0])
    with caplog.at_level("INFO", logger="neuromv"):
        result = separate(song, separator="auto", cache=False)
    assert result.backend == "hpss" and list(result.stems) == ["harmonic", "percussive"]


# --- Demucs: the real library on its random test model ----------------------------------------------------

def test_demucs_random_model_end_to_end(tmp_path):
    pytest.importorskip("demucs")
    song = write_wav(tmp_path / "s.wav", beat_track(3.0)[0])
    four = separate(song, stems=4, separator="demucs", demucs_model="demucs_unittest", cache=False)
    assert list(four.stems) == ["vocals", "drums", "bass", "other"] and four.backend == "demucs"
    assert all(s.shape == (2, 3 * 44100) for s in four.stems.values())
    out = neuromv.render(song, tmp_path / "d.mp4", stems=2, separator="demucs", demucs_model="demucs_unittest",
                         size="16x16", quiet=True, cache=False)
    assert neuromv.probe(out).metadata["made"]["stems"] == ["vocals", "accompaniment"]
    assert neuromv.read_frames(out, gray=True).shape == (90, 16, 32)


def test_demucs_missing_model_offline(tmp_path):
    pytest.importorskip("demucs")
    song = write_wav(tmp_path / "s.wav", beat_track(2.0)[0])
    with pytest.raises(SeparatorError, match="Demucs model 'nope' is not available in"):
        separate(song, separator="demucs", demucs_model="nope", demucs_repo=tmp_path, cache=False)


# --- Spleeter: the real library, out of process, on a random checkpoint made with its own code ---------------

SPLEETER = os.environ.get("NEUROMV_SPLEETER_PYTHON")
needs_spleeter = pytest.mark.skipif(not SPLEETER, reason="set NEUROMV_SPLEETER_PYTHON to a Spleeter environment")


@needs_spleeter
def test_spleeter_random_checkpoint_end_to_end(tmp_path, monkeypatch):
    models = tmp_path / "models"
    made = subprocess.run([SPLEETER, str(HERE / "spleeter_random_model.py"), str(models)], capture_output=True,
                          text=True, timeout=600)
    assert made.returncode == 0, made.stderr[-2000:]
    monkeypatch.setenv("MODEL_PATH", str(models))
    song = write_wav(tmp_path / "s.wav", beat_track(4.0)[0])
    out = neuromv.render(song, tmp_path / "sp.mp4", stems=2, separator="spleeter",
                         spleeter_config=str(models / "tiny-2stems.json"), size="16x16", quiet=True,
                         cache_dir=tmp_path / "cache")
    info = neuromv.probe(out)
    facts = info.metadata["made"]
    assert facts["separator"] == "spleeter" and facts["stems"] == ["vocals", "accompaniment"]
    frames = neuromv.read_frames(out, gray=True)
    assert frames.shape == (120, 16, 32) and frames[:, :, :16].std() > 0 and frames[:, :, 16:].std() > 0


@needs_spleeter
def test_spleeter_missing_model_offline_says_model_path(tmp_path, monkeypatch):
    monkeypatch.setenv("MODEL_PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("GITHUB_HOST", "http://127.0.0.1:9")  # no network either way
    song = write_wav(tmp_path / "s.wav", beat_track(2.0)[0])
    with pytest.raises(SeparatorError, match="is not in MODEL_PATH=.*could not be downloaded; download"):
        separate(song, separator="spleeter", cache=False)
