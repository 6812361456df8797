// tokenizer(spec): a keras-hub tokenizer from the spec webnets writes for it (exporter/text/hub_tokenizers.py).
import {bytePair} from './byte-pair.js';
import {sentencePiece} from './sentencepiece.js';
import {fail, fitLength} from './util.js';
import {wordPiece} from './wordpiece.js';

const VERSION = '1';
const SPEC_FORMAT = 'webnets-tokenizer';

// ---- The public constructor ----

const KINDS = {word_piece: wordPiece, byte_pair: bytePair, sentence_piece: sentencePiece};

function tokenizer(spec) {
  if (typeof spec === 'string') spec = JSON.parse(spec);
  if (!spec || spec.format !== SPEC_FORMAT) {
    fail(`tokenizer(spec) takes the JSON that webnets writes for a keras-hub tokenizer (format '${SPEC_FORMAT}').`);
  }
  const make = KINDS[spec.kind];
  if (!make) fail(`unknown tokenizer kind '${spec.kind}' (known: ${Object.keys(KINDS).join(', ')}).`);
  const core = make(spec);
  const length = spec.sequence_length || null;
  const padId = spec.pad_id || 0;
  const encode = (text) => {
    if (typeof text !== 'string') fail(`encode() takes a string, got ${typeof text}.`);
    return fitLength(core.ids(text), length, padId);
  };
  const api = {
    kind: core.kind,
    className: spec.class_name,
    sequenceLength: length,
    padId,
    specialTokens: spec.special_tokens_ids || {},
    vocabularySize: core.vocabularySize,
    encode,
    encodeBatch: (texts) => texts.map(encode),
    tokenize: (text) => core.tokenize(text),
    decode: (ids) => core.decode(Array.from(ids, Number)),
    idToToken: core.idToToken,
    tokenToId: core.tokenToId,
  };
  if (core.pretokenize) api.pretokenize = core.pretokenize;  // WordPiece: the words before WordPiece
  return api;
}

export {VERSION, SPEC_FORMAT, tokenizer};
