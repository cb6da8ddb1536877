// The CPPN on the GPU, evaluated per pixel exactly as neuromv/draw.py and neuromv/look/effects.py do on the CPU
// (the passes' GLSL: shader.js; the weights' layout: weights.js; the warp's field: warps.js):
//
// 1. the first layer's coordinate terms W_xy (x, y, r, sin/cos of the Fourier phases) + b are computed once, into a
//    float texture array of ceil(hidden / 4) layers: on the panel's pixel grid when no warp moves, or on the square
//    field of effects.py's Warp that every warped frame samples bilinearly;
// 2. each frame adds its latent term (a uniform), runs the tanh layers and the sigmoid, applies the preset's colour
//    matrix, rounds to 8 bits and lays the stems' labels over it.

import { FULL_SCREEN, floatLayers, program } from './gl.js';
import { fieldSource, frameSource } from './shader.js';
import { EXACT } from './warps.js';
import { coordinateRows, fitBlocks, uploadWeights } from './weights.js';

/** A network on the GPU: its weights, its programs, and its coordinate terms for the current grid. */
export class Network {
  /** `packed`: weights.js's packWeights; `constants`: the header's (constants.js), for the shaders. */
  constructor(gl, packed, constants) {
    this.gl = gl;
    this.net = packed;
    this.constants = constants;
    this.blocks = fitBlocks(gl, packed);
    const { texture, buffers } = uploadWeights(gl, packed, this.blocks);
    this.weights = texture;
    this.buffers = buffers;
    this.draws = Math.min(gl.getParameter(gl.MAX_DRAW_BUFFERS), 8, packed.h4);
    this.programs = {};
    this.terms = null;
    this.termsKey = null;
    this.kept = new Map();  // the pictures' terms on the current grid, by key
    this.grid = null;
    this.rowsKey = '0';  // whose coordinate rows the weights texture holds
    this.framebuffer = gl.createFramebuffer();
  }

  /** Put the coordinate rows of a frame with `shares` of the pictures (null: one picture) in the weights texture,
   * unless they are there; returns their key. */
  useCoordinates(shares) {
    const key = shares ? Array.from(shares).join(',') : '0';
    if (key === this.rowsKey) return key;
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, this.weights);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, this.net.width, this.net.h4, gl.RGBA, gl.FLOAT,
      coordinateRows(this.net, shares));
    gl.bindTexture(gl.TEXTURE_2D, null);
    this.rowsKey = key;
    return key;
  }

  /** The frame pass of `mode`, compiled once. */
  frameProgram(mode) {
    if (!(mode in this.programs)) {
      const made = program(this.gl, FULL_SCREEN, frameSource(this.net, mode, this.blocks, this.constants));
      if (this.blocks) {
        for (let l = 0; l < this.net.layers; l++) {
          this.gl.uniformBlockBinding(made, this.gl.getUniformBlockIndex(made, `Layer${l}`), l);
        }
      }
      this.programs[mode] = made;
    }
    return this.programs[mode];
  }

  /** Compute the coordinate terms on a `width` x `height` grid spanning [-reach, reach] (reach 1: the panel's
   * own pixels), of a frame with `shares` of a sequence's pictures (null: one picture), unless they are already
   * there. Each picture's own are kept for its frames; a mix's last for one frame. */
  prepareTerms(width, height, reach, shares = null) {
    const grid = `${width}x${height}@${reach}`;
    const key = `${grid}/${this.useCoordinates(shares)}`;
    if (this.termsKey === key) return;
    const gl = this.gl;
    if (this.terms && !this.kept.has(this.termsKey)) gl.deleteTexture(this.terms);  // a mix's, drawn
    if (grid !== this.grid) {  // another grid: nothing kept holds
      for (const texture of this.kept.values()) gl.deleteTexture(texture);
      this.kept.clear();
      this.grid = grid;
    }
    this.termsKey = null;
    this.terms = this.kept.get(key) || null;
    if (this.terms) {
      this.termsKey = key;
      return;
    }
    this.terms = floatLayers(gl, width, height, this.net.h4);
    if (!shares || Array.from(shares).includes(1)) this.kept.set(key, this.terms);
    if (!this.fieldProgram) this.fieldProgram = program(gl, FULL_SCREEN, fieldSource(this.net, this.draws));
    gl.useProgram(this.fieldProgram);
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
    gl.viewport(0, 0, width, height);
    this.bindWeights(this.fieldProgram);
    gl.uniform2f(gl.getUniformLocation(this.fieldProgram, 'u_grid'), width, height);
    gl.uniform1f(gl.getUniformLocation(this.fieldProgram, 'u_step'), Math.fround(2 / Math.min(width, height)));
    gl.uniform1f(gl.getUniformLocation(this.fieldProgram, 'u_reach'), Math.fround(reach));
    for (let first = 0; first < this.net.h4; first += this.draws) {
      const count = Math.min(this.draws, this.net.h4 - first);
      const buffers = [];
      for (let i = 0; i < this.draws; i++) {
        if (i < count) {
          gl.framebufferTextureLayer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + i, this.terms, 0, first + i);
          buffers.push(gl.COLOR_ATTACHMENT0 + i);
        } else {
          gl.framebufferTextureLayer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + i, null, 0, 0);
          buffers.push(gl.NONE);
        }
      }
      gl.drawBuffers(buffers);
      const status = gl.checkFramebufferStatus(gl.FRAMEBUFFER);
      if (status !== gl.FRAMEBUFFER_COMPLETE) throw new Error(`cannot render float terms (framebuffer ${status})`);
      gl.uniform1i(gl.getUniformLocation(this.fieldProgram, 'u_first'), first);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
    }
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    this.termsKey = key;
  }

  bindWeights(prog) {
    const gl = this.gl;
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.weights);
    gl.uniform1i(gl.getUniformLocation(prog, 'u_weights'), 0);
  }

  /**
   * Draw one panel of a frame into the bound framebuffer. `frame`: {latent: Float32Array(4 * h4), origin: [x, y],
   * size: [w, h], canvas: [w, h], mode, reach, side, warp, colour, light, overlay}.
   */
  draw(frame) {
    const gl = this.gl;
    const prog = this.frameProgram(frame.mode);
    gl.useProgram(prog);
    const at = (name) => gl.getUniformLocation(prog, name);
    this.bindWeights(prog);
    this.buffers.forEach((buffer, l) => gl.bindBufferBase(gl.UNIFORM_BUFFER, l, buffer));
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D_ARRAY, frame.mode === EXACT ? null : this.terms);
    gl.uniform1i(at('u_terms'), 1);
    gl.activeTexture(gl.TEXTURE2);
    gl.bindTexture(gl.TEXTURE_2D, frame.overlay || null);
    gl.uniform1i(at('u_overlay'), 2);
    gl.uniform1i(at('u_labels'), frame.overlay ? 1 : 0);
    gl.uniform4fv(at('u_latent'), frame.latent);
    gl.uniform2f(at('u_origin'), frame.origin[0], frame.origin[1]);
    gl.uniform2f(at('u_size'), frame.size[0], frame.size[1]);
    gl.uniform2f(at('u_canvas'), frame.canvas[0], frame.canvas[1]);
    gl.uniform1f(at('u_top'), frame.canvas[1]);
    gl.uniform1f(at('u_step'), Math.fround(2 / Math.min(frame.size[0], frame.size[1])));
    const warp = frame.warp;
    gl.uniform4f(at('u_warpA'), warp.folds, warp.depth, warp.phase, warp.cos);
    gl.uniform4f(at('u_warpB'), warp.sin, warp.panX, warp.panY, warp.zoom);
    gl.uniform1f(at('u_reach'), frame.reach || 1);
    gl.uniform1i(at('u_side'), frame.side || 2);
    gl.uniform1i(at('u_colour'), frame.colour ? 1 : 0);
    if (frame.colour) {
      gl.uniformMatrix3fv(at('u_matrix'), false, frame.colour.matrix);
      gl.uniform3fv(at('u_offset'), frame.colour.offset);
    }
    gl.uniform1i(at('u_lit'), frame.light ? 1 : 0);
    if (frame.light) gl.uniform2f(at('u_light'), frame.light.depth, frame.light.phase);
    gl.viewport(frame.origin[0], frame.canvas[1] - frame.origin[1] - frame.size[1], frame.size[0], frame.size[1]);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }
}
