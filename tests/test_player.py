"""The browser player in a real browser (Debian's Chromium, WebGL2 on SwiftShader): the canvas's pixels against
torch's frames, the presets' semantics, the sync with the audio clock, and the export and its server."""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from browser import launch, need_browser
from conftest import beat_track, ffmpeg_processes, write_wav
from PIL import Image

import neuromv
from neuromv.look.effects import Warp
from neuromv.out.player_constants import player_constants
from neuromv.prepared import latent_config, prepare
from neuromv.spec import make_spec

VECTORS = json.loads((Path(__file__).parent / "data" / "preset_vectors.json").read_text())["cases"]
LATENT_VECTORS = json.loads((Path(__file__).parent / "data" / "latent_vectors.json").read_text())["cases"]
#: A preset that moves every parameter at once.
EVERYTHING = {"version": 1, "name": "everything", "description": "every parameter moves", "params": {
    "zoom": {"feature": "beat", "min": 0.9, "max": 1.3, "smooth": 0.05},
    "rotation": {"feature": "rms", "min": 5, "max": 40, "integrate": True},
    "pan_x": {"feature": "centroid", "min": -0.1, "max": 0.1},
    "pan_y": {"feature": "low", "min": -0.05, "max": 0.05},
    "kaleido": {"value": 6},
    "ripple": {"feature": "onset", "min": 0, "max": 0.05},
    "hue": {"feature": "chroma.C", "min": 0, "max": 0.3, "step": 0.05, "fps": 4},
    "saturation": {"feature": "high", "min": 0.5, "max": 1.5},
    "brightness": {"feature": "rms", "min": -0.1, "max": 0.1},
    "contrast": {"feature": "low", "min": 0.8, "max": 1.2},
    "latent_gain": {"feature": "mid", "min": 0.2, "max": 1.5},
    "light": {"feature": "high", "min": 0.0, "max": 0.3},
    "light_phase": {"feature": "onset", "min": 0.2, "max": 2.0, "integrate": True}}}


def snapshot_pixels(page) -> np.ndarray:
    """The frame on screen, at the export's size, as uint8 [H, W, 3] (through the page's PNG snapshot)."""
    url = page.evaluate("window.neuromv.snapshot()")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


class Player:
    """A page of the player on an export, with every request and error it made."""

    def __init__(self, browser, url: str):
        self.page = browser.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url)
        self.page.wait_for_function("window.neuromv && (window.neuromv.ready || window.neuromv.error)",
                                    timeout=120_000)
        assert self.page.evaluate("window.neuromv.error") is None

    def __call__(self, script: str, *args):
        return self.page.evaluate(script, *args)

    def frame(self, k: int) -> np.ndarray:
        assert self(f"window.neuromv.draw({k})") == k
        return snapshot_pixels(self.page)

    def close(self, origin: str) -> None:
        self.page.close()
        assert not self.errors, self.errors
        foreign = [url for url in self.requests if not (url.startswith(origin) or url.startswith("data:"))]
        assert not foreign, foreign  # offline: nothing from another origin


@pytest.fixture(scope="module")
def browser():
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("player-inputs")
    h, w = 60, 80  # a non-square cover: a disc, stripes and a gradient
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    picture = np.stack([x, y, 0.5 + 0.5 * np.sin(12 * x)], axis=2)
    picture[(x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.06] = [1.0, 0.9, 0.1]
    Image.fromarray((picture * 255).astype(np.uint8)).save(folder / "cover.png")
    (folder / "everything.json").write_text(json.dumps(EVERYTHING))
    Image.fromarray((picture[::-1, ::-1, ::-1] * 255).astype(np.uint8)).save(folder / "second.png")
    (folder / "cue.json").write_text(json.dumps([{"picture": "second.png", "start": 1.5}]))
    return {"song": write_wav(folder / "song.wav", beat_track(3.0)[0]), "cover": folder / "cover.png",
            "long": write_wav(folder / "long.wav", beat_track(12.0)[0]), "everything": folder / "everything.json",
            "second": folder / "second.png", "cue": folder / "cue.json"}


#: The exports the tests play: a fitted cover, a preset with moving parameters, 2 stems with labels, every
#: parameter at once, and a 12 s song for the sync.
EXPORTS = {
    "fitted": lambda i: dict(song=i["song"], image=i["cover"], size="256x256", steps=60),
    "pulse": lambda i: dict(song=i["song"], size="256x256", preset="pulse"),
    "stems": lambda i: dict(song=i["song"], size="256x256", stems=2, separator="hpss", labels=True),
    "everything": lambda i: dict(song=i["song"], size="160x128", seed=3, preset=str(i["everything"])),
    "long": lambda i: dict(song=i["long"], size="128x128", preset="pulse"),
    "sequence": lambda i: dict(song=i["song"], image=[str(i["cover"]), str(i["second"])], cue=i["cue"],
                               size="128x96", steps=40),
}


@pytest.fixture(scope="module")
def exports(inputs, tmp_path_factory):
    """name -> (folder, Prepared), made once per module on first use."""
    made: dict[str, tuple[Path, neuromv.Prepared]] = {}
    root = tmp_path_factory.mktemp("player-exports")

    def get(name: str) -> tuple[Path, neuromv.Prepared]:
        if name not in made:
            options = {key: str(value) if isinstance(value, Path) else value
                       for key, value in EXPORTS[name](inputs).items()}
            prepared = prepare(make_spec(quiet=True, **options))
            made[name] = neuromv.write_web(prepared, root / name), prepared
        return made[name]

    return get


@pytest.fixture
def player(browser, exports):
    """name -> a Player on that export (served on loopback), closed and checked at the test's end (an open page
    keeps drawing, and would slow the next test's)."""
    servers, pages = [], []

    def open_(name: str, query: str = "") -> Player:
        folder, _ = exports(name)
        server = neuromv.Server(folder).start()
        servers.append(server)
        page = Player(browser, server.url + query)
        pages.append((page, server.url))
        return page

    yield open_
    for page, origin in pages:
        page.close(origin)
    for server in servers:
        server.close()


@pytest.mark.parametrize("name", ["fitted", "pulse", "stems", "everything"])
def test_the_canvas_shows_torchs_frames(player, exports, name):
    _, prepared = exports(name)
    source = prepared.frames()
    page = player(name)
    count = source.count
    for k in np.linspace(0, count - 1, 5).round().astype(int):
        drawn = page.frame(int(k)).astype(float)
        expected = source.frame(int(k)).astype(float)
        assert drawn.shape == expected.shape
        error = np.abs(drawn - expected)
        assert error.mean() <= 0.5 and np.percentile(error, 99.9) <= 3, (name, k, error.mean(),
                                                                           np.percentile(error, 99.9))
    if name == "fitted":  # glow sharpens a fitted network's frames (detail.py): the page must too
        assert prepared.sharpen != 0
        plain = replace(prepared, sharpen=0.0).frames().frame(int(k)).astype(float)
        assert np.abs(drawn - plain).mean() > 2 * np.abs(drawn - expected).mean()
    if name == "stems":  # two panels side by side, the labels drawn
        assert source.width == 512 and prepared.labels


def test_the_canvas_shows_a_sequence_of_covers_as_torch_draws_it(player, exports):
    _, prepared = exports("sequence")
    source, shares = prepared.frames(), prepared.pictures
    change = prepared.made.changes[1]["frame"]
    moving = np.flatnonzero((shares > 0).sum(axis=1) == 2)
    assert change == 45 and moving.size > 3 and moving[-1] == change - 1
    page = player("sequence")
    for k in (0, int(moving[0]), int(moving[moving.size // 2]), change, source.count - 1):
        error = np.abs(page.frame(k).astype(float) - source.frame(k).astype(float))
        assert error.mean() <= 0.5 and np.percentile(error, 99.9) <= 3, (k, error.mean(), np.percentile(error, 99.9))


def test_the_page_computes_the_renderers_parameters(player, exports):
    _, prepared = exports("everything")
    page = player("everything")
    tracks = page("window.neuromv.tracks()")
    assert set(tracks) == set(prepared.params.names)
    for name in prepared.params.names:
        assert np.array_equal(np.array(tracks[name], np.float32), prepared.params[name]), name
    width, height = prepared.spec.frame_size
    warp = Warp(prepared.panels[0][0], prepared.params, width, height, prepared.device, np.float32)
    field = page("window.neuromv.field()")
    assert field["side"] == warp.side and abs(field["reach"] - warp.reach) <= 1e-12 * warp.reach


def test_the_golden_vectors_pass_in_the_browser(player):
    page = player("pulse")
    outcome = page("""async (cases) => {
        const presets = await import('./presets.js');
        return cases.map((c) => Array.from(presets.track(c.param, c.feature, c.frames || c.feature.length,
                                                         c.video_fps)));
    }""", VECTORS)
    for case, got in zip(VECTORS, outcome, strict=True):
        assert np.allclose(got, case["expected"], rtol=0, atol=1e-9), (case["name"], got)


def test_the_page_computes_the_golden_latents(player):
    page = player("pulse")
    outcome = page("""async ([cases, constants]) => {
        const { MelAnalysis } = await import('./latents.js');
        return cases.map((c) => {
            const [num, den = 1] = c.fps.split('/').map(Number);
            const analysis = new MelAnalysis(c.rate, { num, den }, c.config, constants);
            return Array.from(analysis.latents(Float32Array.from(c.samples_e4, (v) => v / 1e4)));
        });
    }""", [LATENT_VECTORS, player_constants()["LATENTS"]])
    for case, got in zip(LATENT_VECTORS, outcome, strict=True):
        expected = np.asarray(case["expected"], np.float64)
        assert len(got) == expected.size and np.abs(np.asarray(got) - expected.ravel()).max() <= 1e-4, case["name"]


def test_the_page_computes_the_exports_latents_from_its_song(player, exports):
    """window.neuromv.latentsOf: the song's samples as Python decoded them give the mel latents Python computes with
    the export's config (float64 in the page, float32 in Python), before the look scales them."""
    _, prepared = exports("pulse")
    song = neuromv.load_audio(prepared.excerpt.source, start=prepared.excerpt.start, duration=prepared.excerpt.duration)
    page = player("pulse")
    got = np.asarray(page("([samples, rate]) => window.neuromv.latentsOf(samples, rate)",
                          [song.mono().tolist(), song.sample_rate]))
    expected = neuromv.mel_latents(song, prepared.spec.frame_rate, latent_config(prepared.spec))
    assert got.shape == expected.shape and np.abs(got - expected).max() <= 1e-4


def test_the_frame_follows_the_audio_clock(player, exports):
    _, prepared = exports("long")
    page = player("long", "?scale=0.5")  # a small canvas, so that software WebGL keeps up
    fps = page("window.neuromv.fps")
    assert fps == 30 and page("window.neuromv.frames") == prepared.frame_count and page("window.neuromv.audio")
    page("window.neuromv.play()")
    time.sleep(10.5)
    page("window.neuromv.pause()")
    trace = np.array(page("window.neuromv.trace"))
    assert len(trace) > 100  # animation frames while playing (software WebGL on 2 shared cores: 17-30 a second)
    audio, shown, wall = trace.T
    assert audio[-1] - audio[0] > 9.5
    off = np.abs(shown - np.floor(audio * fps))
    assert (off <= 1).mean() >= 0.99, np.bincount(off.astype(int))
    rate = (audio[-1] - audio[0]) / (wall[-1] - wall[0])
    assert abs(rate - 1) < 0.02, rate  # the clock runs at the song's pace
    for t in (1.234, 7.5, 0.0, 11.2, 3.3):
        page(f"window.neuromv.seek({t})")
        assert page("window.neuromv.frame") == int(np.floor(t * fps)) and page("window.neuromv.time") == t


def test_a_frame_in_the_address_is_drawn_paused(player, exports):
    _, prepared = exports("pulse")
    page = player("pulse", "?frame=17")
    assert page("window.neuromv.frame") == 17
    time.sleep(0.3)
    assert page("window.neuromv.frame") == 17  # paused
    error = np.abs(snapshot_pixels(page.page).astype(float) - prepared.frames().frame(17))
    assert error.mean() <= 0.5


def test_the_page_says_when_webgl2_is_missing(browser, exports):
    folder, _ = exports("pulse")
    with neuromv.Server(folder).start() as server:
        page = browser.new_page()
        page.add_init_script("""const real = HTMLCanvasElement.prototype.getContext;
            HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
                return kind === 'webgl2' ? null : real.call(this, kind, ...rest); };""")
        page.goto(server.url)
        page.wait_for_function("window.neuromv.error", timeout=30_000)
        assert "needs WebGL2" in page.inner_text("#message") and page.is_visible("#message")
        page.close()


def test_the_export_is_whole_and_self_contained(exports):
    folder, prepared = exports("stems")
    header = json.loads((folder / "data.json").read_text())
    assert header["format"] == "neuromv-web/1" and header["frames"] == prepared.frame_count
    assert header["columns"] == 2 and header["labels"] == "labels.png" and (folder / "labels.png").is_file()
    assert {p["name"] for p in header["presets"]} >= {"classic", "pulse"}
    size = (folder / "data.bin").stat().st_size
    assert all(a["offset"] + 4 * int(np.prod(a["shape"])) <= size for a in header["arrays"].values())
    sound = neuromv.read_audio(folder / "song.m4a", sample_rate=22050)
    assert abs(sound.shape[-1] / 22050 - header["duration"]) < 0.05
    for script in folder.glob("*.js"):  # every module is relative: nothing from another origin
        text = script.read_text()
        assert "http://" not in text and "https://" not in text, script.name
    assert not list(folder.parent.glob(".*partial*"))


def test_the_export_plays_from_pythons_own_server(browser, exports):
    """``python -m http.server`` answers no Range requests: the song still plays, and seeks."""
    folder, _ = exports("pulse")
    server = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory",
                               str(folder)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N ..."
        port = int(line.split(" port ")[1].split()[0])
        page = Player(browser, f"http://127.0.0.1:{port}/?scale=0.25")
        assert page("window.neuromv.frames") > 0 and page("window.neuromv.audio")
        page("window.neuromv.play()")
        time.sleep(1.0)
        page("window.neuromv.pause()")
        assert page("window.neuromv.time") > 0.5  # the audio clock ran
        page("window.neuromv.seek(2.5)")
        assert page("window.neuromv.frame") == 75
        page.close(f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait()


# --- the server ---------------------------------------------------------------------------------------------

def status_of(port: int, path: str, method: str = "GET") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path)
    status = connection.getresponse().status
    connection.close()
    return status


def test_the_server_serves_the_folder_only(exports, tmp_path):
    folder, _ = exports("pulse")
    with neuromv.Server(folder).start() as server:
        port = server.httpd.server_address[1]
        assert server.httpd.server_address[0] == "127.0.0.1"
        assert status_of(port, "/") == 200 and status_of(port, "/data.json") == 200
        assert status_of(port, "/index.html", "HEAD") == 200
        for path in ("/../data.json", "/..%2fdata.json", "/%2e%2e/%2e%2e/etc/passwd", "/../../../../etc/passwd",
                     "//etc/passwd", "/etc/passwd", "/%2Fetc%2Fpasswd", "/.", "/./", "/player/", "/nope.js",
                     f"/{folder}/data.json"):
            assert status_of(port, path) == 404, path
        assert status_of(port, "/data.json", "POST") == 501


def test_a_busy_port_is_one_line(exports):
    folder, _ = exports("pulse")
    with neuromv.Server(folder) as first:
        port = first.httpd.server_address[1]
        with pytest.raises(neuromv.OptionError, match=f"port={port} cannot be used"):
            neuromv.Server(folder, port)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_play_serves_on_loopback_and_stops_cleanly(inputs, tmp_path, stop):
    command = [sys.executable, "-X", "faulthandler", "-m", "neuromv", "play", str(inputs["song"]), "--size", "32x32",
               "--no-browser", "-q", "--cache-dir", str(tmp_path / "cache")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("neuromv: playing at http://127.0.0.1:"), line
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        assert status_of(port, "/") == 200 and status_of(port, "/../data.json") == 404
        process.send_signal(stop)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)  # faulthandler: where it hung
            process.wait(timeout=10)
            pytest.fail(process.stderr.read()[-4000:])
        assert process.returncode == 0
        assert "stopped" in process.stderr.read()
        assert not ffmpeg_processes(str(tmp_path))
        with pytest.raises(OSError):
            status_of(port, "/")
    finally:
        process.kill()
        process.wait()


def test_export_web_bad_inputs(inputs, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "neuromv", "export-web", *args, "-q"], capture_output=True,
                              text=True, timeout=120)

    site = tmp_path / "site"
    assert run(str(inputs["song"]), "-o", str(site), "--size", "32x32").returncode == 0
    before = sorted(p.name for p in site.iterdir())
    again = run(str(inputs["song"]), "-o", str(site), "--size", "32x32")
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "already exists" in again.stderr
    assert sorted(p.name for p in site.iterdir()) == before
    missing = run(str(tmp_path / "nope.wav"), "-o", str(tmp_path / "other"))
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "does not exist" in missing.stderr
    bad = run(str(inputs["song"]), "-o", str(tmp_path / "other"), "--preset", "pulze")
    assert bad.returncode == 2 and "did you mean 'pulse'" in bad.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # nothing half-written
    assert not os.path.exists(tmp_path / "other")
