// webnets-tokenizers.js: keras-hub's tokenizers in JavaScript, token for token.
//
// One plain file, no dependencies. A tokenizer is made from a spec, the JSON that
// exporter/text/hub_tokenizers.py writes from a keras-hub tokenizer object (its vocabulary, merges or
// SentencePiece model, and options), and gives the ids keras-hub 0.32 gives when called eagerly:
//
//   WordPieceTokenizer (BERT):     keras-hub's TensorFlow-free pre-tokenizer (split on ASCII whitespace,
//                                  Cc/Cf, punctuation and CJK; NFD + drop Mn; NFKC casefold), then
//                                  greedy longest-match WordPiece;
//   BytePairTokenizer (GPT-2 ...): the Hugging Face `tokenizers` pipeline keras-hub builds: special
//                                  tokens split out first, keras-hub's Split pattern (a literal string
//                                  to `tokenizers`), byte-level alphabet, BPE merges by rank;
//   SentencePieceTokenizer (Gemma, Llama, T5 ...): the `sentencepiece` library: its normalizer (the
//                                  model's precompiled charsmap, dummy prefix, whitespace rules,
//                                  user-defined symbols), the unigram Viterbi or BPE model, byte
//                                  fallback, and its decoder.
//
//   page:  <script src="webnets-tokenizers.js"></script>
//          const tok = webnetsTokenizers.tokenizer(spec);    // also webnets.tokenizer(spec)
//   Node:  const tok = require('<dir>/webnets-tokenizers.js').tokenizer(spec);
//
//   tok.encode(text) -> number[]          what keras-hub's tokenizer(text) gives (padded or truncated
//                                         to the tokenizer's sequence_length when it has one)
//   tok.encodeBatch(texts) -> number[][]  the same for several texts
//   tok.tokenize(text) -> string[]        the vocabulary pieces behind encode(text), unpadded
//   tok.decode(ids) -> string             what keras-hub's tokenizer.detokenize(ids) gives
//   tok.idToToken(id), tok.tokenToId(token), tok.vocabularySize
//
// register(tf) (run on load in a page with `tf`) also registers WebnetsTokenizer, a TF.js layer that
// takes a string tensor and gives int32 ids, so an exported model can take raw text.

// The entry of exporter/runtime/webnets-tokenizers.js: js/build.mjs takes the comment above as the script's
// header and wraps this module's exports in the script's UMD contract (module.exports in Node, the globals
// `webnetsTokenizers` and `webnets.tokenizer` in a page, registration on a global `tf` already there).
export {tokenizer, register, VERSION, SPEC_FORMAT} from '../tokenizers/index.js';
