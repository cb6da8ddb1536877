// Small WebGL2 helpers: the context, programs and float textures. Nothing here knows about CPPNs.

/** An error the page shows as it is: the browser lacks something the player needs. */
export class Unsupported extends Error {}

/** The canvas's WebGL2 context as the player draws into it (no alpha, depth or antialiasing; the drawing kept for
 * snapshots), with float render targets; throws {@link Unsupported} where the browser has either not. */
export function webgl2(canvas) {
  const gl = canvas.getContext('webgl2', { alpha: false, antialias: false, depth: false, stencil: false,
    preserveDrawingBuffer: true, powerPreference: 'high-performance' });
  if (!gl) {
    throw new Unsupported('This player needs WebGL2, which this browser does not offer (or has turned off). Any '
      + 'recent Chrome, Edge, Firefox or Safari has it; check that hardware acceleration is on.');
  }
  if (!gl.getExtension('EXT_color_buffer_float')) {
    throw new Unsupported('This browser\'s WebGL2 cannot render to float textures (EXT_color_buffer_float), which '
      + 'the player needs.');
  }
  return gl;
}

/** A linked program from vertex and fragment sources; a compile error names the stage and the driver's log. */
export function program(gl, vertexSource, fragmentSource) {
  const made = gl.createProgram();
  for (const [type, source] of [[gl.VERTEX_SHADER, vertexSource], [gl.FRAGMENT_SHADER, fragmentSource]]) {
    const shader = gl.createShader(type);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
      const stage = type === gl.VERTEX_SHADER ? 'vertex' : 'fragment';
      throw new Error(`the ${stage} shader does not compile: ${gl.getShaderInfoLog(shader)}`);
    }
    gl.attachShader(made, shader);
  }
  gl.linkProgram(made);
  if (!gl.getProgramParameter(made, gl.LINK_STATUS)) {
    throw new Error(`the shaders do not link: ${gl.getProgramInfoLog(made)}`);
  }
  return made;
}

/** A full-screen triangle: the vertex shader every pass uses (no buffers: positions from gl_VertexID). */
export const FULL_SCREEN = `#version 300 es
void main() {
  vec2 corner = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}`;

function parameters(gl, target, filter) {
  gl.texParameteri(target, gl.TEXTURE_MIN_FILTER, filter);
  gl.texParameteri(target, gl.TEXTURE_MAG_FILTER, filter);
  gl.texParameteri(target, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(target, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
}

/** An RGBA32F 2D texture of `width` x `height` texels from `data` (Float32Array, 4 floats a texel), read with
 * texelFetch. */
export function floatTexture(gl, width, height, data) {
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  parameters(gl, gl.TEXTURE_2D, gl.NEAREST);
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA32F, width, height, 0, gl.RGBA, gl.FLOAT, data);
  return texture;
}

/** An RGBA32F 2D texture array of `layers` layers, to render into (needs EXT_color_buffer_float). Throws when the
 * GPU cannot hold it. */
export function floatLayers(gl, width, height, layers) {
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D_ARRAY, texture);
  parameters(gl, gl.TEXTURE_2D_ARRAY, gl.NEAREST);
  gl.texStorage3D(gl.TEXTURE_2D_ARRAY, 1, gl.RGBA32F, width, height, layers);
  const error = gl.getError();
  if (error !== gl.NO_ERROR) {
    gl.deleteTexture(texture);
    throw new Error(`the GPU cannot hold a ${width}x${height}x${layers} float texture (GL error ${error})`);
  }
  return texture;
}

/** An RGBA8 texture from an image (top row first), sampled linearly. */
export function imageTexture(gl, image) {
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  parameters(gl, gl.TEXTURE_2D, gl.LINEAR);
  gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
  gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, image);
  return texture;
}
