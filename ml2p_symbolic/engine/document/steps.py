r"""The verdict of one step of a document: concrete instances, expectations, conditions.

A step ``lhs REL rhs`` read from a document (:mod:`.latex_input`) may contain indexed
symbols, sums over declared index ranges, derivatives with respect to defined quantities,
expectations over declared random variables and evaluation bars. :func:`check_relation`
decides it:

1. **Symbolic sizes.** When the step has sums with symbolic limits and nothing else that
   needs concrete sizes, an exact rewriting of ``lhs - rhs`` to 0 proves it for every size.
2. **Concrete instances.** Otherwise every index size is given concrete values (by default
   1, 2, 3 each; ``%! sizes`` chooses), sums are expanded, and the free indices ("for all")
   take values. When the statement is invariant under permutations of index values (every
   sum runs over a full declared range, indices only appear as subscripts, no literal index)
   one representative per pattern of equal/distinct free indices is enough; otherwise every
   value is tried. Defined quantities (``%! define``) are replaced by their definitions,
   except that a derivative with respect to a defined quantity keeps it as a variable of
   its own, differentiates, then substitutes. Expectations are computed by the symbolic rules
   of :func:`ml2p_symbolic.expectation.gaussian_expectation` (moments, the symmetry
   :math:`\varepsilon\to-\varepsilon`), else left to quadrature.
3. **Each instance** is decided by :func:`ml2p_symbolic.identity.check_identity` (an
   identity) or by a sign proof / counterexample search (an inequality).
4. **Verdict.** ``verified`` when every instance is proved; ``refuted`` with the first
   counterexample (smallest sizes first) re-evaluated at 50 and 80 digits; ``conditional``
   when the automatic condition search proves the step under a simple condition: an index
   size equal to 1, a declared variable (a whole indexed family) equal to 0, or a defined
   quantity that is linear in one of its ingredients equal to 0. The condition reported is
   the disjunction of those proved, and the counterexample lies outside all of them.
   ``open`` otherwise.

The engine knows nothing of any model: the meaning of every name comes from the document.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from ..records import Verdict
from ...errors import ML2PError
from ..identity import check_identity
from ..latex_input.matrix_nodes import Gradient, MatrixEvalAt, is_matrix
from ..latex_input.nodes import Diff, EvalAt, Expect, StandardNormal
from .assumptions import instance_assumptions  # [reading, issue 16]
from . import matrices

__all__ = ["check_relation", "Instance", "concretize", "reduce_expectations", "DEFAULT_SIZES"]

#: sizes tried for an index range when the document does not say (``%! sizes``)
DEFAULT_SIZES = (1, 2, 3)
#: at most this many size combinations and instances per step
MAX_SIZE_COMBINATIONS = 12
MAX_INSTANCES = 48


#: the step budget (seconds) at which the inner time caps below have their nominal values;
#: a larger budget (``--timeout``) scales every cap up in proportion (a loaded machine)
NOMINAL_BUDGET = 51.0
_LIMITS = {"scale": 1.0}


def _cap(seconds):
    """An inner time cap scaled to the step's budget (see :data:`NOMINAL_BUDGET`)."""
    return seconds * _LIMITS["scale"]


class _OutOfRange(Exception):
    """A literal index exceeds the size of its range in this instance: skip the instance."""


class _OutOfTime(BaseException):
    pass


@contextmanager
def _time_limit(seconds):
    """SIGALRM-based limit (main thread only; elsewhere the body runs unbounded)."""
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0) and seconds > 0)
    if not usable:
        yield
        return

    def _on_alarm(signum, frame):
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------- instances
@dataclass(frozen=True)
class Instance:
    """Concrete sizes and free-index values: ``sizes`` {size symbol: int}, ``values``
    {index symbol: int}."""

    sizes: tuple
    values: tuple

    def env(self):
        return {**dict(self.sizes), **dict(self.values)}

    def describe(self):
        parts = [f"{s} = {v}" for s, v in self.sizes]
        vals = [f"{s} = {v}" for s, v in self.values]
        text = ", ".join(parts) if parts else "no sizes"
        return text + ("; " + ", ".join(vals) if vals else "")


class Concretizer:
    """Turn a parse-level expression into one over concrete symbols for one instance."""

    def __init__(self, decls, instance):
        self.decls = decls
        self.instance = instance
        self.env = instance.env()
        self._symbols = {}
        self._structures = {}
        #: how each declared matrix of the step was represented (for the evidence), and the
        #: same without the size (for the verdict's detail)
        self.structures_used = []
        self.matrix_notes = []

    def matrix_structure(self, mdecl, n):
        """The explicit :class:`~.matrices.Structure` of a structured matrix at size ``n``."""
        key = (mdecl.obj, n)
        st = self._structures.get(key)
        if st is None:
            st = matrices.structure(mdecl, n)
            self._structures[key] = st
            if st.description not in self.structures_used:
                self.structures_used.append(st.description)
            note = matrices.short_description(mdecl)
            if note not in self.matrix_notes:
                self.matrix_notes.append(note)
        return st

    # names of concrete symbols: ahat[1, 2] -> ahat_12, theta[j, 1] -> theta_j1
    def concrete_symbol(self, decl, idx):
        key = (decl.obj, idx)
        sym = self._symbols.get(key)
        if sym is None:
            parts = [str(v) for v in idx]
            sep = "" if all(len(p) == 1 for p in parts) else ","
            from ..latex_input.declarations import ASSUMPTION_KINDS

            assumptions = {"real": True} if decl.kind in ("random", "define") else ASSUMPTION_KINDS[decl.kind]
            if decl.kind == "define":
                assumptions = {}
            sym = sp.Symbol(f"{decl.obj.name}_{sep.join(parts)}", **assumptions)
            self._symbols[key] = sym
        return sym

    def index_value(self, idx, env, decl=None, pos=None):
        if idx.is_Integer:
            value = idx
        elif idx in env:
            value = sp.Integer(env[idx])
        elif isinstance(idx, sp.Symbol) and not idx.is_integer:
            return idx  # a label such as j
        else:
            raise ML2PError(f"index {idx} has no value in this instance")
        if decl is not None and pos is not None:
            role, letter = decl.slots[pos]
            size = self.decls.indices[letter].size
            size = sp.Integer(self.env.get(size, size)) if isinstance(size, sp.Symbol) else size
            if not 1 <= value <= size:
                raise _OutOfRange(f"{decl.latex} with index {value} outside 1..{size}")
        return value

    def run(self, expr, env=None, keep=frozenset(), bound_rv=None):
        env = self.env if env is None else env
        return self._c(expr, env, keep, bound_rv or {})

    def _c(self, e, env, keep, rv):
        if isinstance(e, (sp.Number, sp.NumberSymbol)) or e in (sp.oo, -sp.oo, sp.zoo):
            return e
        if isinstance(e, sp.Indexed):
            return self._indexed(e, env, keep, rv)
        if isinstance(e, sp.Symbol):
            if e in env:
                return sp.Integer(env[e])
            decl = self.decls.decl_of_object(e)
            if decl is None:
                return e
            return self._member(decl, (), env, keep, rv)
        if matrices.is_matrix_node(e):
            return matrices.evaluate(self, e, env, keep, rv)
        if isinstance(e, (sp.Sum, sp.Product)):
            body = e.function
            total = []
            (var, lo, hi), = e.limits if len(e.limits) == 1 else (None,)
            lo_c, hi_c = self._c(lo, env, keep, rv), self._c(hi, env, keep, rv)
            if not (lo_c.is_Integer and hi_c.is_Integer):
                raise ML2PError(f"the limits of {e} are not concrete in this instance")
            for v in range(int(lo_c), int(hi_c) + 1):
                inner = dict(env)
                inner[var] = v
                total.append(self._c(body, inner, keep, rv))
            return sp.Add(*total) if isinstance(e, sp.Sum) else sp.Mul(*total)
        if isinstance(e, Diff):
            return self._diff(e, env, keep, rv)
        if isinstance(e, EvalAt):
            return self._evalat(e, env, keep, rv)
        if isinstance(e, Expect):
            return self._expect(e, env, keep, rv)
        if not e.args:
            return e
        return e.func(*[self._c(a, env, keep, rv) for a in e.args])

    def _indexed(self, e, env, keep, rv):
        decl = self.decls.decl_of_object(e.base)
        if decl is None:
            raise ML2PError(f"{e.base} is not declared")
        idx = tuple(self.index_value(i, env, decl, pos) for pos, i in enumerate(e.indices))
        return self._member(decl, idx, env, keep, rv)

    def out_of_range(self, message):
        """Skip this instance: a literal index lies outside its range here."""
        raise _OutOfRange(message)

    def member(self, decl, idx, env, keep, rv):
        """The concrete value of the member ``idx`` of the family ``decl``."""
        return self._member(decl, idx, env, keep, rv)

    def _member(self, decl, idx, env, keep, rv):
        if decl.kind == "matrix":
            n = int(self._c(decl.matrix.rows, env, keep, rv))
            i, j = (int(v) for v in idx)
            if not (1 <= i <= n and 1 <= j <= n):
                raise _OutOfRange(f"{decl.latex} with index ({i}, {j}) outside 1..{n}")
            return self.matrix_structure(decl.matrix, n).matrix[i - 1, j - 1]
        if decl.kind == "define":
            if (decl.obj, idx) in keep:
                return self._placeholder(decl, idx)
            return self.definition(decl, idx, keep, rv)
        sym = self.concrete_symbol(decl, idx) if decl.slots else decl.obj
        if decl.kind == "random" and sym in rv:
            return rv[sym]
        return sym

    def _placeholder(self, decl, idx):
        key = ("placeholder", decl.obj, idx)
        sym = self._symbols.get(key)
        if sym is None:
            name = decl.obj.name + ("_" + "".join(map(str, idx)) if idx else "")
            sym = sp.Dummy(name)
            self._symbols[key] = sym
        return sym

    def definition(self, decl, idx, keep=frozenset(), rv=None):
        """The concrete expression of the defined quantity ``decl`` at index values ``idx``."""
        inner = {**{k: v for k, v in self.env.items() if isinstance(k, sp.Symbol) and k in self.decls.size_symbols()}}
        for (role, letter), value in zip(decl.slots, idx):
            if role == "index":
                inner[self.decls.indices[letter].symbol] = int(value)
        return self._c(decl.body, inner, keep, rv or {})

    def _handle(self, var, env):
        """(concrete variable symbol, (decl, idx) when it is a defined quantity)."""
        if isinstance(var, sp.Indexed):
            decl = self.decls.decl_of_object(var.base)
            idx = tuple(self.index_value(i, env, decl, pos) for pos, i in enumerate(var.indices))
        else:
            decl = self.decls.decl_of_object(var)
            idx = ()
        if decl is None:
            raise ML2PError(f"cannot differentiate with respect to {var}")
        if decl.kind == "define":
            return self._placeholder(decl, idx), (decl, idx)
        return (self.concrete_symbol(decl, idx) if decl.slots else decl.obj), None

    def _diff(self, e, env, keep, rv):
        handles = [self._handle(v, env) for v, _ in e.variables]
        defined = [(h, d) for h, d in handles if d is not None]
        keep2 = frozenset(keep | {(d.obj, idx) for _, (d, idx) in defined})
        body = self._c(e.expr, env, keep2, rv)
        result = sp.diff(body, *[(h, m) for (h, _), (_, m) in zip(handles, e.variables)])
        if defined:
            result = result.xreplace({h: self.definition(d, idx, keep, rv) for h, (d, idx) in defined})
        return result

    def evaluation_bar(self, e, env, keep, rv):
        """The value of an :class:`EvalAt` or :class:`MatrixEvalAt` node."""
        return self._evalat(e, env, keep, rv)

    def _evalat(self, e, env, keep, rv):
        targets = {}
        defined_keep = set()
        pending = []
        for target, value in e.pairs:
            if is_matrix(target):  # a declared vector: every component
                family = self.decls.matrix_of_object(target).family
                column = self._c(value, env, keep, rv)
                for k in range(column.shape[0]):
                    handle, _ = self._handle(family.obj[sp.Integer(k + 1)], env)
                    targets[handle] = column[k, 0]
                continue
            for member_env in self._family_envs(target, env):
                handle, info = self._handle(target, member_env)
                if info is not None:
                    defined_keep.add((info[0].obj, info[1]))
                pending.append((handle, value, member_env, info))
        keep2 = frozenset(keep | defined_keep)
        body = self._c(e.expr, env, keep2, rv)
        for handle, value, member_env, info in pending:
            targets[handle] = self._c(value, member_env, keep, rv)
        result = body.xreplace(targets)
        leftover = {self._placeholder(d, idx): self.definition(d, idx, keep, rv)
                    for d, idx in ((self.decls.decl_of_object(o), i) for o, i in defined_keep)}
        return result.xreplace(leftover) if leftover else result

    def _family_envs(self, target, env):
        """Environments for every member of the family an evaluation-bar entry names: its
        index letters range over all their values."""
        if not isinstance(target, sp.Indexed):
            return [env]
        letters = [i for i in target.indices if isinstance(i, sp.Symbol) and i.is_integer]
        ranges = []
        for sym in letters:
            d = self.decls.index_of_symbol(sym)
            size = d.size if d is not None else None
            size = self.env.get(size, size) if isinstance(size, sp.Symbol) else size
            if size is None:
                return [env]
            ranges.append(range(1, int(size) + 1))
        out = []
        for combo in itertools.product(*ranges):
            inner = dict(env)
            inner.update(dict(zip(letters, combo)))
            out.append(inner)
        return out

    def _expect(self, e, env, keep, rv):
        new_rv = dict(rv)
        bound = []
        for var in e.variables:
            for decl, idx in self._random_members(var, env):
                sym = self.concrete_symbol(decl, idx) if decl.slots else decl.obj
                eta = StandardNormal(sym.name)
                # [reading, issue 16] the law of member idx: its mean and variance at the member's index
                law_env = env if not decl.slots else {**env, **{
                    self.decls.indices[letter].symbol: v for (role, letter), v in zip(decl.slots, idx)
                    if role == "index"}}
                mean = self._c(decl.mean if decl.mean is not None else sp.Integer(0), law_env, keep, rv)
                var_ = self._c(decl.variance if decl.variance is not None else sp.Integer(1), law_env, keep, rv)
                new_rv[sym] = mean + sp.sqrt(var_) * eta
                bound.append(eta)
        body = self._c(e.body, env, keep, new_rv)
        return Expect(body, bound)

    def _random_members(self, var, env):
        if isinstance(var, sp.IndexedBase):
            decl = self.decls.decl_of_object(var)
            ranges = []
            for role, letter in decl.slots:
                size = self.decls.indices[letter].size
                size = self.env.get(size, size) if isinstance(size, sp.Symbol) else size
                ranges.append(range(1, int(size) + 1))
            return [(decl, tuple(sp.Integer(v) for v in combo)) for combo in itertools.product(*ranges)]
        if isinstance(var, sp.Indexed):
            decl = self.decls.decl_of_object(var.base)
            return [(decl, tuple(self.index_value(i, env, decl, p) for p, i in enumerate(var.indices)))]
        decl = self.decls.decl_of_object(var)
        return [(decl, ())]


def concretize(expr, decls, instance):
    """``expr`` (parse level) over the concrete symbols of ``instance`` (see :class:`Concretizer`)."""
    return Concretizer(decls, instance).run(expr)


# --------------------------------------------------------------------------- expectations
def reduce_expectations(expr, steps=None):
    """Replace each :class:`Expect` by its exact value where the symbolic rules find it
    (moments, symmetry; linearity over sums), innermost first. ``steps`` collects the rules."""
    from ..expectation import gaussian_expectation

    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: reduce_expectations(e, steps))
    if not expr.has(Expect):
        return expr

    def value_of(body, variables):
        variables = [v for v in variables if body.has(v)]
        if not variables:
            return body
        if body.has(sp.log):
            body = sp.expand_log(body, force=False)  # exact: only logs of positive factors split
            variables = [v for v in variables if body.has(v)]
            if not variables:
                return body
        shifted = _exponential_rule(body, variables)
        if shifted is not None:
            if steps is not None:
                steps.append("E[p(eps) exp(a + b eps)] = exp(a + b^2/2) E[p(eps + b)] (completing the square)")
            return shifted
        res = gaussian_expectation(body, variables)
        if res.value is not None:
            if steps is not None:
                steps.extend(res.steps)
            return res.value
        even = _symmetric_part(body, variables)
        if even is not None:
            if steps is not None:
                steps.append("f(eps) + f(-eps) is constant c: E[f] = c/2 by the symmetry eps -> -eps")
            return even
        return None

    def reduce(node):
        if isinstance(node, Expect):
            body = reduce(node.body)
            variables = node.variables
            whole = value_of(body, variables)
            if whole is not None:
                return whole
            # linearity: constant factors out, term by term
            terms = sp.Add.make_args(sp.expand(body, deep=False, mul=True, power_exp=False, log=False,
                                               multinomial=False, power_base=False))
            values, rest = [], []
            for term in terms:
                const, dep = term.as_independent(*variables, as_Add=False)
                v = value_of(dep, variables)
                if v is None:
                    rest.append((const, dep))
                else:
                    values.append(const * v)
            if not values:
                return Expect(body, variables)
            left = sp.Add(*[c * Expect(d, [v for v in variables if d.has(v)]) for c, d in rest])
            return sp.Add(*values) + left
        if not node.args or isinstance(node, (sp.Symbol, sp.Number)):
            return node
        return node.func(*[reduce(a) for a in node.args])

    return reduce(expr)


def _symmetric_part(body, variables):
    r""":math:`c/2` when :math:`f(\eta) + f(-\eta) = c` is proved free of the noise
    (:math:`\mathcal N(0, I)` is symmetric, so :math:`\mathbb E f = \mathbb E[f(\eta) + f(-\eta)]/2`),
    e.g. :math:`\mathbb E[\sigma(s\varepsilon)] = 1/2`; None otherwise. ``f`` is bounded by
    a polynomial in every integrand the reader builds, so the expectations exist."""
    flipped = body.xreplace({v: -v for v in variables})
    both = flipped + body
    for step in (lambda d: sp.cancel(sp.together(d)),
                 lambda d: sp.cancel(sp.together(sp.expand_power_exp(d.rewrite(sp.exp))))):
        try:
            with _time_limit(_cap(3.0)):
                out = step(both)
        except (_OutOfTime, Exception):
            continue
        if not any(out.has(v) for v in variables):
            return out / 2
    return None


def _exponential_rule(body, variables):
    r"""Exact :math:`\mathbb E` of a sum of terms :math:`p(\eta)\,e^{\alpha + \beta\eta}` (``p`` a
    polynomial, :math:`\alpha, \beta` free of :math:`\eta`) over independent standard normals:
    completing the square, :math:`\mathbb E[p(\eta)e^{\alpha+\beta\eta}] =
    e^{\alpha+\beta^2/2}\,\mathbb E[p(\eta+\beta)]`, then Gaussian moments. None when a term
    has another form (or no exponential at all: the moment rule handles polynomials)."""
    from ..expectation import gaussian_moment

    if not body.has(sp.exp):
        return None
    expr = sp.expand(body, power_exp=False, log=False, multinomial=True, mul=True, deep=False)
    for eta in variables:
        if not expr.has(eta):
            continue
        total = []
        for term in sp.Add.make_args(expr):
            if not term.has(eta):
                total.append(term)
                continue
            exps, rest = [], []
            for f in sp.Mul.make_args(term):
                if isinstance(f, sp.exp) and f.has(eta):
                    exps.append(f.args[0])
                elif isinstance(f, sp.Pow) and isinstance(f.base, sp.exp) and f.exp.is_Integer and f.has(eta):
                    exps.append(f.base.args[0] * f.exp)
                else:
                    rest.append(f)
            arg = sp.expand(sp.Add(*exps))
            poly_part = sp.Mul(*rest)
            try:
                lin = sp.Poly(arg, eta) if exps else None
            except sp.PolynomialError:
                return None
            if lin is not None and lin.degree() > 1:
                return None
            beta = lin.coeff_monomial(eta) if lin is not None else sp.Integer(0)
            alpha = sp.expand(arg - beta * eta)
            if not poly_part.is_polynomial(eta):
                return None
            shifted = sp.Poly(sp.expand(poly_part.xreplace({eta: eta + beta})), eta)
            moments = sp.Add(*[c * gaussian_moment(m[0]) for m, c in zip(shifted.monoms(), shifted.coeffs())])
            total.append(sp.exp(alpha + beta**2 / 2) * moments)
        expr = sp.expand(sp.Add(*total), power_exp=False, log=False, multinomial=True, mul=True, deep=False)
    return expr


# --------------------------------------------------------------------------- analysis
def _index_symbols(decls):
    return {d.symbol for d in decls.indices.values()}


def used_definitions(expr, decls, seen=None):
    """The defined quantities (NameDecl) ``expr`` uses, recursively."""
    seen = set() if seen is None else seen
    out = []
    objs = {a.base for a in expr.atoms(sp.Indexed)} | expr.free_symbols
    for obj in objs:
        d = decls.decl_of_object(obj)
        if d is not None and d.kind == "define" and d.obj not in seen:
            seen.add(d.obj)
            out.append(d)
            out.extend(used_definitions(d.body, decls, seen))
    return out


def free_indices(expr, decls):
    """Free index symbols of ``expr`` outside evaluation-bar entries (they range over all
    values there)."""
    idx = _index_symbols(decls)
    found = set()

    def walk(e):
        if isinstance(e, EvalAt):
            walk(e.expr)
            return
        if isinstance(e, sp.Symbol):
            if e in idx:
                found.add(e)
            return
        for a in e.args:
            walk(a)

    walk(expr)
    return found


def is_symmetric(exprs, decls):
    """True when every sum runs over a full declared range, index symbols occur only as
    subscripts and no literal index value is written (see the module docstring)."""
    idx = _index_symbols(decls)
    ok = [True]

    def walk(e, in_subscript=False):
        if not ok[0]:
            return
        if isinstance(e, sp.Indexed):
            for i in e.indices:
                if i.is_Integer:
                    ok[0] = False
            return
        if isinstance(e, (sp.Sum, sp.Product)):
            var, lo, hi = e.limits[0]
            d = decls.indices.get(var.name)
            if d is None or lo != 1 or hi != d.size:
                ok[0] = False
            walk(e.function)
            return
        if isinstance(e, sp.Symbol):
            if e in idx or (e.is_integer and e.name in decls.indices and not isinstance(e, StandardNormal)):
                ok[0] = False
            return
        for a in e.args:
            walk(a)

    for ex in exprs:
        walk(ex)
    return ok[0]


def size_symbols_of(exprs, decls):
    """The size symbols an instance of ``exprs`` (and the definitions they use) depends on."""
    sizes = set()
    all_exprs = list(exprs)
    for ex in exprs:
        all_exprs.extend(d.body for d in used_definitions(ex, decls))
    declared_sizes = decls.size_symbols()
    for ex in all_exprs:
        sizes |= ex.free_symbols & declared_sizes
        for a in ex.atoms(sp.Indexed):
            d = decls.decl_of_object(a.base)
            if d is not None:
                for role, letter in d.slots:
                    if role == "index" and isinstance(decls.indices[letter].size, sp.Symbol):
                        sizes.add(decls.indices[letter].size)
        for e in ex.atoms(Expect):
            for v in e.variables:
                d = decls.decl_of_object(v if not isinstance(v, sp.Indexed) else v.base)
                if d is not None:
                    for role, letter in d.slots:
                        if isinstance(decls.indices[letter].size, sp.Symbol):
                            sizes.add(decls.indices[letter].size)
        for s in ex.atoms(sp.Sum, sp.Product):
            for var, lo, hi in s.limits:
                sizes |= (lo.free_symbols | hi.free_symbols) & declared_sizes
        for m in ex.atoms(sp.MatrixExpr):
            for n in m.shape:
                sizes |= sp.sympify(n).free_symbols & declared_sizes
    return sorted(sizes, key=str)


def instances(exprs, decls):
    """The instances of a step, smallest sizes first; and whether the representatives rely
    on the permutation symmetry."""
    sizes = size_symbols_of(exprs, decls)
    frees = set()
    for ex in exprs:
        frees |= free_indices(ex, decls)
    frees = sorted(frees, key=str)
    symmetric = is_symmetric(exprs + [d.body for ex in exprs for d in used_definitions(ex, decls)], decls)
    choices = [decls.sizes.get(s, DEFAULT_SIZES) for s in sizes]
    combos = sorted(itertools.product(*choices), key=lambda c: (sum(c), c))
    if len(combos) > MAX_SIZE_COMBINATIONS:
        combos = [c for c in combos if sum(1 for v in c if v > 1) <= 1 or all(v <= 2 for v in c)]
        combos = combos[:MAX_SIZE_COMBINATIONS]
    out = []
    for combo in combos:
        size_env = dict(zip(sizes, combo))
        groups = {}
        for f in frees:
            d = decls.index_of_symbol(f)
            size = d.size
            value = size_env.get(size, size) if isinstance(size, sp.Symbol) else size
            if isinstance(value, sp.Symbol):
                value = 1
            groups.setdefault((str(size), int(value)), []).append(f)
        per_group = []
        for (name, size), letters in sorted(groups.items()):
            if symmetric:
                per_group.append([dict(zip(letters, p)) for p in _patterns(len(letters), size)])
            else:
                per_group.append([dict(zip(letters, p)) for p in itertools.product(range(1, size + 1),
                                                                                     repeat=len(letters))])
        for parts in itertools.product(*per_group):
            values = {}
            for p in parts:
                values.update(p)
            out.append(Instance(tuple(sorted(size_env.items(), key=lambda kv: str(kv[0]))),
                                tuple(sorted(values.items(), key=lambda kv: str(kv[0])))))
            if len(out) >= MAX_INSTANCES:
                return out, symmetric, sizes
    return out, symmetric, sizes


def _patterns(count, size):
    """Value tuples for ``count`` letters up to renaming: restricted growth strings with at
    most ``size`` distinct values (1, 1), (1, 2), ..."""
    out = []

    def grow(prefix, top):
        if len(prefix) == count:
            out.append(tuple(prefix))
            return
        for v in range(1, min(top + 1, size) + 1):
            grow(prefix + [v], max(top, v))

    grow([], 0)
    return out


# --------------------------------------------------------------------------- deciding
_PROOF_STEPS = (
    ("structural", lambda d: d),
    ("is_zero", lambda d: sp.S.Zero if d.is_zero is True else d),
    ("expand", sp.expand),
    ("cancel(together)", lambda d: sp.cancel(sp.together(d))),
    ("rewrite(exp)+cancel", lambda d: sp.cancel(sp.together(sp.expand_power_exp(d.rewrite(sp.exp))))),
    ("simplify", sp.simplify),
)


def _first_step(d, steps, budget, holds):
    """The name of the first ``(name, rewrite)`` of ``steps`` whose result satisfies ``holds``
    within ``budget`` seconds in all (each step at most its cap), or None."""
    deadline = time.monotonic() + budget
    for name, step in steps:
        remaining = deadline - time.monotonic()
        if remaining <= 0.02:
            return None
        try:
            with _time_limit(min(remaining, _cap(4.0))):
                ok = holds(step(d))
        except _OutOfTime:
            continue
        except Exception:  # SymPy raises many kinds on unusual input
            continue
        if ok:
            return name
    return None


def _is_zero(out):
    if isinstance(out, sp.Expr) and out.is_Number and out == 0:
        return True
    return isinstance(out, sp.ZeroMatrix) or (isinstance(out, sp.MatrixBase) and bool(out.is_zero_matrix))


def prove_zero(d, budget):
    """The name of the first exact rewriting that reduces ``d`` to 0 within ``budget`` s, or None."""
    return _first_step(d, _PROOF_STEPS, budget, _is_zero)


_EXPAND_PRODUCTS = dict(mul=True, multinomial=False, power_exp=False, power_base=False, log=False)


def _fraction_form(x):
    """``x`` as one fraction whose numerator and denominator are expanded products, squares
    kept whole (``(a - b)^2`` stays a square, so its sign stays readable)."""
    num, den = sp.fraction(sp.together(x))
    return sp.expand(num, **_EXPAND_PRODUCTS) / sp.expand(den, **_EXPAND_PRODUCTS)


def _logs_combined(d):
    r"""For :math:`d = \sum_i c_i \log a_i` with every :math:`a_i > 0`: an expression with the
    sign of :math:`d`, namely :math:`P - 1` with :math:`P = \prod_i a_i^{c_i/|c_1|}` (as
    :math:`d = |c_1|\log P` and :math:`\log` is increasing), in :func:`_fraction_form`.
    ``d`` itself otherwise."""
    parts = []
    for term in sp.Add.make_args(d):
        c, rest = term.as_coeff_Mul()
        if not (isinstance(rest, sp.log) and rest.args[0].is_positive is True and c != 0):
            return d
        parts.append((c, rest.args[0]))
    c0 = abs(parts[0][0])
    return _fraction_form(sp.Mul(*[a ** (c / c0) for c, a in parts]) - 1)


def prove_sign(d, strict, budget):
    """A proof that ``d >= 0`` (``d > 0`` when ``strict``) from SymPy's assumptions, or None.

    Tried in turn: ``d`` as it is, ``factor``, ``cancel(together)``, one fraction with
    expanded products (squares kept whole), for a sum of logarithms of positive numbers the
    sign of (their product) - 1, and ``simplify``."""
    steps = (("assumptions", lambda x: x), ("factor", sp.factor),
             ("cancel(together)", lambda x: sp.cancel(sp.together(x))),
             ("one fraction, squares kept", _fraction_form),
             ("logarithms combined", _logs_combined), ("simplify", sp.simplify))
    return _first_step(d, steps, budget, lambda out: (out.is_positive if strict else out.is_nonnegative) is True)


@dataclass
class Decision:
    """The outcome for one instance."""

    verdict: str
    method: str
    counterexample: dict | None = None
    values: tuple | None = None
    detail: str = ""
    evidence: list = field(default_factory=list)


def decide(lhs, rhs, relation, assumptions, budget):
    """Decide ``lhs relation rhs`` over concrete symbols within about ``budget`` seconds.

    Without expectations left: :func:`~ml2p_symbolic.identity.check_identity` (an identity)
    or a sign proof and a counterexample search (an inequality). With expectations that the
    symbolic rules could not evaluate: exact rewriting (the expectations as opaque terms), then
    :func:`refute_expectations` (one-dimensional quadratures)."""
    budget = max(budget, 0.5)
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        return _decide_entries(lhs, rhs, relation, assumptions, budget)
    if lhs.has(Expect) or rhs.has(Expect):
        if relation == "=":
            how = prove_zero(lhs - rhs, budget / 3)
            if how is not None:
                return Decision("verified", how, detail="exact rewriting with the expectations as opaque terms")
        else:
            d = (rhs - lhs) if relation in ("<=", "<") else (lhs - rhs)
            how = prove_sign(d, relation in ("<", ">"), budget / 3)
            if how is not None:
                return Decision("verified", f"sign of the difference ({how})")
        found = refute_expectations(lhs, rhs, relation, assumptions, budget / 2)
        if found is not None:
            return found
        return Decision("open", "undecided", detail="expectations without a closed form; no exact proof and "
                        "no counterexample (quadrature is one-dimensional only)")
    if relation == "=":
        v = check_identity(lhs, rhs, assumptions=assumptions or None, timeout=max(0.5, budget / 2))
        return Decision(v.verdict, v.method, v.counterexample, v.values, v.detail, list(v.evidence))
    # inequalities: lhs <= rhs  <=>  d = rhs - lhs >= 0
    if relation in ("<=", "<"):
        d = rhs - lhs
    else:
        d = lhs - rhs
    strict = relation in ("<", ">")
    how = prove_sign(d, strict, budget / 3)
    if how is not None:
        return Decision("verified", f"sign of the difference ({how})",
                        detail=f"the difference {'>' if strict else '>='} 0 follows from the symbols' assumptions")
    v = check_identity(sp.Min(d, 0), sp.Integer(0), assumptions=assumptions or None,
                       timeout=max(0.5, budget / 3))
    if v.verdict == "refuted":
        values = _values_at(lhs, rhs, v.counterexample)
        return Decision("refuted", "numeric counterexample", v.counterexample, values,
                        "the inequality fails at the counterexample (lhs and rhs at 50 digits)")
    if v.verdict == "verified":
        return Decision("verified", f"min(difference, 0) = 0 ({v.method})")
    return Decision("open", "undecided", detail="no sign proof and no counterexample")


def _decide_entries(lhs, rhs, relation, assumptions, budget):
    """``lhs = rhs`` between explicit matrices: every entry proved, or the first refuted one."""
    if not (isinstance(lhs, sp.MatrixBase) and isinstance(rhs, sp.MatrixBase)) or lhs.shape != rhs.shape:
        return Decision("open", "error", detail="the two sides have different shapes in this instance")
    n = lhs.shape[0] * lhs.shape[1]
    methods, opened = [], []
    for r in range(lhs.shape[0]):
        for c in range(lhs.shape[1]):
            dec = decide(lhs[r, c], rhs[r, c], relation, assumptions, max(0.5, budget / n))
            where = f"entry ({r + 1}, {c + 1})"
            if dec.verdict == "refuted":
                dec.detail = f"{where}: {dec.detail}"
                dec.evidence = [f"{where}: refuted"] + list(dec.evidence)
                return dec
            if dec.verdict == "verified":
                methods.append(dec.method)
            else:
                opened.append(where)
    if opened:
        return Decision("open", "undecided", detail=f"{', '.join(opened)} neither proved nor refuted")
    return Decision("verified", ", ".join(sorted(set(methods))),
                    detail=f"every entry of the {lhs.shape[0]} x {lhs.shape[1]} matrices proved")


def _pairs(lhs, rhs):
    """(lhs, rhs) entry pairs of two explicit matrices, or the one pair of two scalars."""
    if isinstance(lhs, sp.MatrixBase) and isinstance(rhs, sp.MatrixBase) and lhs.shape == rhs.shape:
        return list(zip(list(lhs), list(rhs)))
    return [(lhs, rhs)]


#: digits of the two evaluations that confirm a counterexample with expectations
EXPECTATION_CONFIRM_DIGITS = (40, 60)
_SCREEN_VALUES = tuple(sp.Rational(v) for v in ("1/2", "-1", "2", "-3/7", "1", "3", "-5/2", "7/3", "-2", "11/5"))


def refute_expectations(lhs, rhs, relation, assumptions, budget):
    """A counterexample to ``lhs relation rhs`` whose sides contain expectations, or None.

    Points with exact rational coordinates inside the declared domain (the symbols'
    assumptions and ``assumptions``) are screened at 20 digits (each expectation a
    one-dimensional :func:`mpmath.quad`); a point where the relation clearly fails is
    confirmed at 40 and at 60 digits (both must show the same violation, with a gap above
    ``1e-25`` relative), and both sides are reported at 40 digits."""
    deadline = time.monotonic() + budget
    free = sorted(lhs.free_symbols | rhs.free_symbols, key=str)
    rng = __import__("random").Random(20240611)
    points = []
    for n in range(len(_SCREEN_VALUES)):
        points.append({s: _SCREEN_VALUES[(n + i) % len(_SCREEN_VALUES)] for i, s in enumerate(free)})
    for _ in range(20):
        points.append({s: sp.Rational(rng.randint(-60, 60), rng.choice((1, 2, 3, 7, 10))) for s in free})
    tried = 0
    for point in points:
        if time.monotonic() > deadline:
            break
        point = {s: _into_domain(s, v) for s, v in point.items()}
        if not _satisfies(point, assumptions):
            continue
        tried += 1
        try:
            with _time_limit(max(0.1, deadline - time.monotonic())):
                screen = _violation(lhs, rhs, relation, point, 20)
                if screen is None:
                    continue
                confirmed = [_violation(lhs, rhs, relation, point, d) for d in EXPECTATION_CONFIRM_DIGITS]
        except _OutOfTime:
            break
        if any(c is None for c in confirmed):
            continue
        (l1, r1), (l2, r2) = confirmed
        with mpmath.workdps(80):
            g1, g2 = mpmath.mpf(str(l1 - r1)), mpmath.mpf(str(l2 - r2))
            if abs(g1 - g2) > mpmath.mpf("1e-6") * abs(g2):
                continue
        values = (str(sp.Float(l1, EXPECTATION_CONFIRM_DIGITS[0])), str(sp.Float(r1, EXPECTATION_CONFIRM_DIGITS[0])))
        return Decision("refuted", "numeric counterexample (expectations by mpmath quadrature)", point, values,
                        f"lhs and rhs at {EXPECTATION_CONFIRM_DIGITS[0]} and {EXPECTATION_CONFIRM_DIGITS[1]} digits "
                        f"(expectations by one-dimensional mpmath quadrature); {tried} point(s) screened")
    return None


def _into_domain(sym, value):
    if sym.is_integer:
        value = sp.Integer(max(1, abs(int(value)))) if sym.is_positive else sp.Integer(int(value))
    if sym.is_positive and not value > 0:
        value = abs(value) if value != 0 else sp.Rational(1, 2)
    if sym.is_nonnegative and value < 0:
        value = -value
    if sym.is_negative and not value < 0:
        value = -abs(value) if value != 0 else sp.Rational(-1, 2)
    return value


def _satisfies(point, assumptions):
    for cond in assumptions or ():
        try:
            if cond.xreplace(point) is not sp.true:
                return False
        except Exception:
            return False
    return True


def _violation(lhs, rhs, relation, point, digits):
    """(lhs, rhs) as Floats at ``digits`` when they clearly violate ``relation``, else None."""
    a = sp.N(lhs.xreplace(point), digits)
    b = sp.N(rhs.xreplace(point), digits)
    if not (isinstance(a, sp.Number) and isinstance(b, sp.Number)) or not (a.is_finite and b.is_finite):
        return None
    if not (a.is_real and b.is_real):
        return None
    gap = a - b
    scale = max(abs(a), abs(b), sp.Float("1e-15"))
    if abs(gap) <= sp.Float("1e-25") * scale or abs(gap) <= sp.Float(10) ** (-(digits // 2)):
        return None
    holds = {"=": False, "<=": gap <= 0, "<": gap < 0, ">=": gap >= 0, ">": gap > 0}[relation]
    return None if holds else (a, b)


def _values_at(lhs, rhs, point):
    try:
        return (str(sp.N(lhs.subs(point), 50)), str(sp.N(rhs.subs(point), 50)))
    except Exception:
        return None


# --------------------------------------------------------------------------- conditions
@dataclass
class _Candidate:
    condition: object       # a SymPy Boolean for the report
    text: str
    size: object = None     # a size symbol forced to 1
    zero: object = None     # a NameDecl whose whole family is 0
    defined: object = None  # a defined NameDecl forced to 0


def _candidates(step_exprs, decls, inst, free_syms):
    cands = []
    for s in size_symbols_of(step_exprs, decls):
        if dict(inst.sizes).get(s, 1) > 1:
            cands.append(_Candidate(sp.Eq(s, 1), f"{s} = 1", size=s))
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
        cands.append(_Candidate(sp.Eq(_display_object(d, decls), 0), f"{d.latex} = 0", zero=d))
    used = []
    for ex in step_exprs:
        used.extend(used_definitions(ex, decls))
    for d in {id(x): x for x in used}.values():
        if _mentions_random(d, decls):
            continue
        cands.append(_Candidate(sp.Eq(_display_object(d, decls), 0), f"{d.latex} = 0", defined=d))
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


# --------------------------------------------------------------------------- the step
def check_relation(lhs, rhs, relation, decls, *, budget=60.0, progress=None):
    """The :class:`~ml2p_symbolic.engine.records.Verdict` of ``lhs relation rhs`` (parse level).

    ``relation`` is ``"="``, ``"<="``, ``"<"``, ``">="`` or ``">"``; ``decls`` the document's
    :class:`~ml2p_symbolic.engine.latex_input.Declarations`; ``budget`` a soft limit in
    seconds (the hard limit is the caller's, see :mod:`.check`).
    """
    # [reading, issue 16] \neq and \approx: their meaning lives in .relations
    if relation in ("!=", "~="):
        from .relations import OTHER_RELATIONS
        return OTHER_RELATIONS[relation](lhs, rhs, decls, budget=budget, check=check_relation)
    start = time.monotonic()
    deadline = start + budget
    _LIMITS["scale"] = max(1.0, budget / NOMINAL_BUDGET)
    evidence = []
    with mpmath.workdps(50):
        # 1. symbolic sizes
        symbolic = _symbolic_attempt(lhs, rhs, relation, decls, min(_cap(4.0), budget / 6))
        if symbolic is not None:
            return symbolic
        # 2. instances
        insts, symmetric, sizes = instances([lhs, rhs], decls)
        if not insts:
            return Verdict("open", "no instance", detail="no concrete instance of the step could be formed")
        results = []
        refuting = None
        timed_out = False
        for inst in insts:
            remaining = deadline - time.monotonic()
            if remaining <= 0.2:
                timed_out = True
                break
            try:
                conc = Concretizer(decls, inst)
                lhs_c, rhs_c = conc.run(lhs), conc.run(rhs)
                rules = []
                lhs_c = reduce_expectations(lhs_c, rules)
                rhs_c = reduce_expectations(rhs_c, rules)
                # [reading, issue 16] family assumptions hold for every member (see .assumptions)
                assumptions = instance_assumptions(decls, conc, [lhs_c, rhs_c])
            except _OutOfRange:
                continue
            per_budget = min(remaining / 2, max(8.0, budget / 4))
            for description in conc.structures_used:
                if f"matrices: {description}" not in evidence:
                    evidence.append(f"matrices: {description}")
            dec = decide(lhs_c, rhs_c, relation, assumptions, per_budget)
            if rules:
                dec.evidence.append("expectation rules: " + "; ".join(dict.fromkeys(rules)))
            results.append((inst, dec, conc, lhs_c, rhs_c))
            evidence.append(f"{inst.describe()}: {dec.verdict} ({dec.method})")
            if progress:
                progress(inst, dec)
            if dec.verdict == "refuted":
                refuting = (inst, dec, conc, lhs_c, rhs_c)
                break
        notes = []
        for _, _, conc, _, _ in results:
            notes.extend(n for n in conc.matrix_notes if n not in notes)
        scope = _scope_text(sizes, insts, symmetric, decls, notes)
        if refuting is not None:
            return _conditional_or_refuted(lhs, rhs, relation, decls, insts, results, refuting,
                                           deadline, evidence, scope)
        if timed_out:
            return Verdict("open", "timed out", detail=f"open (timed out): the budget of {budget:g} s ran out "
                           f"after {len(results)} of {len(insts)} instances", evidence=tuple(evidence))
        if results and all(dec.verdict == "verified" for _, dec, _, _, _ in results):
            methods = sorted({dec.method for _, dec, _, _, _ in results})
            return Verdict("verified", ", ".join(methods),
                           detail=f"proved by exact rewriting {scope}",
                           evidence=tuple(evidence))
        return Verdict("open", "undecided", detail=f"neither proved nor refuted {scope}",
                       evidence=tuple(evidence))


def _scope_text(sizes, insts, symmetric, decls, notes=()):
    matrices_text = ("; with " + "; ".join(notes)) if notes else ""
    if not sizes and not any(inst.values for inst in insts):
        return "(at the declared sizes" + matrices_text + ")" if notes else "(no indices)"
    tried = {}
    for inst in insts:
        for s, v in inst.sizes:
            tried.setdefault(s, set()).add(v)
    size_text = " and ".join(f"{s} = {', '.join(map(str, sorted(v)))}" for s, v in sorted(tried.items(), key=lambda kv: str(kv[0])))
    frees = sorted({str(s) for inst in insts for s, _ in inst.values})
    text = f"for the concrete sizes {size_text}" if size_text else "for the declared index ranges"
    if frees:
        text += (f"; free indices {', '.join(frees)} at one representative per pattern of equal and "
                 "distinct values (the statement is invariant under permutations of index values)"
                 if symmetric else f"; free indices {', '.join(frees)} at every value")
    text += " (not proved for symbolic sizes)" if size_text else ""
    return text + matrices_text


def _symbolic_attempt(lhs, rhs, relation, decls, budget):
    """Prove the step with symbolic sizes when it has sums and no derivative, bar,
    expectation or defined quantity (those need concrete instances)."""
    if relation != "=":
        return None
    both = [lhs, rhs]
    if not any(e.has(sp.Sum, sp.Product, sp.MatrixSymbol) for e in both):
        return None
    if any(e.has(Diff, EvalAt, Expect, Gradient, MatrixEvalAt) for e in both):
        return None
    if any(used_definitions(e, decls) for e in both):
        return None
    try:
        difference = lhs - rhs
    except Exception:  # SymPy cannot subtract these symbolically (shapes as written)
        return None
    how = prove_zero(difference, budget)
    if how is None:
        return None
    what = "symbolic matrix algebra" if any(e.has(sp.MatrixSymbol) for e in both) else "symbolic sums"
    return Verdict("verified", how, detail=f"proved for every size ({what}, exact rewriting)",
                   evidence=(f"symbolic sizes: lhs - rhs -> 0 by {how}",))


def _conditional_or_refuted(lhs, rhs, relation, decls, insts, results, refuting, deadline, evidence, scope):
    inst, dec, conc, lhs_c, rhs_c = refuting
    cx = dict(dec.counterexample or {})
    for s, v in inst.sizes:
        cx[s] = sp.Integer(v)
    for s, v in inst.values:
        cx[s] = sp.Integer(v)
    free_syms = lhs_c.free_symbols | rhs_c.free_symbols
    cands = _candidates([lhs, rhs], decls, inst, free_syms)
    proved, tried = [], []
    cache = {}
    for cand in cands:
        if time.monotonic() > deadline - 0.5:
            tried.append(f"{cand.text}: not tried (time)")
            continue
        ok, note = _prove_under(cand, lhs, rhs, relation, decls, insts, deadline, cache)
        tried.append(f"under {cand.text}: {note}")
        if ok:
            proved.append(cand)
    where = f"at {inst.describe()}"
    if proved:
        condition = sp.Or(*[c.condition for c in proved]) if len(proved) > 1 else proved[0].condition
        return Verdict("conditional", "condition search + " + dec.method, counterexample=cx, values=dec.values,
                       condition=condition,
                       detail=(f"proved to hold exactly under {' or '.join(c.text for c in proved)} (each "
                               f"{scope}; an indexed family = 0 means every member); refuted outside "
                               f"{where}: lhs = {dec.values[0] if dec.values else '?'}, rhs = "
                               f"{dec.values[1] if dec.values else '?'}"),
                       evidence=tuple(evidence + tried))
    return Verdict("refuted", dec.method, counterexample=cx, values=dec.values,
                   detail=(f"counterexample {where} (both sides evaluated at 50 and 80 digits): "
                           f"lhs = {dec.values[0] if dec.values else '?'}, rhs = {dec.values[1] if dec.values else '?'}"),
                   evidence=tuple(evidence + tried))


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
        with _time_limit(_cap(2.0)):
            a = sp.N(lhs.xreplace(point), 30)
            b = sp.N(rhs.xreplace(point), 30)
    except (_OutOfTime, Exception):
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


def _prove_under(cand, lhs, rhs, relation, decls, insts, deadline, cache):
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
        except _OutOfRange:
            continue
        imposed = _apply_candidate(cand, conc, lhs_c, rhs_c, decls)
        if imposed is None:
            return False, "cannot be imposed"
        if any(_numerically_different(a, b, relation) for a, b in _pairs(*imposed)):
            return False, f"fails numerically at {inst.describe()}"
        imposed_all.append((inst, imposed))
    for inst, imposed in imposed_all:
        if time.monotonic() > deadline - 0.3:
            return False, "not finished (time)"
        l2, r2 = (reduce_expectations(x) for x in imposed)
        if l2.has(Expect) or r2.has(Expect):
            return False, f"an expectation left unevaluated at {inst.describe()}"
        budget = min(_cap(6.0), max(0.5, deadline - time.monotonic() - 0.2))
        for a, b in _pairs(l2, r2):
            if relation == "=":
                ok = prove_zero(a - b, budget) is not None
            else:
                d = (b - a) if relation in ("<=", "<") else (a - b)
                ok = prove_sign(d, relation in ("<", ">"), budget) is not None
            if not ok:
                return False, f"not proved at {inst.describe()}"
    return True, f"proved on {len(allowed)} instance(s)"
