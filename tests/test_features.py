"""Latents: one per frame, on the exact grid, loudness-independent, no drift over long songs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import RATE, clicks, tone

import neuromv
from neuromv.io.audio import Audio
from neuromv.music.mel import LatentConfig, log_mel, mel_filterbank, mel_latents


def as_audio(samples: np.ndarray, rate: int = RATE) -> Audio:
    return Audio(samples[None].astype(np.float32), rate, source=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("fps", [24, 30, 60, "29.97"])
def test_one_latent_per_frame(fps):
    samples = tone(2.05) + clicks(2.05, [0.5, 1.5])
    latents = mel_latents(as_audio(samples), fps, LatentConfig(latent_dim=16))
    assert latents.shape == (math.ceil(2.05 * float(neuromv.as_fps(fps)) - 1e-9), 16)
    assert latents.dtype == np.float32 and np.all(np.abs(latents) < 1)


def onset_frames(latents: np.ndarray) -> np.ndarray:
    rise = np.maximum(np.diff(latents, axis=0), 0).sum(axis=1)  # rise into frame i + 1
    return rise


@pytest.mark.parametrize("fps", [30, "29.97", 24])
def test_no_drift_over_ten_minutes(fps):
    exact = neuromv.as_fps(fps)
    seconds = 600.0
    frames_at = [100, 9000, math.floor(seconds * exact) - 40]
    times = [float(k / exact) for k in frames_at]
    samples = tone(seconds, level=0.01) + clicks(seconds, times)
    latents = mel_latents(as_audio(samples), exact, LatentConfig(latent_dim=16, release=0.1))
    rise = onset_frames(latents)
    for k in frames_at:
        window = rise[k - 10:k + 10]
        assert k - 10 + 1 + int(np.argmax(window)) in (k, k + 1), f"hit at frame {k} seen elsewhere"


def test_loudness_independent():
    samples = tone(3.0) + clicks(3.0, [0.5, 1.0, 2.0])
    loud = mel_latents(as_audio(samples), 30, LatentConfig(latent_dim=24))
    quiet = mel_latents(as_audio(samples * 0.01), 30, LatentConfig(latent_dim=24))
    assert np.abs(loud - quiet).max() < 0.05
    assert loud.std() > 0.1


def test_smoothing_attacks_fast_releases_slowly():
    samples = tone(3.0, level=0.01) + clicks(3.0, [1.0])
    raw = mel_latents(as_audio(samples), 30, LatentConfig(latent_dim=8, release=0))
    smooth = mel_latents(as_audio(samples), 30, LatentConfig(latent_dim=8, release=0.5))
    hit = 30
    assert np.allclose(smooth[hit], raw[hit], atol=1e-6) or smooth[hit].mean() >= raw[hit].mean() - 1e-6
    assert smooth[hit + 6].mean() > raw[hit + 6].mean() + 0.05  # still high after 0.2 s


def test_mel_filterbank_shape_and_coverage():
    bank = mel_filterbank(22050, 1470, 64, 30.0, 11025.0)
    assert bank.shape == (64, 736)
    assert np.all(bank >= 0) and np.all(bank.sum(axis=1) > 0)  # no empty filter
    peaks = bank.argmax(axis=1)
    assert np.all(np.diff(peaks) >= 0)  # ordered by frequency


@pytest.mark.parametrize("fps", [30, "29.97", 24])
def test_streamed_blocks_give_the_same_latents(fps):
    rng = np.random.default_rng(1)
    samples = tone(7.3) + clicks(7.3, [0.5, 3.0, 7.0])
    whole = log_mel(samples, RATE, fps, LatentConfig(latent_dim=16))
    cuts = np.sort(rng.choice(np.arange(1, len(samples)), size=12, replace=False))
    blocks = np.split(samples, np.concatenate([[1, 2, 5], cuts]))  # tiny blocks, then random ones
    np.testing.assert_allclose(log_mel(iter(blocks), RATE, fps, LatentConfig(latent_dim=16)), whole, atol=1e-3)


def test_stream_from_file_matches_loaded(tmp_path):
    from conftest import write_wav

    path = write_wav(tmp_path / "s.wav", tone(25.0) + clicks(25.0, [1.0, 12.0, 24.0]))
    loaded = mel_latents(neuromv.load_audio(path, start=0.5), 30)
    stream = neuromv.open_audio(path, start=0.5, block_seconds=3.0)
    np.testing.assert_allclose(mel_latents(stream, 30), loaded, atol=1e-5)
    assert stream.n_samples == round(24.5 * RATE)


def test_the_latents_golden_vectors_hold():
    """tests/data/latent_vectors.json (scripts/latent_vectors.py) pins the mel latents down for every implementation:
    this one, and the browser player's (tests/test_player.py)."""
    import json
    import sys
    from dataclasses import asdict
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from latent_vectors import samples_of

    cases = json.loads((Path(__file__).parent / "data" / "latent_vectors.json").read_text())["cases"]
    assert len(cases) >= 4
    for case in cases:
        config = LatentConfig(**case["config"])
        assert asdict(config) == case["config"]
        audio = Audio(samples_of(case["samples_e4"])[None], case["rate"], Path("golden.wav"))
        got = mel_latents(audio, case["fps"], config)
        expected = np.asarray(case["expected"], np.float32)
        assert got.shape == expected.shape and np.abs(got - expected).max() <= 1e-6, case["name"]
