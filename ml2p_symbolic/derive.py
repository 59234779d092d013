r"""Derivations by SymPy operations: eq. (4)-(5), the KL closed form (8) and its derivatives.

Nothing here is typed in: every formula is obtained by differentiating or integrating the
expressions of :mod:`ml2p_symbolic.model`.

Examples
========

>>> import sympy as sp
>>> from ml2p_symbolic.derive import d_rec_d_zhat, Z, ZHAT
>>> sp.simplify(d_rec_d_zhat() - (1/(1 + sp.exp(-ZHAT)) - 1/(1 + sp.exp(-Z))))
0
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .model import expected_reconstruction, kl_integrand, sigmoid

__all__ = [
    "Z",
    "ZHAT",
    "item_cross_entropy",
    "d_rec_d_zhat",
    "rec_gradient",
    "gaussian_kl_1d",
    "gaussian_kl",
    "kl_gradient",
    "general_K_zhat_partials",
]

#: the true logit :math:`z_i` and the decoder logit :math:`\hat z_i` as plain real symbols
Z = sp.Symbol("z_i", real=True)
ZHAT = sp.Symbol("zhat_i", real=True)


def item_cross_entropy(p=None, zhat=ZHAT):
    r"""One item's expected reconstruction as a function of :math:`\hat z_i`:
    :math:`-[p\log\sigma(\hat z_i) + (1-p)\log(1-\sigma(\hat z_i))]`, with
    :math:`p = \sigma(z_i)` by default.
    """
    p = sigmoid(Z) if p is None else p
    return -(p * sp.log(sigmoid(zhat)) + (1 - p) * sp.log(1 - sigmoid(zhat)))


def d_rec_d_zhat():
    r""":math:`\partial\mathcal L_{\mathbb E[\mathrm{REC}]}/\partial\hat z_i`, derived by
    differentiating :func:`item_cross_entropy` (only item :math:`i`'s term depends on
    :math:`\hat z_i`). Simplifies to :math:`\sigma(\hat z_i) - \sigma(z_i)`.
    """
    return sp.diff(item_cross_entropy(), ZHAT)


def rec_gradient(m, wrt):
    r""":math:`\partial\mathcal L_{\mathbb E[\mathrm{REC}]}/\partial w` for a parameter symbol
    ``wrt`` of the model ``m`` (all ``m.n`` items summed), by direct differentiation."""
    return sp.diff(expected_reconstruction(m), wrt)


@lru_cache(maxsize=None)
def gaussian_kl_1d():
    r""":math:`\mathrm{KL}(\mathcal N(\mu, s^2)\,\|\,\mathcal N(0,1))` derived by integrating
    :math:`q\log(q/p)` over the real line with SymPy.

    Returns ``(expr, mu, s)`` with ``mu`` real and ``s`` positive symbols.

    >>> expr, mu, s = gaussian_kl_1d()
    >>> expr
    mu**2/2 + s**2/2 - log(s) - 1/2
    """
    x = sp.Symbol("x", real=True)
    mu = sp.Symbol("mu", real=True)
    s = sp.Symbol("s", positive=True)
    integrand = sp.expand_log(kl_integrand(mu, s, x))  # valid: q, p > 0
    value = sp.integrate(integrand, (x, -sp.oo, sp.oo))
    return sp.simplify(value), mu, s


def gaussian_kl(m):
    r"""Eq. (8) derived: :math:`\mathrm{KL}(q\,\|\,p)` for
    :math:`q = \prod_k\mathcal N(\hat\theta_{jk}, \hat\sigma_k^2)` and :math:`p = \mathcal N(0, I)`.

    The log-density ratio of product densities is the sum of the per-trait ratios, so the
    K-dimensional integral is the sum of :func:`gaussian_kl_1d` over traits.
    """
    expr, mu, s = gaussian_kl_1d()
    return sum(expr.subs({mu: m.theta_hat[k], s: m.sigma_hat[k]}) for k in range(m.K))


def kl_gradient(m, wrt):
    r"""Derivative of the derived KL term (8) with respect to ``wrt``
    (:math:`\hat\theta_{jk}` gives :math:`\hat\theta_{jk}`; :math:`\hat\sigma_k` gives
    :math:`\hat\sigma_k - 1/\hat\sigma_k`)."""
    return sp.diff(gaussian_kl(m), wrt)


def general_K_zhat_partials():
    r"""The partial derivatives of :math:`\hat z_i` for a symbolic number of traits :math:`K`.

    With :math:`\hat z_i = \sum_{k=1}^{K}\hat a_{ik}(\hat\theta_{jk} + \varepsilon_k\hat\sigma_k)
    - \hat b_i` built from indexed symbols, SymPy differentiates the sum and resolves the
    Kronecker deltas for a trait index :math:`1\le l\le K`. By the chain rule every
    derivative of the reconstruction loss is :math:`\partial\mathcal L/\partial\hat z_i`
    times one of these, for every :math:`K`.

    Returns a dict ``{"a_hat": ..., "b_hat": ..., "theta_hat": ...}`` of SymPy expressions in
    the indexed symbols, and the symbols ``(K, l)``.
    """
    K = sp.Symbol("K", integer=True, positive=True)
    k, l = sp.symbols("k l", integer=True, positive=True)
    ahat, thetahat = sp.IndexedBase("ahat"), sp.IndexedBase("thetahat")
    sigmahat, eps = sp.IndexedBase("sigmahat"), sp.IndexedBase("varepsilon")
    bhat = sp.Symbol("bhat_i", real=True)
    zhat = sp.Sum(ahat[k] * (thetahat[k] + eps[k] * sigmahat[k]), (k, 1, K)) - bhat
    within = sp.Q.le(l, K)
    partials = {
        "a_hat": sp.refine(sp.diff(zhat, ahat[l]).doit(), within),
        "b_hat": sp.diff(zhat, bhat).doit(),
        "theta_hat": sp.refine(sp.diff(zhat, thetahat[l]).doit(), within),
    }
    return partials, (K, l)
