"""`export MODEL`: train (or load the cached checkpoint) -> convert -> verify ->
web_demo/models/MODEL/ with meta.json, and OUT/index.json updated. A language model (family
recurrent) also gets its step model (exporter/pipeline/step_form.py) in OUT/MODEL_step/, which
the demo generates with; MODEL/meta.json names it ("step"). It has no row in index.json: it is
not a card of its own.

For exports whose checkpoint is not at hand (a fresh clone: the checkpoints are not committed),
the committed export's own weights (dequantized, checked against its golden vectors) can stand in
for the checkpoint: `--from-export` exports NAME again (with today's exporter: new layer classes,
optimizations) and its step model; `--step-from-export` writes the step model only. The training
record and float32 metrics carry over from the old meta.json.

    python -m exporter.zoo.export --from-export simple_rnn lstm gru
    python -m exporter.zoo.export --step-from-export simple_rnn lstm gru
"""

import json
from pathlib import Path
from typing import Callable, Optional

from ..pipeline import export_keras_model
from ..errors import ExportError
from ..quantize import QuantizeRequest, Validation
from .checkpoints import Checkpoint
from .index import update_index
from .training import explaining_dataset_errors, train_or_load

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "web_demo" / "models"
DEFAULT_QUANTIZE = "uint8"


def _zoo_model(name):
    from models import zoo

    try:
        return zoo.get(name)
    except KeyError as error:
        raise ExportError(f"{error.args[0]}. Fix: pick one of those names (`python -m exporter list`).") from None


@explaining_dataset_errors
def export_model(name: str, *, out_root=DEFAULT_OUT, quantize=DEFAULT_QUANTIZE, retrain: bool = False,
                 weights: Optional[str] = None, strategy: Optional[str] = None, quick: bool = False,
                 verify: bool = True, optimize: bool = True, prune: Optional[float] = None,
                 from_export: bool = False, log: Callable = print) -> Optional[dict]:
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
        from_export: no checkpoint: the weights of the existing OUT_ROOT/NAME/ export
            (`keras_from_export`), its training record and float32 metrics.
    """
    from .prune import check_sparsity

    spec = _zoo_model(name)
    request = QuantizeRequest.coerce(quantize)
    prune = check_sparsity(prune)
    _check_offers(spec, request, prune)
    out_root = Path(out_root)
    kept = {}
    if from_export:
        model, record, kept = _from_export(name, out_root, log)
    else:
        model, record = train_or_load(spec, retrain=retrain, weights=weights, strategy_name=strategy, quick=quick,
                                      log=log)
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
        **kept,
    }

    step = _step_reference(name) if spec.family == "recurrent" else None
    if step is not None:
        extra["step"] = step
    metrics = record.get("metrics") or {}
    meta = export_keras_model(
        model, out_root / name, quantize=request, force=True, verify=verify, log=log,
        extra_meta=extra, inputs=spec.golden_inputs(2), evaluate=_evaluate_exported(spec, quick, pruned),
        finalize=_describe_with(io, metrics, pruned), script=True, optimize=optimize, compressed=True)
    update_index(out_root, meta)
    if step is not None:
        export_step_model(spec, model, out_root, _step_quantization(request, meta), verify=verify, log=log)
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


def _from_export(name, out_root, log):
    """(model, record, meta fields kept) for export_model(from_export=True)."""
    model, old = keras_from_export(name, out_root)
    log(f"{name}: Keras rebuilt from {Path(out_root) / name}/model.json reproduces its golden vectors "
        f"(relative error {old['golden_error_rebuilt']:.1e}); exporting it again")
    metrics = {k: v for k, v in (old.get("metrics") or {}).items() if not k.endswith("_exported")}
    record = {**(old.get("training") or {}), "metrics": metrics}
    kept = {key: old.get(key) for key in ("checkpoint", "training_curves")}
    kept["training"] = {**(old.get("training") or {}),
                        "weights_from": f"{name}/model.json of an earlier export (dequantized); no checkpoint"}
    return model, record, kept


def _step_reference(name):
    """Parent meta.json's "step": where the step model is, relative to OUT (as index.json's rows)."""
    return {"name": f"{name}_step", "model": f"{name}_step/model.json", "meta": f"{name}_step/meta.json"}


def _step_quantization(request, meta):
    """The step model's weights are the sequence model's: a fixed request carries over; what
    --quantize auto chose for the sequence model (its label) is reused, if it reads as a request."""
    if request.auto is None:
        return request
    try:
        return QuantizeRequest.coerce(meta["quantization"])
    except (ExportError, ValueError, TypeError):
        return DEFAULT_QUANTIZE


def _step_inputs(spec, step_model, warm=20):
    """Golden inputs of a step model: the token after `warm` characters of the zoo's golden windows,
    with the states those characters leave (not zeros, so the state inputs are checked too)."""
    import numpy as np

    (windows,) = spec.golden_inputs(2)
    states = [np.zeros((len(windows), t.shape[1]), np.float32) for t in step_model.inputs[1:]]
    if warm:
        _, *states = step_model.predict([windows[:, :warm], *states], verbose=0)
    return [windows[:, warm:warm + 1].astype(np.int32), *[np.asarray(s, np.float32) for s in states]]


def export_step_model(spec, model, out_root=DEFAULT_OUT, quantize=DEFAULT_QUANTIZE, *, verify=True,
                      extra_meta: Optional[dict] = None, log: Callable = print) -> dict:
    """Write OUT/NAME_step/: the step model of a zoo language model, sharing `model`'s weights.

    Inputs: tokens [batch, T] (one character per step; T > 1 runs T steps, as for a prompt) and the
    state of each recurrent layer; outputs: the next-character probabilities and the new states.
    """
    from ..pipeline.step_form import build_step_model

    ref = _step_reference(spec.name)
    step_model = build_step_model(model, name=ref["name"])
    io = spec.io_spec()
    states = [t.name for t in step_model.inputs[1:]]
    meta = export_keras_model(
        step_model, Path(out_root) / ref["name"], quantize=quantize, force=True, verify=verify, log=log,
        inputs=_step_inputs(spec, step_model), script=True, compressed=True,
        extra_meta={"name": ref["name"], "display_name": f"{spec.display_name or spec.name} (step)",
                    "family": spec.family, "task": spec.task, "dataset": spec.dataset, "parent": spec.name,
                    "form": "step", "labels": io.get("labels"), "states": states,
                    "note": "one character per call: tokens [1, 1] and the states (zeros to start) in; the "
                            "next-character probabilities [1, 1, vocab] and the new states out, in the order of "
                            "`states`. A [1, T] call runs T characters at once (a prompt).", **(extra_meta or {})})
    return meta


def keras_from_export(name: str, out_root=DEFAULT_OUT):
    """The zoo model `name` (demo preset) holding the weights of its export OUT/NAME/ as TF.js sees
    them (dequantized), checked to reproduce the export's golden vectors. Returns (model, meta)."""
    import numpy as np

    from ..importer.graph import assign_weights
    from ..importer.reader import read_model
    from ..parity.compare import golden_arrays
    from ..parity.tolerances import FLOAT32_BOUND, max_relative_error

    spec = _zoo_model(name)
    directory = Path(out_root) / name
    meta_path = directory / "meta.json"
    if not meta_path.exists():
        raise ExportError(f"'{directory}' holds no export. Fix: `python -m exporter export {name}` first.")
    meta = json.loads(meta_path.read_text())
    exported = read_model(directory)  # dequantized, as TF.js computes with them
    model = spec.build("demo")
    if any(str(t.dtype) == "string" for t in model.inputs):
        # A string model's vocabulary lives in its layers' configs, not in the weights rebuilt here.
        raise ExportError(f"'{name}' takes text: its vocabulary is not among the weights an export holds, so it "
                          f"cannot be rebuilt from '{directory}'. Fix: export it from its checkpoint "
                          f"(`python -m exporter export {name}`).")
    try:
        assign_weights(model, exported.weights, exported.weight_order)
    except ExportError as error:
        raise ExportError(f"{directory}: its weights do not fit the demo preset of '{name}' ({error}). Fix: export "
                          f"'{name}' again from its checkpoint (`python -m exporter export {name}`).") from None
    inputs, outputs = golden_arrays(meta["golden"])
    error = max_relative_error([np.asarray(model.predict(inputs[0], verbose=0))], outputs)
    if not error <= FLOAT32_BOUND:
        raise ExportError(f"{directory}: the Keras model rebuilt from the export's weights misses its golden vectors "
                          f"(relative error {error:.2e} > {FLOAT32_BOUND}). Fix: export '{name}' again from its checkpoint.")
    meta["golden_error_rebuilt"] = error
    return model, meta


def step_from_export(name: str, out_root=DEFAULT_OUT, *, log: Callable = print) -> dict:
    """The step model of an exported zoo language model, from the export's own (dequantized) weights
    (`keras_from_export`): for exports whose checkpoint is not at hand. OUT/NAME/meta.json gains
    "step" (and model.js its copy of meta.json); model.json and the shards are left untouched."""
    from ..output import write_model_script, write_text_atomic

    spec = _zoo_model(name)
    if spec.family != "recurrent":
        raise ExportError(f"'{name}' is not a language model ({spec.task}); only those have a step form. "
                          "Fix: pick simple_rnn, lstm or gru.")
    directory = Path(out_root) / name
    model, meta = keras_from_export(name, out_root)
    error = meta.pop("golden_error_rebuilt")
    log(f"{name}: Keras rebuilt from {directory}/model.json reproduces its golden vectors (relative error {error:.1e})")
    step_meta = export_step_model(spec, model, out_root, meta.get("quantization") or DEFAULT_QUANTIZE, log=log,
                                  extra_meta={"source": f"{name}/model.json (the exported weights, dequantized); "
                                                        "no checkpoint"})
    if meta.get("step") != _step_reference(name):
        meta["step"] = _step_reference(name)
        write_text_atomic(directory / "meta.json", json.dumps(meta, indent=1))
        write_model_script(directory, meta["name"])
    return step_meta


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


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m exporter.zoo.export",
                                     description="Export zoo models again from their earlier exports' weights.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--from-export", nargs="+", metavar="NAME",
                       help="zoo models exported again (and their step models) from OUT/NAME/'s weights")
    which.add_argument("--step-from-export", nargs="+", metavar="NAME",
                       help="zoo language models whose OUT/NAME/ export gives the step model's weights")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="the models root (default web_demo/models)")
    parsed = parser.parse_args()
    for zoo_name in parsed.from_export or []:
        export_model(zoo_name, out_root=parsed.out, from_export=True)
    for zoo_name in parsed.step_from_export or []:
        step_from_export(zoo_name, parsed.out)
