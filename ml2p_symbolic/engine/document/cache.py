"""A JSON cache of step verdicts, keyed by the step's text and the document's declarations.

One file, ``steps.json``, in the cache directory: ``{key: verdict}``, where ``key`` is the
SHA-256 of the engine's fingerprint (:func:`engine_fingerprint`: the source of every module of
the package and the SymPy and mpmath versions, so an upgrade or an edit of the checker never
reuses a verdict it might no longer give), every directive of the document and its preamble, the step
(its kind, relation, LaTeX text, Python check) and the time limit. A verdict is stored with its SymPy parts
as ``srepr`` strings and rebuilt with ``sympify``. The file is written to a temporary file
and renamed. Verdicts that ran out of time are not stored.

The default directory is ``$ML2P_CACHE_DIR``, else ``$XDG_CACHE_HOME/ml2p-symbolic``, else
``~/.cache/ml2p-symbolic`` (a document's own directory may be read-only or shared).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import sympy as sp

from ..kernel.seal import seal, unseal
from ..records import Verdict
from ..report import sizes_to_json

__all__ = ["VerdictCache", "default_cache_dir", "step_key", "engine_fingerprint", "ENGINE_VERSION"]

#: the cache format (bump when the JSON of a stored verdict changes)
ENGINE_VERSION = "document-check-2"


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


def step_key(step, directive_text, timeout=None):
    """The cache key of ``step`` under the declarations ``directive_text`` (list of str) and
    the time limit ``timeout`` (a verdict reached within a shorter limit may be weaker)."""
    payload = json.dumps([engine_fingerprint(), sorted(directive_text), step.kind, step.relation, step.text,
                          step.check, step.reason, list(step.forall), step.id if step.kind == "python" else "",
                          None if timeout is None else float(timeout)])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _srepr(obj):
    return None if obj is None else sp.srepr(obj)


def _rebuild(text):
    if text is None:
        return None
    return sp.sympify(text)


def verdict_to_json(v):
    """A :class:`Verdict` as a JSON-ready dict (SymPy parts as srepr)."""
    return {
        "verdict": v.verdict, "method": v.method,
        "counterexample": None if v.counterexample is None else
        [[sp.srepr(k), sp.srepr(sp.sympify(x))] for k, x in v.counterexample.items()],
        "values": list(v.values) if v.values is not None else None,
        "condition": _srepr(v.condition), "corrected": _srepr(v.corrected),
        "detail": v.detail, "evidence": list(v.evidence), "sizes": sizes_to_json(v.sizes),
    }


#: the verdicts a cache record may rebuild by itself; ``verified`` needs the kernel's seal
_PLAIN_VERDICTS = ("tested", "refuted", "conditional", "open")


def verdict_from_json(d):
    """Inverse of :func:`verdict_to_json` (a ``verified`` record only with its kernel seal)."""
    if d.get("verdict") == "verified":
        record = {k: v for k, v in d.items() if k != "seal"}
        verdict = unseal(record, d.get("seal"))
        if verdict is None:
            raise ValueError("a verified record without a valid seal")
        return verdict
    if d.get("verdict") not in _PLAIN_VERDICTS:
        raise ValueError("an unknown verdict")
    sizes = d.get("sizes", "all")
    cx = d.get("counterexample")
    return Verdict(  # not verified: checked above
        verdict=d["verdict"], method=d["method"], sizes=sizes if sizes == "all" else dict(sizes),
        counterexample=None if cx is None else {_rebuild(k): _rebuild(x) for k, x in cx},
        values=tuple(d["values"]) if d.get("values") is not None else None,
        condition=_rebuild(d.get("condition")), corrected=_rebuild(d.get("corrected")),
        detail=d.get("detail", ""), evidence=tuple(d.get("evidence", ())),
    )


class VerdictCache:
    """The cache of one directory (``None`` disables it)."""

    def __init__(self, directory):
        self.directory = None if directory is None else Path(directory)
        self._data = {}
        self._dirty = False
        if self.directory is not None:
            path = self.directory / "steps.json"
            try:
                self._data = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(self._data, dict):
                    self._data = {}
            except (OSError, ValueError):
                self._data = {}

    def get(self, key):
        d = self._data.get(key)
        if d is None:
            return None
        try:
            return verdict_from_json(d)
        except Exception:  # a stale or damaged entry: recompute
            return None

    def put(self, key, verdict):
        if self.directory is None or verdict.method == "timed out":
            return
        record = verdict_to_json(verdict)
        if verdict.verdict == "verified":
            mac = seal(record)
            if mac is None:
                return  # no key: a verified verdict is not stored unsealed
            record["seal"] = mac
        self._data[key] = record
        self._dirty = True

    def save(self):
        if self.directory is None or not self._dirty:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".steps-", suffix=".json", dir=self.directory)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self._data, fh)
            os.replace(tmp, self.directory / "steps.json")
            self._dirty = False
        except OSError:
            pass  # a cache that cannot be written only costs time
