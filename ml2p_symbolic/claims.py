"""Claims, verdicts and reports: frozen records with no logic of their own.

A :class:`Claim` is one statement of the seed, transcribed as written. A
:class:`Verdict` is what the checker concluded about a statement, with the evidence a
reader can rerun. A :class:`Report` pairs claims with their verdicts in the seed's order.

The four verdicts mean:

``verified``
    proved symbolically for every value the claim's domain allows;
``refuted``
    a concrete counterexample, re-evaluated with mpmath at >= 30 digits, both sides shown;
``conditional``
    proved to hold exactly under ``condition``, and refuted outside it by ``counterexample``;
``open``
    undecided. Never reported as verified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["VERDICTS", "Claim", "Verdict", "Result", "Report"]

VERDICTS = ("verified", "refuted", "conditional", "open")


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one statement.

    Attributes
    ----------
    verdict : str
        One of :data:`VERDICTS`.
    method : str
        How the verdict was reached (e.g. ``"simplify"``, ``"mpmath quadrature (40 digits)"``).
    counterexample : dict or None
        Map from SymPy symbol to the exact value (a SymPy number) at which the statement fails.
    values : tuple or None
        ``(lhs, rhs)`` evaluated at the counterexample with mpmath, as decimal strings.
    condition : sympy.Basic or None
        For ``conditional``: the proven condition under which the statement holds exactly.
    corrected : sympy.Basic or None
        A corrected statement the toolkit proved, where it has one.
    detail : str
        Plain-language explanation of the evidence.
    evidence : tuple of str
        Further lines of evidence (symbolic steps, numeric confirmations).
    """

    verdict: str
    method: str
    counterexample: Mapping[Any, Any] | None = None
    values: tuple[str, str] | None = None
    condition: Any = None
    corrected: Any = None
    detail: str = ""
    evidence: tuple[str, ...] = ()

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    def _repr_latex_(self):
        from .latex import repr_latex

        return repr_latex(self)

    def _repr_markdown_(self):
        from .latex import repr_markdown

        return repr_markdown(self)


@dataclass(frozen=True)
class Claim:
    """One statement of the seed, as written.

    Attributes
    ----------
    id : str
        Stable id, e.g. ``"eq4.1"`` or ``"claim.global-min"``.
    title : str
        A short plain-language statement.
    kind : str
        ``"definition"``, ``"equation"``, ``"argument"``, ``"question"`` or ``"todo"``.
    seed_text : str
        The seed's words for the statement (prose claims), as written.
    statement : sympy.Basic
        The statement as a SymPy object built from the model's symbols, transcribed
        literally (typos included); its LaTeX is ``sympy.latex(statement)``.
    source : str or None
        The file the statement was read from (a checked document), or None.
    line : int or None
        Its 1-based line in ``source``, or None.
    """

    id: str
    title: str
    kind: str
    statement: Any
    seed_text: str = ""
    source: str | None = None
    line: int | None = None

    def _repr_latex_(self):
        from .latex import repr_latex

        return repr_latex(self)

    def _repr_markdown_(self):
        from .latex import repr_markdown

        return repr_markdown(self)


@dataclass(frozen=True)
class Result:
    """A claim together with its verdict."""

    claim: Claim
    verdict: Verdict

    def _repr_latex_(self):
        from .latex import repr_latex

        return repr_latex(self)

    def _repr_markdown_(self):
        from .latex import repr_markdown

        return repr_markdown(self)


@dataclass(frozen=True)
class Report:
    """Results for a list of claims, in the seed's order."""

    results: tuple[Result, ...] = field(default_factory=tuple)

    def _repr_latex_(self):
        from .latex import repr_latex

        return repr_latex(self)

    def _repr_markdown_(self):
        from .latex import repr_markdown

        return repr_markdown(self)
