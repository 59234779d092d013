r"""How far the seed's eq. (6)-(7) are off, and what is true instead.

At the true parameters the decoder logit is :math:`\hat z_i = z_i + \sum_k a_{ik}\hat\sigma_k
\varepsilon_k`, a normal variable with mean :math:`z_i` and standard deviation
:math:`s_i = (\sum_k a_{ik}^2\hat\sigma_k^2)^{1/2}`. The seed sets :math:`\varepsilon = 0` inside
the sigmoid; the exact expected gradients are

.. math::

    \mathbb E_\varepsilon\Big[\frac{\partial\mathcal L}{\partial\hat z_i}\Big]
        = \underbrace{\mathbb E[\sigma(z_i + s_i\varepsilon)] - \sigma(z_i)}_{\Delta(z_i, s_i)},
    \qquad
    \mathbb E_\varepsilon\Big[\frac{\partial\mathcal L}{\partial\hat a_{ik}}\Big]
        = \theta_{jk}\,\Delta(z_i, s_i) + a_{ik}\hat\sigma_k^2\,
          \mathbb E[\sigma'(z_i + s_i\varepsilon)]

(the second by Stein's lemma :math:`\mathbb E[\varepsilon_k g(\hat z)] = a_{ik}\hat\sigma_k
\mathbb E[g'(\hat z)]`). :math:`\Delta` has the sign of :math:`-z_i` and vanishes only at
:math:`z_i = 0` or :math:`s_i = 0`.

Where the minimum actually is: for fixed noise the expected cross-entropy of item
:math:`i` is minimised over the logit mean :math:`m` where
:math:`\mathbb E[\sigma(m + s\varepsilon)] = \sigma(z)` (its derivative in :math:`m` is
:math:`\mathbb E[\sigma(m + s\varepsilon)] - \sigma(z)`, increasing in :math:`m`): the
**calibrated logit** :math:`m^*(z, s)`, which is farther from 0 than :math:`z`.

A closed-form approximation is the probit one (MacKay, 1992):
:math:`\mathbb E[\sigma(z + s\varepsilon)] \approx \sigma(z/\sqrt{1 + \pi s^2/8})`, hence
:math:`m^* \approx z\sqrt{1 + \pi s^2/8}`. :func:`gap_table` measures its error against the
exact quadrature.

Examples
========

>>> print(mpmath.nstr(noise_gap(1, 1), 12))
-0.0343239084863
>>> print(mpmath.nstr(calibrated_logit(1, 1), 12))
1.19898683367
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath

from .errors import DomainError
from .numeric.validate import plain

__all__ = ["noise_gap", "stein_term", "probit_gap", "calibrated_logit", "GapRow", "gap_table"]


def _check(z, s):
    for name, v in (("z", z), ("s", s)):
        if not mpmath.isfinite(mpmath.mpf(v)):
            raise DomainError(f"{name} must be a finite real number, got {plain(v)}")
    if mpmath.mpf(s) < 0:
        raise DomainError(f"s is a standard deviation and must be >= 0, got {plain(s)}")


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _expect(f, z, s):
    """E[f(z + s eps)], eps ~ N(0, 1), by tanh-sinh quadrature split at the centre."""
    z, s = mpmath.mpf(z), mpmath.mpf(s)
    if s == 0:
        return f(z)
    # split at eps = 0 (the Gaussian's peak) and where the logit crosses 0 (the sigmoid's
    # transition), the latter only where the Gaussian still has mass
    centre = -z / s
    points = sorted({mpmath.mpf(0), centre} if abs(centre) < 12 else {mpmath.mpf(0)})
    return mpmath.quad(lambda e: f(z + s * e) * mpmath.npdf(e), [-mpmath.inf, *points, mpmath.inf])


def noise_gap(z, s, *, dps=30):
    r""":math:`\Delta(z, s) = \mathbb E[\sigma(z + s\varepsilon)] - \sigma(z)`, the value of the
    seed's eq. (6) (and minus eq. 7.b) at the true parameters, to ``dps`` digits."""
    _check(z, s)
    with mpmath.workdps(dps + 10):
        return _expect(_sigmoid, z, s) - _sigmoid(mpmath.mpf(z))


def stein_term(z, s, *, dps=30):
    r""":math:`\mathbb E[\sigma'(z + s\varepsilon)]` with :math:`\sigma' = \sigma(1 - \sigma)`."""
    _check(z, s)
    with mpmath.workdps(dps + 10):
        return _expect(lambda x: _sigmoid(x) * (1 - _sigmoid(x)), z, s)


def probit_gap(z, s):
    r"""The closed-form approximation :math:`\sigma(z/\sqrt{1 + \pi s^2/8}) - \sigma(z)` of :func:`noise_gap`."""
    _check(z, s)
    z, s = mpmath.mpf(z), mpmath.mpf(s)
    return _sigmoid(z / mpmath.sqrt(1 + mpmath.pi * s * s / 8)) - _sigmoid(z)


def calibrated_logit(z, s, *, dps=30):
    r"""The logit mean :math:`m^*` with :math:`\mathbb E[\sigma(m^* + s\varepsilon)] = \sigma(z)`:
    where the expected reconstruction loss of one item is minimal when the decoder noise has
    scale ``s`` (for ``s = 0`` it is ``z``: the seed's claim)."""
    _check(z, s)
    with mpmath.workdps(dps + 10):
        z, s = mpmath.mpf(z), mpmath.mpf(s)
        if s == 0 or z == 0:
            return z
        target = _sigmoid(z)
        guess = z * mpmath.sqrt(1 + mpmath.pi * s * s / 8)
        return mpmath.findroot(lambda m: _expect(_sigmoid, m, s) - target, guess)


@dataclass(frozen=True)
class GapRow:
    """One row of :func:`gap_table`: exact values (mpmath) and the probit approximations."""

    z: float
    s: float
    gap: object
    probit: object
    probit_error: object
    calibrated: object
    calibrated_probit: object


def gap_table(zs=(0.5, 1, 2, 4), ss=(0.25, 0.5, 1, 2, 4), *, dps=30):
    """Exact :math:`\\Delta(z, s)` and :math:`m^*(z, s)` on a grid, beside the probit approximations."""
    rows = []
    for z in zs:
        for s in ss:
            gap = noise_gap(z, s, dps=dps)
            approx = probit_gap(z, s)
            m_star = calibrated_logit(z, s, dps=dps)
            rows.append(GapRow(z, s, gap, approx, abs(approx - gap), m_star,
                               mpmath.mpf(z) * mpmath.sqrt(1 + mpmath.pi * mpmath.mpf(s) ** 2 / 8)))
    return rows
