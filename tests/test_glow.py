"""glow: rings of light over a varied fit of the cover, the preset's swings scaled per song to ``--motion`` (with z
held still, so that they add to the latents' motion) and held under the flash limit; and a scaled preset's swings on
the other fits. Real renders, read back and scored."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from conftest import beat_track, write_wav

import neuromv
from neuromv.io.audio import load_audio
from neuromv.look import presets
from neuromv.look.motion import MAX_GAIN, motion_gain
from neuromv.music.bank import feature_bank


@pytest.fixture(scope="module")
def drums(tmp_path_factory) -> str:
    """6 s of drums at 128 bpm over a pad."""
    return str(write_wav(tmp_path_factory.mktemp("drums") / "drums.wav", beat_track(6.0, bpm=128)[0]))


@pytest.fixture(scope="module")
def detailed(tmp_path_factory) -> str:
    """A 192x192 cover of fine detail: thin rings, a checker corner, lettering-like bars and a soft gradient."""
    from PIL import Image

    side = 192
    y, x = (np.mgrid[0:side, 0:side] + 0.5) / side * 2 - 1
    r = np.hypot(x, y)
    rings = 0.5 + 0.5 * np.cos(2 * np.pi * 9 * r)  # 9 rings a half-side
    checker = ((np.floor(x * 8) + np.floor(y * 8)) % 2 == 0) & (x > 0.3) & (y > 0.3)
    bars = (np.abs(np.sin(np.pi * 12 * x)) > 0.7) & (y < -0.5) & (np.abs(x) < 0.6)
    gray = np.where(checker, 1.0, np.where(bars, 0.05, rings * 0.7 + 0.15 * (x + 1)))
    rgb = np.stack([gray, 0.6 * gray + 0.3 * (y + 1) / 2, 1 - 0.8 * gray], axis=2)
    path = tmp_path_factory.mktemp("detailed") / "detailed.png"
    Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(path)
    return str(path)


def test_a_scaled_preset_scales_every_swing_about_its_neutral_value_and_beyond_one_the_light_speed_too(drums):
    look = dataclasses.replace(presets.load("glow"), fit="faithful")  # z's pull is one of the swings here
    bank = feature_bank(load_audio(drums), 30)
    plain, halved, far = (presets.tracks(p, bank) for p in (look, look.scaled(0.5), look.scaled(6.25)))
    assert look.scaled(6.25).motion is None and look.scaled(6.25).fit == "faithful"
    for name in presets.SWINGS_FROM:  # gain 0.5: half the swings; 6.25: 2.5x the swings and 2.5x the speed
        if name == "latent_gain":  # z's pull scales down, never up: the fitted network saw no further
            assert np.all(far[name] == 1) and np.all(halved[name] == 0.5)
            continue
        origin = presets.SWINGS_FROM[name]
        np.testing.assert_allclose(halved[name] - origin, 0.5 * (plain[name] - origin), atol=1e-5, err_msg=name)
        np.testing.assert_allclose(far[name] - origin, 2.5 * (plain[name] - origin), atol=1e-5, err_msg=name)
    for name in presets.SPEEDS:
        np.testing.assert_array_equal(halved[name], plain[name])
        np.testing.assert_allclose(far[name], 2.5 * plain[name], rtol=1e-5, err_msg=name)
    still = presets.tracks(look.scaled(0.0), bank)
    for name in set(still.names) & set(presets.SWINGS_FROM):  # the light's travel keeps its pace, unseen
        assert np.all(still[name] == presets.SWINGS_FROM[name]), name
    assert np.all(still["latent_gain"] == 0)  # z's pull too: gain 0 is a still picture
    assert presets.load(look.scaled(6.25).to_json()) == look.scaled(6.25)  # as a video records it
    fastest = presets.tracks(look.scaled(25.0), bank)  # the swings stop at MAX_DEPTH; the rest is speed
    assert presets.MAX_DEPTH == 4.0
    for name in set(fastest.names) & set(presets.SWINGS_FROM) - {"latent_gain"}:
        origin = presets.SWINGS_FROM[name]
        np.testing.assert_allclose(fastest[name] - origin, 4.0 * (plain[name] - origin), atol=1e-5, err_msg=name)
    for name in presets.SPEEDS:
        np.testing.assert_allclose(fastest[name], 6.25 * plain[name], rtol=1e-5, err_msg=name)
    varied = presets.load("glow")  # a varied network's latents are scaled on their own, about their mean
    assert varied.fit == "varied" and "latent_gain" not in varied.scaled(0.5).params


def test_the_motion_search_finds_the_gain_of_a_curved_measure():
    calls: list[float] = []

    def measure(gain: float) -> float:  # an offset (z's own motion) and a swing that saturates
        calls.append(gain)
        return 0.6 + 3.0 * np.tanh(0.8 * gain)

    gain = motion_gain(measure, 2.5)
    assert abs(measure(gain) - 2.5) <= 0.05 * 2.5 and len(calls) <= 7
    assert motion_gain(measure, 0.2) == 0.0  # below z's own motion: no swing
    assert motion_gain(measure, 100.0) == pytest.approx(MAX_GAIN)


def test_glow_moves_by_the_motion_knob_and_records_a_plain_preset(tmp_path, drums):
    moved = {}
    for motion in (1.5, 3.0):
        video = neuromv.render(drums, tmp_path / f"m{motion}.mp4", size="64x64", motion=motion, preset="glow",
                               quiet=True)
        moved[motion] = neuromv.score(video).motion
        made = neuromv.probe(video).metadata
        assert 0.7 * motion <= moved[motion] <= 2.8 * motion, (motion, moved[motion], made["made"])  # z's and its own
        recorded = presets.load(made["spec"]["preset"])
        assert recorded.motion is None and recorded.fit == "varied"  # scaled once, for good
        assert made["made"]["motion"]["wanted"] == motion and made["made"]["latent_motion"]["wanted"] == motion
    assert moved[3.0] > 1.5 * moved[1.5]
    recorded = neuromv.RenderSpec.from_dict(neuromv.probe(tmp_path / "m3.0.mp4").metadata["spec"])
    again = neuromv.render(spec=recorded.replace(song=drums, output=str(tmp_path / "again.mp4"), quiet=True))
    assert np.array_equal(neuromv.read_frames(again), neuromv.read_frames(tmp_path / "m3.0.mp4"))


@pytest.mark.parametrize("size", [96, 192])
def test_every_frame_of_a_fitted_glow_render_is_the_cover(tmp_path, drums, detailed, size):
    video = neuromv.render(drums, tmp_path / "fitted.mp4", image=detailed, size=size, steps=600, preset="glow",
                           quiet=True)
    result = neuromv.score(video, image=detailed)
    assert result.ssim_p10 >= SSIM_FLOOR, result
    assert DETAIL_FLOOR <= result.detail <= 1.3, result  # no grain added, at either size, and not a blur
    assert result.motion >= 1.5, result


#: Floors for the detailed cover with 600 fitting steps: every frame's SSIM (10th percentile) and its fine detail,
#: with the sharpening of detail.py.
SSIM_FLOOR, DETAIL_FLOOR = 0.60, 0.6


def test_a_faithful_fit_spends_its_points_where_the_frame_shows_the_cover(detailed):
    """A square frame of a 2:1 cover shows its middle square: the fit draws most of its points there, and is better
    there than a fit over the whole cover, while still having the rest for another framing."""
    from neuromv.network.cppn import CPPNConfig, build, coordinate_grid
    from neuromv.network.fit import fit, recipe
    from neuromv.network.image import load_image, resize_image, shown

    half = load_image(detailed)  # 192x192: the middle square, with a mirrored copy either side of it
    wide = np.concatenate([half[:, 96:][:, ::-1], half, half[:, :96][:, ::-1]], axis=1)  # 192x384
    assert shown(wide.shape, (64, 64)) == (1.0, 1.0) and shown(wide.shape, (128, 64)) is None
    z = np.zeros((4, 8), np.float32)
    errors = {}
    for name, window in (("whole", None), ("framed", shown(wide.shape, (64, 64)))):
        network = build(CPPNConfig(latent_dim=8), seed=3)
        fit(network, wide, z, config=recipe("faithful", steps=400, lr=0.01, motion=3.0, window=window), seed=3,
            progress=False)
        with torch.no_grad():
            middle = network(coordinate_grid(96, 96), torch.zeros(1, 8))[0].reshape(96, 96, 3).numpy()
            whole = network(coordinate_grid(192, 96), torch.zeros(1, 8))[0].reshape(96, 192, 3).numpy()
        errors[name] = (float(np.mean((middle - resize_image(half, 96, 96)) ** 2)),
                        float(np.mean((whole - resize_image(wide, 192, 96)) ** 2)))
    assert errors["framed"][0] < 0.8 * errors["whole"][0], errors  # better where the frame shows the cover
    baseline = float(np.mean((wide - wide.mean(axis=(0, 1))) ** 2))  # the cover's own variance: a flat guess
    assert errors["framed"][1] < 0.25 * baseline, (errors, baseline)  # and the rest is still the cover
