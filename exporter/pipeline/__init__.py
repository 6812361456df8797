"""Conversion: one Keras model into one verified TF.js model directory.

    export.py         convert(SRC, OUT_DIR) and export_keras_model(model, OUT_DIR): the stages in order
    layers_format.py  model.json + shards for tf.loadLayersModel, verified against Keras
    graph_format.py   SavedModel -> the official converter -> tf.loadGraphModel
"""

from .layers_format import LayersModel, write_layers_model
from .export import FORMATS, convert, export_keras_model

__all__ = ["convert", "export_keras_model", "write_layers_model", "LayersModel", "FORMATS"]
