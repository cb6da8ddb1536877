// A network's weights on the GPU: packed into one RGBA32F texture, 4 output units per row (uniform arrays are too
// small on many GPUs; the shaders read it with texelFetch), and each layer's rows also in a uniform block when
// they fit (shader.js's denseLayers reads them from there).
//
// The texture's rows: 0..h4-1 the first layer's coordinate weights (x, y, r, bias, the Fourier sines, the cosines),
// h4 and h4+1 the Fourier frequencies, then each hidden layer's h4 rows (column 4 h4: the biases), then the output
// layer's row. A network that holds several pictures (a sequence of covers) has a coordinate half per picture: the
// first h4 rows hold the one the frame shows, or a mix of them (coordinateRows).

import { floatTexture } from './gl.js';

/** Picture `p`'s coordinate weights and biases (`coords` for 0, `more_coords.{p - 1}` after it). */
function pictureArrays(arrays, p) {
  const name = p === 0 ? 'coords' : `more_coords.${p - 1}`;
  return { weight: arrays[`${name}.weight`], bias: arrays[`${name}.bias`] };
}

/** The first layer's coordinate weights and biases (of picture `p`), and the Fourier frequencies, into `put`'s
 * rows. */
function packCoordinates(put, arrays, { hidden, fourier }, h4, k4, p = 0) {
  const { weight: coords, bias } = pictureArrays(arrays, p);
  const inputs = 3 + 2 * fourier;
  for (let o = 0; o < hidden; o++) {
    const row = Math.floor(o / 4);
    const unit = o % 4;
    for (let c = 0; c < 3; c++) put(row, c, unit, coords[o * inputs + c]);
    put(row, 3, unit, bias[o]);
    for (let k = 0; k < fourier; k++) {
      put(row, 4 + k, unit, coords[o * inputs + 3 + k]);
      put(row, 4 + 4 * k4 + k, unit, coords[o * inputs + 3 + fourier + k]);
    }
  }
  for (let k = 0; k < fourier; k++) {
    put(h4, Math.floor(k / 4), k % 4, arrays.frequencies[2 * k]);
    put(h4 + 1, Math.floor(k / 4), k % 4, arrays.frequencies[2 * k + 1]);
  }
}

/** The hidden layers' and the output layer's weights and biases into `put`'s rows. */
function packLayers(put, arrays, { hidden, layers }, h4) {
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
}

/**
 * One network's weights packed as the texture's texels (see above): `arrays` holds the checkpoint's tensors as
 * Float32Arrays ('coords.weight' [hidden, 3 + 2K], 'coords.bias', 'frequencies' [K, 2], 'hidden.L.weight',
 * 'hidden.L.bias', 'out.weight' [3, hidden], 'out.bias'). Returns the texels and the sizes the shaders are
 * generated from.
 */
export function packWeights(config, arrays) {
  const { hidden, layers, fourier } = config;
  const h4 = Math.ceil(hidden / 4);
  const k4 = Math.ceil(fourier / 4);
  const width = Math.max(4 + 8 * k4, 4 * h4 + 1, k4, 1);
  const rows = h4 + 2 + (layers - 1) * h4 + 1;
  const data = new Float32Array(width * rows * 4);
  const put = (row, column, unit, value) => { data[(row * width + column) * 4 + unit] = value; };
  packCoordinates(put, arrays, config, h4, k4);
  packLayers(put, arrays, config, h4);
  const pictures = [data.slice(0, width * h4 * 4)];  // each picture's first h4 rows
  for (let p = 1; p < (config.pictures || 1); p++) {
    const rows4 = new Float32Array(width * h4 * 4);
    const putRow = (row, column, unit, value) => { if (row < h4) rows4[(row * width + column) * 4 + unit] = value; };
    packCoordinates(putRow, arrays, config, h4, k4, p);
    pictures.push(rows4);
  }
  return { width, rows, data, h4, k4, hidden, layers, fourier, pictures };
}

/** The first h4 rows for a frame with `shares` of the pictures (null: picture 0): a picture's own, or the
 * pictures' rows mixed in its shares (the coordinate half is linear in them). */
export function coordinateRows(packed, shares) {
  if (!shares) return packed.pictures[0];
  const whole = shares.indexOf(1);
  if (whole >= 0) return packed.pictures[whole];
  const out = new Float32Array(packed.pictures[0].length);
  shares.forEach((share, p) => {
    if (share <= 0) return;
    const rows = packed.pictures[p];
    for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i] + Math.fround(share * rows[i]));
  });
  return out;
}

/** Whether every layer's weights fit a uniform block (one binding a layer) on this GPU. */
export function fitBlocks(gl, packed) {
  const stride = 4 * packed.h4 + 1;
  return packed.h4 * stride * 16 <= gl.getParameter(gl.MAX_UNIFORM_BLOCK_SIZE)
    && packed.layers <= gl.getParameter(gl.MAX_FRAGMENT_UNIFORM_BLOCKS) - 1;
}

/** `packed` weights on the GPU: {texture, buffers}, the uniform buffers (one a layer: its rows of the texture)
 * only when `blocks`. */
export function uploadWeights(gl, packed, blocks) {
  const texture = floatTexture(gl, packed.width, packed.rows, packed.data);
  const buffers = [];
  if (!blocks) return { texture, buffers };
  const stride = 4 * packed.h4 + 1;
  for (let l = 0; l < packed.layers; l++) {
    const rows = l < packed.layers - 1 ? packed.h4 : 1;
    const block = new Float32Array(rows * stride * 4);
    for (let j = 0; j < rows; j++) {
      const start = ((packed.h4 + 2 + l * packed.h4 + j) * packed.width) * 4;
      block.set(packed.data.subarray(start, start + stride * 4), j * stride * 4);
    }
    const buffer = gl.createBuffer();
    gl.bindBuffer(gl.UNIFORM_BUFFER, buffer);
    gl.bufferData(gl.UNIFORM_BUFFER, block, gl.STATIC_DRAW);
    buffers.push(buffer);
  }
  gl.bindBuffer(gl.UNIFORM_BUFFER, null);
  return { texture, buffers };
}
