"""keras-hub tokenizer object -> the JSON spec webnets-tokenizers.js runs, token for token.

The spec holds what keras-hub's eager (TensorFlow-free) path computes with, read from the live
object, so the JavaScript needs nothing else:

- WordPieceTokenizer (BertTokenizer, ...): the vocabulary list, lowercase, strip_accents, split,
  split_on_cjk, suffix_indicator, oov_token and the special tokens kept whole when splitting.
- BytePairTokenizer (GPT2Tokenizer, ...): keras-hub runs it through a Hugging Face `tokenizers`
  object; the spec is read from that object's own JSON (vocabulary, merges, the special tokens it
  matches first, its Split pattern, add_prefix_space), and every setting of it the JavaScript does
  not implement is refused by name, so a keras-hub upgrade that changes the pipeline is caught here.
- SentencePieceTokenizer (GemmaTokenizer, LlamaTokenizer, ...): the model proto (read field by field,
  `read_model_proto`): pieces with scores and types, unigram or BPE, byte_fallback,
  the normalizer spec (precompiled charsmap, add_dummy_prefix, remove_extra_whitespaces,
  escape_whitespaces), the denormalizer, unk_surface, and the bos/eos ids add_bos / add_eos use.

Common keys: format, version, kind, class_name, sequence_length, pad_id (keras-hub pads with 0, or
the tokenizer's pad_token_id), dtype, special_tokens_ids ({"start_token_id": 1, ...}).

keras-hub 0.32 has two code paths per tokenizer: eager calls run the Python path (this module's
reference), `tf.data` / `tf.function` run TensorFlow Text. For BytePairTokenizer the two disagree:
the TF path pre-splits words with GPT-2's regex, the Python path hands `tokenizers` keras-hub's
split regex as a plain string, which `tokenizers` matches literally, so whole texts are merged as
one word. webnets reproduces the Python path.
"""

import base64
import struct

from ..errors import ExportError
from ..runtime import RUNTIME_FILE

__all__ = ["SPEC_FORMAT", "SPEC_VERSION", "TOKENIZERS_NAME", "TOKENIZERS_FILE", "tokenizer_spec",
           "write_tokenizer_files", "read_model_proto", "BEHAVIOUR_METHODS"]

SPEC_FORMAT = "webnets-tokenizer"
SPEC_VERSION = 1
TOKENIZERS_NAME = "webnets-tokenizers.js"
TOKENIZERS_FILE = RUNTIME_FILE.parent / TOKENIZERS_NAME

# The methods whose behaviour the JavaScript reproduces; a subclass overriding any of them computes
# something else (CLIPTokenizer, XLMRobertaTokenizer, ...), and is refused.
BEHAVIOUR_METHODS = {
    "word_piece": ("tokenize", "detokenize", "call", "_tokenize_python", "_detokenize_python",
                   "_tokenize_word_python", "_special_tokens_for_splitting", "id_to_token", "token_to_id"),
    "byte_pair": ("tokenize", "detokenize", "call", "_tokenize_tokenizers", "_detokenize_tokenizers",
                  "_set_vocabulary_and_merges_tokenizers", "id_to_token", "token_to_id"),
    "sentence_piece": ("tokenize", "detokenize", "call", "_tokenize_spm", "_detokenize_spm", "_set_proto_spm",
                       "id_to_token", "token_to_id"),
}


class _Refusal:
    """Builds the one-paragraph ExportError for a tokenizer."""

    def __init__(self, tokenizer):
        self.where = f"Tokenizer '{getattr(tokenizer, 'name', '?')}' ({type(tokenizer).__name__})"

    def __call__(self, problem, fix):
        return ExportError(f"{self.where}: {problem} webnets-tokenizers.js would not give keras-hub's token ids, "
                           f"so the export was stopped. Fix: {fix}")


def _kind(tokenizer):
    from keras_hub.tokenizers import BytePairTokenizer, SentencePieceTokenizer, WordPieceTokenizer

    for kind, base in (("word_piece", WordPieceTokenizer), ("byte_pair", BytePairTokenizer),
                       ("sentence_piece", SentencePieceTokenizer)):
        if isinstance(tokenizer, base):
            return kind, base
    return None, None


def tokenizer_spec(tokenizer) -> dict:
    """The JSON-serializable spec of a keras-hub tokenizer, for `webnetsTokenizers.tokenizer(spec)`.

    Raises ExportError (naming the option and what to do) for what the JavaScript does not implement.
    """
    refuse = _Refusal(tokenizer)
    kind, base = _kind(tokenizer)
    if kind is None:
        raise refuse("webnets runs keras-hub's WordPieceTokenizer, BytePairTokenizer and SentencePieceTokenizer "
                     "(and the model tokenizers built on them: BertTokenizer, GPT2Tokenizer, GemmaTokenizer, ...) "
                     "in JavaScript; this class is none of them.",
                     "tokenize in Python and give the model token ids, or use one of those tokenizers.")
    overridden = [m for m in BEHAVIOUR_METHODS[kind] if getattr(type(tokenizer), m, None) is not getattr(base, m, None)]
    if overridden:
        raise refuse(f"it overrides {', '.join(overridden)} of {base.__name__}, so it computes something the "
                     f"{base.__name__} in webnets-tokenizers.js does not.",
                     f"use {base.__name__} itself (or a subclass that only adds special tokens), or tokenize in "
                     "Python and give the model token ids.")
    spec = {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "kind": kind,
        "class_name": type(tokenizer).__name__,
        "sequence_length": tokenizer.sequence_length,
        "dtype": tokenizer.compute_dtype,
        "pad_id": 0,
        "special_tokens_ids": {f"{attr}_id": int(getattr(tokenizer, f"{attr}_id"))
                               for attr in dict.fromkeys(getattr(tokenizer, "_special_token_attrs", []))
                               if getattr(tokenizer, f"{attr}_id", None) is not None},
    }
    if kind == "word_piece":
        spec.update(_word_piece(tokenizer, refuse))
    elif kind == "byte_pair":
        spec.update(_byte_pair(tokenizer, refuse))
        spec["pad_id"] = int(getattr(tokenizer, "pad_token_id", None) or 0)
    else:
        spec.update(_sentence_piece(tokenizer, refuse))
        spec["pad_id"] = int(getattr(tokenizer, "pad_token_id", None) or 0)
    return spec


def write_tokenizer_files(tokenizer, directory, name="tokenizer.json") -> list:
    """Write `name` (the spec) and webnets-tokenizers.js into `directory`, for a page or Node program
    that tokenizes on its own: `webnetsTokenizers.tokenizer(await (await fetch('tokenizer.json')).json())`.
    Returns the two paths."""
    import json
    from pathlib import Path

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    spec_path, script_path = directory / name, directory / TOKENIZERS_NAME
    spec_path.write_text(json.dumps(tokenizer_spec(tokenizer), ensure_ascii=False), encoding="utf-8")
    script_path.write_bytes(TOKENIZERS_FILE.read_bytes())
    return [spec_path, script_path]


def _python_path_only(tokenizer, refuse):
    if not getattr(tokenizer, "_allow_python_workflow", True):
        raise refuse("it was built with _allow_python_workflow=False, so keras-hub tokenizes with TensorFlow Text, "
                     "whose pre-tokenizer differs from the Python one webnets reproduces.",
                     "build the tokenizer without _allow_python_workflow (keras-hub's default).")


def _word_piece(tokenizer, refuse):
    _python_path_only(tokenizer, refuse)
    if tokenizer.vocabulary is None:
        raise refuse("it has no vocabulary.", "pass `vocabulary=` (a list or a file) when building it.")
    special = tokenizer._special_tokens_for_splitting()
    return {
        "vocabulary": list(tokenizer.vocabulary),
        "lowercase": bool(tokenizer.lowercase),
        "strip_accents": bool(tokenizer.strip_accents),
        "split": bool(tokenizer.split),
        "split_on_cjk": bool(tokenizer.split_on_cjk),
        "suffix_indicator": tokenizer.suffix_indicator,
        "oov_token": tokenizer.oov_token,
        # The order keras-hub joins them into its alternation: the first that matches wins.
        "special_tokens": list(special) if special else None,
    }


# What the JavaScript implements of the `tokenizers` pipeline keras-hub builds (key: (expected, option name)).
_HF_MODEL = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False}


def _byte_pair(tokenizer, refuse):
    import json

    _python_path_only(tokenizer, refuse)
    if tokenizer.vocabulary is None:
        raise refuse("it has no vocabulary.", "pass `vocabulary=` and `merges=` when building it.")
    tokenizer._maybe_initialized_tokenizers()
    pipeline = json.loads(tokenizer._tokenizer.to_str())
    fix = ("use keras-hub's BytePairTokenizer pipeline as keras-hub 0.32 builds it, or tokenize in Python and give "
           "the model token ids.")

    def expect(what, value, wanted):
        if value != wanted and not (wanted is None and value in (None, 0.0)):
            raise refuse(f"its Hugging Face tokenizers pipeline has {what}={value!r}, which webnets-tokenizers.js "
                         f"does not implement (it implements {wanted!r}).", fix)

    for key in ("normalizer", "post_processor", "truncation", "padding"):
        expect(key, pipeline.get(key), None)
    model = pipeline["model"]
    for key, wanted in _HF_MODEL.items():
        expect(f"model.{key}", model.get(key), wanted)
    expect("decoder.type", (pipeline.get("decoder") or {}).get("type"), "ByteLevel")
    pre = pipeline.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    split_literal, byte_level = None, None
    for step in steps:
        if step.get("type") == "Split" and split_literal is None and byte_level is None:
            pattern = step.get("pattern", {})
            if "String" not in pattern or not pattern["String"]:
                raise refuse(f"its pre-tokenizer splits on the regular expression {pattern!r}; webnets-tokenizers.js "
                             "implements keras-hub's Split on a literal string.", fix)
            expect("Split.behavior", step.get("behavior"), "Isolated")
            expect("Split.invert", step.get("invert"), False)
            split_literal = pattern["String"]
        elif step.get("type") == "ByteLevel" and byte_level is None:
            expect("ByteLevel.use_regex", step.get("use_regex"), False)
            byte_level = step
        else:
            raise refuse(f"its pre-tokenizer has a {step.get('type')} step webnets-tokenizers.js does not implement.",
                         fix)
    if byte_level is None:
        raise refuse("its pre-tokenizer has no ByteLevel step.", fix)
    added = []
    for token in pipeline.get("added_tokens", []):
        for key, wanted in (("special", True), ("single_word", False), ("lstrip", False), ("rstrip", False),
                            ("normalized", False)):
            expect(f"added token {token['content']!r} {key}", token.get(key), wanted)
        added.append([token["content"], int(token["id"])])
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    return {
        "vocabulary": {token: int(i) for token, i in model["vocab"].items()},
        "merges": merges,
        "added_tokens": added,
        "split_literal": split_literal,
        "add_prefix_space": bool(byte_level.get("add_prefix_space")),
    }


# ---- The SentencePiece model proto, read with a small wire-format reader ----
# (The `sentencepiece` package's sentencepiece_model_pb2 needs protobuf >= 7, newer than the runtime
# TensorFlow pins.) Field numbers and defaults of src/sentencepiece_model.proto:
_MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}
_NORMALIZER_DEFAULTS = {"name": "", "precompiled_charsmap": b"", "add_dummy_prefix": True,
                        "remove_extra_whitespaces": True, "escape_whitespaces": True}
_NORMALIZER_FIELDS = {1: "name", 2: "precompiled_charsmap", 3: "add_dummy_prefix", 4: "remove_extra_whitespaces",
                      5: "escape_whitespaces"}
_TRAINER_DEFAULTS = {"model_type": 1, "treat_whitespace_as_suffix": False, "byte_fallback": False,
                     "unk_surface": " \u2047 "}
_TRAINER_FIELDS = {3: "model_type", 24: "treat_whitespace_as_suffix", 35: "byte_fallback", 44: "unk_surface"}


def _fields(data):
    """(field number, wire type, value) of one protobuf message: varints as int, fixed32 as bytes,
    length-delimited as bytes."""
    pos = 0

    def varint():
        nonlocal pos
        result = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result

    while pos < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value = varint()
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length = varint()
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"protobuf wire type {wire} (field {number}) is not in a SentencePiece model")
        yield number, wire, value


def _message(data, names, defaults):
    out = dict(defaults)
    for number, _, value in _fields(data):
        name = names.get(number)
        if name is None:
            continue
        default = defaults[name]
        if isinstance(default, bool):
            value = bool(value)
        elif isinstance(default, str):
            value = bytes(value).decode("utf-8")
        elif isinstance(default, bytes):
            value = bytes(value)
        out[name] = value
    return out


def read_model_proto(data: bytes) -> dict:
    """The parts of a SentencePiece ModelProto the JavaScript needs: pieces [piece, score, type],
    trainer spec options, normalizer spec, denormalizer spec (None when absent)."""
    pieces, trainer, normalizer, denormalizer = [], dict(_TRAINER_DEFAULTS), dict(_NORMALIZER_DEFAULTS), None
    for number, _, value in _fields(data):
        if number == 1:
            piece, score, kind = "", 0.0, 1
            for field, _, v in _fields(value):
                if field == 1:
                    piece = bytes(v).decode("utf-8")
                elif field == 2:
                    score = struct.unpack("<f", v)[0]
                elif field == 3:
                    kind = v
            pieces.append([piece, score, kind])
        elif number == 2:
            trainer = _message(value, _TRAINER_FIELDS, _TRAINER_DEFAULTS)
        elif number == 3:
            normalizer = _message(value, _NORMALIZER_FIELDS, _NORMALIZER_DEFAULTS)
        elif number == 5:
            denormalizer = _message(value, _NORMALIZER_FIELDS, _NORMALIZER_DEFAULTS)
    return {"pieces": pieces, "trainer": trainer, "normalizer": normalizer, "denormalizer": denormalizer}


def _sentence_piece(tokenizer, refuse):
    if tokenizer.proto is None:
        raise refuse("it has no SentencePiece model.", "pass `proto=` (the .model file or its bytes) when building it.")
    proto = read_model_proto(tokenizer.proto)
    trainer = proto["trainer"]
    model_type = _MODEL_TYPES.get(trainer["model_type"], str(trainer["model_type"]))
    if model_type not in ("unigram", "bpe"):
        raise refuse(f"its SentencePiece model_type is {model_type.upper()}; webnets-tokenizers.js implements "
                     "UNIGRAM and BPE (what T5, Gemma and Llama use).",
                     "train the SentencePiece model with model_type='unigram' or 'bpe'.")
    tokenizer._maybe_initialized_spm()
    processor = tokenizer._sentence_piece_spm
    for flag, token_id in (("add_bos", processor.bos_id()), ("add_eos", processor.eos_id())):
        if getattr(tokenizer, flag) and token_id < 0:
            raise refuse(f"{flag}=True but the SentencePiece model has no such piece (id -1).",
                         f"set {flag}=False, or train the model with that piece.")

    def normalizer(spec):
        return {
            "name": spec["name"],
            "add_dummy_prefix": spec["add_dummy_prefix"],
            "remove_extra_whitespaces": spec["remove_extra_whitespaces"],
            "escape_whitespaces": spec["escape_whitespaces"],
            "precompiled_charsmap": base64.b64encode(spec["precompiled_charsmap"]).decode("ascii") or None,
        }

    denormalizer = proto["denormalizer"]
    return {
        "model_type": model_type,
        "pieces": proto["pieces"],
        "normalizer": normalizer(proto["normalizer"]),
        # sentencepiece denormalizes decoded text only when the denormalizer has a charsmap.
        "denormalizer": normalizer(denormalizer) if denormalizer and denormalizer["precompiled_charsmap"] else None,
        "treat_whitespace_as_suffix": trainer["treat_whitespace_as_suffix"],
        "byte_fallback": trainer["byte_fallback"],
        "unk_surface": trainer["unk_surface"],
        "add_bos": bool(tokenizer.add_bos),
        "add_eos": bool(tokenizer.add_eos),
        "bos_id": int(processor.bos_id()),
        "eos_id": int(processor.eos_id()),
    }
