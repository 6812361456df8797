"""The layers format: model.json (tfjs-layers topology + weights manifest) and shards, for
`tf.loadLayersModel`, verified against Keras in TF.js.

    translate (exporter/layers) -> optimize -> resolve the quantization on the weights as
    written -> shards -> model.json;  verify: TF.js vs Keras (for a quantized export, Keras
    with the dequantized weights)
"""

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .. import __version__
from ..layers import translate_model
from ..layers.plugins import load_installed, plugin_scripts
from ..optimize import optimize_topology
from ..quantize import QuantizeRequest, Quantization
from ..quantize.shards import DEFAULT_SHARD_BYTES, read_dequantized, write_shards
from ..runtime import requires_entry, runtime_scripts
from ..parity.compare import build_report, golden_entry, keras_outputs, raise_if_failed, run_tfjs, sample_inputs
from ..weights import as_numpy, keras_with_values

__all__ = ["LayersModel", "write_layers_model", "verify_layers_model"]


@dataclass(frozen=True)
class LayersModel:
    """What `write_layers_model` wrote: model.json, the named weights behind it (Keras variables,
    folds, derived arrays), the resolved quantization and the optimizer's summary (or None)."""

    directory: Path
    model_json: dict
    weights: list
    quantization: Quantization
    optimizations: Optional[dict]
    requires: tuple = ()  # scripts copied beside model.json, in load order (meta.json "requires")

    @contextlib.contextmanager
    def keras_as_exported(self):
        """Within the block the Keras model computes with the values TF.js will see.

        A folded weight (conv kernel * BN scale) has no Keras variable of its own:
        its write-back puts the dequantized folded kernel into the conv's kernel and
        turns the Keras BatchNorm into the pure shift by the dequantized folded bias,
        so the unchanged Keras graph computes exactly what the folded TF.js layer
        computes with the quantized numbers. The parity check then still proves the
        translation (bound 1e-4), and an evaluation measures the accuracy of the
        weights as shipped. An unquantized export is plain Keras: folding moves
        results by float rounding only.
        """
        if not self.quantization.quantized:
            yield
            return
        with keras_with_values(self.weights, read_dequantized(self.model_json["weightsManifest"], self.directory)):
            yield


def write_layers_model(model, out_dir, quantization=None, shard_size=DEFAULT_SHARD_BYTES, optimize=True,
                       log=print) -> LayersModel:
    """Write model.json + shards for a live Keras model into out_dir.

    quantization: a QuantizeRequest (or what QuantizeRequest.coerce takes); it is resolved here, on
        the weights as written (after folding, so a folded kernel is quantized once, as TF.js uses it).
    optimize: fold BatchNorm, drop inference no-ops, merge activations (exporter/optimize).
    """
    import keras

    request = QuantizeRequest.coerce(quantization)
    load_installed()  # installed plugins' translators, before the first translation
    config, weights = translate_model(model)
    optimizations = None
    if optimize:
        config, weights, optimizations = optimize_topology(config, weights)
    folded = bool(optimizations and optimizations["folded_batchnorm"])
    resolved = request.resolve(model, weights, log=log, hint=(
        " (BatchNormalization weights were folded into the layers before them, so their names are gone; "
        "--no-optimize keeps them.)") if folded else "")
    manifest = write_shards(as_numpy(weights), out_dir, shard_size, resolved.tfjs_map)
    model_json = {
        "format": "layers-model",
        "generatedBy": f"keras v{keras.__version__}",
        "convertedBy": f"webnets v{__version__}",
        "modelTopology": {"keras_version": keras.__version__, "backend": "tensorflow", "model_config": config},
        "weightsManifest": manifest,
    }
    requires = tuple(_copy_scripts(model_json, Path(out_dir)))  # checked before model.json is written
    (Path(out_dir) / "model.json").write_text(json.dumps(model_json))
    return LayersModel(Path(out_dir), model_json, weights, resolved, optimizations, requires)


def _copy_scripts(model_json, out_dir):
    """Copy the scripts model.json needs beside it; yields their meta.json `requires` entries.

    Only exports that name a webnets class carry (and make pages load) webnets-layers.js; a plugin's
    JS file (exporter/plugins.py) travels the same way when model.json names one of its classes, after it.
    """
    scripts = runtime_scripts(model_json)  # webnets-layers.js and/or webnets-tokenizers.js
    scripts += [(path.name, path.read_bytes()) for path in plugin_scripts(model_json)]
    for name, data in scripts:
        (out_dir / name).write_bytes(data)
        yield requires_entry(data, name)


def input_names(model):
    return [t.name for t in model.inputs]


def verify_layers_model(model, written: LayersModel, batch=2, inputs=None, evaluate=None):
    """TF.js vs Keras; for quantized exports, vs Keras with the dequantized weights.

    `inputs` (e.g. real test samples) replaces the random sample inputs;
    `evaluate(model) -> dict` is run with the weights as exported (dequantized)
    and its result returned. Returns (report, golden, exported_metrics).
    """
    inputs = inputs if inputs is not None else sample_inputs(model, batch=batch)
    float32 = reference = keras_outputs(model, inputs)
    exported_metrics = None
    with written.keras_as_exported():
        if written.quantization.quantized:
            reference = keras_outputs(model, inputs)
        if evaluate is not None:
            exported_metrics = evaluate(model)
    scripts = [str(written.directory / r["file"]) for r in written.requires]
    job = run_tfjs(written.directory, inputs, "layers", input_names(model), runtime=scripts)
    report = build_report("layers", written.quantization.label, inputs, job, reference, float32)
    raise_if_failed(report, job, f"model '{model.name}'")
    return report, golden_entry(inputs, reference), exported_metrics
