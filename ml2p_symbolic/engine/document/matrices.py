r"""Vectors and matrices of a document at concrete sizes: explicit SymPy matrices of symbols.

A step that uses a declared vector or matrix (``%! vector``, ``%! matrix``) is checked at
concrete sizes, like any indexed step: each declared matrix becomes an explicit matrix whose
entries are symbols ranging over exactly the declared set, so that a proof covers every
matrix of the structure and a counterexample is one of them:

=============================  ===============================================================
structure                      explicit form at size :math:`n` (symbols of the step)
=============================  ===============================================================
general (and vectors)          one real symbol per entry (``A_12``); a vector is the column of
                               its family's members (``\hat\theta_k``, random or defined ones too)
``symmetric``                  one real symbol per entry on and above the diagonal
``diagonal``                   real symbols on the diagonal, zeros elsewhere
``positive diagonal``          positive symbols on the diagonal
``symmetric positive           :math:`L\,\mathrm{diag}(d)\,L^\top`, :math:`L` unit lower
definite``                     triangular with real entries ``Sigma_L21``, ..., :math:`d_k > 0`
                               (``Sigma_d1``, ...): every symmetric positive definite matrix,
                               each exactly once (the :math:`LDL^\top` factorisation)
=============================  ===============================================================

For the structured forms the inverse and the determinant are the exact ones of the
factorisation -- :math:`L^{-\top}\mathrm{diag}(1/d)L^{-1}` (:math:`L^{-1}` is again unit lower
triangular, with polynomial entries) and :math:`\prod_k d_k` -- so that a diagonal entry of
:math:`\Sigma^{-1}` is a sum of squares over positive numbers that SymPy's assumptions can
read. Products, sums, transposes, traces, determinants (of products, inverses and transposes
by the product rule) and entries are then plain SymPy matrix arithmetic.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.determinant import Determinant
from sympy.matrices.expressions.matexpr import MatrixExpr

from ...errors import ML2PError
from ..latex_input.matrix_nodes import Diag, Entry, Gradient, MatrixEvalAt, Scalar, is_matrix
from ..latex_input.nodes import Diff

__all__ = ["Structure", "structure", "evaluate", "is_matrix_node", "describe_structure", "short_description"]


class Structure:
    """The explicit form of a declared matrix at a concrete size: ``matrix``, and where the
    structure gives them exactly, ``inverse`` and ``det`` (else None)."""

    def __init__(self, matrix, inverse=None, det=None, description=""):
        self.matrix = sp.ImmutableMatrix(matrix)
        self.inverse = None if inverse is None else sp.ImmutableMatrix(inverse)
        self.det = det
        self.description = description


def describe_structure(mdecl, n):
    """One sentence on how ``mdecl`` is represented at size ``n`` (for a verdict's evidence)."""
    name = sym = mdecl.obj.name
    if mdecl.structure == "symmetric positive definite":
        return (f"{name} = L diag(d) L^T at size {n}, L unit lower triangular with real entries L_ij = {sym}_Lij, "
                f"d_k = {sym}_dk > 0 (every symmetric positive definite matrix, each exactly once)")
    if mdecl.structure == "symmetric":
        return f"{name}: a symmetric {n} x {n} matrix of real symbols {sym}_ij (i <= j)"
    if mdecl.structure == "diagonal":
        return f"{name}: a diagonal {n} x {n} matrix of real symbols {sym}_kk"
    if mdecl.structure == "positive diagonal":
        return f"{name}: a diagonal {n} x {n} matrix of positive symbols {sym}_kk"
    return f"{name}: a matrix of real symbols"


def short_description(mdecl):
    """How ``mdecl`` is represented, in a few words (for a verdict's detail)."""
    name = mdecl.obj.name
    return {
        "symmetric positive definite": f"{name} = L diag(d) L^T, L unit lower triangular, d > 0 (every symmetric "
                                       "positive definite matrix)",
        "symmetric": f"{name} a symmetric matrix of real symbols",
        "diagonal": f"{name} a diagonal matrix of real symbols",
        "positive diagonal": f"{name} a diagonal matrix of positive symbols",
    }.get(mdecl.structure, f"{name} a matrix of real symbols")


def structure(mdecl, n):
    """The :class:`Structure` of a structured square matrix ``mdecl`` at size ``n``."""
    name = mdecl.obj.name
    kind = mdecl.structure
    if kind == "symmetric positive definite":
        d = [sp.Symbol(f"{name}_d{k + 1}", positive=True) for k in range(n)]
        L = sp.eye(n)
        for i in range(n):
            for j in range(i):
                L[i, j] = sp.Symbol(f"{name}_L{i + 1}{j + 1}", real=True)
        # L^{-1} by forward substitution: unit lower triangular, polynomial entries
        M = sp.eye(n)
        for i in range(n):
            for j in range(i):
                M[i, j] = sp.expand(-sum(L[i, m] * M[m, j] for m in range(j, i)))
        matrix = L * sp.diag(*d) * L.T
        inverse = M.T * sp.diag(*[1 / x for x in d]) * M
        return Structure(matrix, inverse, sp.Mul(*d), describe_structure(mdecl, n))
    if kind == "symmetric":
        entries = {}
        for i in range(n):
            for j in range(i, n):
                entries[(i, j)] = entries[(j, i)] = sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True)
        matrix = sp.Matrix(n, n, lambda i, j: entries[(i, j)])
        return Structure(matrix, None, None, describe_structure(mdecl, n))
    if kind in ("diagonal", "positive diagonal"):
        assumptions = {"positive": True} if kind == "positive diagonal" else {"real": True}
        diag = [sp.Symbol(f"{name}_{k + 1}{k + 1}", **assumptions) for k in range(n)]
        return Structure(sp.diag(*diag), sp.diag(*[1 / x for x in diag]), sp.Mul(*diag),
                         describe_structure(mdecl, n))
    raise ML2PError(f"internal: {mdecl.latex} has no structured form ({kind})")


def is_matrix_node(e):
    """True for the nodes :func:`evaluate` handles (matrix expressions and their scalars)."""
    return isinstance(e, (MatrixExpr, sp.MatrixBase, Entry, Scalar, Determinant, sp.Trace))


# --------------------------------------------------------------------------- evaluation
def evaluate(conc, e, env, keep, rv):
    """The value of the matrix node ``e`` over the concrete symbols of ``conc`` (a
    :class:`~.steps.Concretizer`): an ``ImmutableMatrix`` or a scalar."""
    ev = _Evaluator(conc, env, keep, rv)
    return ev.value(e)


class _Evaluator:
    def __init__(self, conc, env, keep, rv):
        self.conc, self.env, self.keep, self.rv = conc, env, keep, rv

    def size(self, n):
        value = self.conc.run(sp.sympify(n), self.env, self.keep, self.rv)
        if not value.is_Integer:
            raise ML2PError(f"the size {n} is not concrete in this instance")
        return int(value)

    def scalar(self, e):
        return self.conc.run(e, self.env, self.keep, self.rv)

    # ------------------------------------------------------------------ dispatch
    def value(self, e):
        if isinstance(e, sp.MatrixBase):
            return sp.ImmutableMatrix(e.applyfunc(self.scalar))
        if isinstance(e, sp.MatrixSymbol):
            return self.symbol(e)
        if isinstance(e, Entry):
            m = self.value(e.matrix)
            i, j = (self.conc.index_value(x, self.env) for x in (e.i, e.j))
            if not (1 <= i <= m.shape[0] and 1 <= j <= m.shape[1]):
                self.conc.out_of_range(f"entry ({i}, {j}) of a {m.shape[0]} x {m.shape[1]} matrix")
            return m[int(i) - 1, int(j) - 1]
        if isinstance(e, Scalar):
            return self.value(e.matrix)[0, 0]
        if isinstance(e, Determinant):
            return self.det(e.arg)
        if isinstance(e, sp.Trace):
            return self.value(e.arg).trace()
        if isinstance(e, sp.ZeroMatrix):
            return sp.ImmutableMatrix(sp.zeros(self.size(e.shape[0]), self.size(e.shape[1])))
        if isinstance(e, sp.Identity):
            return sp.ImmutableMatrix(sp.eye(self.size(e.shape[0])))
        if isinstance(e, sp.MatAdd):
            out = None
            for a in e.args:
                v = self.value(a)
                out = v if out is None else out + v
            return sp.ImmutableMatrix(out)
        if isinstance(e, sp.MatMul):
            coefficient, product = sp.Integer(1), None
            for a in e.args:
                if is_matrix(a):
                    v = self.value(a)
                    product = v if product is None else product * v
                else:
                    coefficient *= self.scalar(a)
            return sp.ImmutableMatrix(coefficient * product)
        if isinstance(e, sp.Transpose):
            return self.value(e.arg).T
        if isinstance(e, sp.Inverse):
            return self.inverse(e.arg)
        if isinstance(e, sp.MatPow):
            return sp.ImmutableMatrix(self.value(e.base) ** int(e.exp))
        if isinstance(e, Diag):
            n = self.size(e.size)
            entries = []
            for k in range(1, n + 1):
                inner = dict(self.env)
                inner[e.var] = k
                entries.append(self.conc.run(e.body, inner, self.keep, self.rv))
            return sp.ImmutableMatrix(sp.diag(*entries))
        if isinstance(e, Gradient):
            family = self._vector_family(e.vector)
            n = self.size(e.vector.shape[0])
            column = [self.conc.run(Diff(e.body, [(family.obj[sp.Integer(k)], 1)]), self.env, self.keep, self.rv)
                      for k in range(1, n + 1)]
            return sp.ImmutableMatrix(column)
        if isinstance(e, MatrixEvalAt):
            return self.conc.evaluation_bar(e, self.env, self.keep, self.rv)
        raise ML2PError(f"internal: no concrete value for the matrix expression {e}")

    def _vector_family(self, vector):
        mdecl = self.conc.decls.matrix_of_object(vector)
        if mdecl is None or mdecl.family is None:
            raise ML2PError(f"{vector} is not a declared vector")
        return mdecl.family

    # ------------------------------------------------------------------ declared matrices
    def symbol(self, e):
        decls = self.conc.decls
        mdecl = decls.matrix_of_object(e)
        if mdecl is None:
            decl = decls.decl_of_object(e)
            if decl is None or decl.kind != "define":
                raise ML2PError(f"{e} is not declared")
            return sp.ImmutableMatrix(self.conc.run(decl.body, self.env, self.keep, self.rv))
        rows, cols = self.size(mdecl.rows), self.size(mdecl.cols)
        if mdecl.structure != "general":
            return self.conc.matrix_structure(mdecl, rows).matrix
        family = mdecl.family
        if mdecl.is_vector:
            members = [self.conc.member(family, (sp.Integer(k),), self.env, self.keep, self.rv)
                       for k in range(1, rows + 1)]
            return sp.ImmutableMatrix(members)
        return sp.ImmutableMatrix(rows, cols, lambda i, j: self.conc.member(
            family, (sp.Integer(i + 1), sp.Integer(j + 1)), self.env, self.keep, self.rv))

    def _structured(self, e):
        """The :class:`Structure` when ``e`` is a declared structured matrix, else None."""
        if not isinstance(e, sp.MatrixSymbol):
            return None
        mdecl = self.conc.decls.matrix_of_object(e)
        if mdecl is None or mdecl.structure == "general":
            return None
        return self.conc.matrix_structure(mdecl, self.size(mdecl.rows))

    def _defined(self, e):
        if isinstance(e, sp.MatrixSymbol) and self.conc.decls.matrix_of_object(e) is None:
            decl = self.conc.decls.decl_of_object(e)
            if decl is not None and decl.kind == "define":
                return decl.body
        return None

    # ------------------------------------------------------------------ inverse, determinant
    def inverse(self, e):
        st = self._structured(e)
        if st is not None and st.inverse is not None:
            return st.inverse
        body = self._defined(e)
        if body is not None:
            return self.inverse(body)
        if isinstance(e, sp.Inverse):
            return self.value(e.arg)
        if isinstance(e, sp.Transpose):
            return self.inverse(e.arg).T
        if isinstance(e, Diag):
            m = self.value(e)
            return sp.ImmutableMatrix(sp.diag(*[1 / m[k, k] for k in range(m.shape[0])]))
        m = self.value(e)
        if m.is_diagonal():
            return sp.ImmutableMatrix(sp.diag(*[1 / m[k, k] for k in range(m.shape[0])]))
        return sp.ImmutableMatrix(m.inv())

    def det(self, e):
        st = self._structured(e)
        if st is not None and st.det is not None:
            return st.det
        body = self._defined(e)
        if body is not None:
            return self.det(body)
        if isinstance(e, sp.Inverse):
            return 1 / self.det(e.arg)
        if isinstance(e, sp.Transpose):
            return self.det(e.arg)
        if isinstance(e, sp.MatMul):
            factors = [a for a in e.args if is_matrix(a)]
            if all(a.shape[0] == a.shape[1] for a in factors):
                n = self.size(e.shape[0])
                coefficient = sp.Mul(*[self.scalar(a) for a in e.args if not is_matrix(a)])
                return coefficient ** n * sp.Mul(*[self.det(a) for a in factors])
        m = self.value(e)
        if m.is_diagonal():
            return sp.Mul(*[m[k, k] for k in range(m.shape[0])])
        return m.det(method="berkowitz")
