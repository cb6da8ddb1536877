// The CPPN in WebGL2, evaluated per pixel exactly as neuromv/render.py and neuromv/params.py do on the CPU:
//
// 1. the first layer's coordinate terms W_xy (x, y, r, sin/cos of the Fourier phases) + b are computed once, into a
//    float texture array of ceil(hidden / 4) layers: on the panel's pixel grid when no warp moves, or on the square
//    field of Warp (params.py) that every warped frame samples bilinearly;
// 2. each frame adds its latent term (a uniform), runs the tanh layers and the sigmoid, applies the preset's colour
//    matrix, rounds to 8 bits and lays the stems' labels over it.
//
// Weights live in one RGBA32F texture per network (uniform arrays are too small on many GPUs), read with texelFetch.

import { FULL_SCREEN, floatLayers, floatTexture, program } from './gl.js';

/** Largest field of coordinate terms a warp samples from, in points (params.py's MAX_WARP_FIELD): above it each
 * frame's terms are computed exactly, as the offline renderer does. */
export const MAX_WARP_FIELD = 4000000;

/** The shared GLSL: sizes, weight fetches, a stable tanh and the first layer's coordinate terms. */
function common(net) {
  return `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;
precision highp sampler2DArray;
#define H4 ${net.h4}
#define K4 ${net.k4}
#define LAYERS ${net.layers - 1}
const float TAU = 6.283185307179586;
uniform sampler2D u_weights;
vec4 w(int row, int column) { return texelFetch(u_weights, ivec2(column, row), 0); }
// tanh without overflow: (1 - e^-2|x|) / (1 + e^-2|x|) carries the sign
vec4 tanh4(vec4 x) { vec4 e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }
// (sin, cos) of a turns to float32 rounding (the built-ins may be far coarser): reduced to an eighth of a turn
// about the nearest quarter, then the series
vec4 sinTurns(vec4 t, out vec4 c) {
  t -= floor(t);
  vec4 quarter = floor(t * 4.0 + 0.5);
  vec4 x = (t - quarter * 0.25) * TAU;
  vec4 x2 = x * x;
  vec4 s = x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0 * (1.0 - x2 / 110.0)))));
  vec4 k = 1.0 - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0 * (1.0 - x2 / 90.0))));
  vec4 q = mod(quarter, 4.0);  // rotate by the quarter turns
  vec4 sine = mix(mix(s, k, equal(q, vec4(1.0))), mix(-s, -k, equal(q, vec4(3.0))), greaterThan(q, vec4(1.5)));
  c = mix(mix(k, -s, equal(q, vec4(1.0))), mix(-k, s, equal(q, vec4(3.0))), greaterThan(q, vec4(1.5)));
  return sine;
}

// atan(y, x) to float32 rounding (the built-in may be far coarser, and a fold's angle moves every pixel it folds):
// the ratio reduced to [0, tan(pi / 12)], then six terms of the series
float atan2Exact(float y, float x) {
  float ax = abs(x), ay = abs(y);
  float big = max(ax, ay);
  float a = big == 0.0 ? 0.0 : min(ax, ay) / big;
  float base = 0.0;
  if (a > 0.2679491924311228) {
    a = (a * 1.7320508075688772 - 1.0) / (a + 1.7320508075688772);
    base = 0.5235987755982988;
  }
  float s = a * a;
  float r = base + a * (1.0 - s * (1.0 / 3.0 - s * (1.0 / 5.0 - s * (1.0 / 7.0 - s * (1.0 / 9.0 - s / 11.0)))));
  if (ay > ax) r = 1.5707963267948966 - r;
  if (x < 0.0) r = 3.141592653589793 - r;
  return y < 0.0 ? -r : r;
}

// the coordinate terms at (x, y) with radius r: rows 0..H4-1 hold (x, y, r, bias, sin..., cos...) per 4 units,
// rows H4 and H4+1 the Fourier frequencies (in cycles per unit); phases are taken in turns, range-reduced
void coordTerms(vec2 p, float r, out vec4 h[H4]) {
  for (int j = 0; j < H4; j++) h[j] = w(j, 0) * p.x + w(j, 1) * p.y + w(j, 2) * r + w(j, 3);
  for (int k4 = 0; k4 < K4; k4++) {
    vec4 c;
    vec4 s = sinTurns(p.x * w(H4, k4) + p.y * w(H4 + 1, k4), c);
    for (int j = 0; j < H4; j++) {
      h[j] += mat4(w(j, 4 + 4 * k4), w(j, 5 + 4 * k4), w(j, 6 + 4 * k4), w(j, 7 + 4 * k4)) * s
            + mat4(w(j, 4 + 4 * K4 + 4 * k4), w(j, 5 + 4 * K4 + 4 * k4), w(j, 6 + 4 * K4 + 4 * k4),
                   w(j, 7 + 4 * K4 + 4 * k4)) * c;
    }
  }
}
`;
}

/** The coordinate pass: `draws` layers of the terms at a grid point per fragment, the grid spanning
 * [-reach, reach] along its shorter side as coordinate_grid(width, height) * reach does. */
function fieldSource(net, draws) {
  const outputs = Array.from({ length: draws }, (_, i) => `layout(location = ${i}) out vec4 o${i};`).join('\n');
  const writes = Array.from({ length: draws }, (_, i) => `  o${i} = h[min(u_first + ${i}, H4 - 1)];`).join('\n');
  return `${common(net)}
uniform vec2 u_grid;
uniform float u_step;
uniform float u_reach;
uniform int u_first;
${outputs}
void main() {
  vec2 g = (floor(gl_FragCoord.xy) + 0.5 - u_grid / 2.0) * u_step;
  float r = sqrt(g.x * g.x + g.y * g.y);
  vec4 h[H4];
  coordTerms(g * u_reach, r * u_reach, h);
${writes}
}`;
}

/**
 * The hidden layers and the output layer: `L<l>(row, column)` reads layer l's weights for output units 4 row ..
 * 4 row + 3 (column 4 H4: their biases), from a uniform block per layer when `blocks` fit, else from the weights
 * texture. Every pixel reads the same weights at the same time, which is what a GPU's uniform (constant) memory
 * serves best; unrolled, so that every offset is a constant. (On SwiftShader, which is bound by its arithmetic, the
 * two ways ran within 20 % of each other; no GPU was measured.)
 */
function denseLayers(net, blocks) {
  const stride = 4 * net.h4 + 1;
  const lines = [];
  for (let l = 0; l < net.layers; l++) {
    const rows = l < net.layers - 1 ? net.h4 : 1;
    if (blocks) {
      lines.push(`layout(std140) uniform Layer${l} { vec4 layer${l}[${rows * stride}]; };`);
      lines.push(`#define L${l}(row, column) layer${l}[(row) * ${stride} + (column)]`);
    } else {
      lines.push(`#define L${l}(row, column) w(H4 + 2 + ${l} * H4 + (row), (column))`);
    }
    if (l < net.layers - 1) {  // unrolled: every index a constant
      const body = [];
      for (let j = 0; j < net.h4; j++) {
        const terms = Array.from({ length: net.h4 }, (_, i) => `mat4(L${l}(${j}, ${4 * i}), L${l}(${j}, ${4 * i + 1}), `
          + `L${l}(${j}, ${4 * i + 2}), L${l}(${j}, ${4 * i + 3})) * h[${i}]`);
        body.push(`  next[${j}] = tanh4(L${l}(${j}, ${4 * net.h4})\n    + ${terms.join('\n    + ')});`);
      }
      lines.push(`void dense${l}(inout vec4 h[H4]) {\n  vec4 next[H4];\n${body.join('\n')}\n  h = next;\n}`);
    }
  }
  return lines.join('\n');
}

/** Modes of the frame pass: the terms fetched at the pixel, sampled from the warp's field, or computed exactly. */
export const STILL = 0;
export const FIELD = 1;
export const EXACT = 2;

/** The frame pass for one panel: frame k from its coordinate terms, latent term, warp, colour matrix and light. */
function frameSource(net, mode, blocks) {
  return `${common(net)}
#define MODE ${mode}
const float RIPPLE_RINGS = 3.0;
const float LIGHT_RINGS = 1.0;
uniform sampler2DArray u_terms;
uniform vec4 u_latent[H4];
uniform vec2 u_origin;     // the panel's top left in the canvas, pixels
uniform vec2 u_size;       // the panel's size, pixels
uniform float u_top;       // the canvas's height: gl_FragCoord counts from the bottom
uniform float u_step;      // 2 / min(width, height), in float32 as the renderer's grid
uniform vec4 u_warpA;      // folds, ripple depth, ripple phase (turns), cos(turn)
uniform vec4 u_warpB;      // sin(turn), pan x, pan y (y down), zoom
uniform float u_reach;
uniform int u_side;
uniform bool u_colour;
uniform mat3 u_matrix;
uniform vec3 u_offset;
uniform bool u_lit;
uniform vec2 u_light;      // depth, phase (turns, in [0, 1)) of the rings of light
uniform bool u_labels;
uniform sampler2D u_overlay;
uniform vec2 u_canvas;
out vec4 o_colour;

// where output pixel p (y down) samples the picture: folds, ripple, pan, turn and zoom as Warp.coordinates
vec2 warp(vec2 p) {
  int folds = int(u_warpA.x);
  if (folds >= 2) {
    float sector = TAU / float(folds);
    float radius = length(p);
    float a = atan2Exact(-p.y, p.x);
    float angle = abs(a - sector * floor(a / sector) - sector / 2.0);
    vec4 c;
    vec4 s = sinTurns(vec4(angle / TAU), c);
    p = vec2(c.x, -s.x) * radius;
  }
  if (u_warpA.y != 0.0) {
    float radius = max(length(p), 1e-6);
    vec4 c;
    p *= 1.0 + u_warpA.y * sinTurns(vec4(RIPPLE_RINGS * radius - u_warpA.z), c).x / radius;
  }
  p -= u_warpB.yz;
  return vec2(u_warpA.w * p.x - u_warpB.x * p.y, u_warpB.x * p.x + u_warpA.w * p.y) / u_warpB.w;
}

${denseLayers(net, blocks)}
void main() {
  vec2 canvas = vec2(gl_FragCoord.x, u_top - gl_FragCoord.y);
  ivec2 pixel = ivec2(floor(canvas - u_origin));
  vec2 p = (vec2(pixel) + 0.5 - u_size / 2.0) * u_step;
  vec4 h[H4];
#if MODE == 0
  for (int j = 0; j < H4; j++) h[j] = texelFetch(u_terms, ivec3(pixel, j), 0);
#elif MODE == 1
  vec2 q = warp(p);
  float side = float(u_side);
  float u = clamp((q.x / u_reach + 1.0) * (side / 2.0) - 0.5, 0.0, side - 1.0);
  float v = clamp((q.y / u_reach + 1.0) * (side / 2.0) - 0.5, 0.0, side - 1.0);
  int x0 = min(int(u), u_side - 2), y0 = min(int(v), u_side - 2);
  float fx = u - float(x0), fy = v - float(y0);
  for (int j = 0; j < H4; j++) {
    h[j] = (1.0 - fx) * (1.0 - fy) * texelFetch(u_terms, ivec3(x0, y0, j), 0)
         + fx * (1.0 - fy) * texelFetch(u_terms, ivec3(x0 + 1, y0, j), 0)
         + (1.0 - fx) * fy * texelFetch(u_terms, ivec3(x0, y0 + 1, j), 0)
         + fx * fy * texelFetch(u_terms, ivec3(x0 + 1, y0 + 1, j), 0);
  }
#else
  vec2 q = warp(p);
  coordTerms(q, length(q), h);
#endif
  for (int j = 0; j < H4; j++) h[j] = tanh4(h[j] + u_latent[j]);
${Array.from({ length: net.layers - 1 }, (_, l) => `  dense${l}(h);`).join('\n')}
  vec4 s = L${net.layers - 1}(0, 4 * H4);
  for (int i = 0; i < H4; i++) {
    s += mat4(L${net.layers - 1}(0, 4 * i), L${net.layers - 1}(0, 4 * i + 1), L${net.layers - 1}(0, 4 * i + 2),
              L${net.layers - 1}(0, 4 * i + 3)) * h[i];
  }
  vec3 rgb = 1.0 / (1.0 + exp(-s.rgb));
  if (u_colour) rgb = clamp(u_matrix * rgb + u_offset, 0.0, 1.0);
  if (u_lit) {  // the rings of light, at the output pixel's own radius (params.Light)
    vec4 c;
    rgb = clamp(rgb * (1.0 + u_light.x * sinTurns(vec4(LIGHT_RINGS * length(p) - u_light.y), c).x), 0.0, 1.0);
  }
  vec3 level = floor(rgb * 255.0 + 0.5);
  if (u_labels) {
    vec4 label = texture(u_overlay, canvas / u_canvas);
    level = floor(level * (1.0 - label.a) + label.rgb * label.a * 255.0 + 0.5);
  }
  o_colour = vec4(level / 255.0, 1.0);
}`;
}

/**
 * One network's weights packed into an RGBA32F texture, 4 output units per row (see `common`):
 * `arrays` holds the checkpoint's tensors as Float32Arrays ('coords.weight' [hidden, 3 + 2K], 'coords.bias',
 * 'frequencies' [K, 2], 'hidden.L.weight', 'hidden.L.bias', 'out.weight' [3, hidden], 'out.bias').
 */
export function packWeights(config, arrays) {
  const { hidden, layers, fourier } = config;
  const h4 = Math.ceil(hidden / 4);
  const k4 = Math.ceil(fourier / 4);
  const width = Math.max(4 + 8 * k4, 4 * h4 + 1, k4, 1);
  const rows = h4 + 2 + (layers - 1) * h4 + 1;
  const data = new Float32Array(width * rows * 4);
  const put = (row, column, unit, value) => { data[(row * width + column) * 4 + unit] = value; };
  const coords = arrays['coords.weight'];
  const inputs = 3 + 2 * fourier;
  for (let o = 0; o < hidden; o++) {
    const row = Math.floor(o / 4);
    const unit = o % 4;
    for (let c = 0; c < 3; c++) put(row, c, unit, coords[o * inputs + c]);
    put(row, 3, unit, arrays['coords.bias'][o]);
    for (let k = 0; k < fourier; k++) {
      put(row, 4 + k, unit, coords[o * inputs + 3 + k]);
      put(row, 4 + 4 * k4 + k, unit, coords[o * inputs + 3 + fourier + k]);
    }
  }
  for (let k = 0; k < fourier; k++) {
    put(h4, Math.floor(k / 4), k % 4, arrays.frequencies[2 * k]);
    put(h4 + 1, Math.floor(k / 4), k % 4, arrays.frequencies[2 * k + 1]);
  }
  for (let l = 0; l < layers - 1; l++) {
    const weight = arrays[`hidden.${l}.weight`];
    const bias = arrays[`hidden.${l}.bias`];
    for (let o = 0; o < hidden; o++) {
      const row = h4 + 2 + l * h4 + Math.floor(o / 4);
      for (let i = 0; i < hidden; i++) put(row, i, o % 4, weight[o * hidden + i]);
      put(row, 4 * h4, o % 4, bias[o]);
    }
  }
  const outRow = h4 + 2 + (layers - 1) * h4;
  for (let o = 0; o < 3; o++) {
    for (let i = 0; i < hidden; i++) put(outRow, i, o, arrays['out.weight'][o * hidden + i]);
    put(outRow, 4 * h4, o, arrays['out.bias'][o]);
  }
  return { width, rows, data, h4, k4, hidden, layers, fourier };
}

/** float32, as torch keeps the renderer's grid: the corner pixel's distance from the centre. */
function cornerRadius(width, height) {
  const step = Math.fround(2 / Math.min(width, height));
  const x = Math.fround(Math.fround(width - 1 + 0.5 - width / 2) * step);
  const y = Math.fround(Math.fround(height - 1 + 0.5 - height / 2) * step);
  return Math.fround(Math.sqrt(Math.fround(Math.fround(x * x) + Math.fround(y * y))));
}

/**
 * The field a preset's warps sample (params.py's Warp): its reach (grid units) and side (points), from the
 * parameter tracks over the whole video, for panels of `width` x `height`; null when nothing warps.
 */
export function fieldGeometry(values, frames, width, height) {
  const moving = ['zoom', 'rotation', 'pan_x', 'pan_y', 'kaleido', 'ripple'].some((name) => name in values);
  if (!moving) return null;
  let zoomMin = Infinity;
  let zoomMax = -Infinity;
  let ripple = 0;
  let pan = 0;
  for (let k = 0; k < frames; k++) {
    const zoom = Math.max('zoom' in values ? values.zoom[k] : 1, 1e-3);
    zoomMin = Math.min(zoomMin, zoom);
    zoomMax = Math.max(zoomMax, zoom);
    ripple = Math.max(ripple, Math.abs('ripple' in values ? values.ripple[k] : 0));
    const x = 'pan_x' in values ? values.pan_x[k] : 0;
    const y = 'pan_y' in values ? values.pan_y[k] : 0;
    pan = Math.max(pan, Math.hypot(x, y));
  }
  const reach = (cornerRadius(width, height) + ripple + pan) / zoomMin;
  const density = Math.min(width, height) / 2 * zoomMax;
  const side = Math.ceil(2 * reach * density);
  return { reach, side, mode: side * side <= MAX_WARP_FIELD ? FIELD : EXACT };
}

/** A network on the GPU: its weights, its programs, and its coordinate terms for the current grid. */
export class Network {
  constructor(gl, packed) {
    this.gl = gl;
    this.net = packed;
    this.weights = floatTexture(gl, packed.width, packed.rows, packed.data);
    this.draws = Math.min(gl.getParameter(gl.MAX_DRAW_BUFFERS), 8, packed.h4);
    const stride = 4 * packed.h4 + 1;
    this.blocks = packed.h4 * stride * 16 <= gl.getParameter(gl.MAX_UNIFORM_BLOCK_SIZE)
      && packed.layers <= gl.getParameter(gl.MAX_FRAGMENT_UNIFORM_BLOCKS) - 1;
    this.buffers = [];
    if (this.blocks) {
      for (let l = 0; l < packed.layers; l++) {  // layer l's rows of the texture, as its uniform block
        const rows = l < packed.layers - 1 ? packed.h4 : 1;
        const block = new Float32Array(rows * stride * 4);
        for (let j = 0; j < rows; j++) {
          const start = ((packed.h4 + 2 + l * packed.h4 + j) * packed.width) * 4;
          block.set(packed.data.subarray(start, start + stride * 4), j * stride * 4);
        }
        const buffer = gl.createBuffer();
        gl.bindBuffer(gl.UNIFORM_BUFFER, buffer);
        gl.bufferData(gl.UNIFORM_BUFFER, block, gl.STATIC_DRAW);
        this.buffers.push(buffer);
      }
      gl.bindBuffer(gl.UNIFORM_BUFFER, null);
    }
    this.programs = {};
    this.terms = null;
    this.termsKey = null;
    this.framebuffer = gl.createFramebuffer();
  }

  /** The frame pass of `mode`, compiled once. */
  frameProgram(mode) {
    if (!(mode in this.programs)) {
      const made = program(this.gl, FULL_SCREEN, frameSource(this.net, mode, this.blocks));
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
   * own pixels), unless they are already there. */
  prepareTerms(width, height, reach) {
    const key = `${width}x${height}@${reach}`;
    if (this.termsKey === key) return;
    const gl = this.gl;
    if (this.terms) gl.deleteTexture(this.terms);
    this.terms = null;
    this.termsKey = null;
    this.terms = floatLayers(gl, width, height, this.net.h4);
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
