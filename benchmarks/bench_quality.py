"""Fidelity vs reactivity: every sample song x cover in examples/, at the default --motion and two other settings,
scored with `neuromv score`; plus the classic recipe (our reconstruction of the original notebook) for contrast.

    python benchmarks/bench_quality.py                  # the full table (about 15 minutes on 2 CPU cores)
    python benchmarks/bench_quality.py --quick          # one song, one cover
    python benchmarks/bench_quality.py --figure docs/tradeoff.png
    python benchmarks/bench_quality.py --tuning         # the songs of scripts/tuning_set.py instead of the examples

Each row: a 20 s excerpt rendered at 256x256 from seconds 5-25, fit + render
timed end to end, scored by ``neuromv score``: the median frame's PSNR and SSIM, every frame's mean SSIM (what a
viewer sees), fine detail over the cover's, reactivity, motion, lag, flashes (general / red a second, worst window)
and bitrate.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import neuromv
from neuromv import cppn
from neuromv.features import LatentConfig
from neuromv.fit import FitConfig, fit, load_image, resize_image
from neuromv.score import onset_strength

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SONGS = ["vibe_ace_30s.ogg", "metal_madness_30s.ogg"]
COVERS = [("cover.jpg", "detailed (text)"), ("hubble.jpg", "detailed (stars)"), ("coffee.jpg", "smooth photo")]
MOTIONS = [3.0, 1.0, 6.0]
START, SECONDS, SIZE = 5.0, 20.0, 256


def classic(song: Path, cover: Path, out: Path) -> None:
    """The original recipe: width 64, (x, y, r) only, every frame fit to the image (500 full-image Adam steps),
    unsmoothed latents."""
    audio = neuromv.load_audio(song, start=START, duration=SECONDS)
    net = cppn.build(neuromv.CPPNConfig(hidden=64, fourier=0), seed=0)
    latents = neuromv.mel_latents(audio, 30, LatentConfig(latent_dim=64, release=0.0))
    fit(net, load_image(cover), latents, config=FitConfig(steps=500, frames=1, pixels=SIZE * SIZE, motion=0.0,
                                                          lr=0.003), progress=False)
    track = neuromv.AudioTrack(audio.source, audio.start, audio.duration)
    with neuromv.VideoWriter(out, SIZE, SIZE, neuromv.as_fps(30), audio=track) as writer:
        for batch in neuromv.frames(net, latents, SIZE, SIZE):
            writer.write(batch)


HEADER = ("| song | cover | setting | PSNR (median frame) | SSIM (median frame) | SSIM (frames: mean / p10) | detail | "
          "reactivity | motion | lag | flashes (general / red) | Mbit/s | fit + render |")


def row(song: str, cover: str, kind: str, setting: str, seconds: float, video: Path) -> str:
    s = neuromv.score(video, image=EXAMPLES / cover)
    return (f"| {song} | {cover} ({kind}) | {setting} | {s.psnr_median:.1f} | {s.ssim_median:.2f} | "
            f"{s.ssim_mean:.2f} / {s.ssim_p10:.2f} | {s.detail:.2f} | {s.reactivity:.2f} | {s.motion:.1f} | "
            f"{s.lag} | {s.flashes:g} / {s.red_flashes:g} | {s.bitrate:.1f} | {seconds:.0f} s |")


def figure(path: Path) -> None:
    """cover | fitted still (median frame) | a frame on a beat | a frame off a beat, for the default settings."""
    from PIL import Image

    song, cover = EXAMPLES / SONGS[0], EXAMPLES / COVERS[0][0]
    with tempfile.TemporaryDirectory() as tmp:
        video = neuromv.render(song, Path(tmp) / "v.mp4", image=cover, size=SIZE, start=START, duration=SECONDS,
                               quiet=True)
        frames = neuromv.read_frames(video)
        samples = neuromv.read_audio(video)
    onset = onset_strength(samples, 22050, 30, frames.shape[0])
    on, off = int(np.argmax(onset)), int(np.argmin(onset[30:]) + 30)
    still = np.median(frames, axis=0).astype(np.uint8)
    target = (resize_image(load_image(cover), SIZE, SIZE) * 255).astype(np.uint8)
    gap = np.full((SIZE, 6, 3), 255, np.uint8)
    strip = np.concatenate([target, gap, still, gap, frames[on], gap, frames[off]], axis=1)
    Image.fromarray(strip).save(path)
    print(f"wrote {path}: cover | median frame | frame {on} (on a beat) | frame {off} (off)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one song and one cover")
    parser.add_argument("--figure", type=Path, help="also write the cover | still | on | off picture here")
    parser.add_argument("--figure-only", action="store_true", help="skip the table")
    parser.add_argument("--classic-everywhere", action="store_true",
                        help="the classic recipe for every song and cover (default: the first pair only)")
    parser.add_argument("--tuning", action="store_true", help="the tuning set's songs (scripts/tuning_set.py)")
    args = parser.parse_args()
    if args.figure_only:
        return figure(args.figure)
    songs = {name: EXAMPLES / name for name in SONGS}
    if args.tuning:
        from tuning_set import tracks

        songs = {f"{name}.ogg": path for name, path in tracks().items()}
    covers = COVERS
    if args.quick:
        songs, covers = dict(list(songs.items())[:1]), COVERS[:1]
    print(HEADER)
    print("| --- " * HEADER.count("|", 1) + "|")
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "v.mp4"
        for song, path in songs.items():
            for cover, kind in covers:
                for motion in MOTIONS:
                    start = time.perf_counter()
                    neuromv.render(path, video, image=EXAMPLES / cover, size=SIZE, start=START,
                                   duration=SECONDS, motion=motion, quiet=True, overwrite=True)
                    label = f"--motion {motion:g}" + (" (default)" if motion == FitConfig.motion else "")
                    print(row(song, cover, kind, label, time.perf_counter() - start, video), flush=True)
                if (song, cover) == (SONGS[0], COVERS[0][0]) or args.classic_everywhere and song in SONGS:
                    start = time.perf_counter()
                    classic(EXAMPLES / song, EXAMPLES / cover, video)
                    print(row(song, cover, kind, "classic recipe", time.perf_counter() - start, video), flush=True)
    if args.figure:
        figure(args.figure)


if __name__ == "__main__":
    main()
