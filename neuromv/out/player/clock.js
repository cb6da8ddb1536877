// The audio clock: the song decoded into the Web Audio API (no Range requests needed, so any static server will
// do), and the position being heard now, from the context's output timestamp where the browser gives one.

/** The song's position in seconds, played through an AudioContext; silent (a performance.now() clock) when the
 * browser cannot decode or play it. */
export class AudioClock {
  constructor(context, buffer, duration) {
    this.context = context;
    this.buffer = buffer;
    this.duration = duration;
    this.offset = 0;        // the position when paused, or at `started`
    this.started = null;    // the output time at which `offset` was heard, while playing
    this.source = null;
    this.onended = null;
  }

  /** Fetch and decode `url`; `duration`: the video's length (the clock stops there). */
  static async load(url, duration) {
    const Context = globalThis.AudioContext || globalThis.webkitAudioContext;
    if (!Context) return new AudioClock(null, null, duration);
    const context = new Context();
    try {
      const bytes = await fetch(url).then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.arrayBuffer();
      });
      return new AudioClock(context, await context.decodeAudioData(bytes), duration);
    } catch (error) {
      console.warn(`neuromv: the song cannot be played here (${error.message}); the picture plays silently`);
      return new AudioClock(null, null, duration);
    }
  }

  get playing() { return this.started !== null; }

  /** Seconds since the song's start, of the sound leaving the speakers now. */
  now() {
    if (!this.context) return performance.now() / 1000;
    const stamp = this.context.getOutputTimestamp ? this.context.getOutputTimestamp() : null;
    if (stamp && stamp.contextTime > 0 && stamp.performanceTime > 0) {
      return stamp.contextTime + (performance.now() - stamp.performanceTime) / 1000;
    }
    return this.context.currentTime - (this.context.outputLatency || this.context.baseLatency || 0);
  }

  /** The song's position (s), in [0, duration]. */
  get time() {
    if (!this.playing) return this.offset;
    const t = this.offset + (this.now() - this.started);
    if (t >= this.duration) {
      this.pause();
      this.offset = this.duration;
      if (this.onended) this.onended();
      return this.duration;
    }
    return Math.max(0, t);
  }

  async play() {
    if (this.playing) return;
    if (this.offset >= this.duration) this.offset = 0;
    if (this.context) {
      await this.context.resume();
      this.source = this.context.createBufferSource();
      this.source.buffer = this.buffer;
      this.source.connect(this.context.destination);
      const when = this.context.currentTime;
      this.source.start(when, this.offset);
      // `when` in context time is heard at `when` on the output clock that now() reads
      this.started = when;
    } else {
      this.started = this.now();
    }
  }

  pause() {
    if (!this.playing) return;
    const t = this.offset + (this.now() - this.started);
    this.stopSource();
    this.started = null;
    this.offset = Math.min(Math.max(0, t), this.duration);
  }

  seek(t) {
    const was = this.playing;
    if (was) { this.stopSource(); this.started = null; }
    this.offset = Math.min(Math.max(0, t), this.duration);
    if (was) return this.play();
    return Promise.resolve();
  }

  stopSource() {
    if (this.source) {
      this.source.onended = null;
      try { this.source.stop(); } catch (error) { /* already stopped */ }
      this.source.disconnect();
      this.source = null;
    }
  }
}
