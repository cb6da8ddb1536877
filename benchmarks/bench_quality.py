"""What a viewer sees, per frame: the default look (flow) against the classic one, per song x cover x setting, scored
by `neuromv score` against the cover as the render frames it.

    python benchmarks/bench_quality.py                  # examples x covers of six kinds (about 15 minutes, 2 cores)
    python benchmarks/bench_quality.py --quick          # one song, one cover
    python benchmarks/bench_quality.py --cover wide     # only these covers (repeatable)
    python benchmarks/bench_quality.py --tuning         # the tuning set's genres, and --motion's predictability
    python benchmarks/bench_quality.py --sizes          # 512 and 1024 square, and the time at 1080p
    python benchmarks/bench_quality.py --figure docs/parts.jpg  # the default on a kick, a snare, a chord, silence

Each row: a 20 s excerpt (seconds 5-25) rendered at 256x256, fit + render timed end to end, then scored: the
median frame's PSNR and SSIM, every frame's SSIM (mean and 10th percentile: what a viewer sees), fine detail over the
cover's, reactivity (best lag within one frame), motion, lag, flashes (general / red a second, worst window),
bitrate, and what moves the picture (neuromv.influence: the latent share, the latents-only motion and their first
component's share, on the video rendered again from its saved network). The covers: the three examples (text, stars,
a photo) and three drawn here: thin glowing rings (a fine geometric pattern), a logo on a transparent background
(RGBA) and a 2:1 picture rendered square.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import neuromv
from neuromv.influence import video_influence
from neuromv.look import motion
from neuromv.look.effects import LUMA
from neuromv.network.image import load_image, resize_image
from neuromv.scoring import framing

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SONGS = {"vibe_ace": EXAMPLES / "vibe_ace_30s.ogg", "metal_madness": EXAMPLES / "metal_madness_30s.ogg"}
START, SECONDS, SIZE = 5.0, 20.0, 256
#: Where the tuning set's excerpts start: past the songs' intros.
TUNING_START = 30.0
#: --motion settings whose measured motion shows the knob's predictability.
KNOBS = (1.5, 3.0, 5.0)


def drawn_covers(folder: Path) -> dict[str, tuple[Path, str]]:
    """The examples' covers and three drawn ones: name -> (file, kind)."""
    from PIL import Image, ImageDraw, ImageFont

    covers = {"cover": (EXAMPLES / "cover.jpg", "text"), "hubble": (EXAMPLES / "hubble.jpg", "stars"),
              "coffee": (EXAMPLES / "coffee.jpg", "photo")}
    side, fine = 512, 1024  # the rings are drawn at the largest size scored, so that 1024² compares like with like
    y, x = (np.mgrid[0:fine, 0:fine] + 0.5) / fine * 2 - 1
    r = np.hypot(x, y)
    glow = np.exp(-((np.mod(r * 10, 1.0) - 0.5) ** 2) / 0.004)  # thin rings, 10 a half-side
    rings = np.stack([glow * (0.4 + 0.6 * (1 - r / 1.5)), glow * 0.8 * np.abs(x), glow], axis=2)
    Image.fromarray((np.clip(rings, 0, 1) * 255).astype(np.uint8)).save(folder / "rings.png")
    covers["rings"] = (folder / "rings.png", "geometric")
    logo = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((96, 96, 416, 416), outline=(250, 200, 40, 255), width=18)
    draw.text((side // 2, side // 2), "NEURO\nMV", fill=(240, 240, 255, 255), anchor="mm", align="center",
              font=ImageFont.load_default(size=88))
    logo.save(folder / "logo.png")
    covers["logo"] = (folder / "logo.png", "RGBA logo")
    wide = np.concatenate([np.asarray(Image.open(EXAMPLES / "coffee.jpg").convert("RGB")),
                           np.asarray(Image.open(EXAMPLES / "cover.jpg").convert("RGB"))], axis=1)
    Image.fromarray(wide).save(folder / "wide.jpg", quality=92)
    covers["wide"] = (folder / "wide.jpg", "2:1, shown square")
    return covers


HEADER = ("| song | cover | setting | PSNR (median frame) | SSIM (median frame) | SSIM (frames: mean / p10) | detail | "
          "reactivity | motion | lag | flashes (general / red) | Mbit/s | latent share | latents-only motion | "
          "first component | fit + render |")


def row(song: str, cover: str, setting: str, seconds: float | None, video: Path, image: Path,
        model: Path | None = None, audio: Path | None = None) -> str:
    """A table row; with the saved ``model`` and the song (``audio``), the latents' figures of the video rendered
    again from its record (neuromv.influence)."""
    s = neuromv.score(video, image=image)
    timed = "-" if seconds is None else f"{seconds:.0f} s"
    moved = "- | - | -"
    if model is not None:
        found = video_influence(video, audio=audio, model=model)
        moved = f"{found.share:.2f} | {found.latent_motion:.2f} | {found.first_component:.2f}"
    return (f"| {song} | {cover} | {setting} | {s.psnr_median:.1f} | {s.ssim_median:.2f} | "
            f"{s.ssim_mean:.2f} / {s.ssim_p10:.2f} | {s.detail:.2f} | {s.reactivity_best:.2f} | {s.motion:.1f} | "
            f"{s.lag} | {s.flashes:g} / {s.red_flashes:g} | {s.bitrate:.1f} | {moved} | {timed} |")


def timed_render(song: Path, video: Path, start: float = START, **options) -> float:
    began = time.perf_counter()
    neuromv.render(song, video, start=start, duration=SECONDS, quiet=True, overwrite=True, **options)
    return time.perf_counter() - began


def table(covers: dict[str, tuple[Path, str]], songs: dict[str, Path], tmp: Path) -> None:
    """The default and classic looks, fitted, per song x cover; and the knob on the first pair."""
    print(HEADER)
    print("| --- " * HEADER.count("|", 1) + "|")
    video, model = tmp / "v.mp4", tmp / "v.pt"
    for song, path in songs.items():
        for name, (image, kind) in covers.items():
            seconds = timed_render(path, video, image=image, size=SIZE, save_model=model)
            print(row(song, f"{name} ({kind})", "default (flow)", seconds, video, image, model, path), flush=True)
            if name in ("cover", "coffee", "hubble"):
                seconds = timed_render(path, video, image=image, size=SIZE, preset="classic", save_model=model)
                print(row(song, f"{name} ({kind})", "--preset classic", seconds, video, image, model, path),
                      flush=True)


def tuning(covers: dict[str, tuple[Path, str]], tmp: Path) -> None:
    """Every genre of the tuning set with each cover, the network fitted per song (a varied network learns the
    song's own variations), the knob at three settings on the photo."""
    from tuning_set import tracks

    songs = tracks()
    print(HEADER)
    print("| --- " * HEADER.count("|", 1) + "|")
    video = tmp / "v.mp4"
    for name in ("coffee", "cover", "rings"):
        image = covers[name][0]
        model = tmp / f"{name}.pt"
        for song, path in songs.items():
            for knob in KNOBS if name == "coffee" else (3.0,):
                seconds = timed_render(path, video, image=image, size=SIZE, motion=knob, save_model=model,
                                       start=TUNING_START)
                label = "default (flow)" if knob == 3.0 else f"--motion {knob:g}"
                print(row(song, f"{name} ({covers[name][1]})", label, seconds, video, image, model, path),
                      flush=True)


def sizes(covers: dict[str, tuple[Path, str]], tmp: Path) -> None:
    """The same networks at 512 and 1024 square (10 s), and fit + render of 20 s at 1920x1080."""
    print("| cover | size | SSIM (frames: mean / p10) | detail | motion | flashes | Mbit/s | render |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    song = SONGS["vibe_ace"]
    for name in ("coffee", "rings", "cover"):
        image = covers[name][0]
        model = tmp / f"{name}-s.pt"
        neuromv.render(song, tmp / "fit.mp4", image=image, size=64, start=START, duration=SECONDS, quiet=True,
                       overwrite=True, save_model=model)
        for side in (512, 1024):
            video = tmp / "v.mp4"
            start = time.perf_counter()
            neuromv.render(song, video, model=model, size=side, start=START, duration=10.0, quiet=True,
                           overwrite=True)
            seconds = time.perf_counter() - start
            s = neuromv.score(video, image=image)
            print(f"| {name} | {side}x{side} | {s.ssim_mean:.2f} / {s.ssim_p10:.2f} | {s.detail:.2f} | "
                  f"{s.motion:.1f} | {s.flashes:g} / {s.red_flashes:g} | {s.bitrate:.1f} | {seconds:.0f} s |",
                  flush=True)
    seconds = timed_render(song, tmp / "hd.mp4", image=covers["coffee"][0], size="1920x1080")
    s = neuromv.score(tmp / "hd.mp4", image=covers["coffee"][0])
    print(f"\nfit + render of 20 s at 1920x1080 (coffee): {seconds:.0f} s; SSIM {s.ssim_mean:.2f} / {s.ssim_p10:.2f}, "
          f"motion {s.motion:.1f}, {s.bitrate:.1f} Mbit/s (YouTube recommends 8 at 1080p30)")


#: The figure's song: a second each of kicks, snares, a held chord and silence, twice over.
PARTS = ("a kick", "a snare", "a held chord", "silence")


def parts_song(path: Path, rate: int = 22050) -> dict[str, int]:
    """Write 8 s of kicks (a falling sine, 4 a second), snares (a noise burst over a tone, 4 a second), a held chord
    (A minor, four voices) and silence, a second each, twice; return the frame (at 30 fps) of each part to show: a
    hit's peak in the second pass, and the middle of the chord and of the silence."""
    import soundfile

    t = np.arange(rate) / rate
    noise = np.random.default_rng(0).standard_normal(rate)
    hit = np.mod(t, 0.25)
    kick = np.sin(2 * np.pi * (50 * hit + 2 * (1 - np.exp(-30 * hit)))) * np.exp(-hit * 14)  # 110 Hz falling to 50
    snare = (0.6 * noise + 0.4 * np.sin(2 * np.pi * 190 * t)) * np.exp(-hit * 22)
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 261.63, 329.63, 440.0)) / 4 * np.minimum(1, t * 20)
    second = np.concatenate([0.8 * kick, 0.5 * snare, 0.5 * chord, np.zeros(rate)])
    soundfile.write(path, np.tile(second, 2).astype(np.float32), rate)
    return {"a kick": 4 * 30 + 1, "a snare": 5 * 30 + 1, "a held chord": 6 * 30 + 15, "silence": 7 * 30 + 15}


def figure(path: Path, tmp: Path, side: int = 384) -> None:
    """The default look on a kick, a snare, a held chord and silence (:func:`parts_song`, the coffee photo), each
    ``side`` square: the cover, then each part's frame above what the latents did to it (the frame minus the same
    frame with z frozen at the song's mean latent, 4 times amplified about mid-gray)."""
    from PIL import Image, ImageDraw

    from neuromv.draw import FrameSource

    song, cover = tmp / "parts.wav", EXAMPLES / "coffee.jpg"
    shown = parts_song(song)
    prepared = neuromv.prepare(neuromv.RenderSpec(song=str(song), image=str(cover), size=f"{side}x{side}",
                                                  quiet=True))
    drawn = prepared.frames()
    still = FrameSource(motion.still(prepared.panels), side, side, params=prepared.params, sharpen=prepared.sharpen)
    picture = load_image(cover)
    (_, _, _, _), (cl, ct, cr, cb) = framing((picture.shape[1], picture.shape[0]), (side, side))
    target = (resize_image(np.ascontiguousarray(picture[ct:cb, cl:cr]), side, side) * 255).astype(np.uint8)
    gap = 12
    sheet = Image.new("RGB", (5 * side + 4 * gap, 2 * side + gap + 28), (255, 255, 255))
    sheet.paste(Image.fromarray(target), (0, 28))
    labels = ImageDraw.Draw(sheet)
    labels.text((8, 6), "the cover", fill=(0, 0, 0))
    for column, part in enumerate(PARTS, start=1):
        frame = drawn.frame(shown[part])
        moved = frame.astype(np.float32) @ np.asarray(LUMA, np.float32) - \
            still.frame(shown[part]).astype(np.float32) @ np.asarray(LUMA, np.float32)
        change = np.clip(128 + 4 * moved, 0, 255).astype(np.uint8)
        x = column * (side + gap)
        sheet.paste(Image.fromarray(frame), (x, 28))
        sheet.paste(Image.fromarray(change).convert("RGB"), (x, 28 + side + gap))
        labels.text((x + 8, 6), f"{part} (frame {shown[part]}; below: what z did, x4)", fill=(0, 0, 0))
    sheet.save(path, quality=85, optimize=True)
    print(f"wrote {path}: the cover | the default look on {', '.join(PARTS)}, each above its frame minus the frame "
          f"with z frozen (x4 about mid-gray)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one song and one cover")
    parser.add_argument("--tuning", action="store_true", help="the tuning set's songs (scripts/tuning_set.py)")
    parser.add_argument("--sizes", action="store_true", help="512 and 1024 square, and 1080p's time")
    parser.add_argument("--figure", type=Path,
                        help="write only the picture of the default look on a kick, a snare, a held chord and silence")
    parser.add_argument("--cover", action="append", help="only these covers in the table (repeatable)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        covers = drawn_covers(tmp)
        if args.figure:
            return figure(args.figure, tmp)
        if args.tuning:
            return tuning(covers, tmp)
        if args.sizes:
            return sizes(covers, tmp)
        songs = SONGS
        if args.quick:
            songs, covers = dict(list(SONGS.items())[:1]), {"coffee": covers["coffee"]}
        if args.cover:
            covers = {name: covers[name] for name in args.cover}
        table(covers, songs, tmp)


if __name__ == "__main__":
    main()
