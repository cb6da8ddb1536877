"""Colours as encoded: every video is BT.709 (matrix, primaries, transfer; limited range) and tagged so, and decodes
to the colours it was given, by FFmpeg and in a real browser."""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from browser import launch, need_browser

import neuromv

#: A colour chart: saturated primaries and secondaries, skin tones, grays, a dark and a light pastel.
CHART = np.array([
    (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255),
    (40, 180, 60), (224, 172, 138), (198, 134, 66), (141, 85, 36), (255, 219, 172), (92, 51, 23),
    (0, 0, 0), (64, 64, 64), (128, 128, 128), (192, 192, 192), (255, 255, 255), (20, 30, 90),
], dtype=np.uint8)


def chart(width: int, height: int) -> np.ndarray:
    """uint8 [height, width, 3]: the chart's patches in a 6 x 3 grid."""
    columns, rows = 6, 3
    ys, xs = np.mgrid[0:height, 0:width]
    index = (ys * rows // height) * columns + xs * columns // width
    return CHART[index]


def patch_means(frame: np.ndarray) -> np.ndarray:
    """float [18, 3]: each patch's mean colour, over its middle half (away from chroma-subsampled edges)."""
    height, width = frame.shape[:2]
    means = []
    for row in range(3):
        for column in range(6):
            top, left, h, w = row * height // 3, column * width // 6, height // 3, width // 6
            means.append(frame[top + h // 4:top + 3 * h // 4, left + w // 4:left + 3 * w // 4].reshape(-1, 3).mean(0))
    return np.array(means)


@pytest.mark.parametrize("size", [(256, 256), (1280, 720)])
def test_a_colour_chart_decodes_to_its_colours(tmp_path, size):
    width, height = size
    out = tmp_path / "chart.mp4"
    with neuromv.VideoWriter(out, width, height, neuromv.as_fps(30), crf=12) as writer:
        writer.write(np.repeat(chart(width, height)[None], 3, axis=0))
    info = neuromv.probe(out)
    assert info.colour is not None and info.colour.startswith("tv, bt709, "), info.colour  # matrix, primaries, trc
    decoded = neuromv.read_frames(out)[1]
    error = np.abs(patch_means(decoded) - CHART.astype(float))
    assert error.mean(axis=0).max() <= 2.0, error.round(1)


@pytest.mark.parametrize("size", ["256x256", "1280x720", "1920x1080"])
def test_renders_are_tagged_bt709(tmp_path, size, song):
    out = neuromv.render(song, tmp_path / "v.mp4", size=size, duration=0.5, quiet=True)
    assert neuromv.probe(out).colour.startswith("tv, bt709, ")


# --- in a real browser -------------------------------------------------------------------------------------------

PAGE = """<!doctype html><meta charset="utf-8"><video id="v" muted playsinline preload="auto"></video>
<canvas id="c"></canvas>"""
#: Draws the video's frame at time 0 onto a canvas and returns its pixels, RGBA, base64.
DRAW = """async (src) => {
  const video = document.getElementById('v');
  await new Promise((ok, fail) => {
    video.onloadeddata = ok;
    video.onerror = () => fail(new Error(`cannot play ${src}: ${video.error && video.error.message}`));
    video.src = src;
  });
  const canvas = document.getElementById('c');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const context = canvas.getContext('2d', {willReadFrequently: true});
  context.drawImage(video, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let text = '';
  for (let i = 0; i < pixels.length; i += 0x8000) text += String.fromCharCode(...pixels.subarray(i, i + 0x8000));
  return btoa(text);
}"""


@contextlib.contextmanager
def served(folder: Path):
    """``folder`` on a loopback HTTP server; yields its address."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_chromium_draws_the_colours_ffmpeg_decodes(tmp_path, song):
    need_browser()
    from playwright import sync_api as playwright
    sizes = ["256x256", "1280x720", "1920x1080"]
    for size in sizes:
        neuromv.render(song, tmp_path / f"{size}.mp4", size=size, duration=0.5, quiet=True)
    (tmp_path / "index.html").write_text(PAGE)
    with served(tmp_path) as address, playwright.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.goto(f"{address}/index.html")
            for size in sizes:
                width, height = neuromv.parse_size(size)
                drawn = np.frombuffer(base64.b64decode(page.evaluate(DRAW, f"{size}.mp4")), np.uint8)
                drawn = drawn.reshape(height, width, 4)[:, :, :3].astype(float)
                expected = neuromv.read_frames(tmp_path / f"{size}.mp4")[0].astype(float)
                error = np.abs(drawn - expected).reshape(-1, 3).mean(axis=0)
                assert error.max() <= 4.0, (size, error.round(2))
        finally:
            browser.close()
