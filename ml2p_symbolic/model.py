r"""Symbols and expressions of the seed's eq. (1)-(3).

The ML2P model for student :math:`j` and item :math:`i` with :math:`K` latent traits, and
the VAE's reconstruction of it, are (eq. 1)

.. math::

    P_{ij} = \frac{1}{1 + \exp(-\sum_k a_{ik}\theta_{jk} + b_i)}, \qquad
    \hat P_{ij} = \frac{1}{1 + \exp(-\sum_k \hat a_{ik}(\hat\theta_{jk}
                  + \varepsilon_k\hat\sigma_k) + \hat b_i)},

with :math:`z_i = a_{i:}\cdot\theta_{j:} - b_i` and
:math:`\hat z_i = \hat a_{i:}\cdot(\hat\theta_{j:} + \varepsilon\odot\hat\sigma) - \hat b_i`,
so that :math:`P_{ij} = \sigma(z_i)` and :math:`\hat P_{ij} = \sigma(\hat z_i)`.
The loss of eq. (2) is

.. math::

    \mathcal L(u_j) = -\sum_i [u_{ij}\log\hat P_{ij} + (1-u_{ij})\log(1-\hat P_{ij})]
                      + \mathbb E_{q}\log\frac{q(\hat\theta\mid u_j)}{p(\theta)},

and the expected loss of eq. (3) replaces :math:`u_{ij}` by :math:`P_{ij}` in the first sum.

Symbols carry honest SymPy assumptions: every parameter is real, :math:`\hat\sigma_k` is
positive (a standard deviation), and :math:`u_{ij}` is nonnegative (the domain
:math:`0 \le u_{ij} \le 1` is recorded in :attr:`ML2PSymbols.domain`).

Examples
========

>>> from ml2p_symbolic.model import ml2p_symbols, P, z
>>> m = ml2p_symbols(K=1)
>>> P(m)
1/(exp(-a_i1*theta_j1 + b_i) + 1)
>>> z(m)
a_i1*theta_j1 - b_i
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .errors import ML2PError

__all__ = [
    "ML2PSymbols",
    "ml2p_symbols",
    "sigmoid",
    "z",
    "z_hat",
    "P",
    "P_hat",
    "reconstruction_loss",
    "expected_reconstruction",
    "gaussian_density",
    "kl_integrand",
    "ML2PFamilies",
    "ml2p_families",
    "z_sum",
    "z_hat_sum",
    "at_traits",
]


def sigmoid(x):
    r"""The logistic function :math:`\sigma(x) = 1/(1 + e^{-x})` as a SymPy expression.

    >>> import sympy as sp
    >>> sigmoid(sp.Symbol('x'))
    1/(1 + exp(-x))
    """
    return 1 / (1 + sp.exp(-x))


@dataclass(frozen=True)
class ML2PSymbols:
    """The named symbols of one student ``j`` and ``n`` items with ``K`` traits.

    Item-indexed tuples are indexed ``[i]`` (0-based), trait-indexed ``[k]``; ``a[i][k]`` is
    :math:`a_{ik}`. With ``n == 1`` the item index is printed as ``i``.
    """

    K: int
    n: int
    a: tuple
    b: tuple
    theta: tuple
    a_hat: tuple
    b_hat: tuple
    theta_hat: tuple
    sigma_hat: tuple
    eps: tuple
    u: tuple

    @property
    def domain(self):
        """Constraints beyond the symbols' own assumptions: ``0 <= u_ij <= 1``."""
        return tuple(ui <= 1 for ui in self.u)

    def true_parameters(self):
        r"""The substitution :math:`\hat a = a,\ \hat b = b,\ \hat\theta = \theta` of eq. (6)-(7)."""
        sub = {}
        for i in range(self.n):
            sub[self.b_hat[i]] = self.b[i]
            for k in range(self.K):
                sub[self.a_hat[i][k]] = self.a[i][k]
        for k in range(self.K):
            sub[self.theta_hat[k]] = self.theta[k]
        return sub


def ml2p_symbols(K=2, n=1):
    """Build the symbols for ``K`` traits and ``n`` items of one student ``j``.

    Parameters
    ==========
    K : int
        Number of latent traits, ``K >= 1``.
    n : int
        Number of items, ``n >= 1``; with ``n == 1`` the item is called ``i``.

    Examples
    ========

    >>> m = ml2p_symbols(K=2)
    >>> m.a_hat[0], m.sigma_hat
    ((ahat_i1, ahat_i2), (sigmahat_1, sigmahat_2))
    >>> m.sigma_hat[0].is_positive
    True
    """
    if isinstance(K, bool) or not isinstance(K, int) or K < 1:
        raise ML2PError(f"K must be an integer >= 1, got {K!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ML2PError(f"n must be an integer >= 1, got {n!r}")
    items = ["i"] if n == 1 else [str(i + 1) for i in range(n)]
    traits = [str(k + 1) for k in range(K)]
    sep = "" if (n == 1 or (n < 10 and K < 10)) else ","

    def grid(stem, **assume):
        return tuple(
            tuple(sp.Symbol(f"{stem}_{i}{sep}{k}", **assume) for k in traits) for i in items
        )

    return ML2PSymbols(
        K=K,
        n=n,
        a=grid("a", real=True),
        b=tuple(sp.Symbol(f"b_{i}", real=True) for i in items),
        theta=tuple(sp.Symbol(f"theta_j{k}", real=True) for k in traits),
        a_hat=grid("ahat", real=True),
        b_hat=tuple(sp.Symbol(f"bhat_{i}", real=True) for i in items),
        theta_hat=tuple(sp.Symbol(f"thetahat_j{k}", real=True) for k in traits),
        sigma_hat=tuple(sp.Symbol(f"sigmahat_{k}", positive=True) for k in traits),
        eps=tuple(sp.Symbol(f"varepsilon_{k}", real=True) for k in traits),
        u=tuple(sp.Symbol(f"u_{i}j", nonnegative=True) for i in items),
    )


def z(m, i=0):
    r""":math:`z_i = \sum_k a_{ik}\theta_{jk} - b_i`, the true logit."""
    return sum(m.a[i][k] * m.theta[k] for k in range(m.K)) - m.b[i]


def z_hat(m, i=0):
    r""":math:`\hat z_i = \sum_k \hat a_{ik}(\hat\theta_{jk} + \varepsilon_k\hat\sigma_k) - \hat b_i`."""
    return sum(
        m.a_hat[i][k] * (m.theta_hat[k] + m.eps[k] * m.sigma_hat[k]) for k in range(m.K)
    ) - m.b_hat[i]


def P(m, i=0):
    r"""Eq. (1), first line, as written: :math:`P_{ij} = 1/(1 + \exp(-\sum_k a_{ik}\theta_{jk} + b_i))`."""
    return 1 / (1 + sp.exp(-sum(m.a[i][k] * m.theta[k] for k in range(m.K)) + m.b[i]))


def P_hat(m, i=0):
    r"""Eq. (1), second line, as written:
    :math:`\hat P_{ij} = 1/(1 + \exp(-\sum_k \hat a_{ik}(\hat\theta_{jk} + \varepsilon_k\hat\sigma_k) + \hat b_i))`.
    """
    return 1 / (
        1
        + sp.exp(
            -sum(m.a_hat[i][k] * (m.theta_hat[k] + m.eps[k] * m.sigma_hat[k]) for k in range(m.K))
            + m.b_hat[i]
        )
    )


def reconstruction_loss(m, u=None):
    r"""The reconstruction term of eq. (2):
    :math:`-\sum_i [u_{ij}\log\hat P_{ij} + (1-u_{ij})\log(1-\hat P_{ij})]`.

    ``u`` defaults to the response symbols ``m.u``; pass other values (e.g. the
    probabilities :math:`P_{ij}`) to get eq. (3)'s expected reconstruction.
    """
    u = m.u if u is None else tuple(u)
    return -sum(
        u[i] * sp.log(P_hat(m, i)) + (1 - u[i]) * sp.log(1 - P_hat(m, i)) for i in range(m.n)
    )


def expected_reconstruction(m):
    r""":math:`\mathcal L_{\mathbb E[\mathrm{REC}]} = -\sum_i [P_{ij}\log\hat P_{ij} + (1-P_{ij})\log(1-\hat P_{ij})]` (eq. 3)."""
    return reconstruction_loss(m, [P(m, i) for i in range(m.n)])


def gaussian_density(x, mean, sd):
    r""":math:`\mathcal N(x; \mu, s^2) = \exp(-(x-\mu)^2 / (2 s^2)) / (s\sqrt{2\pi})`."""
    return sp.exp(-((x - mean) ** 2) / (2 * sd**2)) / (sd * sp.sqrt(2 * sp.pi))


def kl_integrand(mean, sd, x):
    r"""The integrand of eq. (2)'s KL term for one trait with a Gaussian encoder:
    :math:`q(x)\log(q(x)/p(x))` with :math:`q = \mathcal N(\hat\theta, \hat\sigma^2)`,
    :math:`p = \mathcal N(0, 1)`.
    """
    q = gaussian_density(x, mean, sd)
    p = gaussian_density(x, 0, 1)
    return q * sp.log(q / p)


@dataclass(frozen=True)
class ML2PFamilies:
    r"""The model for every number of traits: indexed families over a size symbol.

    ``K`` (traits) and ``n`` (items) are positive integer symbols; ``i`` (an item), ``j`` (the
    student) and ``k`` (a trait, :math:`1 \le k \le K`) integer symbols, ``l`` the bound index
    of the sums over traits; ``a``, ``b``,
    ``theta``, ``a_hat``, ``b_hat``, ``theta_hat`` are real :class:`sympy.IndexedBase` families
    (``a[i, k]`` is :math:`a_{ik}`, ``theta[j, k]`` is :math:`\theta_{jk}`, ``b[i]`` is
    :math:`b_i`), ``sigma_hat`` a positive one (``sigma_hat[k]``) and ``eps`` a real one
    (``eps[k]``). A statement in these families, proved with ``K`` a symbol, holds for every
    number of traits; :func:`at_traits` instantiates it for a given :class:`ML2PSymbols`.
    """

    K: sp.Symbol
    n: sp.Symbol
    i: sp.Symbol
    j: sp.Symbol
    k: sp.Symbol
    l: sp.Symbol
    a: sp.IndexedBase
    b: sp.IndexedBase
    theta: sp.IndexedBase
    a_hat: sp.IndexedBase
    b_hat: sp.IndexedBase
    theta_hat: sp.IndexedBase
    sigma_hat: sp.IndexedBase
    eps: sp.IndexedBase


def ml2p_families():
    """The indexed families of :class:`ML2PFamilies` (the same objects at every call).

    >>> f = ml2p_families()
    >>> z_sum(f)
    -b[i] + Sum(a[i, l]*theta[j, l], (l, 1, K))
    >>> f.sigma_hat[f.k].is_positive, f.K.is_integer
    (True, True)
    """
    K, n = sp.symbols("K n", integer=True, positive=True)
    i, j, k, l = sp.symbols("i j k l", integer=True, positive=True)
    real = lambda name: sp.IndexedBase(name, real=True)  # noqa: E731
    return ML2PFamilies(K=K, n=n, i=i, j=j, k=k, l=l, a=real("a"), b=real("b"), theta=real("theta"),
                        a_hat=real("ahat"), b_hat=real("bhat"), theta_hat=real("thetahat"),
                        sigma_hat=sp.IndexedBase("sigmahat", positive=True), eps=real("varepsilon"))


def z_sum(f):
    r""":math:`z_i = \sum_{l=1}^{K} a_{il}\theta_{jl} - b_i` for a symbolic number of traits."""
    return sp.Sum(f.a[f.i, f.l] * f.theta[f.j, f.l], (f.l, 1, f.K)) - f.b[f.i]


def z_hat_sum(f):
    r""":math:`\hat z_i = \sum_{l=1}^{K} \hat a_{il}(\hat\theta_{jl} + \varepsilon_l\hat\sigma_l) - \hat b_i`
    for a symbolic number of traits."""
    return sp.Sum(f.a_hat[f.i, f.l] * (f.theta_hat[f.j, f.l] + f.eps[f.l] * f.sigma_hat[f.l]), (f.l, 1, f.K)) \
        - f.b_hat[f.i]


def at_traits(expr, m, f=None, trait=1):
    r"""``expr`` (in the families ``f``) for the model ``m`` of :func:`ml2p_symbols`: ``K``
    replaced by ``m.K``, the sums over traits written out (``doit``), each family member
    replaced by ``m``'s symbol (item ``i`` is ``m``'s first item), and the free trait index
    ``k`` by ``trait``.

    >>> f = ml2p_families()
    >>> at_traits(z_sum(f), ml2p_symbols(K=2), f)
    a_i1*theta_j1 + a_i2*theta_j2 - b_i
    """
    f = f or ml2p_families()
    e = sp.sympify(expr).xreplace({f.K: sp.Integer(m.K)}).subs(f.k, sp.Integer(trait)).doit()  # k free only
    members = {f.b[f.i]: m.b[0], f.b_hat[f.i]: m.b_hat[0]}
    for t in range(m.K):
        kk = sp.Integer(t + 1)
        members.update({f.a[f.i, kk]: m.a[0][t], f.a_hat[f.i, kk]: m.a_hat[0][t],
                        f.theta[f.j, kk]: m.theta[t], f.theta_hat[f.j, kk]: m.theta_hat[t],
                        f.sigma_hat[kk]: m.sigma_hat[t], f.eps[kk]: m.eps[t]})
    out = e.xreplace(members)
    left = [x for x in out.atoms(sp.Indexed)]
    if left:
        raise ML2PError(f"members outside {m.K} traits: {left}")
    return out
