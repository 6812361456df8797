"""Clamp01Where: y = clip(x * gain, 0, upper), with a trainable `gain` per channel, written the way
that keeps webnets' tracer out: call() branches in Python on a tensor's value (`if ops.any(...)`),
which a symbolic trace cannot follow. So the layer ships as a plugin: the translator below and the
TF.js class in clamp.js.

Keras runs it eagerly (model(x); training needs run_eagerly=True, since TF graphs refuse the `if`).
"""

import keras
from keras import ops

from exporter.plugins import ConfigReader, translator

KEY = "tests.plugin_example>Clamp01Where"


@keras.saving.register_keras_serializable(package="tests.plugin_example")
class Clamp01Where(keras.layers.Layer):
    def __init__(self, upper=1.0, **kwargs):
        super().__init__(**kwargs)
        self.upper = float(upper)

    def build(self, input_shape):
        self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gain")

    def call(self, x):
        y = x * self.gain
        # Python control flow on tensor values: fine eagerly, untraceable symbolically. Whichever
        # branches run, the result is clip(y, 0, upper).
        if ops.any(y < 0):
            y = ops.maximum(y, 0.0)
        if ops.any(y > self.upper):
            y = ops.minimum(y, self.upper)
        return y

    def compute_output_shape(self, input_shape):
        # Declared, so that Keras builds the graph without running call() on symbolic tensors.
        return input_shape

    def get_config(self):
        return {**super().get_config(), "upper": self.upper}


@translator(KEY, js="clamp.js", becomes="Clamp01Where", note="clip(x * gain, 0, upper)")
def clamp01_where(layer, config):
    reader = ConfigReader(layer, config)
    reader.out["upper"] = float(reader.get("upper"))
    return reader.finish("Clamp01Where")  # the weight: ("gain", layer.gain), as default_weights names it
