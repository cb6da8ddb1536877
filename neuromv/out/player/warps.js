// The field a preset's warps sample, as neuromv/look/effects.py's Warp lays it out: the first layer's coordinate
// terms computed once on a square grid that covers every coordinate the preset reaches, at the output's pixel
// density times its largest zoom, which every warped frame samples bilinearly. Above the header's MAX_WARP_FIELD
// points each frame's terms are computed exactly instead, as the offline renderer does.

import { moves, param } from './presets.js';

/** Modes of the frame pass: the terms fetched at the pixel, sampled from the warp's field, or computed exactly. */
export const STILL = 0;
export const FIELD = 1;
export const EXACT = 2;

/** float32, as torch keeps the renderer's grid: the corner pixel's distance from the centre. */
function cornerRadius(width, height) {
  const step = Math.fround(2 / Math.min(width, height));
  const x = Math.fround(Math.fround(width - 1 + 0.5 - width / 2) * step);
  const y = Math.fround(Math.fround(height - 1 + 0.5 - height / 2) * step);
  return Math.fround(Math.sqrt(Math.fround(Math.fround(x * x) + Math.fround(y * y))));
}

/** The smallest and largest zoom, the deepest ripple and the farthest pan over the whole video's tracks. */
function extremes(values, frames, neutral) {
  let zoomMin = Infinity;
  let zoomMax = -Infinity;
  let ripple = 0;
  let pan = 0;
  for (let k = 0; k < frames; k++) {
    const zoom = Math.max(param(values, 'zoom', k, neutral), 1e-3);
    zoomMin = Math.min(zoomMin, zoom);
    zoomMax = Math.max(zoomMax, zoom);
    ripple = Math.max(ripple, Math.abs(param(values, 'ripple', k, neutral)));
    pan = Math.max(pan, Math.hypot(param(values, 'pan_x', k, neutral), param(values, 'pan_y', k, neutral)));
  }
  return { zoomMin, zoomMax, ripple, pan };
}

/**
 * The field a preset's warps sample (effects.py's Warp): its reach (grid units), side (points) and mode, from the
 * parameter tracks over the whole video, for panels of `width` x `height`; null when nothing warps. `constants`:
 * the header's (constants.js), for WARPS, NEUTRAL and MAX_WARP_FIELD.
 */
export function fieldGeometry(values, frames, width, height, constants) {
  if (!moves(values, constants.WARPS)) return null;
  const { zoomMin, zoomMax, ripple, pan } = extremes(values, frames, constants.NEUTRAL);
  const reach = (cornerRadius(width, height) + ripple + pan) / zoomMin;
  const density = Math.min(width, height) / 2 * zoomMax;
  const side = Math.ceil(2 * reach * density);
  return { reach, side, mode: side * side <= constants.MAX_WARP_FIELD ? FIELD : EXACT };
}
