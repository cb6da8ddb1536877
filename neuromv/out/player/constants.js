// The constants the player shares with the Python side. None is typed here: the export's header carries them
// (data.json's `constants`, from neuromv/out/player_constants.py, which takes each from the module that defines it),
// and the shader generator writes them into the GLSL.

/** The names the player reads (tests/test_player_constants.py checks that they are player_constants()'s keys):
 * the parameters' neutral values and which parameters warp, colour and light (neuromv/look/presets.py); the rings
 * of the ripple and of the light, the ripple's speed, saturation's luma weights and the largest warp field
 * (neuromv/look/effects.py); the mel latents' constants (neuromv/music/mel.py). */
export const NAMES = Object.freeze(['NEUTRAL', 'WARPS', 'COLOURS', 'LIGHTS', 'RIPPLE_RINGS', 'RIPPLE_SPEED',
  'LIGHT_RINGS', 'LUMA', 'MAX_WARP_FIELD', 'LATENTS']);

/** The header's constants, checked to be all there, frozen. */
export function constantsOf(header) {
  const given = header.constants;
  if (!given) throw new Error('data.json has no constants: it was exported by another neuromv; export it again');
  const missing = NAMES.filter((name) => !(name in given));
  if (missing.length) throw new Error(`data.json's constants lack ${missing.join(', ')}; export it again`);
  return Object.freeze({ ...given });
}

/** A number as a GLSL float literal (GLSL ES 3.00 converts no int to float): 2 -> "2.0", 0.25 -> "0.25". */
export function glslFloat(x) {
  if (!Number.isFinite(x)) throw new Error(`${x} is no GLSL float`);
  const text = String(x);
  return /[.e]/.test(text) ? text : `${text}.0`;
}
