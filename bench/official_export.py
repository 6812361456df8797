"""The first half of the official route for Keras 3, run as its own process by the bench:
load the .keras file and write a SavedModel (`python -m bench.official_export SRC DIR`).
The second half is the `tensorflowjs_converter --input_format=tf_saved_model` command."""

import sys


def main(src, out):
    import keras

    model = keras.saving.load_model(src, compile=False)
    model.export(out, format="tf_saved_model", verbose=False)


if __name__ == "__main__":
    main(*sys.argv[1:3])
