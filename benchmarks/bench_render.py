"""Render speed and memory: neuromv against its previous release and a naive baseline, in the same run.

    python benchmarks/bench_render.py                         # speed table, 256x256, 512x512, 1280x720
    python benchmarks/bench_render.py --sizes 256x256 --device cpu
    python benchmarks/bench_render.py --rss 1 10 60           # peak RSS for 1-, 10- and 60-minute songs
    python benchmarks/bench_render.py --limit                 # the default look against the FMA limit (CPU)

Three implementations, each measured per frame size for render-only, encode-only and end to end (with peak RSS):
- ours: the current defaults (the faster tanh form for this CPU, one render thread per core, ``x264_preset="auto"``);
- previous: the last release (tanh always as ``2 * sigmoid(2x) - 1``, every op split across the cores, x264
  veryfast);
- naive: one frame at a time with the whole [pixels, 3 + 2K + latent_dim] input built per frame and frames converted
  on the host; x264's own default preset (medium), each frame written to FFmpeg from the rendering thread.

Render-only renders random latents; encode-only cycles 60 rendered frames of the song through the writer with the
audio; end to end is a fresh process rendering the example song, looped to the excerpt's length (decode, latents,
render, encode, mux; no fitting). The overlap column is end to end / min(render-only, encode-only): 1.0 means the
slower stage alone sets the pace. Each stage's CPU per frame is shown too (this process's threads and FFmpeg's):
rendering on the CPU, both stages draw on the same cores, so the overlap cannot pass render CPU / (render + encode
CPU), the bound row (unless render-only's own set-up weighs more than end to end's: a short render-only run at a
large size). On a shared machine timings wander by 10-30 % for tens of seconds at a time: each
figure of ours is the best of ``--repeats`` runs, the three stages taking turns (the others run once).

``--limit`` measures the default look's frames (the network and every pass the look draws: the fused head and the
sharpening) against the arithmetic's limit on this CPU: the machine's float32 matrix-product rate (torch's sgemm on
2048² matrices, all threads, best of three) over the network's FLOP a pixel (:func:`flop_per_pixel`), printed beside
the measured rate, with torch's head (``NEUROMV_FUSED=0``'s path) and a second limit from a compiled multiply-add loop
(``fma_peak.cpp``: the FMA units' own peak, which sgemm does not reach).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

import neuromv
from neuromv.draw import pick_device, pick_precision
from neuromv.io import ffmpeg
from neuromv.io.heap import peak_mb
from neuromv.look import presets
from neuromv.music.bank import FeatureBank, feature_bank
from neuromv.network import fused
from neuromv.out.video import pick_preset, pick_threads

cppn = importlib.import_module("neuromv.network.cppn")
renderer = importlib.import_module("neuromv.draw")  # the frame source's module

SONG = Path(__file__).resolve().parent.parent / "examples" / "vibe_ace_30s.ogg"
IMPLEMENTATIONS = ("ours", "previous", "naive")
SIZES = ["256x256", "512x512", "1280x720"]
#: The x264 preset of each neuromv implementation (naive uses x264's own default).
PRESETS = {"ours": "auto", "previous": "veryfast"}


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


@contextlib.contextmanager
def _ops_across_cores(device: torch.device) -> Iterator[None]:
    yield None  # no render threads: every op split across the cores, batches on the calling thread


@contextlib.contextmanager
def previous_release() -> Iterator[None]:
    """Run neuromv as its previous release did: tanh always in the sigmoid form and every op split across the cores
    (the caller also picks x264 veryfast with x264's own threads)."""
    saved = cppn.cpu_tanh, renderer._workers
    cppn.cpu_tanh, renderer._workers = (lambda: "sigmoid"), _ops_across_cores
    try:
        yield
    finally:
        cppn.cpu_tanh, renderer._workers = saved


class CPUClock:
    """Wall and CPU seconds since it was made: this process's threads, plus the child processes reaped meanwhile
    (FFmpeg)."""

    def __init__(self) -> None:
        self.wall, self.times = time.perf_counter(), os.times()

    def seconds(self) -> tuple[float, float]:
        """(wall, CPU) seconds so far."""
        now, was = os.times(), self.times
        cpu = sum(getattr(now, key) - getattr(was, key) for key in ("user", "system", "children_user",
                                                                      "children_system"))
        return time.perf_counter() - self.wall, cpu


def render_rate(impl: str, model: neuromv.CPPN, latents: np.ndarray, width: int, height: int,
                device: torch.device) -> tuple[float, float]:
    """(frames/s, CPU ms per frame) of the implementation's renderer alone."""
    clock = CPUClock()
    if impl == "naive":
        count = sum(batch.shape[0] for batch in naive_frames(model, latents, width, height, device))
    else:
        with previous_release() if impl == "previous" else contextlib.nullcontext():
            count = sum(batch.shape[0] for batch in neuromv.frames(model, latents, width, height, device=device))
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = clock.seconds()
    return count / wall, 1000 * cpu / count


class NaiveWriter:
    """FFmpeg at x264's defaults, written to frame by frame from the caller's thread (no queue, no overlap)."""

    def __init__(self, path: Path, width: int, height: int, audio: neuromv.AudioTrack):
        self.process = ffmpeg.Process(
            ["-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", "30",
             "-i", "pipe:0", "-ss", str(audio.start), "-t", str(audio.duration), "-i", str(audio.source),
             "-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-y",
             str(path)], what="naive encoding")

    def write(self, frames: np.ndarray) -> None:
        for frame in frames:
            self.process.write(frame.tobytes())

    def __enter__(self) -> NaiveWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is None:
            self.process.finish()
        else:
            self.process.kill()


def writer(impl: str, path: Path, width: int, height: int, audio: neuromv.AudioTrack, device: torch.device):
    """The implementation's writer, set up as ``render()`` sets it up for frames rendered on ``device``."""
    if impl == "naive":
        return NaiveWriter(path, width, height, audio)
    preset = PRESETS[impl]
    return neuromv.VideoWriter(path, width, height, neuromv.as_fps(30), audio=audio,
                               preset=pick_preset(preset, device.type), threads=pick_threads(preset, device.type))


def encode_rate(impl: str, frames: np.ndarray, seconds: float, out: Path, device: torch.device
                ) -> tuple[float, float]:
    """(frames/s, CPU ms per frame, FFmpeg's included) of a writer alone, with the audio: prepared frames cycled for
    ``seconds``."""
    _, height, width, _ = frames.shape
    count = round(seconds * 30)
    clock = CPUClock()
    with writer(impl, out, width, height, neuromv.AudioTrack(SONG, 0.0, min(seconds, 30.0)), device) as w:
        for first in range(0, count, 8):
            at = first % len(frames)
            w.write(frames[at:at + min(8, count - first, len(frames) - at)])
    wall, cpu = clock.seconds()
    return count / wall, 1000 * cpu / count


def naive_render(song: str, output: str, size: str, duration: float) -> Path:
    """The naive pipeline end to end: decode, latents, naive frames, naive writer."""
    width, height = neuromv.parse_size(size)
    audio = neuromv.load_audio(song, duration=duration)
    latents = neuromv.mel_latents(audio, 30)
    net = neuromv.build(neuromv.CPPNConfig(), seed=0)
    track = neuromv.AudioTrack(Path(song), 0.0, audio.samples.shape[1] / audio.sample_rate)
    with NaiveWriter(Path(output), width, height, track) as w:
        for frame in naive_frames(net, latents, width, height, torch.device("cpu")):
            w.write(frame)
    return Path(output)


def child(spec: dict) -> None:
    """Run one render in this fresh process and print its wall and CPU seconds (FFmpeg's included), frames and peak
    RSS as JSON."""
    impl = spec.pop("impl", "ours")
    clock = CPUClock()
    if impl == "naive":
        out = naive_render(spec["song"], spec["output"], spec["size"], spec["duration"])
    else:
        with previous_release() if impl == "previous" else contextlib.nullcontext():
            out = neuromv.render(spec.pop("song"), spec.pop("output"), quiet=True, overwrite=True,
                                 x264_preset=PRESETS[impl], **spec)
    seconds, cpu = clock.seconds()
    frames = neuromv.read_frames(out, size=(16, 16), gray=True).shape[0]
    print(json.dumps({"seconds": seconds, "cpu": cpu, "frames": frames, "rss_mb": peak_mb()}))


def measure(spec: dict) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "CPU") if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return f"{model}, {torch.get_num_threads()} threads"


def looped_song(seconds: float, path: Path) -> Path:
    """The example song repeated to ``seconds``, as a WAV (a real song's frames, at a song's length)."""
    import soundfile

    audio = neuromv.load_audio(SONG)
    reps = int(np.ceil(seconds * audio.sample_rate / audio.samples.shape[1]))
    soundfile.write(str(path), np.tile(audio.samples, reps).T[: round(seconds * audio.sample_rate)], audio.sample_rate)
    return path


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x"


def speed(sizes: list[str], device: torch.device, e2e_scale: float, repeats: int) -> None:
    net = neuromv.build(neuromv.CPPNConfig(), seed=0)
    latents = np.random.default_rng(0).uniform(-1, 1, (4096, net.config.latent_dim)).astype(np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            width, height = neuromv.parse_size(size)
            budget = max(8, min(2048, int(1e8 / (width * height))))  # about equal work per size (8-10 s)
            e2e_seconds = round(min(60.0, max(10.0, e2e_scale * 4e8 / (width * height) / 30)))
            song = looped_song(e2e_seconds, Path(tmp) / "song.wav")
            list(neuromv.frames(net, latents[:8], width, height, device=device))  # warm-up
            song_latents = neuromv.mel_latents(neuromv.load_audio(SONG, duration=2.0), 30)  # real, moving frames
            clip = np.concatenate(list(neuromv.frames(net, song_latents[:60], width, height, device=device)))
            result = {}
            for impl in IMPLEMENTATIONS:
                naive, tries = impl == "naive", repeats if impl == "ours" else 1  # best of `tries`: a shared machine
                seconds = max(1.0, e2e_seconds / 8) if naive else e2e_seconds  # naive: a shorter stretch
                runs = [(render_rate(impl, net, latents[:max(4, budget // 8) if naive else budget], width, height,
                                     device),
                         encode_rate(impl, clip, min(20.0, max(4.0, budget / 15)), Path(tmp) / "encode.mp4", device),
                         measure({"impl": impl, "song": str(song), "output": str(Path(tmp) / "e2e.mp4"), "size": size,
                                  "duration": seconds, "device": str(device)}))
                        for _ in range(tries)]  # the stages take turns, so a slow spell of the machine hits each
                (render, render_cpu), (encode, encode_cpu) = (max(run[stage] for run in runs) for stage in (0, 1))
                e2e = max((run[2] for run in runs), key=lambda run: run["frames"] / run["seconds"])
                result[impl] = {"render": render, "encode": encode, "e2e": e2e["frames"] / e2e["seconds"],
                                "seconds": e2e["seconds"], "frames": e2e["frames"], "rss": e2e["rss_mb"],
                                "render_cpu": render_cpu, "encode_cpu": encode_cpu,
                                "e2e_cpu": 1000 * e2e["cpu"] / e2e["frames"]}
                print(f"  {size} {impl}: {json.dumps(result[impl])}", file=sys.stderr, flush=True)
            rows.append((size, e2e_seconds, result))
    print("| size | stage | ours | previous | naive | ours / previous | ours / naive |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size, e2e_seconds, r in rows:
        o, p, n = (r[impl] for impl in IMPLEMENTATIONS)
        e2e_label = f"end to end frames/s ({e2e_seconds:g} s of song; naive {max(1.0, e2e_seconds / 8):g} s)"
        for key, label, fmt in (("render", "render-only frames/s", "{:.1f}"),
                                ("encode", "encode-only frames/s", "{:.0f}"),
                                ("e2e", e2e_label, "{:.1f}"),
                                ("rss", "end to end peak RSS (MB)", "{:.0f}"),
                                ("render_cpu", "render-only CPU ms per frame", "{:.2f}"),
                                ("encode_cpu", "encode-only CPU ms per frame (FFmpeg's included)", "{:.2f}"),
                                ("e2e_cpu", "end to end CPU ms per frame (FFmpeg's included)", "{:.2f}")):
            print(f"| {size} | {label} | {fmt.format(o[key])} | {fmt.format(p[key])} | {fmt.format(n[key])} | "
                  f"{ratio(o[key], p[key])} | {ratio(o[key], n[key])} |")
        overlaps = [x["e2e"] / min(x["render"], x["encode"]) for x in (o, p, n)]
        print(f"| {size} | overlap: end to end / min(render, encode) | " + " | ".join(f"{v:.2f}" for v in overlaps)
              + " | | |", flush=True)
        if device.type == "cpu":  # both stages draw on the same cores: the encoder's CPU is time the network loses
            bounds = [x["render_cpu"] / (x["render_cpu"] + x["encode_cpu"]) for x in (o, p, n)]
            print(f"| {size} | overlap bound on shared cores: render CPU / (render + encode CPU) | "
                  + " | ".join(f"{v:.2f}" for v in bounds) + " | | |", flush=True)


def flop_per_pixel(config: neuromv.CPPNConfig) -> int:
    """The network's float operations a pixel and frame, the coordinate half of the first layer (computed once per
    size) left out: the first layer's add, the hidden layers' and the output's multiply-adds (2 FLOP each), and a
    tanh a unit of every layer as a polynomial (15 FLOP: the rational fit's 9 multiply-adds, a divide and a clamp)."""
    hidden, layers = config.hidden, config.layers
    return hidden + 2 * (layers - 1) * hidden * hidden + 2 * 3 * hidden + 15 * layers * hidden


def sgemm_rate() -> float:
    """torch's float32 matrix product on 2048² matrices, all threads: FLOP/s, best of three."""
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(3))
    return 2 * 2048 ** 3 / best


def _timed(run: Any) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def fma_peak() -> float | None:
    """The compiled multiply-add loop (``fma_peak.cpp``) on as many threads as torch's: FLOP/s, best of three; None
    without a compiler."""
    import ctypes
    from concurrent.futures import ThreadPoolExecutor

    compiler = fused._compiler()
    if compiler is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "fma_peak.so"
        subprocess.run([compiler, *fused.FLAGS[0], str(Path(__file__).with_name("fma_peak.cpp")), "-o",
                        str(library)], check=True)
        loaded = ctypes.CDLL(str(library))
    peak = loaded.neuromv_fma_peak
    peak.argtypes, peak.restype = [ctypes.c_int64, ctypes.c_float], ctypes.c_float
    rounds, threads = 20_000_000, torch.get_num_threads()
    with ThreadPoolExecutor(threads) as pool:
        best = min(_timed(lambda: list(pool.map(lambda _: peak(rounds, 0.999), range(threads)))) for _ in range(3))
    return threads * rounds * loaded.neuromv_fma_chains() * 2 / best


def look_rate(net: neuromv.CPPN, latents: np.ndarray, width: int, height: int, fused_head: bool) -> float:
    """frames/s of the default look's frames at ``width`` x ``height``: the network (fused or torch's head) and the
    sharpening (a faithful fit's typical amount), on the render threads."""
    params = presets.tracks(presets.load("flow"), _bank(latents.shape[0]))
    params = dataclasses.replace(params, values=params.values[:latents.shape[0]])
    source = neuromv.FrameSource([(net, latents)], width, height, params=params, sharpen=0.8, fused=fused_head)
    source.draw(0, 2)  # warm-up: the compiled passes
    start = time.perf_counter()
    count = sum(batch.shape[0] for batch in source.batches())
    return count / (time.perf_counter() - start)


def _bank(frames: int) -> FeatureBank:
    """The example song's feature bank over ``frames`` frames (looped when the song is shorter)."""
    return feature_bank(neuromv.load_audio(SONG, duration=frames / 30 + 0.1), 30)


def limit(sizes: list[str]) -> None:
    """The default look's frames/s against the FMA limit at each of ``sizes`` (see the module)."""
    net = neuromv.build(neuromv.CPPNConfig(), seed=0)
    flop = flop_per_pixel(net.config)
    gemm, peak = sgemm_rate(), fma_peak()
    print(f"network: {net.config.layers} x {net.config.hidden} tanh, {flop / 1e3:.1f} kFLOP a pixel; sgemm "
          f"{gemm / 1e9:.0f} GFLOP/s; compiled FMA loop "
          + (f"{peak / 1e9:.0f} GFLOP/s" if peak else "not measured (no compiler)")
          + f"; fused head {'built' if fused.kernel(net.config.hidden) else 'NOT available'}\n")
    print("| size | limit (sgemm) frames/s | fused frames/s | of the limit | torch's head frames/s | fused / torch | "
          "limit (FMA loop) frames/s | of it |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    latents = neuromv.mel_latents(neuromv.load_audio(SONG, duration=9.0), 30)
    for size in sizes:
        width, height = neuromv.parse_size(size)
        count = max(16, min(240, int(6e7 / (width * height))))
        rows = latents[:count]
        ours, theirs = (look_rate(net, rows, width, height, use) for use in (True, False))
        bound = gemm / (flop * width * height)
        loop = peak / (flop * width * height) if peak else float("nan")
        print(f"| {size} | {bound:.1f} | {ours:.1f} | {ours / bound:.0%} | {theirs:.1f} | {ours / theirs:.2f}x | "
              f"{loop:.1f} | {ours / loop:.0%} |", flush=True)


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
    parser.add_argument("--sizes", nargs="+", default=SIZES)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--e2e-scale", type=float, default=1.0,
                        help="scales the end-to-end song length (60 s at 256x256, 50 s at 512x512, 14 s at 720p)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of ours per figure; the best is kept")
    parser.add_argument("--rss", nargs="*", type=float, help="song lengths in minutes for the peak-RSS table")
    parser.add_argument("--rss-size", default="256x256")
    parser.add_argument("--limit", action="store_true", help="the default look against the FMA limit (--sizes: "
                        "512x512 1920x1080 unless given)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(json.loads(args.child))
    device = pick_device(args.device)
    print(f"device: {device} ({device_name(device)}); torch {torch.__version__}; "
          f"precision {pick_precision('auto', device)}; neuromv {neuromv.__version__}\n")
    if args.limit:
        limit(args.sizes if args.sizes != SIZES else ["512x512", "1920x1080"])
    elif args.rss:
        memory(args.rss, args.rss_size, device)
    else:
        speed(args.sizes, device, args.e2e_scale, args.repeats)


if __name__ == "__main__":
    main()
