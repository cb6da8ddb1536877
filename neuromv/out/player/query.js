// The page address's query (docs/player.md): index.html?frame=K draws frame K paused; ?preset=NAME and ?scale=S
// start with that preset and scale.

/** {preset, scale, frame} from `search` (location.search), each null when it is not given. */
export function readQuery(search) {
  const wanted = new URLSearchParams(search);
  return { preset: wanted.get('preset'), scale: wanted.get('scale'),
    frame: wanted.has('frame') ? Number(wanted.get('frame')) : null };
}

/** Apply `query` to the started player before its first frame: through `api` (api.js), the clock through `view`. */
export async function applyQuery(api, view, query) {
  if (query.preset !== null) api.usePreset(query.preset);
  if (query.scale !== null) api.setScale(query.scale);
  if (query.frame !== null) await view.clock.seek(view.middle(query.frame));
}
