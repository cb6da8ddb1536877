"""Do the learned features earn their place? Reconstruction against PCA on music the model never saw, renders
driven by them against the mel latents, and what the shipped model cost.

    python benchmarks/bench_features.py                      # after scripts/train_features.py has fetched the corpus
    python benchmarks/bench_features.py --corpus DIR --seconds 20

1. Held-out reconstruction: the shipped autoencoder's mean squared error on the windows of the held-out package
   (scripts/train_features.py's HELD_OUT: a whole package, never trained on) against PCA with the same K fitted on
   the training packages' windows, both on the same standardised windows.
2. Renders of the example songs (a random network, and the sample cover fitted) with ``--features learned`` and
   ``mel``: reactivity, motion, lag (``neuromv score``) and the time of each stage.
3. The shipped model's training time, songs and size, from its checkpoint.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import neuromv
from neuromv.music import learned

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from train_features import HELD_OUT, TRAINING  # noqa: E402

EXAMPLES = ROOT / "examples"


def corpus_windows(folder: Path, config: learned.FeatureConfig, seconds: float) -> torch.Tensor:
    parts = []
    for path in learned.find_songs([folder]):
        try:
            parts.append(learned.windows(neuromv.load_audio(path, duration=seconds), learned.TRAIN_FPS, config))
        except neuromv.NeuromvError:
            continue
    return torch.from_numpy(np.concatenate(parts))


def reconstruction(corpus: Path, seconds: float) -> None:
    model, meta = learned.load("learned")
    config = model.config
    standard = lambda x: (x - model.mean) / model.std  # noqa: E731
    train = torch.cat([corpus_windows(corpus / package / where, config, seconds)
                       for package, (_, _, where) in TRAINING.items()])
    test = torch.cat([corpus_windows(corpus / package / where, config, seconds)
                      for package, (_, _, where) in HELD_OUT.items()])
    ae = learned.reconstruction_error(model, standard(test))
    pca = learned.pca_error(standard(train), standard(test), config.dims)
    variance = float(torch.mean((standard(test) - standard(test).mean(0)) ** 2))
    print(f"held-out package ({', '.join(HELD_OUT)}), {test.shape[0]} windows; K = {config.dims}")
    print(f"  autoencoder MSE {ae:.4f}   PCA MSE {pca:.4f}   (variance {variance:.4f})   "
          f"autoencoder / PCA {ae / pca:.3f}")
    print(f"shipped model: {len(meta['songs'])} songs, trained {meta['seconds']} s ({meta['epochs']} epochs), "
          f"{learned.SHIPPED.stat().st_size / 1e6:.2f} MB")


def renders(seconds: float) -> None:
    print("\n| song | network | features | reactivity | motion | lag | z s | render s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as work:
        for song in ("vibe_ace_30s.ogg", "metal_madness_30s.ogg"):
            for network, options in (("random", {}), ("fitted", {"image": str(EXAMPLES / "cover.jpg")})):
                for features in ("mel", "learned"):
                    audio = neuromv.load_audio(EXAMPLES / song, duration=seconds)
                    start = time.perf_counter()
                    if features == "mel":
                        neuromv.mel_latents(audio, 30)
                    else:
                        learned.learned_latents(learned.load("learned")[0], audio, 30)
                    z_seconds = time.perf_counter() - start
                    start = time.perf_counter()
                    out = neuromv.render(EXAMPLES / song, Path(work) / "v.mp4", duration=seconds, size="256x256",
                                         features=features, quiet=True, overwrite=True, **options)
                    total = time.perf_counter() - start
                    s = neuromv.score(out)
                    print(f"| {song} | {network} | {features} | {s.reactivity:.2f} | {s.motion:.2f} | {s.lag} | "
                          f"{z_seconds:.2f} | {total:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path.home() / ".cache" / "neuromv-music")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of each example song rendered")
    parser.add_argument("--corpus-seconds", type=float, default=240.0, help="seconds of each corpus song")
    args = parser.parse_args()
    reconstruction(args.corpus, args.corpus_seconds)
    renders(args.seconds)


if __name__ == "__main__":
    main()
