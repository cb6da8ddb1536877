"""A cover: read from any image file, resized, and framed in the network's coordinates.

:func:`load_image` gives float32 [height, width, 3] in [0, 1] for every picture Pillow reads (EXIF rotation applied,
transparency composited over black); :func:`shown` is the part of it a frame of a given size shows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ImageError
from .cppn import extent

#: Rec. 709 luma weights: a picture's brightness, wherever neuromv measures or changes it.
LUMA = np.array([0.2126, 0.7152, 0.0722])
#: Largest cover accepted, in pixels (guards against decompression bombs).
MAX_IMAGE_PIXELS = 100_000_000


def load_image(path: str | Path) -> np.ndarray:
    """Read a cover as float32 [height, width, 3] in [0, 1].

    JPEG, PNG (RGBA, palette, 16-bit), WebP, grayscale and anything else Pillow reads; EXIF rotation is applied and
    transparency is composited over black.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise ImageError(f"image {str(path)!r} does not exist")
    if path.stat().st_size == 0:
        raise ImageError(f"image {str(path)!r} is an empty file")
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            img.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"image {str(path)!r} is not a readable image ({exc.__class__.__name__}: {exc})") from None
    if img.width < 1 or img.height < 1:
        raise ImageError(f"image {str(path)!r} has no pixels ({img.width}x{img.height})")
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):  # 16/32-bit grayscale: scale by the type's range
        gray = np.asarray(img, dtype=np.float32)
        top = 65535.0 if img.mode.startswith("I;16") or gray.max() > 255 else 255.0
        gray = np.clip(gray / top, 0.0, 1.0)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        return np.ascontiguousarray(rgba[:, :, :3] * rgba[:, :, 3:])
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def resize_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """float32 [H, W, 3] -> float32 [height, width, 3], area-averaged (Lanczos when enlarging)."""
    from PIL import Image

    if image.shape[:2] == (height, width):
        return image
    planes = [Image.fromarray(image[:, :, c], mode="F").resize((width, height), Image.Resampling.LANCZOS)
              for c in range(3)]
    return np.clip(np.stack([np.asarray(p) for p in planes], axis=2), 0.0, 1.0)


def framed_like(image: np.ndarray, first: tuple[int, ...]) -> np.ndarray:
    """``image`` cut to the aspect of a picture of shape ``first`` (a sequence's first cover), about its centre: every
    picture of a sequence is framed alike."""
    height, width = image.shape[:2]
    aspect = first[1] / first[0]
    if abs(width / height - aspect) < 1e-3:
        return image
    if width / height > aspect:  # too wide: keep the middle columns
        keep = max(1, round(height * aspect))
        left = (width - keep) // 2
        return image[:, left:left + keep]
    keep = max(1, round(width / aspect))
    top = (height - keep) // 2
    return image[top:top + keep]


def shown(image_shape: tuple[int, ...], frame_size: tuple[int, int]) -> tuple[float, float] | None:
    """The half-width and half-height, in the network's coordinates (the short side spanning [-1, 1]), of the part of
    an image that a frame of ``frame_size`` (width, height) shows; None when it shows all of it."""
    (cx, cy), (fx, fy) = extent(image_shape[1], image_shape[0]), extent(*frame_size)
    window = min(fx, cx), min(fy, cy)
    return None if window[0] >= cx - 1e-9 and window[1] >= cy - 1e-9 else window


def fit_size(image_shape: tuple[int, ...], resolution: int) -> tuple[int, int]:
    """(width, height) with the image's aspect and the long side ``resolution``."""
    height, width = image_shape[:2]
    scale = resolution / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))
