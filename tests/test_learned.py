"""Learned features: training lowers the held-out loss, checkpoints round-trip and are told apart from CPPNs, the
rows sit on the frame grid, the shipped model is stable, and a render driven by it moves on the beats."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import RATE, beat_track, clicks, tone, write_wav

import neuromv
from neuromv.cli import main
from neuromv.music import learned
from neuromv.network import cppn


@pytest.fixture(scope="module")
def songs(tmp_path_factory) -> Path:
    """A folder of five short synthetic songs (different tempi and pitches), a text file, and an empty one."""
    folder = tmp_path_factory.mktemp("songs")
    for index, (bpm, freq) in enumerate([(90, 110.0), (120, 220.0), (140, 330.0), (100, 165.0), (160, 262.0)]):
        seconds = 8.0
        beats = list(np.arange(0.2, seconds - 0.1, 60.0 / bpm))
        samples = tone(seconds, freq=freq, level=0.3) + clicks(seconds, beats)
        write_wav(folder / f"song{index}.wav", samples)
    (folder / "notes.txt").write_text("not audio")
    (folder / "broken.mp3").write_bytes(b"\x00" * 2000)
    return folder


@pytest.fixture(scope="module")
def tiny(songs, tmp_path_factory) -> tuple[Path, learned.TrainResult]:
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    result = learned.train([songs], path, dims=4, epochs=8, seed=1, progress=False)
    return path, result


def test_training_lowers_the_held_out_loss(tiny):
    path, result = tiny
    assert len(result.songs) == 5 and len(result.held_out) == 1 and len(result.skipped) == 1  # broken.mp3
    assert result.held_out_loss[-1] < 0.9 * result.held_out_loss[0], result.held_out_loss
    assert result.train_loss[-1] < result.train_loss[0]


def test_training_is_reproducible_from_the_seed(songs, tiny, tmp_path):
    path, result = tiny
    again = learned.train([songs], tmp_path / "again.pt", dims=4, epochs=8, seed=1, progress=False)
    assert again.held_out == result.held_out and again.held_out_loss == result.held_out_loss
    first, second = learned.load(path)[0], learned.load(tmp_path / "again.pt")[0]
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_a_checkpoint_round_trips(tiny, songs):
    path, _ = tiny
    model, meta = learned.load(path)
    assert model.config.dims == 4 and meta["seed"] == 1 and len(meta["held_out"]) == 1
    audio = neuromv.load_audio(songs / "song0.wav")
    assert np.array_equal(learned.codes(model, audio, 30), learned.codes(learned.load(path)[0], audio, 30))


@pytest.mark.parametrize("fps", ["24", "25", "30000/1001", "30", "60"])
@pytest.mark.parametrize("seconds", [2.0, 3.337])
def test_one_row_per_frame_on_the_grid(tmp_path, fps, seconds):
    song = write_wav(tmp_path / "odd.wav", beat_track(seconds)[0])
    audio = neuromv.load_audio(song)
    frames = neuromv.frame_count(audio.n_samples, audio.sample_rate, Fraction(fps))
    model = learned.load("learned")[0]
    z = learned.learned_latents(model, audio, fps)
    assert z.shape == (frames, model.config.dims) == (neuromv.mel_latents(audio, fps).shape[0], model.config.dims)
    assert np.all(np.abs(z) < 1) and np.all(np.isfinite(z))


def test_a_window_is_centred_on_its_frame(tmp_path):
    """A click at t shows in the middle of the window of the frame at t, not at its start (the paper's code stamped
    features at the window's start)."""
    samples = np.zeros(3 * RATE, np.float32)
    samples[int(1.5 * RATE):int(1.5 * RATE) + 200] = 0.9
    audio = neuromv.Audio(samples[None], RATE, tmp_path / "click.wav", 0.0)
    x = learned.windows(audio, 30).reshape(-1, learned.CONTEXT, learned.MELS)
    loudest = x[45].mean(axis=1)  # frame 45 is t = 1.5 s
    assert abs(int(np.argmax(loudest)) - (learned.CONTEXT - 1) / 2) <= 1


def test_the_shipped_model_is_small_and_stable(tmp_path):
    assert learned.SHIPPED.is_file() and learned.SHIPPED.stat().st_size <= 2_000_000
    song = write_wav(tmp_path / "beat.wav", beat_track(3.0)[0])
    here = learned.codes(learned.load("learned")[0], neuromv.load_audio(song), 30)
    script = ("import sys, numpy as np, neuromv; from neuromv.music import learned; "
              "np.save(sys.argv[2], learned.codes(learned.load('learned')[0], neuromv.load_audio(sys.argv[1]), 30))")
    subprocess.run([sys.executable, "-c", script, str(song), str(tmp_path / "there.npy")], check=True)
    assert np.array_equal(here, np.load(tmp_path / "there.npy"))
    meta = learned.load("learned")[1]
    assert meta["songs"] and meta["seed"] == 0


def test_a_learned_render_moves_on_the_beats(tmp_path):
    samples, _ = beat_track(6.0, bpm=100)
    song = write_wav(tmp_path / "beats.wav", samples)
    out = neuromv.render(song, tmp_path / "v.mp4", size="64x64", features="learned", quiet=True)
    tag = neuromv.probe(out).metadata
    assert tag["spec"]["features"] == "learned" and tag["spec"]["latent_dim"] == 10
    figures = neuromv.score(out)
    assert figures.reactivity > 0.3 and figures.motion > 1.0, figures


def test_like_finds_a_features_model_beside_the_video(tmp_path, tiny):
    song = write_wav(tmp_path / "beats.wav", beat_track(2.0)[0])
    (tmp_path / "tiny.pt").write_bytes(tiny[0].read_bytes())
    first = neuromv.render(song, tmp_path / "a.mp4", size="32x32", features=str(tmp_path / "tiny.pt"), quiet=True)
    assert neuromv.probe(first).metadata["spec"]["features"] == "tiny.pt"
    assert main(["render", str(song), "--like", str(first), "-o", str(tmp_path / "b.mp4"), "-q"]) == 0
    assert np.array_equal(neuromv.read_frames(first), neuromv.read_frames(tmp_path / "b.mp4"))


def test_presets_map_learned_features(tmp_path):
    song = write_wav(tmp_path / "beats.wav", beat_track(3.0)[0])
    preset = {"version": 1, "name": "learnt", "params": {"zoom": {"feature": "learned.0", "min": 1, "max": 1.2}}}
    out = neuromv.render(song, tmp_path / "v.mp4", size="32x32", preset=preset, quiet=True)
    assert neuromv.probe(out).metadata["spec"]["preset"].count("learned.0") == 1
    far = {**preset, "params": {"zoom": {"feature": "learned.10", "min": 1, "max": 1.2}}}
    with pytest.raises(neuromv.OptionError, match=r"maps 'learned.10', but the features model gives 10 "
                                                  r"\(learned.0 .. learned.9\)"):
        neuromv.render(song, tmp_path / "w.mp4", size="32x32", preset=far, quiet=True)
    assert not (tmp_path / "w.mp4").exists()


def test_the_bank_has_the_learned_features(tmp_path, capsys):
    song = write_wav(tmp_path / "beats.wav", beat_track(3.0)[0])
    assert main(["features", str(song), "--features", "learned", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    columns = table["columns"]
    assert columns[-10:] == [f"learned.{i}" for i in range(10)] and "rms" in columns
    values = np.array(table["rows"])[:, -10:]
    assert values.min() >= 0 and values.max() <= 1 and values.std() > 0.05


# --- bad input ---------------------------------------------------------------------------------------------

def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neuromv", *args], capture_output=True, text=True, timeout=300)


def test_bad_features_files_are_one_line(tmp_path, tiny, songs):
    song = str(songs / "song0.wav")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    cppn_file = tmp_path / "net.pt"
    cppn.save(neuromv.build(neuromv.CPPNConfig(latent_dim=64)), cppn_file)
    cases = [
        (["render", song, "--features", str(junk)], "is not a neuromv features model"),
        (["render", song, "--features", str(cppn_file)], "it is a CPPN checkpoint: give it to --model"),
        (["render", song, "--model", str(tiny[0])], "is not a neuromv checkpoint"),
        (["render", song, "--features", str(tiny[0]), "--model", str(cppn_file)],
         "gives 4 numbers a frame but the saved model"),
        (["render", song, "--features", "lerned"], "did you mean 'learned'?"),
        (["render", song, "--features", "learned", "--latent-dim", "64"], "latent_dim=64 does not match"),
    ]
    for args, message in cases:
        done = run(*args, "-o", str(tmp_path / "v.mp4"), "--size", "32x32", "-q")
        assert done.returncode in (1, 2) and done.stderr.count("\n") == 1 and message in done.stderr, (args,
                                                                                                      done.stderr)
        assert "Traceback" not in done.stderr and not (tmp_path / "v.mp4").exists()
    assert "takes 64 (latent_dim)" in run("render", song, "--features", str(tiny[0]), "--model", str(cppn_file),
                                          "-o", str(tmp_path / "v.mp4"), "-q").stderr


def test_bad_training_is_one_line(tmp_path, songs):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "a.txt").write_text("x")
    cases = [
        ([str(empty)], "no decodable audio"),
        ([str(songs / "song0.wav")], "needs at least 2 songs"),
        ([str(songs), "--dims", "0"], "dims=0 must be a whole number"),
        ([str(tmp_path / "nowhere")], "is neither an audio file nor a folder"),
    ]
    for args, message in cases:
        done = run("train-features", *args, "-o", str(tmp_path / "m.pt"), "-q")
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr, (args, done.stderr)
        assert not (tmp_path / "m.pt").exists() and not list(tmp_path.glob(".m.pt*"))
