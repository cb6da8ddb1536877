// The page's controls: play / pause, the position, the clock, the preset, the resolution scale, fullscreen and the
// frame rate; and the message shown instead of the picture when the player cannot start.

export const $ = (id) => document.getElementById(id);

/** Seconds as m:ss. */
function clockText(t) {
  const s = Math.floor(t);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen(); else $('stage').requestFullscreen();
}

/** Wire the controls to the automation interface `api` (api.js) for the export of `header`, whose `presets` the
 * page offers: the buttons, the position, the menus, and the keys space (play / pause) and f (fullscreen). */
export function wireControls(api, clock, header, presets) {
  $('seek').max = String(header.duration);
  $('seek').addEventListener('input', (event) => api.seek(Number(event.target.value)));
  $('play').addEventListener('click', () => (clock.playing ? api.pause() : api.play()));
  $('fullscreen').addEventListener('click', () => $('stage').requestFullscreen());
  for (const preset of presets) $('preset').add(new Option(preset.name, preset.name));
  $('preset').value = header.preset;
  $('preset').addEventListener('change', (event) => api.usePreset(event.target.value));
  $('scale').addEventListener('change', (event) => api.setScale(event.target.value));
  document.addEventListener('keydown', (event) => {
    if (event.target instanceof HTMLSelectElement || event.target instanceof HTMLInputElement) return;
    if (event.code === 'Space') { event.preventDefault(); $('play').click(); }
    if (event.key === 'f') toggleFullscreen();
  });
}

/** The clock at `t` of `duration` s, the position, and the play button's label. */
export function showTime(t, duration, playing) {
  const text = `${clockText(t)} / ${clockText(duration)}`;
  if (text !== $('clock').textContent) $('clock').textContent = text;
  if (Number($('seek').value) !== t) $('seek').value = String(t);
  const label = playing ? 'pause' : 'play';
  if ($('play').textContent !== label) $('play').textContent = label;
}

export function showRate(rate) {
  $('rate').textContent = `${rate.toFixed(1)} fps`;
}

export function showPreset(name) {
  $('preset').value = name;
}

export function showScale(scale) {
  $('scale').value = String(scale);
}

/** Play and seek, once the first frame is drawn. */
export function enableControls() {
  $('play').disabled = false;
  $('seek').disabled = false;
}

/** `message` instead of the picture. */
export function showError(message) {
  $('message').textContent = message;
  $('message').hidden = false;
  $('picture').hidden = true;
}
