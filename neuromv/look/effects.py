"""The picture's parameters as the frame source applies them: warps of the coordinates, and colour matrices.

A warp (zoom, rotation, pan, kaleidoscope folds, ripple) moves where each output pixel samples the picture. The
first layer's coordinate terms are computed once, on a grid covering every coordinate the preset reaches at the
output's pixel density times its largest zoom, and each frame samples that field bilinearly: the Fourier features,
8x the hidden layers' work, are never recomputed per frame. On a CPU the sampling is a small compiled loop (numba),
2-4x faster than torch's ``grid_sample``; on a GPU it is ``grid_sample``. Where the field would be too large (a pan
that travels far), each frame's terms are computed exactly instead.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch

from ..look.presets import ParamTracks
from ..network.cppn import CPPN, coordinate_grid, mix, shown_pictures
from ..network.fused import LANES, pack
from ..network.image import LUMA

#: Largest field of first-layer terms a warp samples from, in grid points (512 MB at width 32).
MAX_WARP_FIELD = 4_000_000
#: Rings per half-height of the ``ripple`` parameter, and how fast they travel outwards (rings a second).
RIPPLE_RINGS, RIPPLE_SPEED = 3.0, 0.8
#: Rings of light per half-height (the ``light`` parameter).
LIGHT_RINGS = 1.0


def colour_matrices(params: ParamTracks) -> np.ndarray:
    """float32 [frames, 4, 3]: per frame, ``rgb' = rgb @ m[:3] + m[3]`` for the hue turn, then saturation, contrast
    about mid-gray and brightness (clamped to [0, 1] after)."""
    frames = params.values.shape[0]
    angle = 2 * np.pi * params["hue"].astype(np.float64)  # a turn about the gray axis (Rodrigues)
    axis = np.full(3, 1 / np.sqrt(3))
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    eye, outer = np.eye(3), np.outer(axis, axis)
    hue = (np.cos(angle)[:, None, None] * eye + np.sin(angle)[:, None, None] * cross
           + (1 - np.cos(angle))[:, None, None] * outer)  # [frames, 3, 3], on column vectors
    s = params["saturation"].astype(np.float64)[:, None, None]
    saturation = s * eye + (1 - s) * np.ones((3, 1)) * LUMA[None, :]  # v -> s v + (1 - s) luma(v)
    c = params["contrast"].astype(np.float64)
    linear = c[:, None, None] * saturation @ hue  # [frames, 3, 3]
    offset = 0.5 * (1 - c) + params["brightness"].astype(np.float64)  # [frames]
    out = np.empty((frames, 4, 3), np.float32)
    out[:, :3] = np.transpose(linear, (0, 2, 1))  # for row vectors: rgb @ linear.T
    out[:, 3] = offset[:, None]
    return out


class Light:
    """The rings of light: frame k's pixel p, at radius r from the centre (the short side spanning [-1, 1]), is
    multiplied by ``1 + light[k] * sin(2 pi (LIGHT_RINGS * r - light_phase[k]))`` after the colours (and clamped):
    an exposure that swings over the picture, so the picture's light moves while its structure stays."""

    def __init__(self, params: ParamTracks, width: int, height: int, device: torch.device):
        self.depth = torch.from_numpy(params["light"].astype(np.float32)).to(device)  # [frames]
        self.phase = torch.from_numpy(params["light_phase"].astype(np.float64) % 1.0).float().to(device)
        self.rings = LIGHT_RINGS * coordinate_grid(width, height, device)[:, 2]  # [P]

    def __call__(self, rgb: torch.Tensor, first: int, start: int) -> torch.Tensor:
        """``rgb`` [b, chunk, 3] of frames ``first ..`` and pixels ``start ..``, lit in place."""
        size, chunk = rgb.shape[:2]
        turns = self.rings[None, start:start + chunk] - self.phase[first:first + size, None]  # [b, chunk]
        gain = torch.sin_(turns.mul_(2 * np.pi)).mul_(self.depth[first:first + size, None]).add_(1.0)
        return rgb.mul_(gain[:, :, None]).clamp_(0.0, 1.0)


@functools.cache
def _cpu_sampler() -> Any:
    """The compiled warp and bilinear sampler (compiled once per machine: numba caches it): the ripple and the
    affine part of :meth:`Warp.coordinates` fused with the sampling, so no [P, 2] intermediate is made."""
    import numba

    @numba.njit(nogil=True, fastmath=True, cache=True)
    def sample(field: np.ndarray, pixels: np.ndarray, frame: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
        """``out``: the field bilinearly at each (folded) pixel's warped coordinates, clamped at the borders, pixel p's
        channel c at ``out[p // lanes, c, p % lanes]`` (``out`` [tiles, channels, lanes]: [P, channels, 1] is the
        plain layout, [tiles, channels, 16] the fused head's). ``frame``: folds, ripple depth, ripple phase, cos, sin,
        pan x, pan y, zoom, reach (see :meth:`Warp.frame`)."""
        side = field.shape[0]
        channels = field.shape[2]
        lanes = out.shape[2]
        top = side - 1.0
        depth, phase, cos, sin = frame[1], frame[2], frame[3], frame[4]
        pan_x, pan_y, zoom, reach = frame[5], frame[6], frame[7], frame[8]
        for p in range(pixels.shape[0]):
            x, y = pixels[p, 0], pixels[p, 1]
            if depth != 0:
                radius = max(math.sqrt(x * x + y * y), 1e-6)
                scale = 1 + depth * math.sin(2 * np.pi * RIPPLE_RINGS * radius - phase) / radius
                x, y = x * scale, y * scale
            x, y = x - pan_x, y - pan_y
            qx, qy = (cos * x - sin * y) / zoom, (sin * x + cos * y) / zoom
            u = min(max((qx / reach + 1) * (side / 2) - 0.5, 0.0), top)  # field pixels (align_corners=False)
            v = min(max((qy / reach + 1) * (side / 2) - 0.5, 0.0), top)
            x0 = min(int(u), side - 2)
            y0 = min(int(v), side - 2)
            fx = u - x0
            fy = v - y0
            w00, w01 = (1 - fx) * (1 - fy), fx * (1 - fy)
            w10, w11 = (1 - fx) * fy, fx * fy
            tile, lane = p // lanes, p % lanes
            for c in range(channels):
                out[tile, c, lane] = (w00 * field[y0, x0, c] + w01 * field[y0, x0 + 1, c]
                                      + w10 * field[y0 + 1, x0, c] + w11 * field[y0 + 1, x0 + 1, c])

    return sample


class Warp:
    """Each frame's first-layer coordinate terms at its warped coordinates (see the module's docstring).

    Output pixel p (x right, y down, the short side spanning [-1, 1]) shows the picture at
    ``q = R(-rotation) (ripple(fold(p)) - pan) / zoom``, rotation counter-clockwise on the screen.
    """

    def __init__(self, model: CPPN, params: ParamTracks, width: int, height: int, device: torch.device,
                 dtype: torch.dtype, pictures: np.ndarray | None = None):
        self.model, self.dtype, self.device, self.pictures = model, dtype, device, pictures
        self.zoom = np.maximum(params["zoom"].astype(np.float64), 1e-3)
        self.turn = np.radians(params["rotation"].astype(np.float64))
        self.pan = np.stack([params["pan_x"], -params["pan_y"]], axis=1).astype(np.float64)  # y down
        self.folds = np.round(params["kaleido"]).astype(np.int64)
        self.ripple = params["ripple"].astype(np.float64)
        self.fps = params.fps
        self.pixels = coordinate_grid(width, height, device)[:, :2]  # [P, 2]
        self._folded: dict[int, np.ndarray] = {}  # folded pixels by fold count, for the compiled sampler
        corner = float(self.pixels.norm(dim=1).max())
        self.reach = (corner + np.abs(self.ripple).max() + np.linalg.norm(self.pan, axis=1).max()) / self.zoom.min()
        density = min(width, height) / 2 * float(self.zoom.max())  # grid points per unit
        self.side = int(math.ceil(2 * self.reach * density))
        self.fields: dict[int, torch.Tensor] = {}  # each picture's, by its index (0 alone without pictures)
        if self.side * self.side <= MAX_WARP_FIELD:
            for index in shown_pictures(pictures):
                picture = None if pictures is None else torch.eye(model.config.pictures)[index]
                with torch.inference_mode():
                    grid = coordinate_grid(self.side, self.side, device) * self.reach  # spans [-reach, reach]
                    terms = model.coord_term(grid, picture=picture).to(torch.float32)  # [side * side, hidden]
                hidden = terms.shape[1]
                if device.type == "cpu":  # [y, x, hidden]: a point's terms together
                    self.fields[index] = terms.view(self.side, self.side, hidden)
                else:  # for grid_sample
                    self.fields[index] = terms.t().reshape(1, hidden, self.side, self.side).contiguous()

    def field(self, k: int) -> torch.Tensor | None:
        """Frame ``k``'s field of coordinate terms: its picture's, or between two pictures theirs mixed in its
        shares; None when the field would be too large (the terms are computed at each frame's coordinates)."""
        if not self.fields:
            return None
        if self.pictures is None:
            return self.fields[0]
        shares = self.pictures[k]
        return self.fields[int(shares.argmax())] if shares.max() == 1.0 else mix(self.fields, shares)

    def _host_pixels(self, folds: int) -> np.ndarray:
        """float64 [P, 2] folded pixels, made once per fold count (a preset's folds rarely change)."""
        found = self._folded.get(folds)
        if found is None:  # render threads may race to make one: both make the same array
            found = self._folded[folds] = self.folded(folds).numpy().astype(np.float64)
        return found

    def frame(self, k: int) -> np.ndarray:
        """float64 [9]: frame ``k``'s warp, as the compiled sampler takes it."""
        return np.array([self.folds[k], self.ripple[k], 2 * np.pi * RIPPLE_SPEED * k / self.fps,
                         math.cos(self.turn[k]), math.sin(self.turn[k]), *self.pan[k], self.zoom[k], self.reach])

    def folded(self, folds: int) -> torch.Tensor:
        """[P, 2]: the output pixels folded into the first of ``folds`` mirrored slices (unchanged below 2)."""
        p = self.pixels
        if folds < 2:
            return p
        sector = 2 * np.pi / folds
        radius = p.norm(dim=1, keepdim=True)
        angle = torch.abs(torch.remainder(torch.atan2(-p[:, 1:], p[:, :1]), sector) - sector / 2)  # y is down
        return torch.cat([torch.cos(angle), -torch.sin(angle)], dim=1) * radius

    def coordinates(self, k: int) -> torch.Tensor:
        """float32 [P, 2]: where frame ``k``'s pixels sample the picture."""
        folds, depth, phase, cos, sin, pan_x, pan_y, zoom, _ = (float(v) for v in self.frame(k))
        p = self.folded(int(folds))
        if depth != 0:  # rings travelling outwards
            radius = p.norm(dim=1, keepdim=True).clamp_min(1e-6)
            p = p * (1 + depth * torch.sin(2 * np.pi * RIPPLE_RINGS * radius - phase) / radius)
        x, y = p[:, 0] - pan_x, p[:, 1] - pan_y
        # counter-clockwise on the screen (y down) is q = (c x - s y, s x + c y) / zoom
        return torch.stack([(cos * x - sin * y) / zoom, (sin * x + cos * y) / zoom], dim=1)

    @torch.inference_mode()
    def __call__(self, k: int, packed: bool = False) -> torch.Tensor:
        """[P, hidden]: frame ``k``'s coordinate terms, in the render's dtype; ``packed``: float32 [tiles, hidden,
        LANES] for the fused head (see :func:`fused.pack`)."""
        field = self.field(k)
        if field is not None and self.device.type == "cpu":
            pixels, hidden = self.pixels.shape[0], field.shape[2]
            lanes = LANES if packed else 1
            tiles = -(-pixels // lanes)
            out = np.empty((tiles, hidden, lanes), np.float32)
            out[-1] = 0.0  # the last tile's spare lanes
            _cpu_sampler()(field.numpy(), self._host_pixels(int(self.folds[k])), self.frame(k), out)
            terms = torch.from_numpy(out)
            return terms if packed else terms.view(pixels, hidden).to(self.dtype)
        if packed:
            return pack(self(k).float())
        q = self.coordinates(k)
        if field is None:
            picture = None if self.pictures is None else torch.from_numpy(np.ascontiguousarray(self.pictures[k]))
            return self.model.coord_term(torch.cat([q, q.norm(dim=1, keepdim=True)], dim=1),
                                         picture=picture).to(self.dtype)
        grid = (q / self.reach).view(1, 1, -1, 2)  # grid_sample's [-1, 1]
        sampled = torch.nn.functional.grid_sample(field, grid, mode="bilinear", padding_mode="border",
                                                  align_corners=False)  # [1, hidden, 1, P]
        return sampled[0, :, 0].t().to(self.dtype)
