"""`export MODEL`: train (or load the cached checkpoint) -> convert -> verify ->
web_demo/models/MODEL/ with meta.json, and OUT/index.json updated."""

import json
from pathlib import Path
from typing import Callable, Optional

from ..pipeline import export_keras_model
from ..errors import ExportError
from ..quantize import QuantizeRequest, Validation
from .checkpoints import Checkpoint
from .index import update_index
from .training import train_or_load

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "web_demo" / "models"
DEFAULT_QUANTIZE = "uint8"


def _zoo_model(name):
    from models import zoo

    try:
        return zoo.get(name)
    except KeyError as error:
        raise ExportError(f"{error.args[0]}. Fix: pick one of those names (`python -m exporter list`).") from None


def export_model(name: str, *, out_root=DEFAULT_OUT, quantize=DEFAULT_QUANTIZE, retrain: bool = False,
                 weights: Optional[str] = None, strategy: Optional[str] = None, quick: bool = False,
                 verify: bool = True, optimize: bool = True, prune: Optional[float] = None,
                 log: Callable = print) -> Optional[dict]:
    """The whole `export NAME` job. Returns the meta dict of the main model (None on a worker
    that is not the chief of a multi-worker run).

    Args:
        name: a zoo model (`models.zoo.names()`).
        out_root: where OUT_ROOT/NAME/ and OUT_ROOT/index.json are written.
        quantize: as for `convert`; auto is tuned on the zoo model's validation split
            (meta["quantization_auto"]).
        retrain: train even if a cached checkpoint exists.
        weights: a .keras model or .weights.h5 file to export instead of training.
        strategy: "mirrored" or "multiworker" (tf.distribute) for training.
        quick: train a few steps only (smoke test).
        verify, optimize: as for `convert`.
        prune: sparsity in [0, 1): magnitude-prune the large kernels and fine-tune (meta["pruning"]);
            the checkpoint is left as it is.
    """
    from .prune import check_sparsity

    spec = _zoo_model(name)
    request = QuantizeRequest.coerce(quantize)
    prune = check_sparsity(prune)
    _check_offers(spec, request, prune)
    out_root = Path(out_root)
    model, record = train_or_load(spec, retrain=retrain, weights=weights, strategy_name=strategy, quick=quick, log=log)
    if record is None:
        log(f"{name}: this worker's share of training is done; the chief writes the checkpoint and the export")
        return None
    pruned = _prune(spec, model, prune, quick, log) if prune else None
    if request.auto is not None and request.auto.validation is None:
        inputs, labels = spec.validation_data(quick=quick)
        request = request.with_validation(Validation(inputs, labels, f"{name}: {spec.validation_source}"))
    io = spec.io_spec()
    checkpoint = Checkpoint.of(name)
    extra = {
        "name": name,
        "display_name": spec.display_name or name,
        "family": spec.family,
        "task": spec.task,
        "dataset": spec.dataset,
        "labels": io.get("labels"),
        "samples": spec.gallery() if hasattr(spec, "gallery") else None,
        "parameter_count": int(model.count_params()),
        "training": {k: v for k, v in record.items() if k not in ("metrics", "curves")},
        "checkpoint": checkpoint.relative(checkpoint.model) if checkpoint.exists() else None,
        "training_curves": checkpoint.relative(checkpoint.curves) if checkpoint.curves.exists() else None,
    }

    metrics = record.get("metrics") or {}
    meta = export_keras_model(
        model, out_root / name, quantize=request, force=True, verify=verify, log=log,
        extra_meta=extra, inputs=spec.golden_inputs(2), evaluate=_evaluate_exported(spec, quick, pruned),
        finalize=_describe_with(io, metrics, pruned), script=True, optimize=optimize, compressed=True)
    update_index(out_root, meta)
    # Further networks trained beside the main one (the DQN's CartPole agent).
    for extra_name in record.get("extra_models", []):
        sibling = checkpoint.sibling(extra_name)
        if not sibling.exists():
            continue
        extra_io = getattr(spec, "extra_io_specs", {}).get(extra_name, {})
        extra_meta = export_keras_model(
            sibling.load(), out_root / extra_name, quantize=request, force=True,
            verify=verify, log=log, script=True, optimize=optimize,
            finalize=_describe_with(extra_io, {k.split("_", 1)[1]: v for k, v in metrics.items()
                                               if k.startswith(extra_name.split("_", 1)[-1] + "_")}),
            extra_meta={"name": extra_name, "display_name": extra_io.get("display_name", extra_name),
                        "family": spec.family, "task": spec.task, "parent": name,
                        "dataset": extra_name.split("_", 1)[-1], "labels": extra_io.get("labels")})
        update_index(out_root, extra_meta)
    return meta


def _describe_with(io, metrics, pruned=None):
    """meta.json finalizer: the zoo's input/output description and metrics (float32 and exported).

    With pruning, "metrics" still compares the checkpoint (float32) with the model as shipped;
    "pruning" and "quantization_auto" hold the steps in between.
    """

    def finalize(meta):
        for key in ("inputs", "outputs", "action_repeat"):
            if key in io:
                meta[key] = io[key]
        exported = meta.pop("metrics_exported", None) or {}
        merged = dict(metrics)
        for key, value in exported.items():
            merged[f"{key}_exported"] = value
        meta["metrics"] = merged
        if pruned is not None:
            meta["pruning"] = pruned.record
        if "quantization_auto" in meta and exported:
            before = pruned.record["metrics_after_fine_tune"] if pruned is not None else metrics
            meta["quantization_auto"]["test_metrics"] = {
                "float32": {k: before[k] for k in exported if k in before}, "chosen": exported}

    return finalize


def _check_offers(spec, request, prune):
    """Refuse, before any loading or training, what this zoo model cannot do."""
    from models.base import ZooModel

    if request.auto is not None and type(spec).validation_data is ZooModel.validation_data:
        raise ExportError(f"--quantize auto: '{spec.name}' ({spec.task}) has no validation split with class labels "
                          "to measure accuracy on. Fix: use a fixed --quantize (uint8, float16 or uint16).")
    if prune and type(spec).fine_tune is ZooModel.fine_tune:
        raise ExportError(f"--prune: '{spec.name}' ({spec.task}) has no fine-tuning step to recover from pruning. "
                          "Fix: leave --prune out for this model.")


def _prune(spec, model, sparsity, quick, log):
    from .prune import prune

    return prune(model, sparsity, log=log, evaluate=lambda m: spec.evaluate(m, quick=quick),
                 fine_tune=lambda callbacks: spec.fine_tune(model, callbacks=callbacks, quick=quick, log=log))


def _evaluate_exported(spec, quick, pruned):
    """export's `evaluate`: runs with the weights as written (dequantized), so it is also where the
    pruned zeros are checked to have survived quantization."""

    def evaluate(model):
        if pruned is not None:
            pruned.record["zeros_exact_as_exported"] = pruned.zeros_exact()
            pruned.record["sparsity_as_exported"] = pruned.sparsity()
        return spec.evaluate(model, quick=quick)

    return evaluate


def zoo_listing():
    """`list --json`: one object per zoo model."""
    from models import zoo

    rows = []
    for name in zoo.names():
        spec = zoo.get(name)
        rows.append({
            "name": name,
            "display_name": spec.display_name or name,
            "family": spec.family,
            "task": spec.task,
            "dataset": spec.dataset,
            "params_paper": spec.params_paper,
            "params_demo": spec.params_demo,
            "metrics": _listed(spec, _last_metrics(name)),
        })
    return rows


def _listed(spec, metrics):
    """The metrics `list` reports: the family's headline metrics, float32 and as exported."""
    if metrics is None:
        return None
    keys = [k for key in spec.metric_keys for k in (key, f"{key}_exported")] + list(spec.listed_metric_keys)
    return {key: metrics[key] for key in keys if key in metrics}


def _last_metrics(name):
    meta = DEFAULT_OUT / name / "meta.json"
    if meta.exists():
        return json.loads(meta.read_text()).get("metrics")
    record = Checkpoint.of(name).read_record()
    return record.get("metrics") if record else None
