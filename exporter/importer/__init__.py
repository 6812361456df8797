"""`webnets import SRC OUT.keras`: a TF.js layers model back into a verified Keras 3 `.keras` file.

SRC is a directory or http(s) URL with model.json + weight shards: webnets' own exports, models a
page saved with `model.save('downloads://...')` after training in TF.js, and the official
converter's exports of Keras 2 / tf_keras models (float32 or quantized; weights are dequantized
as TF.js dequantizes them). Stages:

    reader.py    model.json + shards -> config and {weight name: array}
    builders.py  one builder per tfjs class (Webnets* classes included) -> a Keras 3 layer, or a refusal
    graph.py     the Keras 2 inbound-node graph -> a Keras 3 Functional / Sequential model; weights

Verified like `convert`: the Keras model must predict what TF.js predicts on SRC (Node runner,
max relative error <= FLOAT32_BOUND), and the written file must load with safe_mode=True and
predict the same. OUT appears complete or not at all, and an existing OUT is only replaced with
force=True. Class names that a Teach download carries (model.json's userDefinedMetadata, or the
labels.json beside it) are written beside OUT as <stem>.labels.json, since Keras models hold none.
"""

import json
import shutil
import tempfile
from pathlib import Path

from ..errors import ExportError, ParityError
from ..output import atomic_file, write_text_atomic
from ..parity.runtime import is_url
from ..parity.tolerances import FLOAT32_BOUND, max_relative_error
from ..runtime import RUNTIME_FILE, RUNTIME_NAME, webnets_classes
from .builders import ImportRefusal, supported_classes

__all__ = ["import_model", "ImportRefusal", "supported_classes"]


def _check_out(out, force):
    out = Path(out)
    if out.suffix != ".keras":
        raise ExportError(f"{out}: the output must be a .keras file (Keras 3's format). Nothing was written. "
                          "Fix: name it e.g. model.keras.")
    if out.exists() and not force:
        raise ExportError(f"{out} already exists, so nothing was written. Fix: choose another name, or pass --force "
                          "(force=True) to replace it.")
    if out.is_dir():
        raise ExportError(f"{out} is a directory. Nothing was written. Fix: name a .keras file.")
    return out.absolute()


def _verify(model, tfjs, log):
    from ..parity.compare import keras_outputs, sample_inputs
    from ..parity.compare import run_tfjs

    inputs = sample_inputs(model)
    # The copy beside model.json where there is one (the runner finds it); else webnets' own: a page's
    # download has none beside it, and a URL's shards were downloaded without it.
    runtime = None
    if webnets_classes(tfjs.model_json) and (is_url(tfjs.source) or not (tfjs.directory / RUNTIME_NAME).is_file()):
        runtime = str(RUNTIME_FILE)
    job = run_tfjs(tfjs.directory, inputs, runtime=runtime)
    if job.error:
        raise ParityError(f"TF.js could not run {tfjs.source} itself ({job.error}), so the imported Keras model "
                          "cannot be checked against it. Nothing was written. Fix: check the model loads with "
                          "tf.loadLayersModel (with webnets-layers.js registered if it uses Webnets classes), or "
                          "pass --no-verify at your own risk.")
    expected = keras_outputs(model, inputs)
    error = max_relative_error(expected, job.outputs)
    if not error <= FLOAT32_BOUND:
        raise ParityError(f"the imported Keras model does not reproduce TF.js on {tfjs.source}: max relative error "
                          f"{error:.3e} exceeds {FLOAT32_BOUND:.0e}. Nothing was written. Fix: report it with the "
                          "model (a layer option webnets maps wrongly); --no-verify skips the check, at your own risk.")
    log(f"parity (Keras 3 vs TF.js {job.backend}, {inputs[0].shape[0]} samples): max relative error {error:.2e} "
        f"(bound {FLOAT32_BOUND:.0e}) -> OK")
    return inputs, expected, {"max_rel_error": error, "bound": FLOAT32_BOUND, "tfjs_backend": job.backend,
                              "samples": int(inputs[0].shape[0])}


def import_model(src, out, *, force=False, verify=True, max_params=None, log=print) -> dict:
    """Rebuild the TF.js layers model at `src` (directory, model.json path or http(s) URL) as a Keras 3
    model and write it to `out` (.keras) atomically. Returns a summary dict (layers, params, parity).

    max_params: refuse a model declaring more weight values than this (None: 2e9); a model.json whose
    manifest disagrees with its shard sizes, or whose layers declare more than the manifest holds, is
    always refused, before anything is read into memory or built.

    Raises ExportError (ImportRefusal, an UnsupportedLayerError, for a layer or option with no
    Keras 3 equivalent; ParityError when Keras does not reproduce TF.js); nothing is written then."""
    import keras

    from ..parity.compare import keras_outputs
    from .graph import assign_weights, build_model
    from .reader import read_model

    out = _check_out(out, force)
    work = Path(tempfile.mkdtemp(prefix="webnets-import-"))
    try:
        tfjs = read_model(src, work=work, max_params=max_params)
        model = build_model(tfjs.model_config)
        assign_weights(model, tfjs.weights, tfjs.weight_order)
        log(f"rebuilt {type(model).__name__} '{model.name}': {len(model.layers)} layers, "
            f"{model.count_params():,} parameters" + (f" ({len(tfjs.quantized)} quantized weights dequantized)"
                                                     if tfjs.quantized else ""))
        summary = {"src": str(src), "out": str(out), "model_class": type(model).__name__,
                   "layers": len(model.layers), "params": int(model.count_params()),
                   "quantized_weights": len(tfjs.quantized), "parity": None}
        checked = None
        if verify:
            inputs, expected, summary["parity"] = _verify(model, tfjs, log)
            checked = (inputs, expected)
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_file(out, replace=force) as temp:
                model.save(temp)
                if checked is not None:  # the file itself, as a user loads it, predicts the same
                    loaded = keras.saving.load_model(temp, safe_mode=True, compile=False)
                    drift = max_relative_error(keras_outputs(loaded, checked[0]), checked[1])
                    if not drift <= FLOAT32_BOUND:
                        raise ExportError(f"the written .keras file predicts differently from the model built in "
                                          f"memory (max relative error {drift:.3e}). Nothing was written. Fix: "
                                          "report it.")
        except FileExistsError:
            raise ExportError(f"{out} already exists, so nothing was written. Fix: pass --force.") from None
        if tfjs.labels:
            # Keras 3 models have no place for class names: they go beside the .keras file.
            labels_path = out.with_name(f"{out.stem}.labels.json")
            write_text_atomic(labels_path, json.dumps({"labels": tfjs.labels}, indent=1) + "\n")
            summary["labels"] = tfjs.labels
            log(f"wrote {labels_path} ({len(tfjs.labels)} class names: {', '.join(tfjs.labels)})")
        log(f"wrote {out}")
        return summary
    finally:
        shutil.rmtree(work, ignore_errors=True)
