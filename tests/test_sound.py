"""The sound track is the song as neuromv decoded it: any song that decodes renders, sample-aligned with the latents;
damaged samples; partial files of renders killed outright."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile
from conftest import beat_track, ffmpeg_processes, tone, write_wav

import neuromv
from neuromv.io import ffmpeg

RATE = 22050


def _correlation_lag(a: np.ndarray, b: np.ndarray, max_lag: int = 2000) -> tuple[int, float]:
    """The lag of ``b`` against ``a`` (in samples, within ``max_lag``) at which they correlate best, and that
    correlation."""
    n = min(len(a), len(b)) - 2 * max_lag
    window = a[max_lag:max_lag + n]
    scores = [np.corrcoef(window, b[max_lag + lag:max_lag + lag + n])[0, 1] for lag in range(-max_lag, max_lag + 1)]
    best = int(np.argmax(scores))
    return best - max_lag, float(scores[best])


def test_a_song_only_libsndfile_reads_renders_with_its_sound(tmp_path, no_ffmpeg_left):
    song = tmp_path / "take.mat"  # MATLAB 5: libsndfile reads it, FFmpeg does not
    samples, _ = beat_track(3.0)
    soundfile.write(str(song), samples, RATE, format="MAT5")
    assert ffmpeg.call(["-v", "error", "-i", str(song), "-f", "null", "-"]).returncode != 0
    out = neuromv.render(song, tmp_path / "take.mp4", size="16x16", quiet=True)
    sound = neuromv.read_audio(out, RATE)
    assert abs(len(sound) / RATE - 3.0) < 0.05
    assert _correlation_lag(samples, sound)[1] > 0.9
    panels = neuromv.render(song, tmp_path / "stems.mp4", size="16x16", quiet=True, stems=2, separator="hpss",
                            cache=False)  # the separation too is of neuromv's decode
    assert neuromv.probe(panels).width == 32 and _correlation_lag(samples, neuromv.read_audio(panels, RATE))[1] > 0.9


@pytest.mark.parametrize("kind", ["mp3", "ogg", "flac"])
def test_the_muxed_sound_is_the_decoded_song_at_lag_zero(tmp_path, kind):
    """mp3's decoder delay and padding, Vorbis's pre-skip and AAC's priming all cancel out: the muxed sound lines up
    with neuromv's decode of the song, which is what the latents (and so the pictures) describe."""
    samples, _ = beat_track(4.0)
    noisy = samples + 0.05 * np.random.default_rng(1).standard_normal(len(samples)).astype(np.float32)
    song = tmp_path / f"song.{kind}"
    soundfile.write(str(song), noisy, RATE, format=kind.upper())
    decoded = neuromv.load_audio(song).mono()
    out = neuromv.render(song, tmp_path / f"{kind}.mp4", size="16x16", quiet=True, start=0.5)
    lag, correlation = _correlation_lag(decoded[round(0.5 * RATE):], neuromv.read_audio(out, RATE))
    assert lag == 0 and correlation > 0.9, (lag, correlation)


def test_nan_and_inf_samples_are_played_as_silence_with_a_notice(tmp_path, capsys):
    samples = tone(2.0, level=0.5)
    samples[round(0.75 * RATE):round(0.75 * RATE) + 10] = np.nan
    samples[round(1.5 * RATE)] = np.inf
    song = tmp_path / "damaged.wav"
    soundfile.write(str(song), samples, RATE, subtype="FLOAT")
    from neuromv.cli import main

    assert main(["render", str(song), "--size", "16x16", "-q"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "damaged.wav' has 11 NaN or infinite samples, the first at 0.750 s; they are played as silence" in err
    sound = neuromv.read_audio(song.with_suffix(".mp4"), RATE)
    assert np.isfinite(sound).all() and np.abs(sound).max() < 1.0


def test_all_nan_song_is_refused(tmp_path, capsys):
    song = tmp_path / "void.wav"
    soundfile.write(str(song), np.full(RATE, np.nan, np.float32), RATE, subtype="FLOAT")
    from neuromv.cli import main

    assert main(["render", str(song), "--size", "16x16", "-q"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is silent" in err and f"{RATE} of its samples are NaN or infinite" in err
    assert not song.with_suffix(".mp4").exists()


RENDER = ["-m", "neuromv", "render", "{song}", "-o", "{out}", "--size", "256x256", "-q", "-y"]


def _start(tmp_path, song, out) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *(a.format(song=song, out=out) for a in RENDER)],
                            stderr=subprocess.PIPE, text=True)


def _wait_for_partial(tmp_path, count: int = 1) -> list:
    deadline = time.time() + 60
    while len(found := list(tmp_path.glob(".out.mp4.*.partial"))) < count and time.time() < deadline:
        time.sleep(0.05)
    return found


def test_a_render_killed_outright_leaves_nothing_after_the_next(tmp_path):
    long_song = write_wav(tmp_path / "long.wav", tone(20.0))
    short_song = write_wav(tmp_path / "short.wav", tone(1.0))
    out = tmp_path / "out.mp4"
    victim = _start(tmp_path, long_song, out)
    assert _wait_for_partial(tmp_path)
    time.sleep(0.5)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    deadline = time.time() + 30
    while ffmpeg_processes(marker=str(tmp_path)) and time.time() < deadline:  # its FFmpeg ends at the pipe's end
        time.sleep(0.1)
    assert list(tmp_path.glob(".out.mp4.*.partial")), "a render killed outright leaves its partial file"
    assert neuromv.render(short_song, out, size="16x16", quiet=True, overwrite=True) == out
    assert not list(tmp_path.glob(".out.mp4.*"))
    assert neuromv.probe(out).width == 16


def test_a_running_render_is_not_disturbed_by_another_to_the_same_path(tmp_path):
    long_song = write_wav(tmp_path / "long.wav", tone(20.0))
    short_song = write_wav(tmp_path / "short.wav", tone(1.0))
    out = tmp_path / "out.mp4"
    running = _start(tmp_path, long_song, out)
    try:
        (partial,) = _wait_for_partial(tmp_path)
        neuromv.render(short_song, out, size="16x16", quiet=True, overwrite=True)
        assert partial.exists(), "the running render's partial file was removed"
        assert running.wait(timeout=120) == 0, running.stderr.read()
    finally:
        running.kill()
    info = neuromv.probe(out)
    assert info.width == 256 and not list(tmp_path.glob(".out.mp4.*"))
    assert abs(len(neuromv.read_audio(out, RATE)) / RATE - 20.0) < 0.1
