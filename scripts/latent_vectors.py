"""Write ``tests/data/latent_vectors.json``: golden vectors of the mel latents, which the Python implementation
(``neuromv/music/mel.py``) and the browser player's (``neuromv/out/player/latents.js``) are both checked against.

    python scripts/latent_vectors.py          # (re)write the file from the Python implementation

Each case is a short synthetic song (a chord that changes, a noise burst, drum-like clicks, a silent stretch), its
samples rounded to 1e-4 so that both sides read exactly the same float32 values, at a rate, frame rate and config
chosen to reach every branch: windows that are and are not powers of two, a frame rate of 30000/1001, no
smoothing, and an excerpt shorter than a frame's window.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path

import numpy as np

from neuromv.io.audio import Audio
from neuromv.music.mel import LatentConfig, mel_latents

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "latent_vectors.json"
#: (name, sample rate, fps, seconds, config).
CASES = [
    ("8 kHz at 30 fps, 16 bins", 8000, "30", 1.0, LatentConfig(latent_dim=16)),
    ("16 kHz at 125/4 fps: a 1024-sample window", 16000, "125/4", 0.8, LatentConfig(latent_dim=24, fmin=60.0)),
    ("11.025 kHz at 29.97 fps, no smoothing", 11025, "30000/1001", 0.7,
     LatentConfig(latent_dim=8, release=0.0, fmax=4000.0)),
    ("8 kHz at 12 fps, shorter than a window", 8000, "12", 0.05, LatentConfig(latent_dim=8)),
]


def song(rate: int, seconds: float) -> np.ndarray:
    """float32 [n]: the synthetic song, each sample a whole number of 1e-4 (as :func:`samples_of` reads it back)."""
    n = round(rate * seconds)
    t = np.arange(n) / rate
    root = np.where(t < seconds / 2, 220.0, 330.0)
    chord = sum(np.sin(2 * np.pi * root * k * t) / k for k in (1.0, 1.25, 1.5)) * 0.2
    noise = np.random.default_rng(n).standard_normal(n) * 0.05 * ((t > 0.3 * seconds) & (t < 0.4 * seconds))
    clicks = np.zeros(n)
    for at in np.arange(0.05, seconds, 0.25):
        i = round(at * rate)
        burst = np.exp(-np.arange(min(200, n - i)) / 30.0) * 0.8
        clicks[i:i + burst.shape[0]] += burst * np.sign(np.sin(np.arange(burst.shape[0])))
    samples = (chord + noise + clicks) * (t < 0.85 * seconds)
    return samples_of(np.round(samples * 1e4).astype(np.int64).tolist())


def samples_of(units: list[int]) -> np.ndarray:
    """float32 [n]: samples stored in units of 1e-4, as the browser reads them (each divided, then made float32)."""
    return (np.asarray(units, np.float64) / 1e4).astype(np.float32)


def latents(samples: np.ndarray, rate: int, fps: str, config: LatentConfig) -> np.ndarray:
    """float32 [frames, latent_dim]: :func:`neuromv.mel_latents` of these samples as a mono song."""
    return mel_latents(Audio(samples[None], rate, Path("golden.wav")), fps, config)


def main() -> None:
    cases = []
    for name, rate, fps, seconds, config in CASES:
        samples = song(rate, seconds)
        cases.append({"name": name, "rate": rate, "fps": str(Fraction(fps)), "config": asdict(config),
                      "samples_e4": [round(float(v) * 1e4) for v in samples],  # the samples in units of 1e-4
                      "expected": [[round(float(v), 7) for v in row] for row in latents(samples, rate, fps, config)]})
    OUT.write_text(json.dumps({"about": "mel latents: scripts/latent_vectors.py", "cases": cases}) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB, {len(cases)} cases)")


if __name__ == "__main__":
    main()
