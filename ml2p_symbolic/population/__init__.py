r"""The population view: exact expected VAE losses over all response patterns.

The true ML2P model draws a student's traits :math:`\theta \sim \mathcal N(0, \Sigma)`
(:math:`\Sigma = I_K` unless a ``Sigma`` is given) and answers item :math:`i` correctly with
probability :math:`P_i(\theta) = \sigma(a_i\cdot\theta - b_i)`, independently across items
given :math:`\theta`. For ``n`` items the response distribution is the finite mixture

.. math::  p(u; A, b) = \int \prod_{i=1}^n P_i(\theta)^{u_i}(1-P_i(\theta))^{1-u_i}
           \,\phi(\theta; 0, \Sigma)\,d\theta, \qquad u \in \{0, 1\}^n,

evaluated for all :math:`2^n` patterns with a tensor Gauss-Hermite rule through the Cholesky
factor of :math:`\Sigma` (``nodes`` points per trait, so ``nodes**K`` points in all;
:mod:`.patterns`). ``A`` has shape ``(n, K)`` and ``b`` shape ``(n,)``.

The seed's expected loss (3) replaces the data by their expectation. Taken over the whole
response distribution, and with the encoder the best one of its family for every pattern,
the expected per-student loss of a decoder :math:`(\hat A, \hat b)`, whose prior is the same
:math:`\mathcal N(0, \Sigma)`, is

``encoder="exact"`` (:mod:`.exact`: the encoder is the decoder's own posterior)
    .. math:: \mathcal L(\hat A,\hat b) = -\sum_u p(u; A,b)\log p(u;\hat A,\hat b)
              = H(p) + \mathrm{KL}(p\,\|\,\hat p) \ \ge\ H(p),

    with equality iff :math:`\hat p = p` (Gibbs' inequality), so the truth is a global
    minimiser, unique up to the transformations that leave the response distribution
    unchanged (see :mod:`ml2p_symbolic.identifiability`);
``encoder="gaussian"`` (:mod:`.gaussian`: the best diagonal Gaussian
    :math:`q = \mathcal N(\hat\theta, \mathrm{diag}\,\hat\sigma^2)` for each pattern)
    .. math:: \mathcal L(\hat A,\hat b) = \sum_u p(u)\min_q\big[-E_q\log p(u\mid\theta;\hat A,\hat b)
              + \mathrm{KL}(q\,\|\,\mathcal N(0, \Sigma))\big]
              = \mathcal L_{\rm exact}(\hat A,\hat b)
              + \sum_u p(u)\,\mathrm{KL}(q^*_u\,\|\,\hat p(\theta\mid u)),

    whose minimiser is in general *not* the truth (:func:`minimiser_bias` measures how far).

:mod:`.fit` holds the losses, :func:`fit_decoder` (analytic gradients and Hessians, a
safeguarded Newton method) and :func:`minimiser_bias`; :mod:`.identities` the SymPy-checked
identities behind the theorems. All functions are numpy (with the package's one sigmoid,
softplus and Gauss-Hermite rule from :mod:`ml2p_symbolic.numeric`).
"""

from .fit import (
    DecoderFit,
    MinimiserBias,
    align_to,
    expected_neg_elbo,
    expected_neg_elbo_grad,
    fit_decoder,
    minimiser_bias,
)
from .gaussian import best_gaussian_encoder
from .identities import symbolic_identities
from .patterns import (
    ENCODERS,
    WORK_LIMIT_SECONDS,
    estimate_cost,
    gauss_hermite_normal,
    pattern_probabilities,
    response_entropy,
    response_patterns,
)

__all__ = [
    "ENCODERS",
    "response_patterns",
    "gauss_hermite_normal",
    "pattern_probabilities",
    "response_entropy",
    "expected_neg_elbo",
    "expected_neg_elbo_grad",
    "best_gaussian_encoder",
    "DecoderFit",
    "fit_decoder",
    "MinimiserBias",
    "minimiser_bias",
    "align_to",
    "symbolic_identities",
    "estimate_cost",
    "WORK_LIMIT_SECONDS",
]
