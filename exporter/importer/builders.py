"""One builder per TF.js layers class name -> a Keras 3 layer (the translators' inverse).

A builder reads every key of the tfjs config: a key naming a constructor argument of the Keras 3
class is passed on (initializers, regularizers and constraints when Keras can read them, else
the Keras default: they never change what the model predicts), a training-only or shape key is
dropped, and any other key, or a value Keras 3 computes differently, refuses the import with
one paragraph naming the layer and the option. webnets' lowered pieces (`x__to2d` Reshapes,
Rescaling + Add, ...) are ordinary tfjs layers and import as such; `Webnets*` classes map back
to the Keras 3 layers they compute.
"""

import functools
import inspect
import re

from ..errors import ExportError, UnsupportedLayerError

__all__ = ["ImportRefusal", "build_layer", "supported_classes", "REFUSED"]


class ImportRefusal(UnsupportedLayerError):
    """A tfjs layer, or an option of one, that no Keras 3 layer computes the same way."""

    def __init__(self, layer_name, class_name, problem, fix):
        self.layer_name, self.class_name = layer_name, class_name
        Exception.__init__(self, f"Layer '{layer_name}' ({class_name}): {problem} There is no Keras 3 equivalent "
                                 f"webnets can build, so the import was stopped and nothing was written. Fix: {fix}")


# tfjs activation names (as model.json writes them) -> Keras 3 activation names computing the same.
ACTIVATIONS = {
    None: "linear", "linear": "linear", "relu": "relu", "relu6": "relu6", "elu": "elu", "selu": "selu",
    "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax", "log_softmax": "log_softmax",
    "softplus": "softplus", "softsign": "softsign", "swish": "silu", "silu": "silu", "mish": "mish",
    "gelu": "gelu",
}
# tfjs' hard_sigmoid is clip(0.2x + 0.5, 0, 1), Keras 3's clip(x/6 + 0.5, 0, 1): the layer is built
# linear and followed by Rescaling(1.2) + Activation("hard_sigmoid"), which is tfjs' function exactly.
_TFJS_HARD_SIGMOID = "__tfjs_hard_sigmoid__"
_ACTIVATION_FIX = {
    "hard_sigmoid": "tfjs' hard_sigmoid is 0.2x + 0.5 clipped, Keras 3's is x/6 + 0.5: they differ (webnets "
                    "rebuilds it after a layer's output, but not inside a recurrent cell).",
    "gelu_new": "tfjs' gelu_new is the tanh approximation, which a Keras 3 activation string cannot name.",
}

# Keys that describe the input or the training set-up only, never the layer's computation.
_DROPPED = {"name", "trainable", "dtype", "batch_input_shape", "batch_size", "input_shape", "input_dtype",
            "input_dim_arg", "input_length", "implementation", "module", "registered_name", "build_config",
            "sparse", "ragged"}
# Keys that must hold one value; anything else is refused with the reason.
_FIXED = {
    "stateful": (False, "a stateful RNN keeps state between batches; Keras 3 needs a fixed batch size for it",
                 "import the model saved with stateful=false"),
    "time_major": (False, "time_major inputs are not supported by Keras 3", "save the model batch-major"),
}
_RENAMES = {"alpha": None}  # set per class below


def _params(cls):
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
                names.add(p.name)
    return names


def _serialized(kind, value):
    """A tfjs {class_name, config} initializer / regularizer / constraint as a Keras 3 object, or None."""
    import keras

    if value is None:
        return None
    if not isinstance(value, dict) or "class_name" not in value:
        return None
    config = dict(value.get("config") or {})
    if value["class_name"] == "VarianceScaling" and config.get("distribution") == "normal":
        config["distribution"] = "truncated_normal"  # Keras 2's name for it
    try:
        return getattr(keras, kind).get({"class_name": value["class_name"], "config": config})
    except Exception:  # noqa: BLE001 - one Keras lacks (e.g. tfjs' LeCunNormal spelled otherwise): default
        return None


def activation(layer, cls, value, key="activation"):
    if isinstance(value, dict):  # tf_keras may write {class_name, config}
        value = value.get("config", {}).get("name", value.get("class_name"))
    if isinstance(value, str):
        value = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", value).lower()  # tfjs accepts camelCase too
    if value in ACTIVATIONS:
        return ACTIVATIONS[value]
    if value == "hard_sigmoid" and key == "activation":
        return _TFJS_HARD_SIGMOID
    reason = _ACTIVATION_FIX.get(value, "Keras 3 has no activation of that name.")
    raise ImportRefusal(layer, cls, f"{key}={value!r}: {reason}", f"use one of {', '.join(sorted(k for k in ACTIVATIONS if k))} "
                        "in the TF.js model, or an explicit layer for the function.")


def keras_kwargs(name, class_name, config, keras_cls, *, renames=None, skip=(), fixed=None):
    """Constructor kwargs for keras_cls from a tfjs config, refusing keys it cannot place."""
    params = _params(keras_cls)
    renames = renames or {}
    fixed = {**_FIXED, **(fixed or {})}
    out = {"name": name}
    if "trainable" in config:
        out["trainable"] = bool(config["trainable"])
    for key, value in config.items():
        if key in skip or key in _DROPPED:
            continue
        if key in fixed:
            expected, problem, fix = fixed[key]
            if value not in (expected, None):
                raise ImportRefusal(name, class_name, f"{key}={value!r}: {problem}.", f"{fix}.")
            continue
        target = renames.get(key, key)
        if target is None:
            continue
        if key.endswith(("_initializer", "_regularizer", "_constraint")):
            kind = {"_initializer": "initializers", "_regularizer": "regularizers", "_constraint": "constraints"}[
                "_" + key.rsplit("_", 1)[1]]
            converted = _serialized(kind, value)
            if converted is not None and target in params:
                out[target] = converted
            continue
        if key.endswith("activation"):
            value = activation(name, class_name, value, key)
            if value == _TFJS_HARD_SIGMOID:
                _after.append(name)
                value = "linear"
        if target not in params:
            if value in (None, False, 0, 0.0, [], {}):
                continue  # an option left at "off" that Keras 3 simply does not have
            raise ImportRefusal(name, class_name, f"option {key}={value!r} has no counterpart in keras.layers."
                                f"{keras_cls.__name__}.", f"save the model without {key} (or with its default).")
        out[target] = value
    return out


_BUILDERS = {}
_after = []  # layers built in this build_layer call that need tfjs' hard_sigmoid after them


def builder(*class_names, keras_name=None, **options):
    """Register a builder; with keras_name and no function body, the generic one for that class."""

    def decorate(function):
        for class_name in class_names:
            _BUILDERS[class_name] = functools.partial(function, class_name=class_name) if function else None
        return function

    if keras_name is not None:
        def generic(name, config, class_name):
            import keras

            cls = getattr(keras.layers, keras_name)
            return cls(**keras_kwargs(name, class_name, config, cls, **options))

        for class_name in class_names:
            _BUILDERS[class_name] = functools.partial(generic, class_name=class_name)
        return None
    return decorate


REFUSED = {
    "WebnetsOperation": ("this is a keras.ops call of a Functional graph (webnets-layers.js' WebnetsOperation); "
                         "Keras 3 has it only as Python code (a Lambda), which a .keras file loaded with "
                         "safe_mode=True does not run.", "express it with built-in layers before exporting."),
    "ThresholdedReLU": ("Keras 3 has no ThresholdedReLU layer.", "use ReLU(threshold=...) in Keras 3 directly."),
    "Resizing": ("tfjs' own Resizing samples pixel corners (no half-pixel centres), Keras 3's Resizing "
                 "half-pixel: they differ.", "export with webnets (WebnetsResizing) instead."),
    "ConvLSTM2D": ("webnets' import does not rebuild ConvLSTM2D.", "keep the original Keras model."),
}


# ---------------------------------------------------------------------------------------- core / conv

for _tfjs, _keras in [("Dense", "Dense"), ("Conv1D", "Conv1D"), ("Conv2D", "Conv2D"), ("Conv3D", "Conv3D"),
                      ("Conv2DTranspose", "Conv2DTranspose"), ("Conv3DTranspose", "Conv3DTranspose"),
("Flatten", "Flatten"), ("Reshape", "Reshape"),
                      ("Permute", "Permute"), ("RepeatVector", "RepeatVector"), ("Activation", "Activation"),
                      ("Softmax", "Softmax"), ("PReLU", "PReLU"), ("Masking", "Masking"),
                      ("Dropout", "Dropout"), ("SpatialDropout1D", "SpatialDropout1D"),
                      ("SpatialDropout2D", "SpatialDropout2D"), ("GaussianNoise", "GaussianNoise"),
                      ("GaussianDropout", "GaussianDropout"), ("AlphaDropout", "AlphaDropout"),
                      ("Add", "Add"), ("Multiply", "Multiply"), ("Average", "Average"), ("Maximum", "Maximum"),
                      ("Minimum", "Minimum"), ("Subtract", "Subtract"), ("Concatenate", "Concatenate"),
                      ("Dot", "Dot"), ("Embedding", "Embedding"),
                      ("LayerNormalization", "LayerNormalization"), ("Rescaling", "Rescaling"),
                      ("CenterCrop", "CenterCrop"), ("Cropping1D", "Cropping1D"), ("Cropping2D", "Cropping2D"),
                      ("Cropping3D", "Cropping3D"), ("ZeroPadding1D", "ZeroPadding1D"),
                      ("ZeroPadding2D", "ZeroPadding2D"), ("ZeroPadding3D", "ZeroPadding3D"),
                      ("UpSampling1D", "UpSampling1D"), ("UpSampling3D", "UpSampling3D"),
                      ("WebnetsUnitNormalization", "UnitNormalization"),
                      ("WebnetsGroupNormalization", "GroupNormalization"),
                      ("WebnetsResizing", "Resizing"), ("WebnetsCenterCrop", "CenterCrop"),
                      ("WebnetsUpSampling2D", "UpSampling2D")]:
    builder(_tfjs, keras_name=_keras)
for _pool in ("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
              "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
              "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D"):
    builder(_pool, keras_name=_pool)
_ONE_GROUP = {"groups": (1, "Keras 3 has no grouped depthwise or separable convolution", "use groups=1")}
for _conv in ("DepthwiseConv2D", "SeparableConv2D", "SeparableConv1D"):
    builder(_conv, keras_name=_conv, fixed=_ONE_GROUP)
builder("WebnetsGlobalAveragePooling1D", keras_name="GlobalAveragePooling1D")
builder("LeakyReLU", keras_name="LeakyReLU", renames={"alpha": "negative_slope"})
builder("ELU", keras_name="ELU")
builder("SimpleRNN", keras_name="SimpleRNN")
builder("LSTM", keras_name="LSTM")
# webnets' recurrent classes keep Keras' weight layout; ignore_mask only records what Keras 3
# does anyway (no automatic mask for a layer called with initial_state).
builder("WebnetsDense", keras_name="Dense")
builder("WebnetsSimpleRNN", keras_name="SimpleRNN", skip=("ignore_mask",))
builder("WebnetsLSTM", keras_name="LSTM", skip=("ignore_mask",))
builder("WebnetsGRU", keras_name="GRU", skip=("ignore_mask",))


@builder("ReLU")
def _relu(name, config, class_name):
    import keras

    config = dict(config)
    if config.get("max_value") is not None:
        config["max_value"] = float(config["max_value"])
    return keras.layers.ReLU(**keras_kwargs(name, class_name, config, keras.layers.ReLU))


@builder("BatchNormalization")
def _batch_norm(name, config, class_name):
    import keras

    config = dict(config)
    axis = config.get("axis", -1)
    if isinstance(axis, (list, tuple)):  # tf_keras writes [3]
        if len(axis) != 1:
            raise ImportRefusal(name, class_name, f"axis={axis}: Keras 3's BatchNormalization takes one axis.",
                                "normalize over one axis.")
        config["axis"] = axis[0]
    return keras.layers.BatchNormalization(**keras_kwargs(name, class_name, config, keras.layers.BatchNormalization))


@builder("UpSampling2D")
def _upsampling2d(name, config, class_name):
    import keras

    if config.get("interpolation", "nearest") != "nearest":
        raise ImportRefusal(name, class_name, f"interpolation={config['interpolation']!r}: tfjs' bilinear "
                            "UpSampling2D samples pixel corners, Keras 3's half-pixel centres: they differ.",
                            "export with webnets (WebnetsUpSampling2D), or use nearest.")
    return keras.layers.UpSampling2D(**keras_kwargs(name, class_name, config, keras.layers.UpSampling2D))


@builder("GRU")
def _gru(name, config, class_name):
    import keras

    if config.get("reset_after"):
        raise ImportRefusal(name, class_name, "reset_after=true: tfjs' own GRU class computes reset_after=False "
                            "whatever this option says, so the weights and results would not be those of a Keras "
                            "GRU(reset_after=True).", "export the Keras GRU with webnets (WebnetsGRU), or train "
                            "it with reset_after=False.")
    kwargs = keras_kwargs(name, class_name, config, keras.layers.GRU, skip=("reset_after",))
    return keras.layers.GRU(reset_after=False, **kwargs)


@builder("WebnetsLayerNormalization")
def _rms_layer_norm(name, config, class_name):
    import keras

    kwargs = keras_kwargs(name, class_name, config, keras.layers.LayerNormalization, skip=("rms_scaling",))
    # webnets-layers.js: `rmsScaling === true` (the class also stands in for plain LayerNormalization).
    return keras.layers.LayerNormalization(rms_scaling=config.get("rms_scaling") is True, **kwargs)


@builder("WebnetsGroupedConv")
def _grouped_conv(name, config, class_name):
    import keras

    rank = int(config.get("rank", 2))
    cls = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D}.get(rank)
    if cls is None:
        raise ImportRefusal(name, class_name, f"rank={rank}: only 1 and 2 exist.", "re-export the model.")
    return cls(**keras_kwargs(name, class_name, config, cls, skip=("rank",)))


def _wrapped(name, config, class_name):
    inner = config.get("layer")
    if not isinstance(inner, dict) or "class_name" not in inner:
        raise ImportRefusal(name, class_name, "its config has no wrapped layer.", "re-save the model.")
    inner_config = dict(inner.get("config") or {})
    return build_layer(inner_config.get("name", f"{name}_inner"), inner["class_name"], inner_config)


@builder("TimeDistributed")
def _time_distributed(name, config, class_name):
    import keras

    layer = _wrapped(name, config, class_name)
    return keras.layers.TimeDistributed(layer, **keras_kwargs(name, class_name, config, keras.layers.TimeDistributed,
                                                               skip=("layer",)))


@builder("Bidirectional")
def _bidirectional(name, config, class_name):
    import keras

    layer = _wrapped(name, config, class_name)
    kwargs = keras_kwargs(name, class_name, config, keras.layers.Bidirectional, skip=("layer", "backward_layer"))
    backward = None
    if isinstance(config.get("backward_layer"), dict):
        back = config["backward_layer"]
        back_config = dict(back.get("config") or {})
        backward = build_layer(back_config.get("name", f"{name}_backward"), back["class_name"], back_config)
    return keras.layers.Bidirectional(layer, backward_layer=backward, **kwargs)


CALLS = {}  # layer -> how to call it on its inbound tensors, where that is not layer(tensors)


@builder("WebnetsMultiHeadAttention")
def _multi_head_attention(name, config, class_name):
    import keras

    config = dict(config)
    for key in ("query_mask_index", "value_mask_index", "key_mask_index"):
        if config.pop(key, -1) not in (-1, None):
            raise ImportRefusal(name, class_name, f"{key}: its inputs carry Embedding/Masking masks as separate "
                                "tensors, which webnets' import does not map back to Keras' implicit masks.",
                                "import the model without masks on the attention inputs.")
    if config.pop("use_gate", False):
        raise ImportRefusal(name, class_name, "use_gate=true: webnets' import does not map the gate's weights.",
                            "keep the original .keras file.")
    # zero_masked: derived by the exporter from dropout / return_attention_scores / rank, the conditions
    # under which Keras itself zeroes masked probabilities; the rebuilt layer has the same options.
    config.pop("zero_masked", None)
    slots = {k: config.pop(k, d) for k, d in (("value_index", 1), ("key_index", -1), ("attention_mask_index", -1))}
    causal = bool(config.pop("use_causal_mask", False))
    scores = bool(config.pop("return_attention_scores", False))
    if config.get("output_dims") is not None:
        config["output_shape"] = tuple(config["output_dims"])
    config.pop("output_dims", None)
    if config.get("sliding_window") is None:
        config.pop("sliding_window", None)
    layer = keras.layers.MultiHeadAttention(**keras_kwargs(name, class_name, config, keras.layers.MultiHeadAttention))

    def call(args):
        pick = lambda i: None if i is None or i < 0 else args[i]  # noqa: E731
        return layer(args[0], pick(slots["value_index"]), key=pick(slots["key_index"]),
                     attention_mask=pick(slots["attention_mask_index"]), use_causal_mask=causal,
                     return_attention_scores=scores)

    CALLS[layer] = call
    return layer


@builder("WebnetsAttention", "WebnetsAdditiveAttention")
def _attention(name, config, class_name):
    import keras

    config = dict(config)
    for key in ("query_mask_index", "value_mask_index"):
        if config.pop(key, -1) not in (-1, None):
            raise ImportRefusal(name, class_name, f"{key}: its inputs carry Embedding/Masking masks as separate "
                                "tensors, which webnets' import does not map back to Keras' implicit masks.",
                                "import the model without masks on the attention inputs.")
    value_index, key_index = config.pop("value_index", 1), config.pop("key_index", -1)
    causal = bool(config.pop("use_causal_mask", False))
    scores = bool(config.pop("return_attention_scores", False))
    cls = keras.layers.Attention if class_name == "WebnetsAttention" else keras.layers.AdditiveAttention
    layer = cls(**keras_kwargs(name, class_name, config, cls))

    def call(args):
        inputs = [args[0], args[value_index]] + ([args[key_index]] if key_index is not None and key_index >= 0 else [])
        return layer(inputs, use_causal_mask=causal, return_attention_scores=scores)

    CALLS[layer] = call
    return layer


@builder("WebnetsEinsumDense")
def _einsum_dense(name, config, class_name):
    """Keras' output_shape is full_output_shape without the batch axis; bias_axes are read off
    bias_shape, which Keras lays over the output's last axes from the first bias axis on (a size-1
    axis broadcasts the same either way)."""
    import keras

    config = dict(config)
    equation = str(config.pop("equation", ""))
    full, kernel_shape, bias_shape = (config.pop(k, None) for k in ("full_output_shape", "kernel_shape", "bias_shape"))
    if "..." in equation or "->" not in equation or not full:
        raise ImportRefusal(name, class_name, f"equation {equation!r}: webnets' import rebuilds EinsumDense only "
                            "for equations without '...' and with a known output shape.", "keep the original "
                            ".keras file.")
    output_spec = equation.split("->")[1]
    bias_axes = None
    if bias_shape:
        spec = output_spec[-len(bias_shape):]
        bias_axes = spec[0] + "".join(c for c, d in zip(spec[1:], bias_shape[1:]) if d != 1)
    layer = keras.layers.EinsumDense(equation, tuple(full[1:]), bias_axes=bias_axes,
                                     **keras_kwargs(name, class_name, config, keras.layers.EinsumDense))
    return layer


def supported_classes():
    return sorted(k for k, v in _BUILDERS.items() if v is not None)


def build_layer(name, class_name, config):
    """The Keras 3 layer computing what tfjs' `class_name` layer with this config computes, or a list
    of layers to apply in turn (the first one holds the weights and the name)."""
    if class_name in REFUSED:
        problem, fix = REFUSED[class_name]
        raise ImportRefusal(name, class_name, problem, fix)
    build = _BUILDERS.get(class_name)
    if build is None:
        raise ImportRefusal(name, class_name, "webnets' import has no builder for this TF.js class (a custom "
                            "layer, or one it does not know).", "replace the layer with a supported one; `webnets "
                            "import` maps " + ", ".join(supported_classes()) + ".")
    _after.clear()
    try:
        layer = build(name, config)
        if not _after:
            return layer
        import keras

        return [layer, keras.layers.Rescaling(1.2, name=f"{name}__tfjs_hard_sigmoid_scale"),
                keras.layers.Activation("hard_sigmoid", name=f"{name}__tfjs_hard_sigmoid")]
    except ExportError:
        raise
    except Exception as error:  # noqa: BLE001 - Keras validates options with many exception types
        raise ImportRefusal(name, class_name, f"Keras 3 rejected its options ({type(error).__name__}: "
                            f"{str(error).strip()[:300]}).", "check the layer's options in model.json.") from None
