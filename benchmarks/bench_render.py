"""Render speed: neuromv's batched renderer against a naive per-frame baseline, in the same run.

    python benchmarks/bench_render.py                      # 256x256, 512x512, 1920x1080 on the best device
    python benchmarks/bench_render.py --sizes 256x256 --device cpu

Prints, per frame size: render-only frames/s (ours and naive, with the ratio) and end-to-end seconds for a 20 s
excerpt of the example song (decode, latents, render, encode, mux; no fitting), ours and, where --naive-e2e lists
the size, the naive renderer through the same encoder.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

import neuromv
from neuromv import pipeline
from neuromv.render import pick_device

SONG = Path(__file__).resolve().parent.parent / "examples" / "vibe_ace_30s.ogg"


def naive_frames(model: neuromv.CPPN, latents: np.ndarray, width: int, height: int,
                 device: torch.device) -> Iterator[np.ndarray]:
    """The straightforward renderer: one frame at a time, the full [pixels, 3 + latent_dim] input built per frame,
    one plain Linear over it, float frames brought to the host and converted there."""
    config = model.config
    first = torch.nn.Linear(model.coords.in_features + config.latent_dim, config.hidden).to(device)
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


def rate(batches: Iterator[np.ndarray], device: torch.device) -> float:
    start = time.perf_counter()
    count = sum(batch.shape[0] for batch in batches)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["256x256", "512x512", "1920x1080"])
    parser.add_argument("--naive-e2e", nargs="*", default=["256x256"], help="sizes to run naive end to end")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seconds", type=float, default=20.0, help="excerpt length for end to end")
    args = parser.parse_args()
    device = pick_device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{platform.processor() or 'CPU'}"
    print(f"device: {device} ({name}), torch {torch.__version__}, threads {torch.get_num_threads()}")
    net = neuromv.build(neuromv.CPPNConfig(), seed=0)
    latents = np.random.default_rng(0).uniform(-1, 1, (4096, net.config.latent_dim)).astype(np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            width, height = pipeline.parse_size(size)
            budget = max(8, min(4096, int(2.0e7 / (width * height))))  # about equal work per size
            list(neuromv.frames(net, latents[:4], width, height, device=device))  # warm-up
            ours = rate(neuromv.frames(net, latents[:budget], width, height, device=device), device)
            naive = rate(naive_frames(net, latents[:max(4, budget // 8)], width, height, device), device)
            start = time.perf_counter()
            neuromv.render(SONG, Path(tmp) / "ours.mp4", size=size, duration=args.seconds, device=str(device),
                           quiet=True, overwrite=True)
            e2e = time.perf_counter() - start
            naive_e2e = None
            if size in args.naive_e2e:
                naive_e2e = naive_end_to_end(net, width, height, device, args.seconds, Path(tmp) / "naive.mp4")
            rows.append((size, ours, naive, e2e, naive_e2e))
            print(f"  {size}: render {ours:.1f} fps vs naive {naive:.1f} fps; end to end {e2e:.1f} s", flush=True)
    print(f"\n| size | render-only fps | naive fps | speed-up | end to end, {args.seconds:g} s excerpt | naive end to end |")
    print("| --- | --- | --- | --- | --- | --- |")
    for size, ours, naive, e2e, naive_e2e in rows:
        naive_text = f"{naive_e2e:.1f} s ({naive_e2e / e2e:.1f}x)" if naive_e2e else "-"
        print(f"| {size} | {ours:.1f} | {naive:.2f} | {ours / naive:.1f}x | {e2e:.1f} s "
              f"({args.seconds / e2e:.2f}x real time) | {naive_text} |")


def naive_end_to_end(net: neuromv.CPPN, width: int, height: int, device: torch.device, seconds: float,
                     out: Path) -> float:
    """The same pipeline as render() with the naive renderer in place of frames()."""
    start = time.perf_counter()
    song = neuromv.load_audio(SONG, duration=seconds)
    latents = neuromv.mel_latents(song, 30)
    track = neuromv.AudioTrack(song.source, 0.0, song.duration)
    with neuromv.VideoWriter(out, width, height, neuromv.as_fps(30), audio=track) as writer:
        for frame in naive_frames(net, latents, width, height, device):
            writer.write(frame)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
