// webnets-tokenizers.js: keras-hub's tokenizers in JavaScript, token for token.
//
// One plain file, no build step, no dependencies. A tokenizer is made from a spec, the JSON that
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
(function (root, factory) {
  const api = factory();
  if (typeof module === 'object' && module.exports) module.exports = api;
  if (root) {
    root.webnetsTokenizers = api;
    // The demo's `window.webnets` hook may be created before or after this script.
    if (root.webnets && typeof root.webnets === 'object') root.webnets.tokenizer = api.tokenizer;
    else if (!root.webnets) root.webnets = {tokenizer: api.tokenizer};
    if (root.tf && root.tf.layers) api.register(root.tf);
  }
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  const VERSION = '1';
  const SPEC_FORMAT = 'webnets-tokenizer';

// ---- BEGIN GENERATED UNICODE TABLES (python -m exporter.text.unicode_tables) ----
// Python 3.11.7, unicodedata 14.0.0, regex 2026.11.19
const WHITESPACE = [0x0,0x20,0x7f,0x9f,0xad,0xad,0x600,0x605,0x61c,0x61c,0x6dd,0x6dd,0x70f,0x70f,0x890,0x891,0x8e2,0x8e2,0x180e,0x180e,0x200b,0x200f,0x202a,0x202e,0x2060,0x2064,0x2066,0x206f,0xfeff,0xfeff,0xfff9,0xfffb,0x110bd,0x110bd,0x110cd,0x110cd,0x13430,0x1343f,0x1bca0,0x1bca3,0x1d173,0x1d17a,0xe0001,0xe0001,0xe0020,0xe007f];
const PUNCTUATION = [0x21,0x2f,0x3a,0x40,0x5b,0x60,0x7b,0x7e,0xa1,0xa1,0xa7,0xa7,0xab,0xab,0xb6,0xb7,0xbb,0xbb,0xbf,0xbf,0x37e,0x37e,0x387,0x387,0x55a,0x55f,0x589,0x58a,0x5be,0x5be,0x5c0,0x5c0,0x5c3,0x5c3,0x5c6,0x5c6,0x5f3,0x5f4,0x609,0x60a,0x60c,0x60d,0x61b,0x61b,0x61d,0x61f,0x66a,0x66d,0x6d4,0x6d4,0x700,0x70d,0x7f7,0x7f9,0x830,0x83e,0x85e,0x85e,0x964,0x965,0x970,0x970,0x9fd,0x9fd,0xa76,0xa76,0xaf0,0xaf0,0xc77,0xc77,0xc84,0xc84,0xdf4,0xdf4,0xe4f,0xe4f,0xe5a,0xe5b,0xf04,0xf12,0xf14,0xf14,0xf3a,0xf3d,0xf85,0xf85,0xfd0,0xfd4,0xfd9,0xfda,0x104a,0x104f,0x10fb,0x10fb,0x1360,0x1368,0x1400,0x1400,0x166e,0x166e,0x169b,0x169c,0x16eb,0x16ed,0x1735,0x1736,0x17d4,0x17d6,0x17d8,0x17da,0x1800,0x180a,0x1944,0x1945,0x1a1e,0x1a1f,0x1aa0,0x1aa6,0x1aa8,0x1aad,0x1b4e,0x1b4f,0x1b5a,0x1b60,0x1b7d,0x1b7f,0x1bfc,0x1bff,0x1c3b,0x1c3f,0x1c7e,0x1c7f,0x1cc0,0x1cc7,0x1cd3,0x1cd3,0x2010,0x2027,0x2030,0x2043,0x2045,0x2051,0x2053,0x205e,0x207d,0x207e,0x208d,0x208e,0x2308,0x230b,0x2329,0x232a,0x2768,0x2775,0x27c5,0x27c6,0x27e6,0x27ef,0x2983,0x2998,0x29d8,0x29db,0x29fc,0x29fd,0x2cf9,0x2cfc,0x2cfe,0x2cff,0x2d70,0x2d70,0x2e00,0x2e2e,0x2e30,0x2e4f,0x2e52,0x2e5d,0x2e60,0x2e63,0x3001,0x3003,0x3008,0x3011,0x3014,0x301f,0x3030,0x3030,0x303d,0x303d,0x30a0,0x30a0,0x30fb,0x30fb,0xa4fe,0xa4ff,0xa60d,0xa60f,0xa673,0xa673,0xa67e,0xa67e,0xa6f2,0xa6f7,0xa874,0xa877,0xa8ce,0xa8cf,0xa8f8,0xa8fa,0xa8fc,0xa8fc,0xa92e,0xa92f,0xa95f,0xa95f,0xa9c1,0xa9cd,0xa9de,0xa9df,0xaa5c,0xaa5f,0xaade,0xaadf,0xaaf0,0xaaf1,0xabeb,0xabeb,0xfd3e,0xfd3f,0xfe10,0xfe19,0xfe30,0xfe52,0xfe54,0xfe61,0xfe63,0xfe63,0xfe68,0xfe68,0xfe6a,0xfe6b,0xff01,0xff03,0xff05,0xff0a,0xff0c,0xff0f,0xff1a,0xff1b,0xff1f,0xff20,0xff3b,0xff3d,0xff3f,0xff3f,0xff5b,0xff5b,0xff5d,0xff5d,0xff5f,0xff65,0x10100,0x10102,0x1039f,0x1039f,0x103d0,0x103d0,0x1056f,0x1056f,0x10857,0x10857,0x1091f,0x1091f,0x1093f,0x1093f,0x10a50,0x10a58,0x10a7f,0x10a7f,0x10af0,0x10af6,0x10b39,0x10b3f,0x10b99,0x10b9c,0x10d6e,0x10d6e,0x10ead,0x10ead,0x10ed0,0x10ed0,0x10f55,0x10f59,0x10f86,0x10f89,0x11047,0x1104d,0x110bb,0x110bc,0x110be,0x110c1,0x11140,0x11143,0x11174,0x11175,0x111c5,0x111c8,0x111cd,0x111cd,0x111db,0x111db,0x111dd,0x111df,0x11238,0x1123d,0x112a9,0x112a9,0x113d4,0x113d5,0x113d7,0x113d8,0x1144b,0x1144f,0x1145a,0x1145b,0x1145d,0x1145d,0x114c6,0x114c6,0x115c1,0x115d7,0x11641,0x11643,0x11660,0x1166c,0x116b9,0x116b9,0x1173c,0x1173e,0x1183b,0x1183b,0x11944,0x11946,0x119e2,0x119e2,0x11a3f,0x11a46,0x11a9a,0x11a9c,0x11a9e,0x11aa2,0x11b00,0x11b09,0x11be1,0x11be1,0x11c41,0x11c45,0x11c70,0x11c71,0x11ef7,0x11ef8,0x11f43,0x11f4f,0x11fff,0x11fff,0x12470,0x12474,0x12ff1,0x12ff2,0x16a6e,0x16a6f,0x16af5,0x16af5,0x16b37,0x16b3b,0x16b44,0x16b44,0x16d6d,0x16d6f,0x16e97,0x16e9a,0x16fe2,0x16fe2,0x1bc9f,0x1bc9f,0x1da87,0x1da8b,0x1e5ff,0x1e5ff,0x1e95e,0x1e95f];
const CJK = [0x3400,0x4dbf,0x4e00,0x9fff,0xf900,0xfaff,0x20000,0x2a6df,0x2a700,0x2b73f,0x2b740,0x2b81f,0x2b820,0x2ceaf,0x2f800,0x2fa1f];
const NONSPACING_MARK = [0x300,0x36f,0x483,0x487,0x591,0x5bd,0x5bf,0x5bf,0x5c1,0x5c2,0x5c4,0x5c5,0x5c7,0x5c7,0x610,0x61a,0x64b,0x65f,0x670,0x670,0x6d6,0x6dc,0x6df,0x6e4,0x6e7,0x6e8,0x6ea,0x6ed,0x711,0x711,0x730,0x74a,0x7a6,0x7b0,0x7eb,0x7f3,0x7fd,0x7fd,0x816,0x819,0x81b,0x823,0x825,0x827,0x829,0x82d,0x859,0x85b,0x898,0x89f,0x8ca,0x8e1,0x8e3,0x902,0x93a,0x93a,0x93c,0x93c,0x941,0x948,0x94d,0x94d,0x951,0x957,0x962,0x963,0x981,0x981,0x9bc,0x9bc,0x9c1,0x9c4,0x9cd,0x9cd,0x9e2,0x9e3,0x9fe,0x9fe,0xa01,0xa02,0xa3c,0xa3c,0xa41,0xa42,0xa47,0xa48,0xa4b,0xa4d,0xa51,0xa51,0xa70,0xa71,0xa75,0xa75,0xa81,0xa82,0xabc,0xabc,0xac1,0xac5,0xac7,0xac8,0xacd,0xacd,0xae2,0xae3,0xafa,0xaff,0xb01,0xb01,0xb3c,0xb3c,0xb3f,0xb3f,0xb41,0xb44,0xb4d,0xb4d,0xb55,0xb56,0xb62,0xb63,0xb82,0xb82,0xbc0,0xbc0,0xbcd,0xbcd,0xc00,0xc00,0xc04,0xc04,0xc3c,0xc3c,0xc3e,0xc40,0xc46,0xc48,0xc4a,0xc4d,0xc55,0xc56,0xc62,0xc63,0xc81,0xc81,0xcbc,0xcbc,0xcbf,0xcbf,0xcc6,0xcc6,0xccc,0xccd,0xce2,0xce3,0xd00,0xd01,0xd3b,0xd3c,0xd41,0xd44,0xd4d,0xd4d,0xd62,0xd63,0xd81,0xd81,0xdca,0xdca,0xdd2,0xdd4,0xdd6,0xdd6,0xe31,0xe31,0xe34,0xe3a,0xe47,0xe4e,0xeb1,0xeb1,0xeb4,0xebc,0xec8,0xecd,0xf18,0xf19,0xf35,0xf35,0xf37,0xf37,0xf39,0xf39,0xf71,0xf7e,0xf80,0xf84,0xf86,0xf87,0xf8d,0xf97,0xf99,0xfbc,0xfc6,0xfc6,0x102d,0x1030,0x1032,0x1037,0x1039,0x103a,0x103d,0x103e,0x1058,0x1059,0x105e,0x1060,0x1071,0x1074,0x1082,0x1082,0x1085,0x1086,0x108d,0x108d,0x109d,0x109d,0x135d,0x135f,0x1712,0x1714,0x1732,0x1733,0x1752,0x1753,0x1772,0x1773,0x17b4,0x17b5,0x17b7,0x17bd,0x17c6,0x17c6,0x17c9,0x17d3,0x17dd,0x17dd,0x180b,0x180d,0x180f,0x180f,0x1885,0x1886,0x18a9,0x18a9,0x1920,0x1922,0x1927,0x1928,0x1932,0x1932,0x1939,0x193b,0x1a17,0x1a18,0x1a1b,0x1a1b,0x1a56,0x1a56,0x1a58,0x1a5e,0x1a60,0x1a60,0x1a62,0x1a62,0x1a65,0x1a6c,0x1a73,0x1a7c,0x1a7f,0x1a7f,0x1ab0,0x1abd,0x1abf,0x1ace,0x1b00,0x1b03,0x1b34,0x1b34,0x1b36,0x1b3a,0x1b3c,0x1b3c,0x1b42,0x1b42,0x1b6b,0x1b73,0x1b80,0x1b81,0x1ba2,0x1ba5,0x1ba8,0x1ba9,0x1bab,0x1bad,0x1be6,0x1be6,0x1be8,0x1be9,0x1bed,0x1bed,0x1bef,0x1bf1,0x1c2c,0x1c33,0x1c36,0x1c37,0x1cd0,0x1cd2,0x1cd4,0x1ce0,0x1ce2,0x1ce8,0x1ced,0x1ced,0x1cf4,0x1cf4,0x1cf8,0x1cf9,0x1dc0,0x1dff,0x20d0,0x20dc,0x20e1,0x20e1,0x20e5,0x20f0,0x2cef,0x2cf1,0x2d7f,0x2d7f,0x2de0,0x2dff,0x302a,0x302d,0x3099,0x309a,0xa66f,0xa66f,0xa674,0xa67d,0xa69e,0xa69f,0xa6f0,0xa6f1,0xa802,0xa802,0xa806,0xa806,0xa80b,0xa80b,0xa825,0xa826,0xa82c,0xa82c,0xa8c4,0xa8c5,0xa8e0,0xa8f1,0xa8ff,0xa8ff,0xa926,0xa92d,0xa947,0xa951,0xa980,0xa982,0xa9b3,0xa9b3,0xa9b6,0xa9b9,0xa9bc,0xa9bd,0xa9e5,0xa9e5,0xaa29,0xaa2e,0xaa31,0xaa32,0xaa35,0xaa36,0xaa43,0xaa43,0xaa4c,0xaa4c,0xaa7c,0xaa7c,0xaab0,0xaab0,0xaab2,0xaab4,0xaab7,0xaab8,0xaabe,0xaabf,0xaac1,0xaac1,0xaaec,0xaaed,0xaaf6,0xaaf6,0xabe5,0xabe5,0xabe8,0xabe8,0xabed,0xabed,0xfb1e,0xfb1e,0xfe00,0xfe0f,0xfe20,0xfe2f,0x101fd,0x101fd,0x102e0,0x102e0,0x10376,0x1037a,0x10a01,0x10a03,0x10a05,0x10a06,0x10a0c,0x10a0f,0x10a38,0x10a3a,0x10a3f,0x10a3f,0x10ae5,0x10ae6,0x10d24,0x10d27,0x10eab,0x10eac,0x10f46,0x10f50,0x10f82,0x10f85,0x11001,0x11001,0x11038,0x11046,0x11070,0x11070,0x11073,0x11074,0x1107f,0x11081,0x110b3,0x110b6,0x110b9,0x110ba,0x110c2,0x110c2,0x11100,0x11102,0x11127,0x1112b,0x1112d,0x11134,0x11173,0x11173,0x11180,0x11181,0x111b6,0x111be,0x111c9,0x111cc,0x111cf,0x111cf,0x1122f,0x11231,0x11234,0x11234,0x11236,0x11237,0x1123e,0x1123e,0x112df,0x112df,0x112e3,0x112ea,0x11300,0x11301,0x1133b,0x1133c,0x11340,0x11340,0x11366,0x1136c,0x11370,0x11374,0x11438,0x1143f,0x11442,0x11444,0x11446,0x11446,0x1145e,0x1145e,0x114b3,0x114b8,0x114ba,0x114ba,0x114bf,0x114c0,0x114c2,0x114c3,0x115b2,0x115b5,0x115bc,0x115bd,0x115bf,0x115c0,0x115dc,0x115dd,0x11633,0x1163a,0x1163d,0x1163d,0x1163f,0x11640,0x116ab,0x116ab,0x116ad,0x116ad,0x116b0,0x116b5,0x116b7,0x116b7,0x1171d,0x1171f,0x11722,0x11725,0x11727,0x1172b,0x1182f,0x11837,0x11839,0x1183a,0x1193b,0x1193c,0x1193e,0x1193e,0x11943,0x11943,0x119d4,0x119d7,0x119da,0x119db,0x119e0,0x119e0,0x11a01,0x11a0a,0x11a33,0x11a38,0x11a3b,0x11a3e,0x11a47,0x11a47,0x11a51,0x11a56,0x11a59,0x11a5b,0x11a8a,0x11a96,0x11a98,0x11a99,0x11c30,0x11c36,0x11c38,0x11c3d,0x11c3f,0x11c3f,0x11c92,0x11ca7,0x11caa,0x11cb0,0x11cb2,0x11cb3,0x11cb5,0x11cb6,0x11d31,0x11d36,0x11d3a,0x11d3a,0x11d3c,0x11d3d,0x11d3f,0x11d45,0x11d47,0x11d47,0x11d90,0x11d91,0x11d95,0x11d95,0x11d97,0x11d97,0x11ef3,0x11ef4,0x16af0,0x16af4,0x16b30,0x16b36,0x16f4f,0x16f4f,0x16f8f,0x16f92,0x16fe4,0x16fe4,0x1bc9d,0x1bc9e,0x1cf00,0x1cf2d,0x1cf30,0x1cf46,0x1d167,0x1d169,0x1d17b,0x1d182,0x1d185,0x1d18b,0x1d1aa,0x1d1ad,0x1d242,0x1d244,0x1da00,0x1da36,0x1da3b,0x1da6c,0x1da75,0x1da75,0x1da84,0x1da84,0x1da9b,0x1da9f,0x1daa1,0x1daaf,0x1e000,0x1e006,0x1e008,0x1e018,0x1e01b,0x1e021,0x1e023,0x1e024,0x1e026,0x1e02a,0x1e130,0x1e136,0x1e2ae,0x1e2ae,0x1e2ec,0x1e2ef,0x1e8d0,0x1e8d6,0x1e944,0x1e94a,0xe0100,0xe01ef];
const DEFAULT_IGNORABLE = [0xad,0xad,0x34f,0x34f,0x61c,0x61c,0x115f,0x1160,0x17b4,0x17b5,0x180b,0x180f,0x200b,0x200f,0x202a,0x202e,0x2060,0x206f,0x3164,0x3164,0xfe00,0xfe0f,0xfeff,0xfeff,0xffa0,0xffa0,0xfff0,0xfff8,0x1bca0,0x1bca3,0x1d173,0x1d17a,0xe0000,0xe0fff];
const UNASSIGNED_IN_PYTHON = [0x558,0x558,0x58b,0x58c,0x5c8,0x5c9,0x88f,0x88f,0x897,0x897,0xb53,0xb54,0xc5c,0xc5c,0xcdc,0xcdc,0xcf3,0xcf3,0xece,0xece,0x1acf,0x1af0,0x1b4e,0x1b4f,0x1b7f,0x1b7f,0x1c89,0x1c8a,0x208f,0x208f,0x209d,0x209f,0x20c1,0x20c4,0x2427,0x2429,0x2b96,0x2b96,0x2e60,0x2e63,0x2ffc,0x2fff,0x31e4,0x31e5,0x31ef,0x31ef,0xa7cb,0xa7cf,0xa7d2,0xa7d2,0xa7d4,0xa7d4,0xa7da,0xa7dd,0xa7e2,0xa7e2,0xa7f1,0xa7f1,0xab6c,0xab6d,0xfbc3,0xfbd2,0xfd90,0xfd91,0xfdc8,0xfdce,0x105c0,0x105f3,0x107bb,0x107bf,0x10940,0x10959,0x10d40,0x10d65,0x10d69,0x10d85,0x10d8e,0x10d8f,0x10ec2,0x10ec7,0x10ec9,0x10eee,0x10ef0,0x10eff,0x1123f,0x11241,0x11380,0x11389,0x1138b,0x1138b,0x1138e,0x1138e,0x11390,0x113b5,0x113b7,0x113c0,0x113c2,0x113c2,0x113c5,0x113c5,0x113c7,0x113ca,0x113cc,0x113d5,0x113d7,0x113d8,0x113e1,0x113e2,0x116d0,0x116e3,0x11b00,0x11b0a,0x11b60,0x11b67,0x11bc0,0x11be1,0x11bf0,0x11bf9,0x11db0,0x11ddb,0x11de0,0x11de9,0x11df0,0x11df1,0x11f00,0x11f10,0x11f12,0x11f3a,0x11f3e,0x11f5a,0x1246f,0x1246f,0x12475,0x1247f,0x12550,0x12686,0x1342f,0x1342f,0x13439,0x13455,0x13460,0x143fa,0x16100,0x16139,0x16d40,0x16d79,0x16ea0,0x16eb8,0x16ebb,0x16ed3,0x16ff2,0x16ff6,0x187f8,0x187ff,0x18cd6,0x18cda,0x18cff,0x18cff,0x18d09,0x18d20,0x18d80,0x18df2,0x18e00,0x19191,0x191a0,0x191d2,0x1b123,0x1b128,0x1b132,0x1b132,0x1b155,0x1b155,0x1b168,0x1b168,0x1cc00,0x1ccfc,0x1cd00,0x1ceb3,0x1ceba,0x1ced0,0x1ced2,0x1ced4,0x1cedd,0x1cefd,0x1d127,0x1d128,0x1d1eb,0x1d1ff,0x1d250,0x1d281,0x1d2c0,0x1d2d3,0x1d6a6,0x1d6a6,0x1db00,0x1db1c,0x1df1f,0x1df81,0x1df90,0x1df96,0x1dfcd,0x1dfff,0x1e030,0x1e06d,0x1e08f,0x1e08f,0x1e4d0,0x1e4f9,0x1e5d0,0x1e5fa,0x1e5ff,0x1e5ff,0x1e6c0,0x1e6de,0x1e6e0,0x1e6f5,0x1e6fe,0x1e6ff,0x1f1ae,0x1f1ae,0x1f6d8,0x1f6d9,0x1f6dc,0x1f6dc,0x1f774,0x1f77f,0x1f7d9,0x1f7db,0x1f7f1,0x1f7ff,0x1f8b2,0x1f8bb,0x1f8c0,0x1f8c1,0x1f8d0,0x1f8d8,0x1fa54,0x1fa57,0x1fa75,0x1fa77,0x1fa87,0x1fa8f,0x1faad,0x1faaf,0x1fabb,0x1fabf,0x1fac6,0x1fac6,0x1fac8,0x1fac8,0x1facc,0x1facf,0x1fada,0x1fadd,0x1fadf,0x1fadf,0x1fae8,0x1faeb,0x1faef,0x1faef,0x1faf7,0x1fafa,0x1fbcb,0x1fbef,0x1fbfa,0x1fbfa,0x2b739,0x2b73f,0x2b81e,0x2b81e,0x2cea2,0x2cead,0x2ebf0,0x2ee5d,0x31350,0x33479,0x3d000,0x3fc3f];
const CASEFOLD = {"181":"\u03bc","223":"ss","329":"\u02bcn","383":"s","496":"j\u030c","837":"\u03b9","912":"\u03b9\u0308\u0301","944":"\u03c5\u0308\u0301","962":"\u03c3","976":"\u03b2","977":"\u03b8","981":"\u03c6","982":"\u03c0","1008":"\u03ba","1009":"\u03c1","1013":"\u03b5","1415":"\u0565\u0582","5024":"\u13a0","5025":"\u13a1","5026":"\u13a2","5027":"\u13a3","5028":"\u13a4","5029":"\u13a5","5030":"\u13a6","5031":"\u13a7","5032":"\u13a8","5033":"\u13a9","5034":"\u13aa","5035":"\u13ab","5036":"\u13ac","5037":"\u13ad","5038":"\u13ae","5039":"\u13af","5040":"\u13b0","5041":"\u13b1","5042":"\u13b2","5043":"\u13b3","5044":"\u13b4","5045":"\u13b5","5046":"\u13b6","5047":"\u13b7","5048":"\u13b8","5049":"\u13b9","5050":"\u13ba","5051":"\u13bb","5052":"\u13bc","5053":"\u13bd","5054":"\u13be","5055":"\u13bf","5056":"\u13c0","5057":"\u13c1","5058":"\u13c2","5059":"\u13c3","5060":"\u13c4","5061":"\u13c5","5062":"\u13c6","5063":"\u13c7","5064":"\u13c8","5065":"\u13c9","5066":"\u13ca","5067":"\u13cb","5068":"\u13cc","5069":"\u13cd","5070":"\u13ce","5071":"\u13cf","5072":"\u13d0","5073":"\u13d1","5074":"\u13d2","5075":"\u13d3","5076":"\u13d4","5077":"\u13d5","5078":"\u13d6","5079":"\u13d7","5080":"\u13d8","5081":"\u13d9","5082":"\u13da","5083":"\u13db","5084":"\u13dc","5085":"\u13dd","5086":"\u13de","5087":"\u13df","5088":"\u13e0","5089":"\u13e1","5090":"\u13e2","5091":"\u13e3","5092":"\u13e4","5093":"\u13e5","5094":"\u13e6","5095":"\u13e7","5096":"\u13e8","5097":"\u13e9","5098":"\u13ea","5099":"\u13eb","5100":"\u13ec","5101":"\u13ed","5102":"\u13ee","5103":"\u13ef","5104":"\u13f0","5105":"\u13f1","5106":"\u13f2","5107":"\u13f3","5108":"\u13f4","5109":"\u13f5","5112":"\u13f0","5113":"\u13f1","5114":"\u13f2","5115":"\u13f3","5116":"\u13f4","5117":"\u13f5","7296":"\u0432","7297":"\u0434","7298":"\u043e","7299":"\u0441","7300":"\u0442","7301":"\u0442","7302":"\u044a","7303":"\u0463","7304":"\ua64b","7830":"h\u0331","7831":"t\u0308","7832":"w\u030a","7833":"y\u030a","7834":"a\u02be","7835":"\u1e61","7838":"ss","8016":"\u03c5\u0313","8018":"\u03c5\u0313\u0300","8020":"\u03c5\u0313\u0301","8022":"\u03c5\u0313\u0342","8064":"\u1f00\u03b9","8065":"\u1f01\u03b9","8066":"\u1f02\u03b9","8067":"\u1f03\u03b9","8068":"\u1f04\u03b9","8069":"\u1f05\u03b9","8070":"\u1f06\u03b9","8071":"\u1f07\u03b9","8072":"\u1f00\u03b9","8073":"\u1f01\u03b9","8074":"\u1f02\u03b9","8075":"\u1f03\u03b9","8076":"\u1f04\u03b9","8077":"\u1f05\u03b9","8078":"\u1f06\u03b9","8079":"\u1f07\u03b9","8080":"\u1f20\u03b9","8081":"\u1f21\u03b9","8082":"\u1f22\u03b9","8083":"\u1f23\u03b9","8084":"\u1f24\u03b9","8085":"\u1f25\u03b9","8086":"\u1f26\u03b9","8087":"\u1f27\u03b9","8088":"\u1f20\u03b9","8089":"\u1f21\u03b9","8090":"\u1f22\u03b9","8091":"\u1f23\u03b9","8092":"\u1f24\u03b9","8093":"\u1f25\u03b9","8094":"\u1f26\u03b9","8095":"\u1f27\u03b9","8096":"\u1f60\u03b9","8097":"\u1f61\u03b9","8098":"\u1f62\u03b9","8099":"\u1f63\u03b9","8100":"\u1f64\u03b9","8101":"\u1f65\u03b9","8102":"\u1f66\u03b9","8103":"\u1f67\u03b9","8104":"\u1f60\u03b9","8105":"\u1f61\u03b9","8106":"\u1f62\u03b9","8107":"\u1f63\u03b9","8108":"\u1f64\u03b9","8109":"\u1f65\u03b9","8110":"\u1f66\u03b9","8111":"\u1f67\u03b9","8114":"\u1f70\u03b9","8115":"\u03b1\u03b9","8116":"\u03ac\u03b9","8118":"\u03b1\u0342","8119":"\u03b1\u0342\u03b9","8124":"\u03b1\u03b9","8126":"\u03b9","8130":"\u1f74\u03b9","8131":"\u03b7\u03b9","8132":"\u03ae\u03b9","8134":"\u03b7\u0342","8135":"\u03b7\u0342\u03b9","8140":"\u03b7\u03b9","8146":"\u03b9\u0308\u0300","8147":"\u03b9\u0308\u0301","8150":"\u03b9\u0342","8151":"\u03b9\u0308\u0342","8162":"\u03c5\u0308\u0300","8163":"\u03c5\u0308\u0301","8164":"\u03c1\u0313","8166":"\u03c5\u0342","8167":"\u03c5\u0308\u0342","8178":"\u1f7c\u03b9","8179":"\u03c9\u03b9","8180":"\u03ce\u03b9","8182":"\u03c9\u0342","8183":"\u03c9\u0342\u03b9","8188":"\u03c9\u03b9","43888":"\u13a0","43889":"\u13a1","43890":"\u13a2","43891":"\u13a3","43892":"\u13a4","43893":"\u13a5","43894":"\u13a6","43895":"\u13a7","43896":"\u13a8","43897":"\u13a9","43898":"\u13aa","43899":"\u13ab","43900":"\u13ac","43901":"\u13ad","43902":"\u13ae","43903":"\u13af","43904":"\u13b0","43905":"\u13b1","43906":"\u13b2","43907":"\u13b3","43908":"\u13b4","43909":"\u13b5","43910":"\u13b6","43911":"\u13b7","43912":"\u13b8","43913":"\u13b9","43914":"\u13ba","43915":"\u13bb","43916":"\u13bc","43917":"\u13bd","43918":"\u13be","43919":"\u13bf","43920":"\u13c0","43921":"\u13c1","43922":"\u13c2","43923":"\u13c3","43924":"\u13c4","43925":"\u13c5","43926":"\u13c6","43927":"\u13c7","43928":"\u13c8","43929":"\u13c9","43930":"\u13ca","43931":"\u13cb","43932":"\u13cc","43933":"\u13cd","43934":"\u13ce","43935":"\u13cf","43936":"\u13d0","43937":"\u13d1","43938":"\u13d2","43939":"\u13d3","43940":"\u13d4","43941":"\u13d5","43942":"\u13d6","43943":"\u13d7","43944":"\u13d8","43945":"\u13d9","43946":"\u13da","43947":"\u13db","43948":"\u13dc","43949":"\u13dd","43950":"\u13de","43951":"\u13df","43952":"\u13e0","43953":"\u13e1","43954":"\u13e2","43955":"\u13e3","43956":"\u13e4","43957":"\u13e5","43958":"\u13e6","43959":"\u13e7","43960":"\u13e8","43961":"\u13e9","43962":"\u13ea","43963":"\u13eb","43964":"\u13ec","43965":"\u13ed","43966":"\u13ee","43967":"\u13ef","64256":"ff","64257":"fi","64258":"fl","64259":"ffi","64260":"ffl","64261":"st","64262":"st","64275":"\u0574\u0576","64276":"\u0574\u0565","64277":"\u0574\u056b","64278":"\u057e\u0576","64279":"\u0574\u056d"};
// ---- END GENERATED UNICODE TABLES ----

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

  // ---- Unicode, as Python's unicodedata / regex / str.casefold see it (tables above) ----

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

  // ---- SentencePieceTokenizer: the sentencepiece library (0.2) ----

  // ModelProto.SentencePiece.Type
  const NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE_TYPE = 6;
  const SPACE = '\u2581';
  const SPACE_BYTES = [0xE2, 0x96, 0x81];
  const REPLACEMENT_BYTES = [0xEF, 0xBF, 0xBD];

  function base64Bytes(text) {
    if (typeof atob === 'function') {
      const s = atob(text);
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
      return out;
    }
    return new Uint8Array(Buffer.from(text, 'base64'));
  }

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
      const blob = base64Bytes(spec.precompiled_charsmap);
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

  // ---- WebnetsTokenizer: the tokenizer as a TF.js layer (string tensor in, int32 ids out) ----

  function hexJson(hex) {
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(2 * i, 2), 16);
    return JSON.parse(utf8Decoder.decode(bytes));
  }

  // The strings of a string tensor. dataSync() decodes them with a TextDecoder that drops a leading
  // U+FEFF (it takes it for a byte order mark), so a text starting with one would lose it: read the
  // stored UTF-8 bytes and decode them keeping it, as Keras does.
  const MAX_TEXT_CHARS = 1 << 20;

  function stringValues(tf, x) {
    try {
      const raw = tf.engine().readSync(x.dataId);
      if (Array.isArray(raw) && raw.every((b) => b instanceof Uint8Array)) return raw.map((b) => utf8Decoder.decode(b));
    } catch (error) {
      // a backend that keeps no bytes: fall back to tfjs' own decoding
    }
    return x.dataSync();
  }

  function defineLayers(tf) {
    // config.spec: the hex digits of the spec's UTF-8 JSON (tfjs rewrites other string values of a
    // config on load and save). Input: strings of shape [batch] or [batch, n]; output: int32 ids of
    // shape [...input shape, sequence_length], padded with the tokenizer's pad id. No weights. TF.js
    // has no string ops: the strings are read out (dataSync), tokenized here, and put back as a tensor.
    // tfjs' model.predict() refuses string inputs: use model.apply / execute (or webnets' predict).
    class WebnetsTokenizer extends tf.layers.Layer {
      static className = 'WebnetsTokenizer';

      constructor(config) {
        super(Object.assign({}, config, {trainable: false}));
        this.specHex = config.spec;
        const spec = hexJson(config.spec);
        if (!spec.sequence_length) fail(`${this.name}: the spec has no sequence_length.`);
        this.tokenizer = tokenizer(spec);
        this.sequenceLength = spec.sequence_length;
      }

      call(inputs) {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        if (x.dtype !== 'string') {
          fail(`${this.name} (WebnetsTokenizer) takes a string tensor (tf.tensor(['some text', ...])), `
            + `got ${x.dtype}.`);
        }
        const texts = stringValues(tf, x);
        texts.forEach((text, i) => {
          // Read whole into JavaScript: a text of many megabytes would freeze a page for a few tokens.
          if (text.length > MAX_TEXT_CHARS) {
            fail(`${this.name} (WebnetsTokenizer): text ${i} is ${text.length.toLocaleString('en')} characters long, `
              + `more than the ${MAX_TEXT_CHARS.toLocaleString('en')} webnets reads; cut it before predicting.`);
          }
        });
        const length = this.sequenceLength;
        const ids = new Int32Array(texts.length * length);
        for (let i = 0; i < texts.length; i++) ids.set(this.tokenizer.encode(texts[i]), i * length);
        return tf.tensor(ids, [...x.shape, length], 'int32');
      }

      computeOutputShape(inputShape) {
        const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
        return [...shape, this.sequenceLength];
      }

      getConfig() {
        return Object.assign({}, super.getConfig(), {spec: this.specHex});
      }
    }
    return [WebnetsTokenizer];
  }

  // ---- keras-hub's packers (StartEndPacker, MultiSegmentPacker) as TF.js layers ----
  //
  // They take int32 token ids of shape [batch, n]: a dense row (a tensor the model made) or the rows
  // of a WebnetsTokenizer that feeds a packer, padded with -1 past each text's ids (keras-hub hands
  // its packers ragged rows). A negative id is no token: keras-hub's packers never see one.

  // The token ids of each row of an int tensor, negatives dropped.
  function raggedRows(x) {
    const rows = x.rank === 1 ? [x.arraySync()] : x.arraySync();
    return rows.map((row) => row.filter((id) => id >= 0));
  }

  // keras-hub's `_pad`: `value` on the right (or left) up to `length`; a longer row stays as it is.
  function padRow(row, length, value, side) {
    const fill = new Array(Math.max(0, length - row.length)).fill(value);
    return side === 'left' ? fill.concat(row) : row.concat(fill);
  }

  const asList = (v) => (v === null || v === undefined ? null : (Array.isArray(v) ? v : [v]));
  // Python's seq[:n], negative n included.
  const head = (row, n) => row.slice(0, n);

  // MultiSegmentPacker._trim_inputs_round_robin_python: the lowest priority cutoff whose count of kept
  // tokens reaches the budget; token j of segment s has priority j * segments + s.
  function roundRobin(lengths, budget) {
    const n = lengths.length;
    if (lengths.reduce((a, b) => a + b, 0) <= budget) return lengths.slice();
    let low = -1, high = n * Math.max(...lengths), cutoff = high;
    const pyDiv = (a, b) => Math.floor(a / b);
    while (low <= high) {
      const mid = pyDiv(low + high, 2);
      let count = 0;
      for (let s = 0; s < n; s++) {
        const maxIndex = pyDiv(mid - s, n);
        if (maxIndex >= 0) count += Math.min(lengths[s], maxIndex + 1);
      }
      if (count >= budget) { cutoff = mid; high = mid - 1; } else low = mid + 1;
    }
    // keras-hub slices seq[:max_index + 1], and Python's slice end may be negative.
    return lengths.map((_, s) => pyDiv(cutoff - s, n) + 1);
  }

  function waterfall(lengths, budget) {
    let remaining = budget;
    return lengths.map((length) => {
      if (remaining <= 0) return 0;
      const kept = Math.min(length, remaining);
      remaining -= kept;
      return kept;
    });
  }

  function definePackers(tf) {
    const camel = (s) => String(s).replace(/_([a-z])/g, (_, c) => c.toUpperCase());

    // keras_hub.layers.StartEndPacker: truncate to sequence_length less the start and end values, add
    // them, pad; with return_padding_mask also a bool mask of the kept positions.
    class WebnetsStartEndPacker extends tf.layers.Layer {
      static className = 'WebnetsStartEndPacker';

      constructor(config) {
        super(Object.assign({}, config, {trainable: false}));
        this.sequenceLength = config.sequenceLength;
        this.startValue = asList(config.startValue);
        this.endValue = asList(config.endValue);
        this.padValue = config.padValue === null || config.padValue === undefined ? null : config.padValue;
        this.returnPaddingMask = !!config.returnPaddingMask;
        this.paddingSide = config.paddingSide || 'right';
      }

      call(inputs) {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const length = this.sequenceLength;
        const start = this.startValue || [], end = this.endValue || [];
        const kept = length - start.length - end.length;
        const rows = raggedRows(x).map((row) => start.concat(head(row, kept), end));
        const ids = rows.map((row) => padRow(row, length, this.padValue === null ? 0 : this.padValue, this.paddingSide));
        const shape = x.rank === 1 ? [length] : [rows.length, length];
        const out = tf.tensor(ids.flat(), shape, 'int32');
        if (!this.returnPaddingMask) return out;
        const mask = rows.map((row) => padRow(row.map(() => 1), length, 0, this.paddingSide));
        return [out, tf.tensor(mask.flat(), shape, 'bool')];
      }

      computeOutputShape(inputShape) {
        const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
        const out = [...shape.slice(0, -1), this.sequenceLength];
        return this.returnPaddingMask ? [out, out.slice()] : out;
      }

      getConfig() {
        return Object.assign({}, super.getConfig(), {
          sequenceLength: this.sequenceLength, startValue: this.startValue, endValue: this.endValue,
          padValue: this.padValue, returnPaddingMask: this.returnPaddingMask, paddingSide: this.paddingSide});
      }
    }

    // keras_hub.layers.MultiSegmentPacker: one input per segment; trim them together ("round_robin" or
    // "waterfall") to sequence_length less the start, separator and end values, then
    // start + seg0 + sep + seg1 + ... + end, padded; segment ids 0, 1, ... (the start value in
    // segment 0, each separator and the end in the segment before it; padding 0).
    class WebnetsMultiSegmentPacker extends tf.layers.Layer {
      static className = 'WebnetsMultiSegmentPacker';

      constructor(config) {
        super(Object.assign({}, config, {trainable: false}));
        this.sequenceLength = config.sequenceLength;
        this.startValue = asList(config.startValue) || [];
        this.endValue = asList(config.endValue) || [];
        this.sepValue = asList(config.sepValue) || [];
        this.padValue = config.padValue === null || config.padValue === undefined ? null : config.padValue;
        // tfjs turns snake_case string values of a config into camelCase on load.
        this.truncate = camel(config.truncate || 'round_robin');
        if (this.truncate !== 'roundRobin' && this.truncate !== 'waterfall') {
          fail(`${this.name}: truncate must be 'round_robin' or 'waterfall', got '${config.truncate}'.`);
        }
        this.paddingSide = config.paddingSide || 'right';
      }

      call(inputs) {
        const segments = (Array.isArray(inputs) ? inputs : [inputs]).map(raggedRows);
        const n = segments.length, length = this.sequenceLength;
        const budget = length - this.startValue.length - (n - 1) * this.sepValue.length - this.endValue.length;
        const trim = this.truncate === 'waterfall' ? waterfall : roundRobin;
        const ids = [], segmentIds = [];
        for (let b = 0; b < segments[0].length; b++) {
          const rows = segments.map((segment) => segment[b]);
          const kept = trim(rows.map((row) => row.length), budget);
          const tokens = this.startValue.slice(), owners = this.startValue.map(() => 0);
          rows.forEach((row, s) => {
            const piece = head(row, kept[s]);
            const tail = s === n - 1 ? this.endValue : this.sepValue;
            for (const id of piece.concat(tail)) { tokens.push(id); owners.push(s); }
          });
          ids.push(padRow(tokens, length, this.padValue === null ? 0 : this.padValue, this.paddingSide));
          segmentIds.push(padRow(owners, length, 0, this.paddingSide));
        }
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const shape = x.rank === 1 ? [length] : [ids.length, length];
        return [tf.tensor(ids.flat(), shape, 'int32'), tf.tensor(segmentIds.flat(), shape, 'int32')];
      }

      computeOutputShape(inputShape) {
        const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
        const out = [...shape.slice(0, -1), this.sequenceLength];
        return [out, out.slice()];
      }

      getConfig() {
        return Object.assign({}, super.getConfig(), {
          sequenceLength: this.sequenceLength, startValue: this.startValue, endValue: this.endValue,
          sepValue: this.sepValue, padValue: this.padValue, truncate: this.truncate, paddingSide: this.paddingSide});
      }
    }
    return [WebnetsStartEndPacker, WebnetsMultiSegmentPacker];
  }

  // Registers the layer classes on `tf` (as webnets-layers.js does) and returns their class names.
  function register(tf) {
    if (!tf || !tf.layers || !tf.serialization) {
      fail('register(tf) needs the TensorFlow.js module (@tensorflow/tfjs); in a page, load tf.min.js first.');
    }
    const classes = defineLayers(tf).concat(definePackers(tf));
    for (const cls of classes) tf.serialization.registerClass(cls);
    return classes.map((cls) => cls.className);
  }

  return {tokenizer, register, VERSION, SPEC_FORMAT};
});
