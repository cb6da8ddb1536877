// The flash limit's smoothing, exactly as neuromv/look/flashes.py's calm smooths a tamed render's parameter tracks.

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
