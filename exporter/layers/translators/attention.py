"""Attention layers -> webnets classes (tfjs-layers 4.22 registers none of them).

`MultiHeadAttention`, `GroupedQueryAttention`, `Attention` and `AdditiveAttention` become
`WebnetsMultiHeadAttention`, `WebnetsGroupedQueryAttention`, `WebnetsAttention` and
`WebnetsAdditiveAttention` (exporter/runtime/webnets-layers.js), which compute what Keras 3 computes
with batched matMul, softmax and elementwise ops only.

Masks. Keras 3 gives an attention layer the Keras mask of each input (query, value, key), from
`Embedding(mask_zero=True)` or `Masking`. The tfjs executor hands a layer only the mask of its
first input, so the exporter passes every mask the layer uses as an explicit extra input: a
`WebnetsMask` piece, called on the masked tensor, outputs that tensor's mask as 0/1 floats. Which
inputs carry masks is read from the Keras graph (the symbolic tensors carry their masks), and the
TF.js config says where each input is in the layer's input list (integers, -1 where absent;
each distinct tensor is passed once, as tfjs' executor disposes a tensor too early when one
layer takes it twice).
"""

from dataclasses import dataclass

from .common import ConfigReader, live_calls
from .registry import Input, TfjsLayer, register

_MHA_NOTE = ("self/cross attention, key, value_dim, output_shape, use_bias, use_gate, sliding_window, "
             "use_causal_mask, attention_mask, Embedding/Masking masks, return_attention_scores; "
             "default attention_axes only")
_GQA_NOTE = ("num_key_value_heads (key/value heads shared by query heads), head_dim, self/cross attention, key, "
             "use_bias, use_gate, sliding_window, dropout (training only), use_causal_mask, attention_mask, "
             "Embedding/Masking masks, return_attention_scores; flash_attention computes the same attention")
_ATTENTION_NOTE = "use_scale, score_mode dot/concat, use_causal_mask, masks, return_attention_scores"


def _mask_of(tensor):
    return None if tensor is None else getattr(tensor, "_keras_mask", None)


def _calls(reader):
    calls = live_calls(reader.layer)
    if not calls:
        reader.refuse("it has never been called on tensors (it is inside a wrapper, or a Sequential model?), "
                      "and an attention layer needs its query and value inputs from a graph.",
                      "use it in a Functional model: layer(query, value).")
    return calls


def _same_for_every_call(reader, described):
    if len(set(described)) > 1:
        reader.refuse("it is called several times with inputs that differ in which of them carry a Keras mask "
                      "(or which are the same tensor), "
                      "and one TF.js layer has one configuration.",
                      "use one attention layer per way of calling it.")
    return described[0]


class _Inputs:
    """The TF.js layer's input list: each distinct tensor once (tfjs' executor disposes a tensor
    too early when one layer takes it twice), and WebnetsMask pieces for the masks."""

    def __init__(self, name):
        self.name, self.refs, self.pieces, self._seen = name, [], [], {}

    def add(self, key, ref):
        if key not in self._seen:
            self._seen[key] = len(self.refs)
            self.refs.append(ref)
        return self._seen[key]

    def tensor(self, tensor, ref):
        return -1 if tensor is None else self.add(("tensor", id(tensor)), ref)

    def mask(self, label, tensor, ref):
        """Index of the mask of `tensor` (a WebnetsMask piece called on it), -1 without one."""
        if tensor is None or _mask_of(tensor) is None:
            return -1
        key = ("mask", id(tensor))
        if key not in self._seen:
            piece = TfjsLayer("WebnetsMask", {"name": f"{self.name}__{label}_mask", "trainable": False,
                                              "dtype": "float32"}, [], [ref])
            self.pieces.append(piece)
            self.add(key, piece)
        return self._seen[key]


def _identity_pattern(tensors):
    """Which of the call's tensors are the same tensor (for comparing calls)."""
    ids = [None if t is None else id(t) for t in tensors]
    return tuple(None if i is None else ids.index(i) for i in ids)


def _flag_options(reader, call, allowed):
    """use_causal_mask / return_attention_scores from the call, refusing any other option."""
    options = dict(call.options)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        reader.refuse(f"it is called with the argument(s) {', '.join(f'{k}={options[k]!r}' for k in unknown)}, "
                      "which webnets cannot pass to TF.js.",
                      f"call it with the tensors and {' / '.join(allowed)} only.")
    for key in allowed:
        value = options.get(key, False)
        if not isinstance(value, bool):
            reader.refuse(f"the call argument {key}={value!r} is not a Python bool (it is a tensor or None?), "
                          "and TF.js needs it fixed at export time.", f"pass {key}=True or {key}=False.")
        reader.out[key] = value
    return reader.out


def _sub_dense(reader, dense, label):
    if getattr(dense, "quantization_mode", None):
        reader.refuse(f"its {label} projection is quantized ({dense.quantization_mode}) in Keras.",
                      "export the float model; webnets quantizes the exported weights itself (--quantize).")
    if getattr(dense, "lora_rank", None):
        reader.refuse(f"its {label} projection has LoRA weights (lora_rank={dense.lora_rank}).",
                      "merge the LoRA weights into the kernels first.")
    weights = [(f"{label}/kernel", dense._kernel)]
    if dense.bias is not None:
        weights.append((f"{label}/bias", dense.bias))
    return weights


def _projection_options(reader):
    """The options MultiHeadAttention and GroupedQueryAttention share (their EinsumDense projections')."""
    reader.copy("use_bias", "dropout")
    reader.out["use_gate"] = bool(reader.get("use_gate", False))
    reader.out["sliding_window"] = reader.get("sliding_window")
    reader.initializers("kernel_initializer", "bias_initializer")
    reader.regularizers("kernel_regularizer", "bias_regularizer").constraints("kernel_constraint", "bias_constraint")
    # Activity regularizers only add training losses (on the projections); TF.js does not add them.
    reader.ignore("activity_regularizer")
    reader.copy("seed")  # dropout seed: TF.js draws its own random numbers
    return reader


@dataclass
class _Graph:
    """How the graph calls a MultiHeadAttention-like layer (the same for every call)."""

    present: list  # the call's tensors, in TF.js input order: query, value, [key], [attention_mask]
    tensors: dict  # their KerasTensors (of the first call), None where absent
    masked: tuple  # whether query, value and key carry a Keras mask
    ranks: dict  # rank of query, value, key
    mask_rank: int  # rank of attention_mask (None without one)


_GIVEN = ("query", "value", "key", "attention_mask")


def _refuse_hand_passed_masks(reader, count):
    reader.refuse(f"it is called with {count} positional arguments; the 4th and later are masks "
                  "(query_mask, value_mask, key_mask) passed by hand, which webnets does not translate.",
                  "pass query, value and key (and attention_mask=...) only; Keras masks from "
                  "Embedding(mask_zero=True) or Masking are carried over automatically.")


def _heads_graph(reader, call):
    """Which tensors the layer gets, and which carry Keras masks, read from the Keras graph."""
    if call.args > 3:
        _refuse_hand_passed_masks(reader, call.args)
    present = list(_GIVEN[:call.args]) + list(call.tensors)
    if "query" not in present or "value" not in present:
        reader.refuse("it is called without a query or a value tensor.", "call it as layer(query, value).")
    described, call_tensors = [], None
    for live in _calls(reader):
        args, kwargs = list(live.args), dict(live.kwargs)
        if len(args) > 3:  # call.args counts tensors only: layer(q, v, None, query_mask) has 3
            _refuse_hand_passed_masks(reader, len(args))
        tensors = {key: (args[i] if i < len(args) else kwargs.get(key)) for i, key in enumerate(_GIVEN)}
        ranks = {key: len(t.shape) for key, t in tensors.items() if t is not None and key != "attention_mask"}
        described.append((tuple(_mask_of(tensors[k]) is not None for k in ("query", "value", "key")),
                          _identity_pattern([tensors[k] for k in _GIVEN]), tuple(sorted(ranks.items())),
                          None if tensors["attention_mask"] is None else len(tensors["attention_mask"].shape)))
        call_tensors = call_tensors or tensors
    masked, _, ranks, mask_rank = _same_for_every_call(reader, described)
    ranks = dict(ranks)
    if len(set(ranks.values())) != 1:
        reader.refuse(f"query, value and key have different ranks ({ranks}).",
                      "give them the same rank, (batch, steps, features).")
    if mask_rank is not None and mask_rank not in (3, 4):
        reader.refuse(f"its attention_mask has rank {mask_rank}; webnets translates (batch, T, S) and "
                      "(batch, heads, T, S) masks.", "pass attention_mask with shape (batch, T, S).")
    tensors = {key: call_tensors[key] if key in present else None for key in _GIVEN}
    return _Graph(present, tensors, masked, ranks, mask_rank)


def _wire(reader, layer, graph, class_name):
    """The WebnetsMask pieces and the attention layer itself, fed each distinct tensor once."""
    name = reader.out["name"]
    refs = {key: Input(i) for i, key in enumerate(graph.present)}
    tensors = graph.tensors
    inputs = _Inputs(name)
    index = {key: inputs.tensor(tensors[key], refs.get(key)) for key in _GIVEN}
    reader.out.update(
        value_index=index["value"], key_index=index["key"], attention_mask_index=index["attention_mask"],
        query_mask_index=inputs.mask("query", tensors["query"], refs["query"]),
        value_mask_index=inputs.mask("value", tensors["value"], refs["value"]),
        key_mask_index=inputs.mask("key", tensors["key"], refs.get("key")))
    weights = _sub_dense(reader, layer._query_dense, "query") + _sub_dense(reader, layer._key_dense, "key")
    if reader.out["use_gate"]:
        weights += _sub_dense(reader, layer._gate_dense, "gate")
    weights += _sub_dense(reader, layer._value_dense, "value")
    weights += _sub_dense(reader, layer._output_dense, "attention_output")
    main = reader.finish(class_name, weights)
    main.inputs = inputs.refs
    return inputs.pieces + [main]


@register("MultiHeadAttention", becomes="WebnetsMultiHeadAttention", note=_MHA_NOTE,
          call_tensors=_GIVEN)
def multi_head_attention(layer, config, call):
    reader = _projection_options(ConfigReader(layer, config))
    reader.copy("num_heads", "key_dim")
    reader.out["value_dim"] = reader.get("value_dim") or reader.keras["key_dim"]
    output_shape = reader.get("output_shape")
    reader.out["output_dims"] = None if not output_shape else (
        [output_shape] if isinstance(output_shape, int) else list(output_shape))
    _flag_options(reader, call, ("use_causal_mask", "return_attention_scores"))
    graph = _heads_graph(reader, call)

    # Only the default attention_axes: every axis between batch and features. After building,
    # Keras stores that default in the config ((1,) for sequences).
    rank = graph.ranks["query"]
    axes = reader.get("attention_axes")
    if axes is not None:
        axes = tuple(sorted(a % rank if a < 0 else a for a in ([axes] if isinstance(axes, int) else axes)))
        # Keras normalizes negative axes against the projected rank (rank + 1) minus one = rank.
        if axes != tuple(range(1, rank - 1)):
            reader.refuse(f"option attention_axes={config.get('attention_axes')!r} (attention over only some "
                          "of the axes between batch and features) is not supported by webnets.",
                          "use attention_axes=None (attention over all of them, the default), or reshape the "
                          "other axes into the batch before the layer.")
    if rank != 3 and (any(graph.masked) or graph.mask_rank is not None or reader.out["use_causal_mask"]
                      or reader.out["sliding_window"] is not None):
        reader.refuse(f"its inputs have rank {rank} (several attention axes), and masks, attention_mask, "
                      "use_causal_mask and sliding_window are only translated for (batch, steps, features) inputs "
                      "(Keras' causal and sliding-window masks only look at axis 1 there).",
                      "reshape the inputs to (batch, steps, features) first.")

    # Keras 3 computes attention two ways: with dropout, returned scores or several attention axes
    # through its Softmax layer, which zeroes masked positions after the softmax (a fully masked
    # query row gives zeros), otherwise through ops.dot_product_attention (such a row is uniform).
    reader.out["zero_masked"] = bool(reader.out["dropout"] > 0 or reader.out["return_attention_scores"] or rank != 3)
    return _wire(reader, layer, graph, "WebnetsMultiHeadAttention")


@register("GroupedQueryAttention", becomes="WebnetsGroupedQueryAttention", note=_GQA_NOTE, call_tensors=_GIVEN)
def grouped_query_attention(layer, config, call):
    """Keras 3 GroupedQueryAttention: MultiHeadAttention whose key and value have fewer heads, each shared
    by num_query_heads / num_key_value_heads query heads (Keras repeats them: ops.repeat(key, r, axis=2),
    so query head u reads key/value head u // r). WebnetsGroupedQueryAttention extends
    WebnetsMultiHeadAttention with that grouping; the weights have MultiHeadAttention's names and layout."""
    reader = _projection_options(ConfigReader(layer, config))
    reader.copy("head_dim", "num_query_heads", "num_key_value_heads")
    _flag_options(reader, call, ("use_causal_mask", "return_attention_scores"))
    # flash_attention is not in the config: it picks a kernel for the same softmax attention (the TensorFlow
    # backend has none and refuses it), so TF.js computes it plainly. Keras refuses scores with it at run time.
    if getattr(layer, "_flash_attention", False) and reader.out["return_attention_scores"]:
        reader.refuse("it is called with return_attention_scores=True and flash_attention=True, which Keras "
                      "itself refuses when the model runs.", "build the layer with flash_attention=False.")
    graph = _heads_graph(reader, call)  # (batch, steps, features) inputs: Keras' projections take no others
    # As for MultiHeadAttention: with dropout or returned scores Keras goes through its Softmax layer, which
    # zeroes a fully masked query row; otherwise ops.dot_product_attention, which leaves it uniform.
    reader.out["zero_masked"] = bool(reader.out["dropout"] > 0 or reader.out["return_attention_scores"])
    return _wire(reader, layer, graph, "WebnetsGroupedQueryAttention")


def _attention(layer, config, call, class_name, keys):
    reader = ConfigReader(layer, config)
    reader.copy(*keys)
    reader.copy("dropout", "seed")  # dropout acts in training only; TF.js draws its own random numbers
    _flag_options(reader, call, ("use_causal_mask", "return_attention_scores"))
    name = reader.out["name"]
    if call.args not in (2, 3):
        reader.refuse(f"it is called on {call.args} tensors.", "call it on [query, value] or [query, value, key].")
    described, given = [], None
    for call in _calls(reader):
        tensors = list(call.keras_tensors)
        explicit = call.kwargs.get("mask")
        if explicit is not None:
            reader.refuse("it is called with an explicit mask=[...] argument, which webnets does not translate.",
                          "let the masks come from Embedding(mask_zero=True) or Masking layers "
                          "(they are carried over automatically), or drop the argument.")
        # Keras uses the query's and the value's masks; the key's mask is unused.
        described.append((_mask_of(tensors[0]) is not None, _mask_of(tensors[1]) is not None,
                          _identity_pattern(tensors)))
        given = given or tensors
    _same_for_every_call(reader, described)
    inputs = _Inputs(name)
    index = [inputs.tensor(t, Input(i)) for i, t in enumerate(given)]
    reader.out.update(value_index=index[1], key_index=index[2] if len(given) == 3 else -1,
                      query_mask_index=inputs.mask("query", given[0], Input(0)),
                      value_mask_index=inputs.mask("value", given[1], Input(1)))
    main = reader.finish(class_name)
    main.inputs = inputs.refs
    return inputs.pieces + [main]


@register("Attention", becomes="WebnetsAttention", note=_ATTENTION_NOTE, call_tensors=())
def attention(layer, config, call):
    score_mode = config.get("score_mode", "dot")
    if score_mode not in ("dot", "concat"):
        ConfigReader(layer, config).refuse(f"option score_mode={score_mode!r} is not supported.",
                                           "use score_mode='dot' or 'concat'.")
    return _attention(layer, config, call, "WebnetsAttention", ("use_scale", "score_mode"))


@register("AdditiveAttention", becomes="WebnetsAdditiveAttention", note="use_scale, use_causal_mask, masks, "
          "return_attention_scores", call_tensors=())
def additive_attention(layer, config, call):
    return _attention(layer, config, call, "WebnetsAdditiveAttention", ("use_scale",))
