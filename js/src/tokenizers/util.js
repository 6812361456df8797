// ---- Shared helpers ----

const utf8Encoder = new TextEncoder();
// Replaces invalid sequences as Rust's from_utf8_lossy does, and keeps a leading U+FEFF (a BOM to TextDecoder).
const utf8Decoder = new TextDecoder('utf-8', {ignoreBOM: true});

function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xD800 && c <= 0xDBFF && i + 1 < s.length) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

const isAscii = (s) => /^[\x00-\x7f]*$/.test(s);

function fail(message) {
  throw new Error(`webnets-tokenizers.js: ${message}`);
}

// A binary heap ordered by `less(a, b)` (a comes out first): the merge agendas of both BPE flavours.
class Heap {
  constructor(less) { this.less = less; this.items = []; }
  get size() { return this.items.length; }
  push(item) {
    const items = this.items, less = this.less;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(item, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }
  pop() {
    const items = this.items, less = this.less;
    const top = items[0], last = items.pop();
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && less(items[child + 1], items[child])) child++;
        if (!less(items[child], last)) break;
        items[i] = items[child];
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}

// A bounded memo: words repeat (Zipf), so caching their ids is most of the speed.
class Memo {
  constructor(limit) { this.limit = limit; this.map = new Map(); }
  get(key) { return this.map.get(key); }
  set(key, value) {
    if (this.map.size >= this.limit) this.map.clear();
    this.map.set(key, value);
  }
}

// keras-hub pads (or truncates) every row to sequence_length when the tokenizer has one.
function fitLength(ids, length, padId) {
  if (!length) return ids;
  const out = ids.slice(0, length);
  while (out.length < length) out.push(padId);
  return out;
}

export {utf8Encoder, utf8Decoder, utf8Length, isAscii, fail, Heap, Memo, fitLength};
