"""A Keras 2 / tfjs model config (inbound-node lists) -> a Keras 3 Functional or Sequential model,
and the tfjs weights assigned to it layer by layer."""

import numpy as np

from ..errors import ExportError
from .builders import CALLS, ImportRefusal, build_layer

__all__ = ["build_model", "assign_weights"]

_RNNS = {"LSTM", "GRU", "SimpleRNN", "WebnetsSimpleRNN", "WebnetsLSTM", "WebnetsGRU", "Bidirectional"}
_MODELS = {"Functional", "Model", "Sequential"}


def _input(entry_config, name, fallback_dtype="float32"):
    import keras

    shape = entry_config.get("batch_input_shape") or entry_config.get("batch_shape")
    if shape is None:
        raise ExportError(f"Layer '{name}' (InputLayer): model.json gives no batch_input_shape, so the input's "
                          "shape is unknown; nothing was written. Fix: save the model with its input shape.")
    dtype = entry_config.get("dtype") or fallback_dtype
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name", "float32")
    try:
        return keras.Input(batch_shape=tuple(shape), dtype=dtype, name=name)
    except Exception as error:  # noqa: BLE001 - Keras checks shape, dtype and name with several types
        raise ImportRefusal(name, "InputLayer", f"Keras 3 cannot make this input ({type(error).__name__}: "
                            f"{str(error).strip()[:200]}).", "check the input's shape, dtype and name in "
                            "model.json, or re-export the model.") from None


def _sequential(config, name):
    import keras

    entries = config["layers"] if isinstance(config, dict) else config
    entries = list(entries)
    first = entries[0]["config"] if entries else {}
    if entries and entries[0]["class_name"] == "InputLayer":
        inputs = _input(first, first.get("name", f"{name}_input"))
        entries = entries[1:]
    else:
        inputs = _input(first, f"{first.get('name', name)}_input")
    layers = []
    for entry in entries:
        built = _layer(entry)
        layers.extend(built if isinstance(built, list) else [built])
    return keras.Sequential([keras.layers.InputLayer(batch_shape=inputs.shape, dtype=inputs.dtype,
                                                     name=inputs.name)] + layers, name=name)


def _layer(entry):
    config = dict(entry.get("config") or {})
    name = entry.get("name") or config.get("name")
    if entry["class_name"] in _MODELS:
        return build_model(entry)
    return build_layer(name, entry["class_name"], config)


def _call(layer, class_name, name, args, kwargs):
    if isinstance(layer, list):  # a layer and the ones completing its activation
        out = _call(layer[0], class_name, name, args, kwargs)
        for after in layer[1:]:
            out = after(out)
        return out
    kwargs = {k: v for k, v in (kwargs or {}).items() if k != "training"}
    if kwargs:
        raise ImportRefusal(name, class_name, f"its call passes {sorted(kwargs)}, which webnets' import cannot map.",
                            "save the model without those call arguments.")
    if layer in CALLS:
        return CALLS.pop(layer)(args)
    if class_name in _RNNS and len(args) > 1:
        return layer(args[0], initial_state=list(args[1:]))
    return layer(args[0] if len(args) == 1 else list(args))


def _tensor(tensors, ref, user):
    """The output a [layer, node, tensor] reference names; one the layer does not have is refused."""
    outputs = tensors.get((ref[0], ref[1]), [])
    if ref[2] >= len(outputs):
        raise ExportError(f"model.json: {user} takes output {ref[2]} of layer '{ref[0]}' (node {ref[1]}), which has "
                          f"{len(outputs)} output(s). Nothing was written. Fix: re-export the model; its model.json "
                          "was damaged or edited by hand.")
    return outputs[ref[2]]


def _functional(config, name):
    import keras

    tensors = {}  # (layer name, node index) -> [output tensors]
    pending = list(config["layers"])
    while pending:
        progressed, later = False, []
        for entry in pending:
            layer_name = entry.get("name") or entry["config"]["name"]
            nodes = entry.get("inbound_nodes") or []
            if entry["class_name"] == "InputLayer":
                tensors[(layer_name, 0)] = [_input(entry["config"], layer_name)]
                progressed = True
                continue
            if any((n[0], n[1]) not in tensors for node in nodes for n in _node_list(node, layer_name)):
                later.append(entry)
                continue
            layer = _layer(entry)
            for index, node in enumerate(nodes):
                refs = _node_list(node, layer_name)
                args = [_tensor(tensors, r, f"layer '{layer_name}'") for r in refs]
                try:
                    out = _call(layer, entry["class_name"], layer_name, args, refs[0][3] if len(refs[0]) > 3 else {})
                except ExportError:
                    raise
                except Exception as error:  # noqa: BLE001 - Keras refusing a call here means model.json disagrees with itself
                    raise ImportRefusal(layer_name, entry["class_name"], f"Keras could not apply it to its inputs "
                                        f"({type(error).__name__}: {str(error).strip()[:300]}).",
                                        "re-export the model: its model.json's layers do not fit together (shapes "
                                        "or options changed by hand?). If TF.js loads it as is, report it.") from None
                tensors[(layer_name, index)] = list(out) if isinstance(out, (list, tuple)) else [out]
            progressed = True
        if not progressed:
            names = ", ".join(e.get("name", "?") for e in later)
            raise ExportError(f"model.json's graph cannot be rebuilt: the inputs of {names} are never produced. "
                              "Nothing was written. Fix: re-save the model; its model.json is incomplete.")
        pending = later
    refs = lambda key: [_tensor(tensors, r, f"the model's {key}") for r in config[key]]  # noqa: E731
    inputs, outputs = refs("input_layers"), refs("output_layers")
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0],
                       name=name)


def _node_list(node, layer_name):
    if isinstance(node, dict):  # a Keras 3 node ({args, kwargs}): not what tfjs writes
        raise ExportError(f"Layer '{layer_name}': model.json holds a Keras 3 node ({{args, kwargs}}), which TF.js "
                          "itself cannot load, so it is not a TF.js layers model. Nothing was written. Fix: import "
                          "a model that tf.loadLayersModel loads (e.g. a `webnets convert` export).")
    return node


def build_model(model_config):
    """The Keras 3 model for a {class_name, config} model entry (Functional/Model or Sequential)."""
    class_name, config = model_config["class_name"], model_config.get("config") or {}
    name = (config.get("name") if isinstance(config, dict) else None) or model_config.get("name") or "model"
    if not isinstance(name, str) or "/" in name:
        # Keras 3 names may not hold '/' (TF.js' may): the model is refused here rather than half-built.
        raise ExportError(f"model.json names its model {str(name)[:80]!r}, which Keras 3 cannot take as a model "
                          "name (a string without '/'). Nothing was written. Fix: rename the model in model.json "
                          "(or in TF.js before saving).")
    if class_name == "Sequential":
        return _sequential(config, name)
    if class_name in ("Functional", "Model"):
        return _functional(config, name)
    raise ExportError(f"model.json's model is a {class_name!r}, not a Sequential or Functional model. Nothing was "
                      "written. Fix: import a TF.js layers model (Sequential or Functional).")


def _walk(model):
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _walk(layer)
        else:
            yield layer


def assign_weights(model, tfjs_weights, order):
    """Give every Keras variable its tfjs value: a layer's weights are the manifest entries named
    `<layer name>/...`, in manifest order, which is tfjs' (and Keras') per-layer order."""
    used = set()
    for layer in _walk(model):
        variables = layer.weights
        names = [n for n in order if n.startswith(layer.name + "/") and n not in used]
        if not variables and not names:
            continue
        if len(names) != len(variables):
            raise ExportError(f"Layer '{layer.name}' ({type(layer).__name__}): model.json's weights manifest has "
                              f"{len(names)} weights for it ({', '.join(names) or 'none'}), the Keras layer "
                              f"{len(variables)}. Nothing was written. Fix: re-save the model; the manifest and the "
                              "topology disagree.")
        for name, variable in zip(names, variables):
            value = np.asarray(tfjs_weights[name])
            if tuple(value.shape) != tuple(variable.shape):
                raise ExportError(f"Layer '{layer.name}' ({type(layer).__name__}): weight {name} has shape "
                                  f"{list(value.shape)} in model.json, the Keras layer expects "
                                  f"{list(variable.shape)}. Nothing was written. Fix: re-save the model.")
            variable.assign(value.astype(variable.dtype))
            used.add(name)
    unused = [n for n in order if n not in used]
    if unused:
        raise ExportError(f"model.json's weights {', '.join(unused[:5])} belong to no layer of the model. Nothing was "
                          "written. Fix: re-save the model; the manifest and the topology disagree.")
