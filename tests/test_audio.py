"""Decoding: every container, channel count and rate; excerpts; the exact time grid."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import soundfile
from conftest import RATE, tone, write_wav

import neuromv
from neuromv.io import ffmpeg


def encode(src, dst, *args: str):
    ffmpeg.run(["-i", str(src), *args, "-y", str(dst)], what="making a test file")
    return dst


@pytest.mark.parametrize("suffix,fmt", [(".wav", "WAV"), (".flac", "FLAC"), (".ogg", "OGG"), (".mp3", "MP3")])
def test_libsndfile_formats(tmp_path, suffix, fmt):
    samples = tone(1.5, RATE)
    path = tmp_path / f"a{suffix}"
    soundfile.write(str(path), samples, RATE, format=fmt)
    audio = neuromv.load_audio(path)
    assert audio.sample_rate == RATE
    assert abs(audio.duration - 1.5) < 0.06  # mp3 adds encoder padding
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 2


@pytest.mark.parametrize("suffix,codec", [(".m4a", "aac"), (".opus", "libopus")])
def test_ffmpeg_formats(tmp_path, suffix, codec):
    wav = write_wav(tmp_path / "a.wav", tone(2.0, 48000), 48000)
    path = encode(wav, tmp_path / f"a{suffix}", "-c:a", codec)
    audio = neuromv.load_audio(path)
    assert audio.sample_rate == 48000
    assert abs(audio.duration - 2.0) < 0.05


def test_video_file_audio_track(tmp_path):
    wav = write_wav(tmp_path / "a.wav", tone(2.0))
    video = tmp_path / "clip.mp4"
    ffmpeg.run(["-f", "lavfi", "-i", "color=c=blue:s=32x32:r=10:d=2", "-i", str(wav), "-shortest",
                "-c:v", "libx264", "-c:a", "aac", "-y", str(video)], what="making a test video")
    audio = neuromv.load_audio(video)
    assert abs(audio.duration - 2.0) < 0.1


def test_many_channels_and_rates(tmp_path):
    six = np.stack([tone(1.0, 8000, freq=200 + 50 * c) for c in range(6)], axis=1)
    path = write_wav(tmp_path / "six.wav", six, 8000)
    audio = neuromv.load_audio(path)
    assert audio.samples.shape == (6, 8000) and audio.sample_rate == 8000
    assert audio.mono().shape == (8000,)


def test_excerpt(tmp_path):
    rate = 16000
    ramp = np.linspace(-0.5, 0.5, 4 * rate, dtype=np.float32)
    path = write_wav(tmp_path / "ramp.wav", ramp, rate)
    audio = neuromv.load_audio(path, start=1.0, duration=2.0)
    assert audio.n_samples == 2 * rate and audio.start == 1.0
    np.testing.assert_allclose(audio.mono()[0], ramp[rate], atol=1e-4)


def test_fps_parsing():
    assert neuromv.as_fps(30) == 30
    assert neuromv.as_fps("29.97") == Fraction(30000, 1001)
    assert neuromv.as_fps(23.976) == Fraction(24000, 1001)
    assert neuromv.as_fps("30000/1001") == Fraction(30000, 1001)
    assert neuromv.as_fps(24.5) == Fraction(49, 2)
    for bad in (0, -1, "abc", float("nan"), 1000):
        with pytest.raises(neuromv.OptionError, match="fps"):
            neuromv.as_fps(bad)


@pytest.mark.parametrize("fps", [24, 25, 30, 60, "29.97"])
def test_frame_count_is_ceil(fps):
    rate = 44100
    exact = neuromv.as_fps(fps)
    for seconds in (2.05, 1.0, 7.3333):
        n = round(seconds * rate)
        expected = -(-Fraction(n) * exact // rate)
        assert neuromv.frame_count(n, rate, exact) == expected
