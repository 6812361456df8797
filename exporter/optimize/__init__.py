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

from .activations import merge_activations
from .batchnorm import fold_batchnorm
from .graph import MODEL_CLASSES, Graph
from .noops import drop_noops
from .rescaling import fold_rescaling

__all__ = ["optimize_topology", "count_layers"]


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
        total += count_layers(entry) if entry["class_name"] in MODEL_CLASSES else 1
    return total


def _optimize(model_config, weights, counts):
    graph = Graph(model_config)
    for entry in graph.layers:
        if entry["class_name"] in MODEL_CLASSES:
            _optimize(entry, weights, counts)
    counts["dropped_noops"] += drop_noops(graph)
    counts["folded_batchnorm"] += fold_batchnorm(graph, weights)
    counts["merged_activations"] += merge_activations(graph)
    counts["folded_rescaling"] += fold_rescaling(graph, weights)
    graph.write_back()
