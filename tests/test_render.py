"""End-to-end renders through the real FFmpeg: frame counts, A/V sync, reactivity, fitting, determinism."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from conftest import beat_track, clicks, tone, write_wav

import neuromv
from neuromv.network import cppn
from neuromv.network.fit import FAITHFUL_FOURIER, FitConfig, fit
from neuromv.network.image import load_image, resize_image

TINY = dict(size="32x32", quiet=True)


def video_facts(path, fps):
    frames = neuromv.read_frames(path, gray=True)
    audio_seconds = len(neuromv.read_audio(path)) / 22050
    return frames, frames.shape[0] / float(neuromv.as_fps(fps)), audio_seconds


@pytest.mark.parametrize("fps", [24, 30, 60])
def test_frame_count_and_av_duration(tmp_path, fps, no_ffmpeg_left):
    song = write_wav(tmp_path / "odd.wav", tone(2.05) + clicks(2.05, [1.0]))
    out = neuromv.render(song, tmp_path / "odd.mp4", fps=fps, **TINY)
    frames, video_seconds, audio_seconds = video_facts(out, fps)
    assert frames.shape[0] == math.ceil(2.05 * fps)
    assert abs(video_seconds - audio_seconds) <= 1 / fps
    info = neuromv.probe(out)
    assert (info.codec, info.pix_fmt, info.audio_codec) == ("h264", "yuv420p", "aac")
    assert info.metadata["spec"]["fps"] == str(fps) and info.metadata["neuromv"] == neuromv.__version__
    assert (info.metadata["made"]["x264_preset"], info.metadata["spec"]["crf"]) == ("veryfast", 18)  # auto, on a CPU
    assert b" threads=1 " in out.read_bytes()  # x264's own settings record: one encoder thread beside a CPU render


def test_auto_preset_is_veryfast_and_one_thread_beside_a_cpu_render():
    from neuromv.out.video import pick_preset, pick_threads

    assert pick_preset("auto", "cpu") == "veryfast" and pick_preset(None, "cuda") == "veryfast"
    assert pick_preset("slow", "cpu") == "slow"
    assert (pick_threads("auto", "cpu"), pick_threads(None, "cuda"), pick_threads("ultrafast", "cpu")) == (1, 0, 0)
    with pytest.raises(neuromv.OptionError, match=r"x264_preset='warp' is not one of \['auto', 'ultrafast'"):
        pick_preset("warp")


PEAK_SCRIPT = """
import numpy as np, neuromv
def peak():
    return int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) / 1024
net = neuromv.build(neuromv.CPPNConfig(), seed=0)
latents = np.random.default_rng(0).uniform(-1, 1, (400, 64)).astype(np.float32)
for _ in neuromv.frames(net, latents[:48], 512, 512):
    pass
before = peak()
for _ in neuromv.frames(net, latents, 512, 512):
    pass
print(peak() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and sets glibc's malloc")
def test_peak_memory_does_not_drift_with_batches():
    """Frame batches go back to the OS (glibc's mmap threshold fixed): rendering 8x more 512x512 batches in a fresh
    process adds (almost) nothing to its peak RSS. With glibc's moving threshold it drifted by up to 200 MB."""
    done = subprocess.run([sys.executable, "-c", PEAK_SCRIPT], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip()) < 25


def test_excerpt_renders_its_own_audio(tmp_path):
    rate = 22050
    samples = np.concatenate([tone(2.0, rate, level=0.3), np.zeros(rate * 2, np.float32) + 1e-3 * tone(2.0, rate)])
    song = write_wav(tmp_path / "two.wav", samples)
    out = neuromv.render(song, tmp_path / "ex.mp4", start=2.0, duration=1.5, **TINY)
    frames, video_seconds, audio_seconds = video_facts(out, 30)
    assert frames.shape[0] == 45 and abs(audio_seconds - 1.5) < 1 / 30
    assert np.abs(neuromv.read_audio(out)).max() < 0.05  # the quiet second half, not the loud start


def visual_change(frames: np.ndarray) -> np.ndarray:
    """Mean absolute difference between consecutive frames: change[i] is frame i -> i + 1."""
    return np.abs(np.diff(frames.astype(np.float32), axis=0)).mean(axis=(1, 2))


def test_three_minute_song_stays_in_sync(tmp_path):
    seconds, fps = 180.0, 30
    hits = [10.0, 90.0, 178.0]
    song = write_wav(tmp_path / "long.wav", tone(seconds, level=0.02) + clicks(seconds, hits))
    out = neuromv.render(song, tmp_path / "long.mp4", size="16x16", quiet=True)
    frames, video_seconds, audio_seconds = video_facts(out, fps)
    assert frames.shape[0] == 5400 and abs(video_seconds - audio_seconds) <= 1 / fps
    change = visual_change(frames)
    for t in hits:
        k = round(t * fps)
        assert k - 1 <= k - 8 + int(np.argmax(change[k - 8:k + 8])) <= k + 1


def test_visual_change_peaks_on_beats(tmp_path):
    samples, beats = beat_track(8.0, bpm=100, offset=0.3)  # a hit every 18 frames, on frame boundaries
    song = write_wav(tmp_path / "beats.wav", samples)
    out = neuromv.render(song, tmp_path / "beats.mp4", size="64x64", quiet=True, seed=3)
    change = visual_change(neuromv.read_frames(out, gray=True))
    hits = [round(t * 30) for t in beats]
    for k in hits:  # the largest change around each hit is the step into the hit's frame
        assert k - 2 <= k - 6 + int(np.argmax(change[k - 6:k + 6])) <= k
    on = np.array([change[k - 2:k + 1].max() for k in hits])
    off = np.delete(change, [i for k in hits for i in range(k - 2, k + 1)])
    assert np.median(on) > 2 * np.median(off)


def test_same_seed_same_frames(tmp_path):
    """The same seed draws the same video, on any number of CPU threads."""
    song = write_wav(tmp_path / "s.wav", beat_track(2.0)[0])
    a = neuromv.read_frames(neuromv.render(song, tmp_path / "a.mp4", seed=5, **TINY))
    b = neuromv.read_frames(neuromv.render(song, tmp_path / "b.mp4", seed=5, threads=1, **TINY))  # one thread
    c = neuromv.read_frames(neuromv.render(song, tmp_path / "c.mp4", seed=6, **TINY))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * math.log10(255.0**2 / max(mse, 1e-12))


def test_fitting_lowers_loss_and_raises_psnr(tmp_path, cover):
    samples, _ = beat_track(3.0)
    audio = neuromv.Audio(samples[None], 22050, tmp_path / "x.wav")
    latents = neuromv.mel_latents(audio, 30, neuromv.LatentConfig(latent_dim=16))
    image = load_image(cover)
    target = (resize_image(image, 48, 40) * 255).round().astype(np.uint8)

    def render_psnr(net):
        frames = np.concatenate(list(neuromv.frames(net, latents, 48, 40)))
        return psnr(np.median(frames, axis=0), target)

    config = neuromv.CPPNConfig(latent_dim=16, hidden=32)
    random_psnr = render_psnr(neuromv.build(config, seed=0))
    net = neuromv.build(config, seed=0)
    result = fit(net, image, latents, config=FitConfig(steps=200, resolution=48), progress=False)
    assert np.mean(result.losses[-20:]) < 0.5 * np.mean(result.losses[:20])
    assert render_psnr(net) > random_psnr + 3


def test_saved_model_renders_without_refitting(tmp_path, song, cover):
    model = tmp_path / "m.pt"
    first = neuromv.render(song, tmp_path / "fit.mp4", image=cover, steps=30, save_model=model, **TINY)
    again = neuromv.render(song, tmp_path / "again.mp4", model=model, **TINY)
    assert np.array_equal(neuromv.read_frames(first), neuromv.read_frames(again))
    assert neuromv.probe(again).metadata["spec"]["model"] == "m.pt"
    assert cppn.load(model)[0].config.fourier == FAITHFUL_FOURIER  # the default look fits faithfully
    classic = tmp_path / "classic.pt"
    neuromv.render(song, tmp_path / "classic.mp4", image=cover, steps=5, save_model=classic, preset="classic", **TINY)
    assert cppn.load(classic)[0].config == neuromv.CPPNConfig(latent_dim=64)  # classic's stays as it was


def test_cover_sets_aspect(tmp_path, song, cover):
    out = neuromv.render(song, tmp_path / "wide.mp4", image=cover, steps=5, quiet=True)
    info = neuromv.probe(out)
    assert (info.width, info.height) == (512, 426)  # 48x40 cover: long side 512, even height
