"""Writing what a user asked for without ever leaving a half-written file.

:func:`atomic_write` writes to a temporary file in the destination's directory and renames
it over the destination (``os.replace`` is atomic on POSIX): readers see the old file or the
new one, never a mixture, and a failure leaves the old file untouched.
"""

from __future__ import annotations

import os
import tempfile

from .errors import ArgumentError

__all__ = ["atomic_write", "check_writable"]


def check_writable(path, *, overwrite=True):
    """Raise ``ArgumentError`` now, before any work, if ``path`` cannot be written: its
    directory is missing or not writable, it is a directory, or it exists and ``overwrite``
    is false."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ArgumentError(f"{path} is a directory; give a file name")
    if not os.path.isdir(directory):
        raise ArgumentError(f"cannot write {path}: the directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise ArgumentError(f"cannot write {path}: the directory {directory} is not writable")
    if not overwrite and os.path.exists(path):
        raise ArgumentError(f"{path} exists; it is not overwritten")


def atomic_write(path, data):
    """Write ``data`` (``str``, UTF-8, or ``bytes``) to ``path`` through a temporary file
    in the same directory and an atomic rename. On failure the temporary file is removed
    and ``path`` is unchanged; the error names ``path``."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OSError(exc.errno, f"could not write {path}: {exc.strerror}") from None
        raise
