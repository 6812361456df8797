"""BatchNormalization after a linear Conv1D / Conv2D / DepthwiseConv2D / SeparableConv2D / Dense becomes
that layer's kernel scale and bias; after a channel-axis Concatenate of such layers (a Fire or
Inception module), each of them takes its slice of the scale and shift.

Each folded weight is a FoldedWeight whose write-back turns the unchanged Keras
model into one that computes what the folded layer computes with given values
(the dequantized folded kernel): the parity reference of a quantized export.
"""

import numpy as np

from ..weights import FoldedWeight, is_variable

# tfjs class -> (the weight whose output channels BatchNorm scales, the layer's output rank or None if any).
FOLD_TARGETS = {
    "Conv1D": ("kernel", 3),
    "Conv2D": ("kernel", 4),
    "DepthwiseConv2D": ("depthwise_kernel", 4),
    "SeparableConv2D": ("pointwise_kernel", 4),  # out = pointwise(depthwise(x)): scale the pointwise columns
    "Dense": ("kernel", None),
    "WebnetsDense": ("kernel", None),
}


def fold_batchnorm(graph, weights):
    """Fold each eligible BatchNormalization into the layer(s) before it.

    BN(y) = (y - mean) / sqrt(var + eps) * gamma + beta = y * s + (beta - mean * s)
    with s = gamma / sqrt(var + eps); for y = conv(x, K) + b that is
    conv(x, K * s) + (b - mean) * s + beta, s applied per output channel. After a
    channel-axis Concatenate of linear layers, channel slice i of the
    concatenation is layer i's output, so layer i folds slice i of s and the shift.
    """
    folded = 0
    for bn in list(graph.layers):
        if bn["class_name"] != "BatchNormalization":
            continue
        producer, layers = graph.linear_sources_feeding(bn, FOLD_TARGETS)
        if not layers or (producer["class_name"] == "Concatenate"
                          and not _is_channel_axis(producer["config"].get("axis", -1), layers)):
            continue
        index = {name: position for position, (name, _) in enumerate(weights)}
        plans = [_fold_plan(layer, bn, weights, index) for layer in layers]
        if not all(plans) or sum(plan["channels"] for plan in plans) != plans[0]["bn_channels"]:
            continue
        _apply_fold(layers, bn, weights, plans)
        graph.remove(bn, [[producer["name"], 0, 0]])
        folded += 1
    return folded


def _is_channel_axis(axis, layers):
    """Whether a Concatenate axis is the channel (last) axis of every input layer's output."""
    if axis == -1:
        return True
    ranks = {FOLD_TARGETS.get(layer["class_name"], (None, None))[1] for layer in layers}
    return len(ranks) == 1 and None not in ranks and axis == ranks.pop() - 1


def _fold_plan(layer, bn, weights, index):
    """The weights a fold reads, or None where folding is not provably exact."""
    if layer["class_name"] not in FOLD_TARGETS:
        return None
    config = layer["config"]
    if config.get("activation", "linear") != "linear" or config.get("data_format", "channels_last") != "channels_last":
        return None
    scaled_suffix, rank = FOLD_TARGETS[layer["class_name"]]
    axis = bn["config"].get("axis", -1)
    # A plain (not lowered) BatchNormalization always normalizes its input's
    # last axis (see translators/normalization.py); the rank check is a second guard.
    if axis != -1 and rank is not None and axis != rank - 1:
        return None
    value = lambda suffix: weights[index[suffix]][1] if suffix in index else None  # noqa: E731
    name, bn_name = layer["name"], bn["name"]
    plan = {
        "scaled": f"{name}/{scaled_suffix}",
        "bias": f"{name}/bias" if config.get("use_bias", True) else None,
        "gamma": f"{bn_name}/gamma" if bn["config"].get("scale", True) else None,
        "beta": f"{bn_name}/beta" if bn["config"].get("center", True) else None,
        "mean": f"{bn_name}/moving_mean",
        "variance": f"{bn_name}/moving_variance",
    }
    for key, weight_name in plan.items():
        # Folds are written back into Keras variables for the quantized parity
        # reference (FoldedWeight), so every input must be one; derived
        # weights (a lowered Normalization's BN, a grouped conv's reshaped kernel) are left alone.
        if weight_name is not None and not is_variable(value(weight_name)):
            return None
    kernel_shape = tuple(value(plan["scaled"]).shape)
    out_channels = int(np.prod(kernel_shape[2:])) if layer["class_name"] == "DepthwiseConv2D" else kernel_shape[-1]
    plan["values"] = {key: value(n) for key, n in plan.items() if n is not None}
    plan["channels"] = out_channels
    plan["bn_channels"] = int(np.prod(np.shape(value(plan["mean"]))))
    plan["epsilon"] = float(bn["config"].get("epsilon", 1e-3))
    return plan


def _apply_fold(layers, bn, weights, plans):
    """Fold BN into `layers`, whose outputs are its input's consecutive channel slices."""
    variables = plans[0]["values"]  # BN's variables are the same in every plan
    array = lambda variable: np.asarray(variable.numpy(), np.float64)  # noqa: E731
    variance, mean = array(variables["variance"]), array(variables["mean"])
    gamma = array(variables["gamma"]) if "gamma" in variables else np.ones_like(mean)
    beta = array(variables["beta"]) if "beta" in variables else np.zeros_like(mean)
    # Keras computes BN in float32; folding in float64 keeps the folded layers
    # within rounding of it.
    scale = gamma / np.sqrt(variance + plans[0]["epsilon"])
    neutral_variance = np.float32(1.0) - np.float32(plans[0]["epsilon"])  # sqrt(var + eps) == 1 to float32 rounding

    # The write-back turns the Keras BN into the pure shift by the folded biases: gamma 1,
    # variance 1 - eps, and per slice either mean 0 and beta = the folded bias (the
    # layer has no bias of its own), or mean 0, beta 0 and the layer's own bias =
    # the folded bias. Every slice's write-back fills its part of these two shared
    # arrays and returns the arrays themselves, so once all parts are written back
    # (callers compute every write-back before assigning any) each holds every slice.
    shared_beta, shared_mean = np.zeros_like(mean), np.zeros_like(mean)

    def bn_shift():
        if "beta" in variables:
            return [(variables["beta"], shared_beta), (variables["mean"], shared_mean)]
        return [(variables["mean"], shared_mean)]  # center=False: the shift can only be -mean

    offset = 0
    bn_weights = {f"{bn['name']}/{suffix}" for suffix in ("gamma", "beta", "moving_mean", "moving_variance")}
    for layer, plan in zip(layers, plans):
        part = slice(offset, offset + plan["channels"])
        offset += plan["channels"]
        own = plan["values"]
        bias = array(own["bias"]) if "bias" in own else np.zeros(plan["channels"])
        kernel = array(own["scaled"])
        # Output channels are the kernel's last axis, or (depthwise) its last two: channel c*M + m.
        kernel = kernel * scale[part].reshape(kernel.shape[2:] if layer["class_name"] == "DepthwiseConv2D" else -1)
        new_bias = (bias - mean[part]) * scale[part] + beta[part]

        def kernel_back(value, kernel_variable=own["scaled"]):
            assignments = [(kernel_variable, value), (variables["variance"], np.full(mean.shape, neutral_variance))]
            if "gamma" in variables:
                assignments.append((variables["gamma"], np.ones(mean.shape)))
            return assignments

        def bias_back(value, part=part, bias_variable=own.get("bias")):
            value = np.asarray(value, np.float64)
            shared_mean[part] = 0.0
            shared_beta[part] = 0.0
            if bias_variable is not None:
                return [(bias_variable, value)] + bn_shift()
            if "beta" in variables:
                shared_beta[part] = value
            else:
                shared_mean[part] = -value
            return bn_shift()

        positions = {name: position for position, (name, _) in enumerate(weights)}
        weights[positions[plan["scaled"]]] = (plan["scaled"], FoldedWeight(kernel.astype(np.float32), kernel_back))
        folded_bias = (f"{layer['name']}/bias", FoldedWeight(new_bias.astype(np.float32), bias_back))
        if plan["bias"] is not None:
            weights[positions[plan["bias"]]] = folded_bias
        else:
            weights.insert(positions[plan["scaled"]] + 1, folded_bias)
            layer["config"]["use_bias"] = True
            if not layer["config"].get("bias_initializer"):
                layer["config"]["bias_initializer"] = {"class_name": "Zeros", "config": {}}
    weights[:] = [(name, value) for name, value in weights if name not in bn_weights]
