import {CJK_CHAR, PUNCT, WS, casefoldUtf8, classes, stripAccents} from './unicode.js';
import {Memo, fail, utf8Length} from './util.js';

// ---- WordPieceTokenizer ----

function wordPiece(spec) {
  const vocabulary = spec.vocabulary;
  const ids = new Map();
  vocabulary.forEach((token, i) => ids.set(token, i));  // a repeated token keeps its last id, as keras-hub
  if (!ids.has(spec.oov_token)) fail(`the oov_token '${spec.oov_token}' is not in the vocabulary.`);
  const suffix = spec.suffix_indicator;
  const oov = spec.oov_token;
  const lowercase = !!spec.lowercase, strip = !!spec.strip_accents;
  const split = spec.split !== false, splitOnCjk = spec.split_on_cjk !== false;
  const specials = spec.special_tokens || [];  // kept whole when splitting, never lowercased
  const specialSet = new Set(specials);
  const specialsByFirst = new Map();
  for (const token of specials) {
    if (!token) continue;
    const first = token.codePointAt(0);
    if (!specialsByFirst.has(first)) specialsByFirst.set(first, []);
    specialsByFirst.get(first).push(token);  // in keras-hub's alternation order
  }
  // No vocabulary entry is longer than this (in code points), so longer candidates cannot match.
  let longest = 1;
  for (const token of vocabulary) {
    const n = [...token].length;
    if (n > longest) longest = n;
  }
  const keep = PUNCT | (splitOnCjk ? CJK_CHAR : 0);
  const delimiter = WS | keep;

  // word_piece_tokenizer._regex_split with keras-hub's delimiter / keep patterns.
  function splitWords(text) {
    const table = classes();
    const words = [];
    let start = 0;
    for (let i = 0; i < text.length;) {
      const c = text.codePointAt(i);
      const width = c > 0xFFFF ? 2 : 1;
      const candidates = specialsByFirst.size ? specialsByFirst.get(c) : undefined;
      let special = null;
      if (candidates) for (const token of candidates) if (text.startsWith(token, i)) { special = token; break; }
      if (special !== null) {
        if (i > start) words.push(text.slice(start, i));
        words.push(special);
        i += special.length;
        start = i;
        continue;
      }
      const cls = table[c];
      if (cls & delimiter) {
        if (i > start) words.push(text.slice(start, i));
        if (cls & keep) words.push(text.slice(i, i + width));
        start = i + width;
      }
      i += width;
    }
    if (start < text.length) words.push(text.slice(start));
    return words;
  }

  function pretokenize(text) {
    if (strip) text = stripAccents(text);
    let words = split ? splitWords(text) : [text];
    if (lowercase) words = words.map((w) => (specialSet.has(w) ? w : casefoldUtf8(w)));
    return words;
  }

  const memo = new Memo(50000);
  // Greedy longest-match-first, as keras-hub's _tokenize_word_python.
  function wordTokens(word) {
    if (!word) return [];
    let tokens = memo.get(word);
    if (tokens) return tokens;
    if (utf8Length(word) > 100) tokens = [oov];  // MAX_BYTES_PER_WORD
    else {
      const offsets = [];
      for (let i = 0; i < word.length; i += word.codePointAt(i) > 0xFFFF ? 2 : 1) offsets.push(i);
      offsets.push(word.length);
      const n = offsets.length - 1;
      tokens = [];
      for (let start = 0; start < n;) {
        let found = null, end = Math.min(n, start + longest);
        for (; end > start; end--) {
          let piece = word.slice(offsets[start], offsets[end]);
          if (start > 0) piece = suffix + piece;
          if (ids.has(piece)) { found = piece; break; }
        }
        if (found === null) { tokens = [oov]; break; }
        tokens.push(found);
        start = end;
      }
    }
    memo.set(word, tokens);
    return tokens;
  }

  function tokenize(text) {
    const out = [];
    for (const word of pretokenize(text)) for (const t of wordTokens(word)) out.push(t);
    return out;
  }

  function idToToken(id) {
    if (!(id >= 0 && id < vocabulary.length)) fail(`id must be in [0, ${vocabulary.length - 1}], got ${id}.`);
    return vocabulary[id];
  }

  return {
    kind: 'word_piece',
    tokenize,
    ids: (text) => tokenize(text).map((t) => ids.get(t)),
    // Joins suffix pieces to the word before them and words with a space, as keras-hub.
    decode(tokenIds) {
      const words = [];
      tokenIds.forEach((id, i) => {
        const token = idToToken(id);
        if (i > 0 && [...token].length > [...suffix].length && token.startsWith(suffix)) {
          words[words.length - 1] += token.slice(suffix.length);
        } else words.push(token);
      });
      return words.join(' ');
    },
    idToToken,
    tokenToId(token) {
      if (!ids.has(token)) fail(`token '${token}' is not in the vocabulary.`);
      return ids.get(token);
    },
    vocabularySize: vocabulary.length,
    pretokenize,
  };
}

export {wordPiece};
