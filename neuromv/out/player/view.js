// The picture: frame floor(t * fps) of the audio clock t (clamped to the video), drawn into the canvas at every
// animation frame that shows a new one. Nothing accumulates from tick to tick, so a pause, a seek or a slow GPU
// cannot put the picture out of step (docs/player.md, Sync).

/** Animation frames kept in the trace while playing. */
const TRACE = 4096;

export class View {
  /** `gl`: the canvas's context; `frames`: the export's frames (frames.js); `clock`: the song's (clock.js). */
  constructor(gl, canvas, frames, clock) {
    this.gl = gl;
    this.canvas = canvas;
    this.frames = frames;
    this.clock = clock;
    this.shown = -1;       // the frame on the canvas
    this.dirty = true;     // whether it must be drawn again (a preset, a scale, a pause)
    this.drawn = [];       // performance.now() of recent draws while playing, for the frame rate
    this.rate = 0;         // frames drawn per second while playing
    this.trace = [];       // while playing, per animation frame: the audio clock, the frame shown, the page's clock
    this.onRate = null;    // (rate) => ..., when the frame rate is measured again
    this.onTick = null;    // (t) => ..., at the end of every animation frame
    this.pixel = new Uint8Array(4);
    clock.onended = () => { this.dirty = true; };
  }

  /** The frame that time `t` (s) shows. */
  frameAt(t) {
    return Math.min(this.frames.count - 1, Math.max(0, Math.floor(t * this.frames.fps)));
  }

  /** Frame k's middle (s), so that floor(time * fps) is k whatever the rounding. */
  middle(k) {
    return (Math.min(Math.max(0, Math.floor(k)), this.frames.count - 1) + 0.5) / this.frames.fps;
  }

  /** Draw frame k, the canvas at the frames' current size. */
  show(k) {
    const [w, h] = this.frames.size;
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.shown = this.frames.draw(k);
    this.dirty = false;
  }

  /** Draw the clock's frame now. */
  showNow() {
    this.show(this.frameAt(this.clock.time));
  }

  /** Wait until the frame is drawn (gl.finish may not): a one-pixel read. */
  finish() {
    this.gl.readPixels(0, 0, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, this.pixel);
  }

  /** One animation frame: the clock's frame if it is not on the canvas, the rate and the trace while playing. */
  tick() {
    const t = this.clock.time;
    const k = this.frameAt(t);
    if (k !== this.shown || this.dirty) {
      this.show(k);
      if (this.clock.playing) this.count(performance.now());
    }
    if (this.clock.playing) {
      this.trace.push([t, this.shown, performance.now() / 1000]);
      if (this.trace.length > TRACE) this.trace.shift();
    }
    if (this.onTick) this.onTick(t);
    requestAnimationFrame(() => this.tick());
  }

  /** Start the animation frames. */
  run() {
    requestAnimationFrame(() => this.tick());
  }

  /** A draw at `now` (ms) while playing: the frames drawn per second over the last second. */
  count(now) {
    const drawn = this.drawn;
    drawn.push(now);
    while (drawn.length && now - drawn[0] > 1000) drawn.shift();
    this.rate = drawn.length > 1 ? (drawn.length - 1) / ((now - drawn[0]) / 1000) : 0;
    if (this.onRate) this.onRate(this.rate);
  }

  pause() {
    this.clock.pause();
    this.dirty = true;
  }

  /** Move the clock to `t` s and draw its frame. */
  async seek(t) {
    await this.clock.seek(t);
    this.dirty = true;
    this.showNow();
  }

  /** Pause, move to frame k and draw it; resolves with the frame shown once it is drawn. */
  async draw(k) {
    this.clock.pause();
    await this.clock.seek(this.middle(k));
    this.showNow();
    this.finish();
    return this.shown;
  }

  /** A PNG data URL of the frame on the canvas at the export's size, whatever the resolution scale. */
  snapshot() {
    const scale = this.frames.scale;
    if (scale !== 1) { this.frames.scale = 1; this.show(this.shown); }
    this.gl.finish();
    const url = this.canvas.toDataURL('image/png');
    if (scale !== 1) { this.frames.scale = scale; this.show(this.shown); }
    return url;
  }

  /** Switch to the exported preset `name`, and draw it now when paused. */
  usePreset(name) {
    this.frames.use(name);
    this.dirty = true;
    if (!this.clock.playing) this.show(this.shown < 0 ? 0 : this.shown);
  }

  /** Draw at `scale` times the export's size from the next animation frame on. */
  setScale(scale) {
    this.frames.scale = Number(scale);
    this.dirty = true;
  }
}
