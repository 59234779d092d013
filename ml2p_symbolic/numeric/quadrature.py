r"""Gaussian expectations of softplus and the sigmoid, in float64.

Given mu_j and log_var_j, the logit z_hat_ij of the ML2P-VAE is the one-dimensional
Gaussian m + s eps with eps ~ N(0, 1), m = A_i . mu_j - b_i and
s = sqrt(sum_k A_ik^2 exp(log_var_jk)).  The expected loss needs

    F(m, s) = E[softplus(m + s eps)],        softplus(x) = log(1 + e^x) = -log sigmoid(-x),

and its derivatives

    dF/dm      = E[sigmoid(m + s eps)],
    dF/d(s^2)  = E[eps sigmoid(m + s eps)] / (2 s) = E[sigmoid'(m + s eps)] / 2.

(E[log sigmoid(m + s eps)] = -F(-m, s).)  Two rules are offered:

``nodes=G`` (an int)
    The plain G-point Gauss-Hermite rule with probabilists' weights (weights summing to 1),
    F ~ sum_q w_q softplus(m + s x_q); the derivatives returned are the exact derivatives
    of that sum, sum_q w_q sigmoid(m + s x_q) and sum_q w_q x_q sigmoid(m + s x_q) / (2 s).

``nodes="auto"``
    F to about 1e-13 absolute (tested to 1e-10 against mpmath) for every m and s.

What the measurements showed (see ``benchmarks/`` and the table below).  softplus is
analytic, but its singularities sit at x = +-i pi, so in the eps variable the integrand
is analytic only in a strip of half-width pi / s: Gauss-Hermite converges geometrically
with a rate that collapses as s grows.  Worst case over m in {0, 1.3} of the number of
Gauss-Hermite nodes for an absolute error < 1e-10 in F:

    ======  ============================================
    s       G needed (error at G = 32 / 64 / 128)
    ======  ============================================
    0.1     4
    0.5     9
    1       19     (1e-14 / 1e-16 / 0)
    2       55     (3e-8 / 1e-11 / 0)
    3       112    (5e-6 / 3e-8 / 2e-11)
    5       >128   (4e-4 / 2e-5 / 2e-7)
    10      >128   (1e-2 / 2e-3 / 2e-4)
    50      >128   (2.5e-1 / 1.2e-1 / 5e-2)
    ======  ============================================

So Gauss-Hermite alone is hopeless beyond s ~ 3.  ``"auto"`` therefore uses

* for s <= 1.5: Gauss-Hermite with 12 to 64 nodes chosen from s (error < 1e-13);
* for s > 1.5: the split softplus(x) = max(x, 0) + r(|x|), r(t) = log1p(e^-t).
  E[max(m + s eps, 0)] = m Phi(m/s) + s phi(m/s) in closed form, and
  E[r(|X|)] for X ~ N(m, s^2) is, folding x -> -x,

      R(m, s) = int_0^inf r(x) psi(x) dx,  psi(x) = [phi((x - m)/s) + phi((x + m)/s)] / s,

  computed with the Gauss rule *for the weight r(x) on [0, inf)* (nodes and weights from
  the Stieltjes procedure on a fine discretisation of r(x) dx, then Golub-Welsch).  psi is
  a Gaussian of width s, ever smoother as s grows, so the rule converges faster for larger
  s.  Worst error of F and of E[sigmoid] over m in [-40, 40] (mpmath reference):

    ===========  ===================================================
    rule, s      error at G = 16 / 24 / 32 / 40 / 48 / 56 / 64
    ===========  ===================================================
    split 1.5    8e-7 / 2e-8 / 8e-10 / 2e-11 / 3e-13 / 7e-15 / 1e-15
    split 2      1e-8 / 5e-11 / 5e-13 / 6e-15 / 2e-15
    split 3      3e-12 / 2e-15 (G = 8: 3e-8, G = 12: 3e-10)
    split 5      2e-15 (G = 8: 3e-11, G = 12: 1e-14)
    split 10     2e-15 from G = 8 on
    hermite 0.5  2e-15 (G = 12: 8e-13)
    hermite 1    3e-9 / 1e-11 / 6e-14 / 4e-15
    hermite 1.5  9e-7 / 2e-8 / 1e-9 / 6e-11 / 4e-12 / 3e-13 / 4e-14
    ===========  ===================================================

  ``AUTO_PLAN`` below picks, per range of s, the rule and G with error ~1e-13 or less,
  so that the switch between ranges moves F by no more than that.

The derivatives returned by ``"auto"`` are the exact derivatives of the formula used
(closed form plus quadrature, differentiated through m and s), so gradients agree with
finite differences of the computed loss.

Examples
--------
>>> x, w = hermite_rule(3)
>>> x.round(6).tolist(), w.sum().round(12)
([-1.732051, 0.0, 1.732051], np.float64(1.0))
>>> abs(float(expected_softplus(0.0, 0.0, 8)) - math.log(2.0)) < 1e-15
True
>>> round(gaussian_expectation("sigmoid", 0.3, 2.0), 12)
0.545325868436
"""

import functools
import math

import numpy as np

from ..errors import DomainError
from .gauss_hermite import hermite_rule
from . import special
from .special import ndtr
from .validate import check_nodes

__all__ = [
    "hermite_rule",
    "softplus_weight_rule",
    "expected_softplus",
    "gaussian_expectation",
    "AUTO_PLAN",
]

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / _SQRT_2PI

erfc = special.erfc  # the package's one erfc (numeric.special), still importable from here

#: ``"auto"``: rows (s_max, rule, G); an element uses the first row with s <= s_max.
#: Chosen from measured errors against mpmath (see the module docstring).
AUTO_PLAN = (
    (0.25, "hermite", 12),
    (0.5, "hermite", 16),
    (1.0, "hermite", 36),
    (1.5, "hermite", 64),
    (2.0, "split", 56),
    (3.0, "split", 40),
    (5.0, "split", 24),
    (10.0, "split", 12),
    (math.inf, "split", 8),
)


def _softplus_tail(x):
    """r(x) = log1p(exp(-|x|))."""
    return np.log1p(np.exp(-np.abs(x)))


@functools.lru_cache(maxsize=None)
def softplus_weight_rule(G):
    """Gauss rule for the weight r(x) = log1p(exp(-x)) on [0, inf).

    sum_q w_q f(x_q) ~ int_0^inf log1p(e^-x) f(x) dx, exact for polynomials of degree
    <= 2G - 1.  Built by the Stieltjes procedure on a 5,640-point composite
    Gauss-Legendre discretisation of r(x) dx on [0, 90] (r(90) ~ 1e-39), followed by the
    eigen-decomposition of the Jacobi matrix.  The weights sum to pi^2 / 12.

    >>> x, w = softplus_weight_rule(8)
    >>> bool(abs(w.sum() - np.pi ** 2 / 12) < 1e-15)
    True
    """
    G = check_nodes(G)
    xg, wg = np.polynomial.legendre.leggauss(30)
    edges = np.concatenate([np.linspace(0.0, 4.0, 17), np.linspace(4.5, 90.0, 172)])
    lo, hi = edges[:-1, None], edges[1:, None]
    X = ((lo + hi) / 2 + (hi - lo) / 2 * xg).ravel()
    W = ((hi - lo) / 2 * wg).ravel() * _softplus_tail(X)
    alpha = np.empty(G)
    beta = np.empty(G)
    beta[0] = W.sum()
    p_prev = np.zeros_like(X)
    p = np.full_like(X, 1.0 / math.sqrt(beta[0]))  # orthonormal polynomials on the grid
    for k in range(G):
        alpha[k] = np.sum(W * X * p * p)
        q = (X - alpha[k]) * p - (math.sqrt(beta[k]) * p_prev if k else 0.0)
        if k + 1 < G:
            beta[k + 1] = np.sum(W * q * q)
            p_prev, p = p, q / math.sqrt(beta[k + 1])
    off = np.sqrt(beta[1:])
    x, V = np.linalg.eigh(np.diag(alpha) + np.diag(off, 1) + np.diag(off, -1))
    w = beta[0] * V[0] ** 2
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def _hermite_softplus(m, s, G, value, grad):
    """G-point Gauss-Hermite F, dF/dm, dF/d(s^2) for 1-D arrays m, s (see module doc)."""
    x, w = hermite_rule(G)
    z = s[:, None] * x
    z += m[:, None]
    a = np.abs(z)
    np.negative(a, out=a)
    t = np.exp(a, out=a)  # exp(-|z|)
    F = Fm = Fv = None
    if value:
        sp = np.log1p(t)
        sp += np.maximum(z, 0.0)
        F = sp @ w
        del sp
    if grad:
        num = np.minimum(z, 0.0, out=z)
        np.exp(num, out=num)  # 1 if z >= 0 else exp(z)
        t += 1.0
        sig = np.divide(num, t, out=num)  # sigmoid(z)
        Fm = sig @ w
        Fs = sig @ (w * x)  # dF/ds
        # dF/d(s^2) = dF/ds / (2 s); at s = 0 its limit sigmoid'(m) sum w x^2 / 2.
        Fv = np.empty_like(m)
        pos = s > 0
        np.divide(Fs, 2.0 * s, out=Fv, where=pos)
        zero = ~pos
        if zero.any():
            e = np.exp(-np.abs(m[zero]))
            Fv[zero] = e / (1.0 + e) ** 2 * float(np.sum(w * x * x)) / 2.0
    return F, Fm, Fv


def _split_softplus(m, s, G, value, grad):
    """'auto' rule for s > 0: closed-form E[max(X, 0)] plus the r-weighted Gauss rule."""
    x, w = softplus_weight_rule(G)
    inv_s = 1.0 / s
    c = m * inv_s
    Phi = ndtr(c)
    phi = np.exp(-0.5 * c * c) * _INV_SQRT_2PI
    u1 = (x - m[:, None]) * inv_s[:, None]  # (x - m) / s
    u2 = (x + m[:, None]) * inv_s[:, None]  # (x + m) / s
    p1 = np.exp(-0.5 * u1 * u1)
    p2 = np.exp(-0.5 * u2 * u2)
    cw = w * _INV_SQRT_2PI
    F = Fm = Fv = None
    if value:
        F = m * Phi + s * phi + ((p1 + p2) @ cw) * inv_s
    if grad:
        inv_s2 = inv_s * inv_s
        Fm = Phi + ((p1 * u1 - p2 * u2) @ cw) * inv_s2
        Fs = phi + ((p1 * (u1 * u1 - 1.0) + p2 * (u2 * u2 - 1.0)) @ cw) * inv_s2
        Fv = Fs * (0.5 * inv_s)
    return F, Fm, Fv


def _auto_softplus(m, s, value, grad):
    F = np.empty_like(m) if value else None
    Fm = np.empty_like(m) if grad else None
    Fv = np.empty_like(m) if grad else None
    lo = -np.inf
    for s_max, rule, G in AUTO_PLAN:
        idx = np.flatnonzero((s > lo) & (s <= s_max))
        lo = s_max
        if idx.size == 0:
            continue
        fn = _hermite_softplus if rule == "hermite" else _split_softplus
        f, fm, fv = fn(m[idx], s[idx], G, value, grad)
        if value:
            F[idx] = f
        if grad:
            Fm[idx] = fm
            Fv[idx] = fv
    return F, Fm, Fv


def expected_softplus(m, s, nodes="auto", *, value=True, grad=False):
    r"""F(m, s) = E[softplus(m + s eps)], eps ~ N(0, 1), and optionally its derivatives.

    Parameters
    ----------
    m, s : array_like, broadcast together; s >= 0
    nodes : int >= 1 (Gauss-Hermite) or ``"auto"`` (accurate to ~1e-13 absolute)
    value : bool, return F
    grad : bool, return dF/dm = E[sigmoid(m + s eps)] and dF/d(s^2)

    Returns
    -------
    F, or (F, dF/dm, dF/d(s^2)) if ``grad`` (F is None when ``value`` is False); arrays
    of the broadcast shape, exact derivatives of the rule used.

    Examples
    --------
    >>> F, Fm, Fv = expected_softplus([0.0, 1.0], [1.0, 3.0], "auto", grad=True)
    >>> F.round(10).tolist()
    [0.8060591833, 1.9510976684]
    """
    nodes = check_nodes(nodes)
    m, s = np.broadcast_arrays(np.asarray(m, np.float64), np.asarray(s, np.float64))
    shape = m.shape
    m = np.ascontiguousarray(m).ravel()
    s = np.ascontiguousarray(s).ravel()
    if nodes == "auto":
        F, Fm, Fv = _auto_softplus(m, s, value, grad)
    else:
        F, Fm, Fv = _hermite_softplus(m, s, nodes, value, grad)
    out = [a.reshape(shape) if a is not None else None for a in (F, Fm, Fv)]
    return tuple(out) if grad else out[0]


def gaussian_expectation(f_name, m, s, nodes="auto"):
    r"""E[f(m + s eps)] for eps ~ N(0, 1), f one of the ML2P link functions.

    ``f_name``: ``"softplus"`` (log(1 + e^x)), ``"log_sigmoid"`` (-softplus(-x)), or
    ``"sigmoid"`` (1 / (1 + e^-x), via dF/dm).  ``nodes``: int (Gauss-Hermite) or
    ``"auto"`` (~1e-13 absolute).  Returns a float for scalar m and s, else an array.

    >>> round(float(gaussian_expectation("log_sigmoid", 0.0, 0.0)), 12)
    -0.69314718056
    >>> round(float(gaussian_expectation("sigmoid", 0.0, 50.0)), 15)
    0.5
    """
    scalar = np.ndim(m) == 0 and np.ndim(s) == 0
    if np.any(np.asarray(s) < 0):
        raise DomainError("s (the standard deviation) must be >= 0")
    if f_name == "softplus":
        out = expected_softplus(m, s, nodes)
    elif f_name == "log_sigmoid":
        out = -expected_softplus(np.negative(m), s, nodes)
    elif f_name == "sigmoid":
        out = expected_softplus(m, s, nodes, value=False, grad=True)[1]
    else:
        raise DomainError(
            f'f_name must be "softplus", "log_sigmoid" or "sigmoid"; got {f_name!r}'
        )
    return float(out) if scalar else out
