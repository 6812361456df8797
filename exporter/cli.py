"""`python -m exporter` / `webnets`: the command line.

Every failure ends as one readable paragraph on stderr and a non-zero exit
code; `--debug` adds the traceback.
"""

import argparse
import contextlib
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


def _quiet_tensorflow():
    # Python-side warnings (absl, deprecations) would bury the one-paragraph errors.
    import logging
    import warnings

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")


def _size(text):
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    text = text.strip().lower().rstrip("ib").rstrip("b") if text[-1:].isalpha() else text
    try:
        if text[-1:] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (use bytes, or e.g. 4M, 512K)") from None


def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")
    parser = argparse.ArgumentParser(prog="webnets", description="Keras 3 -> TensorFlow.js, verified in TF.js.",
                                     parents=[common])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser = _with_parents(commands.add_parser, common)

    convert = commands.add_parser("convert", help="convert a .keras/.h5 file (or SavedModel) to a TF.js model")
    convert.add_argument("src", help=".keras or .h5 file; a SavedModel directory with --format graph")
    convert.add_argument("out_dir", help="output directory (model.json, shards, meta.json)")
    convert.add_argument("--format", choices=["layers", "graph"], default="layers",
                         help="layers: tf.loadLayersModel (default); graph: tf.loadGraphModel via the official converter")
    convert.add_argument("--quantize", action="append", metavar="DTYPE[=PATTERN,...]",
                         help="float16, uint8 or uint16 for all weights, or only for weights matching glob patterns; "
                              "repeat to mix (e.g. --quantize float16 --quantize 'uint8=*/kernel'); or auto: "
                              "per weight, the smallest dtype that keeps the accuracy on --validation-data")
    convert.add_argument("--max-accuracy-drop", type=float, metavar="P",
                         help="--quantize auto: allowed validation accuracy loss in percentage points (default 1.0)")
    convert.add_argument("--validation-data", metavar="FILE.npz",
                         help="--quantize auto: labelled samples, arrays x (or x0, x1, ...) and y (class ids or "
                              "one-hot); not the test set you report")
    convert.add_argument("--shard-size", type=_size, default=4 * 1024 * 1024,
                         help="bytes per weight shard (default 4M)")
    convert.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists (atomically)")
    convert.add_argument("--no-verify", dest="verify", action="store_false", help="skip the TF.js parity check")
    convert.add_argument("--no-optimize", dest="optimize", action="store_false",
                         help="keep BatchNormalization, Dropout-like and Activation layers as separate TF.js layers "
                              "(by default they are folded, dropped and merged: same results up to float rounding)")
    convert.add_argument("--unsafe", action="store_true",
                         help="allow Keras to deserialize Python code (Lambda) from the file: only for files you trust")

    verify = commands.add_parser("verify", help="re-run the TF.js parity check of an exported model directory, "
                                                "or of a published version over HTTP")
    verify.add_argument("dir", help="export directory, or URL of a published version (…/squeezenet/1.4.0)")

    export = commands.add_parser("export", help="train (or load) a zoo model, convert, verify, write OUT/MODEL/")
    export.add_argument("model", help="zoo name (see `list`)")
    export.add_argument("--quantize", action="append", metavar="DTYPE[=PATTERN,...]",
                        help="as for convert; default uint8; auto tunes on the model's validation split")
    export.add_argument("--max-accuracy-drop", type=float, metavar="P",
                        help="--quantize auto: allowed validation accuracy loss in percentage points (default 1.0)")
    export.add_argument("--prune", type=float, metavar="SPARSITY",
                        help="zero this fraction (0 <= s < 1) of each large kernel's smallest weights, then "
                             "fine-tune briefly with the zeros kept: smaller gzip/brotli transfers")
    export.add_argument("--out", default=None, help="output root (default web_demo/models)")
    export.add_argument("--retrain", action="store_true", help="train even if a cached checkpoint exists")
    export.add_argument("--weights", help="use these weights (.keras model or .weights.h5) instead of training")
    export.add_argument("--strategy", choices=["mirrored", "multiworker"],
                        help="tf.distribute strategy for training (several GPUs / machines)")
    export.add_argument("--quick", action="store_true", help="train a few steps only (smoke test, not for use)")
    export.add_argument("--no-verify", dest="verify", action="store_false", help="skip the TF.js parity check")
    export.add_argument("--no-optimize", dest="optimize", action="store_false",
                        help="as for convert: no BatchNorm folding, no-op dropping or activation merging")

    publish = commands.add_parser(
        "publish", help="upload exported models to a CDN origin as an immutable version, with index.json",
        description="Credentials come from the standard environment/config of the store (AWS_ACCESS_KEY_ID + "
                    "AWS_SECRET_ACCESS_KEY or AWS_PROFILE for s3://), never from arguments.")
    publish.add_argument("src_root", help="directory of exported models with index.json (web_demo/models)")
    publish.add_argument("dest_url", help="fsspec URL: s3://bucket/prefix (AWS, R2, MinIO, ...), gs://bucket/prefix, "
                                          "file:///path")
    publish.add_argument("--version", required=True, help="semantic version X.Y.Z of this release")
    publish.add_argument("--model", action="append", help="publish only this model (repeatable; default: all)")
    publish.add_argument("--endpoint-url", help="S3-compatible endpoint (default: $AWS_ENDPOINT_URL, else AWS)")
    publish.add_argument("--dry-run", action="store_true", help="print what would be uploaded and what is already there")

    serve = commands.add_parser(
        "serve", help="serve the web demo on loopback, cross-origin isolated (COOP/COEP) for threaded WASM")
    serve.add_argument("dir", nargs="?", default=str(DEMO_DIR), help="directory with index.html (default: web_demo)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000; 0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")

    listing = commands.add_parser("list", help="the model zoo")
    listing.add_argument("--json", action="store_true", help="machine-readable")

    layers = commands.add_parser("layers", help="list the supported Keras layers")
    layers.add_argument("--markdown", action="store_true", help="as the README's markdown table")
    return parser


def _with_parents(add_parser, common):
    def add(*args, **kwargs):
        return add_parser(*args, parents=[common], **kwargs)

    return add


def run(args):
    if args.command == "layers":
        from .docs import layers_table

        print(layers_table(markdown=args.markdown))
        return 0
    if args.command == "serve":
        from .serve import serve_forever

        serve_forever(args.dir, host=args.host, port=args.port)
        return 0
    if args.command in ("convert", "export") and args.verify:
        from .tfjs_runtime import prestart

        prestart()  # TF.js starts in Node while Python imports TensorFlow below
    _quiet_tensorflow()
    if args.command == "convert":
        from .auto_quantize import parse_auto

        # Checked before the imports below, which load TensorFlow.
        auto = parse_auto(args.quantize, args.max_accuracy_drop, args.validation_data, "convert")
        from .convert import convert
        from .weights import parse_quantize

        convert(args.src, args.out_dir, quantization=auto or parse_quantize(args.quantize), fmt=args.format,
                shard_size=args.shard_size, force=args.force, verify=args.verify, unsafe=args.unsafe,
                optimize=args.optimize)
        return 0
    if args.command == "export":
        from .auto_quantize import parse_auto
        from .prune import check_sparsity

        # Checked before the imports below, which load TensorFlow.
        auto = parse_auto(args.quantize, args.max_accuracy_drop, None, "export")
        prune = check_sparsity(args.prune)
        from .weights import parse_quantize
        from .zoo_export import DEFAULT_OUT, export_model

        export_model(args.model, out_root=args.out or DEFAULT_OUT,
                     quantization=auto or parse_quantize(args.quantize or ["uint8"]), retrain=args.retrain,
                     weights=args.weights, strategy=args.strategy, quick=args.quick, verify=args.verify,
                     optimize=args.optimize, prune=prune)
        return 0
    if args.command == "list":
        import json

        from .zoo_export import zoo_listing

        rows = zoo_listing()
        if args.json:
            print(json.dumps(rows, indent=1))
        else:
            for row in rows:
                metrics = ", ".join(f"{k}={v:.4g}" for k, v in (row["metrics"] or {}).items()
                                    if isinstance(v, (int, float))) or "not trained"
                print(f"{row['name']:<12} {row['family']:<12} {row['task']:<24} {row['dataset']:<16} "
                      f"paper {row['params_paper'] or 0:>11,}  demo {row['params_demo'] or 0:>9,}  {metrics}")
        return 0
    if args.command == "publish":
        from .publish import publish

        publish(args.src_root, args.dest_url, args.version, endpoint_url=args.endpoint_url, dry_run=args.dry_run,
                only=args.model)
        return 0
    if args.command == "verify":
        from .verify import verify_directory

        report = verify_directory(args.dir)
        print(report.summary())
        return 0
    raise AssertionError(args.command)


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


def main(argv=None):
    args = build_parser().parse_args(argv)
    args.debug = getattr(args, "debug", False)
    try:
        with native_stderr_captured(replay=args.debug):
            return run(args)
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
    print(textwrap.fill(" ".join(message.split()), width=100), file=sys.stderr)
