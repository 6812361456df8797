"""One model level of a translated topology as a graph of layer entries, for the rewrites.

Sequential and Functional alike: a Sequential is viewed as the chain it is and
written back as one. A rewrite asks who feeds whom, whether a tensor is read
once, and removes a layer by rewiring its readers.
"""

MODEL_CLASSES = {"Sequential", "Functional", "Model"}


class Graph:
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

    def linear_sources_feeding(self, entry, classes):
        """(producer, linear layers of `classes` it is made of) when `entry` is fed by one producer that
        feeds nothing else (see linear_sources); (None, None) where a rewrite of `entry` is not local."""
        producer = self.sole_input(entry)
        if producer is None or not self.feeds_only(producer, entry):
            return None, None
        return producer, self.linear_sources(producer, classes)

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
