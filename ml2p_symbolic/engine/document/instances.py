r"""Concrete instances of a step: sizes and free-index values, and the concretizer.

An :class:`Instance` gives every size symbol a number (by default 1, 2, 3 each; ``%! sizes``
chooses) and every free index a value; :class:`Concretizer` turns a parse-level expression
into SymPy over concrete symbols for one instance (sums expanded, defined quantities replaced
by their definitions, a derivative with respect to a defined quantity taken with the quantity
kept as a variable of its own, expectations bound to standard normals).

An instance is evidence at its sizes only: a step that holds at every instance is ``tested``,
never ``verified`` (only :mod:`ml2p_symbolic.engine.kernel` makes that, from a symbolic
proof, :mod:`.elaborate`). When the statement is invariant under permutations of index values
(every sum over a full declared range, indices only as subscripts, no literal index, and no
assumption that names one member) one representative per pattern of equal and distinct free
indices stands for all of them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

from ...errors import ML2PError, NotCheckableError
from ..latex_input.matrix_nodes import is_matrix
from ..latex_input.nodes import Diff, EvalAt, Expect, StandardNormal
from . import matrices
from .substitution import substitute

__all__ = ["Instance", "Concretizer", "concretize", "instances", "used_definitions", "free_indices",
           "is_symmetric", "size_symbols_of", "OutOfRange", "DEFAULT_SIZES", "MAX_SIZE_COMBINATIONS",
           "MAX_INSTANCES", "Plan"]

#: sizes tried for an index range when the document does not say (``%! sizes``)
DEFAULT_SIZES = (1, 2, 3)
#: at most this many size combinations and instances per step (a limit reached is said in the verdict)
MAX_SIZE_COMBINATIONS = 12
MAX_INSTANCES = 48


class OutOfRange(Exception):
    """A literal index exceeds the size of its range in this instance: skip the instance."""


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
                raise OutOfRange(f"{decl.latex} with index {value} outside 1..{size}")
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
            return self._iterate(e.function, list(e.limits), isinstance(e, sp.Sum), env, keep, rv)
        if isinstance(e, Diff):
            return self._diff(e, env, keep, rv)
        if isinstance(e, EvalAt):
            return self._evalat(e, env, keep, rv)
        if isinstance(e, Expect):
            return self._expect(e, env, keep, rv)
        if not e.args:
            return e
        return e.func(*[self._c(a, env, keep, rv) for a in e.args])

    def _iterate(self, body, limits, is_sum, env, keep, rv):
        """A sum (product) over ``limits``, the last one outermost (SymPy's order for nested
        sums, which it flattens into one ``Sum`` with several limits), expanded."""
        (var, lo, hi), inner_limits = limits[-1], limits[:-1]
        lo_c, hi_c = self._c(lo, env, keep, rv), self._c(hi, env, keep, rv)
        if not (lo_c.is_Integer and hi_c.is_Integer):
            raise ML2PError(f"the limits {lo} .. {hi} are not integers in this instance")
        total = []
        for v in range(int(lo_c), int(hi_c) + 1):
            inner = dict(env)
            inner[var] = v
            total.append(self._iterate(body, inner_limits, is_sum, inner, keep, rv) if inner_limits
                         else self._c(body, inner, keep, rv))
        return sp.Add(*total) if is_sum else sp.Mul(*total)

    def _indexed(self, e, env, keep, rv):
        decl = self.decls.decl_of_object(e.base)
        if decl is None:
            raise ML2PError(f"{e.base} is not declared")
        idx = tuple(self.index_value(i, env, decl, pos) for pos, i in enumerate(e.indices))
        return self._member(decl, idx, env, keep, rv)

    def out_of_range(self, message):
        """Skip this instance: a literal index lies outside its range here."""
        raise OutOfRange(message)

    def member(self, decl, idx, env, keep, rv):
        """The concrete value of the member ``idx`` of the family ``decl``."""
        return self._member(decl, idx, env, keep, rv)

    def _member(self, decl, idx, env, keep, rv):
        if decl.kind == "matrix":
            n = int(self._c(decl.matrix.rows, env, keep, rv))
            i, j = (int(v) for v in idx)
            if not (1 <= i <= n and 1 <= j <= n):
                raise OutOfRange(f"{decl.latex} with index ({i}, {j}) outside 1..{n}")
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
        result = substitute(body, targets)
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
                # the law of member idx: its mean and variance at the member's index
                law_env = env if not decl.slots else {**env, **{
                    self.decls.indices[letter].symbol: v for (role, letter), v in zip(decl.slots, idx)
                    if role == "index"}}
                mean = self._c(decl.mean if decl.mean is not None else sp.Integer(0), law_env, keep, rv)
                var_ = self._c(decl.variance if decl.variance is not None else sp.Integer(1), law_env, keep, rv)
                if var_.is_nonnegative is not True:
                    raise NotCheckableError(f"the variance {var_} of {decl.latex} is not known to be >= 0")
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


@dataclass(frozen=True)
class Plan:
    """The instances of a step and what they cover.

    ``instances`` (smallest sizes first); ``symmetric``: one representative per pattern of
    equal/distinct free indices; ``sizes``: the size symbols; ``total``: how many instances
    the sizes tried have (``truncated`` when more than :data:`MAX_INSTANCES`, or when size
    combinations were dropped past :data:`MAX_SIZE_COMBINATIONS`)."""

    instances: tuple
    symmetric: bool
    sizes: tuple
    total: int
    truncated: bool

    def size_values(self):
        """{size symbol name: sorted sizes tried}, over the instances actually formed."""
        tried = {}
        for inst in self.instances:
            for s, v in inst.sizes:
                tried.setdefault(str(s), set()).add(v)
        return {k: sorted(v) for k, v in sorted(tried.items())}


def _assumptions_symmetric(decls):
    """True when no ``%! assume`` names one member of a family (a literal index)."""
    return all(not any(i.is_Integer for a in cond.atoms(sp.Indexed) for i in a.indices)
               for cond in decls.assumptions)


def instances(exprs, decls):
    """The :class:`Plan` of a step's instances."""
    frees = set()
    for ex in exprs:
        frees |= free_indices(ex, decls)
    frees = sorted(frees, key=str)
    sizes = set(size_symbols_of(exprs, decls))
    for f in frees:  # a free index ranges over its whole range, whose size then varies too
        size = decls.index_of_symbol(f).size
        if isinstance(size, sp.Symbol):
            sizes.add(size)
    sizes = sorted(sizes, key=str)
    symmetric = (is_symmetric(exprs + [d.body for ex in exprs for d in used_definitions(ex, decls)], decls)
                 and _assumptions_symmetric(decls))
    choices = [decls.sizes.get(s, DEFAULT_SIZES) for s in sizes]
    combos = sorted(itertools.product(*choices), key=lambda c: (sum(c), c))
    truncated = False
    if len(combos) > MAX_SIZE_COMBINATIONS:
        combos = [c for c in combos if sum(1 for v in c if v > 1) <= 1 or all(v <= 2 for v in c)]
        combos = combos[:MAX_SIZE_COMBINATIONS]
        truncated = True
    out = []
    total = 0
    for combo in combos:
        size_env = dict(zip(sizes, combo))
        groups = {}
        for f in frees:
            d = decls.index_of_symbol(f)
            size = d.size
            value = size_env.get(size, size) if isinstance(size, sp.Symbol) else size
            if isinstance(value, sp.Symbol):
                value = 1
                truncated = True  # a range whose size is not among the sizes tried
            groups.setdefault((str(size), int(value)), []).append(f)
        per_group = []
        for (name, size), letters in sorted(groups.items()):
            if symmetric:
                per_group.append([dict(zip(letters, p)) for p in _patterns(len(letters), size)])
            else:
                per_group.append([dict(zip(letters, p)) for p in itertools.product(range(1, size + 1),
                                                                                     repeat=len(letters))])
        for parts in itertools.product(*per_group):
            total += 1
            if len(out) >= MAX_INSTANCES:
                truncated = True
                continue
            values = {}
            for p in parts:
                values.update(p)
            out.append(Instance(tuple(sorted(size_env.items(), key=lambda kv: str(kv[0]))),
                                tuple(sorted(values.items(), key=lambda kv: str(kv[0])))))
    return Plan(tuple(out), symmetric, tuple(sizes), total, truncated)


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

