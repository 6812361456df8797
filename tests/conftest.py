import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
# As exporter/__init__.py sets it (channels_first convolutions on every CPU), before a test imports
# Keras or TensorFlow ahead of the exporter.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
