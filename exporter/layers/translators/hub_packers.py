"""keras-hub's packers as webnets classes: token ids in, packed model inputs out.

`StartEndPacker` (GPT-2, Gemma, ... preprocessors) and `MultiSegmentPacker` (BERT-style text classifier
preprocessors) become `WebnetsStartEndPacker` / `WebnetsMultiSegmentPacker` (exporter/runtime/
webnets-tokenizers.js, which travels beside model.json). They take int32 ids of shape (batch, n); a
negative id is read as "no token", which is how a tokenizer that feeds a packer (`RaggedTokenizer`
below, exporter/layers/hub_preprocessors.py) hands over keras-hub's ragged rows.
"""

from ...text.hub_tokenizers import tokenizer_spec
from .common import ConfigReader, input_shape
from .hub_tokenizers import TOKENIZER_CLASS, encoded_spec
from .registry import register

__all__ = ["START_END_PACKER_CLASS", "MULTI_SEGMENT_PACKER_CLASS", "RAGGED_TOKENIZER_KEY", "RAGGED_PAD_ID"]

START_END_PACKER_CLASS = "WebnetsStartEndPacker"
MULTI_SEGMENT_PACKER_CLASS = "WebnetsMultiSegmentPacker"
RAGGED_TOKENIZER_KEY = "webnets>RaggedTokenizer"
# What a RaggedTokenizer pads its rows with: no vocabulary has a negative id, so the packer can tell
# the end of each text's ids.
RAGGED_PAD_ID = -1
_PACKER_METHODS = ("call", "_call_python", "_call_tf", "compute_output_shape", "_trim_inputs_python",
                   "_combine_inputs_python", "_trim_inputs_round_robin_python", "_trim_inputs_waterfall_python")


def _ids(reader, key, value):
    """A packer's special value as a list of ints (keras-hub takes an int, a str or a list of them)."""
    if value is None:
        return None
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        reader.refuse(f"its {key} is {value!r}: it packs token strings, and webnets packs int token ids.",
                      f"give {key} as token ids (tokenizer.token_to_id(...)) and pack the tokenizer's ids.")
    return [int(v) for v in values]


def _common(reader, layer, specials):
    shape = input_shape(reader, required=False)
    if shape is not None and len(shape) not in (1, 2):
        reader.refuse(f"it is called on ids of shape {shape}; webnets packs a batch of rows (batch, n).",
                      "give the packer ids of shape (batch, n).")
    length = reader.get("sequence_length")
    if not isinstance(length, int) or length <= 0:
        reader.refuse(f"its sequence_length is {length!r}; a TF.js tensor needs a fixed length.",
                      "set sequence_length to a positive int.")
    if specials > length:
        reader.refuse(f"its start, separator and end values ({specials} ids) do not fit in sequence_length="
                      f"{length}, so keras-hub gives rows of different lengths.",
                      "raise sequence_length, or use fewer special values.")
    side = reader.get("padding_side", "right")
    if side not in ("left", "right"):
        reader.refuse(f"its padding_side is {side!r}; keras-hub pads 'left' or 'right'.", "use one of those.")
    pad = reader.get("pad_value")
    if pad is not None and (not isinstance(pad, int) or isinstance(pad, bool)):
        reader.refuse(f"its pad_value is {pad!r}, not a token id.", "give pad_value as an int token id.")
    reader.out.update(sequence_length=length, padding_side=side, pad_value=pad, dtype="int32")


@register("keras_hub>StartEndPacker", becomes=START_END_PACKER_CLASS, subclasses_unless=_PACKER_METHODS,
          note="int ids in (negative = no token): start/end values, pad value, padding side, sequence_length, "
          "return_padding_mask")
def start_end_packer(layer, config):
    reader = ConfigReader(layer, config)
    start = _ids(reader, "start_value", reader.get("start_value"))
    end = _ids(reader, "end_value", reader.get("end_value"))
    _common(reader, layer, len(start or []) + len(end or []))
    reader.out.update(start_value=start, end_value=end, return_padding_mask=bool(reader.get("return_padding_mask")))
    return reader.finish(START_END_PACKER_CLASS, weights=[])


@register("keras_hub>MultiSegmentPacker", becomes=MULTI_SEGMENT_PACKER_CLASS, subclasses_unless=_PACKER_METHODS,
          note="one int input per segment (negative = no token): start/sep/end values, truncate round_robin or "
          "waterfall, pad value, padding side; token ids and segment ids out")
def multi_segment_packer(layer, config):
    reader = ConfigReader(layer, config)
    start = _ids(reader, "start_value", reader.get("start_value"))
    end = _ids(reader, "end_value", reader.get("end_value"))
    sep = _ids(reader, "sep_value", reader.get("sep_value"))
    sep = end if sep is None else sep  # keras-hub: sep_value defaults to end_value
    if start is None or end is None:
        reader.refuse("its start_value or end_value is None, which keras-hub's packer cannot pack either.",
                      "give start_value and end_value (token ids).")
    segments = _segment_count(layer)
    _common(reader, layer, len(start) + (segments - 1) * len(sep) + len(end))
    truncate = reader.get("truncate", "round_robin")
    if truncate not in ("round_robin", "waterfall"):
        reader.refuse(f"its truncate is {truncate!r}.", "use 'round_robin' or 'waterfall'.")
    reader.out.update(start_value=start, end_value=end, sep_value=sep, truncate=truncate)
    return reader.finish(MULTI_SEGMENT_PACKER_CLASS, weights=[])


def _segment_count(layer):
    try:
        inputs = layer.input
    except (AttributeError, ValueError):
        return 1
    return len(inputs) if isinstance(inputs, (list, tuple)) else 1


@register(RAGGED_TOKENIZER_KEY, becomes=TOKENIZER_CLASS,
          note="a keras-hub task's tokenizer feeding its packer (built by webnets for a task saved with its "
          "preprocessor): each text's ids, padded with -1 to the packer's sequence_length")
def ragged_tokenizer(layer, config):
    reader = ConfigReader(layer, config)
    reader.ignore("sequence_length")
    spec = tokenizer_spec(layer.tokenizer)  # refuses what webnets-tokenizers.js does not implement
    if "int" not in str(spec["dtype"]):
        reader.refuse(f"its tokenizer's dtype is {spec['dtype']!r}: it gives token strings.",
                      "use an integer dtype (keras-hub's default int32).")
    # The packer keeps at most sequence_length ids of any text (it only ever trims a prefix), so the rows
    # stop there; -1 marks the end of a shorter text.
    # A tokenizer with its own sequence_length hands keras-hub's packer padded rows (pads count as ids).
    if not spec["sequence_length"]:
        spec.update(sequence_length=int(layer.sequence_length), pad_id=RAGGED_PAD_ID)
    reader.out["dtype"] = "int32"
    reader.out["spec"] = encoded_spec(spec)
    return reader.finish(TOKENIZER_CLASS, weights=[])
