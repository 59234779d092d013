"""One replication of a study as a task: simulate (seeded), fit, score; one results row.

:func:`expand_tasks` lists a spec's tasks (replication-major, so an interrupted study has
results for every condition early); :func:`run_task` runs one anywhere (a Dask worker, or
the current process) and returns its row; it never raises for a failing fit, it returns a
row with ``status = "error"`` and the error, so a study goes on.

A row has the columns of :data:`COLUMNS`: the task's identity (``task_id``, ``study``,
``spec_digest`` (the :attr:`~ml2p_symbolic.study.spec.StudySpec.digest` of the spec that made
it: resuming with another study's or a changed spec is refused), ``condition``, the grid values, ``estimator``, ``method``, ``options`` (the estimator's
options as JSON), ``rep``, ``seed``), the outcome
(``status`` ``"ok"``/``"error"``, ``error``), the recovery figures of
:func:`~ml2p_symbolic.numeric.train.recovery` (``a_rmse``, ``a_bias``, ``a_corr``, and the
same for b and theta), ``fit_seconds`` (the fit alone), ``task_seconds`` (simulation, fit
and scoring), ``iterations`` (epochs or EM iterations), ``worker`` (host:pid),
``finished_at`` (Unix time), and the parameters as JSON lists for plots: ``a_true``,
``a_hat`` (over the Q-matrix's ones, row by row) and ``b_true``, ``b_hat``.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["Task", "COLUMNS", "expand_tasks", "condition_id", "data_seed", "task_data", "run_task",
           "error_row", "options_json"]

#: The results schema: column name -> type (``int``, ``float``, ``bool`` or ``str``).
COLUMNS = {
    "task_id": str, "study": str, "spec_digest": str, "condition": str, "students": int, "items": int, "traits": int,
    "q": str, "correlated": bool, "estimator": str, "method": str, "options": str, "rep": int,
    "seed": int,
    "status": str, "error": str,
    "a_rmse": float, "a_bias": float, "a_corr": float,
    "b_rmse": float, "b_bias": float, "b_corr": float,
    "theta_rmse": float, "theta_bias": float, "theta_corr": float,
    "fit_seconds": float, "task_seconds": float, "iterations": int, "worker": str, "finished_at": float,
    "a_true": str, "a_hat": str, "b_true": str, "b_hat": str,
}


@dataclass(frozen=True)
class Task:
    """One replication of one estimator on one condition.

    ``task_id`` is ``CONDITION/ESTIMATOR/repR`` (stable: the same spec gives the same ids,
    and resuming skips the ids already finished); ``condition`` the grid values (dict);
    ``options`` the estimator's keyword arguments; ``seed`` the integer that seeds both the
    simulation and the fit; ``spec_digest`` the digest of the spec it comes from.
    """

    task_id: str
    study: str
    condition: dict
    estimator: str
    method: str
    options: dict
    rep: int
    seed: int
    spec_digest: str = ""


def condition_id(condition):
    """A condition's short stable name, e.g. ``N10000-n28-K3-qecpe-indep``.

    >>> condition_id({"students": 500, "items": 20, "traits": 4, "q": 0.2, "correlated": True})
    'N500-n20-K4-q0.2-corr'
    """
    c = condition
    q = "ecpe" if c["q"] == "ecpe" else f"{float(c['q']):g}"
    return f"N{c['students']}-n{c['items']}-K{c['traits']}-q{q}-{'corr' if c['correlated'] else 'indep'}"


def data_seed(spec, condition, rep):
    """The integer seed of replication ``rep`` (0-based) of ``condition``.

    ``spec.seeding == "sequential"``: ``spec.seed + rep``.  ``"spawn"``: the first 32-bit
    word of ``numpy.random.SeedSequence([spec.seed, h1, h2, rep])``, h1 and h2 from the
    sha256 of :func:`condition_id`, so that it depends on the condition's values only
    (adding a value to the grid changes no other condition's data).
    """
    if spec.seeding == "sequential":
        return int(spec.seed) + int(rep)
    h = hashlib.sha256(condition_id(condition).encode()).digest()
    words = [int.from_bytes(h[i:i + 4], "little") for i in (0, 4)]
    return int(np.random.SeedSequence([int(spec.seed), *words, int(rep)]).generate_state(1)[0])


def expand_tasks(spec):
    """Every task of ``spec`` (a :class:`~ml2p_symbolic.study.spec.StudySpec`), in the order
    replication, condition, estimator."""
    tasks = []
    conditions = spec.conditions()
    for rep in range(spec.replications):
        for cond in conditions:
            seed = data_seed(spec, cond, rep)
            cid = condition_id(cond)
            for est in spec.estimators:
                tasks.append(Task(task_id=f"{cid}/{est.name}/rep{rep}", study=spec.name, condition=dict(cond),
                                  estimator=est.name, method=est.method, options=dict(est.options),
                                  rep=rep, seed=seed, spec_digest=spec.digest))
    return tasks


def task_data(task):
    """The task's data set ``(U, Q, truth)``: :func:`~ml2p_symbolic.numeric.data.load_or_simulate`
    with the condition's sizes and design and the task's seed (``truth.Sigma`` is given to the
    fit when the condition is correlated)."""
    from ..numeric.data import load_or_simulate

    c = task.condition
    return load_or_simulate(students=c["students"], items=c["items"], traits=c["traits"],
                            seed=task.seed, q_design=c["q"], correlated=c["correlated"])


def _base_row(task):
    c = task.condition
    row = dict.fromkeys(COLUMNS)
    row.update(task_id=task.task_id, study=task.study, spec_digest=task.spec_digest, condition=condition_id(c),
               students=c["students"], items=c["items"], traits=c["traits"],
               q="ecpe" if c["q"] == "ecpe" else f"{float(c['q']):g}", correlated=bool(c["correlated"]),
               estimator=task.estimator, method=task.method, options=options_json(task.options),
               rep=task.rep, seed=task.seed,
               worker=f"{socket.gethostname()}:{os.getpid()}", error="")
    return row


def options_json(options):
    """An estimator's options as canonical JSON (sorted keys): how a results row records
    what was run, and how resuming tells a finished task from one whose options changed."""
    return json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in options.items()},
                      sort_keys=True)


def error_row(task, error, task_seconds=float("nan")):
    """The row of a failed task: ``status = "error"`` and ``error`` = ``"Type: message"``
    (on one line: line breaks become `` | ``, so every row is one line of a CSV file)."""
    row = _base_row(task)
    message = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    message = " | ".join(line.strip() for line in message.splitlines() if line.strip())  # one line
    row.update(status="error", error=message[:2000], task_seconds=task_seconds, finished_at=time.time())
    return row


def _json_list(x):
    return json.dumps([round(float(v), 10) for v in np.ravel(x)])


def run_task(task):
    """Run one task: simulate, fit with the task's estimator, score with
    :func:`~ml2p_symbolic.numeric.train.recovery`; return its results row (a dict with the
    keys of :data:`COLUMNS`).  An exception in the fit or the scoring gives an error row
    instead (``KeyboardInterrupt`` and ``SystemExit`` propagate)."""
    from ..numeric.train import recovery

    t0 = time.perf_counter()
    try:
        U, Q, truth = task_data(task)
        Sigma = truth.Sigma if task.condition["correlated"] else None
        if task.method == "mml":
            from ..numeric.mml import fit_mml

            result = fit_mml(U, Q, Sigma=Sigma, **task.options)
        elif task.method == "vae":
            from ..numeric.train import fit

            result = fit(U, Q, Sigma=Sigma, seed=task.seed, quiet=True, **task.options)
        else:
            raise ValueError(f"unknown method {task.method!r}")
        rec = recovery(truth, result)
    except Exception as exc:  # noqa: BLE001 -- a failed task is a result, not a crash
        return error_row(task, exc, time.perf_counter() - t0)
    row = _base_row(task)
    mask = truth.Q == 1
    row.update(status="ok", fit_seconds=float(result.seconds), iterations=int(result.epochs),
               a_true=_json_list(truth.A[mask]), a_hat=_json_list(result.A_hat[mask]),
               b_true=_json_list(truth.b), b_hat=_json_list(result.b_hat))
    for p in ("a", "b", "theta"):
        for s in ("rmse", "bias", "corr"):
            row[f"{p}_{s}"] = float(rec[p][s])
    row.update(task_seconds=time.perf_counter() - t0, finished_at=time.time())
    return row
