r"""Certificates: plain records of a proof, for the kernel (:mod:`.kernel`) to re-check.

A search (:mod:`.identity`, the document checker, a derivation's own code) *proposes* a
certificate for a :class:`Goal`; only :func:`ml2p_symbolic.engine.kernel.verify` turns a goal
and a certificate it has re-checked into a ``verified`` verdict. These records depend on
nothing and decide nothing.

A goal is ``lhs relation rhs`` over SymPy symbols whose assumptions (``real``, ``positive``,
``integer`` ...) are their domain, restricted further by ``assumptions``. Size symbols (the
``n`` of :math:`\sum_{i=1}^{n}`) are positive integer symbols and index symbols integer
symbols: a certificate for the goal proves it for *every* value of each, not for instances.

The certificates:

:class:`Rewriting`
    exact rewritings, applied in turn to ``lhs - rhs``, end at the number 0; optionally after
    :class:`Bound` substitutions justified by ``assumptions`` (``x > c`` gives
    ``x = c + p`` with ``p > 0``).
:class:`SummandIdentity`
    ``lhs - rhs`` is a linear combination of sums; sums over the same range are merged (with
    their bound index renamed to one symbol), sums of a Kronecker delta in a free index
    evaluated where the index's range is the sum's, and every merged summand, and what is
    not a sum, rewrites to 0.
:class:`Induction`
    for a size symbol :math:`n`: :math:`D(n) = \mathrm{lhs} - \mathrm{rhs}` is 0 at
    :math:`n = 1` and :math:`D(n + 1) - D(n)` rewrites to 0 once the last term of every sum
    (and factor of every product) up to :math:`n + 1` is split off (exact under Karr's
    convention for every integer :math:`n`).
:class:`SignProof`
    for an inequality: ``d`` (``rhs - lhs`` for ``<=``) after sign-preserving rewritings has
    a sign SymPy's assumption system proves (``is_nonnegative``/``is_positive``).
:class:`Lemma`
    a named lemma of the kernel's table applied to the goal, with every side condition a
    goal of its own and a certificate for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Goal", "Bound", "Rewriting", "SummandIdentity", "Induction", "SignProof", "Lemma", "Sealed",
           "describe", "describe_rich", "SumOfSquares", "IntervalBoxes", "Tail"]


@dataclass(frozen=True)
class Goal:
    """``lhs relation rhs`` for every point of the domain.

    Attributes
    ----------
    lhs, rhs : sympy.Expr (or explicit matrices for ``"="``)
    relation : str
        ``"="``, ``"<="``, ``"<"``, ``">="`` or ``">"``.
    assumptions : tuple of sympy Boolean
        Extra restrictions of the domain (``x > 0``); the proof covers the points satisfying
        all of them.
    indices : tuple of (symbol, lo, hi)
        Free indices with their ranges: ``(i, 1, n)`` means the statement is claimed for every
        integer ``1 <= i <= n``.
    """

    lhs: Any
    rhs: Any
    relation: str = "="
    assumptions: tuple = ()
    indices: tuple = ()


@dataclass(frozen=True)
class Bound:
    """The substitution ``symbol = value + fresh`` (``side == "lo"``) or ``value - fresh``
    (``"hi"``) with ``fresh`` positive (``strict``) or nonnegative: justified by the goal's
    assumption ``symbol > value`` (``>=``; ``<``, ``<=`` for ``"hi"``)."""

    symbol: Any
    side: str
    value: Any
    strict: bool
    fresh: Any


@dataclass(frozen=True)
class Rewriting:
    """Exact rewritings (names of :data:`ml2p_symbolic.engine.kernel.rewriting.REWRITINGS`)
    applied in turn to ``lhs - rhs`` after the ``bounds`` substitutions; the result is 0."""

    steps: tuple
    bounds: tuple = ()


@dataclass(frozen=True)
class SummandIdentity:
    """Sums merged over equal ranges; each merged summand and the rest rewrite to 0 by
    ``steps`` (names of rewritings)."""

    steps: tuple


@dataclass(frozen=True)
class Induction:
    """Induction on the size symbol ``variable`` from ``base``: ``base_steps`` reduce
    ``D(base)`` to 0, ``step_steps`` reduce ``D(n + 1) - D(n)`` (last terms split off) to 0."""

    variable: Any
    base_steps: tuple
    step_steps: tuple
    base: int = 1


@dataclass(frozen=True)
class SignProof:
    """``steps`` (names of sign-preserving rewritings) then SymPy's assumptions prove the
    sign of the difference."""

    steps: tuple


@dataclass(frozen=True)
class Lemma:
    """A lemma of the kernel's table (``name``) at ``instance`` (its parameters), with
    ``side_conditions``: pairs (Goal, certificate), each re-checked."""

    name: str
    instance: Any = None
    side_conditions: tuple = field(default_factory=tuple)


@dataclass(frozen=True)
class Sealed:
    """A certificate the kernel re-checked in an earlier run, read back from a cache under
    this user's seal (:mod:`ml2p_symbolic.engine.kernel.seal`); ``description`` says which."""

    description: str


def describe(certificate) -> str:
    """One line saying what a certificate is (for the evidence)."""
    if isinstance(certificate, Rewriting):
        steps = " then ".join(certificate.steps)
        pre = f"{len(certificate.bounds)} bound substitution(s), then " if certificate.bounds else ""
        return f"exact rewriting: {pre}{steps}"
    if isinstance(certificate, SummandIdentity):
        return f"summand-by-summand identity over merged sums ({' then '.join(certificate.steps)})"
    if isinstance(certificate, Induction):
        return (f"induction on {certificate.variable} from {certificate.base}: base by "
                f"{' then '.join(certificate.base_steps)}, step by {' then '.join(certificate.step_steps)}")
    if isinstance(certificate, SignProof):
        return f"sign of the difference from the assumptions ({' then '.join(certificate.steps)})"
    line = describe_inequality(certificate)
    if line is None and isinstance(certificate, Lemma):
        return f"lemma {certificate.name} with {len(certificate.side_conditions)} side condition(s) proved"
    if isinstance(certificate, Sealed):
        return f"{certificate.description} (sealed in the cache)"
    return line if line is not None else type(certificate).__name__


# --------------------------------------------------------------------------- inequalities
@dataclass(frozen=True)
class SumOfSquares:
    r"""For an inequality with difference :math:`d` (``rhs - lhs`` for ``<=``):
    :math:`d = m^{\mathsf T} Q m + \sum_j c_j t_j` identically (SymPy ``expand`` of the
    difference is 0), with ``monomials`` :math:`m` real expressions, ``gram`` :math:`Q` a
    symmetric matrix of rationals that is positive semidefinite (an exact rational
    :math:`LDL^{\mathsf T}` with nonnegative pivots), and ``nonnegative`` pairs
    :math:`(c_j, t_j)`, :math:`c_j \ge 0` rational and :math:`t_j \ge 0` by SymPy's
    assumptions. ``steps`` (names of the kernel's exact rewritings) are applied to :math:`d`
    first. Strict goals need :math:`Q` positive definite with the constant 1 among the
    monomials, or a term :math:`c_j t_j` with :math:`c_j > 0`, :math:`t_j > 0`."""

    monomials: tuple
    gram: tuple
    nonnegative: tuple = ()
    steps: tuple = ()


@dataclass(frozen=True)
class Tail:
    r"""The part of the domain of the variable beyond the boxes, on the ``side`` ``"below"``
    or ``"above"``: the difference :math:`d` is monotone there (``monotone`` is
    ``"increasing"`` or ``"decreasing"``), by ``derivative``, a certificate for the sign of
    :math:`d'(\varphi(t))` with :math:`t \ge 0` and :math:`\varphi` the kernel's map of
    :math:`[0, \infty)` onto the tail; then :math:`d` on the tail is at least its value at
    the covered end (moving away from it :math:`d` grows) or its limit at the domain's end
    (``limit=True``; SymPy's ``limit``)."""

    side: str
    monotone: str
    derivative: Any
    limit: bool = False


@dataclass(frozen=True)
class IntervalBoxes:
    r"""One or two real ``variables``: the compact box ``box`` (a pair ``(lo, hi)`` of
    rationals per variable) split by ``tree`` (``None``: a leaf; ``(axis, mid, left, right)``:
    the box cut at ``mid`` along ``axis``), and on every leaf a rigorous enclosure of the
    difference (python-flint arb balls) has the goal's sign. ``tails`` (one variable only)
    cover the domain beyond the box; the domain is the variables' SymPy assumptions and
    numeric bounds among the goal's assumptions."""

    variables: tuple
    box: tuple
    tree: Any = None
    tails: tuple = ()


def _leaves(tree):
    return 1 if tree is None else _leaves(tree[2]) + _leaves(tree[3])


def _short(expr, limit=70):
    text = str(expr)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _describe_lemma(lemma, depth):
    inst = lemma.instance if isinstance(lemma.instance, dict) else {}
    params = ", ".join(f"{k} = {_short(v, 40)}" for k, v in inst.items() if k != "f" and not (k == "weight" and v == 1))
    if "f" in inst:
        params = f"f = {_short(inst['f'], 40)}" + (", " + params if params else "")
    line = f"lemma {lemma.name}" + (f" at {params}" if params else "")
    sides = []
    for goal, cert in lemma.side_conditions:
        if depth >= 3:
            sides.append("...")
            break
        how = _describe_lemma(cert, depth + 1) if isinstance(cert, Lemma) else describe(cert)
        sides.append(f"{_short(goal.lhs)} {goal.relation} {_short(goal.rhs)} by {how}")
    if sides:
        line += " [side conditions: " + "; ".join(sides) + "]"
    return line


def describe_inequality(certificate):
    """One line for the inequality certificates (None for any other): the SOS's size, the
    boxes' number and smallest width, the lemma with its parameters and side conditions."""
    if isinstance(certificate, Lemma):
        if certificate.name == "min(d, 0) = 0":
            return None
        return _describe_lemma(certificate, 0)
    if isinstance(certificate, SumOfSquares):
        extra = f" + {len(certificate.nonnegative)} nonnegative term(s)" if certificate.nonnegative else ""
        n = len(certificate.monomials)
        return f"sum of squares: rational {n}x{n} Gram matrix, PSD by exact LDL^T{extra}"
    if isinstance(certificate, IntervalBoxes):
        widths = []

        def walk(box, tree):
            if tree is None:
                widths.append(min(hi - lo for lo, hi in box))
                return
            axis, mid = tree[0], tree[1]
            lo, hi = box[axis]
            left = tuple((lo, mid) if k == axis else b for k, b in enumerate(box))
            right = tuple((mid, hi) if k == axis else b for k, b in enumerate(box))
            walk(left, tree[2])
            walk(right, tree[3])

        walk(tuple(certificate.box), certificate.tree)
        names = ", ".join(map(str, certificate.variables))
        box = " x ".join(f"[{lo}, {hi}]" for lo, hi in certificate.box)
        tails = "".join(f"; {t.side} the box {t.monotone} ({'limit' if t.limit else 'end value'})"
                        for t in certificate.tails)
        return (f"interval boxes in {names}: {box} in {_leaves(certificate.tree)} box(es), smallest width "
                f"{min(widths)} (arb enclosures){tails}")
    return None


#: the kernel's lemmas in LaTeX, for rich text
LEMMA_LATEX = {
    "log x <= x - 1": r"$\log x \le x - 1$",
    "sigma(x)(1 - sigma(x)) <= 1/4": r"$\sigma(x)(1 - \sigma(x)) \le \frac{1}{4}$",
    "log(1 + e^x) >= x": r"$\log(1 + e^{x}) \ge x$",
    "log(1 + e^x) >= 0": r"$\log(1 + e^{x}) \ge 0$",
    "AM-GM": "AM-GM",
    "Cauchy-Schwarz": "Cauchy-Schwarz",
    "Jensen": "Jensen",
    "Gibbs": "Gibbs' inequality",
    "termwise": "termwise comparison of the summands",
    "convex above its tangent": "a convex function lies above its tangent",
}


def describe_rich(certificate) -> str:
    """A short rich-text line (prose with ``$...$`` math) saying what ``certificate`` is, for
    reports: the lemma in LaTeX with its parameters, how many side conditions were proved, the
    size of a Gram matrix; no SymPy text."""
    import sympy as sp

    if isinstance(certificate, Lemma):
        inst = certificate.instance if isinstance(certificate.instance, dict) else {}
        params = [f"${sp.latex(sp.Symbol(str(k)))} = {sp.latex(v)}$" for k, v in inst.items()
                  if k in ("x", "a", "b") and isinstance(v, sp.Basic) and len(sp.latex(v)) <= 40]
        line = "lemma " + LEMMA_LATEX.get(certificate.name, certificate.name)
        if params:
            line += " at " + ", ".join(params)
        n = len(certificate.side_conditions)
        if n:
            inner = {describe_rich(c) for _, c in certificate.side_conditions}
            line += f", {n} side condition(s) proved (" + "; ".join(sorted(inner)) + ")"
        return line
    if isinstance(certificate, SumOfSquares):
        n = len(certificate.monomials)
        return rf"a sum of squares (a rational ${n}\times{n}$ Gram matrix, positive semidefinite by an exact $LDL^\top$)"
    if isinstance(certificate, IntervalBoxes):
        return f"interval boxes in {len(certificate.variables)} variable(s) (arb enclosures)"
    if isinstance(certificate, Rewriting):
        return "exact rewriting (" + ", then ".join(certificate.steps) + ")"
    if isinstance(certificate, SignProof):
        return "the sign of the difference from the symbols' assumptions"
    return type(certificate).__name__
