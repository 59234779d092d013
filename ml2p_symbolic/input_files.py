"""Reading a user's input file: a regular file only, and never more than a size limit.

Every file the command line reads (a study spec, a results file, a Q-matrix, responses,
a covariance matrix, a preamble) goes through :func:`read_input_bytes` or, where another
library reads the file, :func:`check_input_file` first. A FIFO, a device (``/dev/zero``,
``/dev/stdin``), a socket or a directory is refused at once, instead of hanging on a
read that never ends or exhausting memory; so is a file larger than its limit.

:func:`read_input_bytes` opens the file without blocking (``O_NONBLOCK``: opening a FIFO
with no writer would wait forever), asks the open descriptor what it is (``fstat``, so a
file swapped after a check is still caught) and reads at most ``limit + 1`` bytes.

The limits (bytes):

- :data:`MAX_TEXT_BYTES` (1 MB): a study spec, a preamble of ``%!`` directives;
- :data:`MAX_DATA_BYTES` (1 GB): a responses, Q-matrix or covariance CSV file, a study
  results file (a responses file at the study's limit of 10^8 answers is about 200 MB).

Examples
--------
>>> check_input_file("/dev/zero", "spec")
Traceback (most recent call last):
...
ml2p_symbolic.errors.InputFileError: /dev/zero: a device, not a spec file
"""

from __future__ import annotations

import os
import stat

from .errors import InputFileError

__all__ = ["MAX_TEXT_BYTES", "MAX_DATA_BYTES", "check_input_file", "read_input_bytes"]

#: The largest spec or preamble read (bytes).
MAX_TEXT_BYTES = 10 ** 6

#: The largest data or results file read (bytes).
MAX_DATA_BYTES = 10 ** 9


def _kind(mode):
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _check(path, st, what, limit, error):
    if not stat.S_ISREG(st.st_mode):
        kind = _kind(st.st_mode)
        raise error(f"{path}: {kind}, not a {what} file" if kind.startswith("a ")
                    else f"{path}: {kind}; a {what} file must be a regular file")
    if limit is not None and st.st_size > limit:
        raise error(f"{path}: the {what} file has {st.st_size:,} bytes, above the limit of {limit:,}")


def check_input_file(path, what, *, limit=MAX_DATA_BYTES, error=InputFileError):
    """Raise ``error`` (a ``ValueError`` subclass) unless ``path`` is an existing regular
    file (symbolic links followed) of at most ``limit`` bytes; ``what`` names it in the
    message (``"spec"``, ``"preamble"``). Returns ``None``."""
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} file: {exc.strerror or exc}") from None
    _check(path, st, what, limit, error)


def read_input_bytes(path, what, *, limit=MAX_DATA_BYTES, error=InputFileError):
    """The bytes of the regular file ``path``, at most ``limit`` of them; ``error`` (naming
    the file and the ``what``) for a missing or unreadable file, a FIFO, a device, a
    directory, or a file above the limit (also one that grows past it while read)."""
    path = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} file: {exc.strerror or exc}") from None
    try:
        _check(path, os.fstat(fd), what, limit, error)
        chunks, size = [], 0
        cap = None if limit is None else limit + 1
        while True:
            try:
                chunk = os.read(fd, 1 << 20 if cap is None else min(1 << 20, cap - size))
            except OSError as exc:
                raise error(f"{path}: cannot read the {what} file: {exc.strerror or exc}") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if cap is not None and size >= cap:
                raise error(f"{path}: the {what} file has more than {limit:,} bytes, the limit")
        return b"".join(chunks)
    finally:
        os.close(fd)
