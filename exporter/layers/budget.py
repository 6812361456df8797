"""How many weights a model file's config declares, read as data before Keras builds anything.

Keras builds every layer of a file (allocating and initializing its weights) before it reads a
single stored weight, and `safe_mode` stops code, not memory: a 30 kB file whose config says
Dense(units=10**9) makes Keras allocate gigabytes. So the config is read here first, and each
layer's parameter count estimated from its options and input shape:

- Input shapes come from the layer's `build_config` (what Keras builds it with), else from the
  graph (Keras 2 files, TF.js topologies): shapes propagated from the InputLayers' `batch_shape`
  / `batch_input_shape` through the layers whose output shape is cheap to compute, each dimension
  they leave unknown taken from the shape Keras 3 serializes with the inbound tensor.
- Every estimate is a LOWER bound (an unknown dimension counts as 1, an unknown class as the
  weights its size options imply at least), so a model as Keras saved it is never refused.
  `tests/test_resource_limits.py` checks the estimate against Keras' own count for every
  model of the coverage and keras-hub corpora.

`check_budget` then refuses a config that declares more weights than the weights file could
hold, more parameters than a limit, or a tensor per sample larger than that limit.
"""

import math
import re
from dataclasses import dataclass, field

from ..errors import ExportError

DEFAULT_MAX_PARAMS = 2_000_000_000
# The most values one tensor may hold per sample by default: 2^24 float32 values are 64 MiB, while the
# largest activation of a keras.applications model at its own input size is under half of that. The
# verification run holds several such tensors for a batch of samples at once, in Keras and in TF.js,
# and writes the golden input into meta.json: a 30 kB .h5 declaring an 8 x 10^6 x 3 image (a Conv2D
# output of 6.4 * 10^7 values per sample, far under the parameter limit) took the converter past 3 GiB.
DEFAULT_MAX_TENSOR = 2 ** 24
# The fewest bytes one parameter can take in a weights file: float16 for float layers, half a byte
# for quantized ones (Keras' int4 packs two values per byte). A float32 model thus has 2x slack.
FLOAT_BYTES = 2
# Serialized objects inside layer configs that are not layers (they hold no weights).
_NOT_LAYERS = {"__keras_tensor__", "__tuple__", "__numpy__", "__tensor__", "__bytes__", "__lambda__",
               "DTypePolicy", "FloatDTypePolicy", "QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy",
               "GPTQDTypePolicy", "AWQDTypePolicy", "DTypePolicyMap"}
_NOT_LAYER_MODULES = ("keras.initializers", "keras.regularizers", "keras.constraints", "keras.activations",
                      "keras.losses", "keras.metrics", "keras.optimizers", "keras.src.initializers",
                      "keras.src.regularizers", "keras.src.constraints", "keras.src.dtype_policies")
_MODELS = {"Functional", "Model", "Sequential"}


@dataclass
class LayerCount:
    name: str
    class_name: str
    params: int  # a lower bound of the elements of its weights
    basis: str  # how it was counted, for the message
    quantized: bool = False

    @property
    def min_bytes(self):  # in integers: a crafted config's counts can be too large for a float
        return (self.params + 1) // 2 if self.quantized else self.params * FLOAT_BYTES


@dataclass
class Budget:
    layers: list = field(default_factory=list)  # LayerCount, the layers with weights
    largest_tensor: tuple = (0, "", "", None)  # (elements per sample, layer name, class, shape)

    @property
    def params(self):
        return sum(layer.params for layer in self.layers)

    @property
    def min_bytes(self):
        return sum(layer.min_bytes for layer in self.layers)

    def largest(self):
        return max(self.layers, key=lambda layer: layer.params, default=None)

    def tensor(self, elements, name, class_name, shape):
        if elements > self.largest_tensor[0]:
            self.largest_tensor = (elements, name, class_name, shape)


# ------------------------------------------------------------------------------------ values


def _dim(value):
    """A dimension: a non-negative whole number (1e9 written as a float too: a shape may take it),
    else None (unknown, or not a number at all)."""
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _mapping(value):
    """`value` if it is a dict, else an empty one: a crafted config may put anything anywhere."""
    return value if isinstance(value, dict) else {}


def _shape(value):
    """A shape as a tuple of dims (None where unknown), or None when `value` is not one shape."""
    if isinstance(value, dict) and value.get("class_name") == "__tuple__":
        value = _mapping(value.get("config")).get("value")
    if isinstance(value, (list, tuple)) and all(v is None or isinstance(v, int) for v in value):
        return tuple(_dim(v) for v in value)
    return None


def _shapes(value):
    """The shapes a build_config input_shape / shapes_dict holds, in order."""
    one = _shape(value)
    if one is not None:
        return [one]
    if isinstance(value, dict) and value.get("class_name") == "__tuple__":
        value = _mapping(value.get("config")).get("value")
    if isinstance(value, dict):
        return [s for v in value.values() for s in _shapes(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _shapes(v)]
    return []


def _at_least_one(value):
    return value if isinstance(value, int) and value > 0 else 1


def _prod(values):
    return math.prod(_at_least_one(v) for v in values)


def _per_sample(shape):
    return _prod(shape[1:]) if shape else 0


def _ints(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
    return []


def _kernel(config, rank):
    sizes = _ints(config.get("kernel_size", 1))
    return sizes * rank if len(sizes) == 1 else sizes


def _last(shape):
    return shape[-1] if shape else None


def _channels(shape, config):
    if not shape:
        return None
    return shape[1] if config.get("data_format") == "channels_first" else shape[-1]


def _n(value):
    return f"{value:,}" if isinstance(value, int) else "?"


def _quantized(config):
    """Whether the layer's dtype policy stores weights below float16 (int8, int4, float8, GPTQ...)."""
    policy = config.get("dtype")
    if isinstance(policy, dict):
        policy = _mapping(policy.get("config")).get("name")
    return isinstance(policy, str) and not re.match(r"(mixed_)?(b?float(16|32|64)|float)$", policy)


# ------------------------------------------------------------------------------------ parameters
# Each takes (config, input shapes) and returns (parameters, how they were counted). They follow
# the shapes of the weights each Keras layer's build() creates (keras/src/layers/...).


def _dense(config, inputs):
    units, features = _dim(config.get("units")), _last(inputs[0]) if inputs else None
    params = _at_least_one(units) * _at_least_one(features) + (_at_least_one(units) if config.get("use_bias", True)
                                                                else 0)
    return params, f"units {_n(units)} x {_n(features)} input features"


def _embedding(config, inputs):
    rows, width = _dim(config.get("input_dim")), _dim(config.get("output_dim"))
    tied = config.get("tie_weights", True)  # ReversibleEmbedding: an untied reverse projection doubles it
    params = _at_least_one(rows) * _at_least_one(width) * (1 if tied else 2)
    return params, f"input_dim {_n(rows)} x output_dim {_n(width)}"


def _einsum_dense(config, inputs):
    """EinsumDense: the kernel's letters sized from the input shape and the (partial) output_shape."""
    match = re.match(r"(\.\.\.)?([a-zA-Z]+)(\.\.\.)?,([a-zA-Z]+)->(\.\.\.)?([a-zA-Z]+)", str(config.get("equation")))
    if not match:
        return 0, "equation not understood"
    left, in_spec, right, kernel_spec, _, out_spec = match.groups()
    sizes = {}
    output = [_dim(d) for d in (_ints(config.get("output_shape")) if not isinstance(config.get("output_shape"), list)
                                else config.get("output_shape"))]
    if not right:  # the partial output shape ends where the output spec ends (Keras inserts the batch first)
        sizes.update({letter: d for letter, d in zip(reversed(out_spec), reversed(output)) if d})
    shape = inputs[0] if inputs else None
    if shape:
        aligned = zip(reversed(in_spec), reversed(shape)) if left else zip(in_spec, shape)
        for letter, d in aligned:
            if d and letter not in sizes:
                sizes[letter] = d
    kernel = [sizes.get(letter) for letter in kernel_spec]
    bias = [sizes.get(letter) for letter in str(config.get("bias_axes") or "")]
    return _prod(kernel) + (_prod(bias) if bias else 0), f"kernel {kernel_spec}={'x'.join(map(_n, kernel))}"


def _conv(rank, transpose=False):
    def count(config, inputs):
        filters, channels = _dim(config.get("filters")), _channels(inputs[0] if inputs else None, config)
        groups = _at_least_one(config.get("groups", 1)) if not transpose else 1
        kernel = _prod(_kernel(config, rank))
        per_group = _at_least_one(channels) // groups if channels else 1
        params = kernel * max(per_group, 1) * _at_least_one(filters)
        params += _at_least_one(filters) if config.get("use_bias", True) else 0
        return params, f"filters {_n(filters)} x kernel {kernel} x {_n(channels)} input channels"

    return count


def _depthwise(rank):
    def count(config, inputs):
        channels = _channels(inputs[0] if inputs else None, config)
        multiplier = _at_least_one(config.get("depth_multiplier", 1))
        kernel = _prod(_kernel(config, rank))
        params = kernel * _at_least_one(channels) * multiplier
        if config.get("filters") is not None:  # SeparableConv: then the pointwise kernel
            params += _at_least_one(channels) * multiplier * _at_least_one(config.get("filters"))
        return params, f"kernel {kernel} x {_n(channels)} channels x depth_multiplier {multiplier}"

    return count


def _recurrent(gates, rank=0):
    def count(config, inputs):
        shape = inputs[0] if inputs else None
        units = _dim(config.get("units", config.get("filters")))
        features = _channels(shape, config) if rank else _last(shape)
        kernel = _prod(_kernel(config, rank)) if rank else 1
        u = _at_least_one(units)
        params = gates * u * kernel * (_at_least_one(features) + u)
        if config.get("use_bias", True):
            params += gates * u
        return params, f"{gates} gates x units {_n(units)} x ({_n(features)} input features + units)"

    return count


def _attention(config, inputs, *, grouped=False):
    query = _last(inputs[0]) if inputs else None
    value = _last(inputs[1]) if len(inputs) > 1 else query
    key = _last(inputs[2]) if len(inputs) > 2 else value
    if grouped:
        heads, kv_heads = _at_least_one(config.get("num_query_heads")), _at_least_one(config.get("num_key_value_heads"))
        width = value_width = _at_least_one(config.get("head_dim"))
    else:
        heads = kv_heads = _at_least_one(config.get("num_heads"))
        width = _at_least_one(config.get("key_dim"))
        value_width = _at_least_one(config.get("value_dim") or config.get("key_dim"))
    out = _ints(config.get("output_shape"))
    out = _at_least_one(math.prod(out) if out else query)
    params = (heads * width * _at_least_one(query) + kv_heads * width * _at_least_one(key)
              + kv_heads * value_width * _at_least_one(value) + heads * value_width * out)
    return params, f"{heads} heads x key_dim {width} over {_n(query)} query features"


def _norm(config, inputs, *, per_channel):
    """BatchNormalization (+2 moving statistics), LayerNormalization, GroupNormalization, RMSNormalization."""
    shape = inputs[0] if inputs else None
    axes = _ints(config.get("axis", -1))
    width = 1
    if shape:
        for axis in axes:
            if -len(shape) <= axis < len(shape):
                width *= _at_least_one(shape[axis])
    rms = config.get("rms_scaling")  # LayerNormalization(rms_scaling=True): gamma only
    count = per_channel + (1 if config.get("center", True) and not rms else 0) + (
        1 if config.get("scale", True) or rms else 0)
    return count * width, f"{count} x {width} features"


def _prelu(config, inputs):
    shape = inputs[0] if inputs else None
    if not shape:
        return 1, "alpha"
    shared = {a % len(shape) for a in _ints(config.get("shared_axes") or [])}
    return _prod(1 if i in shared else d for i, d in enumerate(shape) if i), "alpha per feature"


def _hub_position(config, inputs):
    length = _dim(config.get("sequence_length"))
    return _at_least_one(length) * _at_least_one(_last(inputs[0]) if inputs else None), "sequence_length x features"


def _hub_token_and_position(config, inputs):
    vocab, length, width = (_dim(config.get(k)) for k in ("vocabulary_size", "sequence_length", "embedding_dim"))
    params = (_at_least_one(vocab) + _at_least_one(length)) * _at_least_one(width)
    return params, f"(vocabulary_size {_n(vocab)} + sequence_length {_n(length)}) x embedding_dim {_n(width)}"


def _hub_transformer(config, inputs):
    """keras-hub's TransformerEncoder/Decoder: self-attention (key_dim = features // heads) + a 2-layer MLP."""
    features = _at_least_one(_last(inputs[0]) if inputs else None)
    heads = _at_least_one(config.get("num_heads"))
    inner = _at_least_one(config.get("intermediate_dim"))
    attention = 4 * heads * max(features // heads, 1) * features
    return attention + 2 * inner * features, f"attention + 2 x intermediate_dim {_n(inner)} x {features} features"


PARAMS = {
    "Dense": _dense, "Embedding": _embedding, "ReversibleEmbedding": _embedding, "EinsumDense": _einsum_dense,
    "Conv1D": _conv(1), "Conv2D": _conv(2), "Conv3D": _conv(3),
    "Conv1DTranspose": _conv(1, True), "Conv2DTranspose": _conv(2, True), "Conv3DTranspose": _conv(3, True),
    "DepthwiseConv1D": _depthwise(1), "DepthwiseConv2D": _depthwise(2),
    "SeparableConv1D": _depthwise(1), "SeparableConv2D": _depthwise(2),
    "SimpleRNN": _recurrent(1), "SimpleRNNCell": _recurrent(1), "GRU": _recurrent(3), "GRUCell": _recurrent(3),
    "LSTM": _recurrent(4), "LSTMCell": _recurrent(4),
    "ConvLSTM1D": _recurrent(4, 1), "ConvLSTM2D": _recurrent(4, 2), "ConvLSTM3D": _recurrent(4, 3),
    "MultiHeadAttention": _attention,
    "GroupedQueryAttention": lambda c, i: _attention(c, i, grouped=True),
    "BatchNormalization": lambda c, i: _norm(c, i, per_channel=2),
    "LayerNormalization": lambda c, i: _norm(c, i, per_channel=0),
    "RMSNormalization": lambda c, i: _norm({**c, "center": False}, i, per_channel=0),
    "GroupNormalization": lambda c, i: _norm(c, i, per_channel=0),
    "PReLU": _prelu,
    # keras-hub's own layers (their backbones are counted by the generic fallback)
    "PositionEmbedding": _hub_position, "TokenAndPositionEmbedding": _hub_token_and_position,
    "TransformerEncoder": _hub_transformer, "TransformerDecoder": _hub_transformer,
}

# The generic fallback, for classes not above (keras-hub backbones, a user's own layers): a layer
# whose config names a vocabulary and a width holds that embedding; else one weight vector of its
# largest declared size at least.
_VOCABULARY_KEYS = ("vocabulary_size", "vocab_size", "num_embeddings")
_WIDTH_KEYS = ("hidden_dim", "embedding_dim", "embed_dim", "d_model", "hidden_size")
_SIZE_KEYS = ("units", "filters", "hidden_dim", "intermediate_dim", "embedding_dim", "embed_dim", "mlp_dim",
              "hidden_size", "intermediate_size", "d_model")


def _generic(config):
    vocab = next((_dim(config[k]) for k in _VOCABULARY_KEYS if _dim(config.get(k))), None)
    width = next((_dim(config[k]) for k in _WIDTH_KEYS if _dim(config.get(k))), None)
    if vocab and width:
        return vocab * width, f"vocabulary {vocab:,} x width {width:,} (generic estimate)"
    sizes = [(_dim(config.get(k)), k) for k in _SIZE_KEYS if _dim(config.get(k))]
    if sizes:
        size, key = max(sizes)
        return size, f"{key} {size:,} (generic estimate)"
    return 0, ""


# ------------------------------------------------------------------------------------ output shapes
# Only for layers whose output shape is cheap to know; others fall back to the shapes Keras 3
# serializes with the tensors that the next layers receive.

_SAME_SHAPE = {
    "Activation", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "BatchNormalization", "LayerNormalization", "GroupNormalization",
    "RMSNormalization", "UnitNormalization", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Rescaling",
    "Normalization", "Masking", "ActivityRegularization", "Identity", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom", "RandomContrast", "RandomBrightness", "SpectralNormalization",
}
_MERGES = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}


def _spatial(size, kernel, stride, dilation, padding):
    if size is None:
        return None
    if padding == "same":
        return -(-size // stride)
    return max((size - dilation * (kernel - 1) - 1) // stride + 1, 0)


def _sized(values, rank, default):
    values = [max(v, 1) for v in _ints(values)] or [default]  # a zero or negative stride sizes nothing
    return values * rank if len(values) == 1 else values


def _conv_output(rank, channels_out):
    def output(config, shape):
        first = config.get("data_format") == "channels_first"
        spatial = shape[2:] if first else shape[1:-1]
        if len(spatial) != rank:
            return None
        kernel = _sized(config.get("kernel_size", config.get("pool_size")), rank, 1)
        strides = _sized(config.get("strides") or config.get("pool_size"), rank, 1)
        dilation = _sized(config.get("dilation_rate", 1), rank, 1)
        if "Transpose" in str(config.get("_class")):
            return None
        sizes = tuple(_spatial(s, k, st, d, config.get("padding", "valid"))
                      for s, k, st, d in zip(spatial, kernel, strides, dilation))
        channels = channels_out(config, shape)
        return (shape[0], channels, *sizes) if first else (shape[0], *sizes, channels)

    return output


def _padded(class_name, config, shape, rank):
    """ZeroPadding / Cropping: each spatial size grows (shrinks) by both sides' amounts."""
    first = config.get("data_format") == "channels_first"
    spatial = shape[2:] if first else shape[1:-1]
    amounts = config.get("padding" if class_name.startswith("ZeroPadding") else "cropping")
    sides = [_ints(a) for a in amounts] if isinstance(amounts, list) and all(isinstance(a, list) for a in amounts) \
        else [_ints(a) * 2 for a in (_ints(amounts) * rank if len(_ints(amounts)) == 1 else _ints(amounts))]
    if len(spatial) != rank or len(sides) != rank or any(len(side) != 2 for side in sides):
        return None
    sign = 1 if class_name.startswith("ZeroPadding") else -1
    sizes = tuple(None if s is None else max(s + sign * sum(side), 0) for s, side in zip(spatial, sides))
    return (shape[0], shape[1], *sizes) if first else (shape[0], *sizes, shape[-1])


def _rank_of(class_name):
    found = re.search(r"([123])D", class_name)
    return int(found.group(1)) if found else None


def _output_shape(class_name, config, inputs):
    """The layer's first output shape from its input shapes, or None where not cheap to know."""
    shape = inputs[0] if inputs else None
    if shape is None:
        return None
    rank = _rank_of(class_name)
    if class_name in _SAME_SHAPE:
        return shape
    if class_name == "Dense":
        return (*shape[:-1], _dim(config.get("units")))
    if class_name in ("Embedding", "ReversibleEmbedding"):
        return (*shape, _dim(config.get("output_dim")))
    if class_name == "Flatten":
        return (shape[0], _prod(shape[1:]) if all(d is not None for d in shape[1:]) else None)
    if class_name == "RepeatVector":
        return (shape[0], _dim(config.get("n")), *shape[1:])
    if class_name == "Reshape":
        target = config.get("target_shape")
        target = [_dim(d) if d != -1 else -1 for d in (target if isinstance(target, list) else [])]
        if -1 in target and all(d is not None for d in shape[1:]):
            known = _prod(d for d in target if d != -1)
            target[target.index(-1)] = _prod(shape[1:]) // max(known, 1)
        return (shape[0], *(None if d == -1 else d for d in target))
    if class_name in _MERGES:
        same_rank = [s for s in inputs if s is not None and len(s) == len(shape)]
        return tuple(max((s[i] for s in same_rank if s[i] is not None), default=None) for i in range(len(shape)))
    if class_name == "Concatenate":
        axis = config.get("axis", -1)
        aligned = all(s is not None and len(s) == len(shape) for s in inputs)
        if not (aligned and isinstance(axis, int) and -len(shape) <= axis < len(shape)):
            return None
        joined = [s[axis] for s in inputs]
        out = list(shape)
        out[axis] = sum(joined) if all(d is not None for d in joined) else None
        return tuple(out)
    if class_name.startswith(("Conv", "SeparableConv", "DepthwiseConv")) and rank and "LSTM" not in class_name:
        def channels(c, s):
            if c.get("filters") is not None:
                return _dim(c.get("filters"))
            return _channels(s, c) * _at_least_one(c.get("depth_multiplier", 1)) if _channels(s, c) else None
        return _conv_output(rank, channels)({**config, "_class": class_name}, shape)
    if re.match(r"(Max|Average)Pooling[123]D$", class_name):
        return _conv_output(rank, lambda c, s: _channels(s, c))(config, shape)
    if class_name.startswith("Global") and rank:
        if config.get("keepdims"):
            first = config.get("data_format") == "channels_first"
            return (shape[0], shape[1], *[1] * rank) if first else (shape[0], *[1] * rank, shape[-1])
        return (shape[0], _channels(shape, config))
    if class_name.startswith(("ZeroPadding", "Cropping")) and rank:
        return _padded(class_name, config, shape, rank)
    if class_name.startswith("UpSampling") and rank:
        first = config.get("data_format") == "channels_first"
        spatial = shape[2:] if first else shape[1:-1]
        size = _sized(config.get("size"), rank, 2)
        if len(spatial) != rank:
            return None
        grown = tuple(None if s is None else s * _at_least_one(k) for s, k in zip(spatial, size))
        return (shape[0], shape[1], *grown) if first else (shape[0], *grown, shape[-1])
    if class_name in ("SimpleRNN", "GRU", "LSTM") and len(shape) == 3:
        units = _dim(config.get("units"))
        return (shape[0], shape[1], units) if config.get("return_sequences") else (shape[0], units)
    if class_name in ("MultiHeadAttention", "GroupedQueryAttention"):
        out = _ints(config.get("output_shape"))
        return (*shape[:-1], *out) if out else shape
    return None


# ------------------------------------------------------------------------------------ walking the config


def _is_layer(node):
    return (isinstance(node, dict) and isinstance(node.get("class_name"), str) and isinstance(node.get("config"), dict)
            and node["class_name"] not in _NOT_LAYERS
            and not str(node.get("module") or "").startswith(_NOT_LAYER_MODULES))


def _layer_name(entry):
    name = entry.get("name") or entry["config"].get("name")
    return str(name) if name is not None else "?"


def _tensor_refs(value, found):
    """(layer name, node index, tensor index, serialized shape) of each tensor a node receives."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            cfg = _mapping(value.get("config"))
            history = cfg.get("keras_history")
            if isinstance(history, list) and len(history) >= 3 and all(isinstance(i, int) for i in history[1:3]):
                found.append((str(history[0]), history[1], history[2], _shape(cfg.get("shape"))))
            return found
        for v in value.values():
            _tensor_refs(v, found)
    elif isinstance(value, (list, tuple)):
        if len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int) and isinstance(value[2], int):
            found.append((value[0], value[1], value[2], None))  # Keras 2 / TF.js: [name, node, tensor, kwargs]
            if len(value) > 3:
                _tensor_refs(value[3], found)
        else:
            for v in value:
                _tensor_refs(v, found)
    return found


def _graph_first(propagated, serialized):
    """One input's shape: what the graph makes of it (Keras builds a layer without build_config on
    that), each dimension the graph does not size taken from the shape serialized with the tensor."""
    if propagated is None or serialized is None or len(propagated) != len(serialized):
        return serialized if propagated is None else propagated
    return tuple(s if p is None else p for p, s in zip(propagated, serialized))


class _Walker:
    def __init__(self):
        self.budget = Budget()
        self.depth = 0

    def model(self, entry, outer_inputs=None):
        """Count a Functional / Sequential model's layers; returns its output shapes."""
        config = entry["config"]
        layers = config.get("layers") if isinstance(config, dict) else config  # old Sequential: a bare list
        if not isinstance(layers, list):
            return None
        if entry.get("class_name") == "Sequential" or "input_layers" not in config:
            return self._sequential(entry, layers, outer_inputs)
        return self._functional(config, layers)

    def _sequential(self, entry, layers, outer_inputs):
        shape = None
        build = _mapping(entry.get("build_config"))
        for found in _shapes(build.get("input_shape")):
            shape = found
        if shape is None and outer_inputs:
            shape = outer_inputs[0]
        for layer in layers:
            if not _is_layer(layer):
                continue
            shape = self.layer(layer, [shape] if shape is not None else [])
            shape = shape[0] if shape else None
        return [shape]

    def _functional(self, config, layers):
        produced = {}
        for layer in layers:
            if not _is_layer(layer):
                continue
            nodes = layer.get("inbound_nodes")
            nodes = nodes if isinstance(nodes, list) else []
            name = _layer_name(layer)
            calls = [self._received(node, produced) for node in nodes] or [[]]
            for index, received in enumerate(calls):
                outputs = self.layer(layer, received, count=index == 0)
                for tensor, shape in enumerate(outputs or []):
                    if shape is not None:
                        produced[(name, index, tensor)] = shape
        outs = _tensor_refs(config.get("output_layers") or [], [])
        return [produced.get((name, node, tensor)) for name, node, tensor, _ in outs]

    def _received(self, node, produced):
        shapes = []
        for name, node_index, tensor, serialized in _tensor_refs(node, []):
            propagated = produced.get((name, node_index, tensor))
            for shape in (propagated, serialized):
                if shape is not None:
                    self.budget.tensor(_per_sample(shape), name, "", shape)
            shapes.append(_graph_first(propagated, serialized))
        return shapes

    def layer(self, entry, received, count=True):
        """Count one layer (and the layers inside it); returns its output shapes, or None."""
        class_name, config = entry["class_name"], entry["config"]
        name = _layer_name(entry)
        self.depth += 1
        try:
            if self.depth > 64:  # a config nested this deep is not a model a person saved
                raise ExportError(f"Layer '{name}' ({class_name}) is nested more than 64 levels deep in the model "
                                  "config. Fix: save the model again with model.save('model.keras').")
            if class_name == "InputLayer":
                shape = _shape(config.get("batch_shape") or config.get("batch_input_shape"))
                if shape is not None:
                    self.budget.tensor(_per_sample(shape), name, class_name, shape)
                return [shape]
            if class_name in _MODELS or (isinstance(config.get("layers"), list) and "input_layers" in config):
                # A model called again (a shared submodel) holds no new weights.
                return self.model(entry, received) if count else None
            build = _mapping(entry.get("build_config"))
            built = _shapes(build.get("input_shape")) or _shapes(build.get("shapes_dict"))
            for shape in built:
                self.budget.tensor(_per_sample(shape), name, class_name, shape)
            if count:
                self._count(name, class_name, config, built or received)
            output = _output_shape(class_name, config, received) or (
                _output_shape(class_name, config, built) if built else None)
            if output is not None:
                self.budget.tensor(_per_sample(output), name, class_name, output)
            return [output]
        finally:
            self.depth -= 1

    def _count(self, name, class_name, config, inputs):
        estimate = PARAMS.get(class_name)
        params, basis = estimate(config, inputs) if estimate else _generic(config)
        if params:
            self.budget.layers.append(LayerCount(name, class_name, params, basis, _quantized(config)))
        self._inner_layers(class_name, config, inputs)

    def _inner_layers(self, class_name, config, inputs):
        """Layers held inside a layer's config: Bidirectional's, TimeDistributed's, an RNN's cell(s)
        (they see the outer layer's input), a keras-hub task's backbone, a user's wrapper (their
        inputs are unknown here: only their own build_config sizes them)."""
        if class_name == "Bidirectional":
            inner = [config.get("layer"), config.get("backward_layer") or config.get("layer")]
        elif class_name == "TimeDistributed":
            shape = inputs[0] if inputs else None
            inner, inputs = [config.get("layer")], [(shape[0], *shape[2:])] if shape and len(shape) > 1 else []
        elif class_name in ("RNN", "StackedRNNCells"):
            inner = [config.get("cell"), config.get("cells")]
        else:
            inner, inputs = [v for key, v in config.items() if key != "dtype"], []
        for value in inner:
            for nested in self._nested_layers(value):
                self.layer(nested, inputs if nested.get("build_config") is None else [])

    def _nested_layers(self, value):
        if _is_layer(value):
            return [value]
        if isinstance(value, (list, tuple)):
            return [v for item in value for v in self._nested_layers(item)]
        if isinstance(value, dict):
            return [v for item in value.values() for v in self._nested_layers(item)]
        return []


def estimate_model(config) -> Budget:
    """The parameters each layer of a model config (config.json, an .h5 model_config, a TF.js
    modelTopology) declares at least, and the largest tensor per sample it names."""
    walker = _Walker()
    if _is_layer(config):
        walker.layer(config, [])
    return walker.budget


def estimate_or_refuse(config, unreadable):
    """estimate_model(config), where a config that cannot be read as data (a crafted one) is an
    ExportError whose message is `unreadable(why)`."""
    try:
        return estimate_model(config)
    except ExportError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, ArithmeticError,
            RecursionError) as error:
        raise ExportError(unreadable(f"{type(error).__name__}: {error}")) from error


# ------------------------------------------------------------------------------------ refusing


def human_bytes(count_bytes):
    """'24.0 GB', in integers (a crafted config's counts can be too large for a float)."""
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count_bytes >= size:
            whole, tenth = divmod(count_bytes * 10 // size, 10)
            return f"{whole:,}.{tenth} {unit}"
    return f"{count_bytes:,} bytes"


def check_budget(budget, source, *, weights_bytes=None, weights_label="its weights file",
                 max_params=DEFAULT_MAX_PARAMS, option="--max-params", fix_damaged=None):
    """Refuse, before anything is allocated, a config that declares more than its weights could hold
    (weights_bytes: the size of the file that holds them; None to skip), more parameters than
    max_params (None: DEFAULT_MAX_PARAMS), or a tensor per sample larger than max_params values (None:
    DEFAULT_MAX_TENSOR; a limit the user sets applies to both)."""
    largest = budget.largest()
    if largest is None:
        return
    total = (f"its config declares at least {budget.params:,} parameters (layer '{largest.name}' "
             f"({largest.class_name}) alone {largest.params:,}: {largest.basis})")
    if weights_bytes is not None and budget.min_bytes > weights_bytes:
        raise ExportError(
            f"'{source}': {total}, at least {budget.min_bytes:,} bytes even stored as float16, but "
            f"{weights_label} holds only {weights_bytes:,} bytes. The config does not describe these weights (the "
            f"file is damaged or was tampered with), and building it would allocate {human_bytes(budget.params * 4)} "
            "before a single weight is read, so it was not loaded. Fix: "
            + (fix_damaged or "save the model again with model.save('model.keras'); convert only files you trust."))
    limit = DEFAULT_MAX_PARAMS if max_params is None else int(max_params)
    if budget.params > limit:
        raise ExportError(
            f"'{source}': {total}, more than the limit of {limit:,} ({option}). As float32 they take "
            f"{human_bytes(budget.params * 4)}, which would be allocated before a single weight is read, so the file "
            f"was not loaded. Fix: if you trust the file and this machine has the memory, raise the limit "
            f"({option} {budget.params:,}); the default, {DEFAULT_MAX_PARAMS:,}, is already more than a web page "
            "can load.")
    elements, name, class_name, shape = budget.largest_tensor
    limit = DEFAULT_MAX_TENSOR if max_params is None else int(max_params)
    if elements > limit:
        shown = " x ".join("?" if d is None else f"{d:,}" for d in shape[1:])
        raise ExportError(
            f"'{source}': layer '{name}'{f' ({class_name})' if class_name else ''} makes a tensor of {elements:,} "
            f"values per sample (shape {shown}), more than the limit of {limit:,} ({option}); one sample would "
            f"take {human_bytes(elements * 4)}, so the file was not loaded. Fix: check the model's input and layer "
            f"sizes; if you trust the file and have the memory, raise the limit ({option} {elements:,}).")
