// The page: loads the export, draws frame floor(t * fps) of the audio clock t at every animation frame, wires the
// controls, and offers the automation interface window.neuromv (docs/player.md).

import { AudioClock } from './clock.js';
import { image, load } from './data.js';
import { Frames } from './frames.js';

const $ = (id) => document.getElementById(id);
const TRACE = 4096;  // animation frames kept in neuromv.trace while playing

/** The automation interface: the tests and scripts drive the player through it. */
const api = {
  ready: false, error: null, audio: false, frame: -1, fps: 0, frames: 0, rate: 0, size: [0, 0], presets: [],
  preset: null, trace: [],
};
window.neuromv = api;

function fail(message) {
  api.error = message;
  $('message').textContent = message;
  $('message').hidden = false;
  $('picture').hidden = true;
}

function clockText(t) {
  const s = Math.floor(t);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

async function start() {
  const canvas = $('picture');
  const gl = canvas.getContext('webgl2', { alpha: false, antialias: false, depth: false, stencil: false,
    preserveDrawingBuffer: true, powerPreference: 'high-performance' });
  if (!gl) {
    fail('This player needs WebGL2, which this browser does not offer (or has turned off). Any recent Chrome, '
      + 'Edge, Firefox or Safari has it; check that hardware acceleration is on.');
    return;
  }
  if (!gl.getExtension('EXT_color_buffer_float')) {
    fail('This browser\'s WebGL2 cannot render to float textures (EXT_color_buffer_float), which the player needs.');
    return;
  }
  const data = await load('.');
  const { header } = data;
  const overlay = header.labels ? await image(header.labels) : null;
  const frames = new Frames(gl, data, overlay);
  const clock = await AudioClock.load(header.audio, header.duration);
  const frameAt = (t) => Math.min(frames.count - 1, Math.max(0, Math.floor(t * frames.fps)));

  let shown = -1;
  let dirty = true;
  const drawn = [];  // performance.now() of recent draws while playing, for the frame rate

  function resize() {
    const [w, h] = frames.size;
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
  }

  function show(k) {
    resize();
    shown = frames.draw(k);
    dirty = false;
    api.frame = shown;
  }

  function tick() {
    const t = clock.time;
    const k = frameAt(t);
    if (k !== shown || dirty) {
      show(k);
      if (clock.playing) {
        const now = performance.now();
        drawn.push(now);
        while (drawn.length && now - drawn[0] > 1000) drawn.shift();
        api.rate = drawn.length > 1 ? (drawn.length - 1) / ((now - drawn[0]) / 1000) : 0;
        $('rate').textContent = `${api.rate.toFixed(1)} fps`;
      }
    }
    if (clock.playing) {  // this animation frame: the audio clock, the frame it shows, the page's clock
      api.trace.push([t, shown, performance.now() / 1000]);
      if (api.trace.length > TRACE) api.trace.shift();
    }
    const text = `${clockText(t)} / ${clockText(header.duration)}`;
    if (text !== $('clock').textContent) $('clock').textContent = text;
    if (Number($('seek').value) !== t) $('seek').value = String(t);
    const label = clock.playing ? 'pause' : 'play';
    if ($('play').textContent !== label) $('play').textContent = label;
    requestAnimationFrame(tick);
  }

  Object.defineProperty(api, 'time', { get: () => clock.time, enumerable: true });  // the clock itself, always
  api.play = () => clock.play();
  api.pause = () => { clock.pause(); dirty = true; };
  api.seek = async (t) => { await clock.seek(t); dirty = true; show(frameAt(clock.time)); };
  // frame k's middle, so that floor(time * fps) is k whatever the rounding
  const pixel = new Uint8Array(4);
  const middle = (k) => (Math.min(Math.max(0, Math.floor(k)), frames.count - 1) + 0.5) / frames.fps;
  api.draw = async (k) => {
    clock.pause();
    await clock.seek(middle(k));
    show(frameAt(clock.time));
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);  // waits for the frame (gl.finish may not)
    return shown;
  };
  api.snapshot = () => {
    // the frame on screen at the export's size, whatever the resolution scale
    const scale = frames.scale;
    if (scale !== 1) { frames.scale = 1; show(shown); }
    gl.finish();
    const url = canvas.toDataURL('image/png');
    if (scale !== 1) { frames.scale = scale; show(shown); }
    return url;
  };
  api.usePreset = (name) => {
    frames.use(name);
    api.preset = name;
    $('preset').value = name;
    dirty = true;
    if (!clock.playing) show(shown < 0 ? 0 : shown);
  };
  api.setScale = (scale) => { frames.scale = Number(scale); $('scale').value = String(scale); dirty = true; };
  api.params = (k) => frames.paramsAt(k);
  api.tracks = () => Object.fromEntries(Object.entries(frames.values).map(([name, v]) => [name, Array.from(v)]));
  api.field = () => frames.field;

  $('seek').max = String(header.duration);
  $('seek').addEventListener('input', (event) => api.seek(Number(event.target.value)));
  $('play').addEventListener('click', () => (clock.playing ? api.pause() : api.play()));
  $('fullscreen').addEventListener('click', () => $('stage').requestFullscreen());
  for (const preset of frames.presets) $('preset').add(new Option(preset.name, preset.name));
  $('preset').value = header.preset;
  $('preset').addEventListener('change', (event) => api.usePreset(event.target.value));
  $('scale').addEventListener('change', (event) => api.setScale(event.target.value));
  document.addEventListener('keydown', (event) => {
    if (event.target instanceof HTMLSelectElement || event.target instanceof HTMLInputElement) return;
    if (event.code === 'Space') { event.preventDefault(); $('play').click(); }
    if (event.key === 'f') {
      if (document.fullscreenElement) document.exitFullscreen(); else $('stage').requestFullscreen();
    }
  });
  clock.onended = () => { dirty = true; };

  api.audio = clock.context !== null;  // the song plays through Web Audio (else the picture plays silently)
  api.frames = frames.count;
  api.fps = frames.fps;
  api.presets = frames.presets.map((p) => p.name);
  api.preset = header.preset;
  api.size = [...frames.size];
  const wanted = new URLSearchParams(location.search);
  if (wanted.has('preset')) api.usePreset(wanted.get('preset'));
  if (wanted.has('scale')) api.setScale(wanted.get('scale'));
  if (wanted.has('frame')) await clock.seek(middle(Number(wanted.get('frame'))));
  show(frameAt(clock.time));
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);  // ready means drawn: the programs compiled
  $('play').disabled = false;
  $('seek').disabled = false;
  api.ready = true;
  requestAnimationFrame(tick);
}

start().catch((error) => fail(`The player cannot start: ${error.message}`));
