// The render's sharpening (neuromv/look/sharpen.py): each colour f + amount * (f - blur(f)), the blur the export's
// taps each way with the border repeated, over the whole canvas after its panels (and labels) are drawn, as the
// MP4's frames have it.

import { FULL_SCREEN, program } from './gl.js';

/** The pass's fragment shader for a blur of `count` taps each way (an odd number: sharpen.py's TAPS). */
function source(count) {
  return `#version 300 es
precision highp float;
uniform sampler2D u_frame;  // the drawn frame, RGBA8
uniform float u_amount;
uniform float u_taps[${count}];
out vec4 colour;
void main() {
  ivec2 size = textureSize(u_frame, 0);
  ivec2 p = ivec2(gl_FragCoord.xy);
  vec3 blurred = vec3(0.0);
  for (int i = 0; i < ${count}; i++) {  // each row's blur across, then down: sharpen.py's order
    int y = clamp(p.y + i - ${(count - 1) / 2}, 0, size.y - 1);
    vec3 across = vec3(0.0);
    for (int j = 0; j < ${count}; j++) across += u_taps[j] * texelFetch(u_frame, ivec2(clamp(p.x + j - ${(count - 1) / 2}, 0, size.x - 1), y), 0).rgb;
    blurred += u_taps[i] * across;
  }
  vec3 f = texelFetch(u_frame, p, 0).rgb;
  colour = vec4(clamp(f + u_amount * (f - blurred), 0.0, 1.0), 1.0);
}`;
}

export class Sharpen {
  /** `taps`: the blur's weights (the export's, sharpen.py's TAPS). */
  constructor(gl, taps) {
    if (taps.length % 2 !== 1) throw new Error(`the sharpening's blur needs an odd number of taps, not ${taps.length}`);
    this.gl = gl;
    this.taps = Float32Array.from(taps);
    this.program = program(gl, FULL_SCREEN, source(taps.length));
    this.framebuffer = gl.createFramebuffer();
    this.texture = null;
    this.size = [0, 0];
  }

  /** The framebuffer to draw a `width` x `height` frame into before {@link apply}, bound. */
  target(width, height) {
    const gl = this.gl;
    if (this.size[0] !== width || this.size[1] !== height) {
      if (this.texture) gl.deleteTexture(this.texture);
      this.texture = gl.createTexture();
      gl.bindTexture(gl.TEXTURE_2D, this.texture);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
      gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA8, width, height);
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, this.texture, 0);
      this.size = [width, height];
    }
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
    gl.drawBuffers([gl.COLOR_ATTACHMENT0]);
    return this.framebuffer;
  }

  /** Draw the frame drawn into {@link target}, sharpened by `amount`, into the canvas. */
  apply(amount) {
    const gl = this.gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, this.size[0], this.size[1]);
    gl.useProgram(this.program);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.uniform1i(gl.getUniformLocation(this.program, 'u_frame'), 0);
    gl.uniform1f(gl.getUniformLocation(this.program, 'u_amount'), Math.fround(amount));
    gl.uniform1fv(gl.getUniformLocation(this.program, 'u_taps'), this.taps);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }
}
