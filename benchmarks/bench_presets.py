"""Render speed of every built-in preset against classic, at one size, in the same run.

    python benchmarks/bench_presets.py                       # 512x512 on this machine's device
    python benchmarks/bench_presets.py --size 1280x720 --repeats 5

Render-only: each preset's network as a render with a cover builds it (a faithful or varied look's has
``FAITHFUL_FOURIER`` Fourier features, and its frames are sharpened, here by a typical amount), on the example
song's latents with its parameter tracks (the feature bank and the tracks are made once, before the clock starts),
frames drawn as a render draws them (render threads on a CPU). Each
preset's figure is the best of ``--repeats`` runs, the presets taking turns (a shared machine wanders by 10-30 %).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import neuromv
from neuromv.look import presets
from neuromv.music.bank import feature_bank
from neuromv.network.fit import FAITHFUL_FOURIER

SONG = Path(__file__).resolve().parent.parent / "examples" / "vibe_ace_30s.ogg"
#: A faithful look's sharpening amount (any amount but 0 costs the same: one pass over the frame).
SHARPEN = 0.5


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
    device = neuromv.pick_device(args.device)
    sources = {}
    for name, preset in presets.built_in().items():
        params = None if preset.classic else presets.tracks(preset, bank)
        fourier = FAITHFUL_FOURIER if preset.faithful else neuromv.CPPNConfig().fourier
        net = neuromv.build(neuromv.CPPNConfig(fourier=fourier), seed=0)
        sources[name] = neuromv.FrameSource([(net, latents)], width, height, device=device, params=params,
                                            sharpen=SHARPEN if preset.faithful else 0.0)
    for source in sources.values():  # warm-up: the compiled sampler, the tanh probe, the fields
        source.frame(0)
    best = {name: 0.0 for name in sources}
    for _ in range(args.repeats):
        for name, source in sources.items():
            start = time.perf_counter()
            count = sum(batch.shape[0] for batch in source.batches())
            best[name] = max(best[name], count / (time.perf_counter() - start))
    print(f"| preset ({args.size}, {device.type}) | frames/s | time per frame / classic's | / glow's |")
    print("| --- | --- | --- | --- |")
    for name, rate in best.items():
        print(f"| {name} | {rate:.1f} | {best['classic'] / rate:.2f}x | {best['glow'] / rate:.2f}x |")


if __name__ == "__main__":
    main()
