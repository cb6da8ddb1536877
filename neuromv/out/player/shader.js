// The GLSL of the CPPN's two passes, generated from a network's sizes (its packed weights: weights.js) and the
// header's constants (constants.js), evaluated per pixel exactly as neuromv/draw.py and neuromv/look/effects.py do
// on the CPU:
//
// 1. the coordinate pass: the first layer's coordinate terms W_xy (x, y, r, sin/cos of the Fourier phases) + b at a
//    grid point per fragment, into a float texture array of ceil(hidden / 4) layers;
// 2. the frame pass: each pixel's terms (fetched, sampled from the warp's field, or computed exactly: warps.js's
//    modes) plus the frame's latent term, the tanh layers, the sigmoid, the preset's colour matrix and light,
//    rounded to 8 bits with the stems' labels laid over.
//
// Every fixed piece is a constant below; only the sizes, the unrolled layers and the constants are generated.

import { glslFloat } from './constants.js';

const range = (n) => Array.from({ length: n }, (_, i) => i);

/** The precisions every pass declares. */
const PRECISION = `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;
precision highp sampler2DArray;`;

/** The shared functions: weight fetches, a stable tanh, sin/cos and atan to float32 rounding, and the first layer's
 * coordinate terms (rows 0..H4-1 of the weights: weights.js). */
const FUNCTIONS = `const float TAU = 6.283185307179586;
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

/** The shared GLSL: the network's sizes and {@link FUNCTIONS}. */
function common(net) {
  return `${PRECISION}
#define H4 ${net.h4}
#define K4 ${net.k4}
#define LAYERS ${net.layers - 1}
${FUNCTIONS}`;
}

/** The coordinate pass: `draws` layers of the terms at a grid point per fragment, the grid spanning
 * [-reach, reach] along its shorter side as coordinate_grid(width, height) * reach does. */
export function fieldSource(net, draws) {
  return `${common(net)}
uniform vec2 u_grid;
uniform float u_step;
uniform float u_reach;
uniform int u_first;
${range(draws).map((i) => `layout(location = ${i}) out vec4 o${i};`).join('\n')}
void main() {
  vec2 g = (floor(gl_FragCoord.xy) + 0.5 - u_grid / 2.0) * u_step;
  float r = sqrt(g.x * g.x + g.y * g.y);
  vec4 h[H4];
  coordTerms(g * u_reach, r * u_reach, h);
${range(draws).map((i) => `  o${i} = h[min(u_first + ${i}, H4 - 1)];`).join('\n')}
}`;
}

/** The frame pass's inputs: the terms, the latent term, the panel's place, the warp, the colours, the light and the
 * labels. */
const FRAME_UNIFORMS = `uniform sampler2DArray u_terms;
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
out vec4 o_colour;`;

/** The warp of the coordinates, as effects.py's Warp.coordinates (RIPPLE_RINGS: the header's constant). */
const WARP = `// where output pixel p (y down) samples the picture: folds, ripple, pan, turn and zoom as Warp.coordinates
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
}`;

/** The matrix of 4 output units (4 row .. 4 row + 3) by 4 inputs from `column` of layer l's weights. */
const mat4 = (l, row, column) => `mat4(L${l}(${row}, ${column}), L${l}(${row}, ${column + 1}), `
  + `L${l}(${row}, ${column + 2}), L${l}(${row}, ${column + 3}))`;

/** `L<l>(row, column)`: layer l's weights, from its uniform block (of `rows` rows) or from the weights texture. */
function layerWeights(l, rows, stride, blocks) {
  if (!blocks) return `#define L${l}(row, column) w(H4 + 2 + ${l} * H4 + (row), (column))`;
  return `layout(std140) uniform Layer${l} { vec4 layer${l}[${rows * stride}]; };
#define L${l}(row, column) layer${l}[(row) * ${stride} + (column)]`;
}

/** Hidden layer l, unrolled (every index a constant): next = tanh(W h + b), 4 units a row, the bias in column
 * 4 H4. */
function dense(l, h4) {
  const unit = (j) => `  next[${j}] = tanh4(L${l}(${j}, ${4 * h4})
    + ${range(h4).map((i) => `${mat4(l, j, 4 * i)} * h[${i}]`).join('\n    + ')});`;
  return `void dense${l}(inout vec4 h[H4]) {
  vec4 next[H4];
${range(h4).map(unit).join('\n')}
  h = next;
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
  const hidden = net.layers - 1;
  return range(net.layers).map((l) => (l < hidden
    ? `${layerWeights(l, net.h4, stride, blocks)}\n${dense(l, net.h4)}`
    : layerWeights(l, 1, stride, blocks))).join('\n');
}

/** The frame pass's coordinate terms at pixel p, by MODE (warps.js): fetched at the pixel, sampled bilinearly from
 * the warp's field (clamped at its border), or computed exactly at the warped point. */
const TERMS = `#if MODE == 0
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
#endif`;

/** The frame pass's last steps: the sigmoid, the colour matrix, the rings of light, 8 bits, the labels laid over. */
const OUTPUT = `  vec3 rgb = 1.0 / (1.0 + exp(-s.rgb));
  if (u_colour) rgb = clamp(u_matrix * rgb + u_offset, 0.0, 1.0);
  if (u_lit) {  // the rings of light, at the output pixel's own radius (effects.py's Light)
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

/** The frame pass's main: the coordinate terms, the latent term, the hidden layers and the output layer, then
 * {@link OUTPUT}. */
function frameMain(net) {
  const out = net.layers - 1;
  return `void main() {
  vec2 canvas = vec2(gl_FragCoord.x, u_top - gl_FragCoord.y);
  ivec2 pixel = ivec2(floor(canvas - u_origin));
  vec2 p = (vec2(pixel) + 0.5 - u_size / 2.0) * u_step;
  vec4 h[H4];
${TERMS}
  for (int j = 0; j < H4; j++) h[j] = tanh4(h[j] + u_latent[j]);
${range(out).map((l) => `  dense${l}(h);`).join('\n')}
  vec4 s = L${out}(0, 4 * H4);
  for (int i = 0; i < H4; i++) {
    s += mat4(L${out}(0, 4 * i), L${out}(0, 4 * i + 1), L${out}(0, 4 * i + 2),
              L${out}(0, 4 * i + 3)) * h[i];
  }
${OUTPUT}`;
}

/** The frame pass of `mode` (warps.js) for one panel: frame k from its coordinate terms, latent term, warp, colour
 * matrix and light. `constants`: the header's, for the rings of the ripple and of the light. */
export function frameSource(net, mode, blocks, constants) {
  return `${common(net)}
#define MODE ${mode}
const float RIPPLE_RINGS = ${glslFloat(constants.RIPPLE_RINGS)};
const float LIGHT_RINGS = ${glslFloat(constants.LIGHT_RINGS)};
${FRAME_UNIFORMS}

${WARP}

${denseLayers(net, blocks)}
${frameMain(net)}`;
}
