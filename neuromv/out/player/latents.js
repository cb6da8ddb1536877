// The mel latents of a song in the page, as neuromv/music/mel.py computes them: a log-mel spectrogram on the
// video's exact frame grid, normalised over the song and smoothed (fast attack, slow release). The constants come
// from the export's header (`constants.LATENTS`, from mel.py itself) and the golden vectors in
// tests/data/latent_vectors.json hold both sides to the same numbers.

import { PowerSpectrum } from './fft.js';

/** Slaney's mel scale: linear below 1 kHz (3 bins per 200 Hz), logarithmic above. */
export function hzToMel(hz) {
  return hz >= 1000 ? 15 + (Math.log(hz / 1000) * 27) / Math.log(6.4) : (hz * 3) / 200;
}

/** The inverse of hzToMel. */
export function melToHz(mel) {
  return mel >= 15 ? 1000 * Math.exp(((mel - 15) * Math.log(6.4)) / 27) : (mel * 200) / 3;
}

/** Float64Array [mels * bins] (row-major): triangular filters evenly spaced in mel, each of unit area in Hz. */
export function melFilterbank(rate, nFft, mels, fmin, fmax) {
  const bins = Math.floor(nFft / 2) + 1;
  const low = hzToMel(fmin);
  const high = hzToMel(fmax);
  const edges = Array.from({ length: mels + 2 }, (_, i) => melToHz(low + ((high - low) * i) / (mels + 1)));
  const out = new Float64Array(mels * bins);
  for (let m = 0; m < mels; m += 1) {
    const [left, centre, right] = [edges[m], edges[m + 1], edges[m + 2]];
    const norm = 2 / (right - left);
    for (let b = 0; b < bins; b += 1) {
      const hz = bins > 1 ? (b * (rate / 2)) / (bins - 1) : 0;
      const weight = Math.max(0, Math.min((hz - left) / (centre - left), (right - hz) / (right - centre)));
      out[m * bins + b] = weight * norm;
    }
  }
  return out;
}

/** floor(a / b) of whole numbers, exactly (a / b in floating point may round onto the next whole number). */
export function floorDiv(a, b) {
  let q = Math.floor(a / b);
  if (q * b > a) q -= 1;
  else if ((q + 1) * b <= a) q += 1;
  return q;
}

/** Frames a song of `samples` at `rate` has at `fps` ({num, den}): ceil(samples * fps / rate), exactly. */
export function frameCount(samples, rate, fps) {
  return -floorDiv(-samples * fps.num, rate * fps.den);
}

/** The sample frame `i` is centred on at `fps`: floor(i * rate / fps), exactly (as bank.grid_centres). */
export function centre(i, rate, fps) {
  return floorDiv(i * rate * fps.den, fps.num);
}

/** The analysis of `config` ({latent_dim, fmin, fmax, release}) at `rate` and `fps`, with the header's constants
 * `c` (LATENTS): its window, filterbank and power spectrum. */
export class MelAnalysis {
  constructor(rate, fps, config, c) {
    this.rate = rate;
    this.fps = fps;
    this.config = config;
    this.c = c;
    this.window = Math.max(c.MIN_WINDOW, Math.round((2 * rate * fps.den) / fps.num));
    const fmax = Math.min(config.fmax ?? c.MAX_FMAX, rate / 2);
    const fmin = Math.min(config.fmin, fmax / 2);
    this.dims = config.latent_dim;
    this.basis = melFilterbank(rate, this.window, this.dims, fmin, fmax);
    this.hann = Float64Array.from({ length: this.window },
      (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (n + 1)) / (this.window + 1)));
    this.spectrum = new PowerSpectrum(this.window);
    this.segment = new Float64Array(this.window);
    this.power = new Float64Array(this.spectrum.bins);
  }

  /** Float64Array [dims]: the mel power in dB of the window centred on sample floor(i * rate / fps) of `mono`
   * (samples outside it are silence). */
  row(mono, i, out = new Float64Array(this.dims)) {
    const { window, segment, power, basis, dims } = this;
    const start = centre(i, this.rate, this.fps) - Math.floor(window / 2);
    for (let n = 0; n < window; n += 1) {
      const at = start + n;
      segment[n] = at >= 0 && at < mono.length ? mono[at] * this.hann[n] : 0;
    }
    this.spectrum.of(segment, power);
    const bins = power.length;
    for (let m = 0; m < dims; m += 1) {
      let sum = 0;
      for (let b = 0; b < bins; b += 1) sum += power[b] * basis[m * bins + b];
      out[m] = 10 * Math.log10(Math.max(sum, this.c.POWER_FLOOR));
    }
    return out;
  }

  /** Float32Array [frames * dims]: the latents of a whole song, `mono` a Float32Array at `rate`. */
  latents(mono) {
    const frames = frameCount(mono.length, this.rate, this.fps);
    const db = new Float64Array(frames * this.dims);
    const row = new Float64Array(this.dims);
    for (let i = 0; i < frames; i += 1) db.set(this.row(mono, i, row), i * this.dims);
    return smooth(normalise(db, this.dims, this.c), this.dims, this.fps, this.config.release);
  }
}

/** In (-1, 1): each bin's deviation from its own mean over the song, floored DYNAMIC_RANGE_DB below the loudest
 * value and divided by twice the overall spread (at least MIN_SPREAD_DB), through tanh (mel.normalise). */
export function normalise(db, dims, c) {
  const frames = db.length / dims;
  let loudest = -Infinity;
  for (const value of db) loudest = Math.max(loudest, value);
  const floor = loudest - c.DYNAMIC_RANGE_DB;
  const out = Float64Array.from(db, (value) => Math.max(value, floor));
  const means = new Float64Array(dims);
  for (let i = 0; i < out.length; i += 1) means[i % dims] += out[i];
  for (let m = 0; m < dims; m += 1) means[m] /= frames;
  let squares = 0;
  for (let i = 0; i < out.length; i += 1) {
    out[i] -= means[i % dims];
    squares += out[i] * out[i];
  }
  const spread = Math.max(Math.sqrt(squares / out.length), c.MIN_SPREAD_DB);
  for (let i = 0; i < out.length; i += 1) out[i] = Math.tanh(out[i] / (2 * spread));
  return out;
}

/** Fast attack, slow release (mel.smooth): rises follow at once, falls decay with time constant `release` s. */
export function smooth(latents, dims, fps, release) {
  const out = Float32Array.from(latents);
  if (!(release > 0) || latents.length === 0) return out;
  const keep = Math.exp(-1 / ((release * fps.num) / fps.den));
  const level = latents.slice(0, dims);
  for (let i = 0; i < latents.length; i += dims) {
    for (let m = 0; m < dims; m += 1) {
      const value = latents[i + m];
      level[m] = Math.max(value, keep * level[m] + (1 - keep) * value);
      out[i + m] = level[m];
    }
  }
  return out;
}
