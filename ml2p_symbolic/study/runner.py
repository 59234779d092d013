"""Running a study's tasks on Dask, writing each result as it arrives.

:func:`run_study` submits every task of a spec that is not finished yet to a Dask
cluster: a :class:`distributed.LocalCluster` started for the run
(:func:`start_local_cluster`: ``workers`` processes with one thread and one BLAS thread
each), or an existing
cluster's scheduler (``scheduler="tcp://host:8786"``; its workers need ml2p-symbolic
installed).  Rows are appended to the results file (:mod:`~ml2p_symbolic.study.store`) in
the order tasks finish; a failed task gives an error row and the study goes on.

Resuming (``resume=True``) skips every task whose latest row is ``ok`` with the same seed
and options, and runs the rest (failed tasks included); a results file of another study,
or of a changed spec (its rows record the spec's digest), is refused.  Everything is
checked before anything is created (the results path, ``workers``, the scheduler), and a
results file the run created is removed again if the run stops before its first row.  Ctrl-C (``KeyboardInterrupt``)
is deferred while a row is being written, so the results file always ends with a
complete row; the cluster is then shut down and the interrupt re-raised.

Dask is imported here only, when a study runs: the rest of the package works without it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import uuid

from ..errors import ClusterError, MissingExtraError
from ..numeric.budget import check_processes
from .store import ResultsWriter, check_results_path, check_same_study, default_results_path, read_results
from .tasks import error_row, expand_tasks, options_json, run_task

__all__ = ["run_study", "pending_tasks", "progress_bar", "start_local_cluster", "STUDY_EXTRA_HINT"]

#: What to install for ``ml2p-proof study``.
STUDY_EXTRA_HINT = "pip install 'ml2p-symbolic[study]'"

#: Estimated memory of one local study worker process (Python, numpy, dask), for the bound
#: on ``workers`` (:func:`~ml2p_symbolic.numeric.budget.check_processes`).
WORKER_BYTES = 100e6

#: How long to try to reach a ``scheduler`` before refusing the run.
SCHEDULER_TIMEOUT = "15s"


def _distributed():
    try:
        import distributed
    except ImportError as exc:
        raise MissingExtraError(f"running a study needs dask.distributed ({exc}); install the "
                                f"study extra: {STUDY_EXTRA_HINT}") from None
    return distributed


def pending_tasks(spec, rows):
    """The tasks of ``spec`` not finished in ``rows`` (from
    :func:`~ml2p_symbolic.study.store.read_results`): those without an ``ok`` row with the
    same task id, seed and options.  Returns ``(pending, finished)`` lists of tasks."""
    ok = {r["task_id"]: r for r in rows if r["status"] == "ok"}
    pending, finished = [], []
    for t in expand_tasks(spec):
        r = ok.get(t.task_id)
        if r is not None and r["seed"] == t.seed and r["options"] == options_json(t.options):
            finished.append(t)
        else:
            pending.append(t)
    return pending, finished


def _clock(seconds):
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def progress_bar(done, total, failed, elapsed, *, file=None, width=30):
    """One ``\\r``-updated line on stderr: tasks done of this run, failures, elapsed time and
    the estimated time left (elapsed / done x tasks left)."""
    file = sys.stderr if file is None else file
    filled = int(width * done / max(total, 1))
    left = f"  left ~{_clock(elapsed / done * (total - done))}" if done else ""
    fails = f"  {failed} failed" if failed else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} tasks{fails}  "
          f"elapsed {_clock(elapsed)}{left}   ", end="", file=file, flush=True)


class _DeferInterrupt:
    """While active, SIGINT only sets a flag; the interrupt is raised when it ends.  Used
    around each write so Ctrl-C cannot cut a row in half (main thread only)."""

    def __init__(self):
        self.pending = False
        self.installed = threading.current_thread() is threading.main_thread()

    def __enter__(self):
        if self.installed:
            self.old = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        self.pending = True

    def __exit__(self, *exc):
        if self.installed:
            signal.signal(signal.SIGINT, self.old)
        if self.pending and exc[0] is None:
            raise KeyboardInterrupt
        return False


def start_local_cluster(workers):
    """A :class:`distributed.LocalCluster` of ``workers`` processes, one thread each, no
    dashboard, quiet logs, for a study's fits.

    Dask's nanny starts worker processes with one BLAS thread (kept) and
    ``MALLOC_TRIM_THRESHOLD_=65536`` (dropped here): with that setting glibc returns every
    freed block of 64 KiB or more to the system and serves the next one by mmap, and our
    numpy fits, which allocate many such temporaries, ran 2.0-2.2 times slower (a
    Sim-ECPE-like VAE fit: 2.9-3.3 s in a worker against 1.4-1.5 s without it; measured on
    the development machine).  The workers ignore SIGINT: Ctrl-C stops the study in this
    process, which shuts the cluster down.  Raises :class:`~ml2p_symbolic.errors.MissingExtraError`
    without dask.distributed.
    """
    import logging

    import dask

    distributed = _distributed()
    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    # the worker processes inherit an ignored SIGINT, so that Ctrl-C in a terminal (sent to
    # the whole process group) reaches only this process, which then shuts them down
    main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            # no dashboard; the scheduler's small HTTP server (health checks) on a free port
            return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                                            silence_logs=logging.ERROR)
    finally:
        if main:
            signal.signal(signal.SIGINT, old)


def _connect(distributed, scheduler, workers, n_tasks):
    if scheduler is not None:
        try:
            return distributed.Client(scheduler, timeout=SCHEDULER_TIMEOUT), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None
    cluster = start_local_cluster(workers or max(1, min(os.cpu_count() or 1, n_tasks)))
    try:
        return distributed.Client(cluster), cluster
    except BaseException:
        cluster.close()
        raise


def run_study(spec, results=None, *, scheduler=None, workers=None, resume=False, progress=None,
              quiet=False):
    """Run the unfinished tasks of ``spec`` on Dask and append their rows to ``results``.

    Parameters
    ----------
    spec : a :class:`~ml2p_symbolic.study.spec.StudySpec`.
    results : the results file (``*.csv`` or ``*.parquet``); default
        :func:`~ml2p_symbolic.study.store.default_results_path` in the current folder.
    scheduler : address of an existing Dask scheduler; default: a local cluster.
    workers : processes of the local cluster (default: one per core, at most one per task).
    resume : continue an existing results file, skipping finished tasks; without it an
        existing file is refused.
    progress : a callable ``(done, total, failed, elapsed_seconds)`` called after each row;
        default :func:`progress_bar` on stderr (none with ``quiet``).

    Returns
    -------
    dict with ``results`` (the path), ``tasks`` (in the spec), ``skipped`` (finished
    before), ``ran``, ``failed`` (in this run) and ``seconds``.

    Raises :class:`~ml2p_symbolic.errors.MissingExtraError` without dask.distributed,
    :class:`~ml2p_symbolic.errors.ResultsError` for an existing results file without
    ``resume`` and :class:`~ml2p_symbolic.errors.ClusterError` for an unreachable
    scheduler; ``KeyboardInterrupt`` after shutting down cleanly.
    """
    results = default_results_path(spec.name) if results is None else str(results)
    check_results_path(results, resume=resume)
    if workers is not None:
        check_processes(workers, "workers", WORKER_BYTES)
    distributed = _distributed()
    rows = read_results(results) if resume and os.path.lexists(results) else []
    check_same_study(rows, spec, results)
    todo, finished = pending_tasks(spec, rows)
    t0 = time.perf_counter()
    summary = {"results": results, "tasks": len(todo) + len(finished), "skipped": len(finished),
               "ran": 0, "failed": 0, "seconds": 0.0}
    if progress is None and not quiet:
        progress = progress_bar
    client = cluster = writer = None
    futures = []
    try:
        if todo:  # a scheduler that cannot be reached is refused before the file is created
            client, cluster = _connect(distributed, scheduler, workers, len(todo))
        writer = ResultsWriter(results, resume=resume)
        if todo:
            t_start = time.perf_counter()  # the time left is estimated from here on
            token = uuid.uuid4().hex[:8]
            futures = [client.submit(run_task, t, key=f"{t.task_id}#{token}", pure=False) for t in todo]
            by_key = {f.key: t for f, t in zip(futures, todo)}
            for future in distributed.as_completed(futures):
                task = by_key[future.key]
                if future.status == "finished":
                    row = future.result()
                else:  # the worker died, or the task was lost: recorded like a failed fit
                    row = error_row(task, future.exception())
                future.release()
                with _DeferInterrupt():
                    writer.append(row)
                summary["ran"] += 1
                summary["failed"] += row["status"] != "ok"
                if progress is not None:
                    progress(summary["ran"], len(todo), summary["failed"], time.perf_counter() - t_start)
            if progress is progress_bar:
                print(file=sys.stderr)
    finally:
        with _DeferInterrupt():
            if writer is not None:
                writer.close()
                writer.discard()  # a file this run created and wrote no row to
            if client is not None:
                if futures:
                    client.cancel(futures)
                client.close()
            if cluster is not None:
                cluster.close()
    summary["seconds"] = time.perf_counter() - t0
    return summary
