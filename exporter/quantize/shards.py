"""Weight shards written with the official `tensorflowjs` writer (which also quantizes), and read
back dequantized, as TF.js will see them.

The format quantizes per tensor: one affine min/scale each for uint8/uint16
(`scale = (max - min) / (2^bits - 1)`, zero nudged onto the grid), a cast for
float16; shards are `group1-shard{i}of{n}.bin`, 4 MiB by default.
"""

from pathlib import Path

import numpy as np

from ..errors import ExportError
from ..official import quantization as tfjs_quantization
from ..official import read_weights as tfjs_read
from ..official import write_weights as tfjs_write

DEFAULT_SHARD_BYTES = 4 * 1024 * 1024


def write_shards(entries, out_dir, shard_size_bytes=DEFAULT_SHARD_BYTES, dtype_map=None):
    """Write the shards of `entries` ([{'name', 'data'}]) into out_dir and return the weights manifest.

    dtype_map: the official {dtype: [exact weight names]} (Quantization.tfjs_map), or None.
    """
    if shard_size_bytes <= 0:
        raise ExportError(f"--shard-size {shard_size_bytes}: must be a positive number of bytes. Fix: pass e.g. "
                          "--shard-size 4M.")
    if not entries:
        return [{"paths": [], "weights": []}]
    return tfjs_write.write_weights([entries], str(out_dir), shard_size_bytes=shard_size_bytes,
                                    write_manifest=False, quantization_dtype_map=dtype_map)


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
