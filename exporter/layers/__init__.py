"""Keras 3 -> the tfjs-layers topology: reading a Keras file safely and translating its layers.

    keras_io.py     load .keras / .h5 with safe_mode, every failure a clear error; sniff a file's format
    topology.py     the model graph: Keras 3 nodes -> Keras 2 inbound nodes, nested models, weight names
    operations.py   bare keras.ops calls in a Functional graph -> tfjs layers
    translators/    one translator per Keras layer class, in one registry (`becomes=`, `note=`)
    live_graph.py   the graph of any live Functional model (keras-hub's subclasses too), as Keras saves it
    tracing.py      a layer webnets has no translator for, traced from keras.ops into a graph
    user_code.py    the trusted modules `--import` names, imported before loading
    plugins.py      users' translators with their TF.js classes' JS file (exporter/plugins.py), entry points
    table.py        the supported-layers table the README carries, generated from the registry
"""

from .keras_io import load_keras_model, sniff_format
from .table import layers_table
from .topology import translate_model
from .translators import TRANSLATORS, supported_layers
from .user_code import import_modules

__all__ = ["load_keras_model", "sniff_format", "translate_model", "layers_table", "supported_layers", "TRANSLATORS",
           "import_modules"]
