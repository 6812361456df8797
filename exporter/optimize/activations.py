"""A standalone Activation (or plain / relu6 ReLU) after a linear Dense or Conv becomes that layer's
activation; an element-wise one after a Concatenate of linear layers becomes the activation of each."""

# tfjs classes whose `activation` is applied to the layer's whole output, as an Activation layer would.
ACTIVATION_HOSTS = {"Dense", "WebnetsDense", "Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose",
                    "Conv3DTranspose"}

# tfjs activation names that act on each element alone, so that act(concat(a, b)) == concat(act(a), act(b)).
ELEMENTWISE_ACTIVATIONS = {"elu", "hardSigmoid", "linear", "relu", "relu6", "selu", "sigmoid", "softplus",
                           "softsign", "tanh", "swish", "mish", "gelu", "gelu_new"}


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
        producer, hosts = graph.linear_sources_feeding(entry, ACTIVATION_HOSTS)
        if not hosts or (producer["class_name"] == "Concatenate" and activation not in ELEMENTWISE_ACTIVATIONS):
            continue
        for host in hosts:
            host["config"]["activation"] = activation
        graph.remove(entry, [[producer["name"], 0, 0]])
        merged += 1
    return merged
