r"""The evidence of a step's verdict as Markdown, with the mathematics in LaTeX (``$...$``).

The hover over a relation sign shows the step's id and kind, the statement as written (a
``$$`` block), then the verdict as the notebook display renders it
(:func:`ml2p_symbolic.engine.render.notebook.repr_markdown`): the method, the condition, the
counterexample with both sides' values, the corrected statement, the detail and every line
of evidence (sizes, instances and certificates are named there by the engine).
"""

from __future__ import annotations

import re

__all__ = ["hover_markdown", "pending_markdown"]


def _escape(text):
    """Prose for Markdown: the characters Markdown or the math renderer would read, escaped."""
    return re.sub(r"([\\`*_\[\]<>|$#])", r"\\\1", str(text))


def _statement(step):
    """The step as written, a ``$$`` block (a display's ``\\label``/``\\tag`` left out)."""
    text = re.sub(r"\\(?:label|tag\*?)\s*\{[^{}]*\}", "", step.text).strip()
    return f"$$\n{text}\n$$"


def hover_markdown(step, verdict):
    r"""Markdown for the hover of ``step`` (a reader step) with ``verdict``.

    >>> import sympy as sp
    >>> from ml2p_symbolic.engine.records import Verdict
    >>> from ml2p_symbolic.engine.latex_input import Step
    >>> s = Step("L3", "d.md", 3, 5, "relation", "x^2 = x", "L3", relation="=")
    >>> print(hover_markdown(s, Verdict("refuted", "numeric counterexample", {sp.Symbol("x"): 2}, ("4", "2"))))
    **L3** (equation, line 3)
    <BLANKLINE>
    $$
    x^2 = x
    $$
    <BLANKLINE>
    **REFUTED** (numeric counterexample)
    <BLANKLINE>
    fails at $x = 2$
    <BLANKLINE>
    - lhs: $4$
    - rhs: $2$
    """
    from ..engine.render.notebook import repr_markdown

    kind = {"relation": "equation" if step.relation == "=" else "inequality",
            "python": "checked by Python", "skip": "skipped"}.get(step.kind, step.kind)
    head = f"**{_escape(step.id)}** ({kind}, line {step.line})"
    try:
        body = repr_markdown(verdict)
    except Exception as exc:  # a verdict the renderer cannot show: its fields as text
        body = f"**{verdict.verdict.upper()}** ({_escape(verdict.method)})\n\n{_escape(verdict.detail)}\n\n" \
               f"(the evidence could not be rendered: {_escape(exc)})"
    return "\n\n".join([head, _statement(step), body])


def pending_markdown(step):
    """Markdown for a step whose check has not finished."""
    return f"**{_escape(step.id)}**: being checked\n\n{_statement(step)}"
