"""Writing what a user asked for without ever leaving a half-written file.

:func:`atomic_write_many` writes every file to a temporary file in its destination's directory,
and only when all are complete renames them over the destinations (``os.replace`` is atomic on
POSIX), holding Ctrl-C back during the renames: readers see the old files or the new ones,
never a truncated file or a mixture, and a failure leaves the old files untouched and no
temporary file behind. :func:`atomic_write` is the one-file case.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading

from .errors import ArgumentError

__all__ = ["atomic_write", "atomic_write_many", "check_writable"]


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


@contextlib.contextmanager
def _interrupts_deferred():
    """Hold back Ctrl-C (SIGINT) until the block is done, then raise it (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def atomic_write_many(files):
    """Write ``files`` (``{path: str or bytes}``; text as UTF-8) all or nothing.

    Returns the paths written, in order. On failure every temporary file is removed, the old
    files are unchanged, and the ``OSError`` names the file it failed on.
    """
    temps = {}
    try:
        for path, data in files.items():
            path = os.fspath(path)
            directory = os.path.dirname(os.path.abspath(path))
            fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
            temps[path] = tmp
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data.encode("utf-8") if isinstance(data, str) else data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644)
            except OSError as exc:
                raise OSError(exc.errno, f"could not write {path}: {exc.strerror}") from None
        with _interrupts_deferred():
            for path, tmp in temps.items():
                try:
                    os.replace(tmp, path)
                except OSError as exc:
                    raise OSError(exc.errno, f"could not write {path}: {exc.strerror}") from None
            written = list(temps)
            temps.clear()
        return written
    finally:
        for tmp in temps.values():
            with contextlib.suppress(OSError):
                os.remove(tmp)


def atomic_write(path, data):
    """Write ``data`` (``str``, UTF-8, or ``bytes``) to ``path`` through a temporary file in
    the same directory and an atomic rename (see :func:`atomic_write_many`)."""
    atomic_write_many({path: data})
