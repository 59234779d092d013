r"""Gauss-Hermite rules for the standard normal: the package's one rule, and its tensor product.

One dimension (:func:`hermite_rule`): nodes :math:`x_q` and weights :math:`w_q > 0`,
:math:`\sum_q w_q = 1`, with

.. math:: \sum_{q=1}^G w_q f(x_q) = E f(\varepsilon), \qquad \varepsilon \sim \mathcal N(0, 1),

exactly for polynomials of degree :math:`\le 2G - 1`: the roots of the probabilists'
Hermite polynomial :math:`He_G` and :math:`w_q = (G-1)! / (G\,He_{G-1}(x_q)^2)`.
Computed by ``scipy.special.roots_hermitenorm`` (Golub-Welsch refined by Newton steps for
:math:`G \le 150`, the asymptotic expansion of Townsend, Trogdon and Olver beyond), then
normalised to sum to 1. ``benchmarks/bench_special.py`` compares it with the numpy rules
the package used before (``hermegauss`` up to G = 150, an eigen-decomposition of the
Jacobi matrix beyond, where ``hermegauss`` overflows to NaN), against nodes and weights
refined in mpmath at 30 digits:

====  ==========  ==========  ============  ==============  =============  ========
G     rule        time (ms)   weight abs.   tail weight     E[exp(2 eps)]  E[cos]
                              error         rel. error      rel. error     error
====  ==========  ==========  ============  ==============  =============  ========
64    numpy       0.9         7e-17         2e-14           2e-16          2e-16
64    scipy       0.2         9e-17         5e-13           3e-16          0
150   numpy       23          5e-17         6e-14           1e-15          0
150   scipy       1.9         6e-17         2e-12           4e-16          0
200   numpy (GW)  362         9e-16         (wrong: 6e82)   1e-15          2e-16
200   scipy       2.6         4e-16         2e-13           6e-15          3e-15
400   numpy (GW)  909         1e-15         (wrong: 7e181)  2e-11          3e-16
400   scipy       4.4         5e-16         2e-13           7e-15          4e-15
====  ==========  ==========  ============  ==============  =============  ========

The weights and the integrals agree to ~1e-15 at every size; only the relative accuracy
of the tiny weights of the outermost nodes (irrelevant to the expectation of anything
that grows more slowly than exp(x^2 / 2)) differs, in numpy's favour up to G = 150 and in
scipy's beyond. One code path for every G, and no NaN above 150, decided for scipy.

K dimensions (:func:`hermite_tensor_rule`): the tensor product for
:math:`\theta \sim \mathcal N(0, I_K)`, ``G**K`` points :math:`\theta_q` with weights
:math:`\prod_k w_{q_k}` (exact for polynomials of degree :math:`\le 2G - 1` in each
coordinate), also as log-weights :math:`\sum_k \log w_{q_k}` (no underflow for large G and K).

Both are cached and returned as read-only arrays (copy before writing). The tensor rule
refuses, with :class:`~ml2p_symbolic.errors.ResourceError`, a grid whose arrays would not
fit in memory (``G**K * (K + 2)`` float64 numbers; see :mod:`.budget`).

Examples
--------
>>> x, w = hermite_rule(3)
>>> x.round(6).tolist(), round(float(w.sum()), 12)
([-1.732051, 0.0, 1.732051], 1.0)
>>> theta, w = hermite_tensor_rule(5, 2)
>>> theta.shape, round(float(w @ (theta[:, 0] ** 2 * theta[:, 1] ** 2)), 12)
((25, 2), 1.0)
"""

import functools
import math

import numpy as np
import scipy.special as _sc

from ..errors import DomainError
from .budget import check_memory
from .validate import plain

__all__ = ["hermite_rule", "hermite_tensor_rule"]


def _check_G(G, name="G"):
    if isinstance(G, (bool, np.bool_)) or not isinstance(G, (int, np.integer)) or G < 1:
        raise DomainError(f"{name} (Gauss-Hermite points) must be a positive int; got {plain(G)}")
    return int(G)


@functools.lru_cache(maxsize=None)
def _rule(G):
    x, w = _sc.roots_hermitenorm(G)
    x = np.ascontiguousarray(x, dtype=np.float64)
    w = np.ascontiguousarray(w / w.sum(), dtype=np.float64)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def hermite_rule(G):
    """Nodes and weights of the G-point Gauss-Hermite rule for eps ~ N(0, 1).

    sum_q w_q f(x_q) ~ E[f(eps)], exact for polynomials of degree <= 2G - 1; the weights
    sum to 1 (probabilists' Hermite polynomials He_k).  Read-only arrays of shape (G,).
    Raises :class:`~ml2p_symbolic.errors.DomainError` unless G is an int >= 1.

    >>> x, w = hermite_rule(2)
    >>> x.tolist(), w.tolist()
    ([-1.0, 1.0], [0.5, 0.5])
    """
    return _rule(_check_G(G))


@functools.lru_cache(maxsize=8)
def _tensor(G, K):
    points = math.inf if K * math.log2(G) > 1000 else float(G) ** K
    check_memory(points * (K + 2) * 8, f"a tensor Gauss-Hermite rule of {G}**{K} = {points:,.0f} points")
    x, w = _rule(G)
    grids = np.meshgrid(*([x] * K), indexing="ij")
    theta = np.stack([g.ravel() for g in grids], axis=1)
    logw = np.zeros(1)
    with np.errstate(divide="ignore"):  # outermost weights of a large G underflow to 0
        lw = np.log(w)
    for _ in range(K):
        logw = np.add.outer(logw, lw).ravel()
    theta.setflags(write=False)
    logw.setflags(write=False)
    return theta, logw


def hermite_tensor_rule(G, K=1, *, log_weights=False):
    r"""Tensor Gauss-Hermite rule for :math:`\mathcal N(0, I_K)`: ``(theta, weights)``.

    ``theta`` has shape ``(G**K, K)`` (the last coordinate varies fastest); the weights,
    shape ``(G**K,)``, are positive and sum to 1, and :math:`\sum_q w_q f(\theta_q)
    = E f(\theta)` exactly for polynomials of degree :math:`\le 2G - 1` in each coordinate.
    With ``log_weights=True`` the second array is :math:`\log w_q` (finite where the
    product of the 1-D weights would underflow; ``-inf`` only where a 1-D weight itself is
    below 1e-308, for G in the hundreds). Read-only, cached arrays.

    Raises :class:`~ml2p_symbolic.errors.DomainError` for G or K not a positive int and
    :class:`~ml2p_symbolic.errors.ResourceError` when the ``G**K`` points would not fit
    in memory.

    >>> theta, w = hermite_tensor_rule(4, 3)
    >>> theta.shape, round(float(w.sum()), 12)
    ((64, 3), 1.0)
    """
    theta, logw = _tensor(_check_G(G), _check_G(K, "K"))
    if log_weights:
        return theta, logw
    w = np.exp(logw)
    w.setflags(write=False)
    return theta, w
