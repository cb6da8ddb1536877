"""Render speed and memory: neuromv against the previous renderer and a naive baseline, in the same run.

    python benchmarks/bench_render.py                         # speed table, sizes 256x256 .. 1920x1080
    python benchmarks/bench_render.py --sizes 256x256 --device cpu
    python benchmarks/bench_render.py --rss 1 10 60           # peak RSS for 1-, 10- and 60-minute songs

Speed table, per frame size:
- render-only frames/s: ours (default precision), the previous renderer (torch.tanh, 32K-row chunks: the first
  release's hot loop) and a naive one (one frame at a time, the full [pixels, 3 + 2K + latent_dim] input built
  per frame, frames brought to the host as float and converted there), with ratios;
- encode-only frames/s: 60 rendered frames of the song, cycled through the same FFmpeg writer (libx264 defaults)
  with the audio;
- end to end: `neuromv.render()` on a 20 s excerpt of the example song (decode, latents, render, encode, mux; no
  fitting) in a fresh process: seconds, frames/s, its ratio to min(render-only, encode-only) (1.0 = rendering and
  encoding fully overlapped), and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

import neuromv
from neuromv import pipeline
from neuromv.render import pick_device, pick_precision

renderer = importlib.import_module("neuromv.render")  # the module (neuromv.render is the function)
cppn = importlib.import_module("neuromv.cppn")

SONG = Path(__file__).resolve().parent.parent / "examples" / "vibe_ace_30s.ogg"


def naive_frames(model: neuromv.CPPN, latents: np.ndarray, width: int, height: int,
                 device: torch.device) -> Iterator[np.ndarray]:
    """The straightforward renderer: one frame at a time, the whole input built per frame, one Linear over it."""
    config = model.config
    first = torch.nn.Linear(model.coords.in_features + config.latent_dim, config.hidden)
    with torch.no_grad():
        first.weight.copy_(torch.cat([model.coords.weight, model.latent.weight * model.latent_gain], dim=1))
        first.bias.copy_(model.coords.bias)
    layers: list[torch.nn.Module] = [first, torch.nn.Tanh()]
    for layer in model.hidden:
        layers += [layer, torch.nn.Tanh()]
    net = torch.nn.Sequential(*layers, model.out, torch.nn.Sigmoid()).to(device)
    model = model.to(device)
    coords = neuromv.coordinate_grid(width, height, device)
    with torch.no_grad():
        for z in latents:
            zs = torch.from_numpy(z).to(device)[None].expand(coords.shape[0], -1)
            rgb = net(torch.cat([model.coord_features(coords), zs], dim=1)).cpu().numpy()
            yield (rgb.reshape(1, height, width, 3) * 255).round().astype(np.uint8)


def previous_frames(model: neuromv.CPPN, latents: np.ndarray, width: int, height: int,
                    device: torch.device) -> Iterator[np.ndarray]:
    """The first release's renderer: torch.tanh and 32K-row pixel chunks."""
    saved = renderer.CPU_CHUNK_ROWS, cppn._tanh
    renderer.CPU_CHUNK_ROWS, cppn._tanh = 32768, lambda x: x.tanh_()
    try:
        yield from neuromv.frames(model, latents, width, height, device=device, precision="float32")
    finally:
        renderer.CPU_CHUNK_ROWS, cppn._tanh = saved


def rate(batches: Iterator[np.ndarray], device: torch.device) -> float:
    start = time.perf_counter()
    count = sum(batch.shape[0] for batch in batches)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return count / (time.perf_counter() - start)


def encode_rate(frames: np.ndarray, seconds: float, out: Path) -> float:
    """Frames/s of the writer alone (libx264 defaults, with the audio): prepared frames cycled for `seconds`."""
    fps, (_, height, width, _) = 30, frames.shape
    count = round(seconds * fps)
    track = neuromv.AudioTrack(SONG, 0.0, seconds)
    start = time.perf_counter()
    with neuromv.VideoWriter(out, width, height, neuromv.as_fps(fps), audio=track) as writer:
        for first in range(0, count, len(frames)):
            writer.write(frames[: min(len(frames), count - first)])
    return count / (time.perf_counter() - start)


def child(spec: dict) -> None:
    """Run one render in this fresh process and print seconds, frames and peak RSS as JSON."""
    start = time.perf_counter()
    out = neuromv.render(spec.pop("song"), spec.pop("output"), quiet=True, overwrite=True, **spec)
    seconds = time.perf_counter() - start
    frames = neuromv.read_frames(out, size=(16, 16), gray=True).shape[0]
    print(json.dumps({"seconds": seconds, "frames": frames, "rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's own peak RSS: VmHWM (ru_maxrss would include the parent's peak, carried across exec)."""
    status = Path("/proc/self/status")
    if status.exists():
        line = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / (1024 if sys.platform == "darwin" else 1)


def measure(spec: dict) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "CPU") if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return f"{model}, {torch.get_num_threads()} threads"


def speed(sizes: list[str], device: torch.device, seconds: float) -> None:
    net = neuromv.build(neuromv.CPPNConfig(), seed=0)
    latents = np.random.default_rng(0).uniform(-1, 1, (4096, net.config.latent_dim)).astype(np.float32)
    print(f"| size | render-only fps: ours | previous | naive | ours / previous | ours / naive | encode-only fps "
          f"| end to end ({seconds:g} s excerpt) | end-to-end fps | overlap: e2e / min(render, encode) | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            width, height = pipeline.parse_size(size)
            budget = max(8, min(2048, int(4e7 / (width * height))))  # about equal work per size
            list(neuromv.frames(net, latents[:8], width, height, device=device))  # warm-up
            ours = rate(neuromv.frames(net, latents[:budget], width, height, device=device), device)
            previous = rate(previous_frames(net, latents[:budget], width, height, device), device)
            naive = rate(naive_frames(net, latents[:max(4, budget // 8)], width, height, device), device)
            song_latents = neuromv.mel_latents(neuromv.load_audio(SONG, duration=2.0), 30)  # real, moving frames
            clip = np.concatenate(list(neuromv.frames(net, song_latents[:60], width, height, device=device)))
            encode = encode_rate(clip, min(seconds, max(4.0, budget / 15)), Path(tmp) / "encode.mp4")
            e2e = measure({"song": str(SONG), "output": str(Path(tmp) / "e2e.mp4"), "size": size,
                           "duration": seconds, "device": str(device)})
            e2e_fps = e2e["frames"] / e2e["seconds"]
            print(f"| {size} | {ours:.1f} | {previous:.1f} | {naive:.2f} | {ours / previous:.2f}x | "
                  f"{ours / naive:.1f}x | {encode:.0f} | {e2e['seconds']:.1f} s | {e2e_fps:.1f} | "
                  f"{e2e_fps / min(ours, encode):.2f} | {e2e['rss_mb']:.0f} MB |", flush=True)


def synthetic_song(minutes: float, path: Path) -> Path:
    """A stereo 44.1 kHz WAV of `minutes`: a chord with drum hits, written block by block."""
    import soundfile

    rate, block = 44100, 44100 * 10
    beat = np.zeros(rate // 2, np.float32)
    beat[:1500] = np.random.default_rng(0).standard_normal(1500) * np.exp(-np.linspace(0, 6, 1500))
    with soundfile.SoundFile(str(path), "w", rate, 2, "PCM_16") as f:
        for first in range(0, round(minutes * 60 * rate), block):
            t = (first + np.arange(block)) / rate
            chord = 0.1 * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 330 * t))
            mono = chord + np.tile(beat, block // len(beat))[: block] * 0.8
            f.write(np.stack([mono, mono], axis=1).astype(np.float32))
    return path


def memory(minutes: list[float], size: str, device: torch.device) -> None:
    print(f"| song length | frames at {size} | render seconds | peak RSS | / shortest |")
    print("| --- | --- | --- | --- | --- |")
    first = None
    with tempfile.TemporaryDirectory() as tmp:
        for length in minutes:
            song = synthetic_song(length, Path(tmp) / f"{length:g}min.wav")
            result = measure({"song": str(song), "output": str(Path(tmp) / "rss.mp4"), "size": size,
                              "device": str(device)})
            first = first or result["rss_mb"]
            print(f"| {length:g} min | {result['frames']} | {result['seconds']:.0f} s | {result['rss_mb']:.0f} MB | "
                  f"{result['rss_mb'] / first:.2f}x |", flush=True)
            song.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["256x256", "512x512", "1280x720", "1920x1080"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seconds", type=float, default=20.0, help="excerpt length for end to end")
    parser.add_argument("--rss", nargs="*", type=float, help="song lengths in minutes for the peak-RSS table")
    parser.add_argument("--rss-size", default="256x256")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(json.loads(args.child))
    device = pick_device(args.device)
    print(f"device: {device} ({device_name(device)}); torch {torch.__version__}; "
          f"precision {pick_precision('auto', device)}; neuromv {neuromv.__version__}\n")
    if args.rss:
        memory(args.rss, args.rss_size, device)
    else:
        speed(args.sizes, device, args.seconds)


if __name__ == "__main__":
    main()
