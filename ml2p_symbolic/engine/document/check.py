r"""Check every step of a LaTeX or Markdown document: ``check_document(path) -> Report``.

Each step (one relation link of a display, see :mod:`.latex_input`) is checked in a child
process of its own with a hard time limit: past ``timeout`` seconds the process is killed
and the step is ``open (timed out)``, so a document never hangs the checker. Up to ``jobs``
steps run at once. Verdicts come from :func:`ml2p_symbolic.engine.document.steps.check_relation`
(every display's own text; no verdict is ever chosen by a display's id). A display skipped by
``%! skip`` is reported ``open`` with the reason. Verdicts are cached (:mod:`.cache`), so re-checking an unchanged
document only reads the cache; only decided verdicts are cached (never a step that timed out,
whose worker was killed or failed).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from multiprocessing.connection import wait

from ..records import Claim, Report, Result, Verdict
from .cache import VerdictCache, default_cache_dir, step_key
from ..latex_input import read_document
from ..latex_input.translate import relation_class

__all__ = ["check_document", "check_steps", "step_claim", "wait_for_change", "DEFAULT_TIMEOUT"]

#: seconds allowed for one step (hard limit)
DEFAULT_TIMEOUT = 60.0

_KIND_TITLES = {"=": "equation", "<=": "inequality", "<": "inequality", ">=": "inequality", ">": "inequality",
                "!=": "inequation", "~=": "approximation"}


def step_claim(step):
    """The :class:`~ml2p_symbolic.engine.records.Claim` of a document step: ``statement`` is the parsed
    relation (a SymPy relational, unevaluated) or, for Python-checked and skipped displays,
    ``None``; ``seed_text`` is the LaTeX as the author wrote it."""
    if step.kind == "relation":
        statement = relation_class(step.relation)(step.lhs, step.rhs, evaluate=False)
        kind = _KIND_TITLES[step.relation]
    else:
        statement = None
        kind = "python" if step.kind == "python" else "skipped"
    title = step.text if len(step.text) <= 80 else step.text[:77] + "..."
    return Claim(step.id, title, kind, statement, step.text, source=step.file, line=step.line)


def check_document(path, *, preamble=None, timeout=DEFAULT_TIMEOUT, cache_dir=None, use_cache=True,
                   jobs=None, progress=None, document=None):
    """Check every step of the document ``path`` and return a
    :class:`~ml2p_symbolic.engine.records.Report` (claims in document order, each with ``source`` and
    ``line``).

    Parameters
    ==========
    path : str or Path
        A ``.tex``, ``.md`` or ``.txt`` file.
    preamble : str or Path, optional
        A file of ``%!`` directives applied before the document's own.
    timeout : float
        Hard limit in seconds for each step (``open (timed out)`` past it).
    cache_dir : str or Path, optional
        Where verdicts are cached (default :func:`~ml2p_symbolic.engine.document.cache.default_cache_dir`).
    use_cache : bool
        False: neither read nor write the cache.
    jobs : int, optional
        Steps checked at once (default: 2, or 1 on a one-core machine).
    progress : callable, optional
        Called as ``progress(done, total, step_id, verdict)`` after each step.
    document : Document, optional
        An already read document (then ``path`` and ``preamble`` are not read again).

    Raises
    ======
    LatexInputError
        (``FILE:LINE:COL: error: ...``) for anything the reader does not understand.
    """
    doc = document if document is not None else read_document(path, preamble=preamble)
    if not isinstance(timeout, (int, float)) or not 0 < timeout <= 86400:  # also refuses nan and inf
        from ...errors import ArgumentError

        raise ArgumentError(f"timeout must be a positive number of seconds, at most 86400, got {timeout!r}")
    cache = VerdictCache((cache_dir if cache_dir is not None else default_cache_dir()) if use_cache else None)
    verdicts = check_steps(doc.steps, doc.declarations, timeout=timeout, cache=cache, jobs=jobs,
                           progress=progress)
    cache.save()
    return Report(tuple(Result(step_claim(s), v) for s, v in zip(doc.steps, verdicts)))


def check_steps(steps, decls, *, timeout=DEFAULT_TIMEOUT, cache=None, jobs=None, progress=None, cancel=None):
    """Verdicts of ``steps`` (in order), each in a child process with a hard time limit.

    ``progress(done, total, step_id, verdict)`` is called as each step finishes (cached steps
    first). ``cancel``, an object with ``is_set()`` (a :class:`threading.Event`), stops the
    work when set: the running children are killed and the steps not finished get ``None``
    (an editor drops the work on a document that changed again).
    """
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        from ...errors import ArgumentError

        raise ArgumentError(f"jobs must be a positive integer; got {jobs!r}")  # -1 would wait forever
    cache = cache or VerdictCache(None)
    verdicts = [None] * len(steps)
    todo = []
    keys = [step_key(s, decls, timeout) for s in steps]
    done = 0
    for n, (s, key) in enumerate(zip(steps, keys)):
        cached = cache.get(key)
        if cached is not None:
            verdicts[n] = cached
            done += 1
            if progress:
                progress(done, len(steps), s.id, cached)
        elif s.kind == "skip":
            verdicts[n] = Verdict("open", "skipped", detail=f"skipped by '%! skip': {s.reason}")
            done += 1
            if progress:
                progress(done, len(steps), s.id, verdicts[n])
        else:
            todo.append(n)
    if todo:
        global _WORK
        _WORK = (steps, decls, timeout)
        jobs = jobs or (2 if (os.cpu_count() or 1) > 1 else 1)
        twins = {}  # steps with the same key (same parsed statement and declarations) are checked once
        for n in todo:
            twins.setdefault(keys[n], []).append(n)
        try:
            for n, verdict in _run_pool([group[0] for group in twins.values()], timeout, jobs, cancel):
                cache.put(keys[n], verdict)
                for m in twins[keys[n]]:
                    verdicts[m] = verdict
                    done += 1
                    if progress:
                        progress(done, len(steps), steps[m].id, verdict)
        finally:
            _WORK = None
    return verdicts


# --------------------------------------------------------------------------- child processes
_WORK = None  # (steps, decls, timeout), inherited by the forked children


def _check_one(n):
    steps, decls, timeout = _WORK
    step = steps[n]
    from .steps import check_relation

    return check_relation(step.lhs, step.rhs, step.relation, decls, budget=0.85 * timeout)


def _child(n, conn):
    try:
        verdict = _check_one(n)
    except Exception as exc:  # a bug or an input SymPy cannot handle: an honest 'open'
        verdict = Verdict("open", "error", detail=f"the checker failed on this step: {type(exc).__name__}: {exc}")
    try:
        conn.send(verdict)
    except Exception as exc:  # an unpicklable verdict
        conn.send(Verdict("open", "error", detail=f"the verdict could not be sent back: {exc}"))
    conn.close()


def _run_pool(todo, timeout, jobs, cancel=None):
    """Yield (index, verdict) as steps finish; kill a child past ``timeout`` seconds; stop (killing
    the running children) when ``cancel.is_set()`` or when the caller stops iterating."""
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - no fork on this platform: run in process, soft limit
        for n in todo:
            yield n, _check_one(n)
        return
    pending = list(todo)
    running = {}
    try:
        yield from _pool_loop(ctx, pending, running, timeout, jobs, cancel)
    finally:
        for conn, (n, proc, started) in running.items():
            proc.kill()
            proc.join(timeout=5)
            conn.close()


def _pool_loop(ctx, pending, running, timeout, jobs, cancel):
    while pending or running:
        if cancel is not None and cancel.is_set():
            return
        while pending and len(running) < jobs:
            n = pending.pop(0)
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(n, child), daemon=True)
            proc.start()
            child.close()
            running[parent] = (n, proc, time.monotonic())
        ready = wait(list(running), timeout=0.1)
        for conn in ready:
            n, proc, _ = running.pop(conn)
            try:
                verdict = conn.recv()
            except (EOFError, OSError):
                proc.join(timeout=5)
                verdict = Verdict("open", "error", detail="the checking process ended without a verdict "
                                  f"(exit code {proc.exitcode})")
            conn.close()
            proc.join(timeout=5)
            yield n, verdict
        now = time.monotonic()
        for conn, (n, proc, started) in list(running.items()):
            if now - started > timeout:
                proc.kill()
                proc.join(timeout=5)
                conn.close()
                del running[conn]
                yield n, Verdict("open", "timed out",
                                 detail=f"open (timed out): no verdict within the {timeout:g} s budget of a step")


def _stderr_progress(done, total, step_id, verdict):  # pragma: no cover - terminal output
    print(f"\r[{done}/{total}] {step_id:<24} {verdict.verdict:<12}", end="", file=sys.stderr, flush=True)


def wait_for_change(paths, *, interval=0.5, max_polls=None):
    """Yield once each time one of ``paths`` is saved (its modification time or size changes),
    polling every ``interval`` seconds; stop after ``max_polls`` polls if given. While a file
    is missing (an editor saving by delete and rename) nothing is yielded: the change is the
    file coming back."""
    def stamp():
        out = []
        for p in paths:
            try:
                st = os.stat(p)
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append(None)
        return out

    def changes(last):
        polls = 0
        while max_polls is None or polls < max_polls:
            time.sleep(interval)
            polls += 1
            now = stamp()
            if None in now:
                continue
            if now != last:
                last = now
                yield now

    return changes(stamp())  # the state to compare with is taken now, not at the first next()
