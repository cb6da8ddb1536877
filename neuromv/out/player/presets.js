// The preset semantics, exactly as neuromv/presets.py and neuromv/params.py define them: a parameter's track is a
// function of its feature's track alone, and a frame's warp and colour matrix a function of its parameter row.
// The golden vectors of tests/data/preset_vectors.json pin the tracks down; the tests run them here too.

/** Neutral value of every parameter (a preset that leaves one out keeps it neutral). */
export const NEUTRAL = Object.freeze({
  zoom: 1, rotation: 0, pan_x: 0, pan_y: 0, latent_gain: 1, hue: 0, saturation: 1, brightness: 0, contrast: 1,
  kaleido: 0, ripple: 0, light: 0, light_phase: 0,
});
/** The parameters that move where each pixel samples the picture, and those that change its colours. */
export const WARPS = ['zoom', 'rotation', 'pan_x', 'pan_y', 'kaleido', 'ripple'];
export const COLOURS = ['hue', 'saturation', 'brightness', 'contrast'];
/** The parameters of the rings of light, and the rings per half-height, as in params.py. */
export const LIGHTS = ['light', 'light_phase'];
export const LIGHT_RINGS = 1.0;
/** Rings per half-height of the ripple and their speed outwards (rings a second), as in params.py. */
export const RIPPLE_RINGS = 3.0;
export const RIPPLE_SPEED = 0.8;
const LUMA = [0.2126, 0.7152, 0.0722];

/** A frame rate given as "30", "30000/1001" or a number -> float64, as Python's float(Fraction(...)). */
export function rate(fps) {
  if (typeof fps === 'number') return fps;
  const [num, den] = String(fps).split('/').map(Number);
  return den === undefined ? num : num / den;
}

/** One-pole smoothing with time constant `seconds`: y[0] = u[0], y[i] = y[i-1] + a (u[i] - y[i-1]). */
export function smooth(u, seconds, fps) {
  const out = Float64Array.from(u);
  if (!(seconds > 0) || u.length === 0) return out;
  const a = 1 - Math.exp(-1 / (seconds * fps));
  let level = u[0];
  for (let i = 0; i < u.length; i++) {
    level = level + a * (u[i] - level);
    out[i] = level;
  }
  return out;
}

/** Monotone, piecewise linear through (0, low), (0.5, avg), (1, high); u clipped to [0, 1]. */
export function mapValue(u, low, high, avg) {
  const mid = avg === undefined || avg === null ? (low + high) / 2 : avg;
  return u.map((x) => {
    const v = Math.min(Math.max(x, 0), 1);
    return v < 0.5 ? low + (mid - low) * 2 * v : mid + (high - mid) * (2 * v - 1);
  });
}

/** low + floor((v - low) / step + 0.5) * step; unchanged without a step. */
export function quantise(v, low, step) {
  if (step === undefined || step === null) return v;
  return v.map((x) => low + Math.floor((x - low) / step + 0.5) * step);
}

/** The frame whose value frame i shows when the parameter updates `updates` times a second. */
export function holdIndex(frames, videoFps, updates) {
  const index = new Int32Array(frames);
  for (let i = 0; i < frames; i++) {
    if (updates === undefined || updates === null) {
      index[i] = i;
    } else {
      const update = Math.floor(i * updates / videoFps + 1e-9);
      index[i] = Math.min(Math.ceil(update / updates * videoFps - 1e-9), i);
    }
  }
  return index;
}

/** The running sum of a speed per second: p[0] = 0, p[i] = p[i-1] + v[i] / fps (the step into frame i at its speed). */
export function integrate(v, fps) {
  const out = new Float64Array(v.length);
  let sum = 0;
  for (let i = 1; i < v.length; i++) {
    sum += v[i];
    out[i] = sum / fps;
  }
  return out;
}

/** float64 [frames]: one parameter's track from its mapping (a preset's JSON entry) and its feature's track. */
export function track(mapping, feature, frames, videoFps) {
  const fps = rate(videoFps);
  const low = mapping.min ?? 0;
  const high = mapping.max ?? 1;
  let v;
  if (mapping.value !== undefined && mapping.value !== null) {
    v = new Float64Array(frames).fill(mapping.value);
  } else {
    const mapped = quantise(mapValue(smooth(feature, mapping.smooth ?? 0, fps), low, high, mapping.avg), low,
      mapping.step);
    const index = holdIndex(frames, fps, mapping.fps);
    v = Float64Array.from(index, (i) => mapped[i]);
  }
  return mapping.integrate ? integrate(v, fps) : v;
}

/**
 * Every parameter of `preset` (its JSON object) over the video: {name: Float32Array [frames]}, each rounded to
 * float32 as the renderer keeps them. `features(name)` gives a feature's track.
 */
export function tracks(preset, features, frames, videoFps) {
  const out = {};
  for (const [name, mapping] of Object.entries(preset.params || {})) {
    const feature = mapping.feature ? features(mapping.feature) : null;
    out[name] = Float32Array.from(track(mapping, feature, frames, videoFps));
  }
  return out;
}

/** A parameter's value at frame k: its track's, or neutral when the preset leaves it out. */
export function param(values, name, k) {
  return name in values ? values[name][k] : NEUTRAL[name];
}

/**
 * Frame k's colour matrix as params.py's colour_matrices makes it: rgb' = clamp(rgb @ m + offset, 0, 1).
 * Returns {matrix: Float32Array(9) column-major for a GLSL mat3 acting on column vectors, offset: Float32Array(3)}.
 */
export function colourMatrix(values, k) {
  const angle = 2 * Math.PI * param(values, 'hue', k);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const a = 1 / Math.sqrt(3);
  const cross = [[0, -a, a], [a, 0, -a], [-a, a, 0]];
  const hue = [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? c : 0) + s * cross[i][j] + (1 - c) * a * a));
  const sat = param(values, 'saturation', k);
  const saturation = [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? sat : 0) + (1 - sat) * LUMA[j]));
  const contrast = param(values, 'contrast', k);
  const linear = [0, 1, 2].map((i) => [0, 1, 2].map(
    (j) => contrast * (saturation[i][0] * hue[0][j] + saturation[i][1] * hue[1][j] + saturation[i][2] * hue[2][j])));
  const offset = 0.5 * (1 - contrast) + param(values, 'brightness', k);
  // GLSL's mat3 is column-major and `linear * rgb` applies it to a column vector: element (i, j) at 3 j + i
  const matrix = new Float32Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) matrix[3 * j + i] = linear[i][j];
  return { matrix, offset: new Float32Array([offset, offset, offset]) };
}

/**
 * Frame k's warp as params.py's Warp.frame makes it: folds, ripple depth, ripple phase (in turns, reduced to
 * [0, 1)), cos and sin of the turn, pan x and y (y down), zoom.
 */
export function warpOf(values, k, videoFps) {
  const fps = rate(videoFps);
  const turn = param(values, 'rotation', k) * (Math.PI / 180);
  const cycles = RIPPLE_SPEED * k / fps;
  return {
    folds: roundHalfEven(param(values, 'kaleido', k)),
    depth: param(values, 'ripple', k),
    phase: cycles - Math.floor(cycles),
    cos: Math.cos(turn),
    sin: Math.sin(turn),
    panX: param(values, 'pan_x', k),
    panY: -param(values, 'pan_y', k),
    zoom: Math.max(param(values, 'zoom', k), 1e-3),
  };
}

/** Round to the nearest whole number, halves to even, as numpy's round. */
export function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Whether the preset's tracks move any of `names`. */
export function moves(values, names) {
  return names.some((name) => name in values);
}

/** Frame k's rings of light as params.py's Light takes them: {depth, phase} with the phase in turns, in [0, 1). */
export function lightOf(values, k) {
  const phase = param(values, 'light_phase', k);
  return { depth: param(values, 'light', k), phase: Math.fround(phase - Math.floor(phase)) };
}

/** The mean of each value's `span` neighbours (centred; fewer at the ends), in float64, as flashes.centred_mean. */
function centredMean(u, span) {
  const n = u.length;
  const half = Math.max(0, Math.floor(span / 2));
  const table = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) table[i + 1] = table[i] + u[i];
  return Float64Array.from({ length: n }, (_, i) => {
    const lo = Math.min(Math.max(i - half, 0), n);
    const hi = Math.min(Math.max(i + half + 1, 0), n);
    return (table[hi] - table[lo]) / (hi - lo);
  });
}

/**
 * Every track smoothed over `window` frames as flashes.calm smooths a tamed render's parameters (a centred
 * triangle: the box mean twice, then float32); unchanged for a window of 1.
 */
export function calm(values, window) {
  if (!(window > 1)) return values;
  return Object.fromEntries(Object.entries(values).map(
    ([name, track]) => [name, Float32Array.from(centredMean(centredMean(track, window), window))]));
}
