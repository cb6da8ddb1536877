// The export's frames: frame k a pure function of k (each panel's latent term row k, the preset's parameter row k,
// the networks), drawn into the canvas at a resolution scale.

import { constantsOf } from './constants.js';
import { Network } from './cppn.js';
import { STILL_WARP, colourMatrix, lightOf, warpOf } from './effects.js';
import { calm } from './flashes.js';
import { imageTexture } from './gl.js';
import { moves, param, rate, tracks } from './presets.js';
import { Sharpen } from './sharpen.js';
import { EXACT, FIELD, STILL, fieldGeometry } from './warps.js';
import { packWeights } from './weights.js';

export class Frames {
  /** `gl`: the canvas's WebGL2 context; `data`: the export (data.js's load); `overlay`: the labels' image or null. */
  constructor(gl, data, overlay) {
    const { header, array } = data;
    this.gl = gl;
    this.header = header;
    this.count = header.frames;
    this.fps = rate(header.fps);
    this.constants = constantsOf(header);
    this.networks = header.networks.map((entry) => {
      const arrays = Object.fromEntries(Object.entries(entry.arrays).map(([name, key]) => [name, array(key)]));
      return new Network(gl, packWeights(entry.config, arrays), this.constants);
    });
    this.panels = header.panels.map((entry) => ({ network: this.networks[entry.network],
      latent: array(entry.latent_terms), hidden: header.networks[entry.network].config.hidden }));
    const features = array(header.features.array);
    const names = header.features.names;
    this.feature = (name) => {
      const column = names.indexOf(name);
      if (column < 0) throw new Error(`the export has no feature ${JSON.stringify(name)}`);
      return Float64Array.from({ length: this.count }, (_, k) => features[k * names.length + column]);
    };
    // a sequence of covers: each frame's share of each picture, which every panel's network shows
    this.pictures = header.pictures ? array(header.pictures.array) : null;
    this.presets = header.presets;
    this.overlay = overlay ? imageTexture(gl, overlay) : null;
    this.scale = 1;
    const amounts = header.sharpen ? [].concat(header.sharpen.amount) : [0];  // one a picture for a sequence
    this.sharpen = amounts.some((amount) => amount !== 0) ? new Sharpen(gl, header.sharpen.taps) : null;
    this.use(header.preset);
  }

  /** Switch to the exported preset `name`: its parameter tracks and, if it warps, its field. */
  use(name) {
    const preset = this.presets.find((p) => p.name === name);
    if (!preset) throw new Error(`no preset ${JSON.stringify(name)} in this export`);
    this.preset = preset;
    this.values = tracks(preset, this.feature, this.count, this.header.fps);
    const tamed = this.header.calm;  // the render's own preset, as the flash limit smoothed it
    if (tamed && tamed.preset === name) this.values = calm(this.values, tamed.window);
    const constants = this.constants;
    this.field = fieldGeometry(this.values, this.count, this.header.width, this.header.height, constants);
    this.colours = moves(this.values, constants.COLOURS);
    this.lights = moves(this.values, constants.LIGHTS);
    this.gain = 'latent_gain' in this.values ? this.values.latent_gain : null;
  }

  /** The canvas size at the current scale. */
  get size() {
    const [w, h] = this.panelSize;
    return [w * this.header.columns, h * this.header.rows];
  }

  get panelSize() {
    return [Math.max(2, Math.round(this.header.width * this.scale)), Math.max(2, Math.round(this.header.height * this.scale))];
  }

  /** Draw frame k (clamped to the video) into the default framebuffer, whose size is `size` (through the
   * sharpening's own when the render sharpens: sharpen.js). */
  draw(k) {
    k = Math.min(Math.max(0, Math.floor(k)), this.count - 1);
    const gl = this.gl;
    const [w, h] = this.panelSize;
    const canvas = this.size;
    let mode = STILL;
    let reach = 1;
    let side = 2;
    if (this.field) {
      // the field is laid out for the export's size; a scaled canvas samples it at its own pixels
      mode = this.field.mode;
      reach = this.field.reach;
      side = this.field.side;
    }
    const warp = this.field ? warpOf(this.values, k, this.header.fps, this.constants) : STILL_WARP;
    const colour = this.colours ? colourMatrix(this.values, k, this.constants) : null;
    const light = this.lights ? lightOf(this.values, k, this.constants) : null;
    // the render's sharpening goes with its own preset (as its flash limit's smoothing does)
    const count = this.pictures ? this.header.pictures.count : 0;
    const shares = this.pictures ? this.pictures.subarray(k * count, (k + 1) * count) : null;
    const sharpen = this.sharpen && this.preset.name === this.header.sharpen.preset ? this.sharpenAt(shares) : 0;
    const target = sharpen ? this.sharpen.target(...canvas) : null;
    this.panels.forEach((panel, index) => {
      const network = panel.network;
      if (mode === STILL) network.prepareTerms(w, h, 1, shares);
      else if (mode === EXACT) network.useCoordinates(shares);
      else if (mode === FIELD) {
        try {
          network.prepareTerms(side, side, reach, shares);
        } catch (error) {  // the GPU cannot hold the field: each frame's terms exactly, as above MAX_WARP_FIELD
          console.warn(`neuromv: ${error.message}; computing each frame's terms instead`);
          this.field.mode = mode = EXACT;
          network.useCoordinates(shares);
        }
      }
      gl.bindFramebuffer(gl.FRAMEBUFFER, target);  // computing the terms bound their own
      const latent = new Float32Array(4 * network.net.h4);
      const gain = this.gain ? this.gain[k] : 1;
      for (let j = 0; j < panel.hidden; j++) {
        const term = panel.latent[k * panel.hidden + j];
        latent[j] = this.gain ? Math.fround(term * gain) : term;
      }
      const column = index % this.header.columns;
      const row = Math.floor(index / this.header.columns);
      network.draw({ latent, origin: [column * w, row * h], size: [w, h], canvas, mode, reach, side, warp, colour,
        light, overlay: this.overlay });
    });
    if (sharpen) this.sharpen.apply(sharpen);
    return k;
  }

  /** The render's sharpening of a frame with `shares` of a sequence's pictures (null: one picture): its picture's
   * amount, or between two the mix of theirs (neuromv/draw.py's sharpen_amounts). */
  sharpenAt(shares) {
    const amount = this.header.sharpen.amount;
    if (!Array.isArray(amount)) return amount;
    const whole = shares.indexOf(1);
    if (whole >= 0) return amount[whole];
    let mixed = 0;
    shares.forEach((share, p) => { mixed = Math.fround(mixed + Math.fround(share * amount[p])); });
    return mixed;
  }

  /** Frame k's parameters (for the tests and the page): {name: value}. */
  paramsAt(k) {
    const neutral = this.constants.NEUTRAL;
    return Object.fromEntries(Object.keys(this.values).map((name) => [name, param(this.values, name, k, neutral)]));
  }
}
