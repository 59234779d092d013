"""The domain of a statement's symbols: input checks, assumptions, bounds.

What :func:`~ml2p_symbolic.engine.identity.check_identity` accepts as sides and assumptions,
and, for each free symbol, the region it ranges over (its SymPy assumptions restricted by the
extra conditions): bounds to guide the sampling of counterexamples and an exact membership
test, and the bounds a proof may substitute (:class:`~ml2p_symbolic.engine.certificates.Bound`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import sympy
from sympy import Basic, Dummy, Expr, Indexed, S, Symbol, sympify
from sympy.core.relational import Relational
from sympy.logic.boolalg import And, Boolean, BooleanTrue
from sympy.matrices.expressions.matexpr import MatrixExpr
from sympy.sets.sets import Interval, Set

from ..errors import IdentityInputError


__all__ = ["as_expression", "parse_assumptions", "variables", "flatten", "Domain", "domain_of"]


# --------------------------------------------------------------------------- input checks


def _as_expression(value, name) -> Expr:
    if isinstance(value, str):
        raise IdentityInputError(
            f"{name} must be a SymPy expression, got the string {value!r}; "
            "build it from sympy symbols instead"
        )
    try:
        expr = sympify(value, strict=True)
    except (sympy.SympifyError, TypeError, ValueError) as err:
        raise IdentityInputError(
            f"{name} must be a SymPy expression or a number, got {type(value).__name__}: {err}"
        ) from None
    if not isinstance(expr, Expr) or expr.is_Matrix or isinstance(expr, MatrixExpr):
        raise IdentityInputError(
            f"{name} must be a scalar SymPy expression (sympy.Expr), got "
            f"{type(expr).__name__} {expr!r}; pass the two sides of an equation separately"
        )
    return expr


def _parse_assumptions(assumptions) -> list[Boolean]:
    """Normalise ``assumptions`` to a flat list of SymPy Boolean conditions."""
    if assumptions is None:
        return []
    if isinstance(assumptions, dict):
        conditions = []
        for symbol, region in assumptions.items():
            if not isinstance(symbol, Symbol):
                raise IdentityInputError(
                    f"assumptions dict keys must be sympy Symbols, got {symbol!r}"
                )
            if not isinstance(region, Set):
                raise IdentityInputError(
                    f"assumptions dict values must be sympy Sets (e.g. Interval(0, 1)), got "
                    f"{region!r} for {symbol}"
                )
            conditions.append(sympy.Contains(symbol, region, evaluate=False))
        return _flatten(conditions)
    if isinstance(assumptions, (Basic, bool)):
        items: Iterable = [assumptions]
    else:
        try:
            items = list(assumptions)
        except TypeError:
            raise IdentityInputError(
                "assumptions must be None, a sympy Boolean, an iterable of them, or a dict "
                f"{{symbol: Set}}; got {type(assumptions).__name__}"
            ) from None
    conditions = []
    for item in items:
        if isinstance(item, str):
            raise IdentityInputError(
                f"assumption {item!r} is a string; pass a sympy relational such as x > 0"
            )
        try:
            cond = sympify(item, strict=True)
        except (sympy.SympifyError, TypeError, ValueError):
            raise IdentityInputError(
                f"assumption {item!r} is not a sympy Boolean (expected e.g. x > 0)"
            ) from None
        if not isinstance(cond, Boolean):
            raise IdentityInputError(
                f"assumption {cond!r} is a {type(cond).__name__}, not a condition; "
                "expected a relational such as x > 0 or a logical combination of them"
            )
        conditions.append(cond)
    return _flatten(conditions)


def _variables(objects) -> list:
    """The free variables to sample, in a stable order: symbols, and ``a[i, k]`` for
    Indexed objects (whose base label and indices are then not variables of their own)."""
    found = set()
    for obj in objects:
        indexed = obj.atoms(Indexed)
        stand_ins = {item: Dummy() for item in indexed}
        found |= indexed
        found |= obj.xreplace(stand_ins).free_symbols - set(stand_ins.values())
    return sorted(found, key=lambda v: (str(v), str(v.assumptions0)))


def _flatten(conditions) -> list[Boolean]:
    flat = []
    for cond in conditions:
        if isinstance(cond, And):
            flat.extend(_flatten(cond.args))
        elif isinstance(cond, BooleanTrue):
            continue
        else:
            flat.append(cond)
    return flat


# --------------------------------------------------------------------------- domains


@dataclass
class _Domain:
    """Where one symbol may be sampled: bounds (guides only) and exact membership test."""

    symbol: Symbol
    lo: Any = None  # exact real number or None
    lo_strict: bool = False
    hi: Any = None
    hi_strict: bool = False
    integer: bool = False
    imaginary: bool = False
    complex: bool = False  # may take non-real values: neither known real nor imaginary
    bound_from_assumptions: tuple = ()  # (side, value, strict) bounds given by `assumptions`


def _domain_of(symbol: Symbol, conditions) -> _Domain:
    dom = _Domain(
        symbol,
        integer=bool(symbol.is_integer),
        imaginary=bool(symbol.is_imaginary),
        complex=symbol.is_real is None and not symbol.is_imaginary and symbol.is_integer is None,
    )
    if symbol.is_positive:
        _tighten(dom, "lo", S.Zero, True)
    elif symbol.is_nonnegative:
        _tighten(dom, "lo", S.Zero, False)
    if symbol.is_negative:
        _tighten(dom, "hi", S.Zero, True)
    elif symbol.is_nonpositive:
        _tighten(dom, "hi", S.Zero, False)
    bounds = []
    for cond in conditions:
        for side, value, strict in _bounds_in(cond, symbol):
            _tighten(dom, side, value, strict)
            bounds.append((side, value, strict))
    dom.bound_from_assumptions = tuple(bounds)
    return dom


def _bounds_in(cond, symbol):
    """Bounds ``symbol > c``, ``symbol <= c``, ... stated directly by one condition."""
    if isinstance(cond, sympy.Contains) and cond.args[0] == symbol:
        region = cond.args[1]
        if isinstance(region, Interval):
            out = []
            if region.start.is_finite:
                out.append(("lo", region.start, bool(region.left_open)))
            if region.end.is_finite:
                out.append(("hi", region.end, bool(region.right_open)))
            return out
        return []
    if not isinstance(cond, Relational) or isinstance(cond, (sympy.Ne,)):
        return []
    a, b = cond.lhs, cond.rhs
    if isinstance(cond, sympy.Eq):
        if a == symbol and _is_real_number(b):
            return [("lo", b, False), ("hi", b, False)]
        if b == symbol and _is_real_number(a):
            return [("lo", a, False), ("hi", a, False)]
        return []
    if b == symbol and _is_real_number(a):
        cond = cond.reversed
        a, b = cond.lhs, cond.rhs
    if a != symbol or not _is_real_number(b):
        return []
    if isinstance(cond, sympy.StrictGreaterThan):
        return [("lo", b, True)]
    if isinstance(cond, sympy.GreaterThan):
        return [("lo", b, False)]
    if isinstance(cond, sympy.StrictLessThan):
        return [("hi", b, True)]
    if isinstance(cond, sympy.LessThan):
        return [("hi", b, False)]
    return []


def _is_real_number(value) -> bool:
    return bool(value.is_number and value.is_real and value.is_finite)


def _tighten(dom: _Domain, side: str, value, strict: bool) -> None:
    current = getattr(dom, side)
    if current is None:
        setattr(dom, side, value)
        setattr(dom, side + "_strict", strict)
        return
    tighter = (value > current) if side == "lo" else (value < current)
    if tighter == True:  # noqa: E712  (sympy Boolean)
        setattr(dom, side, value)
        setattr(dom, side + "_strict", strict)
    elif value == current:
        setattr(dom, side + "_strict", strict or getattr(dom, side + "_strict"))



as_expression, parse_assumptions, variables, flatten = _as_expression, _parse_assumptions, _variables, _flatten
Domain, domain_of = _Domain, _domain_of
