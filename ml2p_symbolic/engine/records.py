"""Claims, verdicts and reports: frozen records with no logic of their own.

A :class:`Claim` is one statement of a derivation (the seed, or a researcher's document),
transcribed as written. A :class:`Verdict` is what the engine concluded about a statement,
with the evidence a reader can rerun. A :class:`Report` pairs claims with their verdicts in
the derivation's order, and says what they were checked with (``context``, e.g. ``{"K": 2}``).

These records import nothing and render nothing: the terminal table and JSON live in
:mod:`ml2p_symbolic.engine.report`, LaTeX and notebook display in
:mod:`ml2p_symbolic.engine.render` (which registers ``_repr_latex_``/``_repr_markdown_``).

The five verdicts mean:

``verified``
    proved for every value the claim's domain allows, every index value and every size; only
    the trusted kernel (:mod:`ml2p_symbolic.engine.kernel`) makes one, after re-checking its
    ``certificate``, and its ``sizes`` is ``"all"``;
``tested``
    holds at every size and instance that was tried (``sizes`` says which), not proved for
    every size: never reported as verified;
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

#: the five verdicts, from strongest to undecided
VERDICTS = ("verified", "tested", "refuted", "conditional", "open")


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
    sizes : "all" or mapping
        ``"all"`` when the verdict covers every size; otherwise the sizes it was decided at,
        ``{"n": (1, 2, 3)}``. A ``verified`` verdict always has ``"all"``.
    certificate : object or None
        For ``verified``: the certificate the kernel re-checked
        (:mod:`ml2p_symbolic.engine.certificates`).
    """

    verdict: str
    method: str
    counterexample: Mapping[Any, Any] | None = None
    values: tuple[str, str] | None = None
    condition: Any = None
    corrected: Any = None
    detail: str = ""
    evidence: tuple[str, ...] = ()
    sizes: Any = "all"
    certificate: Any = None

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.verdict == "verified" and (self.sizes != "all" or self.certificate is None):
            raise ValueError("a verified verdict covers every size and carries the kernel's certificate")


@dataclass(frozen=True)
class Claim:
    """One statement of a derivation, as written.

    Attributes
    ----------
    id : str
        Stable id, e.g. ``"eq4.1"`` or ``"claim.global-min"``.
    title : str
        A short plain-language statement.
    kind : str
        ``"definition"``, ``"equation"``, ``"argument"``, ``"question"`` or ``"todo"``.
    seed_text : str
        The draft's words for the statement (prose claims), as written.
    statement : sympy.Basic
        The statement as a SymPy object, transcribed literally (typos included); its LaTeX
        is ``sympy.latex(statement)``.
    source : str or None
        The file the statement was read from (documents), else None.
    line : int or None
        Its 1-based line in ``source``.
    """

    id: str
    title: str
    kind: str
    statement: Any
    seed_text: str = ""
    source: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Result:
    """A claim together with its verdict."""

    claim: Claim
    verdict: Verdict


@dataclass(frozen=True)
class Report:
    """Results for a list of claims, in the derivation's order.

    Attributes
    ----------
    results : tuple of Result
    derivation : str
        The name of the derivation checked (``"seed"``, or a document's path).
    context : mapping
        What the claims were checked with, e.g. ``{"K": 2}`` for the seed's number of traits;
        a renderer reads it from here, so a report is rendered as it was checked.
    """

    results: tuple[Result, ...] = field(default_factory=tuple)
    derivation: str = ""
    context: Mapping[str, Any] = field(default_factory=dict)
