"""The one time limit of the engine: :func:`time_limit` and :class:`OutOfTime`.

Everything in the engine that can be slow (a SymPy rewriting, a quadrature, the kernel's
re-check of a certificate) runs under :func:`time_limit`. It uses ``SIGALRM`` in the main
thread of a POSIX process, and limits nest: an inner limit shorter than what is left of an
enclosing one takes the interval timer and hands the rest back on exit; a longer one defers to
the enclosing limit. Elsewhere (another thread, no ``setitimer``) the body runs unlimited and
callers check deadlines between steps. A whole step of a document is also run in a killable
worker process (:mod:`ml2p_symbolic.engine.document.check`), the hard outer limit.

>>> import time
>>> try:
...     with time_limit(0.05):
...         time.sleep(1)
... except OutOfTime:
...     print("stopped")
stopped
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager

__all__ = ["time_limit", "OutOfTime", "usable"]


class OutOfTime(BaseException):
    """Raised by the SIGALRM handler; a BaseException so ``except Exception`` misses it."""


def usable() -> bool:
    """True where :func:`time_limit` interrupts (main thread of a POSIX process)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float):
    """Interrupt the body with :class:`OutOfTime` after ``seconds`` (see the module docstring).

    An alarm swallowed where Python cannot propagate it (a garbage-collector callback, a
    finaliser) fires again 50 ms later, so the limit still holds.
    """
    if not usable():
        yield
        return
    outer_left = signal.getitimer(signal.ITIMER_REAL)[0]
    if outer_left and outer_left <= seconds:
        yield  # the enclosing limit fires first
        return
    started = time.monotonic()
    state = {"armed": True}

    def _on_alarm(signum, frame):
        if state["armed"]:
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            raise OutOfTime

    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(float(seconds), 1e-3))
    try:
        yield
    finally:
        while True:  # the alarm may fire while we disarm; retry until restored
            try:
                state["armed"] = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
                break
            except OutOfTime:
                continue
        if outer_left:  # give the enclosing limit what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(outer_left - (time.monotonic() - started), 1e-3))
