"""Atomic output: a directory or a file built beside the target, then swapped in.

On Linux the swap is a single renameat2(RENAME_EXCHANGE), so at every moment
the target path holds either the complete old directory or the complete new
one, even under kill -9. Elsewhere it falls back to two renames.

Safe with several processes at once (two `convert --force` into one OUT_DIR, two
exports sharing a checkpoint directory): every temporary name carries the writer's
pid and a random part, so no two writers ever share one; each writer holds an
flock on its temporary directory while it works, so a second writer's clean-up of
stale temporaries (left by a killed run) removes only those whose writer is gone;
and a new directory lands with renameat2(RENAME_NOREPLACE) or RENAME_EXCHANGE,
never with a check-then-rename that another process could slip between.
`file_lock` is the lock for writers that must not both work (the checkpoint cache).
"""

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from ..errors import ExportError

__all__ = ["atomic_directory", "atomic_file", "write_text_atomic", "file_lock", "unique_name", "OutputExistsError"]

_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class OutputExistsError(ExportError, FileExistsError):
    """The output directory appeared (another process wrote it) while this one was writing its own."""


def unique_name(stem):
    """`stem` with this process's pid and a random part: no other writer, here or in another process, uses it."""
    return f"{stem}{os.getpid()}-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def file_lock(path, *, shared=False, on_wait=None):
    """Hold fcntl.flock on the file `path` (created if missing) for the `with` block.

    Exclusive by default; shared=True lets readers in together while keeping writers out.
    `on_wait()` is called once if the lock is held elsewhere, before blocking on it. The lock
    goes with the process (a killed holder releases it). The file is never removed: a process
    blocked on a removed file would lock an inode nobody else can see.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)


def _renameat2(a, b, flags):
    """0, or the errno renameat2 failed with; None where the C library has no renameat2."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return None
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), flags)
    return 0 if result == 0 else ctypes.get_errno()


# renameat2 itself, or this file system, cannot do the flag: fall back to plain renames.
_UNSUPPORTED = {None, errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}


def _leftovers(target):
    return list(target.parent.glob(f".{target.name}.tmp-*")) + list(target.parent.glob(f".{target.name}.old-*"))


def _remove_if_abandoned(path):
    """Remove a temporary sibling unless its writer still holds its flock (it is still working)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # gone already, or not a directory we can open
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # a live writer's
        shutil.rmtree(path, ignore_errors=True)  # under our lock: a writer racing to lock it waits, then sees it gone
    finally:
        os.close(fd)


def _locked_temp_directory(target):
    """(path, fd) of a new temporary directory beside `target`, flock'ed through fd."""
    while True:
        temp = Path(tempfile.mkdtemp(prefix=unique_name(f".{target.name}.tmp-") + "-", dir=target.parent))
        fd = os.open(temp, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        # Another process's clean-up may have taken it for abandoned between mkdtemp and flock.
        try:
            if os.path.samestat(os.fstat(fd), os.stat(temp)):
                return temp, fd
        except FileNotFoundError:
            pass
        os.close(fd)


def _exists_error(target):
    return OutputExistsError(
        f"The output directory '{target}' already exists: another process wrote it while this one was "
        "converting. webnets will not overwrite it without being asked. Fix: pass --force to replace it "
        "(atomically), or choose another path.")


def _install(temp, target, replace):
    """Move the finished `temp` to `target`. Returns what is left at `temp`'s name to delete (the old
    target after an exchange) or None. Loops only when another process changes `target` in between."""
    while True:
        status = _renameat2(temp, target, _RENAME_NOREPLACE)
        if status in _UNSUPPORTED:
            return _install_by_renames(temp, target, replace)
        if status == 0:
            return None
        if status != errno.EEXIST:
            raise OSError(status, os.strerror(status), str(target))
        if not replace:
            raise _exists_error(target)
        status = _renameat2(temp, target, _RENAME_EXCHANGE)
        if status == 0:
            return temp
        if status in _UNSUPPORTED:
            return _install_by_renames(temp, target, replace)
        if status != errno.ENOENT:  # ENOENT: the target vanished since; try to rename onto nothing again
            raise OSError(status, os.strerror(status), str(target))


def _install_by_renames(temp, target, replace):
    """Where renameat2 cannot: rename (a directory never lands on a non-empty one), else move the old
    one aside first. A reader may find no target for a moment between the two renames."""
    while True:
        try:
            os.rename(temp, target)
            return None
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
        if not replace:
            raise _exists_error(target)
        old = target.parent / unique_name(f".{target.name}.old-")
        try:
            os.rename(target, old)
        except FileNotFoundError:
            continue
        try:
            os.rename(temp, target)
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            shutil.rmtree(old, ignore_errors=True)  # another writer's landed meanwhile; try again
            continue
        return old


@contextlib.contextmanager
def atomic_directory(target, replace=False):
    """Yield a temp dir; on success it becomes `target`, on any failure it vanishes.

    Without `replace`, an existing target raises OutputExistsError (an ExportError) when the new
    directory lands: whichever of two writers lands first wins, the other is told."""
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in _leftovers(target):  # from a run that was killed (not from one still working)
        _remove_if_abandoned(stale)
    temp, lock = _locked_temp_directory(target)
    umask = os.umask(0)
    os.umask(umask)
    try:
        temp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result is a normal directory
        yield temp
        if target.exists() and not replace:
            raise _exists_error(target)
        temp = _install(temp, target, replace)
    finally:
        if temp is not None:
            _remove(temp)
        os.close(lock)


def _remove(path):
    """A directory tree, or the file that an exchange with a file at the target left at its name."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_file(target, replace=True):
    """Yield a temp path beside `target` (same suffix); on success it becomes `target`, on any
    failure it vanishes. replace=False never clobbers: FileExistsError if `target` exists by then."""
    target = Path(target)
    temp = target.with_name(unique_name(f".{target.stem}.tmp-") + target.suffix)
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
