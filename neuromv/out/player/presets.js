// The preset semantics, exactly as neuromv/look/presets.py defines them: a parameter's track is a function of its
// feature's track alone. The golden vectors of tests/data/preset_vectors.json pin the tracks down; the tests run
// them here too. Which parameters warp, colour and light, and their neutral values, are the header's constants
// (constants.js).

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

/** A parameter's value at frame k: its track's, or its `neutral` value (the header's constants' NEUTRAL) when the
 * preset leaves it out. */
export function param(values, name, k, neutral) {
  return name in values ? values[name][k] : neutral[name];
}

/** Whether the preset's tracks move any of `names` (the header's constants' WARPS, COLOURS or LIGHTS). */
export function moves(values, names) {
  return names.some((name) => name in values);
}
