"""Export-time rewrites of the translated TF.js topology that change results by float rounding only.

    drop_noops          Dropout and friends are identities at inference: their
                        consumers read the no-op's input instead.
    fold_batchnorm      BatchNormalization after a linear Conv1D / Conv2D /
                        DepthwiseConv2D / SeparableConv2D / Dense becomes that
                        layer's kernel scale and bias.
    merge_activations   A standalone Activation (or plain / relu6 ReLU) after a
                        linear Dense or Conv becomes that layer's activation.

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
    counts = {"dropped_noops": 0, "folded_batchnorm": 0, "merged_activations": 0}
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
    """Fold each eligible BatchNormalization into the layer before it.

    BN(y) = (y - mean) / sqrt(var + eps) * gamma + beta = y * s + (beta - mean * s)
    with s = gamma / sqrt(var + eps); for y = conv(x, K) + b that is
    conv(x, K * s) + (b - mean) * s + beta, s applied per output channel.
    """
    folded = 0
    index = {name: position for position, (name, _) in enumerate(weights)}
    for bn in list(graph.layers):
        if bn["class_name"] != "BatchNormalization":
            continue
        layer = graph.sole_input(bn)
        plan = layer is not None and graph.feeds_only(layer, bn) and _fold_plan(layer, bn, weights, index)
        if not plan:
            continue
        _apply_fold(layer, bn, weights, plan)
        index = {name: position for position, (name, _) in enumerate(weights)}
        graph.remove(bn, [[layer["name"], 0, 0]])
        folded += 1
    return folded


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
    channels = int(np.prod(np.shape(value(plan["mean"]))))
    kernel_shape = tuple(value(plan["scaled"]).shape)
    out_channels = int(np.prod(kernel_shape[2:])) if layer["class_name"] == "DepthwiseConv2D" else kernel_shape[-1]
    if out_channels != channels:
        return None
    plan["epsilon"] = float(bn["config"].get("epsilon", 1e-3))
    plan["values"] = {key: value(n) for key, n in plan.items() if key not in ("epsilon",) and n is not None}
    return plan


def _apply_fold(layer, bn, weights, plan):
    variables = plan["values"]
    array = lambda key: np.asarray(variables[key].numpy(), np.float64)  # noqa: E731
    variance, mean = array("variance"), array("mean")
    gamma = array("gamma") if "gamma" in variables else np.ones_like(mean)
    beta = array("beta") if "beta" in variables else np.zeros_like(mean)
    bias = array("bias") if "bias" in variables else np.zeros_like(mean)
    # Keras computes BN in float32; folding in float64 keeps the folded layer
    # within rounding of it.
    scale = gamma / np.sqrt(variance + plan["epsilon"])
    kernel = array("scaled")
    # Output channels are the kernel's last axis, or (depthwise) its last two: channel c*M + m.
    kernel = kernel * scale.reshape(kernel.shape[2:] if layer["class_name"] == "DepthwiseConv2D" else -1)
    new_bias = (bias - mean) * scale + beta

    kernel_variable = variables["scaled"]
    neutral_variance = np.float32(1.0) - np.float32(plan["epsilon"])  # sqrt(var + eps) == 1 to float32 rounding

    def kernel_back(value):
        # The kernel carries the scale; Keras' BN is made a pure shift: gamma 1, variance 1 - eps.
        assignments = [(kernel_variable, value), (variables["variance"], np.full(mean.shape, neutral_variance))]
        if "gamma" in variables:
            assignments.append((variables["gamma"], np.ones(mean.shape)))
        return assignments

    def bias_back(value):
        # The folded bias lands in the conv's own bias, else BN's beta, else (center=False) BN's -mean.
        value = np.asarray(value, np.float64)
        zeros = np.zeros(mean.shape)
        if "bias" in variables:
            assignments = [(variables["bias"], value), (variables["mean"], zeros)]
            return assignments + ([(variables["beta"], zeros)] if "beta" in variables else [])
        if "beta" in variables:
            return [(variables["beta"], value), (variables["mean"], zeros)]
        return [(variables["mean"], -value)]

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
    bn_weights = {f"{bn['name']}/{suffix}" for suffix in ("gamma", "beta", "moving_mean", "moving_variance")}
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
        host = graph.sole_input(entry)
        if host is None or host["class_name"] not in ACTIVATION_HOSTS or not graph.feeds_only(host, entry):
            continue
        if host["config"].get("activation", "linear") != "linear":
            continue
        host["config"]["activation"] = activation
        graph.remove(entry, [[host["name"], 0, 0]])
        merged += 1
    return merged
