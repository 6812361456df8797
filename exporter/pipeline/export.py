"""The convert pipeline: Keras model -> TF.js model directory, verified.

    load (safe) -> translate topology -> optimize -> write shards (quantized) -> run in
    TF.js and compare with Keras -> meta.json -> atomic swap into OUT_DIR
"""

import json
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from .. import __version__
from ..errors import ExportError
from ..layers import import_modules, load_keras_model, sniff_format
from ..layers.plugins import load_installed
from ..output import atomic_directory, compressed_sizes, model_files, write_model_script
from ..quantize import QuantizeRequest, read_validation_file
from ..quantize.shards import DEFAULT_SHARD_BYTES
from .graph_format import SavedModelAsKeras, export_saved_model, verify_graph_model, write_graph_model
from .layers_format import verify_layers_model, write_layers_model

__all__ = ["convert", "export_keras_model", "check_output_free", "FORMATS"]

FORMATS = ("layers", "graph")
Quantize = Union[None, str, Sequence[str], QuantizeRequest]


def check_output_free(out_dir, force):
    if Path(out_dir).exists() and not force:
        raise ExportError(f"The output directory '{out_dir}' already exists. webnets will not overwrite it "
                          "without being asked. Fix: pass --force to replace it (atomically), or choose another path.")


def describe_io(model):
    return {
        "inputs": [{"name": t.name, "shape": list(t.shape), "dtype": str(t.dtype)} for t in model.inputs],
        "outputs": [{"name": t.name, "shape": list(t.shape), "dtype": str(t.dtype)} for t in model.outputs],
    }


def _check_format(fmt):
    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt!r}: unknown format. Fix: use 'layers' (tf.loadLayersModel) or 'graph' "
                          "(tf.loadGraphModel).")


def export_keras_model(model, out_dir, *, quantize: Quantize = None, format: str = "layers",
                       shard_size: int = DEFAULT_SHARD_BYTES, force: bool = False, verify: bool = True,
                       optimize: bool = True, extra_meta: Optional[dict] = None, log: Callable = print,
                       saved_model_dir=None, inputs=None, evaluate: Optional[Callable] = None,
                       finalize: Optional[Callable] = None, script: bool = False, compressed: bool = False) -> dict:
    """Convert a live Keras model into out_dir atomically. Returns the meta dict written to meta.json.

    Args:
        model: a built Functional or Sequential keras.Model.
        out_dir: the export directory; it appears complete or not at all.
        quantize: None, "uint8" / "float16" / "uint16" / "DTYPE=PATTERN", a list of those, or a
            QuantizeRequest (`QuantizeRequest.automatic(...)` for --quantize auto; meta["quantization_auto"]).
        format: "layers" (tf.loadLayersModel, trainable) or "graph" (tf.loadGraphModel, official converter).
        shard_size: bytes per weight shard.
        force: replace an existing out_dir (atomically).
        verify: run the model in TF.js and compare with Keras (meta["parity"], meta["golden"]).
        optimize: layers format: fold BatchNorm, drop no-ops, merge activations (meta["optimizations"]).
        extra_meta: merged into meta.json.
        log: where progress lines go.
        saved_model_dir: graph format: an existing SavedModel to convert instead of `model.export()`.
        inputs: arrays to verify with and keep as golden vectors (default: random samples).
        evaluate: model -> metrics dict, run with the exported (dequantized) weights (layers format);
            its result lands in meta["metrics_exported"].
        finalize: meta -> None, called before meta.json is written (inside the atomic write).
        script: also write model.js, the form a page opened from disk can load.
        compressed: record the gzip and brotli transfer sizes (meta["bytes_compressed"]).
    """
    out_dir = Path(out_dir)
    check_output_free(out_dir, force)
    _check_format(format)
    request = QuantizeRequest.coerce(quantize)
    dtype_map = request.official_map() if format == "graph" else None  # refuses auto for the graph format
    started = time.perf_counter()
    with atomic_directory(out_dir, replace=force) as temp, tempfile.TemporaryDirectory(prefix="webnets-") as work:
        written = None
        if format == "layers":
            written = write_layers_model(model, temp, request, shard_size, optimize, log=log)
            label = written.quantization.label
        else:
            saved_model_dir = saved_model_dir or export_saved_model(model, Path(work) / "saved_model")
            write_graph_model(saved_model_dir, temp, dtype_map, shard_size)
            label = request.label
        meta = {
            "name": model.name,
            "format": format,
            "converted_by": f"webnets v{__version__}",
            "quantization": label,
            **describe_io(model),
            "parameter_count": int(model.count_params()),
            "bytes": model_files(temp, [r["file"] for r in written.requires] if written is not None else ()),
            **(extra_meta or {}),
        }
        if written is not None:
            meta["optimizations"] = written.optimizations or "none"
            if written.requires:
                meta["requires"] = list(written.requires)
            if written.quantization.record is not None:
                meta["quantization_auto"] = written.quantization.record
        if compressed:
            meta["bytes_compressed"] = compressed_sizes(temp, meta["bytes"])
        meta["bytes_total"] = sum(meta["bytes"].values())
        if verify:
            if written is not None:
                report, golden, exported = verify_layers_model(model, written, inputs=inputs, evaluate=evaluate)
                if exported is not None:
                    meta["metrics_exported"] = exported
            else:
                report, golden = verify_graph_model(model, temp, saved_model_dir, request, shard_size)
            meta["parity"] = report.as_dict()
            meta["golden"] = golden
            log(report.summary())
        if finalize is not None:
            finalize(meta)
        (temp / "meta.json").write_text(json.dumps(meta, indent=1))
        if written is not None and script:
            write_model_script(temp, meta["name"])
    log(f"wrote {out_dir} ({meta['bytes_total']:,} bytes in {len(meta['bytes'])} files, "
        f"{time.perf_counter() - started:.1f}s)")
    return meta


def convert(src: Union[str, Path], out_dir: Union[str, Path], *, quantize: Quantize = None, format: str = "layers",
            shard_size: int = DEFAULT_SHARD_BYTES, force: bool = False, verify: bool = True, unsafe: bool = False,
            optimize: bool = True, step: bool = False, imports: Sequence[str] = (), max_params: Optional[int] = None,
            log: Callable = print, preprocessor: Union[None, bool, int] = None) -> dict:
    """Convert a Keras model file into a TF.js model directory, verified in TF.js (`webnets convert`).

    Args:
        src: a .keras or .h5 file; with format="graph" also a SavedModel directory.
        out_dir: the export directory (model.json, shards, meta.json); it appears complete or not at all.
        quantize: None (float32), "uint8" / "float16" / "uint16", "DTYPE=PATTERN,..." for the weights
            whose TF.js name matches a glob, a list of those, or a QuantizeRequest; auto needs its
            validation data (`QuantizeRequest.parse(["auto"], validation_file="val.npz")`).
        format: "layers" (default: tf.loadLayersModel, trainable) or "graph" (tf.loadGraphModel).
        shard_size: bytes per weight shard (default 4 MiB).
        force: replace an existing out_dir, atomically.
        verify: run the export in TF.js (Node) and compare with Keras; refuse above the bound.
        unsafe: let Keras deserialize Python code (Lambda) from the file; only for files you trust.
        optimize: fold BatchNorm, drop inference no-ops, merge activations.
        step: write the step model instead (exporter/pipeline/step_form.py): one token and the
            state of each recurrent layer in, the output and the new states out.
        imports: modules to import before loading (`--import`): the trusted code that defines the
            file's own classes, e.g. ["keras_hub"] or ["my_project.layers"]. Nothing else is imported.
        max_params: refuse a file whose config declares more parameters than this, before Keras
            allocates them (`--max-params`; None: 2e9). Files declaring more than they store are always refused.
        log: where progress lines go.
        preprocessor: a keras-hub task saved with its text preprocessor exports as a model taking raw
            strings (exporter/layers/hub_preprocessors.py); False keeps the token-id graph; 2: sentence pairs.

    Returns:
        The meta dict written to out_dir/meta.json (inputs, outputs, sizes, parity report, golden vectors).

    Raises:
        ExportError: bad input or an unsupported layer or option, with a message naming the fix;
        nothing is written then.
    """
    check_output_free(out_dir, force)  # fail before the slow model load
    _check_format(format)
    request = QuantizeRequest.coerce(quantize)
    kind = sniff_format(src)
    if kind == "saved_model":
        if format != "graph":
            raise ExportError(f"'{src}' is a SavedModel, which has no Keras layer graph. Fix: pass --format graph, "
                              "or convert the original .keras file.")
        return export_keras_model(SavedModelAsKeras(src), out_dir, quantize=request, format="graph",
                                  shard_size=shard_size, force=force, verify=verify, log=log, saved_model_dir=src,
                                  extra_meta={"source": Path(src).name})
    if request.auto is not None:
        request.require_validation_file()
    import_modules(imports)
    load_installed()  # installed plugins, which may define the file's classes too
    model = load_keras_model(src, unsafe=unsafe, max_params=max_params)
    if preprocessor is not False:
        from ..layers.hub_preprocessors import with_preprocessor

        model = with_preprocessor(model, preprocessor)
    if step:
        from .step_form import build_step_model

        model = build_step_model(model)
    if request.auto is not None and request.auto.validation is None:
        request = request.with_validation(read_validation_file(request.auto.validation_file, model))
    return export_keras_model(model, out_dir, quantize=request, format=format, shard_size=shard_size, force=force,
                              verify=verify, log=log,
                              extra_meta={"source": Path(src).name, **({"form": "step"} if step else {})},
                              compressed=request.auto is not None, optimize=optimize)
