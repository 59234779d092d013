r"""A JSON cache of decided step verdicts: data, never code; signed; keyed on what was checked.

One file, ``verdicts.json``, in the cache directory: ``{"format": FORMAT, "entries": {key:
{"record": RECORD, "mac": HEX}}}``.

* **The key** (:func:`step_key`) is the SHA-256 of the engine's fingerprint
  (:func:`engine_fingerprint`: the source of every module of the package and the SymPy and
  mpmath versions), the *parsed* step (its kind, relation, and the ``srepr`` of its two
  sides and of its ``\forall`` indices; a Python check's target, a skip's reason), the
  document's *effective* declarations (:func:`declarations_digest`: the indices, sizes,
  variables with their assumptions, definitions, functions, random laws, matrices,
  assumptions and aliases after every directive is applied; not the directives' text) and
  the time limit. Two texts that read the same share a key; a comment that hides a term, or
  a reordering of directives that changes what they declare, does not.
* **A record** (:func:`verdict_to_record`) is JSON of strings (and ``null``): the verdict,
  its method, detail and evidence, the two decimal values, and the SymPy parts (condition,
  corrected statement, counterexample) as ``sympy.srepr`` text. It is read back only by
  :func:`verdict_from_record`, which rebuilds SymPy parts with the restricted reader
  :func:`~.srepr_reader.read_srepr` (a whitelist of SymPy classes with literal arguments,
  bounded size and depth; never ``eval``/``sympify``).
* **Integrity**: each entry carries an HMAC-SHA256 of ``[key, record]`` under a per-user
  secret key (:func:`secret_key`) kept outside the cache directory, in
  ``$ML2P_CONFIG_DIR`` else ``$XDG_CONFIG_HOME/ml2p-symbolic`` else
  ``~/.config/ml2p-symbolic`` (file ``cache-key``, mode 0600, created on first use). A shared
  ``--cache-dir`` or a restored CI cache written under another key is simply not used.
* An entry that fails its HMAC, does not parse, or holds unexpected types is ignored (the
  step is checked again); reading never raises. Only decided verdicts
  (:data:`CACHED_VERDICTS`) are stored: never a timed-out, killed or failed worker, nor an
  ``open`` that a less loaded machine might decide.

The file is written to a temporary file and renamed. The default directory is
``$ML2P_CACHE_DIR``, else ``$XDG_CACHE_HOME/ml2p-symbolic``, else ``~/.cache/ml2p-symbolic``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from pathlib import Path

import sympy as sp

from ..kernel.seal import seal, unseal
from ..records import Verdict
from ..report import sizes_to_json
from .srepr_reader import read_srepr

__all__ = ["VerdictCache", "default_cache_dir", "default_config_dir", "secret_key", "step_key",
           "declarations_digest", "engine_fingerprint", "verdict_to_record", "verdict_from_record",
           "ENGINE_VERSION", "CACHED_VERDICTS", "CACHE_FILE"]

#: the cache format (bump when a record or the key changes)
ENGINE_VERSION = "document-check-2"
#: the file of the cache directory that holds the verdicts
CACHE_FILE = "verdicts.json"
#: verdicts worth storing: decided ones (an ``open`` may be a loaded machine's time cap)
CACHED_VERDICTS = frozenset({"verified", "tested", "refuted", "conditional"})
#: methods never stored whatever the verdict says
_UNCACHED_METHODS = frozenset({"timed out", "error", "skipped"})
#: largest cache file read (bytes); a larger one is ignored
MAX_CACHE_BYTES = 64 * 1024 * 1024
#: longest string field of a record
_MAX_TEXT = 100_000

_FINGERPRINT = []


def engine_fingerprint():
    """SHA-256 of the package's own source files (``*.py`` and the grammar) and the versions
    of SymPy and mpmath: what a cached verdict depends on besides the document. Computed once
    per process (about 100 small files)."""
    if not _FINGERPRINT:
        import mpmath

        package = Path(__file__).resolve().parents[2]
        h = hashlib.sha256(f"{ENGINE_VERSION} sympy {sp.__version__} mpmath {mpmath.__version__}".encode())
        for path in sorted(list(package.rglob("*.py")) + list(package.rglob("*.lark"))):
            h.update(str(path.relative_to(package)).encode())
            h.update(path.read_bytes())
        _FINGERPRINT.append(h.hexdigest())
    return _FINGERPRINT[0]


def default_cache_dir():
    """The cache directory used when none is given (see the module docstring)."""
    if os.environ.get("ML2P_CACHE_DIR"):
        return Path(os.environ["ML2P_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ml2p-symbolic"


def default_config_dir():
    """Where the cache's secret key lives (see the module docstring)."""
    if os.environ.get("ML2P_CONFIG_DIR"):
        return Path(os.environ["ML2P_CONFIG_DIR"])
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "ml2p-symbolic"


def secret_key(config_dir=None):
    """The per-user key (32 bytes) that signs cache entries, or ``None`` when it cannot be
    read or created safely (then the cache is neither read nor written).

    The file ``cache-key`` is created with mode 0600 (its directory 0700); an existing file
    that is not a regular file of this user, or that others may read or write, is not used.
    """
    directory = Path(config_dir) if config_dir is not None else default_config_dir()
    path = directory / "cache-key"
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "r") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o077 or \
                    (hasattr(os, "getuid") and st.st_uid != os.getuid()):
                return None
            text = fh.read(200).strip()
        key = bytes.fromhex(text)
        return key if len(key) >= 16 else None
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- keys
def _sr(obj):
    """``srepr`` with the arguments in their stored order (deterministic: SymPy sorts the
    arguments of ``Add``/``Mul`` by structure, not by hash; ten times faster than the
    printing order)."""
    return None if obj is None else sp.srepr(obj, order="none")


def declarations_digest(decls):
    """SHA-256 of the *effective* declarations ``decls`` (a
    :class:`~ml2p_symbolic.engine.latex_input.declarations.Declarations`): everything a step's
    check may read from them, as ``srepr`` text, after every directive was applied. Computed
    once per ``decls`` object."""
    cached = getattr(decls, "_cache_digest", None)
    if cached is not None:
        return cached
    names = []
    for base in sorted(decls.names):
        for d in decls.names[base]:
            names.append([base, [list(s) for s in d.slots], d.label_text, d.kind, _sr(d.obj), _sr(d.body),
                          _sr(d.mean), _sr(d.variance), None if d.matrix is None else d.matrix.base])
    payload = {
        "indices": [[k, _sr(d.symbol), _sr(d.size)] for k, d in sorted(decls.indices.items())],
        "sizes": sorted([_sr(k), list(v)] for k, v in decls.sizes.items()),
        "names": names,
        "functions": [[k, [_sr(p) for p in f.params], _sr(f.body)] for k, f in sorted(decls.functions.items())],
        "assumptions": [_sr(a) for a in decls.assumptions],
        "aliases": sorted([list(k), list(v)] for k, v in decls.aliases.items()),
        "matrices": [[k, _sr(m.obj), _sr(m.rows), _sr(m.cols), m.structure]
                     for k, m in sorted(decls.matrices.items())],
        "labels": sorted(decls.labels),
        # the order of definitions (a later one may use an earlier one); variables' order is no effect
        "order": [[type(d).__name__, d.base, d.latex] for d in decls.order
                  if getattr(d, "kind", "function") in ("define", "function")],
        "python": sorted([k, v[0]] for k, v in decls.python_checks.items()),
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()
    try:
        decls._cache_digest = digest
    except AttributeError:  # pragma: no cover - a frozen stand-in
        pass
    return digest


def step_key(step, decls, timeout=None):
    """The cache key of ``step`` (a :class:`~ml2p_symbolic.engine.latex_input.reader.Step`)
    under the declarations ``decls`` and the time limit ``timeout`` (a verdict reached
    within a shorter limit may be weaker); see the module docstring."""
    payload = json.dumps([engine_fingerprint(), declarations_digest(decls), step.kind, step.relation,
                          _sr(step.lhs), _sr(step.rhs), [_sr(f) for f in step.forall], step.check,
                          step.reason, step.id if step.kind == "python" else "",
                          None if timeout is None else repr(float(timeout))])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- records
def verdict_to_record(v):
    """A :class:`Verdict` as a JSON-ready dict of strings, lists of strings and ``None``."""
    return {
        "verdict": v.verdict, "method": v.method,
        "counterexample": None if v.counterexample is None else
        [[_sr(k), _sr(sp.sympify(x, strict=True))] for k, x in v.counterexample.items()],
        "values": None if v.values is None else [str(x) for x in v.values],
        "condition": _sr(v.condition), "corrected": _sr(v.corrected),
        "detail": v.detail, "evidence": [str(e) for e in v.evidence], "sizes": sizes_to_json(v.sizes),
    }


_RECORD_KEYS = {"verdict", "method", "counterexample", "values", "condition", "corrected", "detail", "evidence",
                "sizes"}


def _sizes(value):
    """A record's ``sizes``: ``"all"`` or ``{name: [int, ...]}``."""
    if value == "all":
        return "all"
    if not isinstance(value, dict) or len(value) > 50 or not all(
            isinstance(k, str) and isinstance(v, list) and len(v) <= 1000
            and all(isinstance(x, int) and not isinstance(x, bool) for x in v) for k, v in value.items()):
        raise ValueError("sizes is not 'all' or a map of sizes")
    return {k: list(v) for k, v in value.items()}


def _text(value, what):
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise ValueError(f"{what} is not a string")
    return value


def _optional_expr(value, what):
    return None if value is None else read_srepr(_text(value, what))


def verdict_from_record(record):
    """The :class:`Verdict` a cache record (see :func:`verdict_to_record`) stands for.

    The one place a cached verdict is built. Raises ``ValueError`` for a record of another
    shape, another type in any field, a verdict that is not cached (:data:`CACHED_VERDICTS`)
    or a SymPy part the restricted reader refuses; the caller then checks the step again.
    """
    if not isinstance(record, dict) or set(record) - {"seal"} != _RECORD_KEYS:
        raise ValueError("not a verdict record")
    verdict = _text(record["verdict"], "verdict")
    if verdict == "verified":  # only the kernel rebuilds it, from its own seal
        rebuilt = unseal({k: v for k, v in record.items() if k != "seal"}, record.get("seal"))
        if rebuilt is None:
            raise ValueError("a verified record without the kernel's seal")
        return rebuilt
    method = _text(record["method"], "method")
    if verdict not in CACHED_VERDICTS or method in _UNCACHED_METHODS:
        raise ValueError(f"verdict {verdict!r} ({method}) is never cached")
    cx = record["counterexample"]
    if cx is not None:
        if not isinstance(cx, list) or len(cx) > 1000 or not all(isinstance(p, list) and len(p) == 2 for p in cx):
            raise ValueError("counterexample is not a list of pairs")
        cx = {read_srepr(_text(k, "a counterexample's symbol")): read_srepr(_text(x, "a counterexample's value"))
              for k, x in cx}
    values = record["values"]
    if values is not None:
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError("values is not a pair")
        values = tuple(_text(x, "a value") for x in values)
    evidence = record["evidence"]
    if not isinstance(evidence, list) or len(evidence) > 1000:
        raise ValueError("evidence is not a list")
    return Verdict(  # not verified: handled above
        verdict=verdict, method=method, counterexample=cx, values=values, sizes=_sizes(record["sizes"]),
        condition=_optional_expr(record["condition"], "condition"),
        corrected=_optional_expr(record["corrected"], "corrected"),
        detail=_text(record["detail"], "detail"), evidence=tuple(_text(e, "evidence") for e in evidence),
    )


def _mac(secret, key, record):
    message = json.dumps([key, record], sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(secret, message.encode("ascii"), hashlib.sha256).hexdigest()


def _cacheable(verdict):
    return verdict.verdict in CACHED_VERDICTS and verdict.method not in _UNCACHED_METHODS


# --------------------------------------------------------------------------- the cache
class VerdictCache:
    """The cache of one directory (``None`` disables it).

    ``secret`` is the signing key (default :func:`secret_key`); with no key the cache is
    neither read nor written."""

    def __init__(self, directory, *, secret=None):
        self.directory = None if directory is None else Path(directory)
        self._entries = {}
        self._new = {}
        self.secret = None
        if self.directory is None:
            return
        self.secret = secret if secret is not None else secret_key()
        if self.secret is None:
            self.directory = None
            return
        self._entries = self._load()

    def _load(self):
        path = self.directory / CACHE_FILE
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            return {}
        try:
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CACHE_BYTES:
                    return {}
                raw = fh.read(MAX_CACHE_BYTES + 1)
            data = json.loads(raw.decode("utf-8"))
        except (OSError, ValueError, RecursionError, MemoryError):
            return {}
        if not isinstance(data, dict) or data.get("format") != ENGINE_VERSION:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def get(self, key):
        """The cached verdict of ``key``, or ``None`` (missing, unsigned, damaged: recompute)."""
        entry = self._entries.get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("mac"), str):
            return None
        record = entry.get("record")
        try:
            if not hmac.compare_digest(entry["mac"], _mac(self.secret, key, record)):
                return None
            return verdict_from_record(record)
        except Exception:  # noqa: BLE001 - a damaged entry of any kind: check the step again
            return None

    def put(self, key, verdict):
        """Store ``verdict`` under ``key`` if it is decided (:data:`CACHED_VERDICTS`)."""
        if self.directory is None or not _cacheable(verdict):
            return
        try:
            record = verdict_to_record(verdict)
            if verdict.verdict == "verified":
                mark = seal(record)
                if mark is None:
                    return  # no kernel key: a verified verdict is not stored
                record["seal"] = mark
            verdict_from_record(record)  # store only what can be read back
        except Exception:  # noqa: BLE001 - a verdict the reader cannot rebuild is not cached
            return
        entry = {"record": record, "mac": _mac(self.secret, key, record)}
        self._entries[key] = entry
        self._new[key] = entry

    def save(self):
        """Write the new entries (merged into what the file holds now) atomically."""
        if self.directory is None or not self._new:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            entries = self._load()
            entries.update(self._new)
            fd, tmp = tempfile.mkstemp(prefix=".verdicts-", suffix=".json", dir=self.directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump({"format": ENGINE_VERSION, "entries": entries}, fh)
                os.replace(tmp, self.directory / CACHE_FILE)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
            self._new = {}
        except (OSError, ValueError):
            pass  # a cache that cannot be written only costs time
