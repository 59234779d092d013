r"""From the Lark tree of a formula to SymPy, with the document's declarations.

The grammar (``math.lark``) is loose about meaning; this module decides it and refuses, with
the source position, everything it cannot decide for sure:

* **names**: a run of letters is one name (``KL``), so it must be declared unless it is a
  single letter; ``e`` is Euler's number and ``\pi`` is pi unless declared; an undeclared
  name is refused. A subscript on a declared slotted name gives an ``Indexed`` object
  (``a_{ik}`` -> ``a[i, k]``), checked slot by slot against the declaration (``\theta_{jk}``
  with label ``j`` refuses ``\theta_{ik}``).
* **juxtaposition**: ``f(x)`` applies ``f`` when ``f`` is a declared function (or ``\exp``,
  ``\log``, ``\ln``); a declared variable written with a subscript times a parenthesis is a
  product (``\hat a_{ik}(\hat\theta_{jk} + 1)``); any other ``name(`` is refused as
  ambiguous (``\sigma(x)`` with ``\sigma`` not a function, ``x(y + 1)``).
* **scope**: ``\sum``, ``\prod`` and the operator form ``\frac{\partial}{\partial x}`` take
  the rest of the term (up to the next ``+``, ``-``, relation or closing bracket) as their
  body; a sum binds its index.
* ``/`` only between two single factors (``(a+b)/(c+d)``, ``x/2``); ``2x/3`` is refused.
* ``\log x`` applies to the single factor after it; ``\log x y`` is refused.
"""

from __future__ import annotations

import re

import sympy as sp
from lark import Token, Tree

from ...errors import LatexInputError
from .matrix_nodes import is_matrix
from .matrix_translate import MATRIX_FUNCTIONS, MatrixTranslation, fit_items
from .names import NameRef, base_key, scalar_name, sympy_name
from .nodes import Approx, Diff, EvalAt, Expect
from .notation import DraftNotation, is_number

__all__ = ["Translator", "NameRef", "base_key", "sympy_name", "scalar_name", "relation_class"]

_RELATIONS = {"=": "=", "<": "<", ">": ">", r"\le": "<=", r"\leq": "<=", r"\leqslant": "<=",
              r"\ge": ">=", r"\geq": ">=", r"\geqslant": ">=", r"\neq": "!=", r"\ne": "!=",
              r"\approx": "~="}
#: the functions written as commands (\\det is the matrix determinant)
_SCALAR_FUNCTIONS = {r"\exp": sp.exp, r"\log": sp.log, r"\ln": sp.log, r"\tanh": sp.tanh, r"\sinh": sp.sinh,
                     r"\cosh": sp.cosh, r"\sin": sp.sin, r"\cos": sp.cos, r"\tan": sp.tan}
#: functions written with a power before their argument (\tanh^2 x = (\tanh x)^2)
_POWERED_FUNCTIONS = {r"\tanh", r"\sinh", r"\cosh", r"\sin", r"\cos", r"\tan"}
_REL_CLASSES = {"=": sp.Eq, "<": sp.StrictLessThan, ">": sp.StrictGreaterThan,
                "<=": sp.LessThan, ">=": sp.GreaterThan, "!=": sp.Ne, "~=": Approx}


#: longest number literal read (digits)
MAX_LITERAL_DIGITS = 4000


def relation_class(rel):
    """The SymPy relational class of ``"="``, ``"<="``, ``"<"``, ``">="``, ``">"``, ``"!="``
    (``\\neq``), or :class:`~.nodes.Approx` for ``"~="`` (``\\approx``)."""
    return _REL_CLASSES[rel]


# --------------------------------------------------------------------------- translator
class Translator(MatrixTranslation, DraftNotation):
    """Translate Lark trees of one piece of a source file into SymPy (the matrix rules are
    those of :class:`~.matrix_translate.MatrixTranslation`, the notation of drafts that issue 16
    added those of :class:`~.notation.DraftNotation`).

    Parameters
    ==========
    decls : Declarations
    source : SourceText
    piece : str
        The parsed text (positions in trees are offsets into it).
    base : int
        Offset of ``piece`` in ``source.text``.
    """

    def __init__(self, decls, source, piece, base, *, local=None):
        self.decls = decls
        self.source = source
        self.piece = piece
        self.base = base
        self.local = dict(local or {})     # key -> SymPy object (function parameters)
        self.bound = []                    # stack of (letter, bound symbol, IndexDecl or None)

    # ------------------------------------------------------------------ errors, positions
    def _offset(self, node):
        if isinstance(node, Token):
            return node.start_pos or 0
        meta = getattr(node, "meta", None)
        if meta is not None and not meta.empty:
            return meta.start_pos
        for child in node.children:
            return self._offset(child)
        return 0

    def error(self, node, message):
        offset = node if isinstance(node, int) else self._offset(node)
        return self.source.error(self.base + offset, message)

    def text_of(self, node):
        if isinstance(node, Token):
            return str(node)
        meta = node.meta
        return self.piece[meta.start_pos:meta.end_pos]

    # ------------------------------------------------------------------ entry points
    def chain(self, tree):
        """A ``chain`` tree -> (expressions, [(relation, start, end offsets in the file)],
        forall letters)."""
        exprs, rels, forall, nodes = [], [], [], []
        for child in tree.children:
            if isinstance(child, Token) and child.type == "REL":
                rels.append((_RELATIONS[str(child)], self.base + child.start_pos, self.base + child.end_pos))
            elif isinstance(child, Tree) and child.data == "forall":
                forall = self._forall(child)
            else:
                value = self.checked(lambda: self.expr(child), child)
                if isinstance(value, sp.Basic) and value.has(sp.zoo, sp.nan):
                    raise self.error(child, "this expression is undefined (a division by zero)")
                exprs.append(value)
                nodes.append(child)
        if any(is_matrix(e) for e in exprs):
            exprs = self.normalize_chain(exprs, rels, nodes)
        return exprs, rels, forall

    def _forall(self, tree):
        letters = []
        for item in tree.children:
            if isinstance(item, Token):
                continue
            ref = self._simple_letter(item)
            if ref is None:
                raise self.error(item, "\\forall expects a list of index letters")
            if ref not in self.decls.indices and ref not in self.decls.labels:
                raise self.error(item, f"\\forall {ref}: {ref} is not a declared index (%! index) "
                                       "or a subscript label of a declared name")
            letters.append(ref)
        return letters

    def _simple_letter(self, subitem):
        """The letter of a subitem that is a single letter (or None)."""
        if subitem.data != "subitem" or len(subitem.children) != 1:
            return None
        post = self._single_postfix(subitem.children[0])
        if post is None or len(post.children) != 1:
            return None
        atom = post.children[0]
        if isinstance(atom, Tree) and atom.data == "word" and len(str(atom.children[0])) == 1:
            return str(atom.children[0])
        return None

    def _single_postfix(self, expr_tree):
        """The postfix tree when ``expr_tree`` is a single factor with no sign, else None."""
        if not isinstance(expr_tree, Tree) or expr_tree.data != "sum":
            return None
        if len(expr_tree.children) != 1:
            return None
        term = expr_tree.children[0]
        if not isinstance(term, Tree) or term.data != "term" or len(term.children) != 1:
            return None
        post = term.children[0]
        return post if isinstance(post, Tree) and post.data == "postfix" else None

    # ------------------------------------------------------------------ expressions
    def expr(self, tree):
        kind = tree.data
        if kind == "sum":
            return self._sum(tree)
        if kind == "barred":
            value = self._sum(tree.children[0])
            for bar in tree.children[1:]:
                value = self._evalbar(value, bar.children[1], bar)
            return value
        raise self.error(tree, f"internal: unexpected {kind}")

    def _sum(self, tree):
        children = list(tree.children)
        total = None
        sign = 1
        for child in children:
            if isinstance(child, Token) and child.type == "SIGN":
                sign = -1 if str(child) == "-" else 1
                continue
            value = self._term(child)
            total = self.add(total, value if sign == 1 else -value, child)
            sign = 1
        return sp.Integer(0) if total is None else total

    def _term(self, tree):
        items = list(tree.children)
        slashes = [i for i, it in enumerate(items) if isinstance(it, Tree) and it.data == "slash"]
        if slashes:
            if len(slashes) > 1 or len(items) != 3 or slashes[0] != 1 or any(
                    isinstance(it, Tree) and it.data == "cdot" for it in items):
                raise self.error(items[slashes[0]], "ambiguous '/': write \\frac{..}{..} or put the "
                                 "numerator and the denominator in parentheses")
            num = self._product(items[:1])
            den = self._product(items[2:])
            return self.divide(num, den, items[1])
        return self._product(items)

    def _product(self, items):
        for n, item in enumerate(items):
            if isinstance(item, Tree) and item.data == "postfix" and isinstance(item.children[0], Tree) \
                    and item.children[0].data == "integral":
                # \int takes the rest of the term, up to its differential (read before letter runs)
                value = self._integral(item, items[n + 1:])
                return value if n == 0 else self.multiply([self._product(items[:n]), value], [items[0], item])
        items = self._split_letter_runs(items)
        factors, nodes = [], []
        i = 0
        previous_was_cdot = True
        while i < len(items):
            item = items[i]
            if isinstance(item, Tree) and item.data == "cdot":
                if previous_was_cdot or i == len(items) - 1:
                    raise self.error(item, "a product sign needs a factor on each side")
                previous_was_cdot = True
                i += 1
                continue
            previous_was_cdot = False
            nodes.append(item)
            if self._prime_order(item) is not None:
                value, consumed = self._primed(items, i)
                factors.append(value)
                i += consumed
                continue
            atom, sub, sup = self._split_postfix(item)
            kind = atom.data if isinstance(atom, Tree) else None
            # big operators and derivative operators take the rest of the term
            if kind == "bigop":
                rest = items[i + 1:]
                if not rest:
                    raise self.error(atom, f"{atom.children[0]} has no summand")
                factors.append(self._bigop(atom, sub, sup, rest))
                break
            if kind == "frac":
                deriv = self._derivative_frac(atom)
                if deriv is not None and deriv[0] is None:
                    if sub is not None or sup is not None:
                        raise self.error(item, "a derivative operator cannot carry a script")
                    rest = items[i + 1:]
                    if not rest:
                        raise self.error(atom, "the derivative operator has nothing to act on")
                    body = self._product(rest)
                    factors.append(self.make_diff(body, deriv[1], atom))
                    break
            if kind == "partial" and sub is not None:
                # \partial_x f: the operator form, acting on the rest of the term
                if sup is not None:
                    raise self.error(item, "write \\partial_x \\partial_x for a second derivative")
                rest = items[i + 1:]
                if not rest:
                    raise self.error(atom, "the derivative operator has nothing to act on")
                var = self._derivative_variable(self._subscript_name(sub))
                factors.append(self.make_diff(self._product(rest), [(var, 1)], atom))
                break
            if kind == "func":
                value, consumed = self._builtin_application(atom, sub, sup, items, i)
                factors.append(value)
                i += consumed
                continue
            if self._is_name_atom(atom) and self._inline_law(atom, sub):
                value, consumed = self._inline_expectation(atom, sub, sup, items, i)
                factors.append(value)
                i += consumed
                continue
            nxt0 = items[i + 1] if i + 1 < len(items) else None
            if self._is_name_atom(atom) and isinstance(nxt0, Tree) and nxt0.data == "postfix" \
                    and isinstance(nxt0.children[0], Tree) and nxt0.children[0].data == "dbar_pair":
                if sup is not None:
                    raise self.error(item, "write a power of D_{\\mathrm{KL}}(..) after the parenthesis")
                factors.append(self._kl(self._name_ref(atom, sub), nxt0))
                nodes.append(nxt0)
                i += 2
                continue
            if self._is_name_atom(atom):
                ref = self._name_ref(atom, sub)
                target = self._resolve_callable(ref)
                nxt = items[i + 1] if i + 1 < len(items) else None
                nxt_group = self._group_kind(nxt)
                if target is not None:
                    kind_, obj = target
                    if nxt_group is None:
                        raise self.error(item, f"{ref.written()} needs its argument in parentheses"
                                         + (" or brackets" if kind_ == "expect" else ""))
                    if sup is not None:
                        raise self.error(item, f"write a power of {ref.written()}(..) after the parenthesis")
                    if kind_ == "diag":
                        value = self.postfix_matrix(self._apply_callable(kind_, obj, ref, nxt, atom), nxt)
                    else:
                        value = self._apply_callable(kind_, obj, ref, nxt, atom)
                        for sup in self._subscripted_arguments(None, nxt, ref.written())[1]:
                            value = self.power(value, sup.children[0], sup)
                    factors.append(value)
                    i += 2
                    continue
                if self.bare_matrix(atom) is not None:
                    factors.append(self.name_with_scripts(atom, item, ref, sub, sup))
                    i += 1
                    continue
                value = self._resolve_value(ref)
                if nxt_group == "paren" and not is_number(value) and not is_matrix(value) \
                        and self._parenthesis_reading(ref, value, sup, nxt) == "quantity":
                    # \ell(\theta): the declared quantity \ell, written with its variables
                    for script in nxt.children[1:]:
                        if script.data == "sub":
                            raise self.error(script, f"a subscript after {ref.written()}(..) is not understood")
                        value = self.power(value, script.children[0], script)
                    factors.append(value)
                    nodes.append(nxt)
                    i += 2
                    continue
                if sup is not None:
                    value = self.power(value, sup, item)
                factors.append(value)
                i += 1
                continue
            factors.append(self._postfix_value(atom, sub, sup, item))
            i += 1
        return self.multiply(factors, nodes[:len(factors)])

    def make_diff(self, body, variables, node):
        """A :class:`Diff` of a scalar body, or the :class:`Gradient` for a vector variable."""
        grad = self.gradient(body, variables, node)
        if grad is not None:
            return grad
        return Diff(self.scalar(body, node, "the function differentiated"), variables)

    # ------------------------------------------------------------------ postfix atoms
    def _split_postfix(self, item):
        if not (isinstance(item, Tree) and item.data == "postfix"):
            raise self.error(item, "unexpected operator")
        atom = item.children[0]
        sub = sup = None
        for script in item.children[1:]:
            if script.data == "prime" or (script.data == "sup" and self._prime_sarg(script.children[0])):
                raise self.error(script, "a prime is only understood on a declared one-variable function "
                                 "(\\sigma'(x)) or a quantity of one variable (P')")
            if script.data == "sub":
                if sub is not None:
                    raise self.error(script, "double subscript")
                sub = script.children[0]
            else:
                if sup is not None:
                    raise self.error(script, "double superscript")
                sup = script.children[0]
        return atom, sub, sup

    def _group_kind(self, item):
        if item is None or not (isinstance(item, Tree) and item.data == "postfix"):
            return None
        atom = item.children[0]
        if isinstance(atom, Tree) and atom.data in ("paren", "bracket", "curly"):
            return atom.data
        if isinstance(atom, Tree) and atom.data == "brace":
            inner = self._single_postfix(atom.children[0])
            if inner is not None and len(inner.children) == 1 and isinstance(inner.children[0], Tree) \
                    and inner.children[0].data in ("paren", "bracket"):
                return inner.children[0].data
        return None

    def _group_args(self, item):
        atom = item.children[0]
        if atom.data == "brace":
            atom = self._single_postfix(atom.children[0]).children[0]
        return [self.expr(c) for c in atom.children], atom

    def _is_name_atom(self, atom):
        if not isinstance(atom, Tree):
            return False
        if atom.data in ("word", "greek", "accent"):
            return True
        if atom.data == "brace":
            inner = self._single_postfix(atom.children[0])
            return inner is not None and len(inner.children) == 1 and self._is_name_atom(inner.children[0])
        return False

    def _name_ref(self, atom, sub):
        while atom.data == "brace":  # {x}, {{x}}: the name x
            atom = self._single_postfix(atom.children[0]).children[0]
        key = base_key(atom)
        offset = self._offset(atom)
        if sub is None:
            return NameRef(key, None, None, offset)
        items, text = self._subscript_items(sub)
        return NameRef(key, items, text, offset, self._offset(sub))

    def _subscript_items(self, sarg):
        """(simple items or None, normalised text) of a subscript."""
        if sarg.data == "sarg_char":
            ch = str(sarg.children[0])
            return [ch], ch
        if sarg.data in ("sarg_greek",):
            t = str(sarg.children[0])
            return None, t
        if sarg.data == "sarg_accent":
            return None, base_key(sarg)
        if sarg.data == "sarg_infty":
            return None, r"\infty"
        # group: the text between the braces
        text = re.sub(r"\s+", "", self.text_of(sarg))
        if text.startswith("{") and text.endswith("}"):
            text = text[1:-1]
        sublist = sarg.children[0]
        items = []
        if sublist.data != "sublist":
            return None, text
        for subitem in sublist.children:
            if isinstance(subitem, Token):
                continue
            if len(subitem.children) != 1:
                return None, text
            term = subitem.children[0]
            if not (isinstance(term, Tree) and term.data == "sum" and len(term.children) == 1):
                return None, text
            for post in term.children[0].children:
                if not (isinstance(post, Tree) and post.data == "postfix" and len(post.children) == 1):
                    return None, text
                atom = post.children[0]
                if atom.data == "word":
                    items.extend(str(atom.children[0]))
                elif atom.data == "number" and re.fullmatch(r"\d+", str(atom.children[0])):
                    items.append(str(atom.children[0]))
                else:
                    return None, text
        return items, text

    def _script_value(self, sarg):
        """The value of a superscript (or of a sum limit)."""
        kind = sarg.data
        if kind == "sarg_char":
            ch = str(sarg.children[0])
            if ch.isdigit():
                return sp.Integer(int(ch))
            return self._resolve_value(NameRef(ch, None, None, self._offset(sarg)))
        if kind == "sarg_greek":
            return self._resolve_value(NameRef(str(sarg.children[0]), None, None, self._offset(sarg)))
        if kind == "sarg_accent":
            return self._resolve_value(NameRef(base_key(sarg), None, None, self._offset(sarg)))
        if kind == "sarg_infty":
            return sp.oo
        sublist = sarg.children[0]
        subitems = [c for c in sublist.children if not isinstance(c, Token)] if sublist.data == "sublist" else []
        if len(subitems) != 1 or len(subitems[0].children) != 1:
            raise self.error(sarg, "a superscript must be one expression")
        return self.expr(subitems[0].children[0])

    def _postfix_value(self, atom, sub, sup, item):
        value = self._atom_value(atom)
        if sub is not None and not is_matrix(value):
            raise self.error(sub, "a subscript is only understood on a name, a matrix, \\sum, \\prod or an "
                             "evaluation bar")
        return self.postfix_matrix(value, item)

    def _atom_value(self, atom):
        kind = atom.data
        if kind == "number":
            if len(atom.children[0]) > MAX_LITERAL_DIGITS:
                raise self.error(atom, f"a number of more than {MAX_LITERAL_DIGITS} digits")
            return sp.Rational(str(atom.children[0]))
        if kind == "frac":
            deriv = self._derivative_frac(atom)
            if deriv is not None:
                return self.make_diff(deriv[0], deriv[1], atom)
            num = self._farg(atom.children[1])
            den = self._farg(atom.children[2])
            return self.divide(num, den, atom)
        if kind == "sqrt":
            if len(atom.children) == 3:
                index = self.scalar(self.expr(atom.children[1]), atom, "a root's index")
                return self.exact_power(self.scalar(self.expr(atom.children[2]), atom, "a root's argument"),
                                        1 / index, atom)
            return sp.sqrt(self.scalar(self.expr(atom.children[1]), atom, "a root's argument"))
        if kind == "paren":
            if len(atom.children) != 1:
                raise self.error(atom, "a parenthesised list is only understood as the arguments of a function")
            return self.expr(atom.children[0])
        if kind in ("bracket", "brace"):
            return self.expr(atom.children[0])
        if kind == "curly":
            if len(atom.children) != 1:
                raise self.error(atom, "a list in \\{..\\} is not understood (a set?)")
            return self.expr(atom.children[0])
        if kind == "dbar_pair":
            raise self.error(atom, "'\\|' is only understood in a KL divergence, D_{\\mathrm{KL}}(q \\| p)")
        if kind == "primecmd":
            raise self.error(atom, "\\prime is only understood as the derivative of a declared one-variable "
                             "function or quantity: f^{\\prime}(x), P^{\\prime}")
        if kind == "infty":
            return sp.oo
        if kind == "top":
            raise self.error(atom, "\\top is only understood as a transpose: a superscript of a vector or matrix")
        if kind == "leftbar":
            value = self.expr(atom.children[1])
            return self._evalbar(value, atom.children[3], atom)
        if kind == "text":
            raise self.error(atom, "\\text{..} is only understood inside a name's subscript "
                             "(e.g. \\mathcal{L}_{\\text{KL}})")
        if kind == "partial":
            raise self.error(atom, "\\partial is only understood in \\frac{\\partial ..}{\\partial ..}")
        if kind == "bigop":
            raise self.error(atom, f"{atom.children[0]} has no summand")
        if kind == "func":
            raise self.error(atom, f"{atom.children[0]} needs an argument")
        raise self.error(atom, f"internal: unexpected {kind}")

    def _farg(self, farg):
        if farg.data == "farg":
            return self.expr(farg.children[0])
        if farg.data == "farg_char":
            ch = str(farg.children[0])
            if ch.isdigit():
                return sp.Integer(int(ch))
            return self._resolve_value(NameRef(ch, None, None, self._offset(farg)))
        return self._resolve_value(NameRef(str(farg.children[0]), None, None, self._offset(farg)))

    # ------------------------------------------------------------------ functions
    def _builtin_application(self, atom, sub, sup, items, i):
        name = str(atom.children[0])
        power = 1
        if sup is not None and sub is None and name in _POWERED_FUNCTIONS:
            # \tanh^2 x is (\tanh x)^2; \sin^{-1} (the inverse) and other exponents are refused
            n = self._script_value(sup)
            if not (isinstance(n, sp.Integer) and n > 1):
                raise self.error(atom, f"{name}^{{..}} is only understood with an integer power >= 2 "
                                 f"(({name} x)^2); an inverse function is not understood")
            power, sup = int(n), None
        if sub is not None or sup is not None:
            raise self.error(atom, f"{name} with a script is not understood (write ({name}(x))^2)")
        scalar_fn = _SCALAR_FUNCTIONS.get(name)
        if scalar_fn is not None:
            def fn(arg, node):
                return scalar_fn(self.scalar(arg, node, f"the argument of {name}")) ** power
        else:
            def fn(arg, node):
                return self.det_of(arg, node)
        nxt = items[i + 1] if i + 1 < len(items) else None
        if nxt is None or (isinstance(nxt, Tree) and nxt.data in ("cdot", "slash")):
            raise self.error(atom, f"{name} needs an argument")
        if self._group_kind(nxt) in ("paren", "curly"):
            args, group = self._group_args(nxt)
            if len(args) != 1:
                raise self.error(group, f"{name} takes one argument")
            args, sups = self._subscripted_arguments(args, nxt, name)
            value = fn(args[0], group)
            for sup in sups:
                value = self.power(value, sup.children[0], sup)
            return value, 2
        natom = nxt.children[0] if isinstance(nxt, Tree) and nxt.data == "postfix" else None
        if isinstance(natom, Tree) and natom.data == "bigop":
            # \log \sum_l ..: the sum takes the rest of the term, so \log applies to all of it
            return fn(self._product(items[i + 1:]), nxt), len(items) - i
        # \log x: the single factor after it (a function applied to its argument counts as
        # one: \log \sigma(z)); a further juxtaposed factor is ambiguous
        width = self._application_width(items, i + 1)
        after = items[i + 1 + width] if i + 1 + width < len(items) else None
        if after is not None and not (isinstance(after, Tree) and after.data in ("cdot", "slash")):
            raise self.error(after, f"ambiguous: does {name} apply to one factor or to the product? "
                             f"write {name}(..) with parentheses")
        arg = self._product(items[i + 1:i + 1 + width])
        return fn(arg, nxt), 1 + width

    def _subscripted_arguments(self, args, group_item, name):
        """A subscript after a function's parenthesis belongs to the argument, ``\\log(\\Sigma^{-1})_{kk}``
        being the logarithm of an entry; superscripts after it are powers of the value. Returns
        (arguments with the subscript applied, superscript scripts)."""
        scripts = group_item.children[1:]
        subs = [sc for sc in scripts if sc.data == "sub"]
        sups = [sc for sc in scripts if sc.data == "sup"]
        if not subs:
            return args, sups
        if scripts[0].data == "sup" or len(subs) > 1:
            raise self.error(group_item, f"write the subscript right after the parenthesis of {name}(..)")
        if args is None:
            raise self.error(subs[0], f"a subscript after {name}(..) is only understood on a matrix argument")
        if len(args) != 1 or not is_matrix(args[0]):
            raise self.error(subs[0], f"a subscript after {name}(..) is only understood on a matrix argument "
                             "(the entry of it)")
        return [self.entry(args[0], subs[0].children[0], subs[0])], sups

    def _application_width(self, items, j):
        """How many items the single factor starting at ``items[j]`` spans: a function applied to
        its argument counts as one (``\\log \\sigma(z)``, ``\\log\\det\\Sigma``)."""
        nxt = items[j] if j < len(items) else None
        if not (isinstance(nxt, Tree) and nxt.data == "postfix"):
            return 1
        natom, nsub, nsup = self._split_postfix(nxt)
        if isinstance(natom, Tree) and natom.data == "func" and nsub is None and nsup is None \
                and j + 1 < len(items):
            if self._group_kind(items[j + 1]) == "paren":
                return 2
            return 1 + self._application_width(items, j + 1)
        if self._is_name_atom(natom) and j + 1 < len(items) and self._group_kind(items[j + 1]) is not None \
                and self._resolve_callable(self._name_ref(natom, nsub)) is not None:
            return 2
        if self._is_name_atom(natom) and nsup is None and j + 1 < len(items) \
                and self._group_kind(items[j + 1]) == "paren":
            # \log L(\theta), L a quantity of \theta: the quantity counts as one factor
            ref = self._name_ref(natom, nsub)
            try:
                value = self._resolve_value(ref)
                if not is_number(value) and not is_matrix(value) \
                        and self._parenthesis_reading(ref, value, None, items[j + 1]) == "quantity":
                    return 2
            except LatexInputError:
                pass    # refused where the factor itself is read
        return 1

    def _resolve_callable(self, ref):
        """('function', FunctionDecl) / ('expect', families) when ``ref`` names a callable."""
        if ref.key == r"\mathbb{E}" and r"\mathbb{E}" not in self.decls.names:
            return "expect", self._expect_variables(ref)
        if ref.text is None and ref.key in self.decls.functions:
            return "function", self.decls.functions[ref.key]
        if ref.text is None and ref.key in MATRIX_FUNCTIONS and ref.key not in self.decls.names \
                and ref.key not in self.local and ref.key not in self.decls.matrices:
            return MATRIX_FUNCTIONS[ref.key], None
        if ref.key in self.decls.functions:
            raise self.error(ref.sub_offset, f"the function {ref.key} takes no subscript")
        return None

    def _apply_callable(self, kind, obj, ref, group_item, atom):
        args, group = self._group_args(group_item)
        if kind == "trace":
            return self.trace_of(args, group)
        if kind == "diag":
            return self.diag_of(args, group)
        if kind == "expect":
            if len(args) != 1:
                raise self.error(group, "an expectation takes one argument")
            return Expect(self.scalar(args[0], group, "an expectation's argument"), obj)
        if len(args) != len(obj.params):
            raise self.error(group, f"{ref.key} takes {len(obj.params)} argument(s), got {len(args)}")
        return obj.apply([self.scalar(a, group, f"an argument of {ref.key}") for a in args])

    def _expect_variables(self, ref):
        randoms = self.decls.randoms()
        if not randoms:
            raise self.error(ref.offset, "an expectation needs random variables: declare them with "
                             "'%! random x \\sim \\mathcal{N}(0, 1)'")
        if ref.text is None:
            return tuple(d.obj for d in randoms)
        out = []
        for piece in _split_top(ref.text, ","):
            target = self._random_by_text(piece)
            if target is None:
                raise self.error(ref.sub_offset, f"the expectation's subscript {piece!r} is not a declared "
                                 "random variable (%! random)")
            out.append(target)
        return tuple(out)

    def _random_by_text(self, text):
        for d in self.decls.randoms():
            written = d.latex
            if text == written or text == d.base:
                return d.obj
            if d.indexed:
                # \varepsilon_k names one member when k is an index letter or a bound letter
                m = re.fullmatch(re.escape(d.base) + r"_\{?([a-zA-Z0-9])\}?", text)
                if m and len(d.slots) == 1:
                    letter = m.group(1)
                    idx = self._index_object(letter, d.slots[0], d, 0)
                    return d.obj[idx]
        return None

    # ------------------------------------------------------------------ big operators
    def _bigop(self, atom, sub, sup, rest):
        name = str(atom.children[0])
        if sub is None:
            raise self.error(atom, f"{name} needs its index, e.g. {name}_{{k=1}}^{{K}}")
        letter, lower, idx_decl = self._bigop_index(sub, atom, name)
        if sup is not None:
            upper = self._script_value(sup)
        elif idx_decl is not None and lower is None:
            upper = idx_decl.size
        else:
            raise self.error(atom, f"{name}_{{{letter}=..}} needs an upper limit ^{{..}}")
        if lower is None:
            if idx_decl is None:
                raise self.error(sub, f"{letter} is not a declared index: write {name}_{{{letter}=1}}^{{..}}")
            lower = sp.Integer(1)
        bound = sp.Symbol(letter, integer=True)
        self.bound.append((letter, bound, idx_decl))
        try:
            body = self.scalar(self._product(rest), atom, f"the body of {name}")
        finally:
            self.bound.pop()
        cls = sp.Sum if name == r"\sum" else sp.Product
        return cls(body, (bound, lower, upper))

    def _bigop_index(self, sub, atom, name):
        if sub.data == "sarg_char" and not str(sub.children[0]).isdigit():
            letter = str(sub.children[0])
            return letter, None, self.decls.indices.get(letter)
        if sub.data == "sarg_group":
            sublist = sub.children[0]
            subitems = [c for c in sublist.children if not isinstance(c, Token)]
            if sublist.data == "substack" and len(subitems) == 1 or sublist.data == "sublist" and len(subitems) == 1:
                item = subitems[0]
                if len(item.children) == 1:
                    letter = self._simple_letter(item)
                    if letter is not None:
                        return letter, None, self.decls.indices.get(letter)
                elif len(item.children) == 3 and str(item.children[1]) == "=":
                    post = self._single_postfix(item.children[0])
                    if post is not None and len(post.children) == 1 and post.children[0].data == "word" \
                            and len(str(post.children[0].children[0])) == 1:
                        letter = str(post.children[0].children[0])
                        lower = self.expr(item.children[2])
                        return letter, lower, self.decls.indices.get(letter)
        raise self.error(sub, f"{name} expects an index such as {name}_{{k=1}}^{{K}} or {name}_{{k}}")

    # ------------------------------------------------------------------ derivatives
    def _derivative_frac(self, atom):
        """For ``\\frac{\\partial F}{\\partial x}`` etc.: (body or None for the operator form,
        [(variable, order)]); None when the fraction is not a derivative."""
        num, den = atom.children[1], atom.children[2]
        if num.data != "farg" or den.data != "farg":
            return None
        num_items = self._term_items(num.children[0])
        if not num_items:
            return None
        head = num_items[0]
        d_kind, order, rest_word = self._differential(head)
        if d_kind is None:
            return None
        if d_kind == "d" and self._scalar_letter("d") and ("d" in self.decls.names or "d" in self.local):
            raise self.error(num, "ambiguous: d is a declared name, so this is a derivative or a fraction of "
                             "products with d; write \\mathrm{d} or \\partial for the derivative")
        den_items = self._term_items(den.children[0])
        if not den_items:
            return None
        variables = self._denominator_variables(den_items, den)
        if variables is None:
            return None
        total = sum(m for _, m in variables)
        if order is not None and order != total:
            raise self.error(num, f"the numerator's order {order} does not match the denominator's {total}")
        if order is None and total != 1:
            raise self.error(num, f"write the order in the numerator: \\partial^{{{total}}}")
        body_items = num_items[1:]
        if rest_word is not None:
            word, word_sub = rest_word
            ref = NameRef(word, None, None, self._offset(head) + 1)
            if word_sub is not None:
                items_, text = self._subscript_items(word_sub)
                ref = NameRef(word, items_, text, ref.offset, self._offset(word_sub))
            body_value = self._resolve_value(ref)
            body = body_value * (self._product(body_items) if body_items else 1)
        elif body_items:
            body = self._product(body_items)
        else:
            body = None
        return body, variables

    def _term_items(self, expr_tree):
        if not (isinstance(expr_tree, Tree) and expr_tree.data == "sum" and len(expr_tree.children) == 1):
            return None
        return list(expr_tree.children[0].children)

    def _differential(self, item):
        """('partial'|'d', order or None, rest of a 'dy' word or None), or (None, ..)."""
        if not (isinstance(item, Tree) and item.data == "postfix"):
            return None, None, None
        atom = item.children[0]
        scripts = item.children[1:]
        order = None
        if atom.data == "word" and len(scripts) == 1 and scripts[0].data == "sub":
            # dP_i: the differential of P_i
            word = str(atom.children[0])
            if word.startswith("d") and len(word) == 2:
                return "d", None, (word[1:], scripts[0].children[0])
            return None, None, None
        if scripts:
            if len(scripts) != 1 or scripts[0].data != "sup":
                return None, None, None
            value = self._script_value(scripts[0].children[0])
            if not (value.is_Integer and value > 0):
                return None, None, None
            order = int(value)
        if atom.data == "partial":
            return "partial", order, None
        if atom.data == "word":
            word = str(atom.children[0])
            if word == "d":
                return "d", order, None
            if word.startswith("d") and len(word) == 2 and not scripts:
                return "d", None, (word[1:], None)
        if atom.data == "accent" and base_key(atom) == r"\mathrm{d}":
            return "d", order, None
        return None, None, None

    def _denominator_variables(self, items, den):
        variables = []
        i = 0
        while i < len(items):
            item = items[i]
            if not (isinstance(item, Tree) and item.data == "postfix"):
                return None
            atom = item.children[0]
            if atom.data == "word" and str(atom.children[0]).startswith("d") and len(str(atom.children[0])) == 2:
                # dx, dx^2
                ref = NameRef(str(atom.children[0])[1:], None, None, self._offset(atom) + 1)
                scripts = item.children[1:]
                order = 1
                sub = None
                for s in scripts:
                    if s.data == "sup":
                        order = self._order(s.children[0], s)
                    else:
                        sub = s.children[0]
                if sub is not None:
                    items_, text = self._subscript_items(sub)
                    ref = NameRef(ref.key, items_, text, ref.offset, self._offset(sub))
                variables.append((self._derivative_variable(ref), order))
                i += 1
                continue
            kind, order0, rest = self._differential(item)
            if kind is None or order0 is not None:
                return None
            if i + 1 >= len(items):
                raise self.error(item, "the differential has no variable")
            var_item = items[i + 1]
            var_atom, sub, sup = self._split_postfix(var_item)
            if not self._is_name_atom(var_atom):
                raise self.error(var_item, "differentiate with respect to a declared variable or a defined quantity")
            order = self._order(sup, var_item) if sup is not None else 1
            variables.append((self._derivative_variable(self._name_ref(var_atom, sub)), order))
            i += 2
        return variables or None

    def _order(self, sarg, node):
        value = self._script_value(sarg)
        if not (value.is_Integer and value > 0):
            raise self.error(node, "a derivative's order must be a positive integer")
        return int(value)

    def _derivative_variable(self, ref):
        value = self._resolve_value(ref)
        if is_matrix(value):
            mdecl = self.decls.matrix_of_object(value)
            if mdecl is None or not mdecl.is_vector or mdecl.family is None or mdecl.family.kind == "random":
                raise self.error(ref.offset, f"cannot differentiate with respect to {ref.written()}: only a "
                                 "declared vector (the gradient) or a scalar variable")
            return value
        if isinstance(value, sp.Indexed):
            d = self.decls.decl_of_object(value.base)
            if d is not None and d.kind == "matrix":
                raise self.error(ref.offset, f"cannot differentiate with respect to {ref.written()}: an entry of a "
                                 f"{d.matrix.structure} matrix is not a free variable")
        if not isinstance(value, (sp.Symbol, sp.Indexed)) or (
                isinstance(value, sp.Symbol) and self._is_index_or_size(value)):
            raise self.error(ref.offset, f"cannot differentiate with respect to {ref.written()}: "
                             "not a declared variable or defined quantity")
        return value

    def _is_index_or_size(self, symbol):
        return symbol in self.decls.size_symbols() or self.decls.index_of_symbol(symbol) is not None \
            or any(symbol == b for _, b, _ in self.bound)

    # ------------------------------------------------------------------ evaluation bars
    def _evalbar(self, value, sarg, node):
        pairs = []
        if sarg.data != "sarg_group":
            raise self.error(sarg, "an evaluation bar needs assignments: \\Big|_{x=a, y=b}")
        sublist = sarg.children[0]
        for item in sublist.children:
            if isinstance(item, Token):
                continue
            if len(item.children) != 3 or str(item.children[1]) != "=":
                raise self.error(item, "each entry of an evaluation bar is 'name = value'")
            post = self._single_postfix(item.children[0])
            if post is None:
                raise self.error(item, "the left side of an evaluation-bar entry must be a name")
            atom, sub, sup = self._split_postfix(post)
            if sup is not None or not self._is_name_atom(atom):
                raise self.error(item, "the left side of an evaluation-bar entry must be a name")
            target = self._resolve_value(self._name_ref(atom, sub))
            entry_value = self.checked(lambda: self.expr(item.children[2]), item)
            if is_matrix(target):
                self.vector_target(target, entry_value, item)
            elif not isinstance(target, (sp.Symbol, sp.Indexed)):
                raise self.error(item, "the left side of an evaluation-bar entry must be a variable")
            else:
                d = self.decls.decl_of_object(target.base if isinstance(target, sp.Indexed) else target)
                if d is not None and d.kind == "matrix":
                    raise self.error(item, f"an entry of a {d.matrix.structure} matrix cannot be set by an "
                                     "evaluation bar")
                entry_value = self.scalar(entry_value, item, "the value of a scalar")
            pairs.append((target, entry_value))
        if not pairs:
            raise self.error(sarg, "an empty evaluation bar")
        return self.barred(value, pairs) or EvalAt(value, pairs)

    # ------------------------------------------------------------------ name resolution
    def _resolve_value(self, ref):
        """The SymPy object a name stands for (refusing what is not declared)."""
        alias = self.decls.aliases.get((ref.key, ref.text))
        if alias is not None:
            key, text = alias
            items = _items_of_text(text)
            ref = NameRef(key, items, text, ref.offset, ref.sub_offset)
        if ref.text is None:
            return self._resolve_plain(ref)
        decls = self.decls.names.get(ref.key, [])
        for d in decls:
            if not d.slots and d.label_text == ref.text:
                return d.obj
        slotted = [d for d in decls if d.slots]
        if not slotted:
            if ref.key in self.local or ref.key in self.decls.functions:
                raise self.error(ref.sub_offset, f"{ref.key} takes no subscript")
            if decls:
                forms = ", ".join(d.latex for d in decls)
                raise self.error(ref.offset, f"{ref.written()} is not declared (declared: {forms})")
            raise self.error(ref.offset, f"undeclared name {ref.written()}; declare it with a directive "
                             "such as '%! real " + ref.written() + "'")
        if ref.items is None:
            raise self.error(ref.sub_offset, f"the subscript of {ref.written()} is not a list of index letters "
                             f"(declared: {', '.join(d.latex for d in slotted)})")
        problems = []
        for d in slotted:
            items = fit_items(ref.items, len(d.slots))
            if items is None:
                problems.append(f"{d.latex} has {len(d.slots)} subscript(s)")
                continue
            try:
                idx = [self._index_object(item, slot, d, pos) for pos, (item, slot) in enumerate(zip(items, d.slots))]
            except _SlotMismatch as exc:
                problems.append(str(exc))
                continue
            return d.obj[tuple(idx)]
        raise self.error(ref.sub_offset, f"{ref.written()} does not fit its declaration: " + "; ".join(problems))

    def _index_object(self, item, slot, decl, pos):
        role, letter = slot
        if item.isdigit():
            if role == "label":
                raise _SlotMismatch(f"subscript {pos + 1} of {decl.latex} is the label {letter}, not an index")
            size = self.decls.indices[letter].size
            if int(item) < 1 or (size.is_Integer and int(item) > size):
                raise _SlotMismatch(f"index {item} is outside 1..{size}, the range of subscript {pos + 1} "
                                    f"of {decl.latex}")
            return sp.Integer(int(item))
        if role == "label":
            if item != letter:
                hint = ""
                if item in self.decls.indices:
                    hint = (f" ({item} is an index; if the author means {decl.latex}, say so with "
                            f"'%! alias ...')")
                raise _SlotMismatch(f"subscript {pos + 1} of {decl.latex} is the label {letter}, got {item}{hint}")
            return sp.Symbol(letter)
        want = self.decls.indices[letter]
        for bl, bsym, bdecl in reversed(self.bound):
            if bl == item:
                if bdecl is not None and bdecl.size != want.size:
                    raise _SlotMismatch(f"{item} runs over 1..{bdecl.size}, but subscript {pos + 1} of "
                                        f"{decl.latex} is an index over 1..{want.size}")
                return bsym
        got = self.decls.indices.get(item)
        if got is None:
            raise _SlotMismatch(f"{item} is not a declared index (subscript {pos + 1} of {decl.latex} "
                                f"runs over 1..{want.size})")
        if got.size != want.size:
            raise _SlotMismatch(f"{item} runs over 1..{got.size}, but subscript {pos + 1} of {decl.latex} "
                                f"runs over 1..{want.size}")
        return got.symbol

    def _resolve_plain(self, ref):
        key = ref.key
        if key in self.local:
            return self.local[key]
        for bl, bsym, _ in reversed(self.bound):
            if bl == key:
                return bsym
        decls = [d for d in self.decls.names.get(key, []) if not d.slots and d.label_text is None]
        if decls:
            return decls[0].obj
        if key in self.decls.indices:
            return self.decls.indices[key].symbol
        for d in self.decls.indices.values():
            if isinstance(d.size, sp.Symbol) and d.size.name == key:
                return d.size
        if key == "e":
            return sp.E
        if key == r"\pi":
            return sp.pi
        if key in self.decls.functions:
            raise self.error(ref.offset, f"the function {key} needs an argument in parentheses")
        if key in self.decls.matrices:
            return self.decls.matrices[key].obj
        slotted = self.decls.names.get(key, [])
        if slotted:
            forms = ", ".join(d.latex for d in slotted)
            raise self.error(ref.offset, f"{key} is declared with subscripts ({forms}); write one of them")
        if re.fullmatch(r"[a-zA-Z]{2,}", key):
            raise self.error(ref.offset, f"undeclared name '{key}': declare it, or write a product with "
                             "spaces or \\cdot (" + " ".join(key) + ")")
        raise self.error(ref.offset, f"undeclared name {key}; declare it with a directive such as "
                         f"'%! real {key}'")


class _SlotMismatch(Exception):
    pass


def _items_of_text(text):
    if text is None:
        return None
    parts = [p for p in re.split(r",", text)]
    items = []
    for p in parts:
        if re.fullmatch(r"[a-zA-Z]+", p):
            items.extend(p)
        elif re.fullmatch(r"\d+", p):
            items.append(p)
        elif re.fullmatch(r"[a-zA-Z0-9]+", p):
            items.extend(re.findall(r"[a-zA-Z]|\d+", p))
        else:
            return None
    return items


def _split_top(text, sep):
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [p.strip() for p in out if p.strip()]
