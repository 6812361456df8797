"""The graph format (`--format graph`): Keras 3 `model.export()` -> SavedModel -> the official
tensorflowjs converter -> `tf.loadGraphModel`. Inference only, and verified like the layers format.
"""

import json
import tempfile
from pathlib import Path

import numpy as np

from .. import official
from ..errors import ExportError
from ..quantize.shards import DEFAULT_SHARD_BYTES
from ..parity.compare import build_report, golden_entry, keras_outputs, raise_if_failed, sample_inputs
from ..parity.runtime import Job, run_jobs
from .layers_format import input_names

__all__ = ["export_saved_model", "write_graph_model", "verify_graph_model", "SavedModelAsKeras"]


def export_saved_model(model, directory):
    """Keras 3 model.export(): the SavedModel the official graph converter reads."""
    model.export(str(directory), format="tf_saved_model", verbose=False)
    return directory


def write_graph_model(saved_model_dir, out_dir, dtype_map=None, shard_size=DEFAULT_SHARD_BYTES):
    """SavedModel -> TF.js graph model, with the official converter (dtype_map: its quantization map)."""
    # official.tf_saved_model_conversion_v2 imports the converters (and TF-DF) on first use only.
    try:
        official.tf_saved_model_conversion_v2.convert_tf_saved_model(
            str(saved_model_dir), str(out_dir), signature_def="serving_default", saved_model_tags="serve",
            quantization_dtype_map=dtype_map, weight_shard_size_bytes=shard_size)
    except ValueError as error:
        if "Unsupported Ops" not in str(error):
            raise
        ops = str(error).split("optimization", 1)[-1].strip() or "some ops"
        raise ExportError(
            f"The official TF.js graph converter cannot convert this model: TF.js has no kernel for the op(s) {ops} "
            "that TensorFlow traced it into (gelu, for one, becomes Erfc). Fix: use the layers format (leave out "
            "--format graph): webnets translates the Keras layers themselves, so these ops are never needed."
        ) from None
    except AssertionError as error:
        if "is not in graph" not in str(error):
            raise
        raise ExportError(
            f"The official TF.js graph converter failed on the SavedModel Keras 3 exported ({error}): its graph "
            "optimizer loses nodes that inference-only layers (the Random* augmentation layers, Identity) leave "
            "behind. Fix: use the layers format (leave out --format graph), which drops those layers exactly."
        ) from None
    return json.loads((Path(out_dir) / "model.json").read_text())


def verify_graph_model(model, model_dir, saved_model_dir, request, shard_size, batch=2):
    """TF.js graph model vs Keras.

    The official converter folds and fuses ops before quantizing, so there is
    no Keras model with "the dequantized weights" to compare a quantized graph
    with. Instead the float32 graph from the same SavedModel is checked against
    Keras (bound 1e-4), and the quantized graph's drift from Keras is reported.
    """
    inputs = sample_inputs(model, batch=batch)
    float32 = keras_outputs(model, inputs)
    names = input_names(model)
    jobs = [Job("exported", model_dir, inputs, "graph", names)]
    dtype_map = request.official_map()
    with tempfile.TemporaryDirectory(prefix="webnets-graph-f32-") as f32_dir:
        if dtype_map:
            write_graph_model(saved_model_dir, f32_dir, None, shard_size)
            jobs.append(Job("float32", Path(f32_dir), inputs, "graph", names))
        run_jobs(jobs)
    exact = jobs[-1]
    report = build_report("graph", request.label, inputs, exact, float32, jobs[0].outputs or float32)
    raise_if_failed(report, exact, f"model '{model.name}' (graph format)")
    # Golden outputs are what the exported graph computes (equal to Keras when unquantized).
    return report, golden_entry(inputs, jobs[0].outputs)


class SavedModelAsKeras:
    """A SavedModel's serving signature with just what the export pipeline reads of a Keras model:
    the reference for `convert SAVED_MODEL_DIR --format graph`."""

    def __init__(self, src):
        import tensorflow as tf

        self._tf = tf
        try:
            self._loaded = tf.saved_model.load(str(src))
        except Exception as error:  # noqa: BLE001 - TensorFlow's reader raises a dozen types on a damaged directory
            reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__
            raise ExportError(f"'{src}' could not be read as a SavedModel: TensorFlow says \"{reason}\" "
                              f"({type(error).__name__}). Its files are damaged, incomplete or not a SavedModel. "
                              "Fix: export it again (model.export(DIR) in Keras, tf.saved_model.save in "
                              "TensorFlow) and copy the whole directory, variables/ included.") from None
        signatures = getattr(self._loaded, "signatures", {})
        if "serving_default" not in signatures:
            raise ExportError(f"'{src}' is a SavedModel without a serving_default signature, so webnets does not "
                              "know which function to convert. Fix: export it with model.export(DIR) (Keras 3), "
                              "or save it with signatures={'serving_default': ...}.")
        self._signature = signatures["serving_default"]
        specs = self._signature.structured_input_signature[1]
        self.name = Path(src).name
        self.inputs = [_Spec(name, spec) for name, spec in sorted(specs.items())]
        self.outputs = []
        self.layers = []

    def count_params(self):
        variables = getattr(self._loaded, "variables", None)
        return int(sum(np.prod(v.shape) for v in variables)) if variables is not None else 0

    def __call__(self, arrays, training=False):
        arrays = arrays if isinstance(arrays, list) else [arrays]
        result = self._signature(**{t.name: self._tf.constant(a) for t, a in zip(self.inputs, arrays)})
        return [result[k].numpy() for k in sorted(result)]


class _Spec:
    def __init__(self, name, spec):
        self.name, self.shape, self.dtype = name, list(spec.shape), spec.dtype.name
