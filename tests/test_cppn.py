"""The network: shapes, determinism, aspect-keeping coordinates, checkpoints, and the split first layer."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import neuromv
from neuromv import draw as render  # the frame source's module
from neuromv.network import cppn


def test_forward_shapes_and_range():
    net = neuromv.build(neuromv.CPPNConfig(latent_dim=8, hidden=16), seed=1)
    rgb = net(neuromv.coordinate_grid(6, 4), torch.rand(3, 8) * 2 - 1)
    assert rgb.shape == (3, 24, 3)
    assert torch.all((rgb > 0) & (rgb < 1))
    assert len(net.hidden) + 1 == 5  # five tanh hidden layers


def test_split_first_layer_equals_full_linear():
    net = neuromv.build(neuromv.CPPNConfig(latent_dim=8, hidden=16, fourier=0), seed=2)
    coords, z = neuromv.coordinate_grid(5, 5), torch.randn(2, 8)
    full = torch.nn.Linear(3 + 8, 16)
    with torch.no_grad():
        full.weight.copy_(torch.cat([net.coords.weight, net.latent.weight * net.latent_gain], dim=1))
        full.bias.copy_(net.coords.bias)
        inputs = torch.cat([coords[None].expand(2, -1, -1), z[:, None].expand(-1, 25, -1)], dim=2)
        assert torch.allclose(net.head(full(inputs)), net(coords, z), atol=1e-5)


def test_fourier_features_start_silent():
    """Fourier weights start at zero: an unfitted network draws the classic CPPN picture, with or without them."""
    plain = neuromv.build(neuromv.CPPNConfig(latent_dim=8, fourier=0), seed=9)
    rich = neuromv.build(neuromv.CPPNConfig(latent_dim=8, fourier=32), seed=9)
    coords, z = neuromv.coordinate_grid(16, 12), torch.randn(2, 8)
    with torch.no_grad():
        assert torch.allclose(plain(coords, z), rich(coords, z), atol=1e-6)
        assert rich.coord_features(coords).shape == (192, 3 + 64)


def test_the_summed_first_layer_equals_the_drawing_path():
    """A faithful fit's coordinate term sums the sines' and cosines' parts (no [P, 3 + 2K] copy): the same numbers
    the renderer's chunked path draws, and the gradient reaches every column of the layer."""
    net = neuromv.build(neuromv.CPPNConfig(latent_dim=8, hidden=16, fourier=24), seed=4)
    with torch.no_grad():
        net.coords.weight.normal_()  # the Fourier columns too, which start at zero
    coords = neuromv.coordinate_grid(40, 30)
    trained = net.coord_term(coords, summed=True)
    assert trained.requires_grad
    with torch.no_grad():
        drawn = net.coord_term(coords, chunk=100)
    torch.testing.assert_close(trained.detach(), drawn, atol=2e-5, rtol=1e-5)
    trained.square().sum().backward()
    assert bool(torch.all(net.coords.weight.grad.abs().sum(dim=0) > 0))


@pytest.mark.parametrize("form", ["sigmoid", "tanh"])
def test_a_faithful_fits_faster_tanh_has_torchs_values_and_gradients(monkeypatch, form):
    monkeypatch.setenv("NEUROMV_CPU_TANH", form)
    cppn.cpu_tanh.cache_clear()
    try:
        net = neuromv.build(neuromv.CPPNConfig(), seed=4)
        coords, z = neuromv.coordinate_grid(23, 17), torch.randn(3, 64, generator=torch.Generator().manual_seed(1))

        def grads():
            net.zero_grad()
            out = net(coords, z, summed=True)
            out.square().mean().backward()
            return out.detach(), [p.grad.clone() for p in net.parameters() if p.grad is not None]

        exact, exact_grads = grads()
        with cppn.fast_training_tanh():
            fast, fast_grads = grads()
        again, again_grads = grads()  # and torch's tanh again after the block
        assert torch.equal(again, exact)
        assert all(torch.equal(a, b) for a, b in zip(again_grads, exact_grads, strict=True))
        if form == "tanh":  # where torch's is the faster, nothing changes
            assert torch.equal(fast, exact)
        assert (fast - exact).abs().max() < 1e-4  # float rounding, through five chaotic layers
        for a, b in zip(fast_grads, exact_grads, strict=True):
            assert (a - b).abs().max() <= 1e-3 * b.abs().max()
    finally:
        cppn.cpu_tanh.cache_clear()


def test_seed_determines_weights():
    config = neuromv.CPPNConfig(latent_dim=4, hidden=8)
    a, b, c = cppn.build(config, 7), cppn.build(config, 7), cppn.build(config, 8)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters(), strict=True))
    wide = cppn.build(neuromv.CPPNConfig(hidden=64, fourier=0), 0)
    weights = torch.cat([p.detach().flatten() for p in wide.parameters()])
    assert abs(float(weights.std()) - 1.0) < 0.05  # N(0, 1) as in the write-up


def test_coordinates_keep_aspect():
    wide = neuromv.coordinate_grid(32, 16).reshape(16, 32, 3)
    assert torch.allclose(wide[..., 1].abs().max(), torch.tensor(1 - 1 / 16))  # short side spans [-1, 1]
    assert torch.allclose(wide[..., 0].abs().max(), torch.tensor(2 - 1 / 16))  # long side goes further, same scale
    assert torch.allclose(wide[..., 2], torch.sqrt(wide[..., 0] ** 2 + wide[..., 1] ** 2))


def test_checkpoint_round_trip(tmp_path):
    net = neuromv.build(neuromv.CPPNConfig(latent_dim=6, hidden=12, z_scale=0.5), seed=3)
    path = cppn.save(net, tmp_path / "m.pt", aspect=1.5)
    loaded, meta = cppn.load(path)
    assert loaded.config == net.config and meta["aspect"] == 1.5
    for p, q in zip(net.parameters(), loaded.parameters(), strict=True):
        assert torch.equal(p, q)


def test_bad_checkpoint(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(neuromv.ModelError, match="junk.pt.*not a neuromv checkpoint"):
        cppn.load(path)


@pytest.mark.parametrize("field,value", [("hidden", 0), ("latent_dim", -3), ("layers", 2.5), ("sigma", float("inf"))])
def test_bad_config(field, value):
    with pytest.raises(neuromv.OptionError, match=field):
        neuromv.CPPNConfig(**{field: value})


def test_frames_match_direct_forward():
    net = neuromv.build(neuromv.CPPNConfig(latent_dim=4, hidden=8), seed=4)
    latents = np.random.default_rng(0).uniform(-1, 1, (5, 4)).astype(np.float32)
    batches = list(neuromv.frames(net, latents, 10, 6, device="cpu", batch_size=2))
    assert all(b.shape[0] <= 2 and b.shape[1:] == (6, 10, 3) for b in batches)
    with torch.no_grad():
        direct = net(neuromv.coordinate_grid(10, 6), torch.from_numpy(latents)).reshape(5, 6, 10, 3)
    expected = np.floor(direct.numpy() * 255 + 0.5).astype(np.uint8)
    assert np.abs(np.concatenate(batches).astype(int) - expected).max() <= 1


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_render_threads_draw_the_same_frames_in_order(threads):
    """Batches drawn by 1, 2 or 3 render threads come out in order and equal one another (each op runs on one
    thread either way); torch's thread count is back as it was once the frames are out."""
    net = neuromv.build(neuromv.CPPNConfig(), seed=7)
    latents = np.random.default_rng(3).uniform(-1, 1, (23, 64)).astype(np.float32)
    before = torch.get_num_threads()
    with render.cpu_threads(1):
        reference = np.concatenate(list(neuromv.frames(net, latents, 48, 32, batch_size=3)))
    with render.cpu_threads(threads):
        batches = list(neuromv.frames(net, latents, 48, 32, batch_size=3))
        assert torch.get_num_threads() == threads
    sizes = [b.shape[0] for b in batches]
    assert sum(sizes) == 23 and max(sizes) == 3  # the last ones smaller with 2 and 3 threads, to end together
    assert np.array_equal(np.concatenate(batches), reference)
    assert torch.get_num_threads() == before


def test_abandoned_frames_give_the_threads_back():
    net = neuromv.build(neuromv.CPPNConfig(), seed=7)
    latents = np.zeros((40, 64), np.float32)
    before = torch.get_num_threads()
    stream = neuromv.frames(net, latents, 32, 32, batch_size=2)
    next(stream)
    assert torch.get_num_threads() == 1  # the render threads run single-threaded ops
    stream.close()
    assert torch.get_num_threads() == before
    with pytest.raises(neuromv.OptionError, match=r"threads=0 must be a whole number of CPU threads from 1 to"), \
            render.cpu_threads(0):
        pass


def test_both_cpu_tanh_forms_draw_the_same_frames(monkeypatch):
    assert cppn.cpu_tanh() in ("tanh", "sigmoid")  # the probe's choice on this CPU
    net = neuromv.build(neuromv.CPPNConfig(), seed=6)
    latents = np.random.default_rng(2).uniform(-1, 1, (6, 64)).astype(np.float32)
    drawn = {}
    for form in ("tanh", "sigmoid"):
        monkeypatch.setattr(cppn, "cpu_tanh", lambda form=form: form)
        drawn[form] = np.concatenate(list(neuromv.frames(net, latents, 40, 24, device="cpu"))).astype(int)
    assert np.abs(drawn["tanh"] - drawn["sigmoid"]).max() <= 1
    assert (drawn["tanh"] != drawn["sigmoid"]).mean() < 0.001


PROBE_SCRIPT = """
import sys, numpy as np
from neuromv.network import cppn
if sys.argv[1] == "after-numpy":  # OpenBLAS's threads spin on every core for a while after a product
    rng = np.random.default_rng(0)
    power, basis = rng.random((512, 1471), np.float32), rng.random((1471, 64), np.float32)  # a mel analysis's shapes
    for _ in range(4):
        power @ basis
print(cppn.cpu_tanh())
"""


def test_cpu_tanh_probe_is_not_fooled_by_busy_cores():
    """The probe picks the same form in a fresh process whether or not numpy's BLAS has just run (timing one form after
    the other, it took the 2x slower form in 2 of 3 renders whose mel analysis still used numpy's BLAS)."""
    picks = {subprocess.run([sys.executable, "-c", PROBE_SCRIPT, when], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NEUROMV_CPU_TANH": ""}).stdout.strip()
             for when in ("quiet", "after-numpy") * 3}
    assert len(picks) == 1 and picks <= {"tanh", "sigmoid"}


def test_cpu_tanh_can_be_fixed(monkeypatch):
    for form in ("tanh", "sigmoid"):
        monkeypatch.setenv("NEUROMV_CPU_TANH", form)
        cppn.cpu_tanh.cache_clear()
        assert cppn.cpu_tanh() == form
    cppn.cpu_tanh.cache_clear()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_frames_match_cpu():
    net = neuromv.build(neuromv.CPPNConfig(), seed=5)
    latents = np.random.default_rng(1).uniform(-1, 1, (8, 64)).astype(np.float32)
    cpu = np.concatenate(list(neuromv.frames(net, latents, 64, 48, device="cpu")))
    gpu = np.concatenate(list(neuromv.frames(net, latents, 64, 48, device="cuda")))
    assert np.abs(cpu.astype(int) - gpu.astype(int)).max() <= 2
