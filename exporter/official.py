"""The official `tensorflowjs` package (its weight writer, quantizer and graph converter).

Importing it pulls in TensorFlow Decision Forests, which prints an
advertisement on stdout (corrupting machine-readable output) unless told not to.
"""

import os

os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")

import tensorflowjs  # noqa: E402
from tensorflowjs import quantization, read_weights, write_weights  # noqa: E402,F401
from tensorflowjs.converters import keras_h5_conversion, tf_saved_model_conversion_v2  # noqa: E402,F401

version = tensorflowjs.__version__
