"""Covers of every kind load as float32 RGB in [0, 1]; bad ones fail with the file named."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import neuromv
from neuromv.network.image import load_image


def gradient(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), np.full_like(x, 128)], axis=2)


@pytest.mark.parametrize("kind", ["jpeg", "png-rgba", "png-palette", "png-palette-transparent", "png-16bit-gray",
                                  "webp", "gray-jpeg", "one-pixel", "very-wide", "cmyk-jpeg"])
def test_cover_kinds(tmp_path, kind):
    rgb = gradient(30, 40).astype(np.uint8)
    path = tmp_path / f"cover-{kind}"
    if kind == "jpeg":
        Image.fromarray(rgb).save(path := path.with_suffix(".jpg"))
    elif kind == "png-rgba":
        rgba = np.concatenate([rgb, np.full((30, 40, 1), 255, np.uint8)], axis=2)
        rgba[:, :20, 3] = 0  # left half transparent: composited over black
        Image.fromarray(rgba).save(path := path.with_suffix(".png"))
    elif kind.startswith("png-palette"):
        img = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
        if kind.endswith("transparent"):
            img.info["transparency"] = 0
        img.save(path := path.with_suffix(".png"), **({"transparency": 0} if kind.endswith("transparent") else {}))
    elif kind == "png-16bit-gray":
        ramp = (np.arange(40 * 30).reshape(30, 40) * 50).astype(np.uint16)
        Image.fromarray(ramp).save(path := path.with_suffix(".png"))
    elif kind == "webp":
        Image.fromarray(rgb).save(path := path.with_suffix(".webp"))
    elif kind == "gray-jpeg":
        Image.fromarray(rgb[:, :, 0]).save(path := path.with_suffix(".jpg"))
    elif kind == "one-pixel":
        Image.fromarray(rgb[:1, :1]).save(path := path.with_suffix(".png"))
    elif kind == "very-wide":
        Image.fromarray(gradient(4, 1000).astype(np.uint8)).save(path := path.with_suffix(".png"))
    elif kind == "cmyk-jpeg":
        Image.fromarray(rgb).convert("CMYK").save(path := path.with_suffix(".jpg"))
    image = load_image(path)
    assert image.dtype == np.float32 and image.ndim == 3 and image.shape[2] == 3
    assert image.min() >= 0.0 and image.max() <= 1.0
    if kind == "png-rgba":
        assert image[:, :20].max() == 0 and image[:, 20:].max() > 0.5
    if kind == "png-16bit-gray":
        assert image.max() > 0.9 and np.allclose(image[..., 0], image[..., 1])  # full 16-bit range used


def test_very_wide_cover_sets_a_very_wide_video(tmp_path, song):
    cover = tmp_path / "wide.png"
    Image.fromarray(gradient(20, 400).astype(np.uint8)).save(cover)
    out = neuromv.render(song, tmp_path / "wide.mp4", image=cover, steps=3, quiet=True, duration=1)
    info = neuromv.probe(out)
    assert (info.width, info.height) == (512, 26)


def test_mp4_is_faststart(tmp_path, song):
    data = neuromv.render(song, tmp_path / "fast.mp4", size="16x16", quiet=True).read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # the index first: playback starts before the download ends
