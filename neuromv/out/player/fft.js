// The power spectrum of a real frame of any length: an iterative radix-2 FFT, and Bluestein's chirp transform for
// lengths that are not powers of two (the latents' window is 2 * rate / fps samples: 2940 at 44.1 kHz and 30 fps).

/** In place: the DFT of (re, im), both Float64Array of a power-of-two length. */
export function fftInPlace(re, im) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i += 1) {  // bit-reversed order
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = (-2 * Math.PI) / size;
    for (let k = 0; k < half; k += 1) {
      const wr = Math.cos(step * k);
      const wi = Math.sin(step * k);
      for (let start = k; start < n; start += size) {
        const other = start + half;
        const xr = re[other] * wr - im[other] * wi;
        const xi = re[other] * wi + im[other] * wr;
        re[other] = re[start] - xr;
        im[other] = im[start] - xi;
        re[start] += xr;
        im[start] += xi;
      }
    }
  }
}

/** |DFT|² of real frames of length `n`, bins 0 .. n / 2, as numpy's `abs(rfft(x)) ** 2` computes it. */
export class PowerSpectrum {
  constructor(n) {
    this.n = n;
    this.bins = Math.floor(n / 2) + 1;
    this.power2 = (n & (n - 1)) === 0;
    this.size = this.power2 ? n : 2 ** Math.ceil(Math.log2(2 * n - 1));
    this.re = new Float64Array(this.size);
    this.im = new Float64Array(this.size);
    if (!this.power2) {  // Bluestein: x_k w_k convolved with conj(w), w_k = exp(-i pi k^2 / n)
      this.chirpRe = new Float64Array(n);
      this.chirpIm = new Float64Array(n);
      for (let k = 0; k < n; k += 1) {
        const angle = (Math.PI * ((k * k) % (2 * n))) / n;
        this.chirpRe[k] = Math.cos(angle);
        this.chirpIm[k] = -Math.sin(angle);
      }
      this.kernelRe = new Float64Array(this.size);
      this.kernelIm = new Float64Array(this.size);
      for (let k = 0; k < n; k += 1) {
        this.kernelRe[k] = this.chirpRe[k];
        this.kernelIm[k] = -this.chirpIm[k];
        if (k > 0) {
          this.kernelRe[this.size - k] = this.chirpRe[k];
          this.kernelIm[this.size - k] = -this.chirpIm[k];
        }
      }
      fftInPlace(this.kernelRe, this.kernelIm);
    }
  }

  /** Float64Array [bins]: the power of `frame` (any array of n numbers). */
  of(frame, out = new Float64Array(this.bins)) {
    const { n, re, im } = this;
    re.fill(0);
    im.fill(0);
    if (this.power2) {
      for (let k = 0; k < n; k += 1) re[k] = frame[k];
      fftInPlace(re, im);
      for (let k = 0; k < this.bins; k += 1) out[k] = re[k] * re[k] + im[k] * im[k];
      return out;
    }
    const { chirpRe, chirpIm, kernelRe, kernelIm, size } = this;
    for (let k = 0; k < n; k += 1) {
      re[k] = frame[k] * chirpRe[k];
      im[k] = frame[k] * chirpIm[k];
    }
    fftInPlace(re, im);
    for (let k = 0; k < size; k += 1) {  // times the kernel's transform, conjugated: the inverse is a forward FFT
      const r = re[k] * kernelRe[k] - im[k] * kernelIm[k];
      const i = re[k] * kernelIm[k] + im[k] * kernelRe[k];
      re[k] = r;
      im[k] = -i;
    }
    fftInPlace(re, im);
    const scale = 1 / (size * size);  // the inverse's 1 / size, squared; |chirp| = 1 leaves the power alone
    for (let k = 0; k < this.bins; k += 1) out[k] = (re[k] * re[k] + im[k] * im[k]) * scale;
    return out;
  }
}
