r"""The matrix half of the translator: shapes, products, ``^{-1}``, ``^\top``, entries,
``\det``, ``\operatorname{tr}``, ``\mathrm{diag}``, gradients.

:class:`MatrixTranslation` is a mixin of :class:`~.translate.Translator`. Its rules, each
refusing with the source position what it cannot read for sure:

* a declared vector or matrix (``%! vector``, ``%! matrix``, or a matrix-valued ``%! define``)
  is a :class:`sympy.MatrixSymbol`; sums need equal shapes, products conformable shapes
  (compared as written: ``K`` and ``n`` differ), a scalar multiplies anything;
* a :math:`1\times 1` product (:math:`v^\top A v`) is a scalar where a scalar is expected;
  any other matrix where a scalar is expected is refused;
* superscripts on a matrix: ``^{-1}`` (square), ``^\top``, ``^{\top}``, ``^T``, ``^{T}``,
  ``^\intercal``, ``^\mathsf{T}`` (transpose; ``T`` must then not be a declared name),
  a positive integer power (square); nothing else;
* a subscript on a matrix value is its entry, 1-based, with index letters whose range is the
  matching dimension (or digits): ``(\Sigma^{-1})_{kk}``, ``\Sigma^{-1}_{kk}`` (the
  superscript written first: the entry of the inverse); ``\Sigma_{kk}^{-1}``, which prints
  the same, is refused as ambiguous;
* ``\det M`` / ``\det(M)`` (square), ``\operatorname{tr}(M)`` (square),
  ``\mathrm{diag}(f_k)`` (the diagonal matrix over the range of the one free index ``k`` of
  ``f_k``), ``\mathrm{diag}(v)`` (a vector's entries), ``\mathrm{diag}(a, b, ...)``;
* ``\frac{\partial f}{\partial v}`` for a vector ``v`` is the gradient (a column of ``v``'s
  shape); a relation between matrices is ``=`` of equal shapes, and ``= 0`` against a matrix
  means the zero matrix.
"""

from __future__ import annotations

import math

import sympy as sp
from lark import Token
from sympy.matrices.common import ShapeError as SympyShapeError

from ...errors import LatexInputError
from .matrix_nodes import Det, Diag, Entry, Gradient, MatrixEvalAt, Scalar, is_matrix, shape_text

__all__ = ["MatrixTranslation", "MATRIX_FUNCTIONS"]

#: names read as matrix functions when not declared otherwise (they need parentheses)
MATRIX_FUNCTIONS = {
    r"\operatorname{tr}": "trace", r"\mathrm{tr}": "trace", r"\operatorname{Tr}": "trace",
    r"\mathrm{Tr}": "trace", r"\mathrm{diag}": "diag", r"\operatorname{diag}": "diag",
}
_TRANSPOSE_KEYS = {"T", r"\mathsf{T}", r"\mathrm{T}", r"\top", r"\intercal"}


def _square(value):
    rows, cols = value.shape
    return rows == cols


def fit_items(items, arity):
    """Split digit runs into single digits when that gives ``arity`` items (``a_{12}``)."""
    if len(items) == arity:
        return items
    split = []
    for it in items:
        split.extend(it if it.isdigit() else [it])
    return split if len(split) == arity else None


#: largest exact power computed while reading (decimal digits of the result)
MAX_POWER_DIGITS = 50_000


class MatrixTranslation:
    """Mixin: the matrix rules of the translator (see the module docstring)."""

    # ------------------------------------------------------------------ safety net
    def checked(self, fn, node):
        """Run ``fn()``; a SymPy shape or type error becomes a refusal at ``node``."""
        try:
            return fn()
        except LatexInputError:
            raise
        except (SympyShapeError, TypeError, ValueError, AttributeError) as exc:
            raise self.error(node, f"cannot combine these terms ({type(exc).__name__}: {exc}); "
                             "check the shapes of the vectors and matrices") from None

    def scalar(self, value, node, what="this"):
        """``value`` where a scalar is expected: a 1 x 1 matrix is its number; any other
        matrix is refused."""
        if is_matrix(value):
            if value.shape == (1, 1):
                return Scalar(value)
            raise self.error(node, f"{what} must be a scalar, but it is a {shape_text(value)} matrix")
        return value

    # ------------------------------------------------------------------ sums and products
    def add(self, total, value, node):
        """``total + value`` with shape checks (``total`` None for the first term)."""
        if total is None:
            return value
        if is_matrix(total) and is_matrix(value) and total.shape == value.shape:
            return self.checked(lambda: total + value, node)
        if is_matrix(total) or is_matrix(value):
            if any(is_matrix(v) and v.shape != (1, 1) for v in (total, value)):
                what = [shape_text(v) + " matrix" if is_matrix(v) else "scalar" for v in (total, value)]
                raise self.error(node, f"cannot add a {what[0]} and a {what[1]}")
            total, value = self.scalar(total, node), self.scalar(value, node)
        return total + value

    def multiply(self, factors, nodes):
        """The product of juxtaposed ``factors`` (scalars and matrices, in order)."""
        if not any(is_matrix(f) for f in factors):
            return sp.Mul(*factors) if factors else sp.Integer(1)
        scalars, matrices = [], []
        for f, node in zip(factors, nodes):
            if is_matrix(f):
                matrices.append((f, node))
            else:
                scalars.append(f)
        # a 1 x 1 matrix standing between non-conformable neighbours is a scalar factor
        product = None
        for m, node in matrices:
            if product is None:
                product = m
                continue
            if product.shape[1] == m.shape[0]:
                product = self.checked(lambda: product * m, node)
            elif m.shape == (1, 1):
                scalars.append(Scalar(m))
            elif product.shape == (1, 1):
                scalars.append(Scalar(product))
                product = m
            else:
                raise self.error(node, f"cannot multiply a {shape_text(product)} by a {shape_text(m)} matrix "
                                 "(the inner sizes differ)")
        coefficient = sp.Mul(*scalars)
        return product if coefficient == 1 else self.checked(lambda: coefficient * product, nodes[0])

    def exact_power(self, base, exponent, node):
        """``base ** exponent``, refusing an exact number too large to compute: a rational
        base to a rational exponent whose value has more than :data:`MAX_POWER_BITS` bits
        (``2^{2^{40}}`` would take hours and 128 GB while the document is read)."""
        if isinstance(base, sp.Rational) and isinstance(exponent, sp.Rational) and abs(base) not in (0, 1):
            digits = (abs(exponent.p) // exponent.q + 1) * max(math.log10(abs(base.p)), math.log10(base.q))
            if digits > MAX_POWER_DIGITS:
                raise self.error(node, f"this power is an exact number of about {digits:.3g} digits, "
                                 f"too large to compute (at most {MAX_POWER_DIGITS} digits)")
        return base ** exponent

    def divide(self, num, den, node):
        den = self.scalar(den, node, "a denominator")
        if is_matrix(num):
            return self.checked(lambda: (1 / den) * num, node)
        return num / den

    # ------------------------------------------------------------------ superscripts
    def transpose_key(self, sarg):
        """``'T'``, ``'\\top'``, ... when the superscript ``sarg`` is a transpose marker
        (``^T``, ``^{T}``, ``^\\top``, ``^{\\top}``, ``^\\intercal``, ``^\\mathsf{T}``), else None."""
        kind = sarg.data
        if kind == "sarg_top":
            return str(sarg.children[0])
        if kind == "sarg_char":
            return "T" if str(sarg.children[0]) == "T" else None
        if kind == "sarg_accent":
            key = self._subscript_items(sarg)[1]
            return key if key in _TRANSPOSE_KEYS else None
        if kind == "sarg_group":
            sublist = sarg.children[0]
            items = [c for c in sublist.children if not isinstance(c, Token)] if sublist.data == "sublist" else []
            if len(items) != 1 or len(items[0].children) != 1:
                return None
            post = self._single_postfix(items[0].children[0])
            if post is None or len(post.children) != 1:
                return None
            atom = post.children[0]
            if atom.data == "top":
                return str(atom.children[0])
            if atom.data in ("word", "accent"):
                key = self._name_ref(atom, None).key
                return key if key in _TRANSPOSE_KEYS else None
        return None

    def is_transpose_marker(self, sarg):
        return self.transpose_key(sarg) is not None

    def power(self, value, sarg, node):
        """``value`` raised to the superscript ``sarg`` (a transpose marker on a matrix)."""
        if not is_matrix(value):
            if sarg.data == "sarg_top":
                raise self.error(sarg, "a transpose ^\\top applies to a vector or matrix")
            exponent = self.scalar(self._script_value(sarg), sarg, "an exponent")
            return self.exact_power(value, exponent, sarg)
        key = self.transpose_key(sarg)
        if key is not None:
            if self._declared_name(key):
                raise self.error(sarg, f"ambiguous ^{key}: {key} is a declared name; write ^\\top for the transpose")
            return value.T
        exponent = self._script_value(sarg)
        if is_matrix(exponent) or not (getattr(exponent, "is_Integer", False)):
            raise self.error(sarg, "a matrix takes only ^{-1}, ^\\top or a positive integer power")
        if not _square(value):
            raise self.error(sarg, f"only a square matrix has powers; this one is {shape_text(value)}")
        if exponent == -1:
            return self.checked(lambda: value ** -1, sarg)
        if exponent > 0:
            return self.checked(lambda: value ** exponent, sarg)
        raise self.error(sarg, "a matrix takes only ^{-1}, ^\\top or a positive integer power")

    def _declared_name(self, key):
        """Whether ``key`` alone (no subscript) names something a superscript could mean."""
        if key in self.local or key in self.decls.indices or key in self.decls.matrices:
            return True
        if any(s.name == key for s in self.decls.size_symbols()):
            return True
        return any(not d.slots and d.label_text is None for d in self.decls.names.get(key, []))

    # ------------------------------------------------------------------ entries
    def bare_matrix(self, atom):
        """The MatrixSymbol a name atom stands for without scripts (or None)."""
        key = self._name_ref(atom, None).key
        if key in self.local:
            return None
        mdecl = self.decls.matrices.get(key)
        if mdecl is not None:
            return mdecl.obj
        for d in self.decls.names.get(key, []):
            if not d.slots and d.label_text is None and is_matrix(d.obj):
                return d.obj
        return None

    def name_with_scripts(self, atom, item, ref, sub, sup):
        """The value of a matrix name with its scripts, in the order written."""
        matrix = self.bare_matrix(atom)
        order = [s.data for s in item.children[1:]]
        mdecl = self.decls.matrix_of_object(matrix)
        if sub is None:
            return self.power(matrix, sup, item) if sup is not None else matrix
        if sup is None:
            if mdecl is not None:
                return self._resolve_value(ref)       # the family member, checked slot by slot
            return self.entry(matrix, sub, item)
        if order == ["sup", "sub"]:
            return self.entry(self.power(matrix, sup, item), sub, item)
        if self.is_transpose_marker(sup) or self._script_value(sup) == -1:
            raise self.error(item, f"ambiguous: {ref.key}_{{..}}^{{..}} prints like {ref.key}^{{..}}_{{..}}; write "
                             f"({ref.key}^{{-1}})_{{..}} for an entry of the inverse or ({ref.key}_{{..}})^{{-1}} "
                             "for the reciprocal of an entry")
        member = self._resolve_value(ref) if mdecl is not None else self.entry(matrix, sub, item)
        return self.power(member, sup, item)

    def postfix_matrix(self, value, item):
        """A matrix-valued atom (a parenthesis) with its scripts applied in order."""
        for script in item.children[1:]:
            if script.data == "sup":
                value = self.power(value, script.children[0], script)
            elif is_matrix(value):
                value = self.entry(value, script.children[0], script)
            else:
                raise self.error(script, "a subscript is only understood on a name, a matrix, \\sum, \\prod "
                                 "or an evaluation bar")
        return value

    def entry(self, matrix, sub, node):
        """``(matrix)_{sub}``: an :class:`Entry` (1-based), or the family member of a declared
        vector or matrix."""
        items, text = self._subscript_items(sub)
        rows, cols = (sp.sympify(n) for n in matrix.shape)
        arity = 1 if (rows == 1 or cols == 1) and not (rows == 1 and cols == 1) else 2
        fitted = fit_items(items, arity) if items is not None else None
        if fitted is None:
            raise self.error(sub, f"an entry of a {shape_text(matrix)} matrix takes {arity} index "
                             f"letter(s) or digit(s), got _{{{text}}}")
        if arity == 1:
            dims = [rows] if cols == 1 else [cols]
        else:
            dims = [rows, cols]
        idx = [self._entry_index(item, dim, sub) for item, dim in zip(fitted, dims)]
        if arity == 1:
            i, j = (idx[0], sp.Integer(1)) if cols == 1 else (sp.Integer(1), idx[0])
        else:
            i, j = idx
        mdecl = self.decls.matrix_of_object(matrix)
        if mdecl is not None and mdecl.family is not None:
            return mdecl.family.obj[tuple(idx)]
        return Entry(matrix, i, j)

    def _entry_index(self, item, dim, node):
        if item.isdigit():
            value = sp.Integer(int(item))
            if value < 1 or (dim.is_Integer and value > dim):
                raise self.error(node, f"index {value} is outside 1..{dim}")
            return value
        for letter, bsym, bdecl in reversed(self.bound):
            if letter == item:
                size = bdecl.size if bdecl is not None else None
                if size is not None and size != dim:
                    raise self.error(node, f"{item} runs over 1..{size}, but this dimension is {dim}")
                return bsym
        idx = self.decls.indices.get(item)
        if idx is None:
            raise self.error(node, f"{item} is not a declared index (an entry's subscript is index letters "
                             "or digits)")
        if idx.size != dim:
            raise self.error(node, f"{item} runs over 1..{idx.size}, but this dimension is {dim}")
        return idx.symbol

    # ------------------------------------------------------------------ functions of matrices
    def det_of(self, value, node):
        if not is_matrix(value):
            raise self.error(node, "\\det applies to a square matrix")
        if not _square(value):
            raise self.error(node, f"\\det needs a square matrix; this one is {shape_text(value)}")
        return Det(value)

    def trace_of(self, args, group):
        if len(args) != 1 or not is_matrix(args[0]):
            raise self.error(group, "the trace takes one square matrix")
        if not _square(args[0]):
            raise self.error(group, f"the trace needs a square matrix; this one is {shape_text(args[0])}")
        return sp.Trace(args[0])

    def diag_of(self, args, group):
        """``\\mathrm{diag}(f_k)``, ``\\mathrm{diag}(v)`` or ``\\mathrm{diag}(a, b, ...)``."""
        if len(args) > 1:
            return sp.ImmutableMatrix(sp.diag(*[self.scalar(a, group, "an entry of diag") for a in args]))
        (arg,) = args
        if is_matrix(arg):
            rows, cols = arg.shape
            if cols != 1 and rows != 1:
                raise self.error(group, "diag takes a vector, an expression with one free index, or a list")
            vector = arg if cols == 1 else arg.T
            bound = sp.Symbol("k", integer=True)
            mdecl = self.decls.matrix_of_object(vector)
            body = mdecl.family.obj[bound] if mdecl is not None and mdecl.family is not None \
                else Entry(vector, bound, 1)
            return Diag(body, bound, vector.shape[0])
        frees = sorted({s for s in arg.free_symbols if self.decls.index_of_symbol(s) is not None}, key=str)
        if len(frees) != 1:
            raise self.error(group, "diag(...) of a scalar needs exactly one free index (the diagonal "
                             f"position), e.g. \\mathrm{{diag}}(\\hat\\sigma_k^2); found {len(frees)}")
        index = self.decls.index_of_symbol(frees[0])
        bound = sp.Symbol(index.letter, integer=True)
        return Diag(arg.xreplace({frees[0]: bound}), bound, index.size)

    # ------------------------------------------------------------------ derivatives, bars
    def gradient(self, body, variables, node):
        vectors = [v for v, _ in variables if is_matrix(v)]
        if not vectors:
            return None
        if len(variables) != 1 or variables[0][1] != 1:
            raise self.error(node, "a derivative with respect to a vector is the gradient: first order, "
                             "one vector")
        (vector,) = vectors
        return Gradient(self.scalar(body, node, "the function differentiated"), vector)

    def vector_target(self, target, value, node):
        """Check an evaluation-bar entry whose left side is a vector."""
        mdecl = self.decls.matrix_of_object(target)
        if mdecl is None or not mdecl.is_vector or mdecl.family is None or mdecl.family.kind in ("define", "random"):
            raise self.error(node, "the left side of an evaluation-bar entry must be a variable "
                             "(a declared vector's components can be set, not a matrix)")
        if not is_matrix(value) or value.shape != target.shape:
            raise self.error(node, f"a vector of shape {shape_text(target)} is set to a value of another shape")

    def barred(self, value, pairs):
        return MatrixEvalAt(value, pairs) if is_matrix(value) else None

    # ------------------------------------------------------------------ relations
    def normalize_chain(self, exprs, rels, nodes):
        """Scalars and matrices of one relation chain made comparable (see the module docstring)."""
        big = next((e for e in exprs if is_matrix(e) and e.shape != (1, 1)), None)
        if big is None:
            return [Scalar(e) if is_matrix(e) else e for e in exprs]
        out = []
        for e, node in zip(exprs, nodes):
            if is_matrix(e):
                if e.shape != big.shape:
                    raise self.error(node, f"a {shape_text(e)} matrix is related to a {shape_text(big)} one")
                out.append(e)
            elif e == 0:
                out.append(sp.ZeroMatrix(*big.shape))
            else:
                raise self.error(node, f"a scalar is related to a {shape_text(big)} matrix (only '= 0' "
                                 "means the zero matrix)")
        for rel, start, _ in rels:
            if rel != "=":
                raise self.error(start - self.base, "matrices are related only by '='")
        return out

