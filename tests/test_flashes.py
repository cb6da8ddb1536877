"""Photosensitivity: WCAG 2.3.1's general and red flashes with its area rule, on arrays and on real videos."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from conftest import beat_track, write_wav

import neuromv
from neuromv import VideoWriter, read_frames
from neuromv.look.flashes import Meter, flashes, merged, suspects, transitions

FPS = 30


def strobe(frames: int, on: tuple[int, int, int], off: tuple[int, int, int], period: int = 6,
           box: tuple[slice, slice] = (slice(None), slice(None)), side: int = 64) -> np.ndarray:
    """uint8 [frames, side, side, 3]: ``box`` alternates between ``on`` and ``off`` every ``period // 2`` frames."""
    video = np.zeros((frames, side, side, 3), np.uint8)
    video[:] = off
    for t in range(frames):
        if (t // (period // 2)) % 2:
            video[t][box] = on
    return video


def test_a_full_screen_strobe_fails_and_a_still_passes():
    assert flashes(strobe(90, (255, 255, 255), (0, 0, 0)), FPS).general == 5.0  # 5 Hz: 10 transitions a second
    still = flashes(np.full((90, 64, 64, 3), 140, np.uint8), FPS)
    assert (still.general, still.red, still.safe) == (0.0, 0.0, True)
    slow = flashes(strobe(90, (255, 255, 255), (0, 0, 0), period=20), FPS)  # 1.5 Hz
    assert slow.general <= 2 and slow.safe


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_a_video_metered_batch_by_batch_is_metered_as_a_whole(batch):
    video = np.full((200, 64, 64, 3), 60, np.uint8)
    video[40:75] = strobe(35, (255, 255, 255), (0, 0, 0))  # general flashes
    video[120:160] = strobe(40, (255, 0, 0), (0, 140, 0), period=8, box=(slice(0, 40), slice(0, 40)))  # red ones
    meter = Meter(video.shape[0], FPS, 2.5)
    for first in range(0, video.shape[0], batch):
        meter.add(video[first:first + batch])
    whole, spans = suspects(video, FPS, 2.5)
    assert meter.found == whole and meter.spans() == spans
    assert spans[0][0] <= 40 and spans[-1][1] >= 160 and not whole.safe
    assert meter.kinds[0][1].ring.shape[0] == FPS  # a second of transitions held, whatever the length


def test_the_suspects_are_where_a_strobe_flashes_with_a_second_before_it():
    video = np.full((300, 64, 64, 3), 60, np.uint8)
    video[150:180] = strobe(30, (255, 255, 255), (0, 0, 0))  # a second of 5 Hz strobe in ten seconds of still
    found, spans = suspects(video, FPS, 2.5)
    assert found == flashes(video, FPS) and not found.safe
    assert len(spans) == 1 and spans[0][0] <= 150 and spans[0][1] >= 180  # it, with its history
    assert spans[0][0] >= 150 - 2 * FPS and spans[0][1] <= 180 + FPS
    assert not flashes(np.delete(video, np.arange(*spans[0]), axis=0), FPS).general  # nothing flashes outside
    assert suspects(np.full((90, 64, 64, 3), 60, np.uint8), FPS, 2.5)[1] == []
    assert merged([(5, 9), (0, 3), (3, 4), (8, 12)]) == [(0, 4), (5, 12)]


def test_small_changes_and_light_states_do_not_flash():
    assert flashes(strobe(90, (40, 40, 40), (30, 30, 30)), FPS).safe  # below 0.1 of relative luminance
    assert flashes(strobe(90, (255, 255, 255), (238, 238, 238)), FPS).safe  # both states above 0.8
    noise = 128 + np.random.default_rng(0).integers(-6, 7, (90, 64, 64, 3))
    assert flashes(noise.astype(np.uint8), FPS).general == 0.0


def test_the_area_rule_counts_only_flashes_over_a_quarter_of_a_ten_degree_field():
    # the field is a third of the frame a side: 21 px of 64; a quarter of it is about 10 x 10 px
    small = strobe(90, (255, 255, 255), (0, 0, 0), box=(slice(10, 17), slice(10, 17)))
    large = strobe(90, (255, 255, 255), (0, 0, 0), box=(slice(10, 26), slice(10, 26)))
    assert flashes(small, FPS).safe and not flashes(large, FPS).safe


def test_a_red_strobe_of_equal_luminance_fails_the_red_check_only():
    result = flashes(strobe(90, (255, 0, 0), (0, 148, 0)), FPS)  # saturated red against a green as bright
    assert result.general == 0.0 and result.red == 5.0 and not result.safe


def test_hysteresis_counts_a_slow_ramp_once():
    ramp = np.linspace(0.0, 0.6, 60)[:, None]
    assert transitions(ramp, 0.1, 0.8).sum() == 1
    back_and_forth = np.array([0.0, 0.3, 0.25, 0.3, 0.0, 0.3])[:, None]
    assert transitions(back_and_forth, 0.1, 0.8)[:, 0].tolist() == [False, True, False, False, True, True]


def _video(path, frames: np.ndarray) -> str:
    with VideoWriter(path, frames.shape[2], frames.shape[1], Fraction(FPS)) as writer:
        writer.write(frames)
    return str(path)


def test_score_reports_flashes_of_a_real_video(tmp_path):
    song = write_wav(tmp_path / "beats.wav", beat_track(3.0)[0])
    blinking = neuromv.score(_video(tmp_path / "strobe.mp4", strobe(90, (255, 255, 255), (0, 0, 0), side=128)),
                             audio=song)
    assert blinking.flashes == 5.0 and blinking.red_flashes == 0.0
    still = neuromv.score(_video(tmp_path / "still.mp4", np.full((90, 128, 128, 3), 90, np.uint8)), audio=song)
    assert still.flashes == 0.0 and still.red_flashes == 0.0


@pytest.fixture(scope="module")
def dense_song(tmp_path_factory):
    """8 s of hits on every beat and half beat at 174 bpm (5.8 a second): a default render of it flashes."""
    samples, _ = beat_track(8.0, bpm=174)
    samples = samples + beat_track(8.0, bpm=348, offset=0.1)[0] * 0.7
    return write_wav(tmp_path_factory.mktemp("dense") / "dense.wav", samples)


def test_the_flash_limit_tames_a_render_that_would_flash_and_says_so(tmp_path, dense_song, caplog):
    wild = neuromv.score(neuromv.render(dense_song, tmp_path / "wild.mp4", size="128x128", preset="classic",
                                        quiet=True))  # classic is left as it always was
    assert wild.flashes > 3 or wild.red_flashes > 3  # what the limit is for
    with caplog.at_level("WARNING", logger="neuromv"):
        video = neuromv.render(dense_song, tmp_path / "tame.mp4", size="128x128", preset="classic", quiet=True,
                               flash_limit=True)
    result = neuromv.score(video)
    assert result.flashes <= 3 and result.red_flashes <= 3, result
    assert result.motion > 0.5  # smoothed, not stopped
    assert any("tamed: the video would flash" in m for m in caplog.messages)
    made = neuromv.probe(video).metadata["made"]["flashes"]
    assert made["window"] > 1 and made["before"] > 3 >= made["after"]


def test_the_flash_limit_leaves_a_calm_render_exactly_as_it_was(tmp_path, cover):
    song = write_wav(tmp_path / "pad.wav", beat_track(3.0, bpm=60)[0] * 0.3)
    options = dict(size="48x48", image=cover, steps=200, motion=1.0, preset="classic", quiet=True)
    plain = neuromv.render(song, tmp_path / "plain.mp4", **options)
    guarded = neuromv.render(song, tmp_path / "guarded.mp4", flash_limit=True, **options)
    assert neuromv.probe(guarded).metadata["made"]["flashes"]["window"] == 1
    assert np.array_equal(read_frames(plain), read_frames(guarded))
