// The effects, exactly as neuromv/look/effects.py applies them: a frame's warp of the coordinates (zoom, rotation,
// pan, kaleidoscope folds, ripple), its colour matrix (hue, saturation, brightness, contrast) and its rings of
// light, each a function of the frame's parameter row. `constants` is the header's (constants.js): the neutral
// values, the ripple's speed and the luma weights come from there.

import { param, rate } from './presets.js';

/**
 * Frame k's colour matrix as effects.py's colour_matrices makes it: rgb' = clamp(rgb @ m + offset, 0, 1).
 * Returns {matrix: Float32Array(9) column-major for a GLSL mat3 acting on column vectors, offset: Float32Array(3)}.
 */
export function colourMatrix(values, k, constants) {
  const at = (name) => param(values, name, k, constants.NEUTRAL);
  const luma = constants.LUMA;
  const angle = 2 * Math.PI * at('hue');
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const a = 1 / Math.sqrt(3);
  const cross = [[0, -a, a], [a, 0, -a], [-a, a, 0]];
  const hue = [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? c : 0) + s * cross[i][j] + (1 - c) * a * a));
  const sat = at('saturation');
  const saturation = [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? sat : 0) + (1 - sat) * luma[j]));
  const contrast = at('contrast');
  const linear = [0, 1, 2].map((i) => [0, 1, 2].map(
    (j) => contrast * (saturation[i][0] * hue[0][j] + saturation[i][1] * hue[1][j] + saturation[i][2] * hue[2][j])));
  const offset = 0.5 * (1 - contrast) + at('brightness');
  // GLSL's mat3 is column-major and `linear * rgb` applies it to a column vector: element (i, j) at 3 j + i
  const matrix = new Float32Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) matrix[3 * j + i] = linear[i][j];
  return { matrix, offset: new Float32Array([offset, offset, offset]) };
}

/**
 * Frame k's warp as effects.py's Warp.frame makes it: folds, ripple depth, ripple phase (in turns, reduced to
 * [0, 1)), cos and sin of the turn, pan x and y (y down), zoom.
 */
export function warpOf(values, k, videoFps, constants) {
  const at = (name) => param(values, name, k, constants.NEUTRAL);
  const fps = rate(videoFps);
  const turn = at('rotation') * (Math.PI / 180);
  const cycles = constants.RIPPLE_SPEED * k / fps;
  return {
    folds: roundHalfEven(at('kaleido')),
    depth: at('ripple'),
    phase: cycles - Math.floor(cycles),
    cos: Math.cos(turn),
    sin: Math.sin(turn),
    panX: at('pan_x'),
    panY: -at('pan_y'),
    zoom: Math.max(at('zoom'), 1e-3),
  };
}

/** The warp of a frame that nothing warps (the frame pass then reads no warp at all). */
export const STILL_WARP = Object.freeze({ folds: 0, depth: 0, phase: 0, cos: 1, sin: 0, panX: 0, panY: 0, zoom: 1 });

/** Round to the nearest whole number, halves to even, as numpy's round. */
export function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Frame k's rings of light as effects.py's Light takes them: {depth, phase} with the phase in turns, in [0, 1). */
export function lightOf(values, k, constants) {
  const phase = param(values, 'light_phase', k, constants.NEUTRAL);
  return { depth: param(values, 'light', k, constants.NEUTRAL), phase: Math.fround(phase - Math.floor(phase)) };
}
