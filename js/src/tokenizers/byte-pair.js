import {cutAt, cutRule} from './unicode.js';
import {Heap, Memo, fail, utf8Decoder, utf8Encoder} from './util.js';

// ---- BytePairTokenizer: byte-level BPE as keras-hub runs it through Hugging Face tokenizers ----

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others move to U+0100...
const BYTE_TO_CHAR = (() => {
  const chars = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    chars[b] = String.fromCharCode(printable ? b : 256 + n++);
  }
  return chars;
})();
const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((ch, b) => [ch, b]));

function bytePair(spec) {
  const vocab = new Map(Object.entries(spec.vocabulary));
  const tokenById = new Map();
  for (const [token, id] of vocab) tokenById.set(id, token);
  // (left id, right id) -> [rank, merged id]; a repeated merge keeps its last rank, as a Rust HashMap.
  const PAIR = 4194304;  // 2^22: ids below 4M
  const merges = new Map();
  let rank = 0;
  for (const line of spec.merges) {
    const parts = line.split(' ');
    const a = vocab.get(parts[0]), b = vocab.get(parts[1]), merged = vocab.get(parts[0] + parts[1]);
    if (a === undefined || b === undefined || merged === undefined) {
      fail(`merge '${line}' names a token outside the vocabulary.`);
    }
    merges.set(a * PAIR + b, [rank++, merged]);
  }
  const added = spec.added_tokens || [];  // [content, id], matched in the raw text before anything else
  const addedById = new Map(added.map(([content, id]) => [id, content]));
  const addedByFirst = new Map();
  for (const [content, id] of added) {
    if (!content) continue;
    if (!addedByFirst.has(content[0])) addedByFirst.set(content[0], []);
    addedByFirst.get(content[0]).push([content, id]);
  }
  const literal = spec.split_literal || null;
  const prefixSpace = !!spec.add_prefix_space;

  // tokenizers' Word::merge_all: lowest rank first, then leftmost; an entry whose pair has
  // changed since it was queued is skipped when the pair now there merges to a different token.
  function bpe(word) {
    const c = [], prev = [], next = [], alive = [];
    for (const ch of word) {
      const id = vocab.get(ch);
      if (id === undefined) continue;  // no unk_token: tokenizers drops the character
      c.push(id);
    }
    const n = c.length;
    for (let i = 0; i < n; i++) { prev.push(i - 1); next.push(i + 1 < n ? i + 1 : -1); alive.push(true); }
    // Entries [rank, position, merged id]: the lowest rank first, then the leftmost.
    const heap = new Heap((a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]));
    for (let i = 0; i + 1 < n; i++) {
      const m = merges.get(c[i] * PAIR + c[i + 1]);
      if (m) heap.push([m[0], i, m[1]]);
    }
    while (heap.size) {
      const [, pos, newId] = heap.pop();
      if (!alive[pos] || next[pos] === -1) continue;
      const right = next[pos];
      const current = merges.get(c[pos] * PAIR + c[right]);
      if (!current || current[1] !== newId) continue;
      c[pos] = newId;
      alive[right] = false;
      next[pos] = next[right];
      if (next[right] !== -1) prev[next[right]] = pos;
      if (prev[pos] >= 0) {
        const m = merges.get(c[prev[pos]] * PAIR + c[pos]);
        if (m) heap.push([m[0], prev[pos], m[1]]);
      }
      if (next[pos] !== -1) {
        const m = merges.get(c[pos] * PAIR + c[next[pos]]);
        if (m) heap.push([m[0], pos, m[1]]);
      }
    }
    const out = [];
    for (let i = 0; i < n; i++) if (alive[i]) out.push(c[i]);
    return out;
  }

  // AddedVocabulary: leftmost-longest matches of the special tokens split the raw text.
  function splitAdded(text) {
    if (!addedByFirst.size) return [[text, null]];
    const out = [];
    let start = 0;
    for (let i = 0; i < text.length;) {
      const candidates = addedByFirst.get(text[i]);
      let best = null;
      if (candidates) {
        for (const entry of candidates) {
          if ((!best || entry[0].length > best[0].length) && text.startsWith(entry[0], i)) best = entry;
        }
      }
      if (best) {
        if (i > start) out.push([text.slice(start, i), null]);
        out.push(best);
        i += best[0].length;
        start = i;
      } else i++;
    }
    if (start < text.length) out.push([text.slice(start), null]);
    return out;
  }

  // pre_tokenizers.Split(pattern=<str>, behavior="isolated"): a str pattern is a literal to tokenizers.
  function splitLiteral(text) {
    if (!literal) return [text];
    const out = [];
    let start = 0;
    for (let at = text.indexOf(literal); at !== -1; at = text.indexOf(literal, start)) {
      if (at > start) out.push(text.slice(start, at));
      out.push(literal);
      start = at + literal.length;
    }
    if (start < text.length) out.push(text.slice(start));
    return out;
  }

  // keras-hub merges a whole text as one word; cut it where no merge can reach across (see cutRule).
  const SPACE_CHAR = BYTE_TO_CHAR[0x20];
  const cut = cutRule([...vocab.keys()], SPACE_CHAR);
  const wordMemo = new Memo(50000);
  const memo = new Memo(2000);
  function pieceIds(piece) {
    let ids = memo.get(piece);
    if (ids) return ids;
    let s = prefixSpace && piece[0] !== ' ' ? ' ' + piece : piece;
    let mapped = '';
    for (const b of utf8Encoder.encode(s)) mapped += BYTE_TO_CHAR[b];
    if (!cut) ids = bpe(mapped);
    else {
      ids = [];
      for (const word of cutAt(mapped, SPACE_CHAR, cut)) {
        let part = wordMemo.get(word);
        if (!part) { part = bpe(word); wordMemo.set(word, part); }
        for (const id of part) ids.push(id);
      }
    }
    memo.set(piece, ids);
    return ids;
  }

  function encodeIds(text) {
    const out = [];
    for (const [segment, id] of splitAdded(text)) {
      if (id !== null) { out.push(id); continue; }
      for (const piece of splitLiteral(segment)) for (const i of pieceIds(piece)) out.push(i);
    }
    return out;
  }

  function idToToken(id) {
    const token = addedById.has(id) ? addedById.get(id) : tokenById.get(id);
    if (token === undefined) fail(`id ${id} is out of the vocabulary.`);
    return token;
  }

  return {
    kind: 'byte_pair',
    ids: encodeIds,
    tokenize: (text) => encodeIds(text).map(idToToken),
    // decoders.ByteLevel: pieces back to bytes (a piece with a character outside the byte
    // alphabet keeps its own UTF-8), then UTF-8 with U+FFFD for invalid sequences. Unknown ids
    // are skipped, as tokenizers' decode does.
    decode(tokenIds) {
      const bytes = [];
      for (const id of tokenIds) {
        const token = addedById.has(id) ? addedById.get(id) : tokenById.get(id);
        if (token === undefined) continue;
        const own = [];
        let ok = true;
        for (const ch of token) {
          const b = CHAR_TO_BYTE.get(ch);
          if (b === undefined) { ok = false; break; }
          own.push(b);
        }
        if (ok) for (const b of own) bytes.push(b);
        else for (const b of utf8Encoder.encode(token)) bytes.push(b);
      }
      return utf8Decoder.decode(new Uint8Array(bytes));
    },
    idToToken,
    tokenToId(token) {
      for (const [content, id] of added) if (content === token) return id;
      if (!vocab.has(token)) fail(`token '${token}' is not in the vocabulary.`);
      return vocab.get(token);
    },
    vocabularySize: vocab.size,
  };
}

export {bytePair};
