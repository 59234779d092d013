r"""SymPy nodes for the matrix notation of a document (``%! vector``, ``%! matrix``).

A declared vector or matrix is a :class:`sympy.MatrixSymbol` whose shape holds the declared
sizes (``\Sigma`` is ``MatrixSymbol('Sigma', K, K)``); products, sums, ``^{-1}`` and ``^\top``
are SymPy's own matrix expressions. What SymPy has no inert form for, or prints in a way the
reader would refuse, is a node of this module:

* :class:`Det` -- :math:`\det M` (SymPy's ``Determinant``, printed ``\det\left(M\right)``
  rather than with bars, which the reader refuses);
* :class:`Entry` -- :math:`(M)_{ij}`, the entry of a matrix expression, **1-based** as
  written (SymPy's ``MatrixElement`` is 0-based and evaluates products into sums);
* :class:`Scalar` -- the number a :math:`1\times 1` matrix expression stands for (a quadratic
  form :math:`v^\top A v` used in a sum of scalars);
* :class:`Diag` -- :math:`\mathrm{diag}(f_k)`, the diagonal matrix with entries
  :math:`f_1, \ldots, f_n` (``k`` bound, like a sum's index);
* :class:`Gradient` -- :math:`\partial f / \partial v`, the column of the partial
  derivatives of a scalar ``f`` with respect to the components of the vector ``v``;
* :class:`MatrixEvalAt` -- an evaluation bar on a matrix-valued expression.

All are inert: only the step checker (:mod:`ml2p_symbolic.engine.document.matrices`) gives
them values, at concrete sizes. Each prints back with ``sympy.latex`` in notation the reader
parses.

Examples
========

>>> import sympy as sp
>>> K = sp.Symbol('K', integer=True, positive=True)
>>> S = sp.MatrixSymbol('Sigma', K, K)
>>> k = sp.Symbol('k', integer=True, positive=True)
>>> sp.latex(Entry(S**-1, k, k))
'\\left(\\Sigma^{-1}\\right)_{k k}'
>>> sp.latex(Det(S))
'\\det\\left(\\Sigma\\right)'
"""

from __future__ import annotations

import sympy as sp
from sympy.core.containers import Tuple
from sympy.core.expr import Expr
from sympy.matrices.expressions.determinant import Determinant
from sympy.matrices.expressions.matexpr import MatrixExpr

__all__ = ["Det", "Entry", "Scalar", "Diag", "Gradient", "MatrixEvalAt", "is_matrix", "shape_text"]


def is_matrix(value):
    """True when ``value`` is a matrix expression (symbolic or explicit)."""
    return isinstance(value, (MatrixExpr, sp.MatrixBase))


def shape_text(value):
    """``'K x K'``, ``'2 x 1'``: the shape of a matrix expression as a reader would say it."""
    rows, cols = value.shape
    return f"{sp.sstr(rows)} x {sp.sstr(cols)}"


class Det(Determinant):
    r""":math:`\det M` of a square matrix expression ``M``."""

    def _latex(self, printer):
        return r"\det\left(%s\right)" % printer._print(self.arg)

    def _sympystr(self, printer):
        return "det(%s)" % printer._print(self.arg)


class Entry(Expr):
    r""":math:`(M)_{ij}`: the entry in row ``i``, column ``j`` (1-based) of ``M``."""

    is_commutative = True

    def __new__(cls, matrix, i, j):
        return Expr.__new__(cls, matrix, sp.sympify(i), sp.sympify(j))

    @property
    def matrix(self):
        return self.args[0]

    @property
    def i(self):
        return self.args[1]

    @property
    def j(self):
        return self.args[2]

    def _latex(self, printer):
        rows, cols = self.matrix.shape
        if cols == 1:
            sub = printer._print(self.i)
        elif rows == 1:
            sub = printer._print(self.j)
        else:
            sub = "%s %s" % (printer._print(self.i), printer._print(self.j))
        return r"\left(%s\right)_{%s}" % (printer._print(self.matrix), sub)

    def _sympystr(self, printer):
        return "(%s)[%s, %s]" % (printer._print(self.matrix), printer._print(self.i), printer._print(self.j))


class Scalar(Expr):
    r"""The number a :math:`1\times 1` matrix expression ``M`` stands for."""

    is_commutative = True

    def __new__(cls, matrix):
        return Expr.__new__(cls, matrix)

    @property
    def matrix(self):
        return self.args[0]

    def _latex(self, printer):
        return printer._print(self.matrix)

    def _sympystr(self, printer):
        return "scalar(%s)" % printer._print(self.matrix)


class Diag(MatrixExpr):
    r""":math:`\mathrm{diag}(f_k)_{k=1}^{n}`: ``body`` depends on the bound index ``var``;
    ``size`` is ``n`` (a size symbol or an integer)."""

    def __new__(cls, body, var, size):
        return MatrixExpr.__new__(cls, sp.sympify(body), var, sp.sympify(size))

    @property
    def body(self):
        return self.args[0]

    @property
    def var(self):
        return self.args[1]

    @property
    def size(self):
        return self.args[2]

    @property
    def shape(self):
        return (self.size, self.size)

    @property
    def free_symbols(self):
        return (self.body.free_symbols - {self.var}) | self.size.free_symbols

    def _entry(self, i, j, **kwargs):  # pragma: no cover - never indexed symbolically
        raise NotImplementedError("Diag has entries only at concrete sizes")

    def _latex(self, printer):
        return r"\mathrm{diag}\left(%s\right)" % printer._print(self.body)

    def _sympystr(self, printer):
        return "diag(%s; %s=1..%s)" % (printer._print(self.body), self.var, self.size)


class Gradient(MatrixExpr):
    r""":math:`\partial f / \partial v`: a column (the shape of ``vector``) of partial
    derivatives of the scalar ``body``."""

    def __new__(cls, body, vector):
        return MatrixExpr.__new__(cls, sp.sympify(body), vector)

    @property
    def body(self):
        return self.args[0]

    @property
    def vector(self):
        return self.args[1]

    @property
    def shape(self):
        return self.vector.shape

    def _entry(self, i, j, **kwargs):  # pragma: no cover
        raise NotImplementedError("Gradient has entries only at concrete sizes")

    def _latex(self, printer):
        body = printer._print(self.body)
        if not isinstance(self.body, (sp.Symbol, sp.Indexed)):
            body = r"\left(%s\right)" % body
        return r"\frac{\partial %s}{\partial %s}" % (body, printer._print(self.vector))

    def _sympystr(self, printer):
        return "grad(%s, %s)" % (printer._print(self.body), printer._print(self.vector))


class MatrixEvalAt(MatrixExpr):
    r""":math:`M\big|_{t_1 = v_1, \ldots}` for a matrix-valued ``M``."""

    def __new__(cls, expr, pairs):
        return MatrixExpr.__new__(cls, expr, Tuple(*[Tuple(t, v) for t, v in pairs]))

    @property
    def expr(self):
        return self.args[0]

    @property
    def pairs(self):
        return tuple((p[0], p[1]) for p in self.args[1])

    @property
    def shape(self):
        return self.expr.shape

    def _entry(self, i, j, **kwargs):  # pragma: no cover
        raise NotImplementedError("MatrixEvalAt has entries only at concrete sizes")

    def _latex(self, printer):
        subs = r" \\ ".join("%s=%s" % (printer._print(t), printer._print(v)) for t, v in self.pairs)
        return r"\left. %s \right|_{\substack{ %s }}" % (printer._print(self.expr), subs)

    def _sympystr(self, printer):
        return "(%s)|_{%s}" % (printer._print(self.expr), ", ".join(f"{t}={v}" for t, v in self.pairs))
