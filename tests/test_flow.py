"""The default look, flow: the varied fit, in which the network learns the cover's variations indexed by z, so the
music moves the picture through the network and not through parameters drawn over it; its latents' swings scaled to
``--motion`` and held under the flash limit. Real renders, read back and scored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import beat_track, tone, write_wav
from PIL import Image

import neuromv
from neuromv.influence import influence
from neuromv.look import presets
from neuromv.prepared import prepare
from neuromv.scoring import ssim
from neuromv.spec import make_spec


def test_a_varied_fit_moves_the_cover_through_z_where_a_faithful_one_holds_it_still(tmp_path):
    song = write_wav(tmp_path / "drums.wav", beat_track(3.0, bpm=140)[0])
    y, x = np.mgrid[0:96, 0:96] / 96.0
    picture = np.stack([x, y, 0.5 + 0.5 * np.sin(10 * x) * np.cos(7 * y)], axis=2)
    Image.fromarray((picture * 255).astype(np.uint8)).save(tmp_path / "cover.png")
    found = {}
    for fit in ("faithful", "varied"):
        preset = f'{{"version": 1, "name": "{fit}", "description": "-", "fit": "{fit}", "params": {{}}}}'
        prepared = prepare(make_spec(song=song, image=tmp_path / "cover.png", size=64, steps=300, preset=preset,
                                     quiet=True, flash_limit=False))
        frames = np.concatenate(list(prepared.frames().batches())).astype(np.float64) / 255.0
        cover = np.asarray(Image.open(tmp_path / "cover.png").resize((64, 64)), np.float64) / 255.0
        found[fit] = influence(prepared), np.mean([ssim(f * 255, cover * 255) for f in frames[::10]])
    (still, still_ssim), (moved, moved_ssim) = found["faithful"], found["varied"]
    assert moved.share == 1.0 and moved.latent_motion > 3 * still.latent_motion and moved.latent_motion > 1.0
    assert moved_ssim > 0.5 and still_ssim > moved_ssim - 0.3  # still the cover


def _variations(seconds: float = 4.0):
    """A beat track's mel latents and a picture with shapes and mid-tones, as a varied fit sees them."""
    import torch

    from neuromv.io.audio import Audio
    from neuromv.music.mel import mel_latents
    from neuromv.network.fit import Variations

    samples, _ = beat_track(seconds, bpm=132)
    latents = mel_latents(Audio(samples.astype(np.float32)[None], 22050, Path("beat.wav")), 30)
    y, x = np.mgrid[0:64, 0:64] / 64.0
    picture = np.stack([0.3 + 0.4 * x, 0.3 + 0.4 * y, 0.5 + 0.3 * np.sin(9 * x) * np.cos(6 * y)], axis=2)
    return Variations(latents, (1.0, 1.0), seed=0), torch.from_numpy(picture.astype(np.float32)).permute(2, 0, 1)[None]


def test_the_variations_are_as_deep_as_the_motion_asks_and_no_deeper_than_keeps_the_cover():
    from neuromv.network.fit import VARIED_FIDELITY, VARIED_HEADROOM

    variations, picture = _variations()
    shallow = variations.solve(picture, 0.3)  # a little motion: the cover is kept easily
    assert abs(variations.motion(picture) - 0.3 * VARIED_HEADROOM) < 0.1 * 0.3 * VARIED_HEADROOM
    deep = variations.solve(picture, 3.0)
    assert deep > 2 * shallow
    assert variations.motion(picture) <= 3.0 * VARIED_HEADROOM * 1.05
    assert variations.fidelity(picture) >= VARIED_FIDELITY - 0.01
    variations.depth = deep * 1.5  # deeper than solved: either more motion than asked or less of the cover
    assert variations.motion(picture) > 3.0 * VARIED_HEADROOM or variations.fidelity(picture) < VARIED_FIDELITY


def test_a_fit_step_shows_the_network_a_rows_components_with_another_rows_rest():
    import torch

    variations, picture = _variations()
    z = torch.from_numpy(variations.latents[:8])
    other = torch.from_numpy(variations.latents[-8:])
    mixed = variations.mixed(z, other)
    assert torch.allclose(variations.amounts(mixed), variations.amounts(z), atol=1e-4)  # the same targets
    assert torch.allclose(variations.mixed(z, z), z, atol=1e-5)
    assert (mixed - z).abs().mean() > 1e-3  # and the rest of z is another row's


def test_flow_meets_the_motion_knob_by_its_latents_gain_and_records_it(tmp_path):
    song = write_wav(tmp_path / "drums.wav", beat_track(3.0, bpm=140)[0])
    y, x = np.mgrid[0:96, 0:96] / 96.0
    picture = np.stack([0.2 + 0.5 * x, 0.3 + 0.4 * y, 0.5 + 0.3 * np.sin(10 * x) * np.cos(7 * y)], axis=2)
    Image.fromarray((picture * 255).astype(np.uint8)).save(tmp_path / "cover.png")
    spec = make_spec(song=song, image=tmp_path / "cover.png", size=64, steps=300, preset="flow", quiet=True,
                     flash_limit=False, motion=1.0)
    prepared = prepare(spec)
    scaling = prepared.moves.latent_scaling
    from neuromv.look.motion import MAX_LATENT_GAIN

    assert scaling is not None and scaling.wanted == 1.0 and 0 < scaling.gain <= MAX_LATENT_GAIN
    if scaling.gain < MAX_LATENT_GAIN:  # the preview of every frame moves as asked, or as far as the gain may take it
        assert abs(scaling.preview - 1.0) < 0.15, scaling
    assert 0.4 < scaling.preview < 1.15, scaling
    from neuromv.io.audio import load_audio
    from neuromv.music.mel import mel_latents

    raw = mel_latents(load_audio(song), 30)
    centre = raw.mean(axis=0)
    ((_, latents),) = prepared.panels  # what every frame is drawn from: the song's latents, scaled about their mean
    assert np.allclose(latents, centre + scaling.gain * (raw - centre), atol=1e-3)


def test_flow_on_a_dense_strobe_like_song_stays_under_the_flash_limit_and_keeps_its_timing(tmp_path):
    samples, _ = beat_track(6.0, bpm=174)
    samples = samples + beat_track(6.0, bpm=348, offset=0.1)[0] * 0.7  # hits ten times a second
    song = write_wav(tmp_path / "dense.wav", samples)
    y, x = np.mgrid[0:96, 0:96] / 96.0
    bright = np.stack([0.6 + 0.4 * x, 0.7 + 0.3 * y, 0.5 + 0.4 * np.sin(8 * x) * np.cos(5 * y)], axis=2)
    Image.fromarray((np.clip(bright, 0, 1) * 255).astype(np.uint8)).save(tmp_path / "bright.png")
    video = neuromv.render(song, tmp_path / "dense.mp4", image=tmp_path / "bright.png", size="64x64", steps=300,
                           preset="flow", motion=12.0, quiet=True)
    result = neuromv.score(video)
    assert result.flashes <= 3 and result.red_flashes <= 3, result
    assert result.reactivity_best >= 0.3, result  # scaled, not smoothed: the picture still moves on the hits


@pytest.mark.parametrize("size", [64, 128])
def test_flow_keeps_a_latent_share_and_every_frame_the_cover_at_two_sizes(tmp_path, size):
    song = write_wav(tmp_path / "drums.wav", beat_track(3.0, bpm=128)[0])
    y, x = np.mgrid[0:128, 0:128] / 128.0
    picture = np.stack([0.25 + 0.5 * x, 0.3 + 0.4 * y, 0.5 + 0.3 * np.sin(9 * x) * np.cos(6 * y)], axis=2)
    Image.fromarray((picture * 255).astype(np.uint8)).save(tmp_path / "cover.png")
    prepared = prepare(make_spec(song=song, image=tmp_path / "cover.png", size=size, steps=400, quiet=True))
    assert prepared.spec.preset == presets.load("flow").to_json()  # the default
    frames = np.concatenate(list(prepared.frames().batches())).astype(np.float64)
    cover = np.asarray(Image.open(tmp_path / "cover.png").resize((size, size)), np.float64)
    found = influence(prepared)
    similar = [ssim(frame, cover) for frame in frames[::6]]
    assert found.share >= 0.6 and found.latent_motion >= 1.5, found  # the floors (measured: 1 and 2.9)
    assert np.percentile(similar, 10) >= 0.7  # measured 0.87-0.89


def test_the_default_moves_by_the_motion_knob_and_a_recorded_spec_draws_the_same_frames(tmp_path):
    drums = write_wav(tmp_path / "drums.wav", beat_track(6.0, bpm=128)[0])
    moved = {}
    for motion in (1.5, 3.0):
        video = neuromv.render(drums, tmp_path / f"m{motion}.mp4", size="64x64", motion=motion, quiet=True)
        moved[motion] = neuromv.score(video).motion
        made = neuromv.probe(video).metadata
        assert 0.7 * motion <= moved[motion] <= 1.4 * motion, (motion, moved[motion], made["made"])
        assert presets.load(made["spec"]["preset"]).fit == "varied"
        assert made["made"]["latent_motion"]["wanted"] == motion
    assert moved[3.0] > 1.5 * moved[1.5]
    recorded = neuromv.RenderSpec.from_dict(neuromv.probe(tmp_path / "m3.0.mp4").metadata["spec"])
    again = neuromv.render(spec=recorded.replace(song=str(drums), output=str(tmp_path / "again.mp4"), quiet=True))
    assert np.array_equal(neuromv.read_frames(again), neuromv.read_frames(tmp_path / "m3.0.mp4"))


def test_soft_music_moves_the_default_too(tmp_path):
    song = write_wav(tmp_path / "pad.wav", tone(6.0, level=0.1) * (1 + 0.8 * np.sin(np.linspace(0, 9, 6 * 22050))))
    result = neuromv.score(neuromv.render(song, tmp_path / "soft.mp4", size="64x64", quiet=True))
    assert result.motion >= 0.7 * 3.0, result


def test_the_default_unfitted_render_of_a_dense_beat_track_does_not_flash(tmp_path):
    samples, _ = beat_track(8.0, bpm=174)
    samples = samples + beat_track(8.0, bpm=348, offset=0.1)[0] * 0.7
    song = write_wav(tmp_path / "dense.wav", samples)
    result = neuromv.score(neuromv.render(song, tmp_path / "dense.mp4", size="128x128", quiet=True))
    assert result.flashes <= 3 and result.red_flashes <= 3, result
    assert result.motion >= 1.0, result


def test_a_preset_over_a_varied_network_is_tamed_by_its_parameters_and_the_latents_keep_their_timing(tmp_path):
    """pulse (a zoom on every beat) over flow's fit on a song that hits ten times a second: the flash limit smooths
    the preset's tracks, never the latents, which were scaled under it already."""
    from neuromv.look.flashes import TARGET_RATE, flashes

    samples, _ = beat_track(6.0, bpm=174)
    song = write_wav(tmp_path / "dense.wav", samples + beat_track(6.0, bpm=348, offset=0.1)[0] * 0.7)
    y, x = np.mgrid[0:96, 0:96] / 96.0
    bright = np.stack([0.6 + 0.4 * x, 0.7 + 0.3 * y, 0.5 + 0.4 * np.sin(8 * x) * np.cos(5 * y)], axis=2)
    Image.fromarray((np.clip(bright, 0, 1) * 255).astype(np.uint8)).save(tmp_path / "bright.png")
    pulse = presets.load("pulse")
    strong = presets.Preset("strong", "-", {**pulse.params, "brightness": presets.Mapping(
        feature="onset", min=-0.3, max=0.3)}, fit="varied")  # light that would flash on every hit
    prepared = prepare(make_spec(song=song, image=tmp_path / "bright.png", size=64, steps=300, quiet=True,
                                 preset=strong.to_json(), motion=6.0))
    scaling, taming = prepared.moves.latent_scaling, prepared.moves.taming
    assert scaling is not None and taming is not None and taming.window > 1, (scaling, taming)  # the preset tamed
    from neuromv.io.audio import load_audio
    from neuromv.music.mel import mel_latents

    raw = mel_latents(load_audio(song), 30)
    centre = raw.mean(axis=0)
    ((_, latents),) = prepared.panels  # the latents as scaled: not smoothed
    assert np.allclose(latents, centre + scaling.gain * (raw - centre), atol=1e-3)
    frames = np.concatenate(list(prepared.frames().batches()))
    assert flashes(frames, 30.0).worst <= TARGET_RATE + 0.5
