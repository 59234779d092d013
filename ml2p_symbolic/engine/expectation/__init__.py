r"""Gaussian expectations, one package: existence first (:mod:`.integrability`), then exact
rules (:mod:`.gaussian`: moments, odd symmetry; :mod:`.rules`: expectations inside a
statement), and high-precision quadrature (:func:`.gaussian.expectation_numeric`) for
refutation only.
"""

from .gaussian import Expectation, expectation_numeric, gaussian_expectation, gaussian_moment
from .integrability import integrable
from .rules import reduce_expectations

__all__ = ["gaussian_moment", "Expectation", "gaussian_expectation", "expectation_numeric", "integrable",
           "reduce_expectations"]
