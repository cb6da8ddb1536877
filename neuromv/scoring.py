"""How well a video follows its music and resembles its cover: reactivity, sync lag, motion, fidelity.

- reactivity: Pearson r between the audio's onset strength (:data:`ONSET`: spectral flux of the log-mel on the
  video's frame grid) and the visual change (mean absolute difference of consecutive small grayscale frames), at
  lag 0 and at the best lag within one frame either way (``reactivity_best``);
- lag: the shift in [-MAX_LAG, MAX_LAG] frames that maximises their correlation (positive: the picture is late);
- motion: the mean visual change, in gray levels (0-255) per frame;
- fidelity (with a cover): PSNR and SSIM of the median frame, and the mean and 10th percentile of every sampled
  frame's own (what a viewer sees), against the cover framed as the render frames it (:func:`framing`); and fine
  detail, the Laplacian energy of the frames over the cover's (above 1: texture the cover does not have);
- flashes: general and red flashes per second in the worst one-second window, with WCAG 2.3.1's area rule
  (:mod:`neuromv.flashes`; more than 3 fails), and when that window begins;
- bitrate: the file's, in Mbit/s.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .errors import OptionError
from .io.audio import Audio, as_fps, load_audio
from .look.effects import LUMA
from .look.flashes import GRID, flashes, window_sums
from .look.sharpen import laplacian
from .music.mel import LatentConfig, log_mel
from .network.cppn import extent
from .network.image import load_image, resize_image
from .out.video import probe, read_audio, read_frames

MAX_LAG = 10
#: Side of the grayscale frames that visual change is measured on.
CHANGE_SIDE = 64
#: Frames sampled evenly for the fidelity figures.
FIDELITY_FRAMES = 120
#: The onset measure reactivity correlates with.
ONSET = "spectral flux: the mean rise of the log-mel (64 bands) into each frame"


@dataclass(frozen=True)
class Score:
    """The figures :func:`score` reports (fidelity ones are ``None`` without a cover)."""

    frames: int
    fps: float
    reactivity: float
    lag: int
    motion: float
    reactivity_best: float = 0.0
    flashes: float = 0.0
    red_flashes: float = 0.0
    flashes_at: float = 0.0
    bitrate: float = 0.0
    onset: str = ONSET
    psnr_median: float | None = None
    ssim_median: float | None = None
    psnr_mean: float | None = None
    ssim_mean: float | None = None
    psnr_p10: float | None = None
    ssim_p10: float | None = None
    detail: float | None = None
    latent_share: float | None = None
    latent_motion: float | None = None
    latent_component: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def onset_strength(samples: np.ndarray, sample_rate: int, fps: Fraction | float | str, frames: int) -> np.ndarray:
    """float32 [frames]: spectral flux, the mean rise of the log-mel into each frame (0 for frame 0)."""
    db = log_mel(samples, sample_rate, fps, LatentConfig(latent_dim=64, release=0.0))
    db = np.maximum(db, db.max() - 80.0)
    flux = np.zeros(db.shape[0], dtype=np.float32)
    flux[1:] = np.maximum(np.diff(db, axis=0), 0.0).mean(axis=1)
    out = np.zeros(frames, dtype=np.float32)
    out[: min(frames, flux.shape[0])] = flux[:frames]
    return out


def visual_change(gray: np.ndarray) -> np.ndarray:
    """float32 [frames]: mean absolute difference of each frame from the previous one (0 for frame 0)."""
    change = np.zeros(gray.shape[0], dtype=np.float32)
    change[1:] = np.abs(np.diff(gray.astype(np.float32), axis=0)).mean(axis=(1, 2))
    return change


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def lagged(onset: np.ndarray, change: np.ndarray, lag: int) -> float:
    """Pearson r of ``onset`` and ``change`` shifted by ``lag`` frames (positive: the picture late), frame 0 left
    out."""
    if lag >= 0:
        return _pearson(onset[1:len(onset) - lag], change[1 + lag:])
    return _pearson(onset[1 - lag:], change[1:len(change) + lag])


def best_lag(onset: np.ndarray, change: np.ndarray, max_lag: int = MAX_LAG) -> int:
    """The shift (frames) of ``change`` against ``onset`` with the highest correlation; positive = picture late."""
    return max(range(-max_lag, max_lag + 1), key=lambda lag: (lagged(onset, change, lag), -abs(lag)))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8-range images, in dB."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10.0 * math.log10(255.0**2 / max(mse, 1e-10))


def _box(image: np.ndarray, size: int) -> np.ndarray:
    """Mean over each ``size`` x ``size`` window (valid part only). [H, W] -> [H-s+1, W-s+1]."""
    return window_sums(image, size) / size**2


def ssim(a: np.ndarray, b: np.ndarray, window: int = 7) -> float:
    """Structural similarity of two uint8-range images [H, W(, C)], 7x7 uniform windows, averaged over channels."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    window = min(window, a.shape[0], a.shape[1])
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    n = window * window
    correction = n / (n - 1) if n > 1 else 1.0
    values = []
    for c in range(a.shape[2]):
        x, y = a[..., c], b[..., c]
        mx, my = _box(x, window), _box(y, window)
        vx = (_box(x * x, window) - mx * mx) * correction
        vy = (_box(y * y, window) - my * my) * correction
        cov = (_box(x * y, window) - mx * my) * correction
        s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        values.append(s.mean())
    return float(np.mean(values))


def framing(cover_size: tuple[int, int], frame_size: tuple[int, int]) -> tuple[tuple[int, int, int, int],
                                                                             tuple[int, int, int, int]]:
    """The part of a frame the cover appears in, and the part of the cover it shows: ``((left, top, right,
    bottom) in the frame, (left, top, right, bottom) in the cover)``, both (width, height) sizes given.

    The render's coordinates put the short side of both the cover (when fitted) and the frame on [-1, 1], so a square
    frame of a 2:1 cover shows the cover's middle square, and a frame wider than the cover shows it whole, in the
    middle, with the network's own continuation either side.
    """
    (fx, fy), (cx, cy) = extent(*frame_size), extent(*cover_size)
    wx, wy = min(fx, cx), min(fy, cy)  # the window both show, in coordinate units

    def box(width: int, height: int, ex: float, ey: float) -> tuple[int, int, int, int]:
        w, h = max(1, round(width * wx / ex)), max(1, round(height * wy / ey))
        left, top = (width - w) // 2, (height - h) // 2
        return left, top, left + w, top + h

    return box(*frame_size, fx, fy), box(*cover_size, cx, cy)


def laplacian_energy(gray: np.ndarray) -> float:
    """Mean squared 4-neighbour Laplacian of a grayscale image: how much fine detail it carries."""
    lap = laplacian(gray)
    return float(np.mean(lap * lap))


def score(video: str | Path, *, audio: str | Path | None = None, image: str | Path | None = None,
          latents: bool = False) -> Score:
    """Score ``video`` against its music (``audio``, default: the video's own audio track) and, with ``image``,
    against the cover. ``latents``: also the latent share, the latents-only motion and the first component's share
    (:mod:`neuromv.influence`), from the video rendered again from its record (a fitted cover is fitted again)."""
    info = probe(video)
    if info.fps <= 0:
        raise OptionError(f"video {str(video)!r} has no frame rate")
    fps = as_fps(f"{info.fps:.3f}".rstrip("0").rstrip("."))
    gray = read_frames(video, size=(CHANGE_SIDE, CHANGE_SIDE), gray=True)
    frames = gray.shape[0]
    if frames < 3:
        raise OptionError(f"video {str(video)!r} has {frames} frames; scoring needs at least 3")
    if audio is not None:
        song: Audio = load_audio(audio)
        samples, rate = song.mono(), song.sample_rate
    else:
        if info.audio_codec is None:
            raise OptionError(f"video {str(video)!r} has no audio track; pass the song with --audio")
        rate = 22050
        samples = read_audio(video, rate)
    onset = onset_strength(samples, rate, fps, frames)
    change = visual_change(gray)
    bitrate = Path(video).stat().st_size * 8 / (frames / float(fps)) / 1e6
    flashed = flashes(read_frames(video, size=(2 * GRID, 2 * GRID)), float(fps))
    result = dict(frames=frames, fps=float(fps), reactivity=lagged(onset, change, 0),
                  reactivity_best=max(lagged(onset, change, lag) for lag in (-1, 0, 1)),
                  lag=best_lag(onset, change), motion=float(change[1:].mean()), flashes=flashed.general,
                  red_flashes=flashed.red, flashes_at=flashed.worst_at, bitrate=bitrate)
    if image is not None:
        picture = load_image(image)
        (fl, ft, fr, fb), (cl, ct, cr, cb) = framing((picture.shape[1], picture.shape[0]), (info.width, info.height))
        cover = resize_image(np.ascontiguousarray(picture[ct:cb, cl:cr]), fr - fl, fb - ft) * 255.0
        sampled = read_frames(video, every=max(1, math.ceil(frames / FIDELITY_FRAMES)))[:, ft:fb, fl:fr]
        median = np.median(sampled, axis=0)
        psnrs = np.array([psnr(f, cover) for f in sampled])
        ssims = np.array([ssim(f, cover) for f in sampled])
        detail = np.mean([laplacian_energy(f @ LUMA) for f in sampled]) / max(laplacian_energy(cover @ LUMA), 1e-9)
        result.update(psnr_median=psnr(median, cover), ssim_median=ssim(median, cover),
                      psnr_mean=float(psnrs.mean()), ssim_mean=float(ssims.mean()),
                      psnr_p10=float(np.percentile(psnrs, 10)), ssim_p10=float(np.percentile(ssims, 10)),
                      detail=float(detail))
    if latents:
        from .influence import video_influence

        found = video_influence(video, audio=audio, image=image)
        result.update(latent_share=found.share, latent_motion=found.latent_motion,
                      latent_component=found.first_component)
    return Score(**result)
