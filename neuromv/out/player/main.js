// The page: loads the export, draws frame floor(t * fps) of the audio clock t at every animation frame (view.js),
// wires the controls (controls.js) and offers the automation interface window.neuromv (api.js; docs/player.md).

import { connect, createApi } from './api.js';
import { AudioClock } from './clock.js';
import { $, enableControls, showError, showRate, showTime, wireControls } from './controls.js';
import { image, load } from './data.js';
import { Frames } from './frames.js';
import { Unsupported, webgl2 } from './gl.js';
import { applyQuery, readQuery } from './query.js';
import { View } from './view.js';

const api = createApi();
window.neuromv = api;

async function start() {
  const canvas = $('picture');
  const gl = webgl2(canvas);
  const data = await load('.');
  const { header } = data;
  const overlay = header.labels ? await image(header.labels) : null;
  const frames = new Frames(gl, data, overlay);
  const clock = await AudioClock.load(header.audio, header.duration);
  const view = new View(gl, canvas, frames, clock);
  connect(api, view);
  wireControls(api, clock, header, frames.presets);
  view.onRate = showRate;
  view.onTick = (t) => showTime(t, header.duration, clock.playing);
  await applyQuery(api, view, readQuery(location.search));
  view.showNow();
  view.finish();  // ready means drawn: the programs compiled
  enableControls();
  api.ready = true;
  view.run();
}

start().catch((error) => {
  api.error = error instanceof Unsupported ? error.message : `The player cannot start: ${error.message}`;
  showError(api.error);
});
