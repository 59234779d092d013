r"""The condition search of a refuted step: under which simple condition does it hold?

Candidates: an index size equal to 1, a declared variable (a whole indexed family) equal to 0,
or a defined quantity linear in one of its ingredients equal to 0. A candidate is screened
numerically on every instance it allows (a screen only rejects), then proved by exact
rewriting at each of them; the condition is then shown at those instances (the verdict says
which), not for every size.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import sympy as sp

from ..latex_input.nodes import Expect, StandardNormal
from ..limits import OutOfTime, time_limit
from ..expectation import reduce_expectations
from .decide import pairs, prove_sign, prove_zero
from .instances import Concretizer, OutOfRange, size_symbols_of, used_definitions

__all__ = ["Candidate", "candidates", "prove_under"]

# --------------------------------------------------------------------------- conditions
@dataclass
class Candidate:
    condition: object       # a SymPy Boolean for the report
    text: str
    size: object = None     # a size symbol forced to 1
    zero: object = None     # a NameDecl whose whole family is 0
    defined: object = None  # a defined NameDecl forced to 0


def candidates(step_exprs, decls, inst, free_syms):
    cands = []
    for s in size_symbols_of(step_exprs, decls):
        if dict(inst.sizes).get(s, 1) > 1:
            cands.append(Candidate(sp.Eq(s, 1), f"{s} = 1", size=s))
    seen = set()
    for d in decls.variables():
        if d.kind == "random" or d.obj in seen:
            continue
        if d.kind in ("positive", "negative") or (d.kind == "matrix" and d.matrix.structure in (
                "symmetric positive definite", "positive diagonal")):  # 0 is outside their domain
            continue
        members = _members_present(d, free_syms)
        if not members:
            continue
        seen.add(d.obj)
        cands.append(Candidate(sp.Eq(_display_object(d, decls), 0), f"{d.latex} = 0", zero=d))
    used = []
    for ex in step_exprs:
        used.extend(used_definitions(ex, decls))
    for d in {id(x): x for x in used}.values():
        if _mentions_random(d, decls):
            continue
        cands.append(Candidate(sp.Eq(_display_object(d, decls), 0), f"{d.latex} = 0", defined=d))
    return cands


def _mentions_random(decl, decls):
    body = decl.body
    for obj in {a.base for a in body.atoms(sp.Indexed)} | body.free_symbols:
        d = decls.decl_of_object(obj)
        if d is not None and (d.kind == "random" or (d.kind == "define" and _mentions_random(d, decls))):
            return True
    return False


def _members_present(decl, free_syms):
    if not decl.slots:
        return [decl.obj] if decl.obj in free_syms else []
    prefix = decl.obj.name + "_"
    return [s for s in free_syms if s.name.startswith(prefix)]


def _display_object(decl, decls):
    if not decl.slots:
        return decl.obj
    idx = [decls.indices[letter].symbol if role == "index" else sp.Symbol(letter) for role, letter in decl.slots]
    return decl.obj[tuple(idx)]


def _apply_candidate(cand, conc, lhs_c, rhs_c, decls):
    """(lhs, rhs) of an instance under the candidate condition, or None when it cannot be imposed."""
    if cand.zero is not None:
        d = cand.zero
        free = lhs_c.free_symbols | rhs_c.free_symbols
        sub = {s: sp.Integer(0) for s in _members_present(d, free)}
        return lhs_c.xreplace(sub), rhs_c.xreplace(sub)
    if cand.defined is not None:
        d = cand.defined
        members = _defined_members(d, conc, decls)
        sub = {}
        lhs, rhs = lhs_c, rhs_c
        for idx in members:
            expr = conc.definition(d, idx).xreplace(sub)
            solved = _solve_linear(expr)
            if solved is None:
                return None
            var, value = solved
            sub = {k: v.xreplace({var: value}) for k, v in sub.items()}
            sub[var] = value
        return lhs.xreplace(sub), rhs.xreplace(sub)
    return lhs_c, rhs_c


def _defined_members(decl, conc, decls):
    ranges = []
    for role, letter in decl.slots:
        if role == "index":
            size = decls.indices[letter].size
            size = conc.env.get(size, size) if isinstance(size, sp.Symbol) else size
            ranges.append([sp.Integer(v) for v in range(1, int(size) + 1)])
        else:
            ranges.append([sp.Symbol(letter)])
    return list(itertools.product(*ranges))


def _solve_linear(expr):
    """(v, value) with ``expr`` = 0 <=> v = value, for a real symbol ``v`` in which ``expr``
    is affine with a nonzero numeric coefficient (not a positive/negative symbol)."""
    for v in sorted(expr.free_symbols, key=str):
        if v.is_positive or v.is_negative or isinstance(v, StandardNormal):
            continue
        try:
            poly = sp.Poly(expr, v)
        except sp.PolynomialError:
            continue
        if poly.degree() != 1:
            continue
        c = poly.coeff_monomial(v)
        if not (c.is_number and c != 0):
            continue
        rest = sp.expand(expr - c * v)
        if rest.has(v):
            continue
        return v, -rest / c
    return None


_FILTER_VALUES = (sp.Rational(7, 10), sp.Rational(-13, 10), sp.Rational(3, 2), sp.Rational(-2, 5),
                  sp.Rational(11, 10), sp.Rational(-9, 10), sp.Rational(13, 10), sp.Rational(1, 3))


def _numerically_different(lhs, rhs, relation):
    """A quick screen: True when the two sides clearly violate ``relation`` at one generic
    point (30 digits). Only ever used to skip a proof attempt, never as evidence."""
    free = sorted(lhs.free_symbols | rhs.free_symbols, key=str)
    point = {}
    for n, sym in enumerate(free):
        v = _FILTER_VALUES[n % len(_FILTER_VALUES)] + sp.Rational(n // len(_FILTER_VALUES), 7)
        if sym.is_positive or sym.is_nonnegative:
            v = abs(v)
        if sym.is_integer:
            v = sp.Integer(max(1, int(abs(v) * 2)))
        point[sym] = v
    try:
        with time_limit(2.0):
            a = sp.N(lhs.xreplace(point), 30)
            b = sp.N(rhs.xreplace(point), 30)
    except (OutOfTime, Exception):
        return False
    if not (a.is_number and b.is_number) or a.has(sp.nan, sp.zoo) or b.has(sp.nan, sp.zoo):
        return False
    try:
        a_re, a_im = a.as_real_imag()
        b_re, b_im = b.as_real_imag()
        if a_im != 0 or b_im != 0:
            return False
        gap = float(a_re - b_re)
        scale = max(1.0, abs(float(a_re)), abs(float(b_re)))
    except (TypeError, ValueError):
        return False
    if relation == "=":
        return abs(gap) > 1e-12 * scale
    if relation in ("<=", "<"):
        return gap > 1e-12 * scale
    return gap < -1e-12 * scale


def prove_under(cand, lhs, rhs, relation, decls, insts, deadline, cache):
    """Prove the step under ``cand`` on every instance it allows (exact rewriting only).

    First a numeric screen of every allowed instance (cheap; it only rejects), then the
    exact proofs, smallest instances first."""
    allowed = [i for i in insts if cand.size is None or dict(i.sizes).get(cand.size) == 1]
    if not allowed:
        return False, "no instance"
    imposed_all = []
    for inst in sorted(allowed, key=lambda i: sum(v for _, v in i.sizes)):
        if time.monotonic() > deadline - 0.3:
            return False, "not finished (time)"
        try:
            if inst not in cache:
                conc = Concretizer(decls, inst)
                cache[inst] = (conc, conc.run(lhs), conc.run(rhs))
            conc, lhs_c, rhs_c = cache[inst]
        except OutOfRange:
            continue
        imposed = _apply_candidate(cand, conc, lhs_c, rhs_c, decls)
        if imposed is None:
            return False, "cannot be imposed"
        if any(_numerically_different(a, b, relation) for a, b in pairs(*imposed)):
            return False, f"fails numerically at {inst.describe()}"
        imposed_all.append((inst, imposed))
    for inst, imposed in imposed_all:
        if time.monotonic() > deadline - 0.3:
            return False, "not finished (time)"
        l2, r2 = (reduce_expectations(x) for x in imposed)
        if l2.has(Expect) or r2.has(Expect):
            return False, f"an expectation left unevaluated at {inst.describe()}"
        budget = min(6.0, max(0.5, deadline - time.monotonic() - 0.2))
        for a, b in pairs(l2, r2):
            if relation == "=":
                ok = prove_zero(a - b, budget) is not None
            else:
                d = (b - a) if relation in ("<=", "<") else (a - b)
                ok = prove_sign(d, relation in ("<", ">"), budget) is not None
            if not ok:
                return False, f"not proved at {inst.describe()}"
    return True, f"proved on {len(allowed)} instance(s)"
