"""A :class:`~ml2p_symbolic.engine.records.Report` as a plain-text table, a JSON-ready dict, an exit status.

The text fields (``title``, ``method``, ``detail``, ``evidence``, and a ``values`` entry that is
not a decimal number) are rich text: prose that may contain inline LaTeX math in ``$...$`` (a
literal dollar is ``\\$``; see :mod:`ml2p_symbolic.engine.richtext`). JSON keeps them as they are;
the terminal table and :func:`report_details` show their :func:`plain` form, math turned into
Unicode (``$\\hat{z}_i$`` -> ``ẑ_i``).

The JSON schema (``ml2p-proof check --json``)::

    {"claims": [{"id": str, "title": rich str, "statement": LaTeX str, "verdict": str,
                 "method": rich str, "condition": LaTeX str or null,
                 "counterexample": {symbol name: number} or null,
                 "values": [lhs, rhs] (decimal or rich str) or null, "corrected": LaTeX str or null,
                 "detail": rich str, "evidence": [rich str, ...],
                 "sizes": "all" or {size name: [sizes decided at]}}]}

``"sizes"`` is ``"all"`` when the verdict covers every size (always, for ``verified``), else
the sizes it was decided at.
"""

from __future__ import annotations

import textwrap

import sympy as sp

from .richtext import plain

__all__ = ["sizes_to_json", "report_to_dict", "result_to_dict", "report_table", "report_details", "report_exit_status", "counterexample_to_dict",
           "readable", "plain"]


def _number(v):
    """A SymPy/mpmath/python number as a JSON number (int when exact integer)."""
    v = sp.sympify(v)
    if v.is_Integer:
        return int(v)
    return float(v)


def counterexample_to_dict(cx):
    """``{Symbol: value}`` -> ``{name: number}`` (or None)."""
    if cx is None:
        return None
    return {str(k): _number(v) for k, v in cx.items()}


def _latex(obj):
    return None if obj is None else sp.latex(obj)


def result_to_dict(result):
    """One :class:`~ml2p_symbolic.engine.records.Result` as a JSON-ready dict."""
    c, v = result.claim, result.verdict
    return {
        "id": c.id,
        "title": c.title,
        "statement": None if c.statement is None else sp.latex(c.statement),
        "verdict": v.verdict,
        "method": v.method,
        "condition": _latex(v.condition),
        "counterexample": counterexample_to_dict(v.counterexample),
        "values": list(v.values) if v.values is not None else None,
        "corrected": _latex(v.corrected),
        "detail": v.detail,
        "evidence": list(v.evidence),
        "sizes": sizes_to_json(v.sizes),
    }


def sizes_to_json(sizes):
    """``"all"`` or ``{name: [int, ...]}``."""
    if sizes == "all" or sizes is None:
        return "all"
    return {str(k): [int(x) for x in vs] for k, vs in dict(sizes).items()}


def report_to_dict(report):
    """The whole report as ``{"claims": [...]}`` (see the module docstring)."""
    return {"claims": [result_to_dict(r) for r in report.results]}


def report_exit_status(report):
    """0 when every claim of ``report`` is verified, 1 otherwise."""
    return 0 if all(r.verdict.verdict == "verified" for r in report.results) else 1


def _short(s, width):
    s = " ".join(str(s).split())
    return s if len(s) <= width else s[: width - 3] + "..."


def readable(expr):
    """A SymPy object as one readable line for a terminal: SymPy's unicode pretty printer
    when its picture is one line high (``zᵢ = 0 ∨ sᵢ = 0``), else the :func:`plain` form of
    its LaTeX (``d/(d u) θ̂_j(u) = 0``), never ``Eq(Derivative(...), 0)``."""
    pretty = sp.pretty(expr, use_unicode=True, wrap_line=False)
    # an indexed entry pretty-prints as a[i, k]: its LaTeX reads a_(i,k)
    if "\n" in pretty or (isinstance(expr, sp.Basic) and expr.has(sp.Indexed)):
        return plain("$" + sp.latex(expr) + "$")
    return pretty


def _symbol(sym):
    """A symbol's name as the terminal shows it (``sigmahat_1`` -> ``σ̂_1``)."""
    return plain("$" + sp.latex(sym) + "$") if isinstance(sym, sp.Basic) else str(sym)


def _value(text):
    """One side's value: a long decimal cut to 18 characters, rich text in its plain form."""
    try:
        float(text)
    except ValueError:
        return plain(text, "values")
    return _short(text, 18)


def _condition_or_counterexample(v):
    if v.condition is not None:
        return f"holds when {readable(v.condition)}"
    if v.counterexample:
        pairs = ", ".join(f"{_symbol(k)}={sp.sstr(sp.sympify(x).evalf(6) if not sp.sympify(x).is_Rational else x)}"
                          for k, x in v.counterexample.items())
        out = f"fails at {pairs}"
        if v.values:
            out += f"; lhs={_value(v.values[0])} rhs={_value(v.values[1])}"
        return out
    return ""


def report_table(report, width=None):
    """A plain-text table: id, statement, verdict, method, condition or counterexample.

    Each row is followed by the wrapped condition/counterexample line, so nothing is cut
    that a reader needs to rerun the evidence.
    """
    rows = [(r.claim.id, _short(plain(r.claim.title, f"{r.claim.id}: title"), 46), r.verdict.verdict.upper(),
             _short(plain(r.verdict.method, f"{r.claim.id}: method"), 40))
            for r in report.results]
    w = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(("id", "statement", "verdict", "method"))]
    fmt = "  ".join(f"{{:<{x}}}" for x in w)
    lines = [fmt.format("id", "statement", "verdict", "method"), fmt.format(*("-" * x for x in w))]
    indent = " " * (w[0] + 2)
    for r, row in zip(report.results, rows):
        lines.append(fmt.format(*row))
        extra = _condition_or_counterexample(r.verdict)
        if extra:
            lines.extend(textwrap.wrap(extra, width=(width or 110), initial_indent=indent, subsequent_indent=indent + "  "))
    counts = {}
    for r in report.results:
        counts[r.verdict.verdict] = counts.get(r.verdict.verdict, 0) + 1
    lines.append("")
    lines.append(", ".join(f"{n} {k}" for k, n in counts.items()) + f" of {len(report.results)} claims")
    return "\n".join(lines)


def report_details(report, width=None):
    """:func:`report_table` followed by every verdict's detail and evidence lines (their
    :func:`plain` form): what ``python proofs/<part>.py`` prints."""
    out = [report_table(report, width)]
    for result in report.results:
        cid, v = result.claim.id, result.verdict
        out.append(f"\n{cid}: {v.verdict}\n  {plain(v.detail, f'{cid}: detail')}")
        out.extend(f"  - {plain(line, f'{cid}: evidence[{n}]')}" for n, line in enumerate(v.evidence))
    return "\n".join(out)
