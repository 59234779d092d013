r"""The author's own LaTeX document, annotated with the verdict of every checked step.

:func:`annotate_document` returns the document's source with

* each checked relation sign replaced by ``\mlpstep{n}{verdict}{sign}``: the sign with a small
  coloured mark above it (a check mark for verified, a cross for refuted, ``c`` for
  conditional, ``?`` for open) and the step's number ``n`` in the appendix;
* a margin note before each display, listing its steps' ids and verdicts;
* a small macro preamble inserted before ``\begin{document}`` (amsmath, amssymb, xcolor);
* an appendix before ``\end{document}``: every step with its verdict, method, the proved
  condition and the counterexample with both sides' values. All mathematics in the appendix
  is ``sympy.latex`` of the verdict's SymPy objects.

The PDF is compiled by :func:`~ml2p_symbolic.engine.render.pdf.compile_pdf` with the
document's own directory on ``TEXINPUTS`` (for its ``\input`` files and figures).
"""

from __future__ import annotations

import sympy as sp

from ...errors import ML2PError
from .latex import escape_text
from ..document.report import verdict_label

__all__ = ["annotate_document", "RENDER_MACROS"]

#: the macros the annotated document needs (inserted before \begin{document})
RENDER_MACROS = r"""
% --- ml2p-symbolic: verdict marks (inserted by ml2p-proof render) ---
\usepackage{amsmath}
\usepackage{amssymb}
\usepackage{xcolor}
\definecolor{mlpverified}{rgb}{0.0,0.45,0.15}
\definecolor{mlprefuted}{rgb}{0.75,0.0,0.0}
\definecolor{mlpconditional}{rgb}{0.8,0.45,0.0}
\definecolor{mlpopen}{rgb}{0.4,0.4,0.4}
\definecolor{mlptested}{rgb}{0.15,0.35,0.65}
\providecommand{\mlpsymbol}[1]{%
  \ifx#1v\checkmark\else\ifx#1r\times\else\ifx#1c\mathrm{c}\else\ifx#1t\mathrm{t}\else ?\fi\fi\fi\fi}
\providecommand{\mlpstep}[4]{\overset{\textcolor{mlp#2}{\scriptscriptstyle \mlpsymbol{#3}#1}}{#4}}
\providecommand{\mlpnote}[1]{\marginpar{\raggedright\footnotesize #1}}
% --- end of ml2p-symbolic macros ---
"""

_LETTER = {"verified": "v", "tested": "t", "refuted": "r", "conditional": "c", "open": "o"}


def annotate_document(document, report):
    """The annotated LaTeX source of ``document`` (a ``.tex`` :class:`~.latex_input.Document`)
    with the verdicts of ``report`` (its :func:`~ml2p_symbolic.engine.document.check.check_document` report)."""
    if document.kind != "tex":
        raise ML2PError(f"render needs a LaTeX document (.tex); {document.path} is Markdown or text")
    text = document.text
    begin = text.find("\\begin{document}")
    end = text.rfind("\\end{document}")
    if "\\documentclass" not in text or begin < 0 or end < 0:
        raise ML2PError(f"{document.path}: render needs a complete LaTeX document "
                        "(\\documentclass, \\begin{document} ... \\end{document})")
    verdicts = {r.claim.id: r for r in report.results}
    numbers = {r.claim.id: n for n, r in enumerate(report.results, start=1)}
    edits = []  # (start, end, replacement), applied from the end of the text
    by_display = {}
    for step in document.steps:
        result = verdicts.get(step.id)
        if result is None:
            continue
        by_display.setdefault(step.display, []).append(step)
        if step.kind == "relation":
            v = result.verdict.verdict
            sign = text[step.offset:step.end]
            edits.append((step.offset, step.end,
                          "\\mlpstep{%d}{%s}{%s}{%s}" % (numbers[step.id], v, _LETTER[v], sign)))
    for disp in document.displays:
        steps = by_display.get(disp.id)
        if not steps:
            continue
        note = "; ".join(f"{escape_text(s.id)}: \\textcolor{{mlp{verdicts[s.id].verdict.verdict}}}"
                         f"{{{escape_text(verdict_label(verdicts[s.id].verdict))}}}" for s in steps)
        edits.append((disp.start, disp.start, "\\mlpnote{%s}" % note))
    edits.append((end, end, _appendix(report, numbers)))
    edits.append((begin, begin, RENDER_MACROS))
    out = text
    for start, stop, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + replacement + out[stop:]
    return out


def _math(obj):
    return "$" + sp.latex(obj) + "$"


def _point(cx):
    items = [f"{sp.latex(k)} = {sp.latex(sp.sympify(v))}" for k, v in cx.items()]
    return "$" + ",\\ ".join(items) + "$" if items else "(no free variables)"


def _appendix(report, numbers):
    lines = ["\\clearpage", "\\section*{Machine check of the displayed steps (ml2p-symbolic)}",
             "Each relation sign carries a mark: "
             "\\textcolor{mlpverified}{$\\checkmark$} verified (proved for every value, index and size), "
             "\\textcolor{mlptested}{t} tested (holds at the sizes tried, not proved for every size), "
             "\\textcolor{mlprefuted}{$\\times$} refuted (counterexample below), "
             "\\textcolor{mlpconditional}{c} conditional (proved under the condition below), "
             "\\textcolor{mlpopen}{?} open; the number is the step's entry here.",
             "\\begin{description}"]
    for r in report.results:
        c, v = r.claim, r.verdict
        head = f"{numbers[c.id]}. {escape_text(c.id)} (line {c.line})"
        body = [f"\\textcolor{{mlp{v.verdict}}}{{\\textbf{{{escape_text(verdict_label(v))}}}}} "
                f"--- {escape_text(v.method)}."]
        if v.condition is not None:
            body.append(f"Holds under {_math(v.condition)}.")
        if v.counterexample is not None and v.verdict in ("refuted", "conditional"):
            body.append(f"Counterexample: {_point(v.counterexample)}.")
        if v.values:
            lhs, rhs = (escape_text(x) for x in _rounded_pair(v.values))   # all digits stay in the JSON
            body.append(f"There the left side is \\texttt{{\\small {lhs}}} and the right side "
                        f"\\texttt{{\\small {rhs}}}.")
        if v.verdict in ("verified", "tested", "open") and v.detail:
            body.append(escape_text(v.detail[:400]))
        lines.append(f"\\item[{head}] " + " ".join(body))
    lines.append("\\end{description}")
    return "\n".join(lines) + "\n"


def _rounded_pair(values):
    """Both sides' values with the fewest significant digits (from 12) that still tell them apart,
    so that they fit the line and the difference stays visible."""
    lhs, rhs = (str(x) for x in values)
    for digits in (12, 16, 20, 30, 40):
        a, b = _rounded(lhs, digits), _rounded(rhs, digits)
        if a != b:
            return a, b
    return lhs, rhs


def _rounded(value, digits=20):
    """A decimal value cut to ``digits`` significant digits so that it fits the line (``1.25``,
    ``0.33333333333333333333``); anything else unchanged."""
    import sympy as sp

    try:
        x = sp.Float(str(value), 60)
    except (TypeError, ValueError):
        return str(value)
    if not x.is_finite:
        return str(value)
    text = sp.sstr(x.evalf(digits))
    return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text
