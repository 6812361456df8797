"""A Rescaling without offset (x * s, the 1/255 of an image model) in front of a Conv / Dense is
multiplied into that layer's kernel."""

import numpy as np

from ..weights import FoldedWeight, has_home

# tfjs class -> the weight applied to its input first, which a scalar Rescaling in front multiplies.
RESCALING_TARGETS = {"Conv1D": "kernel", "Conv2D": "kernel", "Conv3D": "kernel", "Dense": "kernel", "WebnetsDense": "kernel",
                     "DepthwiseConv2D": "depthwise_kernel", "SeparableConv2D": "depthwise_kernel"}


def fold_rescaling(graph, weights):
    """Fold x * s (a Rescaling with offset 0) into the kernel of the one Conv / Dense it feeds.

    conv(x * s, K) == conv(x * 1, K * s) for a scalar s, zero padding included
    (0 * s == 0); an offset would not survive padding, so it is left alone.
    """
    folded = 0
    for rescaling in list(graph.layers):
        config = rescaling["config"]
        if rescaling["class_name"] != "Rescaling" or float(config.get("offset", 0.0)) != 0.0:
            continue
        scale = float(config.get("scale", 1.0))
        nodes = rescaling["inbound_nodes"]
        source = graph.by_name.get(nodes[0][0][0]) if len(nodes) == 1 and len(nodes[0]) == 1 else None
        conv = graph.consumer(rescaling)
        if (source is None or conv is None or conv["class_name"] not in RESCALING_TARGETS
                or "batch_input_shape" in config or not np.isfinite(scale) or scale == 0.0
                or not graph.feeds_only(rescaling, conv) or not _is_float_tensor(source)):
            continue
        kernel_name = f"{conv['name']}/{RESCALING_TARGETS[conv['class_name']]}"
        position = next((i for i, (name, _) in enumerate(weights) if name == kernel_name), None)
        if position is None or not has_home(weights[position][1]):
            continue
        weights[position] = (kernel_name, _scaled(weights[position][1], scale))
        graph.remove(rescaling, [nodes[0][0][:3]])
        folded += 1
    return folded


def _is_float_tensor(entry):
    """Whether a layer's output is floating point: a Rescaling casts an integer model input, the Conv would not."""
    if entry["class_name"] != "InputLayer":
        return True
    return str(entry["config"].get("dtype") or "float32").startswith(("float", "bfloat"))


def _scaled(kernel, scale):
    """kernel * scale as a FoldedWeight whose write-back divides the scale out again (for the Keras reference)."""
    if isinstance(kernel, FoldedWeight):
        inner = kernel.write_back
        value = np.asarray(kernel.value, np.float64)
    else:
        variable = kernel
        inner = lambda v: [(variable, v)]  # noqa: E731
        value = np.asarray(kernel.numpy(), np.float64)
    return FoldedWeight((value * scale).astype(np.float32),
                        lambda v: inner(np.asarray(v, np.float64) / scale))
