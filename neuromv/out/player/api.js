// The automation interface window.neuromv (docs/player.md): the tests and scripts drive the player through it.

import { constantsOf } from './constants.js';
import { showPreset, showScale } from './controls.js';
import { MelAnalysis } from './latents.js';

/** The interface before the player has started: `ready` once the first frame is drawn, `error` a message when the
 * page cannot start. */
export function createApi() {
  return { ready: false, error: null, audio: false, frame: -1, fps: 0, frames: 0, rate: 0, size: [0, 0],
    presets: [], preset: null, trace: [] };
}

/** The started player's state, read when asked: the clock itself, the frame on screen, the rate and the trace. */
function live(api, view) {
  const getters = { time: () => view.clock.time, frame: () => view.shown, rate: () => view.rate,
    trace: () => view.trace };
  for (const [name, get] of Object.entries(getters)) {
    Object.defineProperty(api, name, { get, enumerable: true, configurable: true });
  }
}

/** Connect `api` to the started player, its `view` (view.js): the members docs/player.md lists. */
export function connect(api, view) {
  const { clock, frames } = view;
  live(api, view);
  api.play = () => clock.play();
  api.pause = () => view.pause();
  api.seek = (t) => view.seek(t);
  api.draw = (k) => view.draw(k);
  api.snapshot = () => view.snapshot();
  api.usePreset = (name) => {
    view.usePreset(name);
    api.preset = name;
    showPreset(name);
  };
  api.setScale = (scale) => {
    view.setScale(scale);
    showScale(scale);
  };
  api.params = (k) => frames.paramsAt(k);
  api.tracks = () => Object.fromEntries(Object.entries(frames.values).map(([name, v]) => [name, Array.from(v)]));
  api.field = () => frames.field;
  api.latentsOf = (samples, rate, fps = frames.header.fps) => latentsOf(frames.header, samples, rate, fps);
  api.audio = clock.context !== null;  // the song plays through Web Audio (else the picture plays silently)
  api.frames = frames.count;
  api.fps = frames.fps;
  api.presets = frames.presets.map((p) => p.name);
  api.preset = frames.header.preset;
  api.size = [...frames.size];  // at the export's scale
}

/** The mel latents the page computes for mono `samples` (an array of numbers) at `rate` Hz and `fps` ("30",
 * "30000/1001"), with the export's latent config and constants: an array of `latent_dim` numbers a frame. */
function latentsOf(header, samples, rate, fps) {
  if (!header.latents) throw new Error('this export\'s z is a features model\'s codes, not mel latents');
  const [num, den = 1] = String(fps).split('/').map(Number);
  const constants = constantsOf(header);
  const analysis = new MelAnalysis(rate, { num, den }, header.latents, constants.LATENTS);
  const flat = analysis.latents(Float32Array.from(samples));
  const dims = header.latents.latent_dim;
  return Array.from({ length: flat.length / dims }, (_, i) => Array.from(flat.subarray(i * dims, (i + 1) * dims)));
}
