"""The analysis neuromv does itself: the median-filtering split, the chroma and the beat tracker of the feature bank."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import RATE, clicks, tone
from scipy.ndimage import median_filter

from neuromv.io.audio import Audio
from neuromv.music.bank import N_FFT, PITCHES, chroma_basis, feature_bank
from neuromv.music.beats import tempo_period, track
from neuromv.music.hpss import harmonic_share, median_along
from neuromv.music.stems import SEPARATION_RATE, _hpss


@pytest.mark.parametrize("shape", [(300, 129), (5, 40), (3, 4), (1, 1)])
@pytest.mark.parametrize("size,axis", [(7, 0), (31, 1), (31, 0), (1, 1)])
def test_the_row_median_is_scipys_two_dimensional_median(shape, size, axis):
    values = np.random.default_rng(size + axis).random(shape).astype(np.float32)
    footprint = (size, 1) if axis == 0 else (1, size)
    assert np.array_equal(median_along(values, size, axis), median_filter(values, size=footprint, mode="reflect"))


def test_the_split_gives_a_held_tone_to_the_harmonic_part_and_hits_to_the_percussive_part():
    frames, bins = 200, 256
    magnitude = np.full((frames, bins), 1e-3, np.float32)
    magnitude[:, 40] = 1.0  # a tone: a horizontal line
    magnitude[::25, :] = 1.0  # hits: vertical lines
    share = harmonic_share(magnitude, 9, 31)
    tone_bins = share[np.arange(frames) % 25 != 0, 40]
    hit_frames = share[::25, np.r_[0:30, 50:bins]]
    assert tone_bins.min() > 0.99 and hit_frames.max() < 0.01
    assert harmonic_share(np.zeros((10, 10), np.float32), 3, 3).max() == 0.0  # silence is neither


@pytest.mark.parametrize("hz,pitch", [(220.0, "A"), (261.63, "C"), (329.63, "E"), (739.99, "F#"), (98.0, "G")])
def test_a_tones_chroma_is_its_pitch_class(hz, pitch):
    t = np.arange(N_FFT) / RATE
    window = np.hanning(N_FFT + 2)[1:-1]
    power = np.abs(np.fft.rfft(np.sin(2 * np.pi * hz * t) * window)) ** 2
    chroma = chroma_basis() @ power
    assert PITCHES[int(np.argmax(chroma))] == pitch
    if hz > 200:  # below, a bin spans more than a semitone and the neighbours share it
        assert np.sort(chroma)[-2] < 0.5 * chroma.max()


@pytest.mark.parametrize("bpm", [72.0, 100.0, 128.0, 150.0])
@pytest.mark.parametrize("fps", [24, 30, 60])
def test_the_tracker_finds_a_click_tracks_tempo_and_every_click(bpm, fps):
    seconds = 30.0
    times = list(np.arange(0.37, seconds - 0.1, 60.0 / bpm))
    song = Audio((clicks(seconds, times) + tone(seconds, level=0.05))[None], RATE, Path("clicks.wav"))
    bank = feature_bank(song, fps)
    onset = bank["onset"]
    period = tempo_period(onset, fps)
    assert period is not None and 60.0 * fps / period == pytest.approx(bpm, rel=0.02)
    beats = track(onset, fps)
    assert np.array_equal(np.flatnonzero(bank["beat"] == 1.0), beats)  # the bank's pulse is the tracker's
    clicked = np.asarray(times)
    assert len(beats) == len(clicked)
    # within 50 ms: the onset rises as the click enters the bank's 93 ms window, a frame or two early at 60 fps
    assert np.abs(beats / fps - clicked).max() <= 0.05


def test_no_beats_in_silence_or_a_song_too_short_for_two():
    assert track(np.zeros(900), 30.0).size == 0
    assert track(np.ones(30), 30.0).size == 0


def test_the_built_in_stems_split_a_tone_from_drum_hits_and_add_up_to_the_mix():
    seconds = 6.0
    held = np.interp(np.arange(round(seconds * SEPARATION_RATE)) / SEPARATION_RATE,
                     np.arange(round(seconds * RATE)) / RATE, tone(seconds, level=0.3))
    hits = np.interp(np.arange(held.shape[0]) / SEPARATION_RATE, np.arange(round(seconds * RATE)) / RATE,
                     clicks(seconds, list(np.arange(0.1, seconds, 0.25))))
    mix = np.stack([held + hits] * 2).astype(np.float32)
    parts = _hpss(mix, 2)
    assert set(parts) == {"harmonic", "percussive"} and all(p.shape == (1, mix.shape[1]) for p in parts.values())
    assert np.corrcoef(parts["harmonic"][0], held)[0, 1] > 0.98
    assert np.corrcoef(parts["percussive"][0], hits)[0, 1] > 0.95
    assert np.abs(parts["harmonic"][0] + parts["percussive"][0] - mix[0]).max() < 1e-4
