"""Keras 3 model -> tfjs-layers (Keras 2 style) model topology and named weights.

Works on the live model (its graph read by live_graph.py): each layer goes through
its translator, and the Keras 3 node format ({args, kwargs} with __keras_tensor__
histories) is rewritten as Keras 2 inbound node lists [[layer, node_index,
tensor_index, {}]]. Nested models keep their structure (unless they share a layer
with the graph around them: then they are inlined); their weights are named by
their own layers, as TF.js names them. A layer without a translator that is not
Keras' own is traced (tracing.py) and becomes a nested model too, its inner names
prefixed with its own.
"""

import keras

from ..errors import ExportError, UnsupportedLayerError
from .live_graph import functional_graph, is_functional, with_shared_layers_inlined
from .operations import translate_operation
from .translators.common import live_calls, plain_dtype
from .tracing import VARIABLE_CLASS, is_traceable, trace_layer
from .translators import Call, Input, TfjsLayer, has_translator, translate_layer, translator_for

# Call arguments that do not change inference output when absent. `mask` is
# always left out: tfjs recomputes masks from the layers that make them.
_IGNORED_CALL_KWARGS = {"training", "mask"}


def translate_model(model):
    """Return (model_config, weights) where weights is [(tfjs name, value)]."""
    if not model.built or not getattr(model, "inputs", None):
        raise ExportError(
            f"Model '{model.name}' has no defined inputs (a subclassed model, or a Sequential that was never "
            "built). TF.js layers models need a static graph. Fix: build it with keras.Input(...) as a "
            "Functional or Sequential model before saving."
        )
    if isinstance(model, keras.Sequential):
        config, weights = _translate_sequential(model)
    elif is_functional(model):
        config, weights = _translate_functional(with_shared_layers_inlined(model))
    else:
        raise ExportError(
            f"Model '{model.name}' is a subclassed keras.Model ({type(model).__name__}); its call() is Python "
            "code that cannot be translated to a TF.js layers topology. Fix: rebuild it as a Functional or "
            "Sequential model, or use --format graph, which traces it into a TF.js graph model."
        )
    _check_unique_weight_names(weights)
    return config, weights


def _translate_operation(op, node=None, call=None):
    """Pieces and absolute weights for one entry of a model's layer list.

    `node` is the entry's serialized call, needed for bare keras.ops calls,
    whose constants live in their arguments; `call` describes a layer's calls
    for translators that take call arguments.
    """
    if isinstance(op, keras.Model) or _traced(op):  # a nested TF.js model
        config, weights = translate_model(op) if isinstance(op, keras.Model) else _translate_traced(op)
        return [TfjsLayer(config["class_name"], config["config"], [], None)], weights
    if not isinstance(op, keras.layers.Layer):
        return translate_operation(op, node), []
    pieces = translate_layer(op, call)
    weights = [(f"{piece.name}/{suffix}", value) for piece in pieces for suffix, value in piece.weights]
    return pieces, weights


def _traced(op):
    """A layer exported through its traced graph: not Keras' own, and no translator registered for it."""
    return isinstance(op, keras.layers.Layer) and is_traceable(op) and not has_translator(op)


def _translate_traced(layer):
    """A traced layer as a nested TF.js model: its sublayers and ops, its own variables as WebnetsVariable layers."""
    calls = live_calls(layer)
    if not calls:
        raise UnsupportedLayerError(layer.name, type(layer).__name__, "it was never called on a tensor, so webnets "
                                    "cannot trace what it computes.", "use it in a Functional model.")
    traced = trace_layer(layer, calls[0])
    config, weights = _translate_functional(traced.graph)
    graph = config["config"]
    first_input = graph["input_layers"][0]
    graph["input_layers"] = graph["input_layers"][:traced.data_inputs]
    for entry in graph["layers"]:
        variable = traced.variables.get(entry["name"])
        if variable is None:
            continue
        # The placeholder input becomes a layer holding the variable; it is called on the graph's
        # first input only because a TF.js layer needs one (WebnetsVariable ignores its value).
        entry.update(class_name=VARIABLE_CLASS, inbound_nodes=[[[*first_input[:3], {}]]], config={
            "name": entry["name"], "shape": list(variable.shape), "dtype": plain_dtype(variable.dtype),
            "trainable": bool(variable.trainable)})
        weights.append((f"{entry['name']}/value", variable))
    # TF.js names a weight by its innermost layer alone, and a library's blocks reuse sublayer names
    # (every keras-hub TransformerEncoder has a `self_attention_layer`): the traced layer's name,
    # put in front of every name inside it, keeps them apart.
    prefix = f"{layer.name}__"
    rename = _prefixed_names(graph, prefix)
    weights = [(_renamed_weight(name, rename), value) for name, value in weights]
    return config, weights


def _prefixed_names(graph, prefix):
    """Prefix every layer name inside a tfjs model config (nested models too), in place; {old: new}."""
    rename = {}

    def new_name(name):
        return rename.setdefault(name, name if name.startswith(prefix) else prefix + name)

    def walk(model_config):
        for entry in model_config["layers"]:
            entry["name"] = entry["config"]["name"] = new_name(entry["config"]["name"])
            for node in entry.get("inbound_nodes", []):
                for ref in node:
                    ref[0] = new_name(ref[0])
            if "layers" in entry["config"]:
                walk(entry["config"])
        for key in ("input_layers", "output_layers"):
            for ref in model_config.get(key, []):
                ref[0] = new_name(ref[0])

    walk(graph)
    return rename


def _renamed_weight(name, rename):
    layer, _, rest = name.partition("/")
    return f"{rename.get(layer, layer)}/{rest}"


def _translate_sequential(model):
    entries = model.get_config()["layers"]
    layers = list(model._layers)
    if len(entries) != len(layers):
        raise ExportError(f"Sequential model '{model.name}' has a config that does not match its layers; "
                          "re-save it with the current Keras and try again.")
    out_layers, weights = [], []
    for layer in layers:
        pieces, layer_weights = _translate_operation(layer)
        weights += layer_weights
        for position, piece in enumerate(pieces):
            chained = piece.inputs is None or (position > 0 and piece.inputs == [pieces[position - 1]])
            if not chained:
                # A lowering that needs a graph (e.g. hard_silu = x * gate(x)) cannot be
                # a tfjs Sequential; Keras 3 keeps the same model as a Functional graph.
                config, weights = _translate_functional(model._functional)
                config["config"]["name"] = model.name
                return config, weights
            out_layers.append({"class_name": piece.class_name, "config": piece.config})
    _check_unique_layer_names(model, [l["config"]["name"] for l in out_layers])
    return {"class_name": "Sequential", "config": {"name": model.name, "layers": out_layers}}, weights


def _translate_functional(model):
    config = functional_graph(model)  # the live graph: Functional subclasses' configs have none
    operations = {op.name: op for op in model.operations}
    # In tfjs (as in Keras 1/2) a model's node 0 is its own internal node, so
    # calls of a nested model in the outer graph are numbered from 1.
    nested = {name for name, op in operations.items() if isinstance(op, keras.Model) or _traced(op)}
    takes_mask = {name for name, op in operations.items() if "mask" in (_call_tensors(op) or ())}
    mask_only = _mask_only_operations(config, takes_mask)
    out_layers, weights = [], []
    for entry in config["layers"]:
        if entry["name"] in mask_only:
            continue
        op = operations[entry["name"]]
        calls = entry.get("inbound_nodes", [])
        call_tensors = _call_tensors(op)
        nodes = [_shift_nested(_node_inputs(op, node, call_tensors), nested) for node in calls]
        call = _describe_calls(op, calls, call_tensors) if call_tensors is not None else None
        pieces, layer_weights = _translate_operation(op, calls[0] if len(calls) == 1 else None, call)
        weights += layer_weights
        for position, piece in enumerate(pieces):
            out_layers.append({
                "class_name": piece.class_name,
                "config": piece.config,
                "name": piece.name,
                "inbound_nodes": [_piece_node(pieces, position, node, index) for index, node in enumerate(nodes)],
            })
    _check_unique_layer_names(model, [l["name"] for l in out_layers])
    return {
        "class_name": "Functional",
        "config": {
            "name": model.name,
            "layers": out_layers,
            "input_layers": _shift_nested(_tensor_list(config["input_layers"]), nested),
            "output_layers": _shift_nested(_tensor_list(config["output_layers"]), nested),
        },
    }, weights


def _mask_only_operations(config, takes_mask=()):
    """Names of graph nodes whose outputs only feed `mask=` arguments.

    Keras 3 records mask computation (Embedding(mask_zero=True) -> NotEqual,
    Masking -> NotEqual + Any) as graph ops and passes the mask explicitly.
    tfjs layers compute and propagate masks themselves (Keras 2 style), so
    these nodes and the mask arguments are left out.
    """
    data_uses, mask_uses = {}, {}
    for entry in config["layers"]:
        for node in entry.get("inbound_nodes", []):
            for t in _keras_tensors(node.get("args", [])):
                data_uses.setdefault(t["keras_history"][0], set()).add(entry["name"])
            for key, value in (node.get("kwargs") or {}).items():
                # A layer whose translator takes its mask as an input (Softmax) uses it as data.
                uses = mask_uses if key == "mask" and entry["name"] not in takes_mask else data_uses
                for t in _keras_tensors(value):
                    uses.setdefault(t["keras_history"][0], set()).add(entry["name"])
    outputs = {ref[0] for ref in _tensor_list(config["output_layers"])}
    mask_only = set()
    changed = True
    while changed:
        changed = False
        for entry in config["layers"]:
            name = entry["name"]
            if name in mask_only or name in outputs or entry["class_name"] == "InputLayer":
                continue
            feeds = data_uses.get(name, set())
            if (name in mask_uses or feeds) and feeds <= mask_only:
                mask_only.add(name)
                changed = True
    return mask_only


def _shift_nested(refs, nested):
    return [[name, node + 1 if name in nested else node, *rest] for name, node, *rest in refs]


def _piece_node(pieces, position, node_inputs, node_index):
    """Keras 2 inbound node of piece `position` for one call of the original layer."""
    piece = pieces[position]
    refs = piece.inputs
    if refs is None:
        refs = [Input(i) for i in range(len(node_inputs))] if position == 0 else [pieces[position - 1]]
    resolved = []
    for ref in refs:
        if isinstance(ref, Input):
            resolved.append(node_inputs[ref.index])
        else:
            # Helper pieces are called once per call of the original layer, so
            # their node index equals the original's.
            resolved.append([ref.name, node_index, 0, {}])
    return resolved


def _call_tensors(op):
    """The keyword arguments whose tensors a layer's translator takes as extra inputs (None: none)."""
    if isinstance(op, keras.Model) or not isinstance(op, keras.layers.Layer):
        return None
    if _traced(op):  # every tensor of the call is an input of the traced graph, keyword arguments sorted
        calls = live_calls(op)
        return tuple(sorted(k for k, v in calls[0].kwargs.items() if k != "mask" and _live_tensors(v))) if calls else ()
    return translator_for(op).call_tensors


def _describe_calls(op, calls, call_tensors):
    """The `Call` every call of `op` shares; a layer called in differing ways is refused."""
    described = set()
    for node in calls:
        kwargs = node.get("kwargs") or {}
        tensors = tuple(k for k in call_tensors if _keras_tensors(kwargs.get(k)))
        options = {k: v for k, v in kwargs.items()
                   if k not in call_tensors and k not in _IGNORED_CALL_KWARGS and not _keras_tensors(v)}
        described.add((len(_keras_tensors(node.get("args", []))), tensors, tuple(sorted(options.items(), key=str))))
    if len(described) > 1:
        raise UnsupportedLayerError(
            op.name, type(op).__name__,
            "it is called several times with different arguments, and a TF.js layer has one configuration.",
            "use one layer per way of calling it (they may share nothing but the config), or call it the same way.")
    if not described:
        return Call()
    args, tensors, options = described.pop()
    return Call(args, tensors, dict(options))


def _node_inputs(op, node, call_tensors=None):
    """Keras 3 {args, kwargs} node -> [[layer, node_index, tensor_index, {}], ...].

    Tensors in the keyword arguments a translator declared (`call_tensors`) follow the
    positional ones, in declared order; other keyword arguments carry no tensors.
    """
    kwargs = node.get("kwargs") or {}
    declared, call_tensors = call_tensors is not None, call_tensors or ()
    for key, value in kwargs.items():
        if key == "mask" or key in call_tensors or (key in _IGNORED_CALL_KWARGS and not _keras_tensors(value)):
            continue
        if not _keras_tensors(value) and (declared or value is None or value is False):
            continue  # a translator that takes call arguments reads the options itself
        raise UnsupportedLayerError(
            op.name, type(op).__name__,
            f"it is called with the argument {key}={_describe(value)}, which TF.js layers cannot pass.",
            "call the layer with its inputs only, or with the arguments docs/layers.md lists for it.",
        )
    tensors = _keras_tensors(node.get("args", []))
    for key in call_tensors:
        tensors += _keras_tensors(kwargs.get(key))
    return [[*t["keras_history"], {}] for t in tensors]


def _keras_tensors(value):
    """The __keras_tensor__ configs in a nested args structure, in order."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]]
        return [t for v in value.values() for t in _keras_tensors(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _keras_tensors(v)]
    return []


def _live_tensors(value):
    return [t for t in keras.tree.flatten(value) if isinstance(t, keras.KerasTensor)]


def _describe(value):
    return "a tensor" if _keras_tensors(value) else repr(value)


def _tensor_list(value):
    """Keras 3 writes a single input/output flat ([name, 0, 0]); tfjs wants a list of them."""
    if isinstance(value, dict):
        value = list(value.values())
    if value and isinstance(value[0], str):
        return [list(value)]
    return [list(v) for v in value]


def _check_unique_layer_names(model, names):
    seen = set()
    for name in names:
        if name in seen:
            raise ExportError(f"Model '{model.name}' has two layers named '{name}'. TF.js identifies layers and "
                              "their weights by name. Fix: give every layer a unique name and save again.")
        seen.add(name)


def _check_unique_weight_names(weights):
    seen = set()
    for name, _ in weights:
        if name in seen:
            raise ExportError(f"Two weights would both be called '{name}' in TF.js (layers in nested models share "
                              "a name). Fix: give every layer, including those inside nested models, a unique name.")
        seen.add(name)
