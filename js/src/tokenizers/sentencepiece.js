import {cutAt, cutRule} from './unicode.js';
import {Heap, Memo, fail, utf8Decoder, utf8Encoder, utf8Length} from './util.js';
import {bytesFromBase64} from '../base64.js';

// ---- SentencePieceTokenizer: the sentencepiece library (0.2) ----

// ModelProto.SentencePiece.Type
const NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE_TYPE = 6;
const SPACE = '\u2581';
const SPACE_BYTES = [0xE2, 0x96, 0x81];
const REPLACEMENT_BYTES = [0xEF, 0xBF, 0xBD];

// A trie of keys -> value over the keys' units: UTF-8 bytes (byteUnits) or UTF-16 units (textUnits).
// User-defined symbols use it as sentencepiece's PrefixMatcher does: the longest key wins.
const byteUnits = (key) => utf8Encoder.encode(key);
const textUnits = (key) => Array.from({length: key.length}, (_, i) => key.charCodeAt(i));
function trieOf(entries, unitsOf) {
  const rootNode = new Map();
  for (const [key, value] of entries) {
    let node = rootNode;
    for (const u of unitsOf(key)) {
      if (!node.has(u)) node.set(u, new Map());
      node = node.get(u);
    }
    node.value = value;
  }
  return rootNode;
}

// Longest key of a byte trie that prefixes bytes[pos..end); 0 when none.
function longestMatch(trie, bytes, pos, end) {
  let node = trie, best = 0;
  for (let i = pos; i < end; i++) {
    node = node.get(bytes[i]);
    if (!node) break;
    if (node.value !== undefined) best = i + 1 - pos;
  }
  return best;
}

// The same on a text trie, in UTF-16 units (every key ends on a character boundary).
function longestTextMatch(trie, text, pos) {
  let node = trie, best = 0;
  for (let i = pos; i < text.length; i++) {
    node = node.get(text.charCodeAt(i));
    if (!node) break;
    if (node.value !== undefined) best = i + 1 - pos;
  }
  return best;
}

// string_util::DecodeUTF8 -> [code point or -1 (invalid), length]; a literal U+FFFD is valid.
function decodeUtf8(bytes, pos, end) {
  const b0 = bytes[pos], len = end - pos;
  const trail = (x) => (x & 0xC0) === 0x80;
  const valid = (cp) => cp < 0xD800 || (cp >= 0xE000 && cp <= 0x10FFFF);
  if (b0 < 0x80) return [b0, 1];
  if (len >= 2 && (b0 & 0xE0) === 0xC0) {
    const cp = ((b0 & 0x1F) << 6) | (bytes[pos + 1] & 0x3F);
    if (trail(bytes[pos + 1]) && cp >= 0x80 && valid(cp)) return [cp, 2];
  } else if (len >= 3 && (b0 & 0xF0) === 0xE0) {
    const cp = ((b0 & 0x0F) << 12) | ((bytes[pos + 1] & 0x3F) << 6) | (bytes[pos + 2] & 0x3F);
    if (trail(bytes[pos + 1]) && trail(bytes[pos + 2]) && cp >= 0x800 && valid(cp)) return [cp, 3];
  } else if (len >= 4 && (b0 & 0xF8) === 0xF0) {
    const cp = ((b0 & 0x07) << 18) | ((bytes[pos + 1] & 0x3F) << 12) | ((bytes[pos + 2] & 0x3F) << 6)
      | (bytes[pos + 3] & 0x3F);
    if (trail(bytes[pos + 1]) && trail(bytes[pos + 2]) && trail(bytes[pos + 3]) && cp >= 0x10000 && valid(cp)) {
      return [cp, 4];
    }
  }
  return [-1, 1];
}

// normalizer::Normalizer: the precompiled charsmap (a darts-clone double array over UTF-8 bytes
// whose values point into a blob of NUL-terminated replacements), then the whitespace rules.
function spNormalizer(spec, matcher, treatWhitespaceAsSuffix) {
  let units = null, replacements = null;
  if (spec.precompiled_charsmap) {
    const blob = bytesFromBase64(spec.precompiled_charsmap);
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = view.getUint32(0, true);
    if (trieSize >= blob.length) fail('the precompiled charsmap is broken (trie larger than the blob).');
    units = new Uint32Array(trieSize / 4);
    for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + 4 * i, true);
    replacements = blob.subarray(4 + trieSize);
  }
  const replacementCache = new Map();
  const replacement = (offset) => {
    let r = replacementCache.get(offset);
    if (!r) {
      let end = offset;
      while (end < replacements.length && replacements[end] !== 0) end++;
      r = replacements.subarray(offset, end);
      replacementCache.set(offset, r);
    }
    return r;
  };
  // Darts::DoubleArray::commonPrefixSearch, keeping the longest hit: [length, value].
  function longestRule(bytes, pos, end) {
    let node = 0, unit = units[0], bestLength = 0, bestValue = 0;
    node ^= ((unit >>> 10) << ((unit & (1 << 9)) >>> 6)) >>> 0;
    for (let i = pos; i < end; i++) {
      const label = bytes[i];
      node ^= label;
      unit = units[node];
      if (unit === undefined || (unit & 0x800000FF) >>> 0 !== label) break;
      node ^= ((unit >>> 10) << ((unit & (1 << 9)) >>> 6)) >>> 0;
      if ((unit >>> 8) & 1) {
        bestLength = i + 1 - pos;
        bestValue = units[node] & 0x7FFFFFFF;
      }
    }
    return [bestLength, bestValue];
  }
  // NormalizePrefix: [replacement bytes (array-like), bytes consumed].
  function normalizePrefix(bytes, pos, end) {
    if (matcher) {
      const n = longestMatch(matcher, bytes, pos, end);
      if (n) return [bytes.subarray(pos, pos + n), n];
    }
    if (units) {
      const [length, value] = longestRule(bytes, pos, end);
      if (length) return [replacement(value), length];
    }
    // No rule: the character itself, or U+FFFD for one byte of malformed UTF-8.
    const [cp, length] = decodeUtf8(bytes, pos, end);
    if (cp === -1) return [REPLACEMENT_BYTES, 1];
    return [bytes.subarray(pos, pos + length), length];
  }
  const removeExtra = !!spec.remove_extra_whitespaces;
  const escape = !!spec.escape_whitespaces;
  const dummyPrefix = !!spec.add_dummy_prefix;
  const isSpace = (r) => r.length === 1 && r[0] === 0x20;

  return function normalizeText(text) {
    const bytes = utf8Encoder.encode(text);
    const end = bytes.length;
    let pos = 0;
    if (end === 0) return '';
    if (removeExtra) {
      while (pos < end) {
        const [r, n] = normalizePrefix(bytes, pos, end);
        if (!isSpace(r)) break;
        pos += n;
      }
    }
    if (pos === end) return '';
    const out = [];
    const addSpace = () => { if (escape) out.push(...SPACE_BYTES); else out.push(0x20); };
    if (!treatWhitespaceAsSuffix && dummyPrefix) addSpace();
    let prevSpace = removeExtra;
    while (pos < end) {
      const [r, n] = normalizePrefix(bytes, pos, end);
      let k = 0;
      if (prevSpace) while (k < r.length && r[k] === 0x20) k++;
      if (k < r.length) {
        for (; k < r.length; k++) {
          if (escape && r[k] === 0x20) out.push(...SPACE_BYTES);
          else out.push(r[k]);
        }
        prevSpace = r[r.length - 1] === 0x20;
      }
      pos += n;
      if (!removeExtra) prevSpace = false;
    }
    if (removeExtra) {
      const space = escape ? SPACE_BYTES : [0x20];
      const endsWithSpace = () => out.length >= space.length
        && space.every((b, i) => out[out.length - space.length + i] === b);
      while (endsWithSpace()) out.length -= space.length;
    }
    if (treatWhitespaceAsSuffix && dummyPrefix) addSpace();
    return utf8Decoder.decode(new Uint8Array(out));
  };
}

function sentencePiece(spec) {
  const pieces = spec.pieces;  // [piece, score, type]
  const size = pieces.length;
  const types = new Uint8Array(size);
  const scores = new Float64Array(size);
  const normalPieces = new Map();  // NORMAL, USER_DEFINED, UNUSED: ModelInterface::pieces_
  const reserved = new Map();      // everything else (CONTROL, UNKNOWN, BYTE)
  const userDefined = [];
  let unkId = -1;
  pieces.forEach(([piece, score, type], id) => {
    types[id] = type;
    scores[id] = score;
    const normal = type === NORMAL || type === USER_DEFINED || type === UNUSED;
    const map = normal ? normalPieces : reserved;
    if (map.has(piece)) fail(`piece '${piece}' is defined twice.`);
    map.set(piece, id);
    if (type === USER_DEFINED) userDefined.push([piece, id]);
    if (type === UNKNOWN) unkId = id;
  });
  if (unkId < 0) fail('the SentencePiece model has no unknown piece.');
  const matcher = userDefined.length ? trieOf(userDefined, byteUnits) : null;
  const textMatcher = userDefined.length ? trieOf(userDefined, textUnits) : null;
  const normalizeText = spNormalizer(spec.normalizer, matcher, !!spec.treat_whitespace_as_suffix);
  const denormalize = spec.denormalizer && spec.denormalizer.precompiled_charsmap
    ? spNormalizer(spec.denormalizer, null, false) : null;
  const pieceToId = (piece) => {
    const r = reserved.get(piece);
    if (r !== undefined) return r;
    const n = normalPieces.get(piece);
    return n !== undefined ? n : unkId;
  };
  const byteFallback = !!spec.byte_fallback;
  const byteIds = [];
  if (byteFallback) {
    for (let b = 0; b < 256; b++) {
      byteIds.push(pieceToId(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
    }
  }

  // Model::EncodeOptimized (unigram_model.cc) with its float32 arithmetic: scores and path sums
  // are floats; a user-defined piece's bonus is computed in double and stored as a float.
  let minScore = 3.4028234663852886e38, maxScore = 1.1754943508222875e-38;  // FLT_MAX, FLT_MIN
  for (let id = 0; id < size; id++) {
    if (types[id] === NORMAL) {
      minScore = Math.min(minScore, scores[id]);
      maxScore = Math.max(maxScore, scores[id]);
    }
  }
  const f32 = Math.fround;
  const unkScore = f32(minScore - 10);  // kUnkPenalty
  let trie = null;
  function unigramTrie() {
    if (trie) return trie;
    trie = new Map();
    for (const [piece, id] of normalPieces) {
      let node = trie;
      for (let i = 0; i < piece.length; i++) {
        const u = piece.charCodeAt(i);
        let child = node.get(u);
        if (!child) { child = new Map(); node.set(u, child); }
        node = child;
      }
      node.id = id;
    }
    return trie;
  }

  function unigram(text) {
    const root = unigramTrie();
    const n = text.length;  // positions in UTF-16 units: every piece ends on a character boundary
    const bestScore = new Float64Array(n + 1);
    const bestStart = new Int32Array(n + 1).fill(-1);
    const bestId = new Int32Array(n + 1).fill(-1);
    for (let start = 0; start < n;) {
      const width = text.codePointAt(start) > 0xFFFF ? 2 : 1;
      const here = bestScore[start];
      let hasSingle = false;
      let node = root;
      for (let pos = start; pos < n; pos++) {
        node = node.get(text.charCodeAt(pos));
        if (!node) break;
        const id = node.id;
        if (id === undefined || types[id] === UNUSED) continue;
        const end = pos + 1;
        const score = types[id] === USER_DEFINED
          ? f32(utf8Length(text.slice(start, end)) * maxScore) - 0.1 : scores[id];
        const candidate = score + here;
        if (bestStart[end] === -1 || candidate > bestScore[end]) {
          bestScore[end] = f32(candidate);
          bestStart[end] = start;
          bestId[end] = id;
        }
        if (end - start === width) hasSingle = true;
      }
      if (!hasSingle) {
        const end = start + width;
        const candidate = f32(unkScore + here);
        if (bestStart[end] === -1 || candidate > bestScore[end]) {
          bestScore[end] = candidate;
          bestStart[end] = start;
          bestId[end] = unkId;
        }
      }
      start += width;
    }
    const out = [];
    for (let end = n; end > 0; end = bestStart[end]) out.push([text.slice(bestStart[end], end), bestId[end]]);
    return out.reverse();
  }

  // bpe_model.cc Model::SampleEncode without dropout: highest score first, then leftmost;
  // user-defined symbols are frozen; UNUSED merges are undone afterwards (resegment).
  function bpe(text) {
    const sym = [];  // piece strings
    const freeze = [];
    for (let pos = 0; pos < text.length;) {
      let n = textMatcher ? longestTextMatch(textMatcher, text, pos) : 0;
      freeze.push(n > 0);
      if (!n) n = text.codePointAt(pos) > 0xFFFF ? 2 : 1;
      sym.push(text.slice(pos, pos + n));
      pos += n;
    }
    const count = sym.length;
    if (!count) return [];
    const prev = [], next = [];
    for (let i = 0; i < count; i++) { prev.push(i - 1); next.push(i + 1 < count ? i + 1 : -1); }
    const revMerge = new Map();
    // sentencepiece's agenda: the highest score first, then the smallest left index.
    const agenda = new Heap((a, b) => a.score > b.score || (a.score === b.score && a.left < b.left));
    const add = (left, right) => {
      if (left === -1 || right === -1 || freeze[left] || freeze[right]) return;
      const piece = sym[left] + sym[right];
      const id = normalPieces.get(piece);
      if (id === undefined) return;
      agenda.push({left, right, score: scores[id], length: piece.length});
      if (types[id] === UNUSED) revMerge.set(piece, [sym[left], sym[right]]);
    };
    for (let i = 1; i < count; i++) add(i - 1, i);
    while (agenda.size) {
      const {left, right, length} = agenda.pop();
      // A pair one of whose symbols has changed since it was queued is stale.
      if (!sym[left] || !sym[right] || sym[left].length + sym[right].length !== length) continue;
      sym[left] = sym[left] + sym[right];
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      sym[right] = '';
      add(prev[left], left);
      add(left, next[left]);
    }
    const out = [];
    const resegment = (w) => {
      const id = pieceToId(w);
      if (types[id] !== UNUSED || !revMerge.has(w)) { out.push([w, id]); return; }
      const [a, b] = revMerge.get(w);
      resegment(a);
      resegment(b);
    };
    for (let i = 0; i !== -1; i = next[i]) resegment(sym[i]);
    return out;
  }

  // BPE merges stay inside the vocabulary, so when no piece has a character before a U+2581
  // (or after one, with whitespace as suffix) no symbol ever spans such a spot: the text is cut
  // there into words merged independently (and remembered). Unigram is not cut: its path scores
  // are float32 sums, so a word's best path may depend on the score before it.
  const bpeCut = cutRule([...normalPieces.keys()], SPACE);
  const bpeMemo = new Memo(50000);
  function bpeWords(text) {
    if (!bpeCut) return bpe(text);
    const out = [];
    for (const word of cutAt(text, SPACE, bpeCut)) {
      let result = bpeMemo.get(word);
      if (!result) { result = bpe(word); bpeMemo.set(word, result); }
      for (const r of result) out.push(r);
    }
    return out;
  }

  const encodeModel = spec.model_type === 'bpe' ? bpeWords : unigram;
  const memo = new Memo(20000);

  // SentencePieceProcessor::Encode + PopulateSentencePieceText: unknown pieces become their
  // bytes with byte_fallback, else a run of unknowns becomes one unknown piece.
  function encodePieces(text) {
    let result = memo.get(text);
    if (result) return result;
    const normalized = normalizeText(text);
    result = [];
    let prevUnk = false;
    for (const [piece, id] of normalized ? encodeModel(normalized) : []) {
      const unk = types[id] === UNKNOWN;
      if (unk && byteFallback) {
        for (const b of utf8Encoder.encode(piece)) {
          result.push([`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, byteIds[b]]);
        }
      } else if (unk && prevUnk) {
        result[result.length - 1] = [result[result.length - 1][0] + piece, id];
      } else result.push([piece, id]);
      prevUnk = unk;
    }
    if (text.length < 256) memo.set(text, result);
    return result;
  }

  function ids(text) {
    const out = encodePieces(text).map((p) => p[1]);
    if (spec.add_bos) out.unshift(spec.bos_id);
    if (spec.add_eos) out.push(spec.eos_id);
    return out;
  }

  function idToToken(id) {
    if (!(id >= 0 && id < size)) fail(`id must be in [0, ${size - 1}], got ${id}.`);
    return pieces[id][0];
  }

  const unkSurface = spec.unk_surface !== undefined && spec.unk_surface !== null ? spec.unk_surface : ' \u2047 ';
  const dummyPrefix = !!spec.normalizer.add_dummy_prefix;
  const removeExtra = !!spec.normalizer.remove_extra_whitespaces;

  // SentencePieceProcessor::Decode.
  function decode(tokenIds) {
    let text = '';
    let byteStart = 0, bosWs = true, bosWsSeen = false;
    const flushBytes = (from, to) => {
      const bytes = [];
      for (let i = from; i < to; i++) bytes.push(parseInt(pieces[tokenIds[i]][0].slice(3, 5), 16));
      const buffer = new Uint8Array(bytes);
      for (let offset = 0; offset < buffer.length;) {
        const [cp, length] = decodeUtf8(buffer, offset, buffer.length);
        if (cp === -1) { text += '\uFFFD'; offset += 1; } else { text += String.fromCodePoint(cp); offset += length; }
      }
    };
    for (let i = 0; i < tokenIds.length; i++) {
      const id = tokenIds[i];
      if (!(id >= 0 && id < size)) fail(`Invalid id: ${id}.`);
      if (types[id] === BYTE_TYPE) continue;
      flushBytes(byteStart, i);
      if (bosWsSeen || text) bosWs = false;
      byteStart = i + 1;
      const type = types[id];
      let piece = pieces[id][0];
      if (type === CONTROL) { bosWsSeen = false; continue; }
      if (type === UNKNOWN) { text += unkSurface; bosWsSeen = false; continue; }
      let consumed = false;
      if (bosWs && (dummyPrefix || removeExtra)) {
        if (piece.startsWith(SPACE)) { piece = piece.slice(1); consumed = true; }
        if (removeExtra) consumed = false;
      }
      text += piece.split(SPACE).join(' ');
      bosWsSeen = consumed;
    }
    flushBytes(byteStart, tokenIds.length);
    return denormalize ? denormalize(text) : text;
  }

  return {
    kind: 'sentence_piece',
    ids,
    tokenize: (text) => {
      const out = encodePieces(text).map((p) => p[0]);
      if (spec.add_bos) out.unshift(pieces[spec.bos_id][0]);
      if (spec.add_eos) out.push(pieces[spec.eos_id][0]);
      return out;
    },
    decode,
    idToToken,
    // keras-hub: unknown tokens map to the unknown id, as sentencepiece's PieceToId.
    tokenToId: pieceToId,
    vocabularySize: size,
    normalize: normalizeText,
  };
}

export {sentencePiece};
