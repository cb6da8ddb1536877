// The export's data: data.json (the header) and data.bin (little-endian float32 arrays the header points into).

/** The header and its arrays: {header, array(name) -> Float32Array}. Throws with the file's name on failure. */
export async function load(base = '.') {
  const header = await fetchOk(`${base}/data.json`).then((response) => response.json());
  if (header.format !== 'neuromv-web/1') {
    throw new Error(`data.json is format ${JSON.stringify(header.format)}; this player reads neuromv-web/1`);
  }
  const bytes = await fetchOk(`${base}/${header.data}`).then((response) => response.arrayBuffer());
  const array = (name) => {
    const entry = header.arrays[name];
    if (!entry) throw new Error(`data.json has no array ${JSON.stringify(name)}`);
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.offset + 4 * count > bytes.byteLength) throw new Error(`${header.data} is cut short (${name})`);
    return new Float32Array(bytes, entry.offset, count);
  };
  return { header, array };
}

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url} (HTTP ${response.status})`);
  return response;
}

/** Decode an image file of the export (the stems' labels) into an ImageBitmap, top row first. */
export async function image(url) {
  const blob = await fetchOk(url).then((response) => response.blob());
  return createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
}
