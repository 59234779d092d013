r"""What the seed's checks share: the models they work on, exact points, and the noise scale.

Notation used in conditions: :math:`z_i = a_{i:}\cdot\theta_{j:} - b_i` and the noise scale
of item :math:`i` at the true parameters :math:`s_i^2 = \sum_k a_{ik}^2\hat\sigma_k^2`, so
that :math:`\hat z_i = z_i + \sum_k a_{ik}\hat\sigma_k\varepsilon_k \sim \mathcal N(z_i, s_i^2)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy as sp

from ...derive import Z, ZHAT, d_rec_d_zhat, general_K_zhat_partials, item_cross_entropy
from ...engine import kernel
from ...engine.evidence import DPS, value_at
from ...engine.expectation import expectation_numeric
from ...engine.richtext import code, literal
from ...errors import ArgumentError
from ...model import gaussian_density, ml2p_symbols, sigmoid, z, z_hat

__all__ = ["MAX_TRAITS", "SeedContext", "at_size", "prove"]

#: the largest number of traits ``check --traits K`` accepts. The symbolic work grows with K
#: (sums of K terms inside sigmoids, K-dimensional expectations). Measured with
#: ``benchmarks/bench_check.py --traits 1,3,4,6,8`` (whole check, in-process, 2 shared cores):
#: 13 s at K = 1, 15 s at K = 3, 18 s at K = 4, 29 s at K = 6, all with the same verdicts; at
#: K = 8 (37 s) a step runs out of its time budget and one verdict becomes open.
MAX_TRAITS = 6

S_I = sp.Symbol("s_i", nonnegative=True)  # the noise scale, for stating conditions
N_ITEMS = sp.Symbol("n", integer=True, positive=True)
EPS = sp.Symbol("varepsilon", real=True)


@lru_cache(maxsize=None)
def model(K, n):
    """The symbolic ML2P-VAE for ``K`` traits and ``n`` items (cached)."""
    return ml2p_symbols(K=K, n=n)


@dataclass(frozen=True)
class SeedContext:
    """The models a seed check works on: ``m`` (K traits, one item) and ``m2`` (two items)."""

    K: int

    def __post_init__(self):
        if isinstance(self.K, bool) or not isinstance(self.K, int) or self.K < 1:
            raise ArgumentError(f"the number of traits K must be an integer >= 1, got {self.K!r}")
        if self.K > MAX_TRAITS:
            raise ArgumentError(
                f"K = {self.K} traits is more than this check supports (at most {MAX_TRAITS}): the symbolic "
                f"work grows with K (the whole check takes about 15 s at K = 2 and 29 s at K = 6; at K = 8 "
                f"steps run out of their time budget) and K = 1 to 6 give the same verdicts")

    @property
    def m(self):
        return model(self.K, 1)

    @property
    def m2(self):
        return model(self.K, 2)


def at_size(ctx):
    """The sizes of a check made for ``ctx.K`` traits (a verdict's ``sizes``): ``{"K": [K]}``."""
    return {"K": [ctx.K]}


def prove(goal, certificates, **wording):
    """The kernel's ``verified`` for ``goal`` from the first of ``certificates`` it accepts
    (``wording``: ``method``, ``detail``, ``evidence``, ``corrected`` of the verdict), or
    ``(None, reasons)`` with the kernel's reason for each rejection.

    The seed proposes; :func:`ml2p_symbolic.engine.kernel.verify` re-checks each certificate
    against the goal and alone decides."""
    reasons = []
    for cert in certificates:
        try:
            proof = kernel.verify(goal, cert, **wording)
        except kernel.KernelRejection as exc:
            reasons.append(str(exc))
            continue
        # the kernel's line as rich text: names of rewritings as code
        lines = tuple(re.sub(r"[A-Za-z]+(?:_[A-Za-z]+)+", lambda w: code(w.group(0)), literal(e))
                      if e.startswith("kernel: ") else e for e in proof.evidence)
        return kernel.restate(proof, evidence=lines), ()
    return None, tuple(reasons)


def point(m, *, a=None, b=0, theta=None, sigma=None, extra=None, item=0):
    """An exact point of the model: ``a``/``theta``/``sigma`` per trait (default trait 1 only)."""
    K = m.K
    a = list(a) if a is not None else [1] + [0] * (K - 1)
    theta = list(theta) if theta is not None else [0] * K
    sigma = list(sigma) if sigma is not None else [1] * K
    pt = {m.b[item]: sp.nsimplify(b)}
    for k in range(K):
        pt[m.a[item][k]] = sp.nsimplify(a[k])
        pt[m.theta[k]] = sp.nsimplify(theta[k])
        pt[m.sigma_hat[k]] = sp.nsimplify(sigma[k])
    pt.update(extra or {})
    return pt


def truth_point(m, extra=None):
    """The exact point a_i1 = theta_j1 = sigmahat = 1 (other loadings and abilities 0), b_i = 0,
    with the decoder and the encoder mean at the truth."""
    pt = point(m, theta=[1] + [0] * (m.K - 1), extra=extra)
    pt.update({m.a_hat[0][k]: pt[m.a[0][k]] for k in range(m.K)})
    pt.update({m.theta_hat[k]: pt[m.theta[k]] for k in range(m.K)})
    pt[m.b_hat[0]] = pt[m.b[0]]
    return pt


def noise_scale_sq(m, i=0):
    r""":math:`s_i^2 = \sum_k a_{ik}^2\hat\sigma_k^2`."""
    return sum(m.a[i][k] ** 2 * m.sigma_hat[k] ** 2 for k in range(m.K))


def dL_dzhat_in_params(m, i=0):
    """The seed's dL/dzhat_i (eq. 4) with z_i and zhat_i written in the model's parameters."""
    return d_rec_d_zhat().subs({Z: z(m, i), ZHAT: z_hat(m, i)})


def general_K_line(key):
    """One line of evidence (rich text): SymPy's partial derivative of zhat_i for a symbolic K."""
    partials, (K, l) = general_K_zhat_partials()
    var = {"a_hat": sp.IndexedBase("ahat")[l], "b_hat": sp.Symbol("bhat_i", real=True),
           "theta_hat": sp.IndexedBase("thetahat")[l]}[key]  # the variables of general_K_zhat_partials
    return (f"for symbolic ${sp.latex(K)}$ and trait ${sp.latex(sp.Le(l, K))}$, SymPy gives "
            rf"$\partial {sp.latex(ZHAT)} / \partial {sp.latex(var)} = {sp.latex(partials[key])}$")


def logit_and_scale(m, pt):
    """(z_i, s_i) at an exact point, as mpmath numbers."""
    return value_at(z(m), pt), mpmath.sqrt(value_at(noise_scale_sq(m), pt))


def gap_integral():
    r""":math:`\Delta(z_i, s_i) = \mathbb E[\sigma(z_i + s_i\varepsilon)] - \sigma(z_i)` as an
    unevaluated integral, from the derived dL/dzhat_i with :math:`\hat z_i = z_i + s_i\varepsilon`."""
    g = sp.simplify(d_rec_d_zhat()).subs(ZHAT, Z + S_I * EPS)
    return sp.Integral(g * gaussian_density(EPS, 0, 1), (EPS, -sp.oo, sp.oo))


def stein_integral():
    r""":math:`\mathbb E[\sigma'(z_i + s_i\varepsilon)]` as an unevaluated integral (derived :math:`\sigma'`)."""
    g = sp.diff(sigmoid(ZHAT), ZHAT).subs(ZHAT, Z + S_I * EPS)
    return sp.Integral(g * gaussian_density(EPS, 0, 1), (EPS, -sp.oo, sp.oo))



def expected_item_rec(m, at, *, i=0):
    """E_eps of item ``i``'s expected cross-entropy at the exact point ``at`` (mpmath, DPS digits)."""
    f = item_cross_entropy(sigmoid(z(m, i)), z_hat(m, i))
    return expectation_numeric(f, m.eps, at, dps=DPS)
