r"""The seed's KL term: the closed form (8), its minimum, and eq. (9).

The KL integral of eq. (2) is integrated by SymPy for the Gaussian encoder and compared with
the seed's closed form; its minimiser is found by solving the derived gradient; eq. (9) is
compared with the true posterior by quadrature. Details and evidence are rich text
(:mod:`ml2p_symbolic.engine.richtext`).
"""

from __future__ import annotations

import math
import time

import mpmath
import numpy as np
import sympy as sp

from ...derive import gaussian_kl, gaussian_kl_1d
from ...engine.evidence import DPS, fmt, latex_number, value_at, verdict_from_identity
from ...engine import kernel
from ...engine.certificates import Goal, SummandIdentity
from ...engine.identity import CONFIRM_DIGITS, check_identity
from ...engine.prove import find_certificate
from ...engine.certificates import describe_rich
from ...engine.records import Verdict
from ...numeric import vae_loss
from ...engine.richtext import code, literal
from ...model import at_traits, ml2p_families
from .common import at_size, prove
from .confirm import confirms, lambdify_at, num, numeric_point, rel_diff
from .statements import SEED, kl_closed_form

_L_KL = r"\mathcal{L}_{\mathrm{KL}}"


@SEED.check("eq8")
def _check_eq8(claim, ctx):
    st = claim.statement
    expr, mu, s = gaussian_kl_1d()
    kl_1d = rf"\mathrm{{KL}}(\mathcal{{N}}({sp.latex(mu)}, {sp.latex(s ** 2)}) \,\|\, \mathcal{{N}}(0, 1))"
    detail = (r"lhs: the KL term of eq. (2) for $q = \mathcal{N}(\hat\theta, \operatorname{diag}\hat\sigma^2)$, "
              r"$p = \mathcal{N}(0, I)$, as the sum over the traits $k = 1, \ldots, K$ of one-dimensional integrals "
              r"(the log-ratio of product densities is a sum, and every other factor of $q$ integrates to 1); "
              r"each integral is computed by SymPy for a symbolic trait $k$ and compared with the seed's summand, "
              r"so the closed form holds for every number of traits $K$.")
    evidence = (f"one trait: ${kl_1d} = {sp.latex(expr)}$",)
    verdict, reasons = prove(Goal(st.lhs, st.rhs), [SummandIdentity(("doit+simplify",)),
                                                    SummandIdentity(("doit", "expand_log", "simplify"))],
                             method=r"SymPy integration of $q_k \log(q_k/p_k)$ summand by summand (kernel re-check)",
                             detail=detail, evidence=evidence)
    if verdict is not None:
        return verdict
    m = ctx.m
    f = ml2p_families()
    return verdict_from_identity(check_identity(at_traits(st.lhs, m, f), at_traits(st.rhs, m, f)),
                                 method_prefix=r"SymPy integration of $q \log(q/p)$; ", detail=detail,
                                 evidence=evidence + tuple(literal(r) for r in reasons), sizes=at_size(ctx))


@SEED.check("claim.kl-min")
def _check_kl_min(claim, ctx):
    r"""The statement :math:`\mathcal{L}_{\mathrm{KL}} \ge 0` with the KL term as SymPy integrates it
    (eq. (2)), proved by the engine's inequality prover and re-checked by the kernel; the value 0 at
    :math:`\hat\theta = 0`, :math:`\hat\sigma = 1` by the kernel's exact rewriting."""
    m = ctx.m
    kl = gaussian_kl(m)
    statement = claim.statement
    goal = Goal(statement.lhs.xreplace({statement.lhs: kl}), statement.rhs, ">=")
    cert = find_certificate(goal, time.monotonic() + 30.0)
    at_min = {**{x: 0 for x in m.theta_hat}, **{s: 1 for s in m.sigma_hat}}
    value = check_identity(kl.subs(at_min), 0)
    evidence = (rf"${_L_KL} = {sp.latex(kl)}$ (SymPy's integral of eq. (2))",
                rf"${_L_KL}$ at $\hat\theta = 0$, $\hat\sigma = 1$ equals 0: {value.verdict}")
    if cert is None or value.verdict != "verified":
        return Verdict("open", "inequality prover: no certificate" if cert is None else "value at the minimum not proved",
                       evidence=evidence)
    proof = kernel.verify(goal, cert)
    return kernel.restate(
        proof, method="inequality prover (kernel-checked certificate) + exact value at the minimum",
        detail=r"$\mathcal{L}_{\mathrm{KL}} \ge 0$ for every $\hat\theta$ and $\hat\sigma > 0$ ("
        + describe_rich(proof.certificate) + r"), and it equals 0 at $\hat\theta = 0$, $\hat\sigma = 1$: "
        r"so that point is a global minimum. (The seed writes $\hat\sigma_{jk}$ here and $\hat\sigma_k$ in (8): "
        "per-student variances.)",
        evidence=evidence + ("kernel: " + describe_rich(proof.certificate),)
        + ("value at the minimum: " + describe_rich(value.certificate),))


def _posterior_kl_k1(a, b, u, dps=DPS, moments=True):
    """One trait, one item: the posterior p(theta | u) of the ML2P model with prior N(0, 1).

    Returns (mean, sd, KL(posterior || prior)) by mpmath quadrature at ``dps`` digits (plus
    ten guard digits); ``moments=False`` skips the mean and sd (None).
    """
    with mpmath.workdps(dps + 10):
        norm = 1 / mpmath.sqrt(2 * mpmath.pi)
        sign = 1 if u == 1 else -1

        def weighted(t):  # phi(t) * likelihood(t), one exponential each
            return norm * mpmath.exp(-t * t / 2) / (1 + mpmath.exp(-sign * (a * t - b)))

        def lik(t):
            return 1 / (1 + mpmath.exp(-sign * (a * t - b)))

        rng = [-mpmath.inf, 0, mpmath.inf]
        Zc = mpmath.quad(weighted, rng)
        kl = mpmath.quad(lambda t: weighted(t) / Zc * mpmath.log(lik(t) / Zc), rng)
        if not moments:
            return None, None, kl
        mean = mpmath.quad(lambda t: t * weighted(t), rng) / Zc
        var = mpmath.quad(lambda t: (t - mean) ** 2 * weighted(t), rng) / Zc
    return mean, mpmath.sqrt(var), kl


def _differs_at_two_precisions(lhs_exact, rhs_at):
    r"""``lhs_exact`` (a SymPy number) and ``rhs_at(dps)`` (an mpmath number computed at ``dps``
    digits) at the two precisions of :data:`~ml2p_symbolic.engine.identity.CONFIRM_DIGITS`.

    Returns ``(differ, (lhs, rhs))``: ``differ`` when at both precisions
    :math:`|\mathrm{lhs} - \mathrm{rhs}| > \max(10^{-40}, 10^{-25}\max(|\mathrm{lhs}|, |\mathrm{rhs}|))`
    and the two differences agree to :math:`10^{-40}`; the sides as 40-digit decimal strings
    from the higher precision."""
    diffs, sides = [], None
    for digits in CONFIRM_DIGITS:
        with mpmath.workdps(digits + 10):
            left = mpmath.mpf(sp.N(lhs_exact, digits + 10))
            right = rhs_at(digits)
            gap = abs(left - right)
            if not gap > max(mpmath.mpf(10) ** -40, mpmath.mpf(10) ** -25 * max(abs(left), abs(right))):
                return False, None
            diffs.append(left - right)
            sides = (fmt(left), fmt(right))
    with mpmath.workdps(CONFIRM_DIGITS[-1] + 10):
        return abs(diffs[0] - diffs[1]) < mpmath.mpf(10) ** -40, sides


@SEED.check("eq9")
def _check_eq9(claim, ctx):
    m = ctx.m
    f = ml2p_families()
    sizes = at_size(ctx)
    # the exact point: one item with u_ij = 1, a_i1 = 1, b_i = 0, theta_j1 = 0; sigma_1 near the
    # posterior sd (to 4 decimals); further traits a_ik = theta_jk = 0, sigma_k = 1
    a, b, u = 1, 0, 1
    mean, sd, kl_post = _posterior_kl_k1(a, b, u, CONFIRM_DIGITS[0])
    sigma_1 = sp.Rational(round(sd * 10 ** 4), 10 ** 4)
    sigma = tuple(sp.Symbol(f"sigma_{k + 1}", positive=True) for k in range(m.K))
    point = {m.a[0][0]: sp.Integer(a), m.b[0]: sp.Integer(b), m.u[0]: sp.Integer(u), m.theta[0]: sp.Integer(0),
             sigma[0]: sigma_1}
    for k in range(1, m.K):
        point.update({m.a[0][k]: sp.Integer(0), m.theta[k]: sp.Integer(0), sigma[k]: sp.Integer(1)})
    # lhs: L_KL = eq. (8)'s closed form at thetahat = theta, sigmahat = sigma, exactly
    at_truth = {**{m.theta_hat[k]: m.theta[k] for k in range(m.K)}, **{m.sigma_hat[k]: sigma[k] for k in range(m.K)}}
    lhs_exact = at_traits(kl_closed_form(f), m, f).xreplace(at_truth).xreplace(point)
    # rhs: KL(true posterior || prior); the likelihood depends on theta_j1 only, so the posterior
    # is the prior in every other trait and the KL is the one-dimensional one
    differ, values = _differs_at_two_precisions(
        lhs_exact, lambda dps: kl_post if dps == CONFIRM_DIGITS[0] else _posterior_kl_k1(a, b, u, dps, moments=False)[2])
    kl_expr, mu, s = gaussian_kl_1d()
    lhs_mean = value_at(kl_expr, {mu: sp.Float(mpmath.nstr(mean, DPS + 5), DPS + 5), s: sigma_1})
    n20 = lambda x: latex_number(fmt(x, 20))  # noqa: E731
    detail = (rf"${_L_KL}$ at $\hat\theta = \theta$, $\hat\sigma = \sigma$ is "
              r"$\mathrm{KL}(\mathcal{N}(\theta, \sigma^2) \,\|\, \mathcal{N}(0, I))$, a Gaussian centred on the true "
              r"ability. The true posterior of the ML2P model, prior $\mathcal{N}(0, 1)$ times logistic likelihoods, is "
              r"not Gaussian and is not centred on $\theta_j$. One item, $u_{ij} = 1$, $a_{i1} = 1$, $b_i = 0$, "
              rf"$\theta_j = 0$, $\sigma_1 = {sp.latex(sigma_1)}$ (the posterior standard deviation to 4 decimals); "
              r"further traits have $a_{ik} = 0$, $\theta_{jk} = 0$, $\sigma_k = 1$ and contribute 0 to both sides. "
              r"lhs: eq. (8)'s closed form at the point, exact; rhs: the posterior's KL by mpmath.quad. Both were "
              f"evaluated at {CONFIRM_DIGITS[0]} and {CONFIRM_DIGITS[1]} digits and differ by the same amount.")
    evidence = (f"posterior mean ${n20(mean)}$, sd ${n20(sd)}$",
                rf"even with $\hat\theta$ = posterior mean: ${_L_KL} = {n20(lhs_mean)}$ vs ${n20(kl_post)}$")
    method = (f"closed form (8), exact, vs mpmath.quad of the true posterior, at {CONFIRM_DIGITS[0]} and "
              f"{CONFIRM_DIGITS[1]} digits")
    if differ:
        return Verdict("refuted", method, counterexample=point, values=values, detail=detail, evidence=evidence,
                       sizes=sizes)
    return Verdict("open", method, detail="the two sides did not differ beyond rounding at the point tried",
                   evidence=evidence, sizes=sizes)



# --------------------------------------------------------------------------- numeric confirmation
@confirms("eq8")
def _c_eq8(claim, verdict, m, m2):
    x = numeric_point(m)
    zero = np.zeros_like(x["A_hat"])
    value = float(vae_loss(x["U"], zero, np.zeros(m.n), x["mu"], x["log_var"], nodes=1)[0]) - m.n * math.log(2)
    sym = lambdify_at(m, at_traits(claim.statement.rhs, m), x)
    return (f"KL part of {code('vae_loss')} $= {num(value)}$, eq. (8) as written $= {num(sym)}$ "
            + rel_diff(value, sym))


@confirms("claim.kl-min")
def _c_kl_min(claim, verdict, m, m2):
    rng = np.random.default_rng(0)
    zero_b = np.zeros(1)
    U, A = np.full((1, 1), 0.5), np.zeros((1, m.K))
    kl = lambda mu, lv: float(vae_loss(U, A, zero_b, mu, lv, nodes=1)[0]) - math.log(2)  # noqa: E731
    at_min = kl(np.zeros((1, m.K)), np.zeros((1, m.K)))
    others = [kl(rng.normal(size=(1, m.K)), rng.normal(size=(1, m.K))) for _ in range(200)]
    return (f"KL at $(0, 1) = {num(at_min, '.3g')}$; min over 200 random "
            rf"$(\hat\theta, \log\hat\sigma^2) = {num(min(others), '.3g')} > 0$")


@confirms("eq9")
def _c_eq9(claim, verdict, m, m2):
    from ...numeric import hermite_rule

    t, w = hermite_rule(200)
    lik = 1 / (1 + np.exp(-t))
    Zc = np.sum(w * lik)
    kl_post = float(np.sum(w * lik / Zc * np.log(lik / Zc)))
    mean = float(np.sum(w * t * lik) / Zc)
    sd = math.sqrt(float(np.sum(w * (t - mean) ** 2 * lik) / Zc))
    expr, mu, s = gaussian_kl_1d()
    lhs = float(expr.subs({mu: 0, s: sd}))
    return ("200-point Gauss\u2013Hermite: " r"$\mathrm{KL}(\text{posterior} \,\|\, \text{prior}) = "
            rf"{num(kl_post, '.12g')}$, ${_L_KL}(\theta = 0, \sigma = \text{{posterior sd }} {num(sd, '.12g')}) "
            rf"= {num(lhs, '.12g')}$")

