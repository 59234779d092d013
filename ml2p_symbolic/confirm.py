r"""Numeric confirmation of each verdict with the float64 evaluator :mod:`ml2p_symbolic.numeric`.

A second, independent line of evidence: the numpy ML2P-VAE (hand-derived gradients,
Gauss-Hermite / "auto" quadrature for :math:`\mathbb E_\varepsilon`) is evaluated at the
point of the verdict (its counterexample, or a fixed generic point for verified claims) and
compared with the symbolic side. Agreement corroborates; it never makes a claim verified.

:func:`confirm` returns one line of evidence per claim (or ``None`` where the evaluator has
nothing to add); :func:`ml2p_symbolic.checker.check` appends it to the verdict's evidence.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from .derive import Z, ZHAT, gaussian_kl_1d
from .model import z, z_hat
from .numeric import ml2p_prob, vae_loss, vae_loss_grad

__all__ = ["confirm", "numeric_point"]

#: a generic point (exact rationals) used for claims without a counterexample
_GENERIC = {"a": (sp.Rational(6, 5), sp.Rational(-7, 10)), "b": sp.Rational(3, 10),
            "theta": (sp.Rational(1, 2), sp.Rational(-13, 10)),
            "a_hat": (sp.Rational(9, 10), sp.Rational(2, 5)), "b_hat": sp.Rational(-1, 5),
            "theta_hat": (sp.Rational(4, 5), sp.Rational(-1, 3)),
            "sigma_hat": (sp.Rational(7, 10), sp.Rational(3, 2)), "eps": (sp.Rational(-11, 10), sp.Rational(1, 4))}


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


def _truth(x):
    """The arrays at the true parameters (decoder = truth, encoder mean = true ability)."""
    return {**x, "A_hat": x["A"], "b_hat": x["b"], "mu": x["theta"]}


def _grad(x, **kw):
    return vae_loss_grad(x["U"], x["A_hat"], x["b_hat"], x["mu"], x["log_var"], **kw)


def _loss(x, **kw):
    return float(vae_loss(x["U"], x["A_hat"], x["b_hat"], x["mu"], x["log_var"], **kw)[0])


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(a), abs(b))


def _lambdify(m, expr, x):
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


def confirm(claim, verdict, m, m2):
    """One line of numeric evidence for ``claim`` (None when there is nothing to compare).

    ``m`` is the one-item symbolic model of the check, ``m2`` the two-item one.
    """
    fn = _CONFIRMERS.get(claim.id)
    if fn is None:
        return None
    try:
        return "numpy evaluator: " + fn(claim, verdict, m, m2)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError) as exc:  # pragma: no cover
        return f"numpy evaluator: no comparison ({type(exc).__name__}: {exc})"


def _c_eq1_P(claim, verdict, m, m2):
    x = numeric_point(m)
    sym = _lambdify(m, claim.statement.rhs, x)
    return f"ml2p_prob = {x['U'][0, 0]:.17g}, eq. (1) as written = {sym:.17g} (rel. diff {_rel(x['U'][0, 0], sym):.1e})"


def _c_eq1_Phat(claim, verdict, m, m2):
    x = numeric_point(m)
    theta_draw = x["mu"] + x["eps"][0] * np.exp(x["log_var"] / 2)
    num = ml2p_prob(x["A_hat"], x["b_hat"], theta_draw)[0, 0]
    sym = _lambdify(m, claim.statement.rhs, x)
    return f"ml2p_prob at thetahat + eps sigmahat = {num:.17g}, eq. (1) as written = {sym:.17g} (rel. diff {_rel(num, sym):.1e})"


def _c_eq2(claim, verdict, m, m2):
    from .derive import gaussian_kl
    from .model import reconstruction_loss

    x = numeric_point(m)
    worst = 0.0
    for u in (0.0, 1.0):
        x["U"] = np.array([[u]])
        num = _loss(x, eps=x["eps"])
        sym = _lambdify(m, (reconstruction_loss(m) + gaussian_kl(m)).subs(m.u[0], u), x)
        worst = max(worst, _rel(num, sym))
    return f"vae_loss (one eps draw, u = 0 and 1) vs eq. (2) with the derived KL: max rel. diff {worst:.1e}"


def _c_eq3(claim, verdict, m, m2):
    if not verdict.counterexample:
        return "no counterexample to compare"
    cx = {str(k): float(v) for k, v in verdict.counterexample.items()}
    A = np.array([[cx["ahat_i1"]]])
    b = np.array([cx["bhat_i"]])
    p = float(1 / (1 + math.exp(-(cx["a_i1"] * cx["theta_j1"] - cx["b_i"]))))
    lv = np.array([[2 * math.log(cx["sigmahat_1"])]])
    eps = np.array([[[cx["varepsilon_1"]]]])
    L = lambda u, enc: float(vae_loss(np.array([[u]]), A, b, np.array([[cx["w"] * enc]]), lv, eps=eps)[0])  # noqa: E731
    lhs = p * L(1.0, 1.0) + (1 - p) * L(0.0, 0.0)
    rhs = L(p, p)
    return f"E_u[L(u)] = {lhs:.15g}, L(P) = {rhs:.15g} with the encoder thetahat = w u (float64 agrees with the mpmath values)"


def _dl_dzhat_numeric(x, i=0, **kw):
    return -_grad(x, **kw)["b"][i]


def _c_eq4(claim, verdict, m, m2):
    x = numeric_point(m, verdict.counterexample)
    num = _dl_dzhat_numeric(x, eps=x["eps"])
    rhs = claim.statement.rhs
    if rhs.has(Z) or rhs.has(ZHAT):
        rhs = rhs.subs({Z: z(m), ZHAT: z_hat(m)})
    sym = _lambdify(m, rhs, x)
    where = "at the counterexample" if verdict.counterexample else "at a generic point"
    return f"-d(vae_loss)/db_i = {num:.15g}, seed's right-hand side = {sym:.15g} {where} (rel. diff {_rel(num, sym):.1e})"


def _c_eq5(claim, verdict, m, m2):
    mm = m2 if claim.id == "eq5.theta" else m
    x = numeric_point(mm, verdict.counterexample if claim.id == "eq5.theta" else None)
    g = _grad(x, eps=x["eps"])
    dz = -g["b"][0]
    if claim.id == "eq5.a":
        num, seed = g["A"][0, 0], dz * (x["mu"][0, 0] + x["eps"][0, 0, 0] * math.exp(x["log_var"][0, 0] / 2))
    elif claim.id == "eq5.b":
        num, seed = g["b"][0], -dz
    else:
        num, seed = g["mu"][0, 0] - x["mu"][0, 0], dz * x["A_hat"][0, 0]  # remove the KL part mu
    return f"vae_loss_grad = {num:.15g}, seed's formula = {seed:.15g} (rel. diff {_rel(num, seed):.1e}" + (
        f", n = {mm.n} items)" if claim.id == "eq5.theta" else ")")


def _c_expect(claim, verdict, m, m2):
    if not verdict.counterexample:
        return "no counterexample to compare"
    x = _truth(numeric_point(m, verdict.counterexample))
    g = _grad(x, nodes="auto")
    num = {"eq6": -g["b"][0], "eq7.b": g["b"][0], "eq7.a": g["A"][0, 0],
           "eq7.theta": g["mu"][0, 0] - x["mu"][0, 0]}[claim.id]
    xs = dict(x, log_var=np.full_like(x["log_var"], -30.0))
    gs = _grad(xs, nodes="auto")
    small = {"eq6": -gs["b"][0], "eq7.b": gs["b"][0], "eq7.a": gs["A"][0, 0],
             "eq7.theta": gs["mu"][0, 0] - xs["mu"][0, 0]}[claim.id]
    mp = float(verdict.values[0])
    return (f"E_eps by quadrature (nodes='auto') = {num:.15g} vs mpmath {mp:.15g} (abs. diff {abs(num - mp):.1e}); "
            f"same point with sigmahat = exp(-15): {small:.3g} (the s_i -> 0 condition)")


def _c_global_min(claim, verdict, m, m2):
    if not verdict.counterexample:
        return "no counterexample to compare"
    alt = numeric_point(m, verdict.counterexample)
    truth = _truth(alt)
    la, lt = _loss(alt, nodes="auto"), _loss(truth, nodes="auto")
    return f"E_eps loss at the alternative {la:.15g} < at the truth {lt:.15g} (nodes='auto'; KL equal at both)"


def _c_eq8(claim, verdict, m, m2):
    x = numeric_point(m)
    zero = np.zeros_like(x["A_hat"])
    num = float(vae_loss(x["U"], zero, np.zeros(m.n), x["mu"], x["log_var"], nodes=1)[0]) - m.n * math.log(2)
    sym = _lambdify(m, claim.statement.rhs.doit(), x)
    return f"KL part of vae_loss = {num:.15g}, eq. (8) as written = {sym:.15g} (rel. diff {_rel(num, sym):.1e})"


def _c_kl_min(claim, verdict, m, m2):
    rng = np.random.default_rng(0)
    zero_b = np.zeros(1)
    U, A = np.full((1, 1), 0.5), np.zeros((1, m.K))
    kl = lambda mu, lv: float(vae_loss(U, A, zero_b, mu, lv, nodes=1)[0]) - math.log(2)  # noqa: E731
    at_min = kl(np.zeros((1, m.K)), np.zeros((1, m.K)))
    others = [kl(rng.normal(size=(1, m.K)), rng.normal(size=(1, m.K))) for _ in range(200)]
    return f"KL at (0, 1) = {at_min:.3g}; min over 200 random (thetahat, log sigmahat^2) = {min(others):.3g} > 0"


def _c_eq9(claim, verdict, m, m2):
    from .numeric import hermite_rule

    t, w = hermite_rule(200)
    lik = 1 / (1 + np.exp(-t))
    Zc = np.sum(w * lik)
    kl_post = float(np.sum(w * lik / Zc * np.log(lik / Zc)))
    mean = float(np.sum(w * t * lik) / Zc)
    sd = math.sqrt(float(np.sum(w * (t - mean) ** 2 * lik) / Zc))
    expr, mu, s = gaussian_kl_1d()
    lhs = float(expr.subs({mu: 0, s: sd}))
    return f"200-point Gauss-Hermite: KL(posterior || prior) = {kl_post:.12g}, L_KL(theta = 0, sigma = posterior sd {sd:.12g}) = {lhs:.12g}"


def _c_unique(claim, verdict, m, m2):
    if not verdict.counterexample:
        return "no counterexample to compare"
    alt = numeric_point(m, verdict.counterexample)
    truth = _truth(alt)  # eps = 0 at the counterexample: sigmahat does not enter
    kl = lambda x: 0.5 * float(np.sum(x["mu"] ** 2 + np.exp(x["log_var"]) - 1 - x["log_var"]))  # noqa: E731
    ra = _loss(alt, eps=alt["eps"]) - kl(alt)
    rt = _loss(truth, eps=truth["eps"]) - kl(truth)
    return f"reconstruction part of vae_loss: {ra:.15g} at the alternative, {rt:.15g} at the truth (difference {abs(ra - rt):.1e})"


def _c_full_loss(claim, verdict, m, m2):
    if not verdict.counterexample:
        return "no counterexample to compare"
    alt = numeric_point(m, verdict.counterexample)
    truth = _truth(alt)
    g = _grad(truth, nodes="auto")["mu"][0, 0]
    return (f"d(vae_loss)/dmu_j1 at the truth = {g:.15g} (nodes='auto'); loss {_loss(alt, nodes='auto'):.15g} "
            f"at the alternative < {_loss(truth, nodes='auto'):.15g} at the truth")


_CONFIRMERS = {
    "eq1.P": _c_eq1_P, "eq1.Phat": _c_eq1_Phat, "eq2": _c_eq2, "eq3": _c_eq3,
    "eq4.1": _c_eq4, "eq4.2": _c_eq4, "eq4.3": _c_eq4,
    "eq5.a": _c_eq5, "eq5.b": _c_eq5, "eq5.theta": _c_eq5,
    "eq6": _c_expect, "eq7.a": _c_expect, "eq7.b": _c_expect, "eq7.theta": _c_expect,
    "claim.global-min": _c_global_min, "eq8": _c_eq8, "claim.kl-min": _c_kl_min, "eq9": _c_eq9,
    "question.unique": _c_unique, "todo.full-loss": _c_full_loss,
}
