"""Helpers shared by the translators: config reading, dtypes, initializers,
regularizers, constraints and activations, Keras 3 -> tfjs-layers."""

from ...errors import UnsupportedLayerError
from .registry import Input, TfjsLayer

# Keras 3 initializer class -> (tfjs class, config keys tfjs reads). tfjs only
# needs these to deserialize the topology: weights are loaded over them
# (tfjs skips running initializers when weights come with the model).
_INITIALIZERS = {
    "Zeros": ("Zeros", ()),
    "Ones": ("Ones", ()),
    "Constant": ("Constant", ("value",)),
    "RandomNormal": ("RandomNormal", ("mean", "stddev", "seed")),
    "RandomUniform": ("RandomUniform", ("minval", "maxval", "seed")),
    "TruncatedNormal": ("TruncatedNormal", ("mean", "stddev", "seed")),
    "VarianceScaling": ("VarianceScaling", ("scale", "mode", "distribution", "seed")),
    "GlorotUniform": ("GlorotUniform", ("seed",)),
    "GlorotNormal": ("GlorotNormal", ("seed",)),
    "HeNormal": ("HeNormal", ("seed",)),
    "HeUniform": ("HeUniform", ("seed",)),
    "LecunNormal": ("LeCunNormal", ("seed",)),
    "LecunUniform": ("LeCunUniform", ("seed",)),
    "Orthogonal": ("Orthogonal", ("gain", "seed")),
    "Identity": ("Identity", ("gain",)),
    "IdentityInitializer": ("Identity", ("gain",)),
}

# Keras 3 activation name -> tfjs activation name, where the functions are equal.
ACTIVATIONS = {
    "linear": "linear",
    "relu": "relu",
    "relu6": "relu6",
    "elu": "elu",
    "selu": "selu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "softmax": "softmax",
    "log_softmax": "logSoftmax",
    "softplus": "softplus",
    "softsign": "softsign",
    "silu": "swish",
    "swish": "swish",
    "gelu": "gelu",
    "mish": "mish",
}

# Activations beyond Keras' names: keras-hub's tanh approximation of gelu (what keras.ops.gelu computes
# by default, approximate=True). tfjs' gelu_new is the same formula, but tfjs camelCases the name on load
# and then cannot find it, so webnets-layers.js registers it again as WebnetsGeluApproximate.
LIBRARY_ACTIVATIONS = {"keras_hub>gelu_approximate": "WebnetsGeluApproximate",
                       "gelu_approximate": "WebnetsGeluApproximate"}
# Every activation name a translator may meet, with its TF.js function.
TFJS_ACTIVATIONS = {**ACTIVATIONS, **LIBRARY_ACTIVATIONS}

# Keras 3 activations with no equal tfjs function but an exact lowering into
# tfjs layers (see `activation_pieces`).
LOWERED_ACTIVATIONS = ("leaky_relu", "hard_sigmoid", "hard_silu", "hard_swish")

# Config keys every Keras 3 layer has; translators never need to look at them.
_COMMON_KEYS = ("name", "trainable", "dtype")


def plain_dtype(dtype):
    """Keras 3 dtype (a string or a serialized DTypePolicy) -> tfjs dtype string."""
    if isinstance(dtype, dict):
        name = dtype.get("config", {}).get("name", "float32")
    else:
        name = dtype or "float32"
    if name in ("mixed_float16", "mixed_bfloat16", "float16", "bfloat16", "float64", "float32"):
        # tfjs computes in float32 only; mixed policies keep float32 variables.
        return "float32"
    if name.startswith(("int", "uint")):
        return "int32"
    if name == "bool":
        return "bool"
    return name


def serialized_class(obj):
    """(class_name, config) of a Keras 3 serialized object (dict) or a bare string."""
    if obj is None:
        return None, None
    if isinstance(obj, str):
        return obj, {}
    return obj.get("class_name"), obj.get("config") or {}


def initializer(obj):
    class_name, config = serialized_class(obj)
    if class_name is None:
        return None
    if class_name not in _INITIALIZERS:
        # Weights are always loaded over the initializer, so an initializer
        # TF.js lacks does not change predictions; Zeros keeps the model loadable.
        return {"class_name": "Zeros", "config": {}}
    tfjs_class, keys = _INITIALIZERS[class_name]
    out = {k: config[k] for k in keys if k in config}
    if out.get("distribution") == "untruncated_normal":  # Keras 3's name; tfjs knows it as normal
        out["distribution"] = "normal"
    return {"class_name": tfjs_class, "config": out}


def regularizer(obj):
    class_name, config = serialized_class(obj)
    if class_name is None:
        return None
    l1 = float(config.get("l1", 0.0)) if class_name in ("L1", "L1L2", "l1", "l1_l2") else 0.0
    l2 = float(config.get("l2", 0.0)) if class_name in ("L2", "L1L2", "l2", "l1_l2") else 0.0
    if class_name not in ("L1", "L2", "L1L2", "l1", "l2", "l1_l2"):
        # Regularizers only add training losses; inference is unaffected.
        return None
    return {"class_name": "L1L2", "config": {"l1": l1, "l2": l2}}


def constraint(obj):
    class_name, config = serialized_class(obj)
    if class_name is None:
        return None
    if class_name in ("MaxNorm", "UnitNorm", "NonNeg", "MinMaxNorm"):
        return {"class_name": class_name, "config": dict(config)}
    return None  # constraints only act in training


class ConfigReader:
    """Builds a tfjs config from a Keras 3 layer config, accounting for every key.

    Each Keras key must be copied, checked or explicitly ignored; `finish()`
    refuses keys nobody handled, so a Keras option that would change results
    can never be dropped silently.
    """

    def __init__(self, layer, config):
        self.layer = layer
        self.keras = dict(config)
        self.handled = set(_COMMON_KEYS) | {"build_config", "module", "registered_name"}
        self.out = {
            "name": config["name"],
            "trainable": bool(config.get("trainable", True)),
            "dtype": plain_dtype(config.get("dtype")),
        }

    @property
    def class_name(self):
        return type(self.layer).__name__

    def get(self, key, default=None):
        self.handled.add(key)
        return self.keras.get(key, default)

    def copy(self, *keys, convert=None):
        for key in keys:
            if key in self.keras:
                value = self.get(key)
                self.out[key] = convert(value) if convert else _plain(value)
        return self

    def initializers(self, *keys):
        return self.copy(*keys, convert=initializer)

    def regularizers(self, *keys):
        return self.copy(*keys, convert=regularizer)

    def constraints(self, *keys):
        return self.copy(*keys, convert=constraint)

    def ignore(self, *keys):
        """Keys with no effect on inference (or none TF.js could use)."""
        self.handled.update(keys)
        return self

    def require(self, key, allowed, fix):
        """Refuse unless the Keras value of `key` is one of `allowed`."""
        value = self.get(key, allowed[0])
        if _plain(value) not in [_plain(a) for a in allowed]:
            self.refuse(f"option {key}={value!r} is not supported by TF.js.", fix)
        return value

    def refuse(self, problem, fix):
        raise UnsupportedLayerError(self.out["name"], self.class_name, problem, fix)

    def finish(self, class_name=None, weights=None):
        unknown = sorted(set(self.keras) - self.handled)
        if unknown:
            self.refuse(
                f"webnets does not know the option(s) {', '.join(unknown)} of this layer "
                "(a newer Keras?), so it cannot prove the TF.js layer computes the same.",
                "rebuild the layer without these options, or report it to webnets "
                "so a translator can be added.",
            )
        return TfjsLayer(
            class_name or self.class_name,
            self.out,
            default_weights(self.layer) if weights is None else weights,
        )


def input_shape(reader, required=True):
    """Static input shape of the layer's first call, for translators that lower it.

    A layer inside a wrapper (TimeDistributed, Bidirectional) has no call of
    its own, so a lowering that depends on the shape cannot be planned there:
    None, or a refusal when `required`.
    """
    try:
        return tuple(reader.layer.input.shape)
    except (AttributeError, ValueError):
        if not required:
            return None
        reader.refuse("this option is lowered to several TF.js layers, which needs the layer's input shape, "
                      "and the layer has not been called on a tensor (it is inside a wrapper?).",
                      "apply the layer outside the wrapper, or avoid the option.")


def live_calls(layer):
    """The arguments (`.args`, `.kwargs`, `.keras_tensors`) of each call of the live layer in its graph.

    Keras 3 keeps them on the layer's inbound nodes; the saved config leaves out what only they
    hold, such as the mask a call received. A layer never called on tensors has none.
    """
    return [node.arguments for node in getattr(layer, "_inbound_nodes", None) or []
            if getattr(node, "arguments", None) is not None]


def receives_mask(layer):
    """Whether a Keras mask (Embedding(mask_zero=True), Masking) reaches any call of the layer.

    Keras 3 passes it as the call's `mask` argument; TF.js propagates the same masks itself, so
    a translator only needs to pick a mask-aware class.
    """
    return any(call.kwargs.get("mask") is not None for call in live_calls(layer))


def _plain(value):
    """Tuples -> lists, recursively, so configs compare and serialize as JSON."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def default_weights(layer):
    """(tfjs weight suffix, variable) for a layer whose tfjs weights share Keras' short names.

    Keras 3 also tracks random seed state as variables; TF.js has no such
    weights, so they are left out.
    """
    return [(v.name, v) for v in layer.weights if "seed_generator" not in v.path]


def activation_pieces(name, activation, layer, input_ref=None):
    """tfjs layers computing Keras activation `activation`, named so the last is `name`.

    Used for standalone `Activation` layers and for activations fused into a
    layer (Dense, Conv, ...) that tfjs has no equal function for.
    """
    first_input = [input_ref] if input_ref is not None else None
    if activation in TFJS_ACTIVATIONS:
        return [TfjsLayer("Activation", {"name": name, "activation": TFJS_ACTIVATIONS[activation]}, [], first_input)]
    if activation == "leaky_relu":
        # keras.activations.leaky_relu defaults to negative_slope=0.2; tfjs LeakyReLU to 0.3.
        return [TfjsLayer("LeakyReLU", {"name": name, "alpha": 0.2}, [], first_input)]
    if activation == "hard_sigmoid":
        # Keras 3: clip(x/6 + 0.5, 0, 1); tfjs hardSigmoid: clip(0.2x + 0.5, 0, 1).
        # So keras(x) == tfjs(x * 5/6): a Rescaling in front makes them equal.
        scale = TfjsLayer("Rescaling", {"name": f"{name}__scale", "scale": 5.0 / 6.0, "offset": 0.0}, [], first_input)
        return [scale, TfjsLayer("Activation", {"name": name, "activation": "hardSigmoid"})]
    if activation in ("hard_silu", "hard_swish"):
        # x * hard_sigmoid(x), with the hard_sigmoid lowered as above.
        scale = TfjsLayer("Rescaling", {"name": f"{name}__scale", "scale": 5.0 / 6.0, "offset": 0.0}, [], first_input)
        gate = TfjsLayer("Activation", {"name": f"{name}__gate", "activation": "hardSigmoid"})
        x = input_ref if input_ref is not None else Input(0)
        return [scale, gate, TfjsLayer("Multiply", {"name": name}, [], [x, gate])]
    raise UnsupportedLayerError(
        name,
        type(layer).__name__,
        f"activation '{activation}' has no equal in TF.js.",
        f"use one of {', '.join(sorted(set(ACTIVATIONS) | set(LOWERED_ACTIVATIONS)))}.",
    )


def activation_key(value):
    """Keras 3 activation config value -> plain name."""
    if isinstance(value, dict):  # serialized function
        return value.get("config", value.get("class_name"))
    return value or "linear"


def with_fused_activation(reader, key="activation", weights=None, class_name=None):
    """Finish a layer that carries an activation, splitting it off when tfjs lacks it."""
    activation = activation_key(reader.get(key, "linear"))
    if activation in TFJS_ACTIVATIONS:
        reader.out[key] = TFJS_ACTIVATIONS[activation]
        return reader.finish(class_name, weights)
    name = reader.out["name"]
    reader.out[key] = "linear"
    reader.out["name"] = f"{name}__linear"
    main = reader.finish(class_name, weights)
    return [main] + activation_pieces(name, activation, reader.layer, input_ref=main)
