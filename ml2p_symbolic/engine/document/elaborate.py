r"""A step as a goal for the kernel, for every size and every index value at once.

:func:`elaborate` turns a parse-level step (:mod:`ml2p_symbolic.engine.latex_input`) into a
:class:`~ml2p_symbolic.engine.certificates.Goal` without choosing any size or index value:

* a member of a declared family stays ``Indexed`` (its family's SymPy assumptions hold for
  every member), sums and products keep their symbolic bounds, each bound index renamed to a
  fresh integer symbol (so a free index of the same letter is never captured);
* a defined quantity (``%! define``) is replaced by its definition at the indices it is used
  with;
* a derivative is SymPy's (a derivative of a sum in one member of a family is a sum of
  Kronecker deltas, which the kernel evaluates where the free index's range is the sum's); a
  derivative with respect to a defined quantity keeps the quantity as a variable of its own,
  differentiates, then substitutes its definition (the chain rule as written);
* an evaluation bar substitutes (a whole family when its index letters are free);
* a random variable outside an expectation is a real variable (the step is proved for every
  value it can take, which is at least as strong as "surely");
* an expectation over declared normal scalars is computed by the exact rules of
  :mod:`ml2p_symbolic.engine.expectation` (which first show it exists).

Free indices become the goal's ``indices``: ``(i, 1, n)``, the statement is claimed for every
integer :math:`1 \le i \le n`. What cannot be elaborated this way (matrices, expectations over
indexed random families, bars on defined quantities) gives None: the step is then only
checked at instances, and can be ``tested`` but never ``verified``.
"""

from __future__ import annotations

import sympy as sp

from ..certificates import Goal
from ..expectation import reduce_expectations
from ..latex_input.matrix_nodes import Gradient, MatrixEvalAt, is_matrix
from ..latex_input.nodes import Diff, EvalAt, Expect, StandardNormal
from ...errors import NotCheckableError
from .instances import free_indices
from .substitution import substitute

__all__ = ["elaborate", "Unsupported"]


class Unsupported(Exception):
    """The step has notation the symbolic elaboration does not cover."""


def elaborate(lhs, rhs, relation, decls):
    """The :class:`~ml2p_symbolic.engine.certificates.Goal` of ``lhs relation rhs`` for every
    size and index value, or None (see the module docstring)."""
    try:
        e = _Elaborator(decls)
        left, right = e.run(lhs), e.run(rhs)
        assumptions = tuple(e.run(a) for a in decls.assumptions)
    except (Unsupported, NotCheckableError):
        return None
    except (TypeError, ValueError, AttributeError, NotImplementedError, RecursionError):
        return None  # SymPy could not build it symbolically: instances only
    if any(x.has(Expect, Diff, EvalAt) for x in (left, right)):
        return None
    frees = set()
    for x in (lhs, rhs):
        frees |= free_indices(x, decls)
    indices = []
    for f in sorted(frees, key=str):
        d = decls.index_of_symbol(f)
        indices.append((f, sp.Integer(1), d.size))
    return Goal(left, right, relation, assumptions, tuple(indices))


class _Elaborator:
    def __init__(self, decls):
        self.decls = decls
        self.placeholders = {}

    def run(self, expr):
        if is_matrix(expr) or (isinstance(expr, sp.Basic) and expr.has(sp.MatrixSymbol, Gradient, MatrixEvalAt)):
            raise Unsupported("matrices")
        return self._e(expr, frozenset())

    # ------------------------------------------------------------------ the walk
    def _e(self, e, keep):
        if isinstance(e, (sp.Number, sp.NumberSymbol)) or e in (sp.oo, -sp.oo, sp.zoo):
            return e
        if isinstance(e, sp.Indexed):
            decl = self.decls.decl_of_object(e.base)
            if decl is None:
                raise Unsupported(f"{e.base} is not declared")
            idx = tuple(self._e(i, keep) for i in e.indices)
            return self._member(decl, idx, keep)
        if isinstance(e, sp.Symbol):
            decl = self.decls.decl_of_object(e)
            if decl is None:
                return e
            return self._member(decl, (), keep)
        if isinstance(e, (sp.Sum, sp.Product)):
            renamed = {var: sp.Dummy(str(var), integer=True) for var, _, _ in e.limits}
            body = self._e(e.function.xreplace(renamed), keep)
            limits = [(renamed[var], self._e(lo.xreplace(renamed), keep), self._e(hi.xreplace(renamed), keep))
                      for var, lo, hi in e.limits]
            return e.func(body, *limits)
        if isinstance(e, Diff):
            return self._diff(e, keep)
        if isinstance(e, EvalAt):
            return self._evalat(e, keep)
        if isinstance(e, Expect):
            return self._expect(e, keep)
        if not e.args:
            return e
        return e.func(*[self._e(a, keep) for a in e.args])

    def _member(self, decl, idx, keep):
        if decl.kind == "matrix" or decl.matrix is not None:
            raise Unsupported("matrix entries")
        # a random variable outside an expectation is its value: the statement is claimed for
        # every real value of it (surely), which proves it for the law's support too
        if decl.kind == "define":
            if decl.obj in keep:
                return self._placeholder(decl)[idx] if idx else self._placeholder(decl)
            return self.definition(decl, idx, keep)
        return decl.obj[idx] if decl.slots else decl.obj

    def definition(self, decl, idx, keep=frozenset()):
        """The definition of ``decl`` at the index expressions ``idx``."""
        sub = {}
        for (role, letter), value in zip(decl.slots, idx):
            if role == "index":
                sub[self.decls.indices[letter].symbol] = value
            elif value != sp.Symbol(letter):
                sub[sp.Symbol(letter)] = value
        body = self._e(decl.body, keep)
        return body.xreplace(sub) if sub else body

    def _placeholder(self, decl):
        ph = self.placeholders.get(decl.obj)
        if ph is None:
            name = f"_{decl.obj.name if hasattr(decl.obj, 'name') else decl.obj}_kept"
            ph = sp.IndexedBase(name, real=True) if decl.slots else sp.Symbol(name, real=True)
            self.placeholders[decl.obj] = ph
        return ph

    def _expand_placeholders(self, expr, decls_kept, keep):
        for decl in decls_kept:
            ph = self._placeholder(decl)
            if decl.slots:
                expr = expr.replace(lambda x: isinstance(x, sp.Indexed) and x.base == ph,
                                    lambda x: self.definition(decl, x.indices, keep))
            else:
                expr = expr.xreplace({ph: self.definition(decl, (), keep)})
        return expr

    def _target(self, var, keep):
        """(SymPy variable, defined NameDecl or None) of a derivative's variable."""
        base = var.base if isinstance(var, sp.Indexed) else var
        decl = self.decls.decl_of_object(base)
        if decl is None:
            raise Unsupported(f"cannot differentiate with respect to {var}")
        idx = tuple(self._e(i, keep) for i in var.indices) if isinstance(var, sp.Indexed) else ()
        if decl.kind == "define":
            ph = self._placeholder(decl)
            return (ph[idx] if idx else ph), decl
        if decl.kind in ("random", "matrix") or decl.matrix is not None:
            raise Unsupported("a derivative in a random variable or a matrix entry")
        return (decl.obj[idx] if idx else decl.obj), None

    def _diff(self, e, keep):
        targets = [self._target(v, keep) for v, _ in e.variables]
        defined = [d for _, d in targets if d is not None]
        keep2 = frozenset(keep | {d.obj for d in defined})
        body = self._e(e.expr, keep2)
        result = sp.diff(body, *[(t, m) for (t, _), (_, m) in zip(targets, e.variables)])
        return self._expand_placeholders(result, defined, keep)

    def _evalat(self, e, keep):
        body = self._e(e.expr, keep)
        for target, value in e.pairs:
            if is_matrix(target):
                raise Unsupported("a bar on a vector")
            base = target.base if isinstance(target, sp.Indexed) else target
            decl = self.decls.decl_of_object(base)
            if decl is None or decl.kind in ("define", "random"):
                raise Unsupported("a bar on a defined quantity or random variable")
            new = self._e(value, keep)
            if not decl.slots:
                body = substitute(body, {decl.obj: new})
                continue
            if body.has(sp.sign, sp.Heaviside, sp.DiracDelta) or any(
                    getattr(decl.obj, "is_" + f, None) for f in ("positive", "nonnegative", "negative", "integer")):
                raise Unsupported("a bar on a family with a restricted domain")
            letters = [i for i in target.indices]
            if not all(isinstance(i, sp.Symbol) and i.is_integer for i in letters):
                raise Unsupported("a bar on one member of a family")
            obj = decl.obj

            def image(x, letters=letters, new=new):
                return new.xreplace(dict(zip(letters, x.indices)))

            body = body.replace(lambda x, obj=obj: isinstance(x, sp.Indexed) and x.base == obj, image)
        return body

    def _expect(self, e, keep):
        bound = {}
        etas = []
        body_objects = {a.base for a in e.body.atoms(sp.Indexed)} | e.body.free_symbols
        for var in e.variables:
            base = var.base if isinstance(var, sp.Indexed) else var
            if base not in body_objects:
                continue  # a variable the integrand does not show integrates out
            decl = self.decls.decl_of_object(base)
            if decl is None or decl.kind != "random":
                raise Unsupported("an expectation over an undeclared variable")
            if isinstance(var, sp.IndexedBase):
                raise Unsupported("an expectation over a whole random family")
            idx = tuple(self._e(i, keep) for i in var.indices) if isinstance(var, sp.Indexed) else ()
            members = {a for a in e.body.atoms(sp.Indexed) if a.base == base}
            if idx and any(tuple(self._e(i, keep) for i in a.indices) != idx for a in members):
                raise Unsupported("another member of the random family in the integrand")
            eta = StandardNormal(f"{decl.obj.name}_{'_'.join(map(str, idx))}" if idx else decl.obj.name)
            law = {}
            for (role, letter), value in zip(decl.slots, idx):
                if role == "index":
                    law[self.decls.indices[letter].symbol] = value
            mean = self._e(decl.mean if decl.mean is not None else sp.Integer(0), keep).xreplace(law)
            variance = self._e(decl.variance if decl.variance is not None else sp.Integer(1), keep).xreplace(law)
            if variance.is_nonnegative is not True:
                raise Unsupported("a variance not known to be nonnegative")
            bound[(decl.obj, idx)] = mean + sp.sqrt(variance) * eta
            etas.append(eta)
        inner = _RandomBound(self, bound)
        body = inner._e(e.body, keep)
        value = reduce_expectations(Expect(body, etas))
        if value.has(Expect):
            raise Unsupported("an expectation without an exact rule")
        return value


class _RandomBound(_Elaborator):
    """The elaborator inside an expectation: declared random scalars are bound normals."""

    def __init__(self, outer, bound):
        self.decls = outer.decls
        self.placeholders = outer.placeholders
        self.bound = bound

    def _member(self, decl, idx, keep):
        if decl.kind == "random" and (decl.obj, tuple(idx)) in self.bound:
            return self.bound[(decl.obj, tuple(idx))]
        return super()._member(decl, idx, keep)
