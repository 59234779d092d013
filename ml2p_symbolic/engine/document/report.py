"""A checked document's report for the terminal (linter lines) and as JSON.

Terminal: one line per step, ``FILE:LINE: id: VERDICT method; condition or counterexample``,
so that editors can jump to each step, then a summary line. JSON: the schema of
:func:`ml2p_symbolic.report.report_to_dict` for each claim, plus ``"file"``, ``"line"`` and
``"source_text"`` (the LaTeX as written), and the document's ``"definitions"``::

    {"document": str, "preamble": str or null,
     "definitions": [{"name", "kind", "definition", "file", "line"}],
     "errors": [{"file": str, "line": int, "col": int, "message": str}],   # unreadable displays
     "claims": [{... as report_to_dict ..., "file": str, "line": int, "source_text": str}],
     "summary": {"verified": int, "tested": int, "refuted": int, "conditional": int, "open": int,
                 "unreadable": int}}
"""

from __future__ import annotations

import sympy as sp

from ..report import result_to_dict
from ..richtext import plain

__all__ = ["document_lines", "document_to_dict", "document_exit_status", "verdict_label", "condition_text",
           "claim_to_dict", "error_to_dict"]


def verdict_label(verdict):
    """``VERIFIED``, ``TESTED``, ``REFUTED``, ``CONDITIONAL``, ``OPEN``, ``OPEN (timed out)``,
    ``OPEN (skipped)``."""
    label = verdict.verdict.upper()
    if verdict.verdict == "open" and verdict.method in ("timed out", "skipped"):
        label += f" ({verdict.method})"
    return label


def _number(x):
    x = sp.sympify(x)
    if x.is_Rational:
        return str(x)
    return sp.sstr(x.evalf(8))


def _math(expr):
    """A SymPy object as Unicode text for the terminal, from its LaTeX (``u_i``, ``θ̂₁``,
    ``d/(d u) σ̂(u)``), never a SymPy repr (``u[i]``, ``Derivative(..)``)."""
    return plain("$" + sp.latex(expr) + "$") if isinstance(expr, sp.Basic) else str(expr)


def _prose(text):
    """Rich text (prose with ``$..$`` math) as the terminal shows it (:func:`plain`)."""
    try:
        return plain(text)
    except ValueError:
        return str(text)


def condition_text(cond):
    """A condition as Unicode text: ``K = 1 or b_k = 0``."""
    if isinstance(cond, sp.Or):
        return " or ".join(condition_text(a) for a in cond.args)
    if isinstance(cond, sp.And):
        return " and ".join(f"({condition_text(a)})" if isinstance(a, sp.Or) else condition_text(a) for a in cond.args)
    return _math(cond)


def _point_text(cx, limit=8):
    items = list(cx.items())
    shown = ", ".join(f"{_math(k)} = {_number(v)}" for k, v in items[:limit])
    if len(items) > limit:
        shown += f", ... ({len(items) - limit} more)"
    return shown


def _short(s, width=60):
    s = " ".join(str(s).split())
    return s if len(s) <= width else s[: width - 3] + "..."


def document_lines(report, errors=()):
    """The terminal lines of ``report`` (one per step, then the summary; ``errors``, the
    displays the reader could not read, are counted in the summary)."""
    lines = []
    for r in report.results:
        c, v = r.claim, r.verdict
        where = f"{c.source}:{c.line}" if c.source else c.id
        text = f"{where}: {c.id}: {verdict_label(v)}"
        if v.verdict == "verified":
            text += f" ({_prose(v.method)})"
        elif v.verdict == "tested":
            text += f": {_short(_prose(v.detail), 160)}"
        elif v.verdict == "conditional":
            text += f": holds when {condition_text(v.condition)}"
            if v.counterexample:
                text += f"; fails at {_point_text(v.counterexample)}"
        elif v.verdict == "refuted":
            if v.counterexample:
                text += f": fails at {_point_text(v.counterexample)}"
            if v.values:
                text += f" (lhs = {_short(v.values[0], 24)}, rhs = {_short(v.values[1], 24)})"
        else:
            text += f": {_short(_prose(v.detail), 100)}" if v.detail else ""
        lines.append(text)
    counts = _counts(report)
    unread = f"; {len(errors)} display(s) could not be read (errors above)" if errors else ""
    if report.results:
        lines.append(", ".join(f"{n} {k}" for k, n in counts.items() if n) + f" of {len(report.results)} steps"
                     + unread)
    elif errors:
        lines.append("no step could be checked" + unread)
    else:
        lines.append("no steps: the document has no display with a relation")
    return lines


def _counts(report):
    counts = {"verified": 0, "tested": 0, "refuted": 0, "conditional": 0, "open": 0}
    for r in report.results:
        counts[r.verdict.verdict] += 1
    return counts


def claim_to_dict(result):
    """One result as a JSON-ready dict: :func:`~ml2p_symbolic.engine.report.result_to_dict`
    plus the step's ``kind``, ``file``, ``line``, ``source_text`` and verdict ``label``."""
    c, v = result.claim, result.verdict
    out = result_to_dict(result)
    if c.statement is None:
        out["statement"] = c.seed_text
    out.update(kind=c.kind, source_text=c.seed_text, file=c.source, line=c.line, label=verdict_label(v))
    return out


def error_to_dict(error):
    """A reader error (:class:`~ml2p_symbolic.errors.LatexInputError`) as
    ``{"file", "line", "col", "message"}``."""
    return {"file": error.file, "line": error.line, "col": error.col, "message": error.message}


def document_to_dict(report, *, document=None, preamble=None, definitions=(), errors=()):
    """The JSON form of a checked document (see the module docstring)."""
    summary = _counts(report)
    summary["unreadable"] = len(errors)
    return {
        "document": document,
        "preamble": preamble,
        "definitions": list(definitions),
        "errors": [error_to_dict(e) for e in errors],
        "claims": [claim_to_dict(r) for r in report.results],
        "summary": summary,
    }


def document_exit_status(report):
    """0 when every step is verified, 1 otherwise."""
    return 0 if all(r.verdict.verdict == "verified" for r in report.results) else 1
