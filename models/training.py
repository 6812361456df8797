"""Shared training plumbing: seeds, distribution strategies, and Keras fit with a
progress bar and timing. (Checkpoints are the exporter's: exporter/zoo/checkpoints.py.)

Training on several devices or machines (`make_strategy`):

* ``mirrored``: ``tf.distribute.MirroredStrategy`` over every local GPU. Without GPUs it has one
  replica on the CPU, unless ``WEBNETS_CPU_REPLICAS=N`` splits the CPU into N logical devices,
  one replica each (for trying data parallelism, and the tests, on a CPU-only machine).
* ``multiworker``: ``tf.distribute.MultiWorkerMirroredStrategy``; every worker runs the same
  command with ``TF_CONFIG`` naming the cluster and its own index. Keras 3.15's TensorFlow trainer
  does not work under it as it ships (see `_multiworker_fit_fixes`); `fit` here fixes that.
  A worker that dies or stops answering makes the others raise `WorkerLostError` (about
  ``WEBNETS_HEARTBEAT_TIMEOUT`` seconds, default 10, after a frozen peer; at once after a killed
  one); a worker that never joins, after ``WEBNETS_WORKER_TIMEOUT`` seconds (default 600).
  Only the chief (`is_chief`) should write files. After `ZooModel.train`, the model is released
  from the cluster (`release_from_cluster`): the chief can save, evaluate and export it alone while
  the other workers exit.

`train_zoo_model` is the one way a zoo model is trained (the exporter's `export` calls it);
`python -m models.training MODEL [--quick] [--strategy ...]` runs it and prints a summary.
"""

import contextlib
import json
import os
import re
import socket
import sys
import time


SEED = 1234
CPU_REPLICAS_ENV = "WEBNETS_CPU_REPLICAS"
WORKER_TIMEOUT_ENV = "WEBNETS_WORKER_TIMEOUT"
HEARTBEAT_TIMEOUT_ENV = "WEBNETS_HEARTBEAT_TIMEOUT"
DEFAULT_WORKER_TIMEOUT = 600.0
DEFAULT_HEARTBEAT_TIMEOUT = 10.0


class TrainingSetupError(ValueError):
    """A distribution strategy that cannot be set up as asked (options, environment). The message is
    one paragraph naming the problem and the fix; callers show it as it is."""


class WorkerLostError(RuntimeError):
    """Multi-worker training cannot go on: another worker died, stopped answering, or never joined.

    The message is one paragraph naming what happened and the fix; callers show it as it is."""


def set_seeds(seed=SEED):
    import keras

    keras.utils.set_random_seed(seed)  # python, numpy and the backend


def make_strategy(name, *, cpu_replicas=None, worker_timeout=None, heartbeat_timeout=None):
    """None | "default" | "mirrored" | "multiworker" -> a tf.distribute strategy (or None).

    Call it first, before anything else runs TensorFlow ops: both the CPU split and the
    cluster configuration must happen before TensorFlow initializes its runtime.

    mirrored: every local GPU (falls back to one CPU replica when there is none); with
        cpu_replicas=N (default: $WEBNETS_CPU_REPLICAS) N replicas on N logical CPU devices.
    multiworker: MultiWorkerMirroredStrategy; each worker runs the same command with TF_CONFIG
        describing the cluster and its own task index. worker_timeout (seconds, default
        $WEBNETS_WORKER_TIMEOUT or 600): how long to wait for every worker to join;
        heartbeat_timeout (default $WEBNETS_HEARTBEAT_TIMEOUT or 10): how long a silent worker
        counts as alive.
    """
    if name in (None, "", "default", "none"):
        return None
    if name == "mirrored":
        return _mirrored(_env_number(CPU_REPLICAS_ENV, cpu_replicas, None, int))
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise TrainingSetupError(
                "--strategy multiworker needs TF_CONFIG (the cluster and this worker's task) in the environment, "
                "and it is not set. Fix: start the same command on every worker with e.g. TF_CONFIG='{\"cluster\": "
                "{\"worker\": [\"host1:12345\", \"host2:12345\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}' "
                "(index 1 on the second), as the README's 'Training on several GPUs or machines' shows.")
        return _multiworker(_env_number(WORKER_TIMEOUT_ENV, worker_timeout, DEFAULT_WORKER_TIMEOUT, float),
                            _env_number(HEARTBEAT_TIMEOUT_ENV, heartbeat_timeout, DEFAULT_HEARTBEAT_TIMEOUT, float))
    raise TrainingSetupError(f"--strategy {name!r} is not a strategy webnets knows. Fix: use mirrored or multiworker.")


def _env_number(env, value, default, kind):
    if value is not None:
        return kind(value)
    text = os.environ.get(env, "").strip()
    if not text:
        return default
    try:
        number = kind(text)
    except ValueError:
        number = None
    if number is None or number <= 0:
        raise TrainingSetupError(f"{env}={text!r} is not a positive {'whole ' if kind is int else ''}number. Fix: set "
                                 f"it to one (e.g. {env}=2), or unset it.")
    return number


def _mirrored(cpu_replicas):
    import tensorflow as tf

    if not cpu_replicas:
        return tf.distribute.MirroredStrategy()
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_replicas)
    except RuntimeError:  # the runtime is initialized already; fine if it has the split we want
        pass
    devices = [device.name for device in tf.config.list_logical_devices("CPU")]
    if len(devices) != cpu_replicas:
        raise TrainingSetupError(f"{CPU_REPLICAS_ENV}={cpu_replicas}: TensorFlow was already running with "
                         f"{len(devices)} CPU device(s), so the CPU could not be split any more. Fix: create the "
                         "strategy (make_strategy) before anything else uses TensorFlow.")
    return tf.distribute.MirroredStrategy(devices=devices)


# --- multi-worker -------------------------------------------------------------------------------

def cluster_from_env():
    """(cluster spec dict {job: [addresses]}, task type, task index) from TF_CONFIG; ({}, None, 0) without."""
    text = os.environ.get("TF_CONFIG") or "{}"
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise TrainingSetupError(f"TF_CONFIG is not JSON ({error}). Fix: set it to e.g. "
                                 '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                                 '"task": {"type": "worker", "index": 0}}') from None
    task = config.get("task") or {}
    return config.get("cluster") or {}, task.get("type"), int(task.get("index", 0))


def is_chief():
    """Whether this process writes checkpoints: the chief of a TF_CONFIG cluster, or worker 0
    when the cluster has no chief; always True without TF_CONFIG (the exporter's rule too)."""
    cluster, task_type, index = cluster_from_env()
    if "chief" in cluster:
        return task_type == "chief"
    return index == 0


def _workers(cluster):
    """[(job, index, address)] of the tasks that train (chief first, then the workers)."""
    return [(job, index, address) for job in ("chief", "worker") for index, address in enumerate(cluster.get(job, []))]


def _multiworker(worker_timeout, heartbeat_timeout):
    import tensorflow as tf
    from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    from tensorflow.python.eager import context

    cluster, task_type, index = cluster_from_env()
    workers = _workers(cluster)
    me = f"{task_type} {index}"
    if len(workers) > 1:
        ctx = context.context()
        if ctx.coordination_service is None:
            # What MultiWorkerMirroredStrategy would configure itself, plus: registration as a
            # barrier with a deadline (the leader fails cleanly when a worker never joins, instead
            # of waiting forever) and our heartbeat timeout (a frozen peer is declared dead).
            leader_job = workers[0][0]
            ctx.configure_coordination_service(
                service_type="standalone", service_leader=f"/job:{leader_job}/replica:0/task:0",
                cluster_register_timeout_in_ms=int(worker_timeout * 1000),
                heartbeat_timeout_in_ms=int(heartbeat_timeout * 1000),
                coordinated_jobs=[coordination_config_pb2.CoordinatedJob(name=job, num_tasks=len(cluster[job]))
                                  for job in ("chief", "worker") if job in cluster])
            ctx.coordination_service.cluster_register_with_barrier = True
        leader = workers[0]
        if (leader[0], leader[1]) != (task_type, index):
            # TensorFlow blocks, uninterruptibly and without a deadline, while the leader is not up.
            _wait_for_port(leader[2], worker_timeout, me, f"{leader[0]} {leader[1]}")
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (tf.errors.DeadlineExceededError, tf.errors.UnavailableError, tf.errors.AbortedError) as error:
        missing = sorted(set(re.findall(r"/job:(\w+)/replica:0/task:(\d+)", str(error).split("timed out task names")[-1]))
                         - {(task_type, str(index))})
        who = ", ".join(f"{job} {task} ({cluster[job][int(task)]})" for job, task in missing) or "another worker"
        raise WorkerLostError(
            f"Multi-worker training could not start: {me} of {len(workers)} waited {worker_timeout:g} s for {who} "
            f"to join the cluster, in vain ({_tf_reason(error)}). Fix: start the same command on every worker "
            f"of TF_CONFIG within {worker_timeout:g} s of each other (or raise {WORKER_TIMEOUT_ENV}), and check "
            "that every address in TF_CONFIG is reachable from every worker.") from None


def _wait_for_port(address, timeout, me, who):
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=2):
                return
        except OSError as error:
            if time.monotonic() > deadline:
                raise WorkerLostError(
                    f"Multi-worker training could not start: {me} waited {timeout:g} s for {who} ({address}), the "
                    f"cluster's leader, to come up, in vain (last attempt: {error.strerror or error}). Fix: start "
                    f"the same command on every worker of TF_CONFIG within {timeout:g} s of each other (or raise "
                    f"{WORKER_TIMEOUT_ENV}), and check that {address} is reachable from here.") from None
            time.sleep(0.5)


def is_multiworker(strategy):
    """Whether `strategy` spans several processes (collectives over the network)."""
    extended = getattr(strategy, "extended", None)
    in_multi_worker = getattr(extended, "_in_multi_worker_mode", None)
    return bool(in_multi_worker and in_multi_worker())


def _tf_reason(error):
    """The first informative line of a TensorFlow error, without its graph trace."""
    text = getattr(error, "message", None) or str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    skip = ("Graph execution error", "Detected at node", "File ", "The error could be from", "Additional GRPC",
            ":{", "RPC:", "This is usually caused", "# of tasks")
    useful = [line for line in lines if not line.startswith(skip) and "most recent call last" not in line]
    reason = " ".join(useful[:2]) if useful else type(error).__name__
    return f"{type(error).__name__}: {reason[:300]}"


@contextlib.contextmanager
def worker_failures(strategy, what="training"):
    """Turn TensorFlow's errors for a lost peer into a `WorkerLostError` (only for a multi-worker strategy)."""
    if not is_multiworker(strategy):
        yield
        return
    import tensorflow as tf

    try:
        yield
    except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.AbortedError,
            tf.errors.CancelledError, tf.errors.FailedPreconditionError) as error:
        cluster, task_type, index = cluster_from_env()
        me = f"{task_type} {index}"
        text = str(error)
        peers = [(job, int(task)) for job, task in re.findall(r"/job:(\w+)/(?:replica:0/)?task:(\d+)", text)
                 if (job, int(task)) != (task_type, index)]
        if not peers and "CoordinationService" in text:  # the service runs on the leader
            leader = _workers(cluster)[0]
            peers = [(leader[0], leader[1])] if (leader[0], leader[1]) != (task_type, index) else []
        if peers:
            job, task = peers[0]
            address = cluster.get(job, [])[task] if task < len(cluster.get(job, [])) else "?"
            who = f"{job} {task} ({address})"
        else:
            who = "another worker"
        if "heartbeat" in text.lower() or isinstance(error, tf.errors.DeadlineExceededError):
            how = "stopped answering (no heartbeat)"
        else:
            how = "was killed, crashed or closed its connection"
        raise WorkerLostError(
            f"Multi-worker {what} stopped on {me} of {len(_workers(cluster))}: {who} {how}, and synchronous "
            f"training cannot go on without it ({_tf_reason(error)}). This worker saved nothing. Fix: look in "
            f"{who}'s own log for why it stopped, then start the same command again on every worker of "
            "TF_CONFIG (training starts over from the beginning).") from None


def agree_any(strategy, flag):
    """Whether `flag` is true on any worker (a small all-reduce under a multi-worker strategy, so every
    worker takes the same decision, e.g. to stop early; `flag` itself otherwise). Every worker must call it
    at the same point (the same batch)."""
    if not is_multiworker(strategy):
        return bool(flag)
    import tensorflow as tf

    with worker_failures(strategy):
        value = strategy.experimental_distribute_values_from_function(lambda _: tf.constant(float(bool(flag))))
        return float(strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)) > 0


def release_from_cluster(model):
    """After multi-worker training: unbind `model` from its MultiWorkerMirroredStrategy, so that
    predict/evaluate/save/export/fine-tuning run on this process alone (the chief exports while the other
    workers exit; under the strategy every predict would wait on all of them). Its weights stay as
    trained (identical on every worker) but become plain variables of this process. No-op for any
    other model."""
    if not is_multiworker(getattr(model, "_distribute_strategy", None)):
        return model
    import tensorflow as tf

    with tf.init_scope():
        for variable in model.variables:  # Keras variables: swap the distributed tf.Variable inside
            if isinstance(variable.value, tf.distribute.DistributedValues):
                variable._value = tf.Variable(variable.numpy(), dtype=variable.value.dtype, trainable=variable.trainable,
                                              name=variable.name)
    model._distribute_strategy = None  # Keras then uses the default strategy (this process only)
    model.train_function = model.test_function = model.predict_function = None
    return model


def sync_replica_statistics(model, strategy):
    """Average the model's per-replica statistics over all replicas (every worker must call it at the
    same point; `fit` does, after training).

    Keras 3 creates BatchNormalization's moving mean and variance with aggregation "none": under a
    tf.distribute strategy each replica updates its own copy from its own shard of the batch, and the
    copies drift apart. A worker would then evaluate with statistics that differ from the chief's, and
    the checkpoint would hold the chief's alone. After this, every replica holds their mean."""
    if strategy is None or strategy.num_replicas_in_sync < 2:
        return 0
    import tensorflow as tf

    variables = [v for v in model.non_trainable_variables
                 if getattr(v, "aggregation", None) == "none" and "float" in str(v.dtype)]
    if not variables:
        return 0

    def average():
        context = tf.distribute.get_replica_context()
        means = context.all_reduce(tf.distribute.ReduceOp.MEAN, [tf.identity(v.value) for v in variables])
        for variable, mean in zip(variables, means):
            variable.assign(mean)

    with worker_failures(strategy, "training"):
        tf.function(lambda: strategy.run(average))()
    return len(variables)


def strategy_scope(strategy):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


@contextlib.contextmanager
def _multiworker_fit_fixes(model):
    """Work around two bugs of Keras 3.15's TensorFlow trainer under a multi-worker
    MultiWorkerMirroredStrategy (keras-team/keras#20585), for the duration of a fit:

    1. `fit`/`evaluate` first call `_maybe_symbolic_build`, which takes the first batch, a tuple of
       PerReplica values, and calls `strategy.reduce("MEAN", batch, axis=None)` on the whole tuple, only
       to learn its shapes. `Strategy.reduce` does not take nested structures; with several workers it
       sends the tuple to CollectiveAllReduce, whose `convert_to_tensor` fails: "Attempt to convert a
       value (PerReplica: ...) to a Tensor". This worker's own shard has the same shapes, so it is
       used instead.
    2. Every train/test step ends with `reduce_per_replica(logs, strategy, "auto")`, which under a
       multi-worker strategy calls `strategy.reduce("MEAN", v, axis=0)` on each log value, but the
       values are scalars (rank 0): "Invalid reduction dimension 0 for input with 0 dimensions". The
       step's scalars are given a length-1 axis, so that this reduce averages them over the replicas.
    """
    import tensorflow as tf
    from keras import tree

    strategy = model._distribute_strategy

    def first_local(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def maybe_symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tree.map_structure(first_local, next(batches))
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    def with_length_1_axis(logs):
        return tree.map_structure(lambda v: tf.reshape(v, [1]) if getattr(v, "shape", None) == () else v, logs)

    train_step, test_step = model.train_step, model.test_step
    patches = {
        "_maybe_symbolic_build": maybe_symbolic_build,
        "train_step": lambda data: with_length_1_axis(train_step(data)),
        "test_step": lambda data: with_length_1_axis(test_step(data)),
    }
    saved = {name: model.__dict__[name] for name in patches if name in model.__dict__}
    for name, function in patches.items():
        object.__setattr__(model, name, function)
    try:
        yield
    finally:
        for name in patches:
            if name in saved:
                object.__setattr__(model, name, saved[name])
            else:
                model.__dict__.pop(name, None)


def _multiworker_data(x):
    """tf.data input: shard by element (DATA). Every worker runs the same seeded pipeline and keeps its
    part of each global batch (AUTO would try files first, fail, and say so)."""
    import tensorflow as tf

    if not isinstance(x, tf.data.Dataset):
        return x
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return x.with_options(options)


class _EpochTimer:
    """Keras callback recording wall time per epoch and per-batch losses."""

    def __new__(cls):
        import keras

        class Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.epoch_seconds, self.batch_losses = [], []

            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.epoch_seconds.append(time.perf_counter() - self._start)

            def on_train_batch_end(self, batch, logs=None):
                if logs and "loss" in logs:
                    self.batch_losses.append(float(logs["loss"]))

        return Timer()


_EXTRA_CALLBACKS = []


@contextlib.contextmanager
def extra_callbacks(*callbacks):
    """Add these keras callbacks to every `fit` inside the block (e.g. progress lines for a driver)."""
    _EXTRA_CALLBACKS.extend(callbacks)
    try:
        yield
    finally:
        for callback in callbacks:
            _EXTRA_CALLBACKS.remove(callback)


def fit(model, x, y, *, epochs, batch_size, validation_data=None, callbacks=(), verbose=None, **kwargs):
    """model.fit with Keras' progress bar, returning (history dict, seconds per epoch, batch losses).

    Under a multi-worker strategy (the model built in its scope), tf.data input is sharded by element,
    Keras is patched for the duration (`_multiworker_fit_fixes`), and a lost worker raises
    `WorkerLostError`."""
    timer = _EpochTimer()
    if verbose is None:
        verbose = 1 if os.environ.get("CI") is None else 2
    strategy = getattr(model, "_distribute_strategy", None)
    multiworker = is_multiworker(strategy)
    fixes = _multiworker_fit_fixes(model) if multiworker else contextlib.nullcontext()
    with worker_failures(strategy), fixes:
        history = model.fit(_multiworker_data(x) if multiworker else x, y, epochs=epochs, batch_size=batch_size,
                            validation_data=validation_data, callbacks=[timer, *callbacks, *_EXTRA_CALLBACKS],
                            verbose=verbose, **kwargs)
    sync_replica_statistics(model, strategy)
    return history.history, timer.epoch_seconds, timer.batch_losses


# --- train one zoo model (the exporter's `export`, and `python -m models.training`) ---------------

def train_zoo_model(spec, *, strategy_name=None, quick=False, epochs=None, log_every=0, log=print):
    """Train zoo model `spec` (a ZooModel, or its name) on this process, or as one worker of a cluster:
    the strategy first (it must configure TensorFlow before anything runs), the model built in its
    scope, `spec.train`, then the model released from the cluster. Writes nothing: the exporter saves
    the checkpoint, on the chief only (`is_chief`).

    epochs: instead of the model's own (full-data runs only). log_every: print the training loss
    every N steps (to watch a cluster). Returns (model, TrainResult, summary), summary being this
    worker's view: replicas, workers, task, chief, per-step losses, the last epoch's logs and a
    digest of the trained weights (equal on every worker of a synchronous run).
    """
    import keras

    started = time.perf_counter()
    strategy = make_strategy(strategy_name)
    if isinstance(spec, str):
        from . import zoo

        spec = zoo.get(spec)
    if epochs is not None:
        if not hasattr(spec, "epochs"):
            raise TrainingSetupError(f"--epochs: '{spec.name}' trains for a number of environment steps, not "
                                     "epochs. Fix: leave --epochs out for it.")
        spec.epochs = int(epochs)  # this process's registry entry only
    cluster, task_type, index = cluster_from_env()

    class EpochLogs(keras.callbacks.Callback):  # the last epoch's global figures (e.g. training accuracy)
        def __init__(self):
            super().__init__()
            self.last = {}

        def on_epoch_end(self, epoch, logs=None):
            self.last = {key: float(value) for key, value in (logs or {}).items()}

    class StepLog(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if log_every and (batch + 1) % log_every == 0:
                loss = (logs or {}).get("loss")
                print(f"webnets-train step {batch + 1} loss {float(loss) if loss is not None else 'nan':.4f}",
                      flush=True)

    epoch_logs = EpochLogs()
    with strategy_scope(strategy):
        model = spec.build("demo")
    with extra_callbacks(epoch_logs, StepLog()):
        result = spec.train(model, strategy=strategy, quick=quick, log=log)
    release_from_cluster(model)
    for extra_model in result.extra_models.values():
        release_from_cluster(extra_model)
    summary = {
        "model": spec.name, "strategy": strategy_name or "none", "quick": quick,
        "replicas": strategy.num_replicas_in_sync if strategy is not None else 1,
        "workers": max(len(_workers(cluster)), 1), "task": [task_type, index] if task_type else None,
        "chief": is_chief(), "metrics": result.metrics,
        "losses": [float(v) for v in result.losses], "epoch_logs": epoch_logs.last,
        "weights_sha256": weights_digest(model), "wall_seconds": time.perf_counter() - started,
    }
    return model, result, summary


def weights_digest(model):
    """sha256 of every weight as this process holds it (equal on all workers when they are in sync)."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m models.training",
        description="Train one zoo model and print this worker's summary as a `webnets-train {json}` line; "
                    "nothing is saved (`python -m exporter export MODEL` trains, saves and exports). With "
                    "--strategy multiworker run it on every worker, with TF_CONFIG set.")
    parser.add_argument("model")
    parser.add_argument("--quick", action="store_true", help="the CI-sized run")
    parser.add_argument("--strategy", choices=["mirrored", "multiworker"])
    parser.add_argument("--epochs", type=int, help="instead of the model's own epoch count (ignored with --quick)")
    parser.add_argument("--log-every", type=int, default=0, metavar="N", help="print a line every N training steps")
    args = parser.parse_args(argv)
    try:
        _, _, summary = train_zoo_model(args.model, strategy_name=args.strategy, quick=args.quick,
                                        epochs=args.epochs, log_every=args.log_every)
    except (TrainingSetupError, WorkerLostError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 3
    print("webnets-train " + json.dumps(summary, default=float), flush=True)
    return 0


if __name__ == "__main__":
    from models.training import main as _main  # the package's module, not a second copy as __main__

    sys.exit(_main())
