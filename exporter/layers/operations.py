"""keras.ops calls applied to symbolic tensors in a Functional model.

Keras 3 lets a Functional graph contain bare operations (`x + 3.0`,
`ops.relu(x)`), which keras.applications use (MobileNetV3's hard-swish is
`relu6(x + 3) * (1/6)`). TF.js layers has no such nodes, but the common ones
are exact layers: arithmetic with a constant is a Rescaling, arithmetic of
two tensors is a merge layer, unary activations are Activation layers.
One translator per operation class, registered like the layer translators.

The rest of a whitelisted table (`WEBNETS_OPERATIONS`: reductions, concatenate, stack,
reshape, transpose, expand_dims, squeeze, element-wise math, matmul, softmax, where and
comparisons) becomes one `WebnetsOperation` layer of webnets-layers.js, which calls the
equal TF.js op; anything outside it is refused, naming the op.
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
    if node is not None and not node.get("kwargs"):
        if function is not None:
            try:
                return function(op, args)
            except UnsupportedLayerError:
                if class_name not in WEBNETS_OPERATIONS:
                    raise
        if class_name in WEBNETS_OPERATIONS:
            return [webnets_operation(op, args)]
    raise UnsupportedLayerError(
        op.name, class_name,
        "this keras.ops call inside the Functional graph has no TF.js equivalent in webnets.",
        "express it with built-in layers (Add, Multiply, Rescaling, Reshape, Activation, ...); "
        f"webnets translates these ops: {', '.join(sorted(set(OPERATION_TRANSLATORS) | set(WEBNETS_OPERATIONS)))}.",
    )


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


def _axis(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _reduction(op):
    if getattr(op, "initial", None) is not None:
        raise UnsupportedLayerError(op.name, type(op).__name__, "is called with initial=..., which TF.js lacks.",
                                    "leave initial out (reduce, then take the maximum/minimum with a constant).")
    if getattr(op, "dtype", None) is not None:
        raise UnsupportedLayerError(op.name, type(op).__name__, "is called with a dtype.", "cast the input instead.")
    return {"axis": _axis(op.axis), "keepdims": bool(op.keepdims)}


def _transpose(op):
    return {"perm": None if op.axes is None else list(op.axes)}


# Keras 3 operation class -> (TF.js op name in WebnetsOperation, the op's options as config).
WEBNETS_OPERATIONS = {
    "Mean": ("mean", _reduction), "Sum": ("sum", _reduction), "Max": ("max", _reduction),
    "Min": ("min", _reduction), "Prod": ("prod", _reduction),
    "Concatenate": ("concat", lambda op: {"axis": op.axis}), "Stack": ("stack", lambda op: {"axis": op.axis}),
    "Reshape": ("reshape", lambda op: {"shape": list(op.newshape)}), "Transpose": ("transpose", _transpose),
    "ExpandDims": ("expandDims", lambda op: {"axis": op.axis}),
    "Squeeze": ("squeeze", lambda op: {"axis": _axis(op.axis)}),
    "Clip": ("clipByValue", lambda op: {"min": float(op.x_min), "max": float(op.x_max)}),
    "Softmax": ("softmax", lambda op: {"axis": op.axis}),
    **{name: (tfjs, lambda op: {}) for name, tfjs in {
        "Sqrt": "sqrt", "Square": "square", "Absolute": "abs", "Abs": "abs", "Exp": "exp", "Log": "log", "Erf": "erf",
        "Sign": "sign", "Negative": "neg", "Reciprocal": "reciprocal", "Floor": "floor", "Ceil": "ceil", "Sin": "sin",
        "Cos": "cos", "Rsqrt": "rsqrt", "Power": "pow", "Maximum": "maximum", "Minimum": "minimum", "Add": "add",
        "Subtract": "sub", "Multiply": "mul", "TrueDivide": "div", "Divide": "div", "Matmul": "matMul",
        "Greater": "greater", "GreaterEqual": "greaterEqual", "Less": "less", "LessEqual": "lessEqual",
        "Equal": "equal", "NotEqual": "notEqual", "Where": "where"}.items()},
}


def _operands(op, args):
    """[{"tensor": i} | {"constant": value}] in call order; tensors inside a list (concatenate) flattened."""
    operands, count = [], 0
    for arg in args:
        for value in (arg if isinstance(arg, list) and any(_is_tensor(v) for v in arg) else [arg]):
            if isinstance(value, dict) and value.get("class_name") == "__numpy__":  # a constant array
                value = value["config"]["value"]
            if _is_tensor(value):
                operands.append({"tensor": count})
                count += 1
            elif isinstance(value, (Number, list)) and not isinstance(value, bool):
                operands.append({"constant": value})
            else:
                raise UnsupportedLayerError(op.name, type(op).__name__, f"has the argument {value!r}, which webnets "
                                            "cannot pass to TF.js.", "use a number or a tensor there.")
    return operands


def webnets_operation(op, args):
    """One WebnetsOperation layer computing `op` on the call's tensors (inputs in call order)."""
    tfjs_op, options = WEBNETS_OPERATIONS[type(op).__name__]
    return TfjsLayer("WebnetsOperation", {"name": op.name, "op": tfjs_op, "operands": _operands(op, args),
                                          "options": options(op), "output_shape": list(op.output.shape)})