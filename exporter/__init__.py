"""webnets exporter: Keras 3 -> TensorFlow.js layers models, verified in TF.js."""

import os

__version__ = "0.1.0"

# TensorFlow prints pages of C++ start-up chatter on import; none of it helps a
# person converting a model and it buries the one-paragraph errors. Set before
# anything imports TensorFlow; an explicit user setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
