r"""The seed's statements, transcribed as written, each with its stable id.

Source: ``shared/seeds/000_356ad760dadef67d.txt``, "Prove true parameters of ML2P model
are a minimum of VAE loss". Every displayed equation, every line of a multi-line display
and every claim of the prose is here, typos included (transcribe, don't correct): where
the seed writes :math:`a_{ik}\theta_{jk}` without a sum, or :math:`-\hat b_i` where the
model has :math:`+\hat b_i`, so does the transcription. This module never decides a
verdict: :data:`SEED` declares the derivation, and the checks attached to it by id live in
the modules of its parts (:mod:`.reconstruction`, :mod:`.noise`, :mod:`.kl`, :mod:`.questions`).

Examples
========

>>> [c.id for c in seed_claims()][:4]
['eq1.P', 'eq1.Phat', 'eq2', 'eq3']
>>> by_id()['eq4.1'].kind
'equation'
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ...derive import Z, ZHAT
from ...engine.derivation import Derivation
from ...engine.records import Claim
from ...model import expected_reconstruction, gaussian_density, ml2p_symbols, reconstruction_loss
from .common import SeedContext

__all__ = ["SEED", "CLAIM_IDS", "CLAIMS", "seed_claims", "by_id", "display"]


class display:
    """Named, undefined SymPy functions standing for the seed's notation in statements."""

    L = sp.Function(r"\mathcal{L}")
    L_E = sp.Function(r"\mathcal{L}_{\mathbb{E}}")
    L_REC = sp.Function(r"\mathcal{L}_{\mathbb{E}[\mathrm{REC}]}")
    L_KL = sp.Function(r"\mathcal{L}_{\mathrm{KL}}")
    E_eps = sp.Function(r"\mathbb{E}_{\varepsilon}")
    E_u = sp.Function(r"\mathbb{E}_{u_{j}}")
    KL = sp.Function(r"\mathrm{KL}")
    q = sp.Function("q")
    p = sp.Function("p")
    p_post = sp.Function(r"p_{\mathrm{post}}")
    P_sym = sp.Symbol("P_ij")
    Phat_sym = sp.Symbol("Phat_ij")


def _kl_expectation(m):
    r""":math:`\mathbb E_q\log(q/p)` as an unevaluated integral over the latent variables."""
    t = [sp.Symbol(f"t_{k + 1}", real=True) for k in range(m.K)]
    q = sp.Mul(*[gaussian_density(t[k], m.theta_hat[k], m.sigma_hat[k]) for k in range(m.K)])
    p = sp.Mul(*[gaussian_density(t[k], 0, 1) for k in range(m.K)])
    return sp.Integral(q * sp.log(q / p), *[(tk, -sp.oo, sp.oo) for tk in t])


def _zero_times(x):
    """The seed's ``0 \\hat\\sigma_k``, kept unevaluated."""
    return sp.Mul(sp.Integer(0), x, evaluate=False)


@lru_cache(maxsize=None)
def seed_claims(K=2):
    """The transcribed claims for ``K`` traits (one item ``i``, one student ``j``).

    Returns a tuple of :class:`~ml2p_symbolic.engine.records.Claim` in the seed's order.
    """
    m = ml2p_symbols(K=K)
    d = display
    a, th, ah, thh = m.a[0], m.theta, m.a_hat[0], m.theta_hat
    b, bh, sh, e = m.b[0], m.b_hat[0], m.sigma_hat, m.eps
    k0 = 0  # the seed's generic trait index k, as trait 1
    at_truth = lambda expr: sp.Subs(expr, tuple(m.true_parameters()), tuple(m.true_parameters().values()))  # noqa: E731
    dL_dz = sp.Derivative(d.L_REC(ZHAT), ZHAT)
    kl = _kl_expectation(m)
    kl_closed = -sp.Rational(1, 2) * sp.Add(
        *[1 + sp.log(sh[k] ** 2, evaluate=False) - thh[k] ** 2 - sh[k] ** 2 for k in range(K)]
    )
    claims = []

    def add(cid, title, kind, statement, seed_text=""):
        claims.append(Claim(cid, title, kind, statement, seed_text))

    add("eq1.P", "ML2P probability P_ij = sigma(z_i)", "definition",
        sp.Eq(d.P_sym, 1 / (1 + sp.exp(-sum(a[k] * th[k] for k in range(K)) + b))))
    add("eq1.Phat", "VAE output Phat_ij = sigma(zhat_i)", "definition",
        sp.Eq(d.Phat_sym, 1 / (1 + sp.exp(-sum(ah[k] * (thh[k] + e[k] * sh[k]) for k in range(K)) + bh))))
    add("eq2", "VAE loss = cross-entropy + E_q log(q/p)", "definition",
        sp.Eq(d.L(*m.u), reconstruction_loss(m) + kl, evaluate=False))
    add("eq3", "E_u[L(u)] = loss with u replaced by P", "equation",
        sp.Eq(d.E_u(d.L(*m.u)), expected_reconstruction(m) + kl, evaluate=False),
        "We write P_ij = E(u_ij), and similarly define a new \u201cexpected\u201d loss function "
        "L_E(P_j) = E_{u_j}[L(u_{:j})] = -sum_i (P_ij log Phat_ij + (1-P_ij) log(1-Phat_ij)) "
        "+ E_{q_alpha(theta_hat|u_j)} log(q_alpha(theta_hat|u_j)/p(theta)).")
    line1 = -1 / (1 + sp.exp(-Z)) * (1 / (1 + sp.exp(ZHAT))) - 1 / (1 + sp.exp(Z)) * (-1 / (1 + sp.exp(-ZHAT)))
    add("eq4.1", "dL/dzhat_i, first line of (4)", "equation", sp.Eq(dL_dz, line1, evaluate=False))
    line2 = -1 / ((1 + sp.exp(-Z)) * (1 + sp.exp(ZHAT))) + 1 / ((1 + sp.exp(Z)) * (1 + sp.exp(-ZHAT)))
    add("eq4.2", "dL/dzhat_i, second line of (4)", "equation", sp.Eq(dL_dz, line2, evaluate=False))
    n1 = ah[k0] * (thh[k0] + e[k0] * sh[k0])
    line3 = -1 / ((1 + sp.exp(-a[k0] * th[k0] + b)) * (1 + sp.exp(n1 - bh))) + 1 / (
        (1 + sp.exp(a[k0] * th[k0] - b)) * (1 + sp.exp(-n1 - bh)))
    add("eq4.3", "dL/dzhat_i in the parameters, third line of (4)", "equation",
        sp.Eq(dL_dz, line3, evaluate=False))
    add("eq5.a", "dL/dahat_ik = dL/dzhat_i (thetahat_jk + eps_k sigmahat_k)", "equation",
        sp.Eq(sp.Derivative(d.L_REC(ah[k0]), ah[k0]), dL_dz * (thh[k0] + e[k0] * sh[k0]), evaluate=False))
    add("eq5.b", "dL/dbhat_i = -dL/dzhat_i", "equation",
        sp.Eq(sp.Derivative(d.L_REC(bh), bh), dL_dz * (-1), evaluate=False))
    thh_ik = sp.Symbol("thetahat_i1", real=True)  # the seed writes theta_hat_{ik} here
    add("eq5.theta", "dL/dthetahat_jk = dL/dzhat_i ahat_ik", "equation",
        sp.Eq(sp.Derivative(d.L_REC(thh_ik), thh_ik), dL_dz * ah[k0], evaluate=False))
    middle = -1 / ((1 + sp.exp(-a[k0] * th[k0] + b)) * (1 + sp.exp(a[k0] * sp.Add(th[k0], _zero_times(sh[k0]), evaluate=False) - b))) + 1 / (
        (1 + sp.exp(a[k0] * th[k0] - b)) * (1 + sp.exp(-a[k0] * sp.Add(th[k0], _zero_times(sh[k0]), evaluate=False) + b)))
    lhs6 = at_truth(d.E_eps(dL_dz))
    add("eq6", "E_eps[dL/dzhat_i] = 0 at the true parameters", "equation",
        sp.And(sp.Eq(lhs6, middle, evaluate=False), sp.Eq(middle, 0, evaluate=False)),
        "But first, we must take another expectation over the random variable eps ~ N(0, I). "
        "Obviously, we have that E[eps_k] = 0; this makes our calculations very simple.")
    for cid, wrt, title in (("eq7.a", ah[k0], "E_eps[dL/dahat_ik] = 0 at the true parameters"),
                            ("eq7.b", bh, "E_eps[dL/dbhat_i] = 0 at the true parameters"),
                            ("eq7.theta", thh[k0], "E_eps[dL/dthetahat_jk] = 0 at the true parameters")):
        add(cid, title, "equation",
            sp.Eq(at_truth(d.E_eps(sp.Derivative(d.L_REC(wrt), wrt))), 0, evaluate=False),
            "Therefore we clearly have ... = 0 for all i, j, k")
    args_hat = (ah[k0], bh, thh[k0])
    args_true = (a[k0], b, th[k0])
    add("claim.global-min", "true parameters: local, then global minimum of E[REC]", "argument",
        sp.GreaterThan(d.L_REC(*args_hat), d.L_REC(*args_true)),
        "This proves that the true parameters give a local minimum for the expected "
        "reconstruction error in the VAE loss. And because the expected cross-entropy loss "
        "function L_E[REC] is non-negative, the reconstruction error at the true IRT "
        "paramters is a global minimum.")
    add("eq8", "KL closed form -1/2 sum(1 + log sigmahat^2 - thetahat^2 - sigmahat^2)", "equation",
        sp.Eq(kl, kl_closed, evaluate=False))
    add("claim.kl-min", "KL term minimised (= 0) at thetahat = 0, sigmahat = 1", "argument",
        sp.And(sp.GreaterThan(d.L_KL(*thh, *sh), 0),
               sp.Eq(kl_closed.subs({**{x: 0 for x in thh}, **{s: 1 for s in sh}}), 0)),
        "It is clear that this regularization term is minimized (and equal to zero) when "
        "theta_hat_jk = 0 and sigma_hat_jk = 1.")
    sigma_post = tuple(sp.Symbol(f"sigma_{k + 1}", positive=True) for k in range(K))
    add("eq9", "L_KL at thetahat = theta, sigmahat = sigma is KL(posterior || prior)", "equation",
        sp.Eq(sp.Subs(d.L_KL(*thh, *sh), (*thh, *sh), (*th, *sigma_post)),
              d.KL(d.p_post(*th), d.p(*th)), evaluate=False),
        "Notice that this is the KL divergence between the true posterior p(theta|u) and the "
        "true prior p(theta).")
    add("question.unique", "the minimiser is unique", "question",
        sp.Implies(sp.Eq(d.L_REC(*args_hat), d.L_REC(*args_true)),
                   sp.Eq(sp.Tuple(*args_hat), sp.Tuple(*args_true))),
        "any chance this is unique?")
    add("todo.full-loss", "true parameters minimise the full loss L_E[REC] + L_KL", "todo",
        sp.GreaterThan(d.L_E(*args_hat, sh[k0]), d.L_E(*args_true, sh[k0])),
        "TODO: try to show that this is a global minimum for the full VAE loss function. Also "
        "take derivatives of the KL loss w.r.t theta_hat_jk. The Q-matrix may help with an "
        "identifiability issue (existence of other local minimums) in solving the system "
        "(a_ik theta_jk + b_i)_jk = z_i. The Q-matrix *may* make the solution unique.")
    return tuple(claims)


#: the seed as a derivation: its statements; checks and confirmations attach to it by id
SEED = Derivation("seed", seed_claims, context=SeedContext, options={"K": 2},
                  title="The ML2P-VAE seed proof, machine-checked")

CLAIMS = seed_claims()

#: the stable ids of the seed's statements, in the seed's order
CLAIM_IDS = tuple(c.id for c in CLAIMS)


def by_id(K=2):
    """Map from claim id to :class:`~ml2p_symbolic.engine.records.Claim`, in the seed's order."""
    return {c.id: c for c in seed_claims(K)}
