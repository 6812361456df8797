"""The model zoo's export: `export MODEL` trains (or loads) a zoo model and converts it for the demo.

    export.py       export_model: train or load -> prune -> convert -> meta.json + index.json; `list`
    training.py     trained here (tf.distribute across devices or machines), cached, or the user's weights
    checkpoints.py  artifacts/checkpoints/<name>.{keras,json,png}, each written atomically
    index.py        web_demo/models/index.json and index.js
    prune.py        --prune: magnitude pruning with a masked fine-tune
"""

from .export import DEFAULT_OUT, export_model, zoo_listing

__all__ = ["export_model", "zoo_listing", "DEFAULT_OUT"]
