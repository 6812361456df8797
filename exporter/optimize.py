"""Export-time rewrites of the translated TF.js topology that change results by float rounding only.

    drop_noops          Dropout and friends are identities at inference: their
                        consumers read the no-op's input instead.
    fold_batchnorm      BatchNormalization after a linear Conv1D / Conv2D /
                        DepthwiseConv2D / SeparableConv2D / Dense becomes that
                        layer's kernel scale and bias; after a channel-axis
                        Concatenate of such layers (a Fire or Inception module),
                        each of them takes its slice of the scale and shift.
    merge_activations   A standalone Activation (or plain / relu6 ReLU) after a
                        linear Dense or Conv becomes that layer's activation; an
                        element-wise one after a Concatenate of linear layers
                        becomes the activation of each of them.
    fold_rescaling      A Rescaling without offset (x * s, e.g. the 1/255 of an
                        image model) in front of a Conv / Dense is multiplied
                        into that layer's kernel.

They work on what `translate_model` returns (the Keras 2 style config and the
named weights), so every translator benefits, Sequential and Functional alike,
inside nested models too. A rewrite only fires where it is provably local: the
layers involved have one call each (shared layers are left alone), and the
intermediate tensor feeds nothing else and is no model output. Outputs keep
their order; an output that was a removed layer is rewired to the layer that now
computes it. Folded weights keep the conv's names, so --quantize patterns such as
`*/kernel` still select them.
"""

from dataclasses import dataclass

import numpy as np

# Translated classes that compute the identity in predict(); the translators
# write SpatialDropout2D/3D and ActivityRegularization as a tfjs Dropout.
NOOP_CLASSES = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                "GaussianDropout", "AlphaDropout", "ActivityRegularization"}

# tfjs class -> (the weight whose output channels BatchNorm scales, the layer's output rank or None if any).
FOLD_TARGETS = {
    "Conv1D": ("kernel", 3),
    "Conv2D": ("kernel", 4),
    "DepthwiseConv2D": ("depthwise_kernel", 4),
    "SeparableConv2D": ("pointwise_kernel", 4),  # out = pointwise(depthwise(x)): scale the pointwise columns
    "Dense": ("kernel", None),
}

# tfjs classes whose `activation` is applied to the layer's whole output, as an Activation layer would.
ACTIVATION_HOSTS = {"Dense", "Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose",
                    "Conv3DTranspose"}

# tfjs activation names that act on each element alone, so that act(concat(a, b)) == concat(act(a), act(b)).
ELEMENTWISE_ACTIVATIONS = {"elu", "hardSigmoid", "linear", "relu", "relu6", "selu", "sigmoid", "softplus",
                           "softsign", "tanh", "swish", "mish", "gelu", "gelu_new"}

# tfjs class -> the weight applied to its input first, which a scalar Rescaling in front multiplies.
RESCALING_TARGETS = {"Conv1D": "kernel", "Conv2D": "kernel", "Conv3D": "kernel", "Dense": "kernel",
                     "DepthwiseConv2D": "depthwise_kernel", "SeparableConv2D": "depthwise_kernel"}

_MODEL_CLASSES = {"Sequential", "Functional", "Model"}


@dataclass(eq=False)  # compared by identity: field-wise == on arrays has no truth value
class FoldedWeight:
    """A weight computed at export time from Keras variables by folding.

    `write_back(value)` gives the Keras variable assignments under which the
    unchanged Keras model computes what the folded layer computes with `value`
    (e.g. the dequantized folded kernel): the parity reference of a quantized
    export. Because that mapping exists, the weight may be quantized like the
    Keras variables it came from.
    """

    value: np.ndarray
    write_back: object  # value -> [(keras variable, array)]

    def numpy(self):
        return self.value


def keras_backed(value):
    """Whether a weight has a home in the Keras model (a variable, or a fold that can be written back)."""
    return hasattr(value, "assign") or isinstance(value, FoldedWeight)


def optimize_topology(model_config, weights):
    """Apply every rewrite (in place on the config). Returns (model_config, weights, summary)."""
    weights = list(weights)
    summary = {"layers_before": count_layers(model_config)}
    counts = {"dropped_noops": 0, "folded_batchnorm": 0, "merged_activations": 0, "folded_rescaling": 0}
    _optimize(model_config, weights, counts)
    summary.update(counts)
    summary["layers_after"] = count_layers(model_config)
    return model_config, weights, summary


def count_layers(model_config):
    """Layers in a translated topology, nested models' layers included (not the containers)."""
    total = 0
    for entry in model_config["config"]["layers"]:
        total += count_layers(entry) if entry["class_name"] in _MODEL_CLASSES else 1
    return total


def _optimize(model_config, weights, counts):
    graph = _Graph(model_config)
    for entry in graph.layers:
        if entry["class_name"] in _MODEL_CLASSES:
            _optimize(entry, weights, counts)
    counts["dropped_noops"] += drop_noops(graph)
    counts["folded_batchnorm"] += fold_batchnorm(graph, weights)
    counts["merged_activations"] += merge_activations(graph)
    counts["folded_rescaling"] += fold_rescaling(graph, weights)
    graph.write_back()


class _Graph:
    """One model level of the topology as a graph of layer entries, Sequential or Functional.

    A Sequential is viewed as the chain it is (each layer fed by the one
    before); the rewrites keep it a chain, so writing back the surviving layers
    in order is exact.
    """

    def __init__(self, model_config):
        self.kind = model_config["class_name"]
        self.config = model_config["config"]
        if self.kind == "Sequential":
            self.layers = []
            for position, layer in enumerate(self.config["layers"]):
                before = self.layers[position - 1]["name"] if position else None
                self.layers.append({**layer, "name": layer["config"]["name"],
                                    "inbound_nodes": [[[before, 0, 0, {}]]] if before else []})
            self.outputs = [[self.layers[-1]["name"], 0, 0]] if self.layers else []
        else:
            self.layers = self.config["layers"]
            self.outputs = self.config["output_layers"]
        self.by_name = {entry["name"]: entry for entry in self.layers}

    def write_back(self):
        if self.kind == "Sequential":
            self.config["layers"] = [{"class_name": e["class_name"], "config": e["config"]} for e in self.layers]
        else:
            self.config["layers"] = self.layers
            self.config["output_layers"] = self.outputs

    def _references(self):
        for entry in self.layers:
            for node in entry["inbound_nodes"]:
                yield from node
        yield from self.outputs

    def uses(self, name):
        """How many times any output tensor of layer `name` is read (by layers or as a model output)."""
        return sum(ref[0] == name for ref in self._references())

    def is_output(self, name):
        return any(ref[0] == name for ref in self.outputs)

    def sole_input(self, entry):
        """The one producer entry of a layer called once on one tensor (output 0 of the producer's only call)."""
        nodes = entry["inbound_nodes"]
        if len(nodes) != 1 or len(nodes[0]) != 1:
            return None
        name, node_index, tensor_index = nodes[0][0][:3]
        producer = self.by_name.get(name)
        if producer is None or node_index != 0 or tensor_index != 0 or len(producer["inbound_nodes"]) != 1:
            return None
        return producer

    def linear_branches(self, concat, classes):
        """The producers of a Concatenate's inputs when each is a distinct layer of `classes`, called
        once, with a linear activation, whose output feeds only this Concatenate; else None."""
        nodes = concat["inbound_nodes"]
        if concat["class_name"] != "Concatenate" or len(nodes) != 1 or len(concat["inbound_nodes"][0]) < 2:
            return None
        branches = []
        for name, node_index, tensor_index, *_ in nodes[0]:
            producer = self.by_name.get(name)
            if (producer is None or node_index != 0 or tensor_index != 0 or producer in branches
                    or producer["class_name"] not in classes or len(producer["inbound_nodes"]) != 1
                    or producer["config"].get("activation", "linear") != "linear"
                    or self.uses(name) != 1 or self.is_output(name)):
                return None
            branches.append(producer)
        return branches

    def linear_sources(self, producer, classes):
        """The linear layers of `classes` whose outputs `producer`'s output is made of: the producer
        itself, or each branch of a Concatenate (see linear_branches); else None."""
        if producer["class_name"] == "Concatenate":
            return self.linear_branches(producer, classes)
        if producer["class_name"] in classes and producer["config"].get("activation", "linear") == "linear":
            return [producer]
        return None

    def consumer(self, producer):
        """The first layer reading `producer`'s output, or None."""
        return next((e for e in self.layers if any(ref[0] == producer["name"] for node in e["inbound_nodes"]
                                                   for ref in node)), None)

    def feeds_only(self, producer, consumer):
        """Whether `producer`'s output is read once, by `consumer`, and is no model output."""
        return self.uses(producer["name"]) == 1 and not self.is_output(producer["name"]) and \
            self.sole_input(consumer) is producer

    def remove(self, entry, replacement):
        """Drop a layer; every read of its call k's output reads `replacement[k]` ([name, node, tensor]) instead."""
        def rewired(ref):
            if ref[0] != entry["name"]:
                return ref
            return [*replacement[ref[1]][:3], *ref[3:]]

        for other in self.layers:
            other["inbound_nodes"] = [[rewired(ref) for ref in node] for node in other["inbound_nodes"]]
        self.outputs[:] = [rewired(ref) for ref in self.outputs]
        self.layers.remove(entry)
        del self.by_name[entry["name"]]

    def would_keep_outputs_distinct(self, entry, replacement):
        outputs = [tuple((replacement[r[1]] if r[0] == entry["name"] else r)[:3]) for r in self.outputs]
        inputs = {tuple(ref[:3]) for ref in self.config.get("input_layers", [])}
        inputs |= {(e["name"], 0, 0) for e in self.layers if e["class_name"] == "InputLayer"}
        # tfjs rejects a model listing the same tensor twice among its outputs, and
        # an output that is an input would make the model's graph empty.
        return len(set(outputs)) == len(outputs) and not (set(outputs) & inputs)


def drop_noops(graph):
    dropped = 0
    for entry in list(graph.layers):
        if entry["class_name"] not in NOOP_CLASSES or "batch_input_shape" in entry["config"]:
            continue
        nodes = entry["inbound_nodes"]
        if not nodes or any(len(node) != 1 for node in nodes):
            continue
        replacement = [node[0][:3] for node in nodes]
        if graph.is_output(entry["name"]) and not graph.would_keep_outputs_distinct(entry, replacement):
            continue
        graph.remove(entry, replacement)
        dropped += 1
    return dropped


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
        producer = graph.sole_input(bn)
        if producer is None or not graph.feeds_only(producer, bn):
            continue
        layers = graph.linear_sources(producer, FOLD_TARGETS)
        concat = producer["class_name"] == "Concatenate"
        if not layers or (concat and not _is_channel_axis(producer["config"].get("axis", -1), layers)):
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
        if weight_name is not None and not hasattr(value(weight_name), "assign"):
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


def _merged_activation(entry):
    """The tfjs activation name a standalone activation layer applies, or None if it is no plain activation."""
    if entry["class_name"] == "Activation":
        return entry["config"].get("activation")
    if entry["class_name"] == "ReLU":
        max_value = entry["config"].get("max_value")
        if max_value is None:
            return "relu"
        if float(max_value) == 6.0:
            return "relu6"  # tfjs ReLU(maxValue=6) clips relu to [0, 6], which is relu6
    return None


def merge_activations(graph):
    merged = 0
    for entry in list(graph.layers):
        activation = _merged_activation(entry)
        if activation is None:
            continue
        producer = graph.sole_input(entry)
        if producer is None or not graph.feeds_only(producer, entry):
            continue
        hosts = graph.linear_sources(producer, ACTIVATION_HOSTS)
        concat = producer["class_name"] == "Concatenate"
        if not hosts or (concat and activation not in ELEMENTWISE_ACTIVATIONS):
            continue
        for host in hosts:
            host["config"]["activation"] = activation
        graph.remove(entry, [[producer["name"], 0, 0]])
        merged += 1
    return merged


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
        if position is None or not keras_backed(weights[position][1]):
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
