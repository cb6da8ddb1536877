"""A sequence of covers: one network holding several pictures, changing at the song's section boundaries (or where a
cue file says), each transition through the network's own in-between pictures. Real renders of synthetic songs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import clicks, write_wav
from PIL import Image

import neuromv
from neuromv.music.sections import beat_frames
from neuromv.out.provenance import like
from neuromv.prepared import prepare
from neuromv.scoring import ssim
from neuromv.spec import make_spec

RATE = 22050
HALF = 8.0  # seconds of each half of the song


def two_halves(path: Path) -> Path:
    """16 s at 120 bpm: a low chord under kicks, then a bright chord under hi-hats at the same tempo."""
    t = np.arange(round(2 * HALF * RATE)) / RATE
    beats = list(np.arange(0.25, 2 * HALF - 0.1, 0.5))
    low = sum(np.sin(2 * np.pi * 110 * k * t) / k for k in (1, 1.5, 2)) * 0.1
    high = sum(np.sin(2 * np.pi * 1320 * k * t) / k for k in (1, 1.25, 1.5)) * 0.1
    first = t < HALF
    hits = clicks(2 * HALF, beats, RATE, level=0.8)
    hats = np.diff(np.concatenate([[0.0], hits])) * 3  # the same hits, high-passed
    samples = np.where(first, low + hits, high + hats).astype(np.float32)
    return write_wav(path, samples)


def pictures(folder: Path) -> tuple[Path, Path]:
    """Two unlike 64² pictures: warm rings, and cool diagonal stripes."""
    y, x = np.mgrid[0:64, 0:64] / 64.0
    r = np.hypot(x - 0.5, y - 0.5)
    rings = np.stack([0.8 + 0.2 * np.sin(20 * r), 0.4 + 0.4 * np.sin(20 * r), 0.1 + 0 * r], axis=2)
    stripes = np.stack([0.1 + 0 * x, 0.5 + 0.4 * np.sin(14 * (x + y)), 0.9 - 0.3 * y], axis=2)
    paths = folder / "rings.png", folder / "stripes.png"
    for picture, path in zip((rings, stripes), paths, strict=True):
        Image.fromarray((np.clip(picture, 0, 1) * 255).astype(np.uint8)).save(path)
    return paths


def _own(covers, side: int) -> list[np.ndarray]:
    """Each picture at ``side``², as a frame shows it."""
    return [np.asarray(Image.open(path).convert("RGB").resize((side, side), Image.Resampling.LANCZOS), np.float64)
            for path in covers]


def _frames(prepared) -> np.ndarray:
    return np.concatenate(list(prepared.frames().batches())).astype(np.float64)


@pytest.fixture(scope="module")
def sequenced(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sequence")
    song, covers = two_halves(folder / "halves.wav"), pictures(folder)
    prepared = prepare(make_spec(song=song, image=list(covers), size=48, steps=400, quiet=True))
    return prepared, covers


def test_the_change_is_found_at_the_join_on_a_tracked_beat_and_recorded(sequenced):
    prepared, _ = sequenced
    changes = prepared.made.changes
    assert [c["image"] for c in changes] == ["rings.png", "stripes.png"] and changes[0]["frame"] == 0
    assert abs(changes[1]["time"] - HALF) <= 1.0
    assert changes[1]["frame"] in set(beat_frames(prepared.feature_bank()).tolist())
    shares = prepared.pictures
    assert shares.shape == (prepared.frame_count, 2)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=1e-6)
    assert shares[changes[1]["frame"]:, 1].min() == 1.0 and shares[:changes[1]["frame"] - 60, 0].min() == 1.0


def test_each_half_looks_like_its_own_picture_and_the_transition_is_an_in_between_not_a_blend(sequenced):
    prepared, covers = sequenced
    frames = _frames(prepared)
    change = prepared.made.changes[1]["frame"]
    own = _own(covers, 48)
    for span, mine, other in ((range(10, change - 40, 10), 0, 1), (range(change + 5, frames.shape[0], 10), 1, 0)):
        near = [ssim(frames[k], own[mine]) for k in span]
        far = [ssim(frames[k], own[other]) for k in span]
        assert np.mean(near) > np.mean(far) + 0.2
    moving = np.flatnonzero((prepared.pictures > 0).sum(axis=1) == 2)
    assert 10 <= moving.size <= 40  # two beats at 120 bpm: 30 frames
    middle = int(moving[np.argmin(np.abs(prepared.pictures[moving, 1] - 0.5))])
    whole = [prepared.pictures.copy() for _ in range(2)]
    for index, shares in enumerate(whole):
        shares[middle] = np.eye(2)[index]
    ends = [neuromv.FrameSource(prepared.panels, 48, 48, pictures=shares, sharpen=prepared.sharpen).frame(middle)
            for shares in whole]
    fade = (ends[0].astype(np.float64) + ends[1]) / 2
    assert np.abs(frames[middle] - fade).mean() > 8.0  # the network's own in-between, not a cross-fade
    change = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))  # change[k]: from frame k to k + 1
    beats = set(beat_frames(prepared.feature_bank()).tolist())
    steady = [change[k - 1] for k in moving if k not in beats and k - 1 not in beats]
    assert max(steady) <= 3 * np.median(steady)  # an even pace between the music's own hits


def test_a_cue_file_is_obeyed_to_the_frame_and_can_show_a_picture_again(tmp_path):
    song, covers = two_halves(tmp_path / "halves.wav"), pictures(tmp_path)
    cue = tmp_path / "cue.json"
    cue.write_text(json.dumps([{"picture": "stripes.png", "start": 3.0}, {"picture": 0, "start": 6.5},
                               {"picture": "stripes.png", "section": 2}]))
    prepared = prepare(make_spec(song=song, image=list(covers), cue=cue, size=32, steps=0, quiet=True,
                                 transition=1))
    frames = [c["frame"] for c in prepared.made.changes]
    assert frames[:3] == [0, 90, 195] and [c["picture"] for c in prepared.made.changes] == [0, 1, 0, 1]
    shares = prepared.pictures
    assert shares[90, 1] == 1.0 and 0 < shares[89, 1] < 1 and shares[195, 0] == 1.0 and shares[194, 0] < 1


@pytest.mark.parametrize("cue, said", [
    ([{"picture": "other.png", "start": 2.0}], "picture 'other.png' is not one of the images"),
    ([{"picture": 1, "start": 6.0}, {"picture": 0, "start": 3.0}], "before the entry above it"),
    ([{"picture": 1, "start": 60.0}], "past the end of the excerpt"),
    ([{"picture": 1, "section": 9}], "more changes than sections"),
    ({"picture": 1}, "must be a non-empty JSON list"),
])
def test_a_bad_cue_file_is_one_line_and_exit_2(tmp_path, cue, said):
    song, covers = two_halves(tmp_path / "halves.wav"), pictures(tmp_path)
    (tmp_path / "cue.json").write_text(json.dumps(cue))
    run = subprocess.run([sys.executable, "-m", "neuromv", "render", str(song), "--image", str(covers[0]),
                          "--image", str(covers[1]), "--cue", str(tmp_path / "cue.json"), "--size", "32", "-q",
                          "-o", str(tmp_path / "out.mp4")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and said in lines[0] and "cue.json" in lines[0], run.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_more_pictures_than_the_song_has_sections_is_one_line(tmp_path):
    song, covers = two_halves(tmp_path / "halves.wav"), pictures(tmp_path)
    third = tmp_path / "third.png"
    Image.open(covers[0]).rotate(90).save(third)
    with pytest.raises(neuromv.OptionError, match="3 pictures need 2 changes of section"):
        prepare(make_spec(song=song, image=[*covers, third], size=32, steps=0, quiet=True))


def test_the_spec_takes_a_list_of_covers_and_the_video_records_them(tmp_path):
    song, covers = two_halves(tmp_path / "halves.wav"), pictures(tmp_path)
    video = neuromv.render(song, tmp_path / "v.mp4", image=list(covers), size=32, steps=60, quiet=True,
                           duration=12.0)
    tag = neuromv.probe(video).metadata
    assert tag["spec"]["image"] == ["rings.png", "stripes.png"] and len(tag["image_sha256"]) == 2
    assert tag["made"]["network"]["pictures"] == 2 and len(tag["made"]["pictures"]) == 2
    again = like(video)  # both covers are beside the video
    assert again.images == tuple(str(tmp_path / name) for name in ("rings.png", "stripes.png"))

    shown = subprocess.run([sys.executable, "-m", "neuromv", "info", str(video)], capture_output=True, text=True,
                           timeout=120)
    assert shown.returncode == 0 and "stripes.png from" in shown.stdout, shown.stderr


def test_with_stems_every_panel_follows_the_same_sequence(tmp_path):
    song, covers = two_halves(tmp_path / "halves.wav"), pictures(tmp_path)
    prepared = prepare(make_spec(song=song, image=list(covers), size=32, steps=300, quiet=True, stems=2,
                                 separator="hpss", cache=False))
    change = prepared.made.changes[1]["frame"]
    frames = _frames(prepared)  # two 32² panels side by side
    own = _own(covers, 32)
    for left in (0, 32):
        for span, mine, other in ((range(5, change - 40, 10), 0, 1), (range(change + 5, len(frames), 10), 1, 0)):
            panel = [frames[k][:, left:left + 32] for k in span]
            assert np.mean([ssim(p, own[mine]) - ssim(p, own[other]) for p in panel]) > 0.1


def test_a_cue_file_with_a_one_picture_model_and_the_classic_look_with_two_covers(tmp_path):
    song, covers = two_halves(tmp_path / "halves.wav"), pictures(tmp_path)
    model = tmp_path / "one.pt"
    neuromv.render(song, tmp_path / "one.mp4", image=covers[0], size=32, steps=0, quiet=True, duration=2.0,
                   save_model=model, preset="classic")
    (tmp_path / "cue.json").write_text(json.dumps([{"picture": 0, "start": 1.0}]))
    with pytest.raises(neuromv.OptionError, match="holds one picture"):
        prepare(make_spec(song=song, model=model, cue=tmp_path / "cue.json", size=32, quiet=True))
    classic = prepare(make_spec(song=song, image=list(covers), size=32, steps=100, quiet=True, preset="classic"))
    assert classic.pictures is not None and classic.made.changes[1]["image"] == "stripes.png"
