"""Weight shards in the official `tensorflowjs` format, quantized by its own quantizer, and read
back dequantized, as TF.js will see them.

The format quantizes per tensor: one affine min/scale each for uint8/uint16
(`scale = (max - min) / (2^bits - 1)`, zero nudged onto the grid), a cast for
float16; the bytes of all weights, in order, are cut into shards `group1-shard{i}of{n}.bin`,
4 MiB by default. The layout is written here rather than by the official `write_weights`,
which imports TensorFlow (for its file API alone: 3 s of every `convert`); tests check the
files are byte for byte the official writer's.
"""

import math
import os
from pathlib import Path

import numpy as np

from ..errors import ExportError
from ..official import quantization as tfjs_quantization
from ..official import read_weights as tfjs_read

DEFAULT_SHARD_BYTES = 4 * 1024 * 1024
# What the official writer converts before writing: TF.js has no 64-bit types.
_NARROWED = {np.dtype(np.float16): np.float32, np.dtype(np.float64): np.float32, np.dtype(np.int64): np.int32,
             np.dtype(np.complex128): np.complex64}


def write_shards(entries, out_dir, shard_size_bytes=DEFAULT_SHARD_BYTES, dtype_map=None):
    """Write the shards of `entries` ([{'name', 'data'}]) into out_dir and return the weights manifest.

    dtype_map: the official {dtype: [exact weight names]} (Quantization.tfjs_map), or None.
    """
    if shard_size_bytes <= 0:
        raise ExportError(f"--shard-size {shard_size_bytes}: must be a positive number of bytes. Fix: pass e.g. "
                          "--shard-size 4M.")
    if not entries:
        return [{"paths": [], "weights": []}]
    quantize_as = tfjs_quantization.map_layers_to_quantization_dtype([e["name"] for e in entries], dtype_map)
    weights, chunks = [], []
    for entry in entries:
        data = np.asarray(entry["data"])
        data = data.astype(_NARROWED.get(data.dtype, data.dtype))
        spec = {"name": entry["name"], "shape": list(data.shape), "dtype": data.dtype.name}
        if entry["name"] in quantize_as and data.dtype == np.float32:
            data, quantization = tfjs_quantization.quantize_weights(data, quantize_as[entry["name"]])
            # The official key order (model.json stays byte for byte the same).
            spec["quantization"] = {"dtype": data.dtype.name, **quantization, "original_dtype": "float32"}
        weights.append(spec)
        chunks.append(data.tobytes())
    stream = b"".join(chunks)
    count = math.ceil(len(stream) / shard_size_bytes)
    paths = [f"group1-shard{i + 1}of{count}.bin" for i in range(count)]
    for i, path in enumerate(paths):
        with open(os.path.join(out_dir, path), "wb") as f:
            f.write(stream[i * shard_size_bytes:(i + 1) * shard_size_bytes])
    return [{"paths": paths, "weights": weights}]


def read_dequantized(manifest, model_dir: Path) -> dict:
    """{tfjs weight name: float32/int32 array} as TF.js will see them after dequantization."""
    groups = tfjs_read.read_weights(manifest, str(model_dir))
    return {e["name"]: np.asarray(e["data"]) for group in groups for e in group}


def round_trip(data, dtype):
    """The float32 values TF.js computes with after the writer stores `data` as `dtype`: the
    official quantize -> dequantize functions its writer and reader use."""
    if dtype == "float32":
        return data
    quantized, metadata = tfjs_quantization.quantize_weights(
        data, tfjs_quantization.QUANTIZATION_OPTION_TO_DTYPES[dtype])
    return tfjs_quantization.dequantize_weights(quantized, metadata, np.float32)
