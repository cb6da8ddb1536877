"""Stems: seconds of separation per minute of audio for each backend, and the render cost of 2 and 4 panels against
one panel of the same total pixel count.

    python benchmarks/bench_stems.py                   # hpss, demucs (if installed), spleeter (if configured)

Demucs and Spleeter run full-size models with random weights made by their own code (timing only: no weights can
be downloaded here): an HTDemucs with its default architecture, and Spleeter's 2stems U-Net
(tests/spleeter_random_model.py --full, run with NEUROMV_SPLEETER_PYTHON).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import neuromv
from neuromv.draw import panel_frames
from neuromv.music.stems import separate

ROOT = Path(__file__).resolve().parent.parent
SONG = ROOT / "examples" / "metal_madness_30s.ogg"


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def random_demucs(repo: Path) -> str:
    """A full-size HTDemucs with random weights, saved where demucs's own loader finds it."""
    import torch
    from demucs.htdemucs import HTDemucs
    from demucs.states import get_state, save_with_checksum

    torch.manual_seed(0)
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"], samplerate=44100, segment=7.8)
    args, kwargs = model._init_args_kwargs
    save_with_checksum({"klass": HTDemucs, "args": args, "kwargs": kwargs, "state": get_state(model, None)},
                       repo / "randomht.th")
    return "randomht"


def separation(seconds: float, minutes_of_audio: float) -> None:
    print("| separator | model | seconds per minute of audio |")
    print("| --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        took, _ = timed(separate, SONG, separator="hpss", duration=seconds, cache=False)
        print(f"| hpss | neuromv | {took / minutes_of_audio:.1f} s |", flush=True)
        try:
            name = random_demucs(Path(tmp))
            took, _ = timed(separate, SONG, stems=4, separator="demucs", demucs_model=name, demucs_repo=tmp,
                            duration=seconds, cache=False)
            print(f"| demucs | HTDemucs, default size, random weights | {took / minutes_of_audio:.1f} s |", flush=True)
        except ImportError:
            print("| demucs | not installed | - |")
        python = os.environ.get("NEUROMV_SPLEETER_PYTHON")
        if python:
            models = Path(tmp) / "models"
            subprocess.run([python, str(ROOT / "tests" / "spleeter_random_model.py"), str(models), "--full"],
                           check=True, capture_output=True)
            os.environ["MODEL_PATH"] = str(models)
            took, _ = timed(separate, SONG, separator="spleeter", spleeter_config=str(models / "random-2stems.json"),
                            duration=seconds, cache=False)
            print(f"| spleeter | 2stems, full size, random weights, out of process | {took / minutes_of_audio:.1f} s "
                  "|", flush=True)
        else:
            print("| spleeter | NEUROMV_SPLEETER_PYTHON not set | - |")


def panels(side: int, frames: int) -> None:
    net = neuromv.build(neuromv.CPPNConfig(), seed=0)
    latents = np.random.default_rng(0).uniform(-1, 1, (frames, 64)).astype(np.float32)
    print(f"\n| panels of {side}x{side} | render fps | one panel of the same pixels | ratio |")
    print("| --- | --- | --- | --- |")
    for count, layout, single in ((2, "row", (2 * side, side)), (4, "grid", (2 * side, 2 * side))):
        list(panel_frames([(net, latents[:8])] * count, side, side, layout=layout))
        took, _ = timed(lambda: list(panel_frames([(net, latents)] * count, side, side, layout=layout)))
        base, _ = timed(lambda: list(neuromv.frames(net, latents, *single)))
        print(f"| {count} ({layout}) | {frames / took:.1f} | {frames / base:.1f} | {took / base:.2f}x |", flush=True)


def end_to_end(side: int, seconds: float) -> None:
    """The issue's target: a 2-stem render vs separation + 1.2 x a single panel of the same pixel count."""
    with tempfile.TemporaryDirectory() as tmp:
        sep, _ = timed(separate, SONG, separator="hpss", duration=seconds, cache=False)
        two, _ = timed(neuromv.render, SONG, Path(tmp) / "two.mp4", stems=2, separator="hpss", size=side,
                       duration=seconds, cache=False, quiet=True)
        one, _ = timed(neuromv.render, SONG, Path(tmp) / "one.mp4", size=(2 * side, side), duration=seconds,
                       quiet=True)
    print(f"\n2-stem render of {seconds:g} s at 2 x {side}x{side} (hpss, no cache): {two:.1f} s; separation {sep:.1f} s"
          f" + 1.2 x single panel {2 * side}x{side} ({one:.1f} s) = {sep + 1.2 * one:.1f} s -> "
          f"{'met' if two <= sep + 1.2 * one else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    print(f"device: cpu; neuromv {neuromv.__version__}; excerpt {args.seconds:g} s of {SONG.name}\n")
    separation(args.seconds, args.seconds / 60)
    panels(256, 60)
    end_to_end(256, 10.0)


if __name__ == "__main__":
    main()
