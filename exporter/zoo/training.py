"""A zoo model to export: trained here (on one machine or several), loaded from the cache, or
loaded from the user's weights."""

import contextlib
import datetime
import functools
from pathlib import Path

from ..errors import ExportError
from ..layers import load_keras_model, sniff_format
from .checkpoints import Checkpoint


def load_weights(spec, path):
    """`--weights FILE`: a .keras model, or a weights file (.weights.h5) for the demo architecture.
    The file is sniffed as `convert` sniffs its input, so a wrong file gets the same clear message."""
    path = Path(path)
    kind = sniff_format(path)
    if kind == "keras":
        return load_keras_model(path)
    if kind != "h5":
        raise ExportError(f"--weights {path}: a directory is not a weights file. Fix: pass a .keras model or a "
                          f".weights.h5 file saved from `models.zoo.build('{spec.name}', preset='demo')`.")
    model = spec.build("demo")
    try:
        model.load_weights(path)
    except Exception as error:  # h5py and Keras raise many types; all mean "not these weights"
        raise ExportError(f"--weights {path}: could not load it into the '{spec.name}' demo model "
                          f"({type(error).__name__}: {str(error)[:300]}). Fix: use weights saved from the same "
                          f"architecture (models.zoo.build('{spec.name}', preset='demo')).") from None
    return model


def explaining_dataset_errors(function):
    """A zoo job whose data cannot be had (no offline copy, no network) ends as the dataset's own one-paragraph
    error with its fix, wherever the job reads it: training, validation, golden inputs or evaluation."""
    @functools.wraps(function)
    def run(*args, **kwargs):
        from models.data import DatasetUnavailableError

        try:
            return function(*args, **kwargs)
        except DatasetUnavailableError as error:
            raise ExportError(str(error)) from None

    return run


def train_or_load(spec, *, retrain=False, weights=None, strategy_name=None, quick=False, log=print):
    """(model, record) to export; record is None on a worker that is not the chief."""
    from models.training import TrainingSetupError, WorkerLostError

    try:
        return explaining_dataset_errors(_train_or_load)(spec, retrain, weights, strategy_name, quick, log)
    except (TrainingSetupError, WorkerLostError) as error:  # one paragraph with its fix
        raise ExportError(str(error)) from None


def _train_or_load(spec, retrain, weights, strategy_name, quick, log):
    checkpoint = Checkpoint.of(spec.name)
    if weights:
        if not Path(weights).exists():
            raise ExportError(f"--weights {weights}: no such file. Fix: pass a .keras model or a .weights.h5 file "
                              f"saved from `models.zoo.build('{spec.name}', preset='demo')`.")
        model = load_weights(spec, weights)
        return model, {"source": str(weights), "metrics": spec.evaluate(model)}
    if checkpoint.exists() and not retrain:
        with checkpoint.reading(log):
            return _load_cached(spec, checkpoint, log)
    if strategy_name == "multiworker":
        # Every worker must take the same branch (train together or not at all), so none may wait on
        # a lock that another process holds; the chief alone saves, under the lock (_save).
        return _train(spec, checkpoint, strategy_name, quick, log)
    seen = checkpoint.version()
    with checkpoint.writing(log):
        # Another process may have trained it while this one waited: use that rather than train again
        # (with --retrain too, if it trained as this run would: as new as this run's would be).
        now = checkpoint.version()
        if now is not None and (not retrain or (now != seen and _trained_as(checkpoint, quick))):
            log(f"{spec.name}: another process has just trained this checkpoint; using it")
            return _load_cached(spec, checkpoint, log)
        return _train(spec, checkpoint, strategy_name, quick, log, locked=True)


def _trained_as(checkpoint, quick):
    record = checkpoint.read_record() or {}
    return record.get("source") == "trained" and bool(record.get("quick")) == bool(quick)


def _load_cached(spec, checkpoint, log):
    log(f"{spec.name}: using the cached checkpoint {checkpoint.model} (--retrain to train again)")
    model = checkpoint.load()
    return model, checkpoint.read_record() or {"metrics": spec.evaluate(model)}


def _train(spec, checkpoint, strategy_name, quick, log, locked=False):
    from models.training import is_chief, train_zoo_model

    log(f"{spec.name}: training the demo model on {spec.dataset}" + (" (quick)" if quick else "")
        + (f" (--strategy {strategy_name})" if strategy_name else ""))
    model, result, summary = train_zoo_model(spec, strategy_name=strategy_name, quick=quick, log=log)
    log(f"{spec.name}: trained on {summary['workers']} worker(s), {summary['replicas']} replica(s) in "
        f"{summary['wall_seconds']:.0f} s; weights sha256 {summary['weights_sha256']}")
    if not is_chief():
        return model, None  # multi-worker training: only the chief writes checkpoints and exports
    record = {
        "source": "trained",
        "trained_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "wall_seconds": summary["wall_seconds"],
        "strategy": summary["strategy"],
        "workers": summary["workers"],
        "replicas": summary["replicas"],
        "weights_sha256": summary["weights_sha256"],
        "metrics": result.metrics,
        "extra_models": sorted(result.extra_models),
        "curves": result.curves,
    }
    with contextlib.nullcontext() if locked else checkpoint.writing(log):
        _save(spec, checkpoint, model, result, record)
    return model, record


def _save(spec, checkpoint, model, result, record):
    """The models first, the record that names them last (each file replaced atomically)."""
    checkpoint.save_model(model)
    for extra_name, extra_model in result.extra_models.items():
        checkpoint.sibling(extra_name).save_model(extra_model)
    checkpoint.save_record(record, result.curves, f"{spec.name} ({spec.dataset})")
