"""Atomic output: a directory or a file built beside the target, then swapped in.

On Linux the swap is a single renameat2(RENAME_EXCHANGE), so at every moment
the target path holds either the complete old directory or the complete new
one, even under kill -9. Elsewhere it falls back to two renames.
"""

import contextlib
import ctypes
import os
import shutil
import tempfile
import uuid
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a, b):
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _leftovers(target):
    return list(target.parent.glob(f".{target.name}.tmp-*")) + list(target.parent.glob(f".{target.name}.old-*"))


@contextlib.contextmanager
def atomic_directory(target, replace=False):
    """Yield a temp dir; on success it becomes `target`, on any failure it vanishes."""
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in _leftovers(target):  # from a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    temp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result is a normal directory
    try:
        yield temp
        if target.exists():
            if not replace:
                raise FileExistsError(target)
            if not _exchange(temp, target):
                old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
                os.rename(target, old)
                os.rename(temp, target)
                temp = old
        else:
            os.rename(temp, target)
            temp = None
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target, replace=True):
    """Yield a temp path beside `target` (same suffix); on success it becomes `target`, on any
    failure it vanishes. replace=False never clobbers: FileExistsError if `target` exists by then."""
    target = Path(target)
    temp = target.with_name(f".{target.stem}.tmp-{uuid.uuid4().hex[:8]}{target.suffix}")
    try:
        yield temp
        if replace:
            os.replace(temp, target)
        else:
            os.link(temp, target)  # fails, rather than overwrite, if the target appeared meanwhile
    finally:
        temp.unlink(missing_ok=True)


def write_text_atomic(path, text):
    with atomic_file(path) as temp:
        temp.write_text(text)
