"""Read an HDF5 file once in a child process under a memory limit, before Keras reads it for real.

HDF5 allocates what a file's headers declare: a damaged global-heap size or dataset shape makes
the library reserve gigabytes while it reads a 30 kB file (measured here: 4 overwritten bytes in a
legacy .h5 took the converter to 3.7 GB and 54 s before it failed). Keras reads `.h5` models and
the `model.weights.h5` inside a `.keras` archive with h5py in the converting process, so that read
is rehearsed first where a blow-up costs nothing: a child that opens the file, reads every
attribute and every dataset (one at a time), and exits. If the child stays within the limit, the
same reads in this process do too; if it runs out of memory or dies, the file is refused.
"""

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import ExportError

__all__ = ["probe_h5", "probe_keras_weights"]

_BASE_LIMIT = 1 << 30  # the child's address space besides the data: Python, numpy, h5py
# HDF5 can also loop on a damaged file (measured: one repeated byte in an 18 kB .h5, no end after 240 s):
# a file gets 20 s plus what reading it at 20 MB/s takes.
_TIMEOUT_BASE_S = 20
_TIMEOUT_BYTES_PER_S = 20_000_000
_MAX_EXTRACTED = 1 << 30  # a .keras weights file larger than this is left to Keras (no copy to disk)

# The child: every attribute and dataset read once; exit 3 on MemoryError, 4 on a file HDF5 cannot read.
# It limits its own address space (argv[2] bytes) before importing h5py, so the parent starts it without
# a preexec_fn: that would make subprocess fork the converting process (TensorFlow and all, copy-on-write)
# instead of spawning, slower, and counted twice in the memory of the pair until the child's exec.
_CHILD = r"""
import resource
import sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
import h5py

def read_attrs(obj):
    for key in obj.attrs:
        obj.attrs[key]

def visit(name, obj):
    read_attrs(obj)
    if isinstance(obj, h5py.Dataset):
        obj[()]

try:
    with h5py.File(sys.argv[1], "r") as f:
        read_attrs(f)
        f.visititems(visit)
except MemoryError:
    sys.exit(3)
except Exception as error:
    print(f"{type(error).__name__}: {error}"[:300], file=sys.stderr)
    sys.exit(4)
"""


def probe_h5(path, what=None, source=None):
    """Refuse an HDF5 file whose reading would take far more memory than its size (or that HDF5 cannot
    read at all), reading it in a limited child process. `what` names it in the message (default: path)."""
    path = Path(path)
    what = what or f"'{path}'"
    source = source or path
    size = path.stat().st_size
    timeout = _TIMEOUT_BASE_S + size / _TIMEOUT_BYTES_PER_S
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(_BASE_LIMIT + 2 * size)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ExportError(f"{what}: reading its HDF5 data took more than {timeout:.0f} s, far longer than a file of "
                          f"{size:,} bytes needs, so it was refused unread. Fix: save the model again "
                          f"(model.save('model.keras')); convert only files you trust.") from None
    if proc.returncode == 0:
        return
    if proc.returncode == 4:
        raise ExportError(f"'{source}': its HDF5 data cannot be read ({proc.stderr.strip() or 'no reason given'}); "
                          "the file is damaged or truncated. Fix: save the model again (model.save('model.keras')).")
    raise ExportError(f"{what}: reading its HDF5 data needs more than {(_BASE_LIMIT + 2 * size) >> 20} MiB for a "
                      f"file of {size:,} bytes (its headers declare sizes the file does not hold: damaged or "
                      "crafted), so it was refused before this process read it. Fix: save the model again "
                      "(model.save('model.keras')); convert only files you trust.")


def probe_keras_weights(path):
    """probe_h5 for the weights file inside a .keras archive (extracted to a temporary file)."""
    with zipfile.ZipFile(path) as archive:
        member = next((n for n in ("model.weights.h5",) if n in archive.namelist()), None)
        if member is None or archive.getinfo(member).file_size > _MAX_EXTRACTED:
            return
        with tempfile.TemporaryDirectory(prefix="webnets-h5-") as work:
            extracted = Path(archive.extract(member, work))
            probe_h5(extracted, what=f"'{path}' ({member})", source=f"{path}: {member}")
