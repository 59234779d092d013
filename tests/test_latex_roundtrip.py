"""Round trip: parse a formula, print it back with sympy.latex, parse again: the same expression."""

import sympy as sp
from hypothesis import given
from strategies import LATEX_DECLARATIONS, latex_formulas

from ml2p_symbolic.engine.latex_input import parse_formula
from ml2p_symbolic.engine.latex_input.formula import declarations_from_text

DECLS = declarations_from_text(LATEX_DECLARATIONS)


@given(latex_formulas())
def test_parse_print_parse_gives_the_same_expression(formula):
    first = parse_formula(formula, decls=DECLS)
    printed = sp.latex(first, mul_symbol="dot")
    again = parse_formula(printed, decls=DECLS)
    assert again == first, (formula, printed)


def test_round_trip_keeps_hats_indices_and_sums():
    # the three silent misreadings of other LaTeX parsers, printed and read back
    formula = r"\hat{\theta} + \sum_{k=1}^{K} a_{ik}\theta_{jk}"
    first = parse_formula(formula, decls=DECLS)
    printed = sp.latex(first, mul_symbol="dot")
    assert r"\hat{\theta}" in printed and r"\sum_{k=1}^{K}" in printed
    assert parse_formula(printed, decls=DECLS) == first
