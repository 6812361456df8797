"""Dropout and friends (and linear activations) are identities at inference: their consumers read the no-op's input instead."""

# Translated classes that compute the identity in predict(); the translators
# write SpatialDropout2D/3D and ActivityRegularization as a tfjs Dropout.
NOOP_CLASSES = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                "GaussianDropout", "AlphaDropout", "ActivityRegularization"}


def is_noop(entry):
    """Dropout and friends; a linear Activation (what Identity and the augmentation layers become)."""
    if entry["class_name"] == "Activation":
        return entry["config"].get("activation") == "linear"
    return entry["class_name"] in NOOP_CLASSES


def drop_noops(graph):
    dropped = 0
    for entry in list(graph.layers):
        if not is_noop(entry) or "batch_input_shape" in entry["config"]:
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
