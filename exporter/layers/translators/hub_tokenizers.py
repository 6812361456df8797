"""keras-hub's tokenizer layers as `WebnetsTokenizer`: raw strings in, int32 token ids out.

A model that calls a keras-hub WordPieceTokenizer, BytePairTokenizer or SentencePieceTokenizer (or a
model tokenizer built on one: BertTokenizer, GPT2Tokenizer, GemmaTokenizer, LlamaTokenizer, ...) on
a string input exports with the tokenizer inside: `WebnetsTokenizer` (exporter/runtime/
webnets-tokenizers.js, copied beside model.json and listed in meta.json `requires`) tokenizes each
string exactly as keras-hub's eager path does and pads or truncates to the tokenizer's
sequence_length. The tokenizer's spec (exporter/text/hub_tokenizers.py: vocabulary, merges or
SentencePiece model, options) travels in the layer config as the hex digits of its UTF-8 JSON, the
one form of a string tfjs' config rewriting (camelCase on load, snake_case on save) leaves alone.
"""

import json

from ...text.hub_tokenizers import BEHAVIOUR_METHODS, tokenizer_spec
from .common import ConfigReader, input_shape
from .registry import register

__all__ = ["TOKENIZER_CLASS", "encoded_spec"]

TOKENIZER_CLASS = "WebnetsTokenizer"
# Every option of the three tokenizers' get_config: the spec is read from the live object (which
# holds the vocabulary the config leaves to assets), so each key is accounted for there.
_SPEC_KEYS = ("config_file", "vocabulary", "merges", "proto", "sequence_length", "lowercase", "strip_accents", "split",
              "split_on_cjk", "suffix_indicator", "oov_token", "special_tokens", "special_tokens_in_strings",
              "add_prefix_space", "unsplittable_tokens", "add_bos", "add_eos")


def encoded_spec(spec) -> str:
    return json.dumps(spec, ensure_ascii=False).encode("utf-8").hex()


def hub_tokenizer(layer, config):
    reader = ConfigReader(layer, config)
    reader.ignore(*_SPEC_KEYS)
    spec = tokenizer_spec(layer)  # refuses (naming the option) what webnets-tokenizers.js does not implement
    if not spec["sequence_length"]:
        reader.refuse("it has no sequence_length, so keras-hub gives rows of different lengths (a ragged "
                      "tensor), which a TF.js tensor cannot hold.",
                      "set the tokenizer's sequence_length (rows are padded or truncated to it), or call "
                      "webnetsTokenizers.tokenizer(spec) in JavaScript for unpadded ids.")
    if "int" not in str(spec["dtype"]):
        reader.refuse(f"its dtype is {spec['dtype']!r}: it gives token strings, and a webnets model gives ids.",
                      "use an integer dtype (keras-hub's default int32).")
    shape = input_shape(reader, required=False)
    if shape is not None and len(shape) not in (1, 2):
        reader.refuse(f"it is called on inputs of shape {shape}; keras-hub tokenizes a batch of strings "
                      "(shape (batch,) or (batch, n)).", "give it strings of shape (batch,).")
    reader.out["dtype"] = "int32"
    reader.out["spec"] = encoded_spec(spec)
    return reader.finish(TOKENIZER_CLASS, weights=[])


# A model tokenizer (BertTokenizer, GPT2Tokenizer, GemmaTokenizer, ...) that overrides none of these
# computes what its base computes, and shares its translator.
_SUBCLASSES_UNLESS = tuple(sorted({m for methods in BEHAVIOUR_METHODS.values() for m in methods}))
_OUTPUT = "strings in, keras-hub's int32 ids out, padded or truncated to sequence_length"
register("keras_hub>WordPieceTokenizer", becomes=TOKENIZER_CLASS, subclasses_unless=_SUBCLASSES_UNLESS,
         note=f"and BertTokenizer, ...: lowercase, strip_accents, split, split_on_cjk, suffix_indicator, oov_token, "
         f"special tokens; {_OUTPUT}")(hub_tokenizer)
register("keras_hub>BytePairTokenizer", becomes=TOKENIZER_CLASS, subclasses_unless=_SUBCLASSES_UNLESS,
         note=f"and GPT2Tokenizer, ...: byte-level BPE, merges by rank, unsplittable tokens, add_prefix_space; "
         f"{_OUTPUT}")(hub_tokenizer)
register("keras_hub>SentencePieceTokenizer", becomes=TOKENIZER_CLASS, subclasses_unless=_SUBCLASSES_UNLESS,
         note=f"and GemmaTokenizer, LlamaTokenizer, ...: unigram and BPE models, byte fallback, the model's "
         f"normalizer and denormalizer, user-defined symbols, add_bos / add_eos; {_OUTPUT}")(hub_tokenizer)
