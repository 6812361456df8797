"""`export MODEL`: train (or load the cached checkpoint) -> convert -> verify ->
web_demo/models/MODEL/ with meta.json, and OUT/index.json updated.

Checkpoints live in artifacts/checkpoints/<name>.keras with a <name>.json
sidecar (training metrics) and a <name>.png training-curve plot.
"""

import datetime
import json
import os
import time
from pathlib import Path

from . import __version__
from .atomic import write_text_atomic
from .auto_quantize import AutoQuantize, Validation
from .convert import export_keras_model
from .errors import ExportError
from .script_form import write_index_script

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "web_demo" / "models"


def _checkpoint_paths(name):
    from models.training import CHECKPOINT_DIR

    return CHECKPOINT_DIR / f"{name}.keras", CHECKPOINT_DIR / f"{name}.json", CHECKPOINT_DIR / f"{name}.png"


def _save_model_atomic(model, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def _load_checkpoint(path):
    import keras

    return keras.saving.load_model(path, compile=False, safe_mode=True)


def train_or_load(spec, *, retrain=False, weights=None, strategy_name=None, quick=False, log=print):
    """The model to export and its training record (metrics, checkpoint paths)."""
    from models.training import make_strategy, save_curves, strategy_scope, write_json_atomic

    checkpoint, sidecar, curves_png = _checkpoint_paths(spec.name)
    if weights:
        weights = Path(weights)
        if not weights.exists():
            raise ExportError(f"--weights {weights}: no such file. Fix: pass a .keras model or a .weights.h5 file "
                              f"saved from `models.zoo.build('{spec.name}', preset='demo')`.")
        try:
            if weights.suffix == ".keras":
                model = _load_checkpoint(weights)
            else:
                model = spec.build("demo")
                model.load_weights(weights)
        except Exception as error:
            raise ExportError(f"--weights {weights}: could not load it into the '{spec.name}' demo model "
                              f"({type(error).__name__}: {str(error)[:300]}). Fix: use weights saved from the same "
                              "architecture (models.zoo.build(name, preset='demo')).") from error
        return model, {"source": str(weights), "metrics": spec.evaluate(model)}
    if checkpoint.exists() and not retrain:
        log(f"{spec.name}: using the cached checkpoint {checkpoint} (--retrain to train again)")
        record = json.loads(sidecar.read_text()) if sidecar.exists() else {"metrics": spec.evaluate(_load_checkpoint(checkpoint))}
        return _load_checkpoint(checkpoint), record
    strategy = make_strategy(strategy_name)
    log(f"{spec.name}: training the demo model on {spec.dataset}" + (" (quick)" if quick else ""))
    started = time.perf_counter()
    with strategy_scope(strategy):
        model = spec.build("demo")
    result = spec.train(model, strategy=strategy, quick=quick, log=log)
    seconds = time.perf_counter() - started
    if not _is_chief():
        return model, None  # multi-worker training: only worker 0 writes checkpoints and exports
    _save_model_atomic(model, checkpoint)
    for extra_name, extra_model in result.extra_models.items():
        _save_model_atomic(extra_model, checkpoint.with_name(f"{extra_name}.keras"))
    save_curves(result.curves, curves_png, f"{spec.name} ({spec.dataset})")
    record = {
        "source": "trained",
        "trained_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "wall_seconds": seconds,
        "metrics": result.metrics,
        "extra_models": sorted(result.extra_models),
        "curves": result.curves,
    }
    write_json_atomic(sidecar, record)
    return model, record


def export_model(name, *, out_root=DEFAULT_OUT, quantization=None, retrain=False, weights=None, strategy=None,
                 quick=False, verify=True, log=print, optimize=True, prune=None):
    """The whole `export NAME` job. Returns the meta dict of the main model.

    optimize=False (--no-optimize) keeps BatchNorm, Dropout and activation layers as they are.
    quantization: a map as parse_quantize gives, or an AutoQuantize request (tuned on the zoo model's
        validation split, meta["quantization_auto"]).
    prune: sparsity in [0, 1): magnitude-prune the large kernels and fine-tune (meta["pruning"]); the
        checkpoint is left as it is.
    """
    from models import zoo

    try:
        spec = zoo.get(name)
    except KeyError as error:
        raise ExportError(f"{error.args[0]}. Fix: pick one of those names (`python -m exporter list`).") from None
    out_root = Path(out_root)
    _check_offers(spec, quantization, prune)
    model, record = train_or_load(spec, retrain=retrain, weights=weights, strategy_name=strategy, quick=quick, log=log)
    if record is None:
        log(f"{name}: this worker's share of training is done; worker 0 writes the checkpoint and the export")
        return None
    pruned = _prune(spec, model, prune, quick, log) if prune else None
    if isinstance(quantization, AutoQuantize) and quantization.validation is None:
        inputs, labels = spec.validation_data(quick=quick)
        quantization.validation = Validation(inputs, labels, f"{name}: {spec.validation_source}")
    io = spec.io_spec()
    checkpoint, _, curves_png = _checkpoint_paths(name)
    extra = {
        "name": name,
        "family": spec.family,
        "task": spec.task,
        "dataset": spec.dataset,
        "labels": io.get("labels"),
        "samples": spec.gallery() if hasattr(spec, "gallery") else None,
        "parameter_count": int(model.count_params()),
        "training": {k: v for k, v in record.items() if k not in ("metrics", "curves")},
        "checkpoint": str(checkpoint.relative_to(checkpoint.parents[2])) if checkpoint.exists() else None,
        "training_curves": str(curves_png.relative_to(curves_png.parents[2])) if curves_png.exists() else None,
    }

    metrics = record.get("metrics") or {}
    meta = export_keras_model(
        model, out_root / name, quantization=quantization, force=True, verify=verify, log=log,
        extra_meta=extra, inputs=spec.golden_inputs(2), evaluate=_evaluate_exported(spec, quick, pruned),
        finalize=_describe_with(io, metrics, pruned), script=True, optimize=optimize, compressed=True)
    update_index(out_root, meta)
    # Further networks trained beside the main one (the DQN's CartPole agent).
    for extra_name in record.get("extra_models", []):
        extra_checkpoint = checkpoint.with_name(f"{extra_name}.keras")
        if not extra_checkpoint.exists():
            continue
        extra_io = getattr(spec, "extra_io_specs", {}).get(extra_name, {})
        extra_meta = export_keras_model(
            _load_checkpoint(extra_checkpoint), out_root / extra_name, quantization=quantization, force=True,
            verify=verify, log=log, script=True, optimize=optimize,
            finalize=_describe_with(extra_io, {k.split("_", 1)[1]: v for k, v in metrics.items()
                                               if k.startswith(extra_name.split("_", 1)[-1] + "_")}),
            extra_meta={"name": extra_name, "family": spec.family, "task": spec.task, "parent": name,
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


def _check_offers(spec, quantization, prune):
    """Refuse, before any loading or training, what this zoo model cannot do."""
    from models.base import ZooModel

    from .prune import check_sparsity

    check_sparsity(prune)
    if isinstance(quantization, AutoQuantize) and type(spec).validation_data is ZooModel.validation_data:
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


def _is_chief():
    """Whether this process writes checkpoints: the chief of a TF_CONFIG cluster,
    or worker 0 when the cluster has no chief; always True without TF_CONFIG."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = config.get("task", {})
    if "chief" in config.get("cluster", {}):
        return task.get("type") == "chief"
    return int(task.get("index", 0)) == 0


def update_index(out_root, meta):
    """Add or replace one model's entry in OUT/index.json (atomic rewrite)."""
    out_root = Path(out_root)
    index_path = out_root / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {"models": []}
    entry = {
        "name": meta["name"],
        "family": meta.get("family"),
        "task": meta.get("task"),
        "dataset": meta.get("dataset"),
        "model": f"{meta['name']}/model.json",
        "meta": f"{meta['name']}/meta.json",
        "parameter_count": meta.get("parameter_count"),
        "quantization": meta.get("quantization"),
        "bytes_total": meta.get("bytes_total"),
        "metrics": meta.get("metrics"),
    }
    models = [m for m in index.get("models", []) if m["name"] != entry["name"]] + [entry]
    index = {"generated_by": f"webnets v{__version__}", "models": sorted(models, key=lambda m: m["name"])}
    write_text_atomic(index_path, json.dumps(index, indent=1))
    write_index_script(out_root)
    return index


def zoo_listing():
    """`list --json`: one object per zoo model."""
    from models import zoo

    rows = []
    for name in zoo.names():
        spec = zoo.get(name)
        rows.append({
            "name": name,
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
    _, sidecar, _ = _checkpoint_paths(name)
    if sidecar.exists():
        return json.loads(sidecar.read_text()).get("metrics")
    return None
