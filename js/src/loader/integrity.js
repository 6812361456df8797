// Subresource Integrity, checked by webnets itself: `publish` writes each file's SRI string
// ("sha384-<base64>") into the CDN's index.json, and every file is checked against it before it is
// used or cached. fetch()'s own `integrity` option would refuse the bytes too, but only as a bare
// network error, and it cannot check bytes read back from the Cache API.
import {base64FromBytes} from '../base64.js';
import {fail} from './errors.js';

const ALGORITHMS = {sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512'};

function subtle() {
  const crypto = globalThis.crypto;
  return crypto && crypto.subtle ? crypto.subtle : null;
}

// true when `bytes` match one of the hashes of `sri` (SRI allows several, space-separated, any of which
// may match); false when none does.
export async function matches(bytes, sri, what) {
  const digests = subtle();
  if (!digests) {
    fail('no-crypto', `${what} cannot be checked against its integrity hash: this page has no crypto.subtle `
      + '(it needs a secure context: https://, or http://localhost). Serve the page securely, or pass '
      + '{integrity: false} to load without the check.');
  }
  for (const token of String(sri).trim().split(/\s+/)) {
    const dash = token.indexOf('-');
    const algorithm = ALGORITHMS[token.slice(0, dash)];
    if (!algorithm) continue;
    const expected = token.slice(dash + 1).split('?')[0];
    if (base64FromBytes(new Uint8Array(await digests.digest(algorithm, bytes))) === expected) return true;
  }
  return false;
}
