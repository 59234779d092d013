r"""Verdicts as LSP diagnostics: pure functions from a step and its verdict to a ``Diagnostic``.

=================  ===========  ==========================================================
verdict            severity     message
=================  ===========  ==========================================================
``refuted``        Error        the counterexample and both sides' values there
``verified``       Hint         the method (or no diagnostic: ``show_verified=False``)
anything else      Warning      ``open``: why; ``conditional``: the condition under which
                                it holds; a verdict that holds only at the sizes or instances
                                tried: that scope
a reading error    Error        the reader's message, at its ``FILE:LINE:COL``
=================  ===========  ==========================================================

Each diagnostic sits on the step's relation sign (:func:`~.spans.relation_span`), has
``source`` ``"ml2p"``, ``code`` the verdict and ``data`` ``{"id": step id}``. Messages are
plain text (editors do not render Markdown in diagnostics): the rich text of the engine goes
through :func:`~ml2p_symbolic.engine.richtext.plain`, formulas through ``sympy.latex`` and
then ``plain``.
"""

from __future__ import annotations

import sympy as sp
from lsprotocol import types

from ..engine.richtext import plain
from .spans import relation_span

__all__ = ["SOURCE", "severity_of", "step_diagnostic", "reading_error_diagnostic", "failure_diagnostic",
           "verdict_message", "lsp_range"]

#: the ``source`` of every diagnostic this server publishes
SOURCE = "ml2p"

_MAX_DETAIL = 300


def severity_of(verdict, *, show_verified=True):
    """The :class:`lsprotocol.types.DiagnosticSeverity` of a verdict name, or ``None`` for no
    diagnostic (a verified step when ``show_verified`` is false).

    >>> severity_of("refuted").name, severity_of("verified").name, severity_of("tested").name
    ('Error', 'Hint', 'Warning')
    >>> severity_of("verified", show_verified=False) is None
    True
    """
    if verdict == "refuted":
        return types.DiagnosticSeverity.Error
    if verdict == "verified":
        return types.DiagnosticSeverity.Hint if show_verified else None
    return types.DiagnosticSeverity.Warning


def _plain(text, field="text"):
    try:
        return " ".join(plain(text, field).split())
    except Exception:  # rich text the renderer refuses: shown as written
        return " ".join(str(text).split())


def _formula(obj):
    """A SymPy object as one readable line."""
    try:
        return _plain(f"${sp.latex(obj)}$")
    except Exception:
        return str(obj)


def _short(text, width=_MAX_DETAIL):
    return text if len(text) <= width else text[: width - 3] + "..."


def _value(text):
    """A side's value: a long decimal shortened to 12 significant digits (the hover has them all)."""
    try:
        return format(float(text), ".12g")
    except (TypeError, ValueError):
        return _plain(text, "values")


def _counterexample(v):
    parts = []
    if v.counterexample:
        parts.append("fails at " + ", ".join(f"{_formula(k)} = {_formula(sp.sympify(x))}"
                                             for k, x in v.counterexample.items()))
    if v.values is not None:
        parts.append(f"lhs = {_value(v.values[0])}, rhs = {_value(v.values[1])}")
    return "; ".join(parts)


def verdict_message(step_id, v):
    """The one-paragraph plain-text message of verdict ``v`` of the step ``step_id``.

    >>> from ml2p_symbolic.engine.records import Verdict
    >>> x = sp.Symbol("x")
    >>> verdict_message("L3", Verdict("refuted", "numeric counterexample", {x: 2}, ("4", "5")))
    'L3: refuted (numeric counterexample): fails at x = 2; lhs = 4, rhs = 5'
    """
    head = f"{step_id}: {v.verdict} ({_plain(v.method, 'method')})"
    parts = []
    if v.verdict == "refuted":
        parts.append(_counterexample(v))
    elif v.verdict != "verified":
        if v.condition is not None:
            parts.append(f"holds exactly when {_formula(v.condition)}")
        if v.counterexample:
            parts.append(_counterexample(v))
    if v.verdict != "verified" and v.detail:
        parts.append(_short(_plain(v.detail, "detail")))
    if v.corrected is not None:
        parts.append("a corrected statement is available (code action)")
    parts = [p for p in parts if p]
    return head + (": " + "; ".join(parts) if parts else "")


def lsp_range(index, start, end):
    """The :class:`lsprotocol.types.Range` of the offsets ``[start, end)`` through ``index``
    (a :class:`~.spans.LineIndex`)."""
    (l0, c0), (l1, c1) = index.position(start), index.position(end)
    return types.Range(types.Position(l0, c0), types.Position(l1, c1))


def step_diagnostic(step, verdict, index, *, show_verified=True):
    """The diagnostic of ``step`` (a reader :class:`~ml2p_symbolic.engine.latex_input.Step`)
    with ``verdict``, on its relation sign, or ``None`` when none is shown. ``index`` is the
    :class:`~.spans.LineIndex` of the text the step was read from."""
    severity = severity_of(verdict.verdict, show_verified=show_verified)
    if severity is None:
        return None
    start, end = relation_span(step, index.text)
    return types.Diagnostic(range=lsp_range(index, start, end), message=verdict_message(step.id, verdict),
                            severity=severity, source=SOURCE, code=verdict.verdict, data={"id": step.id})


def reading_error_diagnostic(error, index, document_path):
    """The diagnostic of a :class:`~ml2p_symbolic.errors.LatexInputError`: at its line and
    column when it is in the document itself, else (an error in the preamble) at the
    document's first character with the preamble's ``FILE:LINE:COL`` in the message."""
    if _same_file(error.file, document_path):
        line = max(0, int(error.line) - 1)
        start = index.offset(line, 0) + max(0, int(error.col) - 1)
        start = min(start, len(index.text))
        end = _token_end(index.text, start)
        return types.Diagnostic(range=lsp_range(index, start, end), message=f"reading error: {error.message}",
                                severity=types.DiagnosticSeverity.Error, source=SOURCE, code="reading-error")
    return types.Diagnostic(range=lsp_range(index, 0, 0), message=f"reading error in the preamble: {error}",
                            severity=types.DiagnosticSeverity.Error, source=SOURCE, code="reading-error")


def failure_diagnostic(message, index):
    """An Error at the document's first character (an unreadable preamble, a checker failure)."""
    return types.Diagnostic(range=lsp_range(index, 0, 0), message=message,
                            severity=types.DiagnosticSeverity.Error, source=SOURCE, code="error")


def _same_file(a, b):
    import os

    try:
        return os.path.normcase(os.path.abspath(str(a))) == os.path.normcase(os.path.abspath(str(b)))
    except Exception:
        return False


def _token_end(text, start):
    """The end of the word or command at ``start`` (at least one character, within its line)."""
    end = start
    if end < len(text) and text[end] == "\\":
        end += 1
    while end < len(text) and (text[end].isalnum() or text[end] in "*"):
        end += 1
    if end == start and end < len(text) and text[end] != "\n":
        end += 1
    return end
