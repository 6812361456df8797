// Where a model's files come from. A source is one of:
//   'squeezenet@1'      a model name and version range, resolved against the CDN base's index.json (the
//                       one `webnets publish` writes): the highest matching version, its files and their
//                       SRI hashes;
//   'https://.../model.json' (or a relative URL): an export served anywhere; its files are read from
//                       model.json's weight manifest, meta.json beside it when there is one;
//   files               what a user picked (<input type=file multiple>): File objects, or an object
//                       {'model.json': ..., 'group1-shard1of1.bin': ..., 'meta.json': ...} of
//                       ArrayBuffers, typed arrays, Blobs or strings.
// A plan is {kind, name, version, base, dir, files: {file: {bytes, integrity}} | null, given?}.
import {fail} from './errors.js';
import {highest, isModelName, parseName} from './versions.js';

// Scripts a model names in meta.json `requires` that the package itself provides.
export const BUILT_IN_SCRIPTS = new Set(['webnets-layers.js', 'webnets-tokenizers.js']);
// Files of a published version a loader never needs: the file:// form of the same model.
const NOT_NEEDED = new Set(['model.js']);

const trimSlash = (url) => String(url).replace(/\/+$/, '');

export async function fetchIndex(base, fetchFn) {
  const url = `${base}/index.json`;
  const response = await fetchFn(url, {cache: 'no-cache'});
  if (!response.ok) fail('http', `${url}: HTTP ${response.status}.`);
  const index = await response.json();
  if (!index || !Array.isArray(index.models)) {
    fail('bad-index', `${url} is not a webnets CDN index (no "models" list). Fix: point {base} at the URL that `
      + '`webnets publish` published to.');
  }
  return index;
}

// The plan of a published version, from the index's entry for `name`.
export function planFromIndex(index, base, name, range, source) {
  const entry = index.models.find((m) => m && m.name === name);
  if (!entry || !entry.versions) {
    const names = index.models.map((m) => m && m.name).filter(Boolean);
    fail('unknown-model', `webnets.load('${source}'): ${base}/index.json has no model called '${name}' `
      + `(it has: ${names.join(', ') || 'none'}).`);
  }
  const version = highest(Object.keys(entry.versions), range);
  if (!version) {
    fail('no-version', `webnets.load('${source}'): no published version of ${name} matches '${range}' `
      + `(published: ${Object.keys(entry.versions).join(', ')}).`);
  }
  return versionPlan(base, name, version, entry.versions[version].files);
}

export function versionPlan(base, name, version, records) {
  const files = {};
  for (const [file, record] of Object.entries(records || {})) {
    if (!NOT_NEEDED.has(file) && !BUILT_IN_SCRIPTS.has(file)) files[file] = record;
  }
  if (!files['model.json']) fail('bad-index', `${name} ${version} in ${base}/index.json lists no model.json.`);
  return {kind: 'cdn', name, version, base, dir: `${base}/${name}/${version}`, files, allFiles: records};
}

// The cached version of `name` that `range` allows (the offline path), or null.
export function planFromRecord(record, base, name, range) {
  if (!record) return null;
  const version = highest(Object.keys(record.versions || {}), range);
  return version ? {...versionPlan(base, name, version, record.versions[version].files), fromCache: true} : null;
}

export function describeSource(source) {
  if (isModelName(source)) return {kind: 'name', ...parseName(source)};
  if (typeof source === 'string') return {kind: 'url', url: source};
  if (source && typeof source === 'object') return {kind: 'files'};
  return fail('bad-source', `webnets.load(${JSON.stringify(source)}): the source must be a model name with a `
    + "version range ('squeezenet@1'), a model.json URL, or the model's files.");
}

// A model.json URL's plan: its directory is both the cache's base (parent) and name (last segment), so
// an export at https://host/models/squeezenet/ is cached as 'squeezenet'.
export function urlPlan(url) {
  const absolute = new URL(url, typeof location !== 'undefined' ? location.href : undefined).href;
  const dir = trimSlash(absolute.slice(0, absolute.lastIndexOf('/')));
  const cut = dir.lastIndexOf('/');
  return {kind: 'url', name: dir.slice(cut + 1), version: 'unversioned', base: dir.slice(0, cut), dir,
          modelFile: absolute.slice(absolute.lastIndexOf('/') + 1), files: null};
}

// The weight files model.json names, in manifest order, as names relative to its directory.
export function shardNames(modelJson) {
  const names = [];
  for (const group of modelJson.weightsManifest || []) {
    for (const path of group.paths || []) {
      const name = String(path).replace(/^\.\//, '');
      if (name.split('/').includes('..') || name.startsWith('/') || /^[a-z]+:/i.test(name)) {
        fail('bad-model', `model.json names the weight file '${path}', outside its directory; webnets loads only `
          + 'files beside model.json.');
      }
      names.push(name);
    }
  }
  return names;
}

// {file: Uint8Array} from what a user picked.
export async function readGivenFiles(given) {
  const entries = typeof FileList !== 'undefined' && given instanceof FileList ? [...given]
    : Array.isArray(given) ? given : null;
  const out = {};
  const bytesOf = async (value) => {
    if (value instanceof Uint8Array) return value;
    if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    if (typeof value === 'string') return new TextEncoder().encode(value);
    if (value && typeof value.arrayBuffer === 'function') return new Uint8Array(await value.arrayBuffer());
    if (value && typeof value === 'object') return new TextEncoder().encode(JSON.stringify(value));
    return fail('bad-source', 'webnets.load(files): each file must be a File, Blob, ArrayBuffer, typed array or string.');
  };
  if (entries) {
    for (const file of entries) {
      if (!file || typeof file.name !== 'string') fail('bad-source', 'webnets.load(files): a File in the list has no name.');
      out[file.name] = await bytesOf(file);
    }
  } else {
    for (const [name, value] of Object.entries(given)) out[name] = await bytesOf(value);
  }
  if (!out['model.json']) {
    fail('bad-source', `webnets.load(files): no model.json among the files (${Object.keys(out).join(', ') || 'none'}). `
      + 'Pick model.json together with its weight files and meta.json.');
  }
  return out;
}
