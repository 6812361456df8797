"""The real files the fuzzer mutates, made once per campaign by webnets itself.

Every input kind starts from what users really hand webnets: Keras 3 `.keras` files and legacy `.h5`
files of a small CNN (branches, BatchNormalization, pooling), an MLP and a recurrent model; a
SavedModel; `convert`'s export directories (model.json, shards, meta.json, webnets-layers.js); a
published CDN tree with its index.json; and a Teach download (TF.js's downloads:// files after a few
training steps in TF.js).
"""

import json
import subprocess
from pathlib import Path

import numpy as np

__all__ = ["build_seeds", "SEED_FILES"]

REPO_ROOT = Path(__file__).resolve().parents[2]

# seed name -> the file or directory under the seed root that a kind mutates.
SEED_FILES = {
    "cnn.keras": "cnn.keras", "mlp.keras": "mlp.keras", "rnn.keras": "rnn.keras",
    "cnn.h5": "cnn.h5", "mlp.h5": "mlp.h5",
    "mlp.savedmodel": "mlp.savedmodel",
    "cnn.tfjs": "exports/cnn", "rnn.tfjs": "exports/rnn",
    "published": "cdn",
    "teach": "teach",
}


def _models():
    import keras
    from keras import layers

    keras.utils.set_random_seed(7)
    image = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", name="stem")(image)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    left = layers.Conv2D(4, 1, activation="relu", name="left")(x)
    right = layers.MaxPooling2D(2, strides=1, padding="same", name="right_pool")(x)
    x = layers.Concatenate(name="merge")([left, right])
    x = layers.Add(name="residual")([layers.Conv2D(8, 1, name="project")(image), x])
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    cnn = keras.Model(image, layers.Dense(3, activation="softmax", name="classes")(x), name="cnn")

    mlp = keras.Sequential([keras.Input((6,)), layers.Dense(5, activation="tanh"), layers.Dropout(0.1),
                            layers.Dense(2)], name="mlp")

    tokens = keras.Input((5, 4), name="sequence")
    y = layers.LSTM(3, return_sequences=True, name="lstm")(tokens)
    y = layers.GRU(2, name="gru")(y)
    rnn = keras.Model(tokens, layers.Dense(1, name="score")(y), name="rnn")
    return {"cnn": cnn, "mlp": mlp, "rnn": rnn}


def _teach_download(export_dir, out_dir):
    """Train the export a few steps in TF.js (Node) and save it as a page's downloads:// would."""
    from tests.fit_helper import fit_and_save

    rng = np.random.default_rng(0)
    x = rng.random((4, 8, 8, 3), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    fit_and_save(export_dir, out_dir, x, y)
    (out_dir / "labels.json").write_text(json.dumps({"labels": ["cat", "dog", "bird"]}))  # as the Teach panel writes it


def build_seeds(root):
    """Write every seed under `root` (once: an existing complete root is reused). -> root."""
    import exporter
    from exporter.publish import publish
    from exporter.zoo.index import update_index

    root = Path(root)
    done = root / ".complete"
    if done.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    quiet = lambda *a, **k: None  # noqa: E731
    for name, model in _models().items():
        model.save(root / f"{name}.keras")
        if name != "rnn":
            model.save(root / f"{name}.h5")
        if name == "mlp":
            model.export(str(root / "mlp.savedmodel"), verbose=False)
    for name in ("cnn", "rnn"):
        meta = exporter.convert(root / f"{name}.keras", root / "exports" / name, log=quiet)
        update_index(root / "exports", meta)
    publish(root / "exports", f"file://{root / 'cdn'}", "1.0.0", log=quiet)
    _teach_download(root / "exports" / "cnn", root / "teach")
    done.write_text("ok")
    return root


if __name__ == "__main__":  # python -m tests.fuzz.seeds DIR: look at what the fuzzer starts from
    import sys

    print(build_seeds(sys.argv[1]))
    subprocess.run(["find", sys.argv[1], "-maxdepth", "3"], check=False)
