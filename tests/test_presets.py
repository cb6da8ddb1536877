"""Presets: the golden vectors of their semantics, properties of the map, bad presets, the feature bank, and renders."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from conftest import beat_track, write_wav

import neuromv
from neuromv.cli import main
from neuromv.look import presets
from neuromv.music.bank import FEATURES, cached_bank, feature_bank

VECTORS = json.loads((Path(__file__).parent / "data" / "preset_vectors.json").read_text())["cases"]


@pytest.mark.parametrize("case", VECTORS, ids=[case["name"] for case in VECTORS])
def test_golden_vectors(case):
    mapping = presets.parse({"version": 1, "name": "t", "params": {"zoom": case["param"]}}).params["zoom"]
    feature = None if case["feature"] is None else np.array(case["feature"], dtype=np.float64)
    frames = case.get("frames") or len(case["feature"])
    out = presets.track(mapping, feature, frames, Fraction(case["video_fps"]))
    assert np.allclose(out, case["expected"], rtol=0, atol=1e-9), out.tolist()


def test_map_quantise_and_hold_properties():
    rng = np.random.default_rng(0)
    for _ in range(50):
        low, high = sorted(rng.uniform(-5, 5, 2))
        avg = rng.uniform(low, high)
        u = np.sort(rng.uniform(0, 1, 40))
        mapped = presets.map_value(u, low, high, avg)
        assert np.all(np.diff(mapped) >= -1e-12) and mapped.min() >= low - 1e-12 and mapped.max() <= high + 1e-12
        step = rng.uniform(0.1, 2)
        q = presets.quantise(mapped, low, step)
        fraction = ((q - low) / step) % 1
        assert np.all(np.minimum(fraction, 1 - fraction) < 1e-9)  # on the steps from min
        assert np.all(np.abs(q - mapped) <= step / 2 + 1e-9) and np.all(np.diff(q) >= -1e-12)
        video_fps, rate = rng.choice([24, 25, 30, 60]), rng.uniform(0.5, 12)
        index = presets.hold_index(300, float(video_fps), rate)
        assert np.all(index <= np.arange(300)) and np.all(np.diff(index) >= 0)
        changes = np.flatnonzero(np.diff(index)) + 1
        assert len(changes) <= 300 / video_fps * rate + 1  # no more updates than the rate allows


@pytest.mark.parametrize("text, message", [
    ("{not json", "is not JSON"),
    ('{"version": 2, "name": "x", "params": {}}', "version=2 is not supported"),
    ('{"version": 1, "name": "x", "params": {"zom": {"value": 1}}}', "unknown parameter 'zom' (did you mean 'zoom'?)"),
    ('{"version": 1, "name": "x", "params": {"zoom": {"feature": "beats"}}}', "feature 'beats' is not in the bank "
                                                                               "(did you mean 'beat'?)"),
    ('{"version": 1, "name": "x", "params": {"zoom": {"feature": "beat", "min": 2, "max": 1}}}',
     "min=2 is above max=1"),
    ('{"version": 1, "name": "x", "params": {"hue": {"feature": "rms", "step": 0}}}', "step=0 must be > 0"),
    ('{"version": 1, "name": "x", "params": {"hue": {"feature": "rms", "fps": -1}}}', "fps=-1 must be > 0"),
    ('{"version": 1, "name": "x", "params": {"hue": {"feature": "rms", "smooth": -0.1}}}', "smooth=-0.1 must be"),
    ('{"version": 1, "name": "x", "params": {"hue": {"feature": "rms", "value": 1}}}', "exactly one of 'feature'"),
    ('{"version": 1, "name": "x", "params": {"hue": {"feature": "rms", "smoth": 1}}}', "did you mean 'smooth'?"),
])
def test_bad_presets_are_one_line_before_any_work(tmp_path, capsys, text, message):
    preset = tmp_path / "bad.json"
    preset.write_text(text)
    before = set(tmp_path.iterdir())
    assert main(["render", str(tmp_path / "no-song-needed.wav"), "--preset", str(preset), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert set(tmp_path.iterdir()) == before


def test_the_feature_bank_is_on_the_frame_grid(tmp_path):
    samples, beats = beat_track(6.0, bpm=120)
    audio = neuromv.load_audio(write_wav(tmp_path / "b.wav", samples))
    for fps in (24, "29.97", 60):
        bank = feature_bank(audio, fps)
        assert bank.values.shape == (neuromv.frame_count(audio.n_samples, audio.sample_rate, neuromv.as_fps(fps)),
                                     len(FEATURES))
        assert bank.values.min() >= 0 and bank.values.max() <= 1
    bank = feature_bank(audio, 30)
    onset = bank["onset"]
    hits = [round(t * 30) for t in beats]
    assert np.mean([onset[max(0, h - 1):h + 2].max() for h in hits]) > 3 * np.median(onset)  # peaks on the drums
    pulse_peaks = np.flatnonzero(bank["beat"] == 1.0) / 30
    assert len(pulse_peaks) >= 8 and np.median(np.diff(pulse_peaks)) == pytest.approx(0.5, abs=0.05)  # 120 bpm
    with pytest.raises(neuromv.OptionError, match="did you mean 'onset'"):
        bank["onsets"]


def test_a_songs_analysis_is_cached_by_its_content_and_read_back_exactly(tmp_path):
    samples, _ = beat_track(4.0, bpm=100)
    song = write_wav(tmp_path / "b.wav", samples)
    folder = tmp_path / "analysis"
    first = cached_bank(song, 0.5, 3.0, 30, folder)
    entries = list(folder.glob("bank-*.npz"))
    assert len(entries) == 1 and not list(folder.glob(".*"))  # written whole, no partial file left
    again = cached_bank(song, 0.5, 3.0, 30, folder)
    assert again.names == first.names and np.array_equal(again.values, first.values)
    assert again.fps == first.fps == Fraction(30) and again.ranges == first.ranges
    fresh = feature_bank(neuromv.open_audio(song, start=0.5, duration=3.0), 30)
    assert np.array_equal(fresh.values, again.values)
    cached_bank(song, 0.5, 3.0, 24, folder)  # another frame rate, another entry
    write_wav(song, samples[::-1].copy())  # the same name, other music: not the cached analysis
    assert len(list(folder.glob("bank-*.npz"))) == 2
    other = cached_bank(song, 0.5, 3.0, 30, folder)
    assert not np.array_equal(other.values, first.values) and len(list(folder.glob("bank-*.npz"))) == 3
    entries[0].write_bytes(b"not an npz")  # a damaged entry is analysed again
    write_wav(song, samples)
    assert np.array_equal(cached_bank(song, 0.5, 3.0, 30, folder).values, first.values)
    assert cached_bank(song, 0.5, 3.0, 30, None).values.shape == first.values.shape  # not kept


def test_features_command_writes_a_table(tmp_path, song):
    out = tmp_path / "f.csv"
    assert main(["features", str(song), "-o", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].split(",") == ["time", "frame", *FEATURES] and len(lines) == 1 + 90
    assert main(["features", str(song), "--preset", "pulse", "--tracks", "--json", "-o", str(out)]) == 0
    table = json.loads(out.read_text())
    assert table["columns"] == ["time", "frame", "zoom", "brightness"] and len(table["rows"]) == 90


def test_every_built_in_preset_renders_and_differs_from_classic(tmp_path, capsys):
    assert main(["presets"]) == 0
    listed = capsys.readouterr().out.splitlines()
    built = presets.built_in()
    assert len(built) >= 7 and "classic" in built and len(listed) == len(built)
    samples, _ = beat_track(2.0)
    song = write_wav(tmp_path / "s.wav", samples)
    latents = neuromv.mel_latents(neuromv.load_audio(song), 30)
    bank = feature_bank(neuromv.load_audio(song), 30)
    net = neuromv.build(neuromv.CPPNConfig(), seed=1)
    classic = np.concatenate(list(neuromv.FrameSource([(net, latents)], 48, 32).batches()))
    for name, preset in built.items():
        if not preset.params:  # classic, and flow: its fit, not parameters, moves it (tests/test_flow.py)
            continue
        source = neuromv.FrameSource([(net, latents)], 48, 32, params=presets.tracks(preset, bank), batch_size=5)
        frames = np.concatenate(list(source.batches()))
        assert frames.shape == classic.shape
        assert np.abs(frames.astype(int) - classic).mean() > 3, name  # a look of its own
        for k in (0, 7, 59):  # frame k alone is frame k in its batch
            assert np.array_equal(source.frame(k), frames[k]), name


def test_a_preset_video_records_its_content_and_like_reproduces_it(tmp_path, capsys):
    samples, _ = beat_track(2.0)
    song = write_wav(tmp_path / "s.wav", samples)
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"version": 1, "name": "mine", "description": "spin", "params": {
        "rotation": {"feature": "rms", "min": 10, "max": 90, "integrate": True}, "hue": {"value": 0.1}}}))
    first, again = tmp_path / "a.mp4", tmp_path / "b.mp4"
    assert main(["render", str(song), "--preset", str(mine), "--size", "32x32", "-o", str(first), "-q"]) == 0
    recorded = neuromv.probe(first).metadata["spec"]["preset"]
    assert json.loads(recorded)["params"]["hue"] == {"value": 0.1}  # the content, not the file's name
    mine.unlink()  # --like needs nothing but the video
    assert main(["render", str(song), "--like", str(first), "-o", str(again), "-q"]) == 0
    assert np.array_equal(neuromv.read_frames(first), neuromv.read_frames(again))


def test_a_zoom_on_the_beat_moves_the_picture_on_the_beats(tmp_path):
    """Only the zoom moves (latent gain 0): the visual change follows the beat track, in sync (neuromv score)."""
    samples, _ = beat_track(8.0, bpm=100)
    song = write_wav(tmp_path / "beats.wav", samples)
    preset = {"version": 1, "name": "beat zoom", "description": "zoom on the beat",
              "params": {"zoom": {"feature": "beat", "min": 1.0, "max": 1.3}, "latent_gain": {"value": 0}}}
    video = neuromv.render(song, tmp_path / "zoom.mp4", size="64x64", seed=2, preset=preset, quiet=True)
    result = neuromv.score(video)
    assert result.reactivity > 0.5 and abs(result.lag) <= 1, result
    still = neuromv.render(song, tmp_path / "still.mp4", size="64x64", seed=2, quiet=True,
                           preset={**preset, "params": {"latent_gain": {"value": 0}}})
    assert neuromv.score(still).motion < 0.5 < result.motion  # without the zoom nothing moves
