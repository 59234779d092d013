"""Parse one formula (a string) with directives given as text: for tests, notebooks and tools."""

from __future__ import annotations

from .declarations import Declarations
from .directives import apply_directives, find_directives
from .source import SourceText, parse_piece
from .translate import Translator

__all__ = ["parse_formula", "declarations_from_text"]


def declarations_from_text(directives, name="<directives>"):
    """:class:`~.declarations.Declarations` from ``%!`` lines given as one string."""
    decls = Declarations()
    if directives:
        apply_directives(decls, find_directives(SourceText(name, directives)))
    return decls


def parse_formula(formula, directives="", *, name="<formula>", decls=None):
    r"""Parse ``formula`` into SymPy: an expression, or a relation chain as a tuple
    ``(expressions, relations)`` when it has relation signs.

    ``directives`` is a string of ``%!`` lines (see docs/format.md).

    >>> parse_formula(r"\frac{1}{1 + e^{-x}}", "%! real x")
    1/(1 + exp(-x))
    """
    decls = decls if decls is not None else declarations_from_text(directives)
    source = SourceText(name, formula)
    tree = parse_piece(formula, source, 0)
    tr = Translator(decls, source, formula, 0)
    exprs, rels, _ = tr.chain(tree.children[0])
    if not rels:
        return exprs[0]
    return tuple(exprs), tuple(r for r, _, _ in rels)
