"""Render speed of every built-in preset against classic, at one size, in the same run.

    python benchmarks/bench_presets.py                       # 512x512 on this machine's device
    python benchmarks/bench_presets.py --size 1280x720 --repeats 5

Render-only: the default network on the example song's latents and its parameter tracks (the feature bank and the
tracks are made once, before the clock starts), frames drawn as a render draws them (render threads on a CPU). Each
preset's figure is the best of ``--repeats`` runs, the presets taking turns (a shared machine wanders by 10-30 %).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import neuromv
from neuromv.look import presets
from neuromv.music.bank import feature_bank

SONG = Path(__file__).resolve().parent.parent / "examples" / "vibe_ace_30s.ogg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="512x512")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds of the song rendered per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    width, height = neuromv.parse_size(args.size)
    audio = neuromv.load_audio(SONG, start=5.0, duration=args.seconds)
    latents = neuromv.mel_latents(audio, 30)
    bank = feature_bank(audio, 30)
    net = neuromv.build(neuromv.CPPNConfig(), seed=0)
    device = neuromv.pick_device(args.device)
    sources = {}
    for name, preset in presets.built_in().items():
        params = None if preset.classic else presets.tracks(preset, bank)
        sources[name] = neuromv.FrameSource([(net, latents)], width, height, device=device, params=params)
    for source in sources.values():  # warm-up: the compiled sampler, the tanh probe, the fields
        source.frame(0)
    best = {name: 0.0 for name in sources}
    for _ in range(args.repeats):
        for name, source in sources.items():
            start = time.perf_counter()
            count = sum(batch.shape[0] for batch in source.batches())
            best[name] = max(best[name], count / (time.perf_counter() - start))
    print(f"| preset ({args.size}, {device.type}) | frames/s | time per frame / classic's |")
    print("| --- | --- | --- |")
    for name, rate in best.items():
        print(f"| {name} | {rate:.1f} | {best['classic'] / rate:.2f}x |")


if __name__ == "__main__":
    main()
