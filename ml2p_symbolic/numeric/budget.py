"""Memory budget: estimate what a computation will allocate before it starts, and refuse
with the figure rather than exhaust the machine.

The limit is, in this order: the environment variable ``ML2P_MEMORY_LIMIT`` (bytes, or a
number with a unit: ``512MB``, ``4GB``, ``1.5GiB``); otherwise 80 % of the memory the
operating system reports as available (``MemAvailable`` of ``/proc/meminfo``, or
``sysconf`` pages); otherwise no limit (a system that reports nothing).

Callers estimate the bytes of their largest simultaneous arrays (float64: 8 bytes a
number) and call :func:`check_memory`, which raises
:class:`~ml2p_symbolic.errors.ResourceError` naming the work, the estimate and the limit.

Worker processes (``check --jobs``, ``study --workers``) are bounded by
:func:`process_limit`: at most :data:`MAX_PROCESSES` (64), at most
:data:`PROCESSES_PER_CORE` (4) per core of ``os.cpu_count()``, and at most as many as the
memory limit holds at the caller's estimate per process; :func:`check_processes` refuses
a count below 1 or above that bound.

Examples
--------
>>> format_bytes(3 * 2**30), format_bytes(1536)
('3.2 GB', '1.5 kB')
>>> check_memory(1e3, "a tiny array") is None
True
>>> check_memory(1e30, "a huge array")
Traceback (most recent call last):
...
ml2p_symbolic.errors.ResourceError: a huge array needs about 1e+18 TB of memory; ...
"""

import os
import re

from ..errors import ResourceError

__all__ = ["MEMORY_FRACTION", "memory_limit", "check_memory", "format_bytes", "MAX_PROCESSES",
           "PROCESSES_PER_CORE", "process_limit", "check_processes"]

#: The most worker processes any command starts.
MAX_PROCESSES = 64

#: The most worker processes per core (more only wait for a core and hold memory).
PROCESSES_PER_CORE = 4

#: Fraction of the available memory one computation may plan to use.
MEMORY_FRACTION = 0.8

_UNITS = {"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _available_bytes():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def memory_limit():
    """The number of bytes one computation may plan to allocate, or ``None`` (no limit).

    ``ML2P_MEMORY_LIMIT`` if set (a malformed value raises
    :class:`~ml2p_symbolic.errors.ResourceError`), else ``MEMORY_FRACTION`` of the
    available memory.
    """
    env = os.environ.get("ML2P_MEMORY_LIMIT", "").strip()
    if env:
        m = re.fullmatch(r"([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)", env)
        if not m or m.group(2).lower() not in _UNITS:
            raise ResourceError(
                f"ML2P_MEMORY_LIMIT={env!r} is not a size; expected bytes or a number with a "
                "unit, e.g. 512MB or 4GB"
            )
        return float(m.group(1)) * _UNITS[m.group(2).lower()]
    avail = _available_bytes()
    return None if avail is None else MEMORY_FRACTION * avail


def format_bytes(n):
    """``n`` bytes as a short decimal figure: ``'3.2 GB'``, ``'640 MB'``, ``'1.5 kB'``."""
    n = float(n)
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            v = n / size
            if v >= 1e4:
                return f"{v:.1g} {unit}"
            return f"{v:.1f} {unit}" if v < 10 else f"{v:.0f} {unit}"
    return f"{n:.0f} bytes"


def check_memory(nbytes, what, hint=""):
    """Raise :class:`~ml2p_symbolic.errors.ResourceError` if ``nbytes`` exceeds the limit.

    ``what`` names the work (``"--students 100000000 with 28 items"``), ``hint`` says what
    to reduce. Returns ``None`` when the work fits.
    """
    limit = memory_limit()
    if limit is None or nbytes <= limit:
        return None
    raise ResourceError(
        f"{what} needs about {format_bytes(nbytes)} of memory; the limit is "
        f"{format_bytes(limit)} ({'ML2P_MEMORY_LIMIT' if os.environ.get('ML2P_MEMORY_LIMIT', '').strip() else f'{MEMORY_FRACTION:.0%} of the available memory'})"
        + (f"; {hint}" if hint else "")
    )


def process_limit(per_process_bytes):
    """The most worker processes of about ``per_process_bytes`` each that may be started:
    ``min(MAX_PROCESSES, PROCESSES_PER_CORE x os.cpu_count(), memory limit / per_process_bytes)``,
    and at least 1.

    >>> 1 <= process_limit(100e6) <= MAX_PROCESSES
    True
    """
    bound = min(MAX_PROCESSES, PROCESSES_PER_CORE * (os.cpu_count() or 1))
    limit = memory_limit()
    if limit is not None and per_process_bytes > 0:
        bound = min(bound, int(limit // per_process_bytes))
    return max(1, bound)


def check_processes(n, option, per_process_bytes):
    """Raise :class:`~ml2p_symbolic.errors.ArgumentError` unless ``n`` is an integer between
    1 and :func:`process_limit` (``option`` names it in the message, e.g. ``"--jobs"``).

    >>> check_processes(-1, "--jobs", 100e6)
    Traceback (most recent call last):
    ...
    ml2p_symbolic.errors.ArgumentError: --jobs must be at least 1; got -1
    """
    from ..errors import ArgumentError

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ArgumentError(f"{option} must be at least 1; got {n}")
    bound = process_limit(per_process_bytes)
    if n > bound:
        raise ArgumentError(
            f"{option} {n} is above the limit of {bound} processes (at most {MAX_PROCESSES}, "
            f"{PROCESSES_PER_CORE} per core of {os.cpu_count() or 1}, and what the memory limit "
            f"holds at about {format_bytes(per_process_bytes)} each)")
