"""Activation layers."""

from .common import ConfigReader, input_shape, live_calls
from .registry import Input, TfjsLayer, register


@register("ReLU", note="negative_slope -> LeakyReLU; threshold refused")
def relu(layer, config):
    reader = ConfigReader(layer, config)
    max_value = reader.get("max_value")
    slope = float(reader.get("negative_slope", 0.0) or 0.0)
    reader.require("threshold", [0.0, 0], "use threshold=0 (TF.js ReLU has no threshold).")
    if slope and max_value is None:
        reader.out["alpha"] = slope
        return reader.finish("LeakyReLU")
    if slope:
        reader.refuse("a ReLU with both negative_slope and max_value has no TF.js layer.",
                      "use either negative_slope (LeakyReLU) or max_value.")
    reader.out["max_value"] = None if max_value is None else float(max_value)
    return reader.finish()


@register("LeakyReLU", note="negative_slope -> alpha")
def leaky_relu(layer, config):
    reader = ConfigReader(layer, config)
    reader.out["alpha"] = float(reader.get("negative_slope", reader.get("alpha", 0.3)))
    return reader.finish()


@register("PReLU")
def prelu(layer, config):
    reader = ConfigReader(layer, config).copy("shared_axes").initializers("alpha_initializer")
    reader.regularizers("alpha_regularizer").constraints("alpha_constraint")
    return reader.finish()


@register("ELU", note="alpha != 1 lowered exactly")
def elu(layer, config):
    reader = ConfigReader(layer, config)
    alpha = float(reader.get("alpha", 1.0))
    if alpha == 1.0:
        reader.out["alpha"] = 1.0
        return reader.finish()
    # tfjs refuses ELU alpha != 1 ("not supported by the ELU layer yet").
    # elu_a(x) = a * elu_1(x) + (1 - a) * relu(x): both terms are x for x > 0,
    # and for x <= 0 only a * (exp(x) - 1) is left.
    reader.finish()
    name = config["name"]
    x = Input(0)
    unit = TfjsLayer("Activation", {"name": f"{name}__elu", "activation": "elu"}, [], [x])
    scaled = TfjsLayer("Rescaling", {"name": f"{name}__elu_scaled", "scale": alpha, "offset": 0.0}, [], [unit])
    rectified = TfjsLayer("Activation", {"name": f"{name}__relu", "activation": "relu"}, [], [x])
    rest = TfjsLayer("Rescaling", {"name": f"{name}__relu_scaled", "scale": 1.0 - alpha, "offset": 0.0}, [],
                     [rectified])
    return [unit, scaled, rectified, rest, TfjsLayer("Add", {"name": name}, [], [scaled, rest])]


@register("Softmax", call_tensors=("mask",), note="axis; an explicit mask tensor (masked positions get 0)")
def softmax(layer, config, call):
    reader = ConfigReader(layer, config)
    axis = reader.get("axis", -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            reader.refuse("softmax over several axes has no TF.js layer.", "reshape so one axis holds the classes.")
        axis = axis[0]
    if "mask" in call.tensors or call.args == 2:  # softmax(x, mask=m) or softmax(x, m)
        # softmax(x, mask=m), as attention code calls it (keras-hub's Gemma): Keras sets masked logits
        # to -1e9 and zeroes masked outputs; WebnetsOperation's maskedSoftmax does the same, any axis.
        reader.handled.add("axis")
        return TfjsLayer("WebnetsOperation", {
            "name": reader.out["name"], "op": "maskedSoftmax", "operands": [{"tensor": 0}, {"tensor": 1}],
            "options": {"axis": axis}, "output_shape": list(live_calls(layer)[0].args[0].shape)})
    reader.out["axis"] = -1
    if axis == -1:
        return reader.finish()
    rank = len(input_shape(reader))
    axis %= rank
    if axis == rank - 1:
        return reader.finish()
    # tfjs softmax only runs along the last axis ("Softmax along a non-last
    # dimension is not yet supported"): swap the axis last and back, exactly.
    name = reader.out["name"]
    reader.out["name"] = f"{name}__last"
    dims = list(range(1, rank))
    dims[axis - 1], dims[-1] = dims[-1], dims[axis - 1]
    return [
        TfjsLayer("Permute", {"name": f"{name}__to_last", "dims": dims}),
        reader.finish(),
        TfjsLayer("Permute", {"name": name, "dims": dims}),  # a swap is its own inverse
    ]
