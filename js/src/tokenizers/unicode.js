import {CASEFOLD, CJK, DEFAULT_IGNORABLE, NONSPACING_MARK, PUNCTUATION, UNASSIGNED_IN_PYTHON, WHITESPACE} from './unicode-tables.js';
import {isAscii} from './util.js';

// ---- Unicode, as Python's unicodedata / regex / str.casefold see it (tables: unicode-tables.js) ----

const WS = 1, PUNCT = 2, CJK_CHAR = 4, MN = 8, IGNORABLE = 16, UNASSIGNED = 32;
let charClasses = null;  // Uint8Array over all code points, built on first use (1.1 MB)
let casefoldMap = null;

function classes() {
  if (charClasses) return charClasses;
  const table = new Uint8Array(0x110000);
  const mark = (ranges, bit) => {
    for (let i = 0; i < ranges.length; i += 2) {
      for (let c = ranges[i]; c <= ranges[i + 1]; c++) table[c] |= bit;
    }
  };
  mark(WHITESPACE, WS);
  mark(PUNCTUATION, PUNCT);
  mark(CJK, CJK_CHAR);
  mark(NONSPACING_MARK, MN);
  mark(DEFAULT_IGNORABLE, IGNORABLE);
  mark(UNASSIGNED_IN_PYTHON, UNASSIGNED);
  casefoldMap = new Map(Object.keys(CASEFOLD).map((k) => [Number(k), CASEFOLD[k]]));
  charClasses = table;
  return table;
}

// unicodedata.normalize(form, s) of Python 3.11: code points its Unicode 14 does not know are
// starters without decomposition there, so the browser's (newer) data must not touch them.
function normalize(s, form) {
  if (isAscii(s)) return s;
  const table = classes();
  let out = '', start = 0;
  for (let i = 0; i < s.length;) {
    const c = s.codePointAt(i);
    const width = c > 0xFFFF ? 2 : 1;
    if (table[c] & UNASSIGNED) {
      out += s.slice(start, i).normalize(form) + s.slice(i, i + width);
      start = i + width;
    }
    i += width;
  }
  return start === 0 ? s.normalize(form) : out + s.slice(start).normalize(form);
}

// Code point by code point, so no context rule (final sigma) applies, as in str.casefold.
function casefold(s) {
  const table = classes();
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (c < 0x80) out += ch.toLowerCase();
    else if (table[c] & UNASSIGNED) out += ch;
    else {
      const folded = casefoldMap.get(c);
      out += folded !== undefined ? folded : ch.toLowerCase();
    }
  }
  return out;
}

// keras_hub.src.utils.tensor_utils.casefold_utf8: NFKC, casefold, NFKC, drop default ignorables.
function casefoldUtf8(s) {
  if (isAscii(s)) return s.toLowerCase();
  const table = classes();
  const t = normalize(casefold(normalize(s, 'NFKC')), 'NFKC');
  let out = '';
  for (const ch of t) if (!(table[ch.codePointAt(0)] & IGNORABLE)) out += ch;
  return out;
}

function stripAccents(s) {
  if (isAscii(s)) return s;
  const table = classes();
  let out = '';
  for (const ch of normalize(s, 'NFD')) if (!(table[ch.codePointAt(0)] & MN)) out += ch;
  return out;
}

// Where a BPE text can be cut into words merged independently. Every symbol longer than one
// character is a vocabulary entry, so if no entry has another character right before `mark`,
// no symbol spans a spot where a `mark` follows another character ('before'); likewise after.
function cutRule(tokens, mark) {
  let before = true, after = true;
  for (const token of tokens) {
    for (let i = token.indexOf(mark, 1); i !== -1; i = token.indexOf(mark, i + 1)) {
      if (token[i - 1] !== mark) before = false;
    }
    for (let i = token.indexOf(mark); i !== -1 && i < token.length - 1; i = token.indexOf(mark, i + 1)) {
      if (token[i + 1] !== mark) after = false;
    }
    if (!before && !after) return null;
  }
  return before ? 'before' : 'after';
}

function cutAt(text, mark, rule) {
  const words = [];
  let start = 0;
  for (let i = text.indexOf(mark); i !== -1; i = text.indexOf(mark, i + 1)) {
    const cut = rule === 'before' ? (i > 0 && text[i - 1] !== mark ? i : -1)
      : (i + 1 < text.length && text[i + 1] !== mark ? i + 1 : -1);
    if (cut > start) { words.push(text.slice(start, cut)); start = cut; }
  }
  if (start < text.length) words.push(text.slice(start));
  return words;
}

export {WS, PUNCT, CJK_CHAR, classes, casefoldUtf8, stripAccents, cutRule, cutAt};
