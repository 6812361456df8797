// Downloads with byte progress, shared: two loads of the same model at once (two components of a page
// asking for 'squeezenet@1') fetch each file once; each load hears the progress of the shared
// download. A download is shared while it runs and forgotten once it ends (the Cache API keeps the
// bytes, not this map).
import {fail} from './errors.js';

const running = new Map();  // url -> {promise, listeners: Set<(loaded, total) => void>}

async function fetchBytes(url, fetchFn, expectedBytes, notify) {
  let response;
  try {
    response = await fetchFn(url, {cache: 'no-cache'});
  } catch (error) {
    fail('network', `${url} could not be fetched (${(error && error.message) || error}): the network is down, `
      + 'or the server does not allow this origin (CORS).');
  }
  if (!response.ok) {
    fail('http', `${url}: HTTP ${response.status}${response.status === 404 ? ' (no such file: check the base URL '
      + 'and the model name and version)' : ''}.`);
  }
  const header = Number(response.headers.get('content-length'));
  // Content-Length is the compressed size when the server compresses: the index's byte count is the file's.
  const total = expectedBytes != null ? expectedBytes : (header > 0 ? header : null);
  if (!response.body || !response.body.getReader) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    notify(bytes.length, total == null ? bytes.length : total);
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const {done, value} = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    notify(loaded, total);
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

// Resolves to the file's bytes. onBytes(loaded, total) is called as they arrive (total: the expected
// size, or null where nothing says it).
export function download(url, {fetch: fetchFn = globalThis.fetch.bind(globalThis), bytes = null, onBytes = null} = {}) {
  let entry = running.get(url);
  if (!entry) {
    const listeners = new Set();
    const notify = (loaded, total) => {
      entry.loaded = loaded;
      entry.total = total;
      for (const listener of listeners) listener(loaded, total);
    };
    entry = {listeners, loaded: 0, total: bytes};
    entry.promise = fetchBytes(url, fetchFn, bytes, notify).finally(() => running.delete(url));
    running.set(url, entry);
  } else if (onBytes && entry.loaded) {
    onBytes(entry.loaded, entry.total);  // what the shared download has already received
  }
  if (onBytes) {
    entry.listeners.add(onBytes);
    entry.promise.then(() => entry.listeners.delete(onBytes), () => entry.listeners.delete(onBytes));
  }
  return entry.promise;
}
