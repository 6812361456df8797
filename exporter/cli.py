"""`python -m exporter` / `webnets`: the command line.

One handler per subcommand (`set_defaults(handler=...)`). Options are checked
before anything heavy is imported, so a bad option fails in a moment; only the
commands that run TensorFlow hold back its C++ start-up noise on stderr. Every
failure ends as one readable paragraph on stderr and a non-zero exit code;
`--debug` adds the traceback and the held-back noise.
"""

import argparse
import contextlib
import functools
import json
import os
import sys
import tempfile
import textwrap
import traceback
from pathlib import Path

from .errors import ExportError

DEMO_DIR = Path(__file__).resolve().parent.parent / "web_demo"

EXIT_ERROR = 1
EXIT_BUG = 2


def _size(text):
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    text = text.strip().lower().rstrip("ib").rstrip("b") if text[-1:].isalpha() else text
    try:
        if text[-1:] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (use bytes, or e.g. 4M, 512K)") from None


def _count(text):
    try:
        value = float(text)  # 2e9 as well as 2000000000
    except ValueError:
        value = -1
    if not (value >= 1 and value.is_integer()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number (e.g. 2e9)")
    return int(value)


# ------------------------------------------------------------------------------------ TensorFlow's noise


@contextlib.contextmanager
def native_stderr_captured(replay):
    """Hold back what TensorFlow's C++ code writes to fd 2 (dozens of CUDA/absl lines
    that TF_CPP_MIN_LOG_LEVEL does not silence), so stderr carries only our
    message; --debug replays it."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if replay:
                sink.seek(0)
                sys.stderr.write(sink.read().decode(errors="replace"))


def _quiet_python_warnings():
    # Python-side warnings (absl, deprecations) would bury the one-paragraph errors.
    import logging
    import warnings

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")


def runs_tensorflow(handler):
    """For handlers that import TensorFlow: its noise is held back while they run (only then)."""

    @functools.wraps(handler)
    def run(args):
        _quiet_python_warnings()
        with native_stderr_captured(replay=args.debug):
            return handler(args)

    return run


# Optional libraries that TensorFlow and Keras import whenever they are installed, and that no
# layers-format `convert` or `import` uses: TF's lite module imports JAX (0.4 s), Keras' data
# adapters pandas (0.3 s), Keras' scikit-learn wrapper scikit-learn with SciPy (0.7 s). Marked as
# absent (None in sys.modules, which `import` reads as "not installed", and both libraries then
# do without), they take 1.2 s off each such command, a quarter of `convert`. Not where user
# code may run (--unsafe: a Lambda may use them), for the graph format (the official converter
# imports TF Decision Forests, which needs pandas), nor where Keras runs on JAX.
_UNUSED_OPTIONAL_IMPORTS = ("jax", "pandas", "sklearn")


def _keras_backend():
    """The backend Keras will pick: KERAS_BACKEND, else keras.json's, else tensorflow."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend") or "tensorflow"
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def _skip_unused_imports(args):
    if getattr(args, "unsafe", False) or getattr(args, "imports", None) or getattr(args, "format", "layers") != "layers":
        return
    if _keras_backend() != "tensorflow":
        return
    for name in _UNUSED_OPTIONAL_IMPORTS:
        sys.modules.setdefault(name, None)


def _prestart_tfjs(args):
    if args.verify:
        from .parity.runtime import prestart

        prestart()  # TF.js starts in Node while Python imports TensorFlow


# ------------------------------------------------------------------------------------ handlers


@runs_tensorflow
def _convert(args):
    from .quantize import QuantizeRequest

    request = QuantizeRequest.parse(args.quantize, max_accuracy_drop=args.max_accuracy_drop,
                                    validation_file=args.validation_data).require_validation_file()
    _prestart_tfjs(args)
    _skip_unused_imports(args)
    from .pipeline import convert

    convert(args.src, args.out_dir, quantize=request, format=args.format, shard_size=args.shard_size,
            force=args.force, verify=args.verify, unsafe=args.unsafe, optimize=args.optimize, step=args.step,
            imports=args.imports, max_params=args.max_params, preprocessor=args.preprocessor)
    return 0


@runs_tensorflow
def _export(args):
    from .quantize import QuantizeRequest
    from .zoo.prune import check_sparsity

    request = QuantizeRequest.parse(args.quantize or ["uint8"], max_accuracy_drop=args.max_accuracy_drop)
    prune = check_sparsity(args.prune)
    _prestart_tfjs(args)
    from .zoo import DEFAULT_OUT, export_model

    export_model(args.model, out_root=args.out or DEFAULT_OUT, quantize=request, retrain=args.retrain,
                 weights=args.weights, strategy=args.strategy, quick=args.quick, verify=args.verify,
                 optimize=args.optimize, prune=prune)
    return 0


@runs_tensorflow
def _import(args):
    if args.verify:
        from .parity.runtime import prestart

        prestart()
    _skip_unused_imports(args)
    from .importer import import_model

    import_model(args.src, args.out, force=args.force, verify=args.verify, max_params=args.max_params)
    return 0


def _verify(args):
    from .parity import verify

    print(verify(args.dir).summary())
    return 0


def _publish(args):
    from .publish import publish

    publish(args.src_root, args.dest_url, args.version, endpoint_url=args.endpoint_url, dry_run=args.dry_run,
            only=args.model)
    return 0


def _serve(args):
    from .browser.serve import serve_forever

    serve_forever(args.dir, host=args.host, port=args.port)
    return 0


@runs_tensorflow
def _list(args):
    from .zoo import zoo_listing

    rows = zoo_listing()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in (row["metrics"] or {}).items()
                            if isinstance(v, (int, float))) or "not trained"
        print(f"{row['name']:<12} {row['family']:<12} {row['task']:<24} {row['dataset']:<16} "
              f"paper {row['params_paper'] or 0:>11,}  demo {row['params_demo'] or 0:>9,}  {metrics}")
    return 0


@runs_tensorflow
def _layers(args):
    from .layers import layers_table

    print(layers_table(markdown=args.markdown))
    return 0


# ------------------------------------------------------------------------------------ parser


def _conversion_options():
    """The options `convert` and `export` share."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--quantize", action="append", metavar="DTYPE[=PATTERN,...]",
                         help="float16, uint8 or uint16 for all weights, or only for weights matching glob patterns; "
                              "repeat to mix (e.g. --quantize float16 --quantize 'uint8=*/kernel'); or auto: per "
                              "weight, the smallest dtype that keeps the accuracy (convert: on --validation-data; "
                              "export: on the model's validation split). export's default: uint8")
    options.add_argument("--max-accuracy-drop", type=float, metavar="P",
                         help="--quantize auto: allowed validation accuracy loss in percentage points (default 1.0)")
    options.add_argument("--no-verify", dest="verify", action="store_false", help="skip the TF.js parity check")
    options.add_argument("--no-optimize", dest="optimize", action="store_false",
                         help="keep BatchNormalization, Dropout-like and Activation layers as separate TF.js layers "
                              "(by default they are folded, dropped and merged: same results up to float rounding)")
    return options


def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")
    conversion = _conversion_options()
    parser = argparse.ArgumentParser(prog="webnets", description="Keras 3 -> TensorFlow.js, verified in TF.js.",
                                     parents=[common])
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name, handler, *, converts=False, **kwargs):
        sub = commands.add_parser(name, parents=[common, conversion] if converts else [common], **kwargs)
        sub.set_defaults(handler=handler)
        return sub

    convert = command("convert", _convert, converts=True,
                      help="convert a .keras/.h5 file (or SavedModel) to a TF.js model")
    convert.add_argument("src", help=".keras or .h5 file; a SavedModel directory with --format graph")
    convert.add_argument("out_dir", help="output directory (model.json, shards, meta.json)")
    convert.add_argument("--format", choices=["layers", "graph"], default="layers",
                         help="layers: tf.loadLayersModel (default); graph: tf.loadGraphModel via the official converter")
    convert.add_argument("--validation-data", metavar="FILE.npz",
                         help="--quantize auto: labelled samples, arrays x (or x0, x1, ...) and y (class ids or "
                              "one-hot); not the test set you report")
    convert.add_argument("--shard-size", type=_size, default=4 * 1024 * 1024,
                         help="bytes per weight shard (default 4M)")
    convert.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists (atomically)")
    convert.add_argument("--unsafe", action="store_true",
                         help="allow Keras to deserialize Python code (Lambda) from the file: only for files you trust")
    convert.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                         help="import this trusted module before loading (repeatable): the code defining the "
                              "file's own classes, e.g. keras_hub or my_project.layers; nothing is ever imported "
                              "because a model file names it")
    convert.add_argument("--max-params", type=_count, metavar="N",
                         help="refuse a file whose config declares more parameters than N, before they are "
                              "allocated (default 2e9)")
    convert.add_argument("--no-preprocessor", dest="preprocessor", action="store_const", const=False, default=None,
                         help="a keras-hub task saved with its text preprocessor: export the token-id model instead "
                              "of the one taking raw strings")
    convert.add_argument("--step", action="store_true",
                         help="write the step model of a recurrent model instead: one token and each recurrent "
                              "layer's state in, the output and the new states out (docs/step-form.md)")

    importing = command("import", _import, help="a TF.js layers model (directory or URL) -> a verified Keras 3 "
                                                ".keras file")
    importing.add_argument("src", help="directory or http(s) URL holding model.json + weight shards")
    importing.add_argument("out", help="the .keras file to write")
    importing.add_argument("--force", action="store_true", help="replace OUT if it exists (atomically)")
    importing.add_argument("--no-verify", dest="verify", action="store_false",
                           help="skip the check that Keras predicts what TF.js predicts")
    importing.add_argument("--max-params", type=_count, metavar="N",
                           help="refuse a model whose manifest or layer configs declare more weight values than N, "
                                "before they are read (default 2e9)")

    verify = command("verify", _verify, help="re-run the TF.js parity check of an exported model directory, "
                                             "or of a published version over HTTP")
    verify.add_argument("dir", help="export directory, or URL of a published version (…/squeezenet/1.4.0)")

    export = command("export", _export, converts=True,
                     help="train (or load) a zoo model, convert, verify, write OUT/MODEL/")
    export.add_argument("model", help="zoo name (see `list`)")
    export.add_argument("--prune", type=float, metavar="SPARSITY",
                        help="zero this fraction (0 <= s < 1) of each large kernel's smallest weights, then "
                             "fine-tune briefly with the zeros kept: smaller gzip/brotli transfers")
    export.add_argument("--out", default=None, help="output root (default web_demo/models)")
    export.add_argument("--retrain", action="store_true", help="train even if a cached checkpoint exists")
    export.add_argument("--weights", help="use these weights (.keras model or .weights.h5) instead of training")
    export.add_argument("--strategy", choices=["mirrored", "multiworker"],
                        help="tf.distribute strategy for training (several devices / machines)")
    export.add_argument("--quick", action="store_true", help="train a few steps only (smoke test, not for use)")

    publish = command(
        "publish", _publish, help="upload exported models to a CDN origin as an immutable version, with index.json",
        description="Credentials come from the standard environment/config of the store (AWS_ACCESS_KEY_ID + "
                    "AWS_SECRET_ACCESS_KEY or AWS_PROFILE for s3://), never from arguments.")
    publish.add_argument("src_root", help="directory of exported models with index.json (web_demo/models)")
    publish.add_argument("dest_url", help="fsspec URL: s3://bucket/prefix (AWS, R2, MinIO, ...), gs://bucket/prefix, "
                                          "file:///path")
    publish.add_argument("--version", required=True, help="semantic version X.Y.Z of this release")
    publish.add_argument("--model", action="append", help="publish only this model (repeatable; default: all)")
    publish.add_argument("--endpoint-url", help="S3-compatible endpoint (default: $AWS_ENDPOINT_URL, else AWS)")
    publish.add_argument("--dry-run", action="store_true", help="print what would be uploaded and what is already there")

    serve = command("serve", _serve,
                    help="serve the web demo on loopback, cross-origin isolated (COOP/COEP) for threaded WASM")
    serve.add_argument("dir", nargs="?", default=str(DEMO_DIR), help="directory with index.html (default: web_demo)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000; 0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")

    listing = command("list", _list, help="the model zoo")
    listing.add_argument("--json", action="store_true", help="machine-readable")

    layers = command("layers", _layers, help="list the supported Keras layers")
    layers.add_argument("--markdown", action="store_true", help="as the markdown table of docs/layers.md")
    return parser


# ------------------------------------------------------------------------------------ main


def main(argv=None):
    args = build_parser().parse_args(argv)
    args.debug = getattr(args, "debug", False)
    try:
        return args.handler(args)
    except ExportError as error:
        _report(f"error: {error}", args.debug)
        return EXIT_ERROR
    except BrokenPipeError:  # `webnets list | head`: the reader left; not an error
        sys.stdout = None
        return 0
    except KeyboardInterrupt:
        _report("error: interrupted; no output was written (partial work is discarded).", args.debug)
        return EXIT_ERROR
    except Exception as error:  # a bug in webnets, still reported readably
        _report(f"error: webnets failed unexpectedly ({type(error).__name__}: {error}). Nothing was written. "
                "Fix: rerun with --debug and report the traceback.", args.debug)
        return EXIT_BUG


def _report(message, debug):
    if debug:
        traceback.print_exc()
    # Options and paths stay whole (no break after a hyphen), so a fix can be copied as printed.
    print(textwrap.fill(" ".join(message.split()), width=100, break_on_hyphens=False, break_long_words=False),
          file=sys.stderr)
