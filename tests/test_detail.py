"""The cover's fine detail at the output size (detail.py): the sharpening's amount is solved from the frames, the
pass is the same on every path, and a saved network keeps what it needs to solve it without the cover."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import beat_track, write_wav
from PIL import Image

from neuromv.look import sharpen as detail
from neuromv.look.effects import LUMA
from neuromv.network import cppn
from neuromv.network.image import load_image
from neuromv.out import provenance
from neuromv.out.mp4 import Encoding
from neuromv.prepared import prepare
from neuromv.scoring import laplacian_energy
from neuromv.spec import make_spec


def picture(side: int, seed: int = 0) -> np.ndarray:
    """float32 [side, side, 3] in [0, 1]: smooth blobs with sharp edges and some texture."""
    rng = np.random.default_rng(seed)
    y, x = (np.mgrid[0:side, 0:side] + 0.5) / side * 2 - 1
    field = sum(np.sin(rng.uniform(2, 30) * (x * np.cos(a) + y * np.sin(a)) + rng.uniform(0, 6))
                for a in rng.uniform(0, np.pi, 12))
    edges = (np.hypot(x - 0.2, y + 0.1) < 0.5).astype(float)
    gray = np.clip(0.5 + 0.06 * field + 0.3 * edges - 0.15, 0, 1)
    return np.stack([gray, gray ** 1.5, 1 - gray], axis=2).astype(np.float32)


def frames_of(image: np.ndarray) -> np.ndarray:
    return (image[None] * 255 + 0.5).astype(np.uint8)


def energy(frames: np.ndarray) -> float:
    return float(np.mean([laplacian_energy(f.astype(np.float64) @ LUMA) for f in frames]))


@pytest.mark.parametrize("blurred", [True, False])
def test_the_amount_gives_the_frames_the_covers_fine_detail(blurred):
    cover = picture(192)
    target = detail.cover_energy(detail.ladder(cover), (192, 192))
    soft = 0.5 * cover + 0.5 * detail.blur(torch.from_numpy(cover).permute(2, 0, 1)).permute(1, 2, 0).numpy()
    grainy = cover + np.random.default_rng(1).normal(0, 0.03, cover.shape).astype(np.float32)
    frames = frames_of(np.clip(soft if blurred else grainy, 0, 1))
    amount = detail.amount(frames, target)
    assert (amount > 0.3) if blurred else (amount < -0.1), amount  # sharpened when soft, softened when grainy
    sharpened = detail.sharpen(torch.from_numpy(frames), amount).numpy()
    assert energy(sharpened) == pytest.approx(detail.DETAIL_SHARE * target, rel=0.05)
    assert abs(energy(frames) / target - detail.DETAIL_SHARE) > 0.2  # it had something to correct


def test_the_amount_stays_within_its_bounds():
    cover = picture(96)
    flat = np.full((2, 96, 96, 3), 128, np.uint8)
    assert detail.amount(flat, detail.cover_energy(detail.ladder(cover), (96, 96))) == 0.0  # nothing to sharpen
    frames = frames_of(cover)
    assert detail.amount(frames, 1e9) == detail.MOST  # a cover far sharper than any amount reaches
    assert detail.amount(frames, 1e-9) >= detail.LEAST


def test_the_pass_is_the_same_on_every_path():
    frames = torch.from_numpy(np.stack([frames_of(picture(80, seed))[0] for seed in range(3)]))
    assert detail.sharpen(frames, 0.0) is frames
    for amount in (1.7, -0.6):
        compiled = detail.sharpen(frames, amount)  # the CPU's compiled loop
        convolved = detail._sharpen_tensors(frames, amount)  # a GPU's convolutions, here on the CPU
        assert compiled.shape == frames.shape and compiled.dtype == torch.uint8
        assert (compiled.int() - convolved.int()).abs().max() <= 1
        assert not torch.equal(compiled, frames)
    blurred = detail.blur(frames[:1, :, :, 0].double())  # the taps sum to one: a flat picture stays flat
    assert detail.blur(torch.full((1, 9, 9), 7.0)).allclose(torch.full((1, 9, 9), 7.0))
    assert blurred.shape == (1, 80, 80)


def test_the_covers_detail_is_known_at_every_scale():
    cover = picture(160)
    kept = detail.ladder(cover)
    assert kept["size"] == [160, 160] and max(s for s, _ in kept["energy"]) * 160 <= detail.LADDER_SIDE
    luma = np.ascontiguousarray(cover @ (LUMA * 255), dtype=np.float32)
    for side in (40, 160, 452, 1100, 2900):  # on the ladder's scales, between them and beyond its largest
        exact = detail._energy(luma, side, side)
        assert detail.cover_energy(kept, (side, side)) == pytest.approx(exact, rel=0.2), side
    assert detail.cover_energy(kept, (160, 90)) == pytest.approx(detail._energy(luma, 90, 90), rel=0.2)


def recorded(prepared) -> dict:
    """What the video of ``prepared`` records that the run decided."""
    return provenance.made(prepared, Encoding("libx264", "veryfast", 1, 18))["made"]


def test_a_render_of_a_saved_network_sharpens_as_the_fitted_render_did(tmp_path):
    song = write_wav(tmp_path / "drums.wav", beat_track(3.0, bpm=120)[0])
    cover = tmp_path / "cover.png"
    Image.fromarray((picture(128) * 255).astype(np.uint8)).save(cover)
    saved = tmp_path / "net.pt"
    fitted = prepare(make_spec(song=song, image=cover, size=128, steps=150, save_model=saved, quiet=True))
    loaded = prepare(make_spec(song=song, model=saved, size=128, quiet=True))
    assert fitted.sharpen != 0 and recorded(fitted).get("sharpen") == fitted.sharpen
    assert loaded.sharpen == fitted.sharpen  # the same frames from the saved network
    assert cppn.load(saved)[1]["detail"]["size"] == [128, 128]
    classic = prepare(make_spec(song=song, image=cover, size=128, steps=50, preset="classic", quiet=True))
    assert classic.sharpen == 0.0 and "sharpen" not in recorded(classic)  # the classic look's frames as they were
    assert load_image(cover).shape == (128, 128, 3)
