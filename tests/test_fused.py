"""The compiled head (neuromv/network/fused.py): built with the machine's real C++ compiler, drawing the frames
torch's head draws within rounding, the same frame k in any batch or thread, and torch's path whenever it cannot be
built."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import beat_track, write_wav

import neuromv
from neuromv.draw import cpu_threads
from neuromv.look import presets
from neuromv.music.bank import feature_bank
from neuromv.network import fused

needs_compiler = pytest.mark.skipif(fused._compiler() is None, reason="no C++ compiler on this machine")


@pytest.fixture()
def fresh_kernel(tmp_path, monkeypatch):
    """The kernel looked up afresh, its builds in a cache folder of the test's own."""
    monkeypatch.setenv("NEUROMV_CACHE", str(tmp_path / "cache"))
    fused.kernel.cache_clear()
    yield tmp_path / "cache" / "kernels"
    fused.kernel.cache_clear()


def _song(tmp_path, seconds: float = 3.0):
    samples, _ = beat_track(seconds)
    audio = neuromv.load_audio(write_wav(tmp_path / "song.wav", samples))
    return neuromv.mel_latents(audio, 30), feature_bank(audio, 30)


@needs_compiler
@pytest.mark.parametrize("hidden", [32, 24, 20, 7])
def test_the_kernel_draws_the_head_within_rounding_of_torch_at_any_width(fresh_kernel, hidden):
    net = neuromv.build(neuromv.CPPNConfig(hidden=hidden, sigma=1.5), seed=3).eval()
    head = fused.fused_head(net)
    assert head is not None and list(fresh_kernel.glob(f"head-{hidden}-*.so"))
    grid = neuromv.coordinate_grid(37, 29)  # 1073 pixels: the last tile part full
    with torch.no_grad():
        coord = net.coord_term(grid)
        latent = net.latent_term(torch.randn(5, net.config.latent_dim, generator=torch.Generator().manual_seed(0)))
        want = net.head(coord[None] + latent[:, None])
    packed = fused.pack(coord)
    whole = head(packed, latent.contiguous(), 0, grid.shape[0], torch.empty(5, grid.shape[0], 3))
    assert (whole - want).abs().max() * 255 < 0.05
    part = head(packed, latent.contiguous(), 48, 1000, torch.empty(5, 1000, 3))  # pixels 48 .. 1047 alone
    assert torch.equal(part, whole[:, 48:1048])
    with pytest.raises(ValueError):
        head(packed, latent.contiguous(), 40, 16, torch.empty(5, 16, 3))  # not on a tile


@needs_compiler
def test_every_preset_draws_the_same_frames_fused_and_in_torch_and_frame_k_is_frame_k(tmp_path):
    latents, bank = _song(tmp_path)
    net = neuromv.build(neuromv.CPPNConfig(), seed=1)
    for name, preset in presets.built_in().items():
        if not preset.params:
            continue
        params = presets.tracks(preset, bank)
        exact = np.concatenate(list(neuromv.FrameSource([(net, latents)], 50, 34, params=params,
                                                        fused=False).batches())).astype(int)
        source = neuromv.FrameSource([(net, latents)], 50, 34, params=params, batch_size=5)
        assert source._drawers[0].fused is not None, name
        drawn = np.concatenate(list(source.batches()))
        gap = np.abs(drawn - exact)
        assert gap.mean() < 0.01 and np.quantile(gap, 0.999) <= 1, (name, gap.mean(), gap.max())
        for k in (0, 7, 59, 89):  # frame k alone is frame k in its batch
            assert np.array_equal(source.frame(k), drawn[k]), (name, k)
    with cpu_threads(1):  # one render thread draws what two do
        again = np.concatenate(list(neuromv.FrameSource([(net, latents)], 50, 34, params=params,
                                                        batch_size=3).batches()))
    assert np.array_equal(again, drawn)


@needs_compiler
def test_a_sequence_of_pictures_mixes_its_packed_terms_as_torch_mixes_its_own(tmp_path):
    latents, bank = _song(tmp_path, 2.0)
    net = neuromv.build(neuromv.CPPNConfig(pictures=2), seed=2)
    with torch.no_grad():
        for weight in net.more_coords[0].parameters():
            weight.mul_(-1.3)  # a second picture of its own
    shares = np.zeros((latents.shape[0], 2), np.float32)
    shares[:, 0] = np.clip(np.linspace(1.5, -0.5, latents.shape[0]), 0, 1)
    shares[:, 1] = 1 - shares[:, 0]
    for preset in ("glow", "kaleidoscope"):
        params = presets.tracks(presets.load(preset), bank)
        frames = [np.concatenate(list(neuromv.FrameSource([(net, latents)], 40, 40, params=params, pictures=shares,
                                                          fused=use).batches())).astype(int) for use in (True, False)]
        assert np.quantile(np.abs(frames[0] - frames[1]), 0.999) <= 1, preset


def test_without_a_compiler_or_when_turned_off_the_head_is_torchs(fresh_kernel, monkeypatch, tmp_path):
    failing = tmp_path / "broken-c++"
    failing.write_text("#!/bin/sh\necho 'broken-c++: cannot compile' >&2\nexit 1\n")
    failing.chmod(0o755)
    for env, value in (("CXX", str(failing)), ("CXX", "no-such-compiler-here"), ("NEUROMV_FUSED", "0")):
        with monkeypatch.context() as patch:
            patch.setenv(env, value)
            fused.kernel.cache_clear()
            assert fused.kernel(32) is None, (env, value)
            net = neuromv.build(neuromv.CPPNConfig(), seed=0)
            latents, bank = _song(tmp_path, 1.0)
            params = presets.tracks(presets.load("glow"), bank)
            source = neuromv.FrameSource([(net, latents)], 24, 24, params=params)
            assert source._drawers[0].fused is None
            exact = neuromv.FrameSource([(net, latents)], 24, 24, params=params, fused=False)
            assert np.array_equal(source.frame(2), exact.frame(2))
    assert not fresh_kernel.exists() or not any(fresh_kernel.iterdir())  # no half-built library left behind


def test_the_kernel_is_built_once_and_the_next_process_loads_it(tmp_path):
    if fused._compiler() is None:
        pytest.skip("no C++ compiler on this machine")
    code = "import neuromv.network.fused as f; assert f.kernel(32) is not None"
    env = {"NEUROMV_CACHE": str(tmp_path), "PATH": "/usr/local/bin:/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    built = list((tmp_path / "kernels").glob("head-32-*.so"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    assert list((tmp_path / "kernels").iterdir()) == built and built[0].stat().st_mtime_ns == stamp
