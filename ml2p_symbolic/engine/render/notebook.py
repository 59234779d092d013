r"""Notebook display of the engine's records: Markdown and MathJax LaTeX.

The records (:mod:`ml2p_symbolic.engine.records`) are plain data with no rendering methods;
importing this module registers ``_repr_markdown_`` and ``_repr_latex_`` on them (Jupyter
looks these up on the class), so a ``Claim``, ``Verdict``, ``Result`` or ``Report`` displays
as a formatted block in a notebook. ``import ml2p_symbolic`` imports it.

Rich text (titles, the draft's words, method, detail, evidence:
:mod:`ml2p_symbolic.engine.richtext`) becomes Markdown prose with its ``$...$`` math left
to MathJax, or, in the math-mode ``_repr_latex_``, ``\text{}`` runs around the math.
"""

from __future__ import annotations

import re

import sympy as sp

from ..evidence import latex_number
from ..records import Claim, Report, Result, Verdict
from ..richtext import segments
from .latex import _UNICODE_MATH, _counts

__all__ = ["repr_latex", "repr_markdown"]


def _md_escape(text):
    return re.sub(r"([\\`*_\[\]<>|$#])", r"\\\1", str(text))


def _md_rich(text, field="text"):
    """Rich text as Markdown: prose escaped, ``$...$`` math kept for MathJax."""
    return "".join(_md_escape(seg) if kind == "text" else f"${seg}$" for kind, seg in segments(text, field))


def _md_value(text):
    """One side's value: a decimal as ``$number$``, anything else as rich text."""
    try:
        return f"${latex_number(text)}$"
    except ValueError:
        return _md_rich(text, "values")


def _claim_md(c):
    out = [f"**{_md_escape(c.id)}** ({_md_escape(c.kind)}): {_md_rich(c.title, 'title')}",
           f"$$\n{sp.latex(c.statement)}\n$$"]
    if c.seed_text:
        out.append("> " + _md_rich(c.seed_text, "seed_text"))
    return "\n\n".join(out)


def _verdict_md(v):
    out = [f"**{v.verdict.upper()}** ({_md_rich(v.method, 'method')})"]
    if v.condition is not None:
        out.append(f"holds exactly when $$\n{sp.latex(v.condition)}\n$$")
    if v.counterexample:
        pts = ", ".join(f"${sp.latex(k)} = {sp.latex(sp.sympify(x))}$" for k, x in v.counterexample.items())
        out.append("fails at " + pts)
    if v.values is not None:
        out.append(f"- lhs: {_md_value(v.values[0])}\n- rhs: {_md_value(v.values[1])}")
    if v.corrected is not None:
        out.append(f"corrected: $$\n{sp.latex(v.corrected)}\n$$")
    if v.detail:
        out.append(_md_rich(v.detail, "detail"))
    if v.evidence:
        out.append("\n".join(f"- {_md_rich(e, 'evidence')}" for e in v.evidence))
    return "\n\n".join(out)


def _report_md(report):
    rows = ["| id | statement | verdict |", "| --- | --- | --- |"]
    for r in report.results:
        rows.append(f"| `{r.claim.id}` | {_md_rich(r.claim.title, 'title')} | **{r.verdict.verdict.upper()}** |")
    counts = ", ".join(f"{n} {k}" for k, n in _counts(report).items())
    rows.append("")
    rows.append(f"{counts} of {len(report.results)} claims")
    return "\n".join(rows)


def repr_markdown(obj):
    """Markdown for a :class:`~ml2p_symbolic.engine.records.Claim`, ``Verdict``, ``Result`` or
    ``Report`` (Jupyter's ``_repr_markdown_``): prose escaped, the rich text's math and the
    statements (``sympy.latex``) as ``$...$``, values as math numbers."""
    if isinstance(obj, Claim):
        return _claim_md(obj)
    if isinstance(obj, Verdict):
        return _verdict_md(obj)
    if isinstance(obj, Result):
        return _claim_md(obj.claim) + "\n\n" + _verdict_md(obj.verdict)
    if isinstance(obj, Report):
        return _report_md(obj)
    raise TypeError(f"repr_markdown expects a Claim, Verdict, Result or Report, got {type(obj).__name__}")


_MATH_SPECIALS = {"_": r"\_", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "#": r"\#",
                  "$": r"\$", "~": r"\sim", "^": r"\hat{\ }", "\\": r"\backslash"}


def _mtext(text):
    r"""Plain text inside math mode, valid for both LaTeX and MathJax: runs of ordinary
    characters in ``\text{...}``, special characters as their math-mode forms (MathJax
    shows the inside of ``\text`` literally, so ``\_`` cannot be used there).

    >>> _mtext("a_1 & b")
    '\\text{a}\\_\\text{1 }\\&\\text{ b}'
    """
    out, run = [], []

    def flush():
        if run:
            out.append(r"\text{%s}" % "".join(run))
            run.clear()

    for ch in str(text):
        if ch in _MATH_SPECIALS:
            flush()
            out.append(_MATH_SPECIALS[ch])
        elif ch in "<>|":
            flush()
            out.append({"<": "<", ">": ">", "|": r"\vert "}[ch])
        elif ch in _UNICODE_MATH:
            flush()
            out.append(_UNICODE_MATH[ch] + " ")
        elif ch in "\u201c\u201d":
            run.append('"')
        elif ch in "\u2018\u2019":
            run.append("'")
        elif ord(ch) > 127:
            run.append("?")
        else:
            run.append(ch)
    flush()
    return "".join(out)


def _mrich(text, field="text"):
    """Rich text inside math mode: prose through :func:`_mtext`, math as it is."""
    return "".join(_mtext(seg) if kind == "text" else "{%s}" % seg for kind, seg in segments(text, field))


def _mvalue(text):
    try:
        return latex_number(text)
    except ValueError:
        return _mrich(text, "values")


def _verdict_math(v):
    out = [r"\mathbf{%s}" % _mtext(v.verdict.upper()) + r"\ " + _mrich(f"({v.method})", "method")]
    if v.condition is not None:
        out.append(_mtext("holds when ") + sp.latex(v.condition))
    if v.counterexample:
        out.append(_mtext("fails at ") + ",\\ ".join(
            f"{sp.latex(k)} = {sp.latex(sp.sympify(x))}" for k, x in v.counterexample.items()))
    if v.values is not None:
        out.append(_mtext("lhs = ") + _mvalue(v.values[0]) + _mtext(", rhs = ") + _mvalue(v.values[1]))
    if v.corrected is not None:
        out.append(_mtext("corrected: ") + sp.latex(v.corrected))
    return out


def repr_latex(obj):
    r"""Math-mode LaTeX for a ``Claim``, ``Verdict``, ``Result`` or ``Report`` (Jupyter's
    ``_repr_latex_``, rendered by MathJax): ``$\displaystyle ...$`` with the text in
    ``\text{}``; a verdict or result as a one-column ``array``, a report as a table.

    >>> from ml2p_symbolic.engine.records import Verdict
    >>> repr_latex(Verdict("open", "none"))
    '$\\displaystyle \\begin{array}{l}\\mathbf{\\text{OPEN}}\\ \\text{(none)}\\end{array}$'
    """
    if isinstance(obj, Claim):
        rows = [r"\mathbf{%s}\ %s" % (_mtext(obj.id), _mrich(obj.title, "title")), sp.latex(obj.statement)]
    elif isinstance(obj, Verdict):
        rows = _verdict_math(obj)
    elif isinstance(obj, Result):
        rows = [r"\mathbf{%s}\ %s" % (_mtext(obj.claim.id), _mrich(obj.claim.title, "title")),
                sp.latex(obj.claim.statement)] + _verdict_math(obj.verdict)
    elif isinstance(obj, Report):
        body = r" \\ ".join(r"%s & %s & \mathbf{%s}" % (
            _mtext(r.claim.id), _mrich(r.claim.title, "title"), _mtext(r.verdict.verdict.upper())) for r in obj.results)
        return r"$\displaystyle \begin{array}{lll}%s & %s & %s \\ \hline %s\end{array}$" % (
            _mtext("id"), _mtext("statement"), _mtext("verdict"), body)
    else:
        raise TypeError(f"repr_latex expects a Claim, Verdict, Result or Report, got {type(obj).__name__}")
    return r"$\displaystyle \begin{array}{l}" + r" \\ ".join(rows) + r"\end{array}$"


def _register():
    """Attach the display methods to the record classes (Jupyter's display protocol)."""
    for cls in (Claim, Verdict, Result, Report):
        cls._repr_markdown_ = repr_markdown
        cls._repr_latex_ = repr_latex


_register()
