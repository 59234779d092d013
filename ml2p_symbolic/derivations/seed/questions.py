r"""The seed's open questions: is the minimiser unique, and does the truth minimise the full loss?

For one student's loss the answers come from exact reparametrisation identities and a
high-precision comparison; at the population level they come from
:mod:`ml2p_symbolic.population` and :mod:`ml2p_symbolic.identifiability`. Details and evidence
are rich text (:mod:`ml2p_symbolic.engine.richtext`).
"""

from __future__ import annotations



import numpy as np
import sympy as sp

from ...derive import ZHAT, gaussian_kl, kl_gradient
from ...engine.evidence import DPS, fmt, latex_number, value_at
from ...engine.expectation import expectation_numeric
from ...engine.identity import check_identity
from ...engine.records import Verdict
from ...engine.richtext import code
from ...model import reconstruction_loss, sigmoid, z
from .common import (dL_dzhat_in_params, expected_item_rec, truth_point)
from .confirm import confirms, grad, loss, num, numeric_point, truth_arrays
from .statements import SEED


@SEED.check("question.unique")
def _check_unique(claim, ctx):
    m = ctx.m
    c = sp.Integer(2)
    scaled = {**{m.a_hat[0][k]: c * m.a_hat[0][k] for k in range(m.K)},
              **{m.theta_hat[k]: m.theta_hat[k] / c for k in range(m.K)},
              **{m.sigma_hat[k]: m.sigma_hat[k] / c for k in range(m.K)}}
    delta = sp.Symbol("delta", real=True)
    shifted = {m.theta_hat[0]: m.theta_hat[0] + delta, m.b_hat[0]: m.b_hat[0] + m.a_hat[0][0] * delta}
    rec = reconstruction_loss(m, [sigmoid(z(m))])
    inv_scale = check_identity(rec.subs(scaled, simultaneous=True), rec)
    inv_shift = check_identity(rec.subs(shifted, simultaneous=True), rec)
    truth = truth_point(m, extra={m.eps[k]: 0 for k in range(m.K)})
    alt = {**truth, **{x: sp.sympify(v).subs(truth) for x, v in scaled.items()}}
    l_truth, l_alt = value_at(rec, truth), value_at(rec, alt)
    params = (*m.a_hat[0], m.b_hat[0], *m.theta_hat, *m.sigma_hat)
    show = lambda p: f"${sp.latex(sp.Tuple(*params))} = {sp.latex(sp.Tuple(*(p[x] for x in params)))}$"  # noqa: E731
    maps = lambda sub: ", ".join(rf"${sp.latex(x)} \to {sp.latex(v)}$" for x, v in sub.items())  # noqa: E731
    n25 = lambda x: latex_number(fmt(x, 25))  # noqa: E731
    evidence = (
        f"{maps(scaled)} leaves ${sp.latex(ZHAT)}$ and the loss unchanged: {inv_scale.verdict}",
        f"{maps(shifted)} leaves the loss unchanged: {inv_shift.verdict}",
        f"loss ${n25(l_alt)}$ at {show(alt)} and ${n25(l_truth)}$ at the truth {show(truth)}",
        r"For $K \ge 2$ any invertible $M$ acts as $\hat a_i \to M^{-T}\hat a_i$, $\hat\theta_j \to M\hat\theta_j$.",
    ) + _population_uniqueness_evidence()
    if inv_scale.verdict == inv_shift.verdict == "verified" and l_alt == l_truth:
        return Verdict(
            "refuted", code("check_identity") + " (loss invariant under reparametrisations) + a distinct minimiser",
            counterexample=alt, sizes={"K": [ctx.K]}, values=(show(alt), show(truth)),
            detail=r"Not unique: the expected reconstruction loss depends on $(\hat a, \hat b, \hat\theta, \hat\sigma)$ "
            rf"only through ${sp.latex(ZHAT)}$, so every reparametrisation that keeps ${sp.latex(ZHAT)}$ gives the same "
            "loss. lhs and rhs are two different parameter points with the same minimal loss (to 40 digits).",
            evidence=evidence)
    return Verdict("open", "symmetry check incomplete", evidence=evidence, sizes={"K": [ctx.K]})


def _population_uniqueness_evidence():
    """Population level: with theta ~ N(0, I) integrated out, uniqueness is identifiability."""
    import numpy as np

    from ...identifiability import analyze

    cases = [("$K = 1$, 3 items, $a > 0$", np.ones((3, 1), int), True),
             ("$K = 1$, 3 items, sign of $a$ free", np.ones((3, 1), int), False),
             ("$K = 2$, 6 items, no zeros in $Q$", np.ones((6, 2), int), True),
             ("$K = 2$, 6 items, simple structure ($3 + 3$)", np.array([[1, 0]] * 3 + [[0, 1]] * 3), True),
             ("$K = 3$, 9 items, simple structure ($3 + 3 + 3$)", np.kron(np.eye(3, dtype=int), np.ones((3, 1), int)), True)]
    lines = []
    for text, Q, positive in cases:
        r = analyze(Q, positive=positive)
        sym = "; ".join(_symmetries(r)) or "none"
        yes = lambda flag: "yes" if flag else "no"  # noqa: E731
        lines.append(f"population level, {text}: identified: {yes(r.identified)}, free dimensions: "
                     f"{r.free_dimensions} (Jacobian rank and symbolic rotation count agree: {yes(r.agree)}); "
                     f"symmetries: {sym}")
    return tuple(lines) + (
        "so at the population level (expected loss over $u$ with the exact posterior as encoder) the truth is the "
        "unique minimiser exactly when the Q-matrix identifies the parameters "
        f"({code('ml2p_symbolic.population')}, Theorem 1; {code('ml2p-proof identify Q.csv')} decides it for a "
        "given $Q$)",)


def _symmetries(r):
    """The symmetries of an :class:`~ml2p_symbolic.identifiability.Identifiability` result: rich
    text already (prose with ``$...$`` math)."""
    return list(r.symmetries)


def _population_full_loss_evidence():
    """The full loss at the population level, exact and Gaussian encoders (ml2p_symbolic.population)."""
    import numpy as np

    from ...population import minimiser_bias, symbolic_identities

    A = np.array([[1.0], [1.5], [0.8], [1.2]])
    b = np.array([0.3, -0.5, 1.0, 0.0])
    exact = minimiser_bias(A, b, encoder="exact")
    gauss = minimiser_bias(A, b, encoder="gaussian")
    proved = [name for name, _, ok in symbolic_identities(4) if ok]
    vec = lambda v: "(" + ", ".join(f"{x:g}" for x in v) + ")"  # noqa: E731
    return (
        r"population level (Theorem 1, exact posterior encoder): expected loss "
        r"$= H(p) + \mathrm{KL}(p \,\|\, \hat p) \ge H(p)$, equality iff the response distributions coincide; "
        f"SymPy-checked identities: {', '.join(proved)}",
        f"numerically, $n = {A.shape[0]}$, $K = {A.shape[1]}$, $a = {vec(A[:, 0])}$, $b = {vec(b)}$: exact encoder "
        f"minimiser at distance ${num(exact.distance_A, '.1e')}$ from the truth, loss "
        f"${num(exact.loss_at_minimiser, '.12f')}$ = entropy ${num(exact.entropy, '.12f')}$",
        r"diagonal-Gaussian encoder (the VAE's): the truth is not the minimiser; "
        rf"$|\hat A - A| = {num(gauss.distance_A, '.4f')}$, $|\hat b - b| = {num(gauss.distance_b, '.4f')}$, "
        f"loss at the truth minus at the minimiser $= {num(gauss.gap, '.3e')}$ nats (gradient norm at the minimiser "
        f"${num(gauss.fit.grad_norm, '.1e')}$); the bias shrinks with $n$ (docs/population.md)",
    )


@SEED.check("todo.full-loss")
def _check_full_loss(claim, ctx):
    m = ctx.m
    kl = gaussian_kl(m)
    dkl_theta = kl_gradient(m, m.theta_hat[0])
    dkl_sigma = kl_gradient(m, m.sigma_hat[0])
    truth = truth_point(m)
    grad_rec = expectation_numeric(dL_dzhat_in_params(m) * m.a_hat[0][0], m.eps, truth, dps=DPS)
    grad = grad_rec + value_at(dkl_theta, truth)
    full = lambda pt: expected_item_rec(m, pt) + value_at(kl, pt)  # noqa: E731
    alt = dict(truth)
    alt[m.theta_hat[0]] = truth[m.theta_hat[0]] - sp.Rational(1, 4) * sp.sign(sp.nsimplify(float(grad)))
    at_truth, at_alt = full(truth), full(alt)
    L_KL = r"\mathcal{L}_{\mathrm{KL}}"
    th1, sh1 = sp.latex(m.theta_hat[0]), sp.latex(m.sigma_hat[0])
    n20 = lambda x: latex_number(fmt(x, 20))  # noqa: E731
    evidence = (
        rf"$\partial {L_KL}/\partial {th1} = {sp.latex(dkl_theta)}$ (derived), "
        rf"$\partial {L_KL}/\partial {sh1} = {sp.latex(dkl_sigma)}$ (derived)",
        r"at the truth ($a_{i1} = \theta_{j1} = \hat\sigma = 1$, $b_i = 0$): "
        rf"$\mathbb{{E}}_{{\varepsilon}}\,\partial\mathrm{{REC}}/\partial {th1} = {n20(grad_rec)}$, "
        rf"$\partial {L_KL}/\partial {th1} = {sp.latex(dkl_theta.subs(truth))}$, total ${n20(grad)}$",
        r"even with no decoder noise ($s_i = 0$) the KL gradient $\hat\theta_{jk} = \theta_{jk}$ is nonzero unless "
        rf"$\theta_j = 0$, and ${L_KL} \to \infty$ as $\hat\sigma \to 0$: the true parameters minimise the full "
        r"per-student loss only if $\theta_j = 0$.",
    ) + _population_full_loss_evidence()
    if at_alt < at_truth:
        return Verdict(
            "refuted", f"derived KL gradients; mpmath.quad at {DPS} digits",
            counterexample=alt, sizes={"K": [ctx.K]}, values=(fmt(at_alt), fmt(at_truth)),
            detail=r"The full per-student loss $\mathbb{E}_{\varepsilon}[\mathcal{L}_{\mathbb{E}[\mathrm{REC}]}] + "
            r"\mathcal{L}_{\mathrm{KL}}$ is not minimised at the true parameters: its gradient in $\hat\theta_{jk}$ "
            r"there is $\mathbb{E}_{\varepsilon}[\sum_i \hat a_{ik}(\sigma(\hat z_i) - P_{ij})] + \theta_{jk}$, the KL "
            r"term pulling $\hat\theta_j$ towards 0 (shrinkage). lhs = loss at "
            rf"${th1} = {sp.latex(m.theta[0])} \mp 1/4$, rhs = loss at the truth.",
            evidence=evidence)
    return Verdict("open", "no lower point found", evidence=evidence, sizes={"K": [ctx.K]})



# --------------------------------------------------------------------------- numeric confirmation
@confirms("question.unique")
def _c_unique(claim, verdict, m, m2):
    if not verdict.counterexample:
        return "no counterexample to compare"
    alt = numeric_point(m, verdict.counterexample)
    truth = truth_arrays(alt)  # eps = 0 at the counterexample: sigmahat does not enter
    kl = lambda x: 0.5 * float(np.sum(x["mu"] ** 2 + np.exp(x["log_var"]) - 1 - x["log_var"]))  # noqa: E731
    ra = loss(alt, eps=alt["eps"]) - kl(alt)
    rt = loss(truth, eps=truth["eps"]) - kl(truth)
    return (f"reconstruction part of {code('vae_loss')}: ${num(ra)}$ at the alternative, ${num(rt)}$ at the truth "
            f"(difference ${num(abs(ra - rt), '.1e')}$)")


@confirms("todo.full-loss")
def _c_full_loss(claim, verdict, m, m2):
    if not verdict.counterexample:
        return "no counterexample to compare"
    alt = numeric_point(m, verdict.counterexample)
    truth = truth_arrays(alt)
    g = grad(truth, nodes="auto")["mu"][0, 0]
    return (rf"$\partial\,\texttt{{vae\_loss}}/\partial \mu_{{j1}}$ at the truth $= {num(g)}$ "
            f"({code(_AUTO)}); loss ${num(loss(alt, nodes='auto'))}$ at the alternative "
            f"$< {num(loss(truth, nodes='auto'))}$ at the truth")


_AUTO = "nodes='auto'"

