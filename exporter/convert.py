"""The convert pipeline: Keras model -> TF.js model directory, verified.

    load (safe) -> translate topology -> write shards (quantized) -> run in
    TF.js and compare with Keras -> meta.json -> atomic rename into OUT_DIR
"""

import contextlib
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from . import __version__, official
from .atomic import atomic_directory
from .auto_quantize import AutoQuantize, read_validation_file
from .transfer import compressed_sizes
from .errors import ExportError
from .keras_io import load_keras_model, sniff_format
from .optimize import FoldedWeight, keras_backed, optimize_topology
from .parity import (build_report, golden_entry, keras_outputs, raise_if_failed, run_tfjs, sample_inputs,
                     weights_replaced)
from .script_form import write_model_script
from .tfjs_runtime import Job, run_jobs
from .topology import translate_model
from .weights import (DEFAULT_SHARD_BYTES, as_numpy, check_patterns_match, describe_quantization, read_dequantized,
                      write_shards)


def quantized_names(qmap, entries, variable_names):
    """Resolve --quantize patterns to exact names, among Keras-variable-backed weights
    (folded BatchNorm weights count: they can be written back into Keras variables).

    Weights derived at export time (e.g. a lowered Normalization's scale) stay
    float32: they are tiny, and keeping them exact lets the parity reference be
    Keras with the dequantized variables.
    """
    if not qmap:
        return None
    names = [e["name"] for e in entries]
    check_patterns_match(qmap, names)
    chosen = official.quantization.map_layers_to_quantization_dtype([n for n in names if n in variable_names], qmap)
    resolved = {}
    for name, dtype in chosen.items():
        resolved.setdefault(np.dtype(dtype).name, []).append(name)
    return resolved or None


def write_layers_model(model, out_dir, quantization=None, shard_size=DEFAULT_SHARD_BYTES, optimize=True):
    """Write model.json + shards for a live Keras model.

    optimize: fold BatchNorm, drop inference no-ops, merge activations (exporter/optimize.py).
    Returns (model_json, named weights, optimization summary or None).
    """
    import keras

    config, weights = translate_model(model)
    optimizations = None
    if optimize:
        # Before quantization, so a folded kernel is quantized once, as the weight TF.js uses.
        config, weights, optimizations = optimize_topology(config, weights)
    entries = as_numpy(weights)
    variable_names = {name for name, value in weights if keras_backed(value)}
    if isinstance(quantization, AutoQuantize):  # measured on the weights as written, folds included
        quantization = quantization.choose(model, weights)
    try:
        qmap = quantized_names(quantization, entries, variable_names)
    except ExportError as error:
        if optimizations and optimizations["folded_batchnorm"]:
            raise ExportError(f"{error} (BatchNormalization weights were folded into the layers before them, so "
                              "their names are gone; --no-optimize keeps them.)") from None
        raise
    manifest = write_shards(entries, out_dir, shard_size, qmap)
    model_json = {
        "format": "layers-model",
        "generatedBy": f"keras v{keras.__version__}",
        "convertedBy": f"webnets v{__version__}",
        "modelTopology": {"keras_version": keras.__version__, "backend": "tensorflow", "model_config": config},
        "weightsManifest": manifest,
    }
    (Path(out_dir) / "model.json").write_text(json.dumps(model_json))
    return model_json, weights, optimizations


def export_saved_model(model, directory):
    """Keras 3 model.export(): the SavedModel the official graph converter reads."""
    model.export(str(directory), format="tf_saved_model", verbose=False)
    return directory


def write_graph_model(saved_model_dir, out_dir, quantization=None, shard_size=DEFAULT_SHARD_BYTES):
    """SavedModel -> TF.js graph model, with the official tensorflowjs converter."""
    official.tf_saved_model_conversion_v2.convert_tf_saved_model(
        str(saved_model_dir), str(out_dir), signature_def="serving_default", saved_model_tags="serve",
        quantization_dtype_map=quantization, weight_shard_size_bytes=shard_size)
    return json.loads((Path(out_dir) / "model.json").read_text())


def _input_names(model):
    return [t.name for t in model.inputs]


def verify_layers_model(model, model_dir, weights, quantization, model_json, batch=2, inputs=None,
                        evaluate=None):
    """TF.js vs Keras; for quantized exports, vs Keras with the dequantized weights.

    `inputs` (e.g. real test samples) replaces the random sample inputs;
    `evaluate(model) -> dict` is run with the weights as exported (dequantized)
    and its result returned. Returns (report, golden, exported_metrics).
    """
    inputs = inputs if inputs is not None else sample_inputs(model, batch=batch)
    float32 = reference = keras_outputs(model, inputs)
    exported_metrics = None
    with _as_exported(model, model_dir, weights, quantization, model_json):
        if quantization:
            reference = keras_outputs(model, inputs)
        if evaluate is not None:
            exported_metrics = evaluate(model)
    job = run_tfjs(model_dir, inputs, "layers", _input_names(model))
    report = build_report("layers", describe_quantization(quantization), inputs, job, reference, float32)
    raise_if_failed(report, job, f"model '{model.name}'")
    return report, golden_entry(inputs, reference), exported_metrics


def _as_exported(model, model_dir, weights, quantization, model_json):
    """Context in which the Keras model's variables hold the values TF.js will see.

    A folded weight (conv kernel * BN scale) has no Keras variable of its own.
    Its write-back puts the dequantized folded kernel into the conv's kernel
    variable and turns the Keras BatchNorm into the pure shift by the
    dequantized folded bias (gamma 1, variance 1 - eps). The unchanged Keras
    graph then computes exactly what the folded TF.js layer computes with the
    quantized numbers, so the parity check still proves the translation (bound
    1e-4) and `evaluate` measures the accuracy of the weights as shipped.
    Unquantized exports compare with plain Keras: folding moves results by float
    rounding only.
    """
    if not quantization:
        return contextlib.nullcontext()
    dequantized = read_dequantized(model_json["weightsManifest"], model_dir)
    pairs = []
    for name, value in weights:
        if hasattr(value, "assign"):
            pairs.append((value, dequantized[name]))
        elif isinstance(value, FoldedWeight):
            pairs += value.write_back(dequantized[name])
    return weights_replaced([v for v, _ in pairs], [d for _, d in pairs])


def verify_graph_model(model, model_dir, saved_model_dir, quantization, shard_size, batch=2):
    """TF.js graph model vs Keras.

    The official converter folds and fuses ops before quantizing, so there is
    no Keras model with "the dequantized weights" to compare a quantized graph
    with. Instead the float32 graph from the same SavedModel is checked against
    Keras (bound 1e-4), and the quantized graph's drift from Keras is reported.
    """
    inputs = sample_inputs(model, batch=batch)
    float32 = keras_outputs(model, inputs)
    names = _input_names(model)
    jobs = [Job("exported", model_dir, inputs, "graph", names)]
    with tempfile.TemporaryDirectory(prefix="webnets-graph-f32-") as f32_dir:
        if quantization:
            write_graph_model(saved_model_dir, f32_dir, None, shard_size)
            jobs.append(Job("float32", Path(f32_dir), inputs, "graph", names))
        run_jobs(jobs)
    exact = jobs[-1]
    report = build_report("graph", describe_quantization(quantization), inputs, exact, float32, jobs[0].outputs or float32)
    raise_if_failed(report, exact, f"model '{model.name}' (graph format)")
    # Golden outputs are what the exported graph computes (equal to Keras when unquantized).
    return report, golden_entry(inputs, jobs[0].outputs)


def model_files(model_dir):
    """{file name: bytes} of everything a browser downloads for the model."""
    model_dir = Path(model_dir)
    data = json.loads((model_dir / "model.json").read_text())
    files = ["model.json"] + [p for group in data["weightsManifest"] for p in group["paths"]]
    return {f: (model_dir / f).stat().st_size for f in files}


def check_output_free(out_dir, force):
    if Path(out_dir).exists() and not force:
        raise ExportError(f"The output directory '{out_dir}' already exists. webnets will not overwrite it "
                          "without being asked. Fix: pass --force to replace it (atomically), or choose another path.")


def describe_io(model):
    return {
        "inputs": [{"name": t.name, "shape": list(t.shape), "dtype": str(t.dtype)} for t in model.inputs],
        "outputs": [{"name": t.name, "shape": list(t.shape), "dtype": str(t.dtype)} for t in model.outputs],
    }


def export_keras_model(model, out_dir, *, quantization=None, fmt="layers", shard_size=DEFAULT_SHARD_BYTES,
                       force=False, verify=True, extra_meta=None, log=print, saved_model_dir=None,
                       inputs=None, evaluate=None, finalize=None, script=False, optimize=True,
                       compressed=False):
    """Convert a live Keras model into out_dir atomically. Returns the meta dict written to meta.json.

    inputs: arrays to verify with and to keep as golden vectors (default: random samples).
    evaluate: model -> metrics dict, run with the exported (dequantized) weights
        (layers format); its result lands in meta["metrics_exported"].
    finalize: meta -> None, called before meta.json is written (inside the atomic write).
    script: also write model.js, the form a page opened from disk can load (see script_form).
    quantization: a map as parse_quantize gives, or an AutoQuantize request (meta["quantization_auto"]).
    compressed: record the gzip and brotli transfer sizes (meta["bytes_compressed"]).
    optimize: layers format: fold BatchNorm, drop no-ops, merge activations (meta["optimizations"]).
    """
    out_dir = Path(out_dir)
    check_output_free(out_dir, force)
    if fmt not in ("layers", "graph"):
        raise ExportError(f"--format {fmt!r}: unknown format. Fix: use 'layers' (tf.loadLayersModel) or 'graph' "
                          "(tf.loadGraphModel).")
    started = time.perf_counter()
    with atomic_directory(out_dir, replace=force) as temp, tempfile.TemporaryDirectory(prefix="webnets-") as work:
        if isinstance(quantization, AutoQuantize):
            if fmt != "layers":
                raise ExportError("--quantize auto measures accuracy with the weights written back into the Keras "
                                  "model, which the graph format's folded and fused ops do not allow. Fix: use "
                                  "--format layers, or a fixed --quantize for the graph format.")
            quantization.log = log
        if fmt == "layers":
            model_json, weights, optimizations = write_layers_model(model, temp, quantization, shard_size, optimize)
        else:
            saved_model_dir = saved_model_dir or export_saved_model(model, Path(work) / "saved_model")
            model_json = write_graph_model(saved_model_dir, temp, quantization, shard_size)
        meta = {
            "name": model.name,
            "format": fmt,
            "converted_by": f"webnets v{__version__}",
            "quantization": describe_quantization(quantization),
            **describe_io(model),
            "parameter_count": int(model.count_params()),
            "bytes": model_files(temp),
            **(extra_meta or {}),
        }
        if fmt == "layers":
            meta["optimizations"] = optimizations or "none"
        if isinstance(quantization, AutoQuantize):
            meta["quantization_auto"] = quantization.result.record
        if compressed:
            meta["bytes_compressed"] = compressed_sizes(temp, meta["bytes"])
        meta["bytes_total"] = sum(meta["bytes"].values())
        if verify:
            if fmt == "layers":
                report, golden, exported = verify_layers_model(model, temp, weights, quantization, model_json,
                                                               inputs=inputs, evaluate=evaluate)
                if exported is not None:
                    meta["metrics_exported"] = exported
            else:
                report, golden = verify_graph_model(model, temp, saved_model_dir, quantization, shard_size)
            meta["parity"] = report.as_dict()
            meta["golden"] = golden
            log(report.summary())
        if finalize is not None:
            finalize(meta)
        (temp / "meta.json").write_text(json.dumps(meta, indent=1))
        if fmt == "layers" and script:
            write_model_script(temp, meta["name"])
    log(f"wrote {out_dir} ({meta['bytes_total']:,} bytes in {len(meta['bytes'])} files, "
        f"{time.perf_counter() - started:.1f}s)")
    return meta


def convert(src, out_dir, *, quantization=None, fmt="layers", shard_size=DEFAULT_SHARD_BYTES, force=False,
            verify=True, unsafe=False, log=print, optimize=True):
    """`convert SRC OUT_DIR`: a .keras / .h5 file (or SavedModel dir for the graph format)."""
    check_output_free(out_dir, force)  # fail before the slow model load
    kind = sniff_format(src)
    if kind == "saved_model":
        if fmt != "graph":
            raise ExportError(f"'{src}' is a SavedModel, which has no Keras layer graph. Fix: pass --format graph, "
                              "or convert the original .keras file.")
        return _convert_saved_model(src, out_dir, quantization, shard_size, force, verify, log)
    model = load_keras_model(src, unsafe=unsafe)
    if isinstance(quantization, AutoQuantize) and quantization.validation is None:
        quantization.validation = read_validation_file(quantization.validation_file, model)
    return export_keras_model(model, out_dir, quantization=quantization, fmt=fmt, shard_size=shard_size,
                              force=force, verify=verify, log=log, extra_meta={"source": Path(src).name},
                              compressed=isinstance(quantization, AutoQuantize),
                              optimize=optimize)


def _convert_saved_model(src, out_dir, quantization, shard_size, force, verify, log):
    """SavedModel -> graph model; the reference is the SavedModel's own serving signature."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(src))
    signature = loaded.signatures["serving_default"]
    specs = signature.structured_input_signature[1]

    class _SavedModelAsKeras:  # just what export_keras_model / verify_model use
        name = Path(src).name
        inputs = [_Spec(name, spec) for name, spec in sorted(specs.items())]
        outputs = []
        layers = []

        def count_params(self):
            return int(sum(np.prod(v.shape) for v in loaded.variables)) if hasattr(loaded, "variables") else 0

        def __call__(self, arrays, training=False):
            arrays = arrays if isinstance(arrays, list) else [arrays]
            result = signature(**{t.name: tf.constant(a) for t, a in zip(self.inputs, arrays)})
            return [result[k].numpy() for k in sorted(result)]

    return export_keras_model(_SavedModelAsKeras(), out_dir, quantization=quantization, fmt="graph",
                              shard_size=shard_size, force=force, verify=verify, log=log, saved_model_dir=src,
                              extra_meta={"source": Path(src).name})


class _Spec:
    def __init__(self, name, spec):
        self.name, self.shape, self.dtype = name, list(spec.shape), spec.dtype.name
