"""Bytes over the wire: what an exported model's files weigh gzip- and brotli-compressed.

Each file is compressed on its own, as HTTP sends it (Content-Encoding per
response), at the levels a CDN uses for static files compressed ahead of
time: gzip 9 and brotli 11.
"""

import gzip
from pathlib import Path


def gzip_size(data):
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def brotli_size(data):
    import brotli

    return len(brotli.compress(data, quality=11))


def compressed_sizes(directory, files):
    """{"raw", "gzip", "brotli"}: total bytes of `files` (names in directory) as stored and as sent."""
    directory = Path(directory)
    totals = {"raw": 0, "gzip": 0, "brotli": 0}
    for name in files:
        data = (directory / name).read_bytes()
        totals["raw"] += len(data)
        totals["gzip"] += gzip_size(data)
        totals["brotli"] += brotli_size(data)
    return totals
