"""What moves the picture: the latent share, measured on previews drawn three ways, and by ``neuromv score``."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import beat_track, write_wav

import neuromv
from neuromv.draw import FrameSource
from neuromv.influence import first_component, influence, preview_size
from neuromv.look.effects import LUMA
from neuromv.prepared import prepare
from neuromv.spec import make_spec


@pytest.fixture(scope="module")
def drums(tmp_path_factory):
    return write_wav(tmp_path_factory.mktemp("influence") / "drums.wav", beat_track(2.0, bpm=150)[0])


def test_a_network_that_ignores_z_has_no_latent_share(drums):
    prepared = prepare(make_spec(song=drums, preset="pulse", size=64, quiet=True, flash_limit=False))
    moved = influence(prepared)
    assert moved.latent > 0.5 and moved.preset > 0.5 and 0 < moved.share < 1 and moved.latent_motion > 0
    deaf = prepared.panels[0][0]
    with torch.no_grad():
        deaf.latent.weight.zero_()  # z reaches nothing
    still = influence(replace(prepared, panels=[(deaf, prepared.panels[0][1])]))
    assert still.latent == 0.0 and still.share == 0.0 and still.latent_motion == 0.0 and still.preset > 0.5


def test_the_share_is_what_the_frames_drawn_three_ways_say(drums):
    """influence() against the figures computed from every frame of FrameSources built here."""
    prepared = prepare(make_spec(song=drums, preset="pulse", size=64, quiet=True, flash_limit=False))
    (network, latents), = prepared.panels
    width, height = preview_size(prepared.spec.panel_size)
    frozen = np.repeat(latents.mean(axis=0, dtype=np.float64).astype(np.float32)[None], len(latents), axis=0)

    def gray(z: np.ndarray, params) -> np.ndarray:
        source = FrameSource([(network, z)], width, height, params=params)
        return np.concatenate(list(source.batches())).astype(np.float32) @ np.asarray(LUMA, np.float32)

    shown, still, neutral = gray(latents, prepared.params), gray(frozen, prepared.params), gray(latents, None)
    pairs = np.stack([np.arange(len(latents) - 1), np.arange(1, len(latents))], axis=1).ravel()
    latent = np.abs(shown - still)[pairs].mean()
    preset = np.abs(shown - neutral)[pairs].mean()
    found = influence(prepared)
    assert found.latent == pytest.approx(latent, rel=1e-5) and found.preset == pytest.approx(preset, rel=1e-5)
    assert found.share == pytest.approx(latent / (latent + preset), rel=1e-5)
    assert found.latent_motion == pytest.approx(np.abs(np.diff(neutral, axis=0)).mean(), rel=1e-5)


def test_the_first_component_tells_one_pulse_from_many_directions():
    rng = np.random.default_rng(0)
    pulse = rng.standard_normal((200, 1)) * rng.standard_normal((1, 50))
    assert first_component(pulse) == pytest.approx(1.0)
    assert first_component(rng.standard_normal((200, 50))) < 0.1
    assert first_component(np.ones((10, 5))) == 0.0


def test_score_reports_the_latent_share_of_the_video_rendered_again(drums, tmp_path):
    saved = tmp_path / "net.pt"
    prepared = prepare(make_spec(song=drums, preset="pulse", size=64, quiet=True, save_model=saved,
                                 flash_limit=False))
    video = neuromv.render(drums, tmp_path / "v.mp4", model=saved, preset="pulse", size=64, quiet=True,
                           flash_limit=False)
    figures = neuromv.score(video, audio=drums, latents=True)
    direct = influence(prepared)
    assert figures.latent_share == pytest.approx(direct.share, rel=1e-5)
    assert figures.latent_motion == pytest.approx(direct.latent_motion, rel=1e-5)
    assert neuromv.score(video).latent_share is None  # only when asked: it renders the video again
