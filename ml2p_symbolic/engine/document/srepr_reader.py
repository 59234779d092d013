r"""A restricted reader of ``sympy.srepr`` text: data in, SymPy objects out, no code run.

``sympy.sympify`` and ``eval`` run whatever Python a string holds; a cache file or any other
stored text must never be read that way. :func:`read_srepr` parses the text with :mod:`ast`
and rebuilds only

* calls of the SymPy classes in :data:`CLASSES` whose arguments are themselves such calls,
  the constants of :data:`CONSTANTS` (``pi``, ``oo``, ``true``, ...), integer, string or
  boolean literals, or a unary minus of a constant (``-oo``);
* keyword arguments only where SymPy's ``srepr`` writes them: the assumptions of a
  ``Symbol``/``IndexedBase`` (``real=True``) and the ``precision`` of a ``Float``.

Operations (``Add``, ``Mul``, ``Pow``, relations, functions) are built with
``evaluate=False``, so ``Pow(Integer(2), Integer(10000000000))`` is a tree, not a
ten-billion-bit number. The text is bounded in length, node count and nesting depth
(:data:`MAX_CHARS`, :data:`MAX_NODES`, :data:`MAX_DEPTH`). Anything else raises
:class:`UnreadableRecord` (a ``ValueError``), never anything a caller must fear.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> read_srepr(sp.srepr(sp.Eq(x, 0))) == sp.Eq(x, 0)
True
>>> read_srepr("__import__('os').system('true')")
Traceback (most recent call last):
...
ml2p_symbolic.engine.document.srepr_reader.UnreadableRecord: not a SymPy srepr: call of a name that is not allowed
"""

from __future__ import annotations

import ast
import re

import sympy as sp
from sympy.core.assumptions import _assume_defined

__all__ = ["read_srepr", "UnreadableRecord", "CLASSES", "CONSTANTS", "MAX_CHARS", "MAX_NODES", "MAX_DEPTH"]

#: longest text read (characters)
MAX_CHARS = 200_000
#: most syntax nodes in one text
MAX_NODES = 20_000
#: deepest nesting of calls
MAX_DEPTH = 60
#: largest integer literal (decimal digits)
MAX_DIGITS = 2_000

#: atoms: called with their literal arguments as they are
_ATOMS = {
    "Symbol": sp.Symbol, "Integer": sp.Integer, "Rational": sp.Rational, "Float": sp.Float,
    "Str": sp.core.symbol.Str, "IndexedBase": sp.IndexedBase,
}
#: operations: built with evaluate=False
_OPERATIONS = {
    "Add": sp.Add, "Mul": sp.Mul, "Pow": sp.Pow,
    "Equality": sp.Eq, "Unequality": sp.Ne, "StrictLessThan": sp.Lt, "LessThan": sp.Le,
    "StrictGreaterThan": sp.Gt, "GreaterThan": sp.Ge,
    "And": sp.And, "Or": sp.Or, "Not": sp.Not,
    "exp": sp.exp, "log": sp.log, "Abs": sp.Abs, "sign": sp.sign, "erf": sp.erf, "erfc": sp.erfc,
    "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh, "Max": sp.Max, "Min": sp.Min,
}
#: structures: built from already-rebuilt parts (no evaluation of numbers)
_STRUCTURES = {
    "Tuple": sp.Tuple, "Indexed": sp.Indexed, "Sum": sp.Sum, "Product": sp.Product,
    "MatrixSymbol": sp.MatrixSymbol, "Piecewise": sp.Piecewise, "ExprCondPair": sp.functions.elementary.piecewise.ExprCondPair,
}
#: the SymPy classes :func:`read_srepr` may call
CLASSES = frozenset(_ATOMS) | frozenset(_OPERATIONS) | frozenset(_STRUCTURES)
#: the bare names :func:`read_srepr` accepts
CONSTANTS = {"pi": sp.pi, "E": sp.E, "I": sp.I, "oo": sp.oo, "zoo": sp.zoo, "nan": sp.nan,
             "true": sp.true, "false": sp.false}

_ASSUMPTIONS = frozenset(_assume_defined)
_FLOAT_RE = re.compile(r"-?\d{1,100}(?:\.\d{0,100})?(?:[eE][-+]?\d{1,3})?")


class UnreadableRecord(ValueError):
    """Stored text that is not a SymPy srepr this reader accepts."""


def _refuse(why):
    raise UnreadableRecord(f"not a SymPy srepr: {why}")


def read_srepr(text):
    """The SymPy object written by ``sympy.srepr`` as ``text`` (see the module docstring).

    Raises
    ======
    UnreadableRecord
        For anything else: other names or calls, attributes, operators, oversized or too
        deeply nested text, arguments a class refuses.
    """
    if not isinstance(text, str):
        _refuse(f"a {type(text).__name__}, not a string")
    if len(text) > MAX_CHARS:
        _refuse(f"longer than {MAX_CHARS} characters")
    if text.count("(") > MAX_NODES:
        _refuse("too many calls")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        _refuse("not Python literal syntax")
    count = [0]
    try:
        return _build(tree.body, 0, count)
    except UnreadableRecord:
        raise
    except (TypeError, ValueError, AttributeError, IndexError, KeyError, ZeroDivisionError,
            OverflowError, RecursionError, MemoryError, sp.SympifyError) as exc:
        _refuse(f"arguments refused ({type(exc).__name__})")


def _literal(node):
    """An int, str, bool or None literal (a negative int too)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and type(node.operand.value) is int:
        return -node.operand.value
    if isinstance(node, ast.Constant) and (node.value is None or type(node.value) in (int, str, bool)):
        if type(node.value) is int and len(str(abs(node.value))) > MAX_DIGITS:
            _refuse("an integer literal too long")
        if type(node.value) is str and len(node.value) > 1000:
            _refuse("a string literal too long")
        return node.value
    _refuse(f"{type(node).__name__} is not allowed")


def _build(node, depth, count):
    count[0] += 1
    if count[0] > MAX_NODES:
        _refuse("too many nodes")
    if depth > MAX_DEPTH:
        _refuse("nested too deeply")
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        _refuse(f"the name {node.id!r} is not allowed")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        if isinstance(node.operand, ast.Name) and node.operand.id in ("oo", "pi", "E", "I"):
            return sp.Mul(sp.S.NegativeOne, CONSTANTS[node.operand.id])
        return _literal(node)
    if isinstance(node, ast.Constant):
        return _literal(node)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.func.id not in CLASSES:
        _refuse("call of a name that is not allowed")
    name = node.func.id
    if name in _ATOMS:
        if name == "IndexedBase":
            args = [_build(a, depth + 1, count) for a in node.args]
            if len(args) != 1 or not isinstance(args[0], (sp.Symbol, sp.core.symbol.Str)):
                _refuse("IndexedBase takes one Symbol")
        else:
            args = [_literal(a) for a in node.args]
        kwargs = _atom_keywords(name, node.keywords)
        if name in ("Symbol", "Str") and (len(args) != 1 or not isinstance(args[0], str)):
            _refuse(f"{name} takes one string")
        if name in ("Integer", "Rational") and not all(type(a) is int for a in args):
            _refuse(f"{name} takes integers")
        if name == "Float" and (len(args) != 1 or not isinstance(args[0], str) or not _FLOAT_RE.fullmatch(args[0])):
            _refuse("Float takes one decimal string (at most 100 digits, exponent at most 999)")
        return _ATOMS[name](*args, **kwargs)
    if node.keywords:
        _refuse(f"{name} takes no keywords")
    args = [_build(a, depth + 1, count) for a in node.args]
    if any(not isinstance(a, sp.Basic) for a in args):
        _refuse(f"the arguments of {name} must be SymPy objects")
    if name in _OPERATIONS:
        return _OPERATIONS[name](*args, evaluate=False)
    if name == "Indexed":
        return sp.Indexed(*args)
    if name in ("Sum", "Product"):
        # the limits are (variable, lower, upper) tuples, as srepr writes them
        if len(args) < 2 or not all(isinstance(t, sp.Tuple) and len(t) == 3 for t in args[1:]):
            _refuse(f"{name} needs (variable, lower, upper) limits")
        return _STRUCTURES[name](*args)
    if name == "Piecewise":
        return sp.Piecewise(*args, evaluate=False)
    return _STRUCTURES[name](*args)


def _atom_keywords(name, keywords):
    out = {}
    for kw in keywords:
        value = _literal(kw.value)
        if name in ("Symbol", "IndexedBase") and kw.arg in _ASSUMPTIONS and isinstance(value, bool):
            out[kw.arg] = value
        elif name == "Float" and kw.arg == "precision" and type(value) is int and 1 <= value <= 10_000:
            out[kw.arg] = value
        else:
            _refuse(f"keyword {kw.arg!r} of {name}")
    return out
