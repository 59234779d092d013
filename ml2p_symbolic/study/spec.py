"""A simulation study's specification: a TOML file, read and validated.

A spec has three tables (see ``docs/studies.md`` for a worked example)::

    [study]
    name = "recovery"          # optional; default: the file's stem
    replications = 5           # data sets per condition
    seed = 11                  # base seed (an integer >= 0)
    seeding = "sequential"     # "spawn" (default) or "sequential"

    [grid]                     # every combination of these values is a condition
    students = [1000, 10000]   # N
    items = [28]               # n
    traits = [3]               # K
    q = ["ecpe"]               # Q design: "ecpe" or a probability p (Q_ik ~ Bernoulli(p))
    correlated = [false]       # theta ~ N(0, Sigma), Sigma random and given to the fit

    [estimators."vae k=5"]     # one table per estimator, named as the tables will show it
    method = "vae"             # the ML2P-VAE (numeric.fit); options: its keyword arguments
    iw_samples = 5
    [estimators.mml]
    method = "mml"             # marginal maximum likelihood (numeric.fit_mml)

A grid value may be a single value or a list.  ``students``, ``items``, ``traits`` are
required; ``q`` defaults to ``"ecpe"`` and ``correlated`` to ``false``.

Seeds: the data set of replication r of a condition is simulated, and fitted, with one
integer seed, so it can be rerun alone (``ml2p-proof fit --seed S`` with the same sizes
simulates the same data): ``"sequential"`` uses seed + r for every condition (the
convention of ``benchmarks/recovery_study.py``); ``"spawn"`` draws it with numpy's
SeedSequence from (seed, a hash of the condition, r), so conditions get unrelated data.
Every estimator of a condition and replication sees the same data set.

Everything is checked before any work: unknown tables and keys (with the nearest valid
name), empty or missing grid values, sizes that are not positive integers, options out of
range, and designs that cannot be simulated or fitted.  Each problem raises
:class:`~ml2p_symbolic.errors.SpecError` whose message starts with FILE:LINE:COL of the
key and names it.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import numbers
import os
import re
from dataclasses import dataclass, replace

from ..errors import ML2PError, SpecError

__all__ = ["StudySpec", "Estimator", "load_spec", "parse_spec", "GRID_KEYS", "ESTIMATOR_OPTIONS"]

# kinds of values: (check(value) -> bool, description for messages)
_POS_INT = (lambda v: _is_int(v) and v >= 1, "a positive integer")
_NONNEG_INT = (lambda v: _is_int(v) and v >= 0, "an integer >= 0")
_POS_REAL = (lambda v: _is_real(v) and 0 < v < math.inf, "a positive number")
_BOOL = (lambda v: isinstance(v, bool), "true or false")
_UNIT_OPEN = (lambda v: _is_real(v) and 0 < v < 1, "a number in (0, 1)")
_UNIT_HALF = (lambda v: _is_real(v) and 0 <= v < 1, "a number in [0, 1)")
_WIDTHS = (lambda v: isinstance(v, list) and all(_is_int(w) and w >= 1 for w in v),
           "a list of positive integers")
_STRING = (lambda v: isinstance(v, str), "a string")


def _activation(v):
    from ..numeric.encoder import ACTIVATIONS

    return isinstance(v, str) and v in ACTIVATIONS or (
        isinstance(v, list) and v and all(isinstance(a, str) and a in ACTIVATIONS for a in v))


_ACTIVATION = (_activation, "an activation name or a list of them (see numeric.encoder.ACTIVATIONS)")

#: The grid's keys, in the order conditions are listed; each with its value check.
GRID_KEYS = {
    "students": _POS_INT,
    "items": _POS_INT,
    "traits": _POS_INT,
    "q": (lambda v: v == "ecpe" or (_is_real(v) and 0 < v <= 1), '"ecpe" or a probability in (0, 1]'),
    "correlated": _BOOL,
}
_GRID_DEFAULTS = {"q": ("ecpe",), "correlated": (False,)}

#: The options each estimator ``method`` takes (keyword arguments of its fit function).
ESTIMATOR_OPTIONS = {
    "vae": {
        "iw_samples": _POS_INT, "hidden": _WIDTHS, "activation": _ACTIVATION, "nonneg": _BOOL,
        "epochs": _POS_INT, "batch_size": _POS_INT, "lr": _POS_REAL, "lr_half_life": _POS_REAL,
        "holdout": _UNIT_HALF, "patience": _POS_INT, "plateaus": _NONNEG_INT,
        "plateau_factor": _UNIT_OPEN, "refit": _BOOL,
    },
    "mml": {
        "rule": (lambda v: v in ("auto", "tensor", "adaptive"), '"auto", "tensor" or "adaptive"'),
        "nodes": _POS_INT, "tol": _POS_REAL, "max_iter": _POS_INT, "max_work": _POS_REAL,
    },
}
_STUDY_KEYS = {"name": _STRING, "replications": _POS_INT, "seed": _NONNEG_INT,
               "seeding": (lambda v: v in ("spawn", "sequential"), '"spawn" or "sequential"')}

#: A condition's response matrix may hold at most this many entries (8 bytes each).
MAX_RESPONSES = 10 ** 8

#: A study may have at most this many tasks.
MAX_TASKS = 10 ** 6


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class Estimator:
    """One estimator of a study: its ``name`` (the table's), ``method`` (``"vae"`` or
    ``"mml"``) and ``options`` (a dict of keyword arguments for the fit)."""

    name: str
    method: str
    options: dict


@dataclass(frozen=True)
class StudySpec:
    """A validated study: ``name``, ``replications``, ``seed``, ``seeding``, ``grid``
    (dict key -> tuple of values, keys in :data:`GRID_KEYS` order), ``estimators`` (tuple
    of :class:`Estimator`), ``path`` (the file read, or ``"<string>"``) and ``digest``
    (sha256 of the parsed content: comments and layout do not change it)."""

    name: str
    replications: int
    seed: int
    seeding: str
    grid: dict
    estimators: tuple
    path: str
    digest: str

    def conditions(self):
        """Every combination of the grid's values, as dicts, the last key varying fastest."""
        keys = list(self.grid)
        return [dict(zip(keys, values)) for values in itertools.product(*self.grid.values())]


# --------------------------------------------------------------------------- locations
_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"""^(\s*)("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=\s*""")


def _split_dotted(text):
    parts, cur, quote = [], "", None
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
            else:
                cur += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return tuple(parts)


def _locations(text):
    """{(table path, key or None): (line, key column, value column)} for simple ``[table]``
    and ``key =`` lines, 1-based."""
    where, table = {}, ()
    for lineno, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if m and not line.lstrip().startswith("[["):
            table = _split_dotted(m.group(1))
            col = line.index("[") + 1
            where.setdefault((table, None), (lineno, col, col))
            continue
        m = _KEY.match(line)
        if m:
            key = m.group(2)
            if key[0] in "\"'":
                key = key[1:-1]
            where.setdefault((table, key), (lineno, len(m.group(1)) + 1, m.end() + 1))
    return where


class _Checker:
    def __init__(self, path, text):
        self.path = path
        self.where = _locations(text)

    def fail(self, table, key, message, *, at_key=False):
        loc = (self.where.get((table, key)) or self.where.get((table + (key,), None))
               or self.where.get((table, None)))
        prefix = f"{self.path}:{loc[0]}:{loc[1] if at_key else loc[2]}" if loc else self.path
        raise SpecError(f"{prefix}: {message}")

    def keys(self, table, data, allowed, what):
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, list(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(table, key, f"unknown key {key!r} in {what}{hint}; expected one of: "
                          + ", ".join(allowed), at_key=True)

    def value(self, table, key, value, kind, what):
        check, expected = kind
        if not check(value):
            self.fail(table, key, f"{what} must be {expected}; got {value!r}")
        return value


def _name(table):
    return "[" + ".".join(f'"{p}"' if not re.fullmatch(r"[A-Za-z0-9_-]+", p) else p for p in table) + "]"


# --------------------------------------------------------------------------- parsing
def _toml():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            from ..errors import MissingExtraError

            raise MissingExtraError("reading a study spec on Python 3.10 needs tomli: "
                                    "pip install 'ml2p-symbolic[study]'") from None
    return tomllib


def parse_spec(text, path="<string>"):
    """Parse and validate a spec from TOML ``text``; ``path`` names it in messages.

    Returns a :class:`StudySpec`; raises :class:`~ml2p_symbolic.errors.SpecError` with
    FILE:LINE:COL and the key for every problem (see the module docstring).

    >>> spec = parse_spec('''
    ... [study]
    ... replications = 2
    ... [grid]
    ... students = [200, 400]
    ... items = 9
    ... traits = 3
    ... [estimators.mml]
    ... method = "mml"
    ... ''', "demo.toml")
    >>> spec.name, len(spec.conditions()), spec.estimators[0].method
    ('demo', 2, 'mml')
    >>> parse_spec('[study]\\nreplications = 2\\n[grid]\\nstudnets = 5\\n', "bad.toml")
    Traceback (most recent call last):
    ...
    ml2p_symbolic.errors.SpecError: bad.toml:4:1: unknown key 'studnets' in [grid] (did you mean 'students'?); expected one of: students, items, traits, q, correlated
    """
    tomllib = _toml()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if m:
            msg = msg[: m.start()].strip()
            raise SpecError(f"{path}:{m.group(1)}:{m.group(2)}: TOML syntax error: {msg}") from None
        raise SpecError(f"{path}: TOML syntax error: {msg}") from None
    c = _Checker(path, text)
    c.keys((), data, {"study": None, "grid": None, "estimators": None}, "the spec (tables)")

    def table(name):
        if name not in data:
            raise SpecError(f"{path}: missing table [{name}]")
        if not isinstance(data[name], dict):
            c.fail((), name, f"{name} must be a table [{name}]")
        return data[name]

    study = table("study")
    c.keys(("study",), study, _STUDY_KEYS, "[study]")
    for key, value in study.items():
        c.value(("study",), key, value, _STUDY_KEYS[key], f"study.{key}")
    if "replications" not in study:
        c.fail(("study",), None, "[study] needs replications (data sets per condition)")
    stem = os.path.splitext(os.path.basename(path))[0] if path != "<string>" else "study"
    name = study.get("name", re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-") or "study")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        c.fail(("study",), "name", f"study.name must be letters, digits, '_', '.', '-' (it names files); got {name!r}")

    grid_in = table("grid")
    c.keys(("grid",), grid_in, GRID_KEYS, "[grid]")
    grid = {}
    for key, kind in GRID_KEYS.items():
        if key not in grid_in:
            if key in _GRID_DEFAULTS:
                grid[key] = _GRID_DEFAULTS[key]
                continue
            c.fail(("grid",), None, f"[grid] needs {key}")
        listed = isinstance(grid_in[key], list)
        values = grid_in[key] if listed else [grid_in[key]]
        if not values:
            c.fail(("grid",), key, f"grid.{key} is empty; give at least one value")
        for v in values:
            c.value(("grid",), key, v, kind, f"every value of grid.{key}" if listed else f"grid.{key}")
        if len(set(map(repr, values))) != len(values):
            c.fail(("grid",), key, f"grid.{key} lists a value twice: {values!r}")
        grid[key] = tuple(float(v) if key == "q" and v != "ecpe" else v for v in values)

    est_in = table("estimators")
    if not est_in:
        c.fail(("estimators",), None, "[estimators] is empty; add a table [estimators.NAME] with a method")
    estimators = []
    for est_name, est in est_in.items():
        table = ("estimators", est_name)
        if not isinstance(est, dict):
            c.fail(("estimators",), est_name, f"estimators.{est_name} must be a table")
        if "/" in est_name or not est_name.strip():
            c.fail(table, None, f"estimator name {est_name!r} must be non-empty and without '/'")
        method = est.get("method")
        if method not in ESTIMATOR_OPTIONS:
            c.fail(table, "method" if "method" in est else None,
                   f"{_name(table)} needs method = \"vae\" or \"mml\"; got {method!r}")
        allowed = {"method": None, **ESTIMATOR_OPTIONS[method]}
        c.keys(table, est, allowed, f"{_name(table)} (method {method})")
        options = {}
        for key, value in est.items():
            if key != "method":
                options[key] = c.value(table, key, value, allowed[key], f"{_name(table)} {key}")
        for key in ("hidden", "activation"):
            if isinstance(options.get(key), list):
                options[key] = tuple(options[key])
        estimators.append(Estimator(est_name, method, options))

    spec = StudySpec(name=name, replications=study["replications"], seed=study.get("seed", 0),
                     seeding=study.get("seeding", "spawn"), grid=grid, estimators=tuple(estimators),
                     path=path, digest="")
    _check_conditions(c, spec)
    digest = hashlib.sha256(json.dumps(
        {"study": [spec.name, spec.replications, spec.seed, spec.seeding], "grid": {k: list(v) for k, v in grid.items()},
         "estimators": [[e.name, e.method, sorted((k, list(v) if isinstance(v, tuple) else v)
                                                  for k, v in e.options.items())] for e in estimators]},
        sort_keys=True).encode()).hexdigest()
    return replace(spec, digest=digest)


def _check_conditions(c, spec):
    """Too many tasks, grid values that name the same condition, designs that cannot be
    simulated, tasks that can never run (a VAE's held-out split of too few students, a
    fit or a simulation needing more memory than the limit of
    :func:`~ml2p_symbolic.numeric.budget.check_memory`), MML fits above their cost limit:
    refused now.

    The grid is never built here: its size is the product of the axes' lengths, refused
    above :data:`MAX_TASKS` before anything else, and each check runs over the values that
    matter to it (the largest sizes for memory and cost, which grow with each size; each
    distinct size for the held-out split).
    """
    import numpy as np

    from ..numeric.budget import check_memory
    from ..numeric.mml import MAX_WORK, mml_plan
    from ..numeric.simulate import simulate_q, simulation_bytes
    from ..numeric.train import check_holdout, fit_bytes
    from .tasks import condition_id

    grid = spec.grid
    n_conditions = math.prod(len(v) for v in grid.values())
    n_tasks = n_conditions * len(spec.estimators) * spec.replications
    if n_tasks > MAX_TASKS:
        c.fail(("study",), "replications", f"the spec makes {n_tasks:.3g} tasks ({n_conditions:.3g} "
               f"conditions x {len(spec.estimators)} estimators x {spec.replications} replications), "
               f"above the limit of {MAX_TASKS:.0e}")
    seen = {}
    for q in grid["q"]:  # the condition's name differs only in q's printed form
        cid = condition_id({"students": 1, "items": 1, "traits": 1, "q": q, "correlated": False})
        if cid in seen:
            c.fail(("grid",), "q", f"two grid values name the same condition: q = {seen[cid]!r} and {q!r}")
        seen[cid] = q
    for n, K in itertools.product(grid["items"], grid["traits"]):
        if "ecpe" in grid["q"] and n < 3 * K:
            c.fail(("grid",), "items", f"the 'ecpe' Q design needs items >= 3 x traits; the "
                   f"condition items={n}, traits={K} has {n} < {3 * K}")
    N_max, n_max, K_max = max(grid["students"]), max(grid["items"]), max(grid["traits"])
    if N_max * n_max > MAX_RESPONSES:
        c.fail(("grid",), "students", f"students x items = {N_max} x {n_max} = {N_max * n_max:.3g} "
               f"responses is above the limit of {MAX_RESPONSES:.0e} per data set")
    largest = f"students={N_max}, items={n_max}, traits={K_max}"
    for est in spec.estimators:
        o = est.options
        if est.method == "vae":
            holdout = o.get("holdout", 0.1)
            for N in sorted(grid["students"]):
                try:
                    check_holdout(holdout, N)
                except ML2PError as exc:
                    c.fail(("estimators", est.name), "holdout" if "holdout" in o else None,
                           f"estimator {est.name!r} can never run on the condition students={N}: {exc}")
            need = simulation_bytes(N_max, n_max, K_max) + fit_bytes(
                N_max, n_max, K_max, hidden=o.get("hidden", (64,)), batch_size=o.get("batch_size", 128),
                iw_samples=o.get("iw_samples", 1), holdout=holdout)
        else:
            need = simulation_bytes(N_max, n_max, K_max)
        try:
            check_memory(need, f"estimator {est.name!r} on the condition {largest}",
                         "use fewer students or items, or smaller options (iw_samples, batch_size, hidden)")
        except ML2PError as exc:
            keys = [k for k in ("iw_samples", "batch_size", "hidden") if k in o]
            c.fail(("estimators", est.name), keys[0] if keys else None, str(exc))
        if est.method != "mml":
            continue
        for n, K, q, correlated in itertools.product(grid["items"], grid["traits"], grid["q"], grid["correlated"]):
            Q = simulate_q(n, K, q=q, seed=0)
            Sigma = np.full((K, K), 0.25) + 0.75 * np.eye(K) if correlated else None
            try:
                mml_plan(N_max, Q, rule=o.get("rule", "auto"), nodes=o.get("nodes"), Sigma=Sigma,
                         max_work=o.get("max_work", MAX_WORK))
            except ML2PError as exc:
                c.fail(("estimators", est.name), "nodes" if "nodes" in o else None,
                       f"estimator {est.name!r} on the condition students={N_max}, items={n}, "
                       f"traits={K}: {exc}")


def load_spec(path):
    """Read and validate the spec file ``path`` (:func:`parse_spec`).

    Raises :class:`~ml2p_symbolic.errors.SpecError` for an unreadable file (missing, not
    a regular file (a FIFO, a device, a directory), above 1 MB
    (:data:`~ml2p_symbolic.input_files.MAX_TEXT_BYTES`), not UTF-8 text) as for a bad spec.
    """
    from ..input_files import MAX_TEXT_BYTES, read_input_bytes

    raw = read_input_bytes(path, "spec", limit=MAX_TEXT_BYTES, error=SpecError)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start}); a spec is a TOML text file") from None
    return parse_spec(text, str(path))
