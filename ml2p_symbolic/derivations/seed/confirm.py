r"""Numeric confirmation of the seed's verdicts with the float64 evaluator :mod:`ml2p_symbolic.numeric`.

A second, independent line of evidence: the numpy ML2P-VAE (hand-derived gradients,
Gauss-Hermite / "auto" quadrature for :math:`\mathbb E_\varepsilon`) is evaluated at the
point of the verdict (its counterexample, or a fixed generic point for verified claims) and
compared with the symbolic side. Agreement corroborates; it never makes a claim verified.

This module holds the bridge from a point of the symbolic model to the evaluator's arrays;
each part of the seed attaches its confirmations with :func:`confirms`. A confirmation's line
is rich text (:mod:`ml2p_symbolic.engine.richtext`); :func:`num` writes a float as LaTeX.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from ...engine.evidence import latex_number
from ...engine.richtext import literal
from ...numeric import ml2p_prob, vae_loss, vae_loss_grad
from .statements import SEED

__all__ = ["numeric_point", "confirms", "num"]

#: a generic point (exact rationals) used for claims without a counterexample
_GENERIC = {"a": (sp.Rational(6, 5), sp.Rational(-7, 10)), "b": sp.Rational(3, 10),
            "theta": (sp.Rational(1, 2), sp.Rational(-13, 10)),
            "a_hat": (sp.Rational(9, 10), sp.Rational(2, 5)), "b_hat": sp.Rational(-1, 5),
            "theta_hat": (sp.Rational(4, 5), sp.Rational(-1, 3)),
            "sigma_hat": (sp.Rational(7, 10), sp.Rational(3, 2)), "eps": (sp.Rational(-11, 10), sp.Rational(1, 4))}


def confirms(*ids):
    """Attach ``fn(claim, verdict, m, m2) -> str`` to ``ids`` as the seed's numeric
    confirmation: its line is prefixed ``numpy evaluator:``; ``m`` is the check's one-item
    model and ``m2`` the two-item one. An evaluator error becomes a line saying so."""
    def decorate(fn):
        @functools.wraps(fn)
        def line(claim, verdict, ctx):
            try:
                return "numpy evaluator: " + fn(claim, verdict, ctx.m, ctx.m2)
            except (ValueError, ZeroDivisionError, OverflowError, TypeError) as exc:  # pragma: no cover
                return "numpy evaluator: no comparison " + literal(f"({type(exc).__name__}: {exc})")

        SEED.confirm(*ids)(line)
        return fn

    return decorate


def _generic_point(m):
    pt = {}
    for i in range(m.n):
        pt[m.b[i]] = _GENERIC["b"] + i
        pt[m.b_hat[i]] = _GENERIC["b_hat"] - i
        for k in range(m.K):
            pt[m.a[i][k]] = _GENERIC["a"][k % 2] + sp.Rational(i, 3)
            pt[m.a_hat[i][k]] = _GENERIC["a_hat"][k % 2] - sp.Rational(i, 4)
    for k in range(m.K):
        pt[m.theta[k]] = _GENERIC["theta"][k % 2]
        pt[m.theta_hat[k]] = _GENERIC["theta_hat"][k % 2]
        pt[m.sigma_hat[k]] = _GENERIC["sigma_hat"][k % 2]
        pt[m.eps[k]] = _GENERIC["eps"][k % 2]
    return pt


def numeric_point(m, point=None):
    """Arrays for the numpy evaluator from a point of the symbolic model ``m``.

    Missing symbols take the generic point's values. Returns a dict with ``A``, ``b``,
    ``theta`` (1, K), ``A_hat``, ``b_hat``, ``mu`` (1, K), ``log_var`` (1, K),
    ``eps`` (1, 1, K) and ``U`` = P (1, n), the seed's expected responses.
    """
    pt = {**_generic_point(m), **(point or {})}
    f = lambda s: float(sp.sympify(pt[s]))  # noqa: E731
    A = np.array([[f(m.a[i][k]) for k in range(m.K)] for i in range(m.n)])
    b = np.array([f(m.b[i]) for i in range(m.n)])
    theta = np.array([[f(m.theta[k]) for k in range(m.K)]])
    out = {
        "A": A, "b": b, "theta": theta,
        "A_hat": np.array([[f(m.a_hat[i][k]) for k in range(m.K)] for i in range(m.n)]),
        "b_hat": np.array([f(m.b_hat[i]) for i in range(m.n)]),
        "mu": np.array([[f(m.theta_hat[k]) for k in range(m.K)]]),
        "log_var": np.array([[2 * math.log(f(m.sigma_hat[k])) for k in range(m.K)]]),
        "eps": np.array([[[f(m.eps[k]) for k in range(m.K)]]]),
    }
    out["U"] = ml2p_prob(A, b, theta)
    return out



def truth_arrays(x):
    """The arrays at the true parameters (decoder = truth, encoder mean = true ability)."""
    return {**x, "A_hat": x["A"], "b_hat": x["b"], "mu": x["theta"]}



def grad(x, **kw):
    """vae_loss_grad at the arrays ``x``."""
    return vae_loss_grad(x["U"], x["A_hat"], x["b_hat"], x["mu"], x["log_var"], **kw)



def loss(x, **kw):
    """vae_loss (one student) at the arrays ``x``, as a float."""
    return float(vae_loss(x["U"], x["A_hat"], x["b_hat"], x["mu"], x["log_var"], **kw)[0])



def rel(a, b):
    """|a - b| relative to max(1, |a|, |b|)."""
    return abs(a - b) / max(1.0, abs(a), abs(b))


def num(x, spec=".15g"):
    r"""The float ``x`` formatted with ``spec`` as LaTeX math (no dollars):
    ``num(1.1e-16, ".1e")`` is ``1.1 \cdot 10^{-16}``."""
    return latex_number(format(float(x), spec))


def rel_diff(a, b):
    """``(rel. diff $...$)`` of :func:`rel` as rich text."""
    return f"(rel. diff ${num(rel(a, b), '.1e')}$)"



def lambdify_at(m, expr, x):
    """Evaluate a symbolic expression of model ``m`` in float64 at the arrays ``x``."""
    syms, vals = [], []
    for i in range(m.n):
        syms += [m.b[i], m.b_hat[i]]
        vals += [x["b"][i], x["b_hat"][i]]
        for k in range(m.K):
            syms += [m.a[i][k], m.a_hat[i][k]]
            vals += [x["A"][i, k], x["A_hat"][i, k]]
    for k in range(m.K):
        syms += [m.theta[k], m.theta_hat[k], m.sigma_hat[k], m.eps[k]]
        vals += [x["theta"][0, k], x["mu"][0, k], math.exp(x["log_var"][0, k] / 2), x["eps"][0, 0, k]]
    return float(sp.lambdify(syms, expr, modules="math")(*vals))

