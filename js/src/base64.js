// Base64 <-> bytes in browsers (atob/btoa) and in Node without them (Buffer): embedded binaries (the
// WebAssembly kernels, a SentencePiece charsmap) and SRI digests.
export function bytesFromBase64(text) {
  if (typeof atob === 'function') {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function base64FromBytes(bytes) {
  if (typeof btoa !== 'function') return Buffer.from(bytes).toString('base64');
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
