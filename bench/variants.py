"""Bytes and accuracy of each weight variant: none (float32), float16, uint16, uint8, auto, pruned.

Written with the exporter's own functions (the same write path as `convert`, BatchNorm
folding included), scored with the zoo's evaluate code on the weights as TF.js will
read them: the shards are read back and dequantized into the Keras model
(exporter/pipeline/layers_format.py `LayersModel.keras_as_exported`). The TF.js parity of each export is the
exporter's business (tests); the bench skips the Node run for the fixed dtypes.

Bytes: model.json + shards, each file compressed on its own as HTTP sends it
(exporter/output/transfer.py: gzip -9, brotli quality 11).
"""

import contextlib
import io
import time
from pathlib import Path

QUANTIZATIONS = ("none", "float16", "uint16", "uint8", "auto")
PRUNE_SPARSITY = 0.5
PRUNE_QUANTIZE = "uint8"  # export's default dtype: pruning is about what gzip/brotli make of the zeros
MAX_ACCURACY_DROP = 1.0  # points, --quantize auto's default


def _quantization(q, case):
    from exporter.quantize import QuantizeRequest

    if q == "none":
        return None
    if q == "auto":
        validation = case.validation()
        if validation is None:
            return None
        return QuantizeRequest.automatic(MAX_ACCURACY_DROP, validation)
    return QuantizeRequest.parse(q)


def measure_variants(case, model, work, log=print, quantizations=QUANTIZATIONS):
    """{"bytes": {q: {raw, gzip, brotli} | None}, "accuracy": {q: float | None}, "auto": {...} | None}."""
    from exporter.output import compressed_sizes, model_files
    from exporter.pipeline import write_layers_model

    result = {"bytes": {}, "accuracy": {}, "auto": None, "seconds": {}}
    for q in quantizations:
        started = time.perf_counter()
        quantization = _quantization(q, case)
        if q != "none" and quantization is None:
            result["bytes"][q] = result["accuracy"][q] = None
            result["auto"] = {"offered": False, "why": "random weights, no data" if case.spec is None else
                              "no validation split with class labels (`export --quantize auto` refuses this model)"}
            continue
        out = Path(work) / case.key / f"variant-{q}"
        out.mkdir(parents=True)
        written = write_layers_model(model, out, quantization, log=log)
        result["bytes"][q] = compressed_sizes(out, model_files(out))
        with written.keras_as_exported():
            result["accuracy"][q] = case.evaluate(model)
        if written.quantization.record is not None:
            record = written.quantization.record
            result["auto"] = {
                "offered": True,
                "max_accuracy_drop_points": record["max_accuracy_drop_points"],
                "validation": record["validation"],
                "validation_drop_points": round(record["validation_drop_points"], 4),
                "tensors": {dtype: len(names) for dtype, names in record["map"].items()},
                "evaluations": record["evaluations"],
                "seconds": round(record["seconds"], 1),
            }
        result["seconds"][q] = round(time.perf_counter() - started, 1)
        log(f"  {case.key} {q}: {result['bytes'][q]['brotli']:,} bytes brotli, "
            f"metric {result['accuracy'][q]} ({result['seconds'][q]}s)")
    return result


def measure_pruned(case, work, log=print, sparsity=PRUNE_SPARSITY):
    """`export --prune SPARSITY --quantize uint8` through the exporter's Python entry point (the
    zoo fine-tune included), from this case's checkpoint. None where the zoo model has no fine-tune."""
    from exporter.zoo import export_model

    if not case.prunable:
        return None
    started = time.perf_counter()
    out_root = Path(work) / case.key / "pruned"
    # Keras' fine-tuning progress bars would bury the bench's own lines.
    with contextlib.redirect_stdout(io.StringIO()):
        meta = export_model(case.spec.name, out_root=out_root, quantize=PRUNE_QUANTIZE,
                            weights=str(case.checkpoint), quick=case.quick, prune=sparsity, log=log)
    key = case.metric["key"]
    from exporter.output import compressed_sizes, model_files

    out = out_root / case.spec.name
    record = meta.get("pruning") or {}
    return {
        "bytes": compressed_sizes(out, model_files(out)),
        "accuracy": meta["metrics"].get(f"{key}_exported"),
        "settings": {"sparsity": sparsity, "quantize": PRUNE_QUANTIZE,
                     "fine_tune": "the zoo's fine_tune (1 epoch of the training set at a tenth of the learning "
                                  "rate, masks re-applied after every batch)"},
        "sparsity_of_all_parameters": record.get("sparsity_of_all_parameters"),
        "zeros_exact_as_exported": record.get("zeros_exact_as_exported"),
        "fine_tune_seconds": record.get("fine_tune_wall_seconds"),
        "seconds": round(time.perf_counter() - started, 1),
    }
