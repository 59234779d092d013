r"""The kernel's exact transformations of finite sums and products with symbolic bounds.

* :func:`merge_sums`: linearity. A linear combination of single sums
  :math:`\sum_t c_t \sum_{k=lo}^{hi} f_t(k)` (each :math:`c_t` free of :math:`k`) becomes,
  for every range :math:`(lo, hi)`, one sum :math:`\sum_{k=lo}^{hi} \sum_t c_t f_t(k)` over a
  canonical bound index. Exact for all integer bounds (Karr's convention, as SymPy's).
* :func:`evaluate_kronecker`: :math:`\sum_{k=lo}^{hi} \delta_{ik}\, g(k) = g(i)` when the free
  index :math:`i` is declared to range over exactly :math:`lo..hi`.
* :func:`backward_range`: every sum and product of a goal must run over
  :math:`lo..hi` with :math:`hi - lo + 1 \ge 0` proved for every size (an empty range is 0 or
  1 under every convention; a range running further backwards is not, under SymPy's (Karr's)
  :math:`\sum_{k=a}^{b} = -\sum_{k=b+1}^{a-1}`), an enclosing bound index ranging over its own
  range.
* :func:`peel_last`: :math:`\sum_{k=lo}^{n+1} f(k) = \sum_{k=lo}^{n} f(k) + f(n+1)` and
  :math:`\prod_{k=lo}^{n+1} f(k) = f(n+1)\prod_{k=lo}^{n} f(k)`, exact for every integer
  :math:`n` under Karr's convention.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["merge_sums", "evaluate_kronecker", "peel_last", "summands", "backward_range", "normalise",
           "sums_as_atoms"]

_K = sp.Symbol("k_", integer=True)


def _canonical(body, var):
    """``body`` with the bound index ``var`` renamed to the kernel's canonical index."""
    if var == _K:
        return body
    return body.xreplace({var: _K})


def summands(expr):
    """(rest, {(lo, hi): summand}) of ``expr`` = rest + sum over ranges of
    ``Sum(summand, (k_, lo, hi))``, by linearity (see :func:`merge_sums`)."""
    rest = []
    groups = {}
    terms = sp.Add.make_args(sp.expand(expr, deep=False, mul=True, multinomial=False, power_exp=False,
                                       power_base=False, log=False))
    for term in terms:
        factors = sp.Mul.make_args(term)
        sums = [f for f in factors if isinstance(f, sp.Sum) and len(f.limits) == 1]
        if len(sums) != 1:
            rest.append(term)
            continue
        s = sums[0]
        var, lo, hi = s.limits[0]
        coeff = sp.Mul(*[f for f in factors if f is not s])
        if coeff.has(var) or coeff.has(_K) or lo.has(_K) or hi.has(_K):
            rest.append(term)
            continue
        body = _canonical(s.function, var)
        groups.setdefault((lo, hi), []).append(coeff * body)
    return sp.Add(*rest), {r: sp.Add(*b) for r, b in groups.items()}


def merge_sums(expr):
    """``expr`` with its single sums over equal ranges merged into one (exact)."""
    rest, groups = summands(expr)
    return rest + sp.Add(*[sp.Sum(b, (_K, lo, hi)) for (lo, hi), b in groups.items()])


def _nonempty(lo, hi):
    return (hi - lo).is_nonnegative is True


def evaluate_kronecker(expr, indices):
    r"""Replace :math:`\sum_{k=lo}^{hi} \delta_{ik} g(k)` by :math:`g(i)` when ``i`` is known to
    range over exactly :math:`lo..hi` (structurally equal bounds) and the range is not empty
    (``hi - lo >= 0`` proved): ``i`` a free index with ``(i, lo, hi)`` in ``indices``, or the
    bound index of an enclosing sum over that range. Innermost first."""
    top = {i: (lo, hi) for i, lo, hi in indices if _nonempty(lo, hi)}

    def visit(e, ranges):
        if not e.args or isinstance(e, sp.Indexed):
            return e
        if isinstance(e, sp.Sum) and len(e.limits) == 1:
            var, lo, hi = e.limits[0]
            inner = dict(ranges)
            if _nonempty(lo, hi):
                inner[var] = (lo, hi)
            else:
                inner.pop(var, None)
            e = sp.Sum(visit(e.function, inner), (var, lo, hi))
            return _kronecker_sum(e, ranges)
        return e.func(*[visit(a, ranges) for a in e.args])

    return visit(expr, top)


def _kronecker_sum(e, ranges):
    var, lo, hi = e.limits[0]
    body = sp.expand(e.function, deep=False)
    # a delta inside a factor that is a sum ((delta a + delta b) c): distribute that product
    terms = [sp.expand_mul(t, deep=False) if isinstance(t, sp.Mul) and not any(
        isinstance(f, sp.KroneckerDelta) and var in f.args for f in t.args) else t for t in sp.Add.make_args(body)]
    out = []
    for term in sp.Add.make_args(sp.Add(*terms)):
        deltas = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.KroneckerDelta) and var in f.args]
        if len(deltas) != 1:
            return e
        d = deltas[0]
        other = d.args[0] if d.args[1] == var else d.args[1]
        if other not in ranges or ranges[other] != (lo, hi) or other.has(var):
            return e
        rest = sp.Mul(*[f for f in sp.Mul.make_args(term) if f is not d])
        out.append(rest.xreplace({var: other}))
    return sp.Add(*out)


def peel_last(expr, n):
    """Split the last term off every sum (factor off every product) whose upper bound is
    ``n + 1`` (see the module docstring)."""
    top = n + 1

    def visit(e):
        if not e.args:
            return e
        if not isinstance(e, sp.Indexed):
            e = e.func(*[visit(a) for a in e.args])
        if isinstance(e, (sp.Sum, sp.Product)) and len(e.limits) == 1:
            var, lo, hi = e.limits[0]
            if sp.expand(hi - top) == 0:
                last = e.function.xreplace({var: top})
                shorter = e.func(e.function, (var, lo, n))
                return shorter + last if isinstance(e, sp.Sum) else shorter * last
        return e

    return visit(expr)


def backward_range(goal):
    """The first sum or product of ``goal`` (lhs, rhs, assumptions) whose bounds are not proved
    integers with ``hi - lo + 1 >= 0``, or None."""
    def walk(e, sub):
        if not isinstance(e, sp.Basic) or not e.args:
            return None
        if isinstance(e, (sp.Sum, sp.Product)):
            inner = dict(sub)
            for var, lo, hi in reversed(e.limits):  # the last limit is the outermost
                lo_s, hi_s = lo.xreplace(inner), hi.xreplace(inner)
                if lo_s.is_integer is not True or hi_s.is_integer is not True:
                    return e  # a bound that may not be an integer (n/2, sqrt(n), 1/2)
                if (hi_s - lo_s + 1).is_nonnegative is not True:
                    return e
                p = sp.Dummy("p", integer=True, nonnegative=True)
                inner[var] = lo_s + p  # var in lo..hi: at least lo
            return walk(e.function, inner)
        for a in e.args:
            found = walk(a, sub)
            if found is not None:
                return found
        return None

    for part in (goal.lhs, goal.rhs, *goal.assumptions):
        found = walk(part, {})
        if found is not None:
            return found
    return None


_CANONICAL = tuple(sp.Dummy(f"k{depth}", integer=True) for depth in range(12))


def normalise(expr, depth=0):
    r"""Every sum and product with its bound index renamed to the canonical index of its
    nesting depth (so equal sums are structurally equal), and, in a sum, the factors free of
    the bound index taken out: :math:`\sum_k c\,f(k) = c\sum_k f(k)` (exact)."""
    if not isinstance(expr, sp.Basic) or not expr.args or isinstance(expr, sp.Indexed):
        return expr
    if isinstance(expr, (sp.Sum, sp.Product)) and len(expr.limits) == 1 and depth < len(_CANONICAL):
        var, lo, hi = expr.limits[0]
        k = _CANONICAL[depth]
        body = normalise(expr.function.xreplace({var: k}), depth + 1)
        lo, hi = normalise(lo, depth), normalise(hi, depth)
        if isinstance(expr, sp.Sum):
            const, dep = body.as_independent(k, as_Add=False)
            if const != 1 and dep != 1:  # the constant is outside now: its sums at this depth
                return normalise(const, depth) * sp.Sum(dep, (k, lo, hi))
        return expr.func(body, (k, lo, hi))
    return expr.func(*[normalise(a, depth) for a in expr.args])


def sums_as_atoms(expr):
    r"""Each sum whose summand is positive (nonnegative) over a nonempty range, replaced by one
    positive (nonnegative) symbol per distinct sum: an identity proved for an arbitrary
    positive number holds for the sum's value (sound; it lets SymPy use the sign, e.g.
    :math:`\log(e^c S) = c + \log S`)."""
    atoms = {}
    for s in sorted(expr.atoms(sp.Sum), key=sp.default_sort_key):
        if s.has(*[a for a in atoms]) or len(s.limits) != 1:
            continue
        var, lo, hi = s.limits[0]
        if (hi - lo).is_nonnegative is not True:
            continue
        if s.function.is_positive is True:
            atoms[s] = sp.Dummy("S", positive=True)
        elif s.function.is_nonnegative is True:
            atoms[s] = sp.Dummy("S", nonnegative=True)
    return expr.xreplace(atoms) if atoms else expr
