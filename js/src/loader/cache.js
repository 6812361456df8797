// The Cache API store of downloaded models, keyed by version: a reload (network off included) reads a
// model from here. Each model of a base URL has a record (its cached versions, each with its files' SRI
// hashes and sizes), kept under a synthetic URL beside the model's files; the files themselves are
// stored under their own URLs (which hold the version: <base>/<name>/<version>/<file>). Storing a
// version evicts the others of that model: a page pins one version at a time. Pages without the Cache
// API (file://, an insecure origin, Node) run uncached, and the load result says so.

const STORE = 'webnets-models-v1';
const RECORD = '.webnets-cache.json';

export function cacheAvailable() {
  if (typeof caches === 'undefined' || !caches.open) {
    return 'this page has no Cache API (it needs a secure context: https:// or http://localhost)';
  }
  return null;
}

const recordUrl = (base, name) => `${base}/${name}/${RECORD}`;
const json = (value) => new Response(JSON.stringify(value), {headers: {'content-type': 'application/json'}});

async function open() {
  return caches.open(STORE);
}

// {versions: {version: {dir, files: {file: {bytes, integrity}}, stored}}} of a model, or null.
export async function readRecord(base, name) {
  const response = await (await open()).match(recordUrl(base, name));
  return response ? response.json() : null;
}

// file -> Uint8Array of a cached version, or null when any file is missing.
export async function readFiles(dir, files) {
  const cache = await open();
  const out = {};
  for (const file of files) {
    const response = await cache.match(`${dir}/${file}`);
    if (!response) return null;
    out[file] = new Uint8Array(await response.arrayBuffer());
  }
  return out;
}

// Stores a verified version and evicts the model's other versions. The files go in first and the
// record last, so a record only ever names files that are there.
export async function store(base, name, version, dir, records, bytes) {
  const cache = await open();
  for (const [file, data] of Object.entries(bytes)) {
    await cache.put(`${dir}/${file}`, new Response(data, {headers: {'content-length': String(data.length)}}));
  }
  const old = (await readRecord(base, name)) || {versions: {}};
  for (const [other, entry] of Object.entries(old.versions || {})) {
    if (other === version) continue;
    for (const file of Object.keys(entry.files)) await cache.delete(`${entry.dir}/${file}`);
  }
  const record = {name, base, versions: {[version]: {dir, files: records, stored: new Date().toISOString()}}};
  await cache.put(recordUrl(base, name), json(record));
}

export async function forget(base, name) {
  const cache = await open();
  const record = await readRecord(base, name);
  for (const entry of Object.values((record && record.versions) || {})) {
    for (const file of Object.keys(entry.files)) await cache.delete(`${entry.dir}/${file}`);
  }
  await cache.delete(recordUrl(base, name));
}

// The cached models: [{name, version, base, files, bytes, stored}].
export async function list() {
  if (cacheAvailable()) return [];
  const cache = await open();
  const rows = [];
  for (const request of await cache.keys()) {
    if (!request.url.endsWith(`/${RECORD}`)) continue;
    const record = await (await cache.match(request)).json();
    for (const [version, entry] of Object.entries(record.versions || {})) {
      const bytes = Object.values(entry.files).reduce((sum, f) => sum + (f.bytes || 0), 0);
      rows.push({name: record.name, version, base: record.base, files: Object.keys(entry.files), bytes,
                 stored: entry.stored});
    }
  }
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// Removes one model (every version) or, without a name, everything webnets cached. Returns how many
// model versions were removed.
export async function clear(name = null) {
  if (cacheAvailable()) return 0;
  const rows = await list();
  if (name == null) {
    await caches.delete(STORE);
    return rows.length;
  }
  const gone = rows.filter((row) => row.name === name);
  for (const base of new Set(gone.map((row) => row.base))) await forget(base, name);
  return gone.length;
}
