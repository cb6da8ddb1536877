"""`neuromv score`: lag, motion, reactivity and fidelity measured on real videos."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import beat_track, tone, write_wav

import neuromv
from neuromv.cli import main
from neuromv.io import ffmpeg
from neuromv.scoring import psnr, ssim


@pytest.fixture(scope="module")
def beats_video(tmp_path_factory):
    folder = tmp_path_factory.mktemp("score")
    samples, _ = beat_track(8.0, bpm=100, offset=0.3)
    song = write_wav(folder / "beats.wav", samples)
    return neuromv.render(song, folder / "beats.mp4", size="64x64", quiet=True), samples


def test_in_sync_video_has_zero_lag(beats_video):
    result = neuromv.score(beats_video[0])
    assert result.lag == 0 and result.reactivity > 0.4 and result.frames == 240


def test_finds_audio_shifted_by_five_frames(beats_video, tmp_path):
    video, samples = beats_video
    late = write_wav(tmp_path / "late.wav", np.concatenate([np.zeros(round(22050 * 5 / 30), np.float32), samples]))
    early = write_wav(tmp_path / "early.wav", samples[round(22050 * 5 / 30):])
    assert neuromv.score(video, audio=late).lag == -5  # the picture comes 5 frames before its sound
    assert neuromv.score(video, audio=early).lag == 5


def test_still_video_has_no_motion(tmp_path):
    samples, _ = beat_track(4.0)
    song = write_wav(tmp_path / "s.wav", samples)
    still = tmp_path / "still.mp4"
    ffmpeg.run(["-f", "lavfi", "-i", "color=c=0x336699:s=64x64:r=30:d=4", "-i", str(song), "-shortest",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-y", str(still)], what="making a still")
    result = neuromv.score(still)
    assert result.motion < 0.05 and abs(result.reactivity) < 0.2


def test_fidelity_metrics_agree_with_identity():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:40, 0:48]
    image = np.stack([x * 5.0, y * 6.0, (x + y) * 2.5], axis=2)  # smooth, so noise is structural damage
    assert ssim(image, image) == pytest.approx(1.0)
    assert psnr(image, image) > 90
    noisy = np.clip(image + rng.normal(0, 20, image.shape), 0, 255)
    assert 15 < psnr(noisy, image) < 25 and ssim(noisy, image) < 0.9


def test_fitted_render_beats_random_psnr(tmp_path, song, cover):
    random = neuromv.render(song, tmp_path / "random.mp4", size="48x40", quiet=True)
    fitted = neuromv.render(song, tmp_path / "fitted.mp4", size="48x40", image=cover, steps=400, quiet=True)
    r, f = neuromv.score(random, image=cover), neuromv.score(fitted, image=cover)
    assert f.psnr_median > r.psnr_median + 5 and f.ssim_median > r.ssim_median


def test_score_cli_json(beats_video, capsys):
    assert main(["score", str(beats_video[0]), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) >= {"reactivity", "lag", "motion", "psnr_median", "ssim_median"}
    assert figures["psnr_median"] is None


def test_score_needs_audio(tmp_path, capsys):
    silent_video = tmp_path / "mute.mp4"
    ffmpeg.run(["-f", "lavfi", "-i", "color=c=red:s=32x32:r=30:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                "-y", str(silent_video)], what="making a mute video")
    assert main(["score", str(silent_video)]) == 2
    assert "has no audio track; pass the song with --audio" in capsys.readouterr().err


def test_default_fitted_render_keeps_moving_with_the_beat(tmp_path):
    """Fitting the classic way must not freeze the video: floors set from measurement (reactivity 0.91,
    motion 8.6 gray levels per frame on this track with the cover fixture, 2 cores)."""
    from PIL import Image

    samples, _ = beat_track(8.0, bpm=100, offset=0.3)
    song = write_wav(tmp_path / "beats.wav", samples)
    cover = tmp_path / "cover.png"
    y, x = np.mgrid[0:64, 0:64] / 64.0
    Image.fromarray((np.stack([x, y, (x * y) ** 0.5], axis=2) * 255).astype(np.uint8)).save(cover)
    result = neuromv.score(neuromv.render(song, tmp_path / "fit.mp4", size="64x64", image=cover, preset="classic",
                                          quiet=True), image=cover)  # the classic fit's trade-off (glow's: test_glow)
    assert result.reactivity > 0.6 and result.motion > 2.0 and abs(result.lag) <= 1
    assert result.psnr_median > 20


def test_fidelity_frames_a_wide_cover_as_the_render_does(tmp_path):
    """A square render of a 2:1 cover shows its middle square (the short sides span [-1, 1] in both): a video of
    exactly that middle scores as near-perfect, and the squashed whole cover would not."""
    from PIL import Image

    y, x = np.mgrid[0:96, 0:192] / 96.0
    texture = 0.15 * np.random.default_rng(3).uniform(-1, 1, (24, 48)).repeat(4, 0).repeat(4, 1)  # 4-pixel grain
    wide = np.clip(np.stack([0.5 + 0.4 * np.sin(6 * x), 0.5 + 0.4 * np.cos(5 * y), 0.3 + 0.2 * x], axis=2)
                   + texture[..., None], 0, 1)
    cover = tmp_path / "wide.png"
    Image.fromarray((wide * 255).astype(np.uint8)).save(cover)
    middle = np.asarray(Image.open(cover))[:, 48:144]  # 96x96
    song = write_wav(tmp_path / "s.wav", tone(1.0))
    video = tmp_path / "middle.mp4"
    with neuromv.VideoWriter(video, 96, 96, neuromv.as_fps(30), audio=neuromv.AudioTrack(song, 0.0, None),
                             crf=10) as writer:
        writer.write(np.repeat(middle[None], 30, axis=0))
    result = neuromv.score(video, image=cover)
    assert result.psnr_mean > 35 and result.ssim_p10 > 0.95, result
    assert 0.7 < result.detail < 1.3 and result.bitrate > 0
    from neuromv.network.image import resize_image

    assert psnr(middle, resize_image(wide.astype(np.float32), 96, 96) * 255) < 20  # the squashed cover, as before
