"""Keras' string and lookup layers: TextVectorization, StringLookup, IntegerLookup, Hashing, HashedCrossing.

Each becomes a webnets class (exporter/runtime/webnets-layers.js) that reads its input out of the TF.js
tensor, computes in JavaScript what the Keras layer computes on its TensorFlow backend (ASCII-only
lowercasing, Keras' punctuation set, ASCII whitespace, Unicode code points, FarmHash and SipHash buckets,
bit for bit), and returns int32 / float32 tensors. The vocabulary and idf weights are read from the live
layer (adapted, given, or loaded from the .keras file's assets and variables) and travel in the layer's
config; strings travel hex-encoded (see `encoded_strings`), because tfjs rewrites string values of
configs on load and save.
"""

import codecs
import json

import numpy as np

from .common import ConfigReader, input_shape, live_calls, plain_dtype
from .preprocessing import _check_encoding_rank
from .registry import register

__all__ = ["encoded_strings", "STANDARDIZE_MODES", "SPLIT_MODES", "LOOKUP_OUTPUT_MODES"]

STANDARDIZE_MODES = (None, "lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT_MODES = (None, "whitespace", "character")
LOOKUP_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_INT32 = (-(2 ** 31), 2 ** 31 - 1)


def encoded_strings(**values):
    """The hex digits of the values' UTF-8 JSON: the one form of a string that survives tfjs' config
    rewriting (camelCase of every string value on load, snake_case and lowercase on save)."""
    return json.dumps(values, ensure_ascii=False).encode("utf-8").hex()


def _option_name(value):
    if callable(value):
        return f"the function {getattr(value, '__name__', repr(value))}"
    if isinstance(value, dict):  # a serialized function
        return f"the function {value.get('config', value.get('class_name'))}"
    return repr(value)


def _refuse_unless_dense(reader):
    if reader.get("sparse", False):
        reader.refuse("sparse=True returns a sparse tensor, which TF.js does not have.",
                      "use sparse=False (the same values, dense).")


def _refuse_unless_utf8(reader):
    encoding = reader.get("encoding", "utf-8")
    try:
        utf8 = codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        utf8 = False
    if not utf8:
        reader.refuse(f"encoding={encoding!r}: TF.js string tensors hold UTF-8, so webnets only runs utf-8 "
                      "vocabularies.", "use encoding='utf-8' (the default).")


def _idf_weights(reader, lookup, depth):
    """The idf weights the Keras lookup multiplies its counts by, one per output column."""
    weights = getattr(lookup, "idf_weights_const", None)
    if weights is None:
        reader.refuse("output_mode='tf_idf' and the layer has no idf weights (it was never adapted).",
                      "call adapt() or pass idf_weights with the vocabulary.")
    weights = np.asarray(weights, np.float32).reshape(-1)
    if weights.size != depth:
        reader.refuse(f"its {weights.size} idf weights do not cover its {depth} output columns.",
                      "set the vocabulary and idf weights again (set_vocabulary) before exporting.")
    return [float(w) for w in weights]


def _depth(reader, lookup):
    """The width of the encoded output: max_tokens with pad_to_max_tokens, else the vocabulary size."""
    size = lookup.vocabulary_size()
    if size <= lookup._token_start_index():
        reader.refuse("it has no vocabulary (it was never adapted, and none was given).",
                      "call adapt() on sample data, or pass vocabulary=, before exporting.")
    return int(lookup.max_tokens) if lookup.pad_to_max_tokens else int(size)


def _first_input_shape(reader):
    calls = live_calls(reader.layer)
    if calls and calls[0].args:
        first = calls[0].args[0]
        first = first[0] if isinstance(first, (list, tuple)) else first
        return tuple(first.shape)
    return input_shape(reader, required=False)


@register("TextVectorization", becomes="WebnetsTextVectorization",
          note="every standardize and split mode, ngrams, output_mode int / one_hot / multi_hot / count / tf_idf, "
          "output_sequence_length, pad_to_max_tokens; vocabulary and idf weights from the layer")
def text_vectorization(layer, config):
    reader = ConfigReader(layer, config)
    # What the layer holds is read from it below: its lookup's vocabulary, size and idf weights.
    reader.ignore("vocabulary", "idf_weights", "vocabulary_size", "max_tokens", "pad_to_max_tokens")
    standardize, split = reader.get("standardize"), reader.get("split")
    if standardize not in STANDARDIZE_MODES:
        reader.refuse(f"standardize={_option_name(standardize)}: a Python function cannot run in TF.js.",
                      "use standardize=None, 'lower_and_strip_punctuation', 'lower' or 'strip_punctuation' (and "
                      "do your own standardizing in JavaScript before the model).")
    if split not in SPLIT_MODES:
        reader.refuse(f"split={_option_name(split)}: a Python function cannot run in TF.js.",
                      "use split=None, 'whitespace' or 'character' (and split in JavaScript before the model "
                      "if you need more).")
    _refuse_unless_dense(reader)
    if reader.get("ragged", False):
        reader.refuse("ragged=True returns a ragged tensor, which TF.js does not have.",
                      "use ragged=False with output_sequence_length (rows padded with 0).")
    _refuse_unless_utf8(reader)
    mode = reader.get("output_mode", "int")
    ngrams = reader.get("ngrams")
    widths = None if ngrams is None else (list(range(1, ngrams + 1)) if isinstance(ngrams, int) else
                                         [int(w) for w in ngrams])
    sequence_length = reader.get("output_sequence_length")
    shape = _first_input_shape(reader)
    if shape is not None:
        if split is not None and not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
            reader.refuse(f"it splits inputs of shape {shape}; Keras splits one text per sample.",
                          "give it texts of shape (batch,) or (batch, 1).")
        if split is None and len(shape) > 2:
            reader.refuse(f"its input has shape {shape}; webnets runs it on (batch,) or (batch, tokens).",
                          "give it texts of shape (batch,) or (batch, tokens).")
        if split is None and len(shape) == 1 and (widths or sequence_length is not None
                                                  or mode in ("multi_hot", "count", "tf_idf")):
            option = "ngrams" if widths else ("output_sequence_length" if sequence_length is not None
                                              else f"output_mode='{mode}'")
            reader.refuse(f"with split=None on inputs of shape {shape}, Keras applies {option} across the batch "
                          "(it mixes samples), which a TF.js layer cannot return per sample.",
                          "give it texts of shape (batch, 1).")
    if mode == "one_hot" and split is not None:
        reader.refuse("output_mode='one_hot' with a split returns a ragged tensor (one row per token), which "
                      "TF.js does not have.", "use output_mode='multi_hot' or 'count', or split=None.")
    lookup = layer._lookup_layer
    depth = _depth(reader, lookup)
    reader.out.update(
        standardize=standardize, split=split, ngrams=widths, output_mode=mode, output_sequence_length=sequence_length,
        depth=depth, idf_weights=_idf_weights(reader, lookup, depth) if mode == "tf_idf" else None,
        strings=encoded_strings(tokens=[str(t) for t in layer.get_vocabulary(include_special_tokens=False)],
                                maskToken=lookup.mask_token, oovToken=lookup.oov_token))
    return reader.finish("WebnetsTextVectorization", weights=[])


def _lookup(layer, config, integer):
    reader = ConfigReader(layer, config)
    reader.ignore("vocabulary", "idf_weights", "vocabulary_size", "max_tokens", "pad_to_max_tokens")
    _refuse_unless_dense(reader)
    if integer:
        reader.require("vocabulary_dtype", ["int64"], "use vocabulary_dtype='int64' (the only one Keras takes).")
    else:
        _refuse_unless_utf8(reader)
    mode = reader.get("output_mode", "int")
    invert = bool(reader.get("invert", False))
    num_oov = int(reader.get("num_oov_indices", 1))
    mask, oov = reader.get("mask_token"), reader.get("oov_token")
    # Keras hashes integers by floormod unless oov_method='farmhash'; strings always by FarmHash (SipHash
    # with a salt).
    oov_method = reader.get("oov_method", "floormod")
    salt = reader.get("salt")
    tokens = layer.get_vocabulary(include_special_tokens=False)
    if integer:
        tokens = [int(t) for t in tokens]
        mask, oov = (None if mask is None else int(mask)), (None if oov is None else int(oov))
        outside = [t for t in tokens + [v for v in (mask, oov) if v is not None] if not _INT32[0] <= t <= _INT32[1]]
        if outside:
            reader.refuse(f"its vocabulary holds {outside[0]}, outside int32, and TF.js integer tensors are int32.",
                          "use a vocabulary of int32 values (remap larger ids first).")
    else:
        tokens = [str(t) for t in tokens]
    depth = _depth(reader, layer)
    _check_encoding_rank(reader, "count" if mode == "tf_idf" else mode, _first_input_shape(reader))
    output_dtype = ("int32" if integer else "string") if invert else ("int32" if mode == "int" else "float32")
    reader.out.update(
        strings=encoded_strings(tokens=tokens, maskToken=mask, oovToken=oov), num_oov_indices=num_oov, invert=invert,
        output_mode=mode, depth=depth, idf_weights=_idf_weights(reader, layer, depth) if mode == "tf_idf" else None,
        oov_method=oov_method, salt=None if salt is None else [str(int(s)) for s in salt], output_dtype=output_dtype)
    return reader.finish("WebnetsIntegerLookup" if integer else "WebnetsStringLookup", weights=[])


@register("StringLookup", becomes="WebnetsStringLookup",
          note="num_oov_indices (OOV buckets by FarmHash, or SipHash with salt), mask_token, invert, "
          "output_mode int / one_hot / multi_hot / count / tf_idf; vocabulary given or adapted")
def string_lookup(layer, config):
    return _lookup(layer, config, integer=False)


@register("IntegerLookup", becomes="WebnetsIntegerLookup",
          note="num_oov_indices (floormod, or oov_method='farmhash' with salt), mask_token, invert, every "
          "output_mode; int32 vocabularies")
def integer_lookup(layer, config):
    return _lookup(layer, config, integer=True)


@register("Hashing", becomes="WebnetsHashing",
          note="num_bins, mask_value, salt (FarmHash without, SipHash with: TensorFlow's buckets bit for bit), "
          "output_mode; strings, integers and floats")
def hashing(layer, config):
    reader = ConfigReader(layer, config).copy("num_bins", "output_mode")
    _refuse_unless_dense(reader)
    salt, mask = reader.get("salt"), reader.get("mask_value")
    _check_encoding_rank(reader, reader.out["output_mode"], _first_input_shape(reader))
    if isinstance(mask, (np.integer, np.floating)):
        mask = mask.item()
    reader.out.update(salt=None if salt is None else [str(int(s)) for s in salt],
                      strings=encoded_strings(maskValue=mask), output_dtype=plain_dtype(layer.dtype))
    return reader.finish("WebnetsHashing", weights=[])


@register("HashedCrossing", becomes="WebnetsHashedCrossing",
          note="num_bins, output_mode int / one_hot; string and integer features, TensorFlow's cross hash")
def hashed_crossing(layer, config):
    reader = ConfigReader(layer, config).copy("num_bins", "output_mode")
    _refuse_unless_dense(reader)
    reader.out["output_dtype"] = plain_dtype(layer.dtype)
    return reader.finish("WebnetsHashedCrossing", weights=[])
