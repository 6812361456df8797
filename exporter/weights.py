"""Weights: numpy arrays named as TF.js expects, written as 4 MiB shards with the
official `tensorflowjs` writer (which also quantizes), and read back dequantized."""

import fnmatch

import numpy as np

from .errors import ExportError
from .official import read_weights as tfjs_read
from .official import write_weights as tfjs_write

DEFAULT_SHARD_BYTES = 4 * 1024 * 1024
QUANTIZE_DTYPES = ("float16", "uint8", "uint16")


def as_numpy(weights):
    """[(name, variable or array)] -> [{'name', 'data'}] with tfjs dtypes (float32 / int32)."""
    entries = []
    for name, value in weights:
        data = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        if np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float32)
        elif np.issubdtype(data.dtype, np.integer) or data.dtype == bool:
            data = data.astype(np.int32)
        entries.append({"name": name, "data": data})
    return entries


def parse_quantize(options):
    """CLI values -> the official quantization_dtype_map.

    Each option is DTYPE (every float weight) or DTYPE=PATTERN[,PATTERN...]
    (weights whose tfjs name matches a glob, as the official --quantize_uint8=pattern).
    """
    qmap = {}
    for option in options or []:
        dtype, _, patterns = option.partition("=")
        if dtype not in QUANTIZE_DTYPES:
            raise ExportError(f"--quantize {option!r}: unknown quantization '{dtype}'. Fix: use one of "
                              f"{', '.join(QUANTIZE_DTYPES)}, optionally as DTYPE=PATTERN to quantize only "
                              "weights whose name matches a glob pattern (e.g. uint8='conv*/kernel').")
        if not patterns:
            if any(v is True for v in qmap.values()):
                raise ExportError(f"--quantize {option!r}: only one quantization may apply to all weights. "
                                  "Fix: give the others a pattern, e.g. --quantize float16 --quantize uint8='*/kernel'.")
            qmap[dtype] = True
        else:
            existing = qmap.get(dtype)
            if existing is True:
                continue
            qmap[dtype] = (existing or []) + [p for p in patterns.split(",") if p]
    return qmap or None


def describe_quantization(qmap):
    if not qmap:
        return "none"
    if getattr(qmap, "description", None):  # --quantize auto: its map lists every weight by name
        return qmap.description
    return " ".join(k if v is True else f"{k}={','.join(v)}" for k, v in qmap.items())


def check_patterns_match(qmap, names):
    """A pattern that matches no weight is almost always a typo: say so."""
    for dtype, patterns in (qmap or {}).items():
        if patterns is True:
            continue
        for pattern in patterns:
            if not fnmatch.filter(names, pattern):
                raise ExportError(f"--quantize {dtype}={pattern}: the pattern matches no weight. Weight names look "
                                  f"like {', '.join(names[:3])}. Fix: correct the pattern.")


def write_shards(entries, out_dir, shard_size_bytes=DEFAULT_SHARD_BYTES, quantization=None):
    """Write `group1-shard{i}of{n}.bin` into out_dir and return the weights manifest."""
    if shard_size_bytes <= 0:
        raise ExportError(f"--shard-size {shard_size_bytes}: must be a positive number of bytes.")
    check_patterns_match(quantization, [e["name"] for e in entries])
    if not entries:
        return [{"paths": [], "weights": []}]
    return tfjs_write.write_weights([entries], str(out_dir), shard_size_bytes=shard_size_bytes,
                                    write_manifest=False, quantization_dtype_map=quantization)


def read_dequantized(manifest, model_dir):
    """{tfjs weight name: float32/int32 array} as TF.js will see them after dequantization."""
    groups = tfjs_read.read_weights(manifest, str(model_dir))
    return {e["name"]: np.asarray(e["data"]) for group in groups for e in group}
