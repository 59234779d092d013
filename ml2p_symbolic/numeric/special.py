r"""The elementwise special functions of the ML2P model, in float64: the package's one copy.

Every numpy evaluation of the logistic link and its relatives goes through this module
(``numeric.loss``, ``numeric.encoder``, ``numeric.model``, ``population``,
``identifiability``); the mpmath versions of :mod:`ml2p_symbolic.corrections` are the
high-precision counterparts.

    sigmoid(z)      = 1 / (1 + e^-z)                      scipy.special.expit
    softplus(z)     = log(1 + e^z) = max(z, 0) + log1p(e^-|z|)
    log_sigmoid(z)  = log sigmoid(z) = -softplus(-z)       scipy.special.log_expit
    erfc(x)         = 2 / sqrt(pi) int_x^inf e^(-t^2) dt   scipy.special.erfc
    ndtr(t)         = Phi(t) = P(eps <= t), eps ~ N(0, 1) scipy.special.ndtr
    log_ndtr(t)     = log Phi(t)                           scipy.special.log_ndtr

Each takes an array_like and returns a float64 array of its shape (a numpy scalar for a
scalar); none overflows or warns for any finite or infinite input, and NaN gives NaN.

Which implementation, and why (``benchmarks/bench_special.py``: 10^6 points, median
time; worst relative error against mpmath at 30 digits):

==========  =========================================  ==========  ==========
function    implementation                             ns/point    rel. error
==========  =========================================  ==========  ==========
ndtr        former series + trapezoid erfc              53          1.9e-13
            scipy.special.ndtr (used)                   18          2.2e-13
erfc        former series + trapezoid                   48          6.7e-16
            scipy.special.erfc (used)                   17          5.7e-14
sigmoid     former np.where of two branches             14          2.5e-16
            scipy.special.expit (used)                   8          1.7e-16
softplus    max(z, 0) + log1p(exp(-abs(z))) (used)        5          1.7e-16
            -scipy.special.log_expit(-z)                17          1.7e-16
==========  =========================================  ==========  ==========

Phi is what the package evaluates (in :mod:`.quadrature`); both versions lose ~t^2 ulp in
the lower tail to the rounding of t / sqrt(2), so scipy's is as accurate and 3 times
faster.  scipy's erfc on its own loses ~x^2 ulp in the far tail (5.7e-14 at x = 27, where
the former one kept 7e-16 by splitting x^2 exactly); the package calls erfc only through
Phi, and keeps one implementation.  ``log_ndtr`` has full relative accuracy where
log(ndtr) would underflow (t < -38).  softplus stays hand-written (in place, no
temporaries): 3.5 times faster than ``-log_expit(-z)`` or ``np.logaddexp(0, z)`` at the
same accuracy; log_sigmoid is -softplus(-z) for the same reason.

Examples
--------
>>> float(sigmoid(0.0)), float(softplus(0.0)) == float(np.log(2.0))
(0.5, True)
>>> sigmoid([-800.0, 800.0]).tolist(), log_sigmoid([-800.0]).tolist()
([0.0, 1.0], [-800.0])
>>> float(ndtr(0.0)), round(float(erfc(1.0)), 12)
(0.5, 0.157299207050)
"""

import numpy as np
import scipy.special as _sc

__all__ = ["sigmoid", "softplus", "log_sigmoid", "softplus_sigmoid", "erfc", "ndtr", "log_ndtr"]


def sigmoid(z, out=None):
    r"""sigmoid(z) = 1 / (1 + e^-z), elementwise, to ~1 ulp; no overflow for any z.

    ``out``: optional float64 array of z's shape to write into (may be ``z`` itself).

    >>> sigmoid([0.0, 2.0]).round(12).tolist()
    [0.5, 0.880797077978]
    """
    return _sc.expit(np.asarray(z, dtype=np.float64), out=out)


def softplus(z, out=None):
    r"""softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^-|z|), elementwise, no overflow.

    ``out``: optional float64 array of z's shape to write into (may be ``z`` itself).

    >>> softplus([-800.0, 0.0, 800.0]).round(12).tolist()
    [0.0, 0.69314718056, 800.0]
    """
    z = np.asarray(z, dtype=np.float64)
    pos = np.maximum(z, 0.0)
    t = np.empty_like(z) if out is None else out
    np.abs(z, out=t)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    t += pos
    return t if t.ndim else t[()]


def log_sigmoid(z, out=None):
    r"""log sigmoid(z) = -softplus(-z) = -log(1 + e^-z), elementwise, no overflow.

    ``out``: optional float64 array of z's shape to write into (may be ``z`` itself).

    >>> log_sigmoid([0.0, 800.0]).round(12).tolist()
    [-0.69314718056, -0.0]
    """
    t = softplus(np.negative(np.asarray(z, dtype=np.float64), out=out), out=out)
    return np.negative(t, out=out if t.ndim else None)


def softplus_sigmoid(z):
    r"""``(softplus(z), sigmoid(z))`` computed together, sharing e = exp(-|z|):

        softplus = max(z, 0) + log1p(e),   sigmoid = (1 if z >= 0 else e) / (1 + e).

    Two new arrays of z's shape (the training loop needs both for the same logits).

    >>> sp, p = softplus_sigmoid(np.array([0.0]))
    >>> float(sp[0]) == float(np.log(2.0)), float(p[0])
    (True, 0.5)
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    sp = np.log1p(e)
    sp += np.maximum(z, 0.0)
    p = np.where(z >= 0, 1.0, e)
    e += 1.0
    p /= e
    return sp, p


def erfc(x):
    r"""erfc(x) = 2 / sqrt(pi) int_x^inf e^(-t^2) dt, elementwise (scipy.special.erfc).

    erfc(-inf) = 2, erfc(inf) = 0.  Relative error at most ~10 ulp * max(1, x^2) (measured:
    8 ulp near x = 1, 5.7e-14 at x = 27), down to the underflow near x = 26.5.

    >>> erfc([-np.inf, 0.0, 30.0]).tolist()
    [2.0, 1.0, 0.0]
    """
    return _sc.erfc(np.asarray(x, dtype=np.float64))


def ndtr(t):
    r"""Phi(t) = P(eps <= t) for eps ~ N(0, 1), elementwise (scipy.special.ndtr).

    Relative error at most ~3 ulp * max(1, t^2) in both tails (the rounding of t / sqrt 2),
    down to the underflow of Phi near t = -38.

    >>> ndtr([0.0, 1.0]).round(12).tolist()
    [0.5, 0.841344746069]
    """
    return _sc.ndtr(np.asarray(t, dtype=np.float64))


def log_ndtr(t):
    r"""log Phi(t), elementwise (scipy.special.log_ndtr), accurate where Phi(t) underflows.

    Relative error ~1e-16 where |log Phi| is not tiny; ~1e-30 absolute for t > 6.

    >>> round(float(log_ndtr(-40.0)), 6)
    -804.608442
    """
    return _sc.log_ndtr(np.asarray(t, dtype=np.float64))
