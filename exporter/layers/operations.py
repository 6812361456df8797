"""keras.ops calls applied to symbolic tensors in a Functional model.

Keras 3 lets a Functional graph contain bare operations (`x + 3.0`,
`ops.relu(x)`), which keras.applications use (MobileNetV3's hard-swish is
`relu6(x + 3) * (1/6)`). TF.js layers has no such nodes, but the common ones
are exact layers: arithmetic with a constant is a Rescaling, arithmetic of
two tensors is a merge layer, unary activations are Activation layers.
One translator per operation class, registered like the layer translators.
"""

from numbers import Number

from ..errors import UnsupportedLayerError
from .translators.common import ACTIVATIONS, LOWERED_ACTIVATIONS, activation_pieces
from .translators.registry import Input, TfjsLayer

OPERATION_TRANSLATORS = {}


def register_operation(*class_names):
    def decorate(function):
        for name in class_names:
            OPERATION_TRANSLATORS[name] = function
        return function

    return decorate


def _is_tensor(value):
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


def translate_operation(op, node):
    """Pieces for one call of a keras.ops operation (its serialized node holds the constants)."""
    class_name = type(op).__name__
    function = OPERATION_TRANSLATORS.get(class_name)
    args = node.get("args", []) if node else []
    if function is None or node is None or node.get("kwargs"):
        raise UnsupportedLayerError(
            op.name, class_name,
            "this keras.ops call inside the Functional graph has no TF.js layer equivalent.",
            "express it with built-in layers (Add, Multiply, Rescaling, Reshape, Activation, ...); "
            f"webnets lowers these ops: {', '.join(sorted(OPERATION_TRANSLATORS))}.",
        )
    return function(op, args)


def _rescaling(name, scale, offset):
    return TfjsLayer("Rescaling", {"name": name, "scale": float(scale), "offset": float(offset)})


def _binary(op, args, with_constant, merge_class):
    """x (op) c, c (op) x -> Rescaling; x (op) y -> merge layer."""
    if len(args) != 2:
        raise UnsupportedLayerError(op.name, type(op).__name__, "unexpected arguments.", "use layers instead.")
    a, b = args
    if _is_tensor(a) and _is_tensor(b):
        if merge_class is None:
            raise UnsupportedLayerError(op.name, type(op).__name__, "has no TF.js merge layer for two tensors.",
                                        "use Multiply with a reciprocal computed by layers, or restructure.")
        return merge_class(op)
    if _is_tensor(a) and isinstance(b, Number):
        return [with_constant(op.name, float(b), tensor_first=True)]
    if _is_tensor(b) and isinstance(a, Number):
        return [with_constant(op.name, float(a), tensor_first=False)]
    raise UnsupportedLayerError(op.name, type(op).__name__, "combines a tensor with a non-scalar constant.",
                                "use a layer (e.g. a Rescaling or a Dense) instead of a constant array.")


@register_operation("Add")
def add(op, args):
    return _binary(op, args, lambda name, c, tensor_first: _rescaling(name, 1.0, c),
                   lambda op: [TfjsLayer("Add", {"name": op.name})])


@register_operation("Subtract")
def subtract(op, args):
    def negate_second(op):
        neg = TfjsLayer("Rescaling", {"name": f"{op.name}__negate", "scale": -1.0, "offset": 0.0}, [], [Input(1)])
        return [neg, TfjsLayer("Add", {"name": op.name}, [], [Input(0), neg])]

    return _binary(op, args,
                   lambda name, c, tensor_first: _rescaling(name, 1.0, -c) if tensor_first else _rescaling(name, -1.0, c),
                   negate_second)


@register_operation("Multiply")
def multiply(op, args):
    return _binary(op, args, lambda name, c, tensor_first: _rescaling(name, c, 0.0),
                   lambda op: [TfjsLayer("Multiply", {"name": op.name})])


@register_operation("TrueDivide", "Divide")
def divide(op, args):
    def with_constant(name, c, tensor_first):
        if not tensor_first:
            raise UnsupportedLayerError(name, "TrueDivide", "divides a constant by a tensor.", "use layers instead.")
        return _rescaling(name, 1.0 / c, 0.0)

    return _binary(op, args, with_constant, None)


_UNARY = {"Relu": "relu", "Relu6": "relu6", "Sigmoid": "sigmoid", "Tanh": "tanh", "Silu": "silu",
          "Swish": "silu", "Gelu": "gelu", "Elu": "elu", "Selu": "selu", "Softplus": "softplus",
          "Softsign": "softsign", "HardSigmoid": "hard_sigmoid", "HardSilu": "hard_silu",
          "HardSwish": "hard_silu", "LeakyRelu": "leaky_relu", "Mish": "mish"}
assert set(_UNARY.values()) <= set(ACTIVATIONS) | set(LOWERED_ACTIVATIONS)


def _unary(op, args):
    if len(args) != 1 or not _is_tensor(args[0]) or any(v for k, v in vars(op).items() if k in ("approximate",)):
        raise UnsupportedLayerError(op.name, type(op).__name__, "is called with options TF.js cannot express.",
                                    "use the Activation layer instead.")
    return activation_pieces(op.name, _UNARY[type(op).__name__], op)


for _name in _UNARY:
    register_operation(_name)(_unary)
