"""The CLI end to end, and one test per kind of bad input: a one-line message, the exit status, no output left."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import ffmpeg_processes, tone, write_wav

import neuromv
from neuromv.cli import main


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_renders_beside_the_song(tmp_path, song, cover, capsys, no_ffmpeg_left):
    code, out, err = run_cli(capsys, "render", str(song), "--image", str(cover), "--size", "32x24", "--steps", "10",
                             "--seed", "7", "--duration", "2", "-q")
    target = song.with_suffix(".mp4")
    assert code == 0 and target.is_file() and out == "" and err == ""
    info = neuromv.probe(target)
    assert (info.width, info.height) == (32, 24)
    assert info.metadata["spec"]["seed"] == 7 and info.metadata["spec"]["image"] == "cover.png"
    assert not list(tmp_path.glob(".*.partial"))


def test_cli_help_and_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and neuromv.__version__ in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        main(["render", "--help"])
    text = capsys.readouterr().out
    assert done.value.code == 0
    for option in ("--output", "--image", "--size", "--fps", "--seed", "--start", "--duration", "--device",
                   "--batch-size", "--threads", "--hidden", "--latent-dim", "--steps", "--save-model", "--model",
                   "--overwrite", "--quiet"):
        assert option in text


def test_refuses_to_overwrite_without_y(tmp_path, song, capsys):
    target = tmp_path / "taken.mp4"
    target.write_bytes(b"precious")
    code, _, err = run_cli(capsys, "render", str(song), "-o", str(target), "--size", "16x16", "-q")
    assert code == 1 and "already exists" in err and "-y" in err
    assert target.read_bytes() == b"precious"
    code, _, _ = run_cli(capsys, "render", str(song), "-o", str(target), "--size", "16x16", "-q", "-y")
    assert code == 0 and neuromv.probe(target).width == 16


def mp3(path: Path, seconds: float) -> Path:
    soundfile.write(str(path), tone(seconds) + 0.1 * np.sin(np.arange(round(seconds * 22050)) / 5), 22050,
                    format="MP3")
    return path


def bad_input_cases(tmp_path: Path) -> dict[str, tuple[list[str], int, str]]:
    """name -> (CLI args, exit status, text the one-line message must contain)."""
    good = write_wav(tmp_path / "good.wav", tone(2.0))
    text = tmp_path / "notes.mp3"
    text.write_text("these are not the droids\n" * 50)
    stub = tmp_path / "stub.mp3"
    stub.write_bytes(mp3(tmp_path / "whole.mp3", 3.0).read_bytes()[:300])
    silent = write_wav(tmp_path / "silent.wav", np.zeros(44100, np.float32))
    short = write_wav(tmp_path / "short.wav", tone(0.1))
    empty_image = tmp_path / "empty.png"
    empty_image.write_bytes(b"")
    junk_image = tmp_path / "junk.jpg"
    junk_image.write_bytes(b"\xff\xd8\xff garbage" * 10)
    g = str(good)
    return {
        "missing file": (["render", str(tmp_path / "nope.mp3")], 1, "does not exist"),
        "text named mp3": (["render", str(text)], 1, "not a readable audio file"),
        "truncated mp3": (["render", str(stub)], 1, "stub.mp3' is not a readable audio file"),
        "silent audio": (["render", str(silent)], 1, "is silent"),
        "0.1 s of audio": (["render", str(short)], 1, "has 0.10 s of audio"),
        "zero-size image": (["render", g, "--image", str(empty_image)], 1, "empty.png' is an empty file"),
        "unreadable image": (["render", g, "--image", str(junk_image)], 1, "junk.jpg' is not a readable image"),
        "missing image": (["render", g, "--image", str(tmp_path / "no.png")], 1, "no.png' does not exist"),
        "size 0x0": (["render", g, "--size", "0x0"], 2, "size=0x0 must be from 16 to 8192"),
        "size 5x3": (["render", g, "--size", "5x3"], 2, "must be from 16"),
        "odd size": (["render", g, "--size", "33x17"], 2, "must be even for H.264 (yuv420p); try 34x18"),
        "size words": (["render", g, "--size", "big"], 2, "size='big' must be WIDTHxHEIGHT"),
        "fps 0": (["render", g, "--fps", "0"], 2, "fps=0 must be a positive number"),
        "batch size -1": (["render", g, "--batch-size", "-1"], 2, "batch_size=-1 must be a whole number"),
        "threads 0": (["render", g, "--threads", "0"], 2, "threads=0 must be a whole number of CPU threads from 1"),
        "start past end": (["render", g, "--start", "99"], 1, "start=99 s is past the end"),
        "negative start": (["render", g, "--start", "-3"], 2, "start=-3.0 must be a number of seconds >= 0"),
        "tiny duration": (["render", g, "--duration", "0.1"], 2, "duration=0.1 must be a number of seconds >= 0.5"),
        "zero hidden width": (["render", g, "--hidden", "0"], 2, "hidden=0 must be a whole number"),
        "missing folder": (["render", g, "-o", str(tmp_path / "nowhere" / "x.mp4")], 1, "nowhere' does not exist"),
        "output is the input": (["render", g, "-o", g, "-y"], 1, "is also an input"),
        "bad model": (["render", g, "--model", str(junk_image)], 1, "is not a neuromv checkpoint"),
        "unknown device": (["render", g, "--device", "tpu"], 2, "device='tpu' is not one of ['auto', 'cpu'"),
        "crf 60": (["render", g, "--crf", "60"], 2, "crf=60 must be a whole number from 0 (lossless) to 51"),
        "unknown preset": (["render", g, "--preset", "warp"], 2, "preset='warp' is not one of ['breathe', 'chords'"),
        "unknown x264 preset": (["render", g, "--x264-preset", "warp"], 2, "x264_preset='warp' is not one of ['auto'"),
        "unknown option": (["render", g, "--motoin", "2"], 2, "unrecognized arguments: --motoin"),
    }


CASES = [
    "missing file", "text named mp3", "truncated mp3", "silent audio", "0.1 s of audio", "zero-size image",
    "unreadable image", "missing image", "size 0x0", "size 5x3", "odd size", "size words", "fps 0", "batch size -1",
    "threads 0", "start past end", "negative start", "tiny duration", "zero hidden width", "missing folder",
    "output is the input", "bad model", "unknown device", "crf 60", "unknown preset", "unknown x264 preset",
    "unknown option",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input(tmp_path, capsys, case, no_ffmpeg_left):
    args, status, message = bad_input_cases(tmp_path)[case]
    before = set(tmp_path.rglob("*"))
    try:
        code = main([*args, "-q", *([] if "--size" in args else ["--size", "16x16"])])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == status, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert message in err, err
    assert set(tmp_path.rglob("*")) == before  # no output, no partial file


def test_truncated_mp3_renders_what_is_readable(tmp_path, capfd):
    whole = mp3(tmp_path / "whole.mp3", 4.0)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert main(["render", str(cut), "--size", "16x16", "-q"]) == 0
    assert capfd.readouterr().err == ""  # decoder chatter is not shown
    frames = neuromv.read_frames(cut.with_suffix(".mp4"), gray=True)
    assert 1.5 < frames.shape[0] / 30 < 2.5


def test_unwritable_output_folder(tmp_path, capsys, no_ffmpeg_left):
    song = write_wav(tmp_path / "s.wav", tone(2.0))
    if os.geteuid() == 0:  # root writes anywhere a permission allows; a read-only file system still refuses
        folder = Path("/proc")
    else:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o500)
    code = main(["render", str(song), "-o", str(folder / "x.mp4"), "--size", "16x16", "-q"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert str(folder) in err
    assert not (folder / "x.mp4").exists()


def test_full_disk(tmp_path, capsys, no_ffmpeg_left):
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        song = write_wav(tmp_path / "s.wav", tone(3.0) + np.random.default_rng(0).normal(0, 0.1, 66150))
        code = main(["render", str(song), "-o", str(disk / "x.mp4"), "--size", "256x256", "--crf", "0", "-q",
                     "--preset", "classic"])  # classic: no notice of taming beside the one line
        err = capsys.readouterr().err
        assert code == 1 and "No space left on device" in err and err.count("\n") == 1
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def interrupted_run(tmp_path: Path, command: list[str], signals: list[signal.Signals], size: str) -> tuple[int, str]:
    """Run Python with ``command`` ({song}, {out} and {size} filled in) on a 2-minute song, send ``signals`` 30 ms apart
    once it is encoding, and return its exit status and stderr after checking that nothing is left behind."""
    song = write_wav(tmp_path / "long.wav", tone(120.0))
    target = tmp_path / "out.mp4"
    fields = {"song": str(song), "out": str(target), "size": size}
    proc = subprocess.Popen([sys.executable, *(part.format(**fields) for part in command)], stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 60
    while not list(tmp_path.glob(".out.mp4.*.partial")) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    for sig in signals:
        proc.send_signal(sig)
        time.sleep(0.03)
    err = proc.communicate(timeout=30)[1]
    assert not target.exists() and not list(tmp_path.glob(".out.mp4.*"))
    time.sleep(0.2)
    assert ffmpeg_processes(marker=str(tmp_path)) == []
    return proc.returncode, err


#: A render to interrupt while it encodes (classic: its frames start at once, where glow first previews the whole
#: 2-minute song to scale its swings).
CLI = ["-m", "neuromv", "render", "{song}", "-o", "{out}", "--size", "{size}", "-q", "--preset", "classic"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_nothing(tmp_path, sig):
    code, err = interrupted_run(tmp_path, CLI, [sig], "256x256")
    assert code == 130
    assert err.strip().splitlines() == ["neuromv: interrupted; no output written"]


def test_an_interrupt_while_the_default_look_previews_the_song_leaves_nothing(tmp_path):
    """Ctrl-C before the first frame is encoded, while the default look analyses and previews a 10-minute song to
    scale its swings under the flash limit (its first frame is encoded after about 45 s on 2 cores, with nothing of
    the song's in the cache): the same one line, status 130, nothing left."""
    song = write_wav(tmp_path / "long.wav", tone(600.0))
    target = tmp_path / "out.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "neuromv", "render", str(song), "-o", str(target), "--size", "64",
                             "-q"], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NEUROMV_CACHE": str(tmp_path / "cache")})
    time.sleep(12)
    assert proc.poll() is None and not list(tmp_path.glob(".out.mp4.*"))  # still previewing: nothing encoded yet
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=30)[1]
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["neuromv: interrupted; no output written"]
    assert not target.exists() and not list(tmp_path.glob(".out.mp4.*"))
    assert ffmpeg_processes(marker=str(tmp_path)) == []


def test_repeated_interrupts_still_clean_up(tmp_path):
    """An impatient user's Ctrl-Cs (or a terminal signalling the whole process group) arriving while the first one's
    clean-up waits for the render threads' batches (a 512x512 batch takes about 0.3 s): still one line, status 130,
    nothing left, no abort at exit."""
    code, err = interrupted_run(tmp_path, CLI, [signal.SIGINT] * 4, "512x512")
    assert code == 130, err
    assert err.strip().splitlines() == ["neuromv: interrupted; no output written"]


def test_repeated_interrupts_in_a_library_call(tmp_path):
    """The same through the API with Python's own Ctrl-C handling (a notebook's interrupt): the render threads end
    before the KeyboardInterrupt leaves render(), so Python exits on it instead of aborting in a torch op."""
    api = ["-c", "import sys, neuromv; neuromv.render(sys.argv[1], sys.argv[2], size=sys.argv[3], quiet=True, "
           "preset='classic')",
           "{song}", "{out}", "{size}"]
    code, err = interrupted_run(tmp_path, api, [signal.SIGINT] * 4, "512x512")
    assert code == -signal.SIGINT, err  # an uncaught KeyboardInterrupt, not SIGABRT
    # the render's own KeyboardInterrupt; a later Ctrl-C of the four may land in a finalizer while Python exits
    # ("Exception ignored in ... KeyboardInterrupt:"), which is Python's to print, not an abort
    assert re.search(r"^KeyboardInterrupt:?\s*$", err, re.MULTILINE) and "terminate called" not in err, err


def test_the_command_line_starts_without_torch():
    """``neuromv --version`` and ``neuromv render --help`` load neither torch nor numba (a fast start)."""
    script = ("import sys, neuromv.cli\n"
              "for argv in (['--version'], ['render', '--help']):\n"
              "    try:\n        neuromv.cli.main(argv)\n    except SystemExit:\n        pass\n"
              "print(sorted(m for m in ('torch', 'scipy', 'numba') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_public_names_are_the_functions_after_every_stage_is_imported():
    """Importing the stages' modules (``neuromv.draw``, ``neuromv.prepared``, ...) leaves ``neuromv.render`` the
    function, and every public name resolves."""
    import importlib

    import neuromv

    for module in ("draw", "prepared", "scoring", "api", "batch", "out.web", "out.server", "out.mp4"):
        importlib.import_module(f"neuromv.{module}")
    assert callable(neuromv.render) and callable(neuromv.prepare) and callable(neuromv.score)
    assert set(neuromv.__all__) == {"__version__", *neuromv._EXPORTS}
    for name in neuromv.__all__:
        assert getattr(neuromv, name) is not None, name
