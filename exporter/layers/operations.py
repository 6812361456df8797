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
from .translators.common import LOWERED_ACTIVATIONS, TFJS_ACTIVATIONS, activation_pieces
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
            return [webnets_operation(op, args[:1] if class_name == "GetItem" else args)]  # the key is an option
    raise UnsupportedLayerError(
        op.name, class_name,
        "this keras.ops call inside the Functional graph has no TF.js equivalent in webnets.",
        "express it with built-in layers (Add, Multiply, Rescaling, Reshape, Activation, ...); "
        f"webnets translates these ops: {', '.join(sorted(set(OPERATION_TRANSLATORS) | set(WEBNETS_OPERATIONS)))}.",
    )


def _same_shapes(op):
    """Whether every tensor operand of the op's call has the same static shape (batch axis included)."""
    shapes = {tuple(t.shape) for t in op._inbound_nodes[0].arguments.keras_tensors}
    return len(shapes) == 1


def _rescaling(name, scale, offset):
    return TfjsLayer("Rescaling", {"name": name, "scale": float(scale), "offset": float(offset)})


def _binary(op, args, with_constant, merge_class):
    """x (op) c, c (op) x -> Rescaling; x (op) y -> merge layer."""
    if len(args) != 2:
        raise UnsupportedLayerError(op.name, type(op).__name__, "unexpected arguments.", "use layers instead.")
    a, b = args
    if _is_tensor(a) and _is_tensor(b):
        if not _same_shapes(op):
            # A TF.js merge layer does not broadcast as numpy does (it expands the lower rank at
            # axis 1): x * scale with scale of shape (width,) needs the op itself.
            raise UnsupportedLayerError(op.name, type(op).__name__, "broadcasts tensors of different shapes.",
                                        "give both operands the same shape.")
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
assert set(_UNARY.values()) | {"gelu_approximate"} <= set(TFJS_ACTIVATIONS) | set(LOWERED_ACTIVATIONS)


def _unary(op, args):
    if len(args) != 1 or not _is_tensor(args[0]):
        raise UnsupportedLayerError(op.name, type(op).__name__, "is called with options TF.js cannot express.",
                                    "use the Activation layer instead.")
    activation = _UNARY[type(op).__name__]
    if getattr(op, "approximate", False):  # ops.gelu's default: the tanh approximation
        activation = "gelu_approximate"
    return activation_pieces(op.name, activation, op)


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


def _reshape(op):
    """The target shape, with dims unknown at export (None: a batch or sequence length read from
    ops.shape) as `copy`: the input's size on the same axis at run time, where the input's axis is
    unknown too (reshapes that keep the leading batch and sequence axes); one other as -1."""
    shape, source = list(op.newshape), list(op.input.shape)
    copy = [i for i, d in enumerate(shape) if d is None and i < len(source) and source[i] is None]
    rest = [i for i, d in enumerate(shape) if d is None and i not in copy]
    if len(rest) + sum(1 for d in shape if d == -1) > 1:
        raise UnsupportedLayerError(op.name, "Reshape", f"reshapes {tuple(source)} to {tuple(shape)}, with several "
                                    "sizes known only at run time.", "reshape with at most one unknown (-1) size.")
    return {"shape": [-1 if i in rest else d for i, d in enumerate(shape)], "copy": copy}


def _transpose(op):
    return {"perm": None if op.axes is None else list(op.axes)}


def _get_item(op):
    """x[key] with ints, slices (step >= 1), Ellipsis and None: one slice per input axis, then the layout.

    `axes` has one entry per input axis, {"index": i} or {"start", "stop", "step"} with Python's
    meaning (negative from the end, clamped); `layout` lists the output axes: {"axis": i} keeps
    input axis i, {"new": true} is a None (a new axis of size 1). Integer-indexed axes drop out.
    """
    key = op._inbound_nodes[0].arguments.args[1]
    key = list(key) if isinstance(key, (tuple, list)) else [key]
    rank = len(op.input.shape)
    if any(not (k is None or k is Ellipsis or isinstance(k, (int, slice))) or isinstance(k, bool) for k in key):
        raise UnsupportedLayerError(op.name, "GetItem", f"indexes with {key!r}; webnets exports ints, slices, "
                                    "`...` and None.", "index with constants, or use ops.take for tensor indices.")
    if Ellipsis in key:
        at = key.index(Ellipsis)
        fill = rank - sum(1 for k in key if k is not None and k is not Ellipsis)
        key = key[:at] + [slice(None)] * fill + key[at + 1:]
    axes, layout = [], []
    for k in key:
        if k is None:
            layout.append({"new": True})
            continue
        if isinstance(k, int):
            axes.append({"index": k})
            continue
        if k.step is not None and k.step < 1:
            raise UnsupportedLayerError(op.name, "GetItem", f"slices with step {k.step}.",
                                        "use ops.flip for a reversed axis, then a positive step.")
        layout.append({"axis": len(axes)})
        axes.append({"start": k.start, "stop": k.stop, "step": k.step or 1})
    while len(axes) < rank:  # unindexed trailing axes are kept whole
        layout.append({"axis": len(axes)})
        axes.append({"start": None, "stop": None, "step": 1})
    return {"axes": axes, "layout": layout}


def _split(op):
    """ops.split(x, n or indices, axis) -> the sizes of the pieces (tf.split's numOrSizeSplits)."""
    axis = op.axis
    size = op.input.shape[axis]
    sections = op.indices_or_sections
    if isinstance(sections, int):
        return {"sizes": sections, "axis": axis}
    if size is None:
        raise UnsupportedLayerError(op.name, "Split", "splits an axis of unknown size at indices.",
                                    "split into equal sections (an int) instead.")
    bounds = [0, *sections, size]
    return {"sizes": [b - a for a, b in zip(bounds, bounds[1:])], "axis": axis}


def _einsum(op):
    if "..." in op.subscripts or op.subscripts.count(",") != 1 or "->" not in op.subscripts:
        raise UnsupportedLayerError(op.name, "Einsum", f"has the equation {op.subscripts!r}; webnets exports "
                                    "two-operand equations with explicit letters and an explicit output.",
                                    "write the equation as 'abc,acd->abd' (no '...').")
    return {"equation": op.subscripts.replace(" ", "")}


def _repeat(op):
    if not isinstance(op.repeats, int) or op.axis is None:
        raise UnsupportedLayerError(op.name, "Repeat", "repeats by a list or over a flattened tensor.",
                                    "repeat every entry the same number of times along one axis.")
    return {"repeats": op.repeats, "axis": op.axis}


def _like(op):
    return {"dtype": None if op.dtype is None else _cast(op)["dtype"]}


def _tile(op):
    repeats = list(op.repeats) if isinstance(op.repeats, (list, tuple)) else [op.repeats]
    if not all(isinstance(r, int) for r in repeats):
        raise UnsupportedLayerError(op.name, "Tile", "tiles by a count known only at run time (a batch size?).",
                                    "tile by constants, or let broadcasting repeat the tensor.")
    return {"repeats": repeats}


_DTYPES = {"float16": "float32", "bfloat16": "float32", "float32": "float32", "float64": "float32", "bool": "bool"}


def _cast(op):
    dtype = str(op.dtype)
    tfjs = _DTYPES.get(dtype) or ("int32" if dtype.startswith(("int", "uint")) else None)
    if tfjs is None:
        raise UnsupportedLayerError(op.name, "Cast", f"casts to {dtype}, which TF.js has no type for.",
                                    "cast to float32, int32 or bool.")
    return {"dtype": tfjs}


# Keras 3 operation class -> (TF.js op name in WebnetsOperation, the op's options as config).
WEBNETS_OPERATIONS = {
    "Mean": ("mean", _reduction), "Sum": ("sum", _reduction), "Max": ("max", _reduction),
    "Min": ("min", _reduction), "Prod": ("prod", _reduction), "All": ("all", _reduction), "Any": ("any", _reduction),
    "Concatenate": ("concat", lambda op: {"axis": op.axis}), "Stack": ("stack", lambda op: {"axis": op.axis}),
    "Reshape": ("reshape", _reshape), "Transpose": ("transpose", _transpose),
    "ExpandDims": ("expandDims", lambda op: {"axis": op.axis}),
    "Squeeze": ("squeeze", lambda op: {"axis": _axis(op.axis)}),
    "Clip": ("clipByValue", lambda op: {"min": float(op.x_min), "max": float(op.x_max)}),
    "Softmax": ("softmax", lambda op: {"axis": op.axis}),
    "GetItem": ("getItem", _get_item), "Cast": ("cast", _cast), "Split": ("split", _split),
    "Einsum": ("einsum", _einsum), "Repeat": ("repeat", _repeat), "Tile": ("tile", _tile),
    "ZerosLike": ("zerosLike", _like), "OnesLike": ("onesLike", _like),
    "Take": ("take", lambda op: {"axis": op.axis}), "TakeAlongAxis": ("takeAlongAxis", lambda op: {"axis": op.axis}), "Flip": ("flip", lambda op: {"axis": _axis(op.axis)}),
    "Triu": ("band", lambda op: {"k": int(op.k), "upper": True}), "Tril": ("band", lambda op: {"k": int(op.k), "upper": False}),
    "Argmax": ("argMax", lambda op: {"axis": op.axis, "keepdims": bool(op.keepdims)}),
    "Moveaxis": ("moveaxis", lambda op: {"source": list(op.source), "destination": list(op.destination)}),
    "Swapaxes": ("moveaxis", lambda op: {"source": [op.axis1, op.axis2], "destination": [op.axis2, op.axis1]}),
    "Log1p": ("log1p", lambda op: {}), "Expm1": ("expm1", lambda op: {}), "Tan": ("tan", lambda op: {}),
    # exporter/layers/tracing.py: keras-hub's causal and sliding-window masks, for any sequence length.
    "CausalMask": ("causalMask", lambda op: {}), "BandMask": ("bandMask", lambda op: {"band": op.band}),
    "LogicalAnd": ("logicalAnd", lambda op: {}), "LogicalOr": ("logicalOr", lambda op: {}),
    "LogicalNot": ("logicalNot", lambda op: {}),
    # convert_to_tensor(variable) inside a traced layer: the value itself (in the dtype asked for).
    "ConvertToTensor": ("cast", lambda op: _cast(op) if op.dtype is not None else {"dtype": None}),
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
            if isinstance(value, dict) and value.get("class_name") in ("__numpy__", "__tensor__"):  # a constant array
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
    outputs = op._inbound_nodes[0].outputs  # several for split
    shape = [list(t.shape) for t in outputs] if len(outputs) > 1 else list(outputs[0].shape)
    return TfjsLayer("WebnetsOperation", {"name": op.name, "op": tfjs_op, "operands": _operands(op, args),
                                          "options": options(op), "output_shape": shape})