"""The graph of a live Functional model, in the form Keras 3 saves it, for every Functional model.

A plain `keras.Model(inputs, outputs)` writes its graph into `get_config()["layers"]`, but a
Functional *subclass* does not: keras-hub's backbones and tasks (BertBackbone, GPT2CausalLM, ...)
override `get_config` to hold only their constructor arguments, and rebuild the graph from them
when loaded. Their live objects still carry the graph (`operations` and each operation's inbound
nodes), so webnets reads it from there, for every model: one graph reader, whatever `get_config`
says. The result has the shape of Keras' own Functional config (`layers` with `name`,
`class_name`, `inbound_nodes` of `{args, kwargs}` with `__keras_tensor__` histories;
`input_layers`, `output_layers`), numbered the way Keras numbers a saved model's nodes.
"""

import keras
from keras import tree
from keras.src.models.functional import Functional, serialize_node
from keras.src.ops.function import make_node_key

__all__ = ["is_functional", "functional_graph", "with_shared_layers_inlined"]


def is_functional(model):
    """Whether `model` is a graph of layers: a Functional model or any subclass of it (not a Sequential)."""
    return isinstance(model, Functional)


def functional_graph(model):
    """{"name", "layers": [{name, class_name, inbound_nodes}], "input_layers", "output_layers"} of a live model."""
    own_nodes = model._nodes
    saved_index = {}  # node key -> its index among the nodes the model keeps (Keras' reindexing)
    for operation in model.operations:
        kept = 1 if isinstance(operation, Functional) else 0  # a nested model's node 0 is its own
        for index in range(len(operation._inbound_nodes)):
            key = make_node_key(operation, index)
            if key in own_nodes:
                saved_index[key] = kept
                kept += 1

    layers = []
    for operation in model.operations:
        nodes = [serialize_node(node, own_nodes=own_nodes) for index, node in enumerate(operation._inbound_nodes)
                 if make_node_key(operation, index) in own_nodes]
        layers.append({"name": operation.name, "class_name": type(operation).__name__,
                       "inbound_nodes": [node for node in nodes if node is not None]})

    def reference(tensor):
        operation, node_index, tensor_index = tensor._keras_history
        return [operation.name, saved_index[make_node_key(operation, node_index)], tensor_index]

    return {
        "name": model.name,
        "layers": layers,
        # In model.inputs / model.outputs order (tree.flatten: a dict's keys sorted), the order TF.js
        # and the parity check feed and read them in.
        "input_layers": [reference(t) for t in tree.flatten(model._inputs_struct)],
        "output_layers": [reference(t) for t in tree.flatten(model._outputs_struct)],
    }


def _layers_within(model):
    """ids of the non-model operations of a Functional model, its nested models' included."""
    found = set()
    for op in model.operations:
        found |= _layers_within(op) if is_functional(op) else {id(op)}
    return found


def with_shared_layers_inlined(model):
    """The model, or, where a nested model shares a layer with the graph around it, the same graph with
    every nested model inlined (its layers called in the outer graph).

    keras-hub's GPT2CausalLM calls its backbone (a nested model) and then the backbone's token
    embedding again, reversed, for the logits. TF.js rebuilds a nested model's layers as its own, so
    the embedding would be two layers with one weight name; inlined, it is one layer called twice.
    """
    nested = [op for op in model.operations if is_functional(op)]
    if not nested:
        return model
    own = {id(op) for op in model.operations if not is_functional(op)}
    seen, shared = set(own), False
    for inner in nested:
        layers = _layers_within(inner)
        shared |= bool(layers & seen)
        seen |= layers
    if not shared:
        return model
    inputs = [keras.Input(batch_shape=tuple(t.shape), dtype=t.dtype, name=t._keras_history[0].name)
              for t in model.inputs]
    outputs = _call_inlined(model, inputs)
    return keras.Model(tree.pack_sequence_as(model._inputs_struct, inputs), outputs, name=model.name)


def _call_inlined(model, inputs):
    """Run a Functional model's graph on symbolic inputs, nested Functional models through their graphs."""
    def operation(op):
        if not is_functional(op):
            return op
        # Keras calls a nested model as model(inputs, ...) or model(inputs=...); masks and the
        # training flag travel with the tensors, symbolically.
        return lambda *args, **kwargs: _call_inlined(op, tree.flatten(args[0] if args else kwargs["inputs"]))

    return model._run_through_graph(tree.flatten(inputs), operation_fn=operation)
