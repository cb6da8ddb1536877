"""The varied fit (the ``flow`` preset): the network learns the cover's variations indexed by z, so the music moves
the picture through the network and not through parameters drawn over it."""

from __future__ import annotations

import numpy as np
from conftest import beat_track, write_wav
from PIL import Image

from neuromv.influence import influence
from neuromv.prepared import prepare
from neuromv.scoring import ssim
from neuromv.spec import make_spec


def test_a_varied_fit_moves_the_cover_through_z_where_a_faithful_one_holds_it_still(tmp_path):
    song = write_wav(tmp_path / "drums.wav", beat_track(3.0, bpm=140)[0])
    y, x = np.mgrid[0:96, 0:96] / 96.0
    picture = np.stack([x, y, 0.5 + 0.5 * np.sin(10 * x) * np.cos(7 * y)], axis=2)
    Image.fromarray((picture * 255).astype(np.uint8)).save(tmp_path / "cover.png")
    found = {}
    for fit in ("faithful", "varied"):
        preset = f'{{"version": 1, "name": "{fit}", "description": "-", "fit": "{fit}", "params": {{}}}}'
        prepared = prepare(make_spec(song=song, image=tmp_path / "cover.png", size=64, steps=300, preset=preset,
                                     quiet=True, flash_limit=False))
        frames = np.concatenate(list(prepared.frames().batches())).astype(np.float64) / 255.0
        cover = np.asarray(Image.open(tmp_path / "cover.png").resize((64, 64)), np.float64) / 255.0
        found[fit] = influence(prepared), np.mean([ssim(f * 255, cover * 255) for f in frames[::10]])
    (still, still_ssim), (moved, moved_ssim) = found["faithful"], found["varied"]
    assert moved.share == 1.0 and moved.latent_motion > 3 * still.latent_motion and moved.latent_motion > 1.0
    assert moved_ssim > 0.5 and still_ssim > moved_ssim - 0.3  # still the cover
