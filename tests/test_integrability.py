r"""Existence of Gaussian expectations (:mod:`ml2p_symbolic.engine.expectation.integrability`).

Each case is decided by hand: a function bounded by :math:`C(1+|\eta|)^m e^{c|\eta|}` has an
expectation under a standard normal; :math:`1/\eta^2` near 0 and :math:`e^{\eta^2}` at
infinity do not."""

import pytest
import sympy as sp

from ml2p_symbolic.engine.expectation import integrable

eta = sp.Symbol("eta", real=True)
a = sp.Symbol("a", real=True)
s = sp.Symbol("s", positive=True)
b = sp.Symbol("b", real=True)


def _sigma(x):
    return 1 / (1 + sp.exp(-x))


@pytest.mark.parametrize("expr", [
    eta ** 3 * sp.exp(2 * eta),
    _sigma(a * s * eta + b),
    # the seed's dL/dzhat before simplification: 1 / (1 - sigma(x)) = 1 + e^x, exponential growth
    1 / (1 - _sigma(a * (s * eta) - b)),
    (1 - _sigma(b)) * sp.exp(-a * s * eta) / ((1 - _sigma(a * s * eta)) * (sp.exp(-a * s * eta) + 1) ** 2),
    sp.log(1 + sp.exp(eta)),
])
def test_growth_at_most_exponential_is_integrable(expr):
    assert integrable(expr, [eta])


@pytest.mark.parametrize("expr", [
    sp.exp(eta ** 2),
    1 / eta,
    # (eta^2 + 1) / eta^2: the one-fraction rule must not hide the pole at 0
    1 / (1 - 1 / (eta ** 2 + 1)),
    1 / (eta / (eta + 1)),
    # (1 + eta^2) e^{eta^2}, written through a reciprocal of one fraction
    1 / (sp.exp(eta ** 2) / (1 + eta ** 2)) * sp.exp(2 * eta ** 2),
])
def test_poles_and_superexponential_growth_are_not_shown(expr):
    assert not integrable(expr, [eta])
