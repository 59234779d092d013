r"""A derivation: its statements, and the checks and numeric confirmations attached to them by id.

A derivation is declared once. Its statements come from one function (the content: a
transcription, or a document read from LaTeX); checks and confirmations are attached to a
statement's id with a decorator, in the module where the reasoning lives. There are no
parallel lists to keep in step: the ids are the statements' own.

* A statement with no attached check gets the engine's default check, :func:`default_check`
  (an identity ``lhs = rhs`` proved or refuted by
  :func:`~ml2p_symbolic.engine.identity.check_identity`); a derivation attaches a Python check
  only where the engine cannot say it.
* A confirmation is a second, independent line of evidence (e.g. a float64 evaluator). It is
  appended to the verdict's evidence and never changes the verdict.

Examples
========

A check proposes a certificate for the statement's goal; only the kernel makes it ``verified``:

>>> import sympy as sp
>>> from ml2p_symbolic.engine import kernel
>>> from ml2p_symbolic.engine.certificates import Goal, SignProof
>>> from ml2p_symbolic.engine.records import Claim
>>> x = sp.Symbol("x", real=True)
>>> demo = Derivation("demo", lambda: (
...     Claim("square", "(x+1)^2 expanded", "equation", sp.Eq((x + 1)**2, x**2 + 2*x + 1)),
...     Claim("positive", "x^2 + 1 > 0", "argument", sp.StrictGreaterThan(x**2 + 1, 0, evaluate=False))))
>>> @demo.check("positive")
... def _positive(claim, ctx):
...     st = claim.statement
...     return kernel.verify(Goal(st.lhs, st.rhs, ">"), SignProof(("assumptions",)))
>>> [(r.claim.id, r.verdict.verdict) for r in demo.run().results]
[('square', 'verified'), ('positive', 'verified')]
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Callable

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import ArgumentError, UnknownClaimError
from . import kernel
from .certificates import Goal, Rewriting
from .evidence import DPS, verdict_from_identity
from .identity import check_identity
from .records import Report, Result, Verdict
from .richtext import literal

__all__ = ["Derivation", "default_check", "expand_definitions"]


def expand_definitions(expr, definitions):
    r"""``expr`` with its named quantities replaced by their definitions, the chain rule kept.

    ``definitions`` maps a symbol (``z_i``) or an undefined function (``\mathcal{L}``, applied
    to any arguments, which only say what it is differentiated by) to its defining expression.
    Inside ``Derivative(f, x)``, a defined symbol ``x`` stays a variable of its own: ``f`` is
    expanded except for ``x``, differentiated, and only then is ``x`` replaced; everywhere else
    every definition is substituted (repeatedly, so definitions may use each other). This is the
    ``%! define`` rule of a LaTeX document, for derivations written in Python.

    >>> import sympy as sp
    >>> x, z = sp.symbols("x z", real=True)
    >>> L = sp.Function("L")
    >>> expand_definitions(sp.Derivative(L(z), z), {L: sp.log(z), z: 2 * x})
    1/(2*x)
    """
    functions = {k: v for k, v in definitions.items() if not isinstance(k, sp.Basic)}
    symbols = {k: v for k, v in definitions.items() if isinstance(k, sp.Basic)}

    def substitute(e, keep=()):
        e = e.replace(lambda a: isinstance(a, AppliedUndef) and a.func in functions,
                      lambda a: functions[a.func])
        subs = {k: v for k, v in symbols.items() if k not in keep}
        for _ in range(len(subs) + 1):
            new = e.xreplace(subs)
            if new == e:
                break
            e = new
        return e

    def differentiate(d):
        variables = set(d.variables)
        inner = substitute(d.expr, keep=variables)
        return sp.Derivative(inner, *d.variable_count).doit()

    expr = expr.replace(lambda a: isinstance(a, sp.Derivative), differentiate)
    return substitute(expr)


def default_check(claim, ctx=None, definitions=None):
    r"""The engine's own check of a statement: ``lhs = rhs`` (or a conjunction of such
    equations, each checked) by :func:`~ml2p_symbolic.engine.identity.check_identity`, after
    the derivation's named quantities are expanded (:func:`expand_definitions`: the chain rule
    through a defined quantity, as written) and ``doit()`` evaluates what is left of sums,
    derivatives and integrals.

    Any other kind of statement is ``open``: the engine does not guess what it means.
    """
    st = claim.statement
    equations = [st] if isinstance(st, sp.Equality) else (
        list(st.args) if isinstance(st, sp.And) and all(isinstance(a, sp.Equality) for a in st.args) else None)
    if equations is None:
        return Verdict("open", "no check",
                       detail=f"the engine has no default check for a statement of kind "
                       f"{type(st).__name__}; a derivation attaches one with @derivation.check")
    definitions = definitions or {}
    sides = [(expand_definitions(eq.lhs, definitions).doit(), expand_definitions(eq.rhs, definitions).doit())
             for eq in equations]
    verdicts = [check_identity(lhs, rhs) for lhs, rhs in sides]
    bad = next((v for v in verdicts if v.verdict != "verified"), None)
    evidence = tuple(f"${sp.latex(eq)}$: {v.verdict} ({literal(v.method)})" for eq, v in zip(equations, verdicts)) \
        if len(equations) > 1 else ()
    detail = ("Named quantities expanded by their definitions (the chain rule through each kept as "
              "written): " + ", ".join(f"${sp.latex(k) if isinstance(k, sp.Basic) else k.__name__}$"
                                         for k in definitions) + "." if definitions else "")
    if bad is None and len(equations) > 1:
        return _conjunction(sides, verdicts, detail, evidence)
    return verdict_from_identity(bad or verdicts[0], detail=detail, evidence=evidence)


def _conjunction(sides, verdicts, detail, evidence):
    """A conjunction of proved equations: one goal (the column of its equations) and one
    certificate (every equation's rewritings in turn) for the kernel, so that the ``verified``
    covers every equation, not only the first; ``open`` when the kernel does not accept it."""
    goal = Goal(sp.Matrix([lhs for lhs, _ in sides]), sp.Matrix([rhs for _, rhs in sides]))
    certs = [v.certificate for v in verdicts]
    if all(isinstance(c, Rewriting) and not c.bounds for c in certs):
        for order in (certs, certs[::-1]):
            steps = tuple(step for c in order for step in c.steps)
            try:
                proof = kernel.verify(goal, Rewriting(steps))
            except kernel.KernelRejection:
                continue
            return kernel.restate(proof, method=proof.method, detail=detail or proof.detail,
                                  evidence=tuple(evidence) + proof.evidence)
    return Verdict("open", "each equation proved on its own", detail=(detail + " Each equation of the conjunction "
                   "was proved separately, but the kernel did not accept one certificate for all of them.").strip(),
                   evidence=tuple(evidence))


class Derivation:
    """A named derivation: statements plus the checks and confirmations attached by id.

    Parameters
    ==========
    name : str
        A short name (``"seed"``); reports carry it.
    statements : callable
        ``statements(**options)`` returns the tuple of
        :class:`~ml2p_symbolic.engine.records.Claim` in the derivation's order.
    context : callable, optional
        ``context(**options)`` builds the object handed to every check and confirmation
        (the models a check works on); it validates the options and raises a ``ValueError``
        subclass for bad ones. Default: a namespace of the options.
    options : dict, optional
        The options' defaults (e.g. ``{"K": 2}``); a report's ``context`` records the values used.
    title : str, optional
        A title for rendering.
    definitions : callable, optional
        ``definitions(ctx)`` returns the named quantities of the derivation (``{symbol or
        undefined function: expression}``) that the default check expands
        (:func:`expand_definitions`), so an equation between them is checked without Python.
    """

    def __init__(self, name, statements: Callable, *, context: Callable | None = None,
                 options=None, title="", definitions: Callable | None = None):
        self.name = name
        self._definitions = definitions
        self.title = title or name
        self._statements = statements
        self._context = context or (lambda **kw: SimpleNamespace(**kw))
        self.options = dict(options or {})
        self._checks: dict[str, Callable] = {}
        self._confirms: dict[str, Callable] = {}

    # ------------------------------------------------------------------ registration
    def check(self, *ids):
        """Decorator: ``fn(claim, ctx) -> Verdict`` is the check of each statement in ``ids``."""
        return self._register(self._checks, ids, "check")

    def confirm(self, *ids):
        """Decorator: ``fn(claim, verdict, ctx) -> str or None`` adds one line of independent
        (e.g. numeric) evidence to each statement in ``ids``."""
        return self._register(self._confirms, ids, "confirmation")

    def _register(self, table, ids, what):
        if not ids:
            raise ArgumentError(f"a {what} must name at least one statement id")

        def decorate(fn):
            for cid in ids:
                if cid in table:
                    raise ArgumentError(f"statement {cid!r} of derivation {self.name!r} already has a {what} "
                                        f"({table[cid].__module__}.{table[cid].__name__})")
                table[cid] = fn
            return fn

        return decorate

    # ------------------------------------------------------------------ content
    def _options(self, options):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ArgumentError(f"derivation {self.name!r} takes the options "
                                f"{', '.join(self.options) or 'none'}; got {', '.join(unknown)}")
        return {**self.options, **options}

    def claims(self, **options):
        """The statements (``Claim`` tuple) for ``options``; every attached check or
        confirmation must name one of them."""
        claims = tuple(self._statements(**self._options(options)))
        ids = [c.id for c in claims]
        stray = [cid for cid in list(self._checks) + list(self._confirms) if cid not in ids]
        if stray:
            raise UnknownClaimError(stray, ids)
        return claims

    @property
    def ids(self):
        """The statement ids, in the derivation's order (with the default options)."""
        return tuple(c.id for c in self.claims())

    def ids_checked_in(self, module):
        """The ids whose check or confirmation is defined in ``module`` (a module or its name),
        in order: a part of a derivation (one file of checks) run on its own."""
        name = module if isinstance(module, str) else module.__name__
        return tuple(cid for cid in self.ids
                     if any(cid in table and table[cid].__module__ == name for table in (self._checks, self._confirms)))

    def select(self, ids=None, **options):
        """Validated ids: ``None`` means all; a single string is one id; duplicates are
        dropped (first occurrence kept); unknown ids raise ``UnknownClaimError``."""
        valid = [c.id for c in self.claims(**options)]
        if ids is None:
            return valid
        if isinstance(ids, str):
            ids = [ids]
        ids = list(dict.fromkeys(ids))
        if not ids:
            raise ArgumentError("no statement ids given; pass ids=None to check every statement")
        bad = [i for i in ids if not isinstance(i, str) or i not in valid]
        if bad:
            raise UnknownClaimError([str(b) for b in bad], valid)
        return ids

    # ------------------------------------------------------------------ checking
    def check_claim(self, claim_id, *, numeric=True, **options):
        """The :class:`~ml2p_symbolic.engine.records.Verdict` of one statement."""
        (cid,) = self.select([claim_id], **options)
        options = self._options(options)
        by_id = {c.id: c for c in self.claims(**options)}
        return self._verdict(by_id[cid], self._context(**options), numeric)

    def _verdict(self, claim, ctx, numeric):
        with mpmath.workdps(DPS + 10):  # every mpmath operation of a check at full precision
            if claim.id in self._checks:
                verdict = self._checks[claim.id](claim, ctx)
            else:
                verdict = default_check(claim, ctx, self._definitions(ctx) if self._definitions else None)
            if numeric and claim.id in self._confirms:
                line = self._confirms[claim.id](claim, verdict, ctx)
                if line:
                    verdict = replace(verdict, evidence=verdict.evidence + (line,))
        return verdict

    def run(self, ids=None, *, progress=None, numeric=True, **options):
        """Check the statements ``ids`` (default: all) and return a
        :class:`~ml2p_symbolic.engine.records.Report` whose ``context`` holds the options.

        ``progress(i, total, claim_id)`` is called before each check.
        """
        options = self._options(options)
        ctx = self._context(**options)  # validates the options before any work
        ids = self.select(ids, **options)
        by_id = {c.id: c for c in self.claims(**options)}
        results = []
        for n, cid in enumerate(ids, 1):
            if progress:
                progress(n, len(ids), cid)
            results.append(Result(by_id[cid], self._verdict(by_id[cid], ctx, numeric)))
        return Report(tuple(results), derivation=self.name, context=options)

