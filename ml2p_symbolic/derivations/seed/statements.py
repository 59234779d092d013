r"""The seed's statements, transcribed as written, each with its stable id.

Source: ``shared/seeds/000_356ad760dadef67d.txt``, "Prove true parameters of ML2P model
are a minimum of VAE loss". Every displayed equation, every line of a multi-line display
and every claim of the prose is here, typos included (transcribe, don't correct): where
the seed writes :math:`a_{ik}\theta_{jk}` without a sum, or :math:`-\hat b_i` where the
model has :math:`+\hat b_i`, so does the transcription. This module never decides a
verdict: :data:`SEED` declares the derivation, and the checks attached to it by id live in
the modules of its parts (:mod:`.reconstruction`, :mod:`.noise`, :mod:`.kl`, :mod:`.questions`).

Titles and the seed's words are rich text (prose with inline ``$...$`` math,
:mod:`ml2p_symbolic.engine.richtext`); ``seed_text`` quotes the seed's own wording and LaTeX.

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

from ...derive import Z, ZHAT, item_cross_entropy
from ...engine.derivation import Derivation
from ...engine.records import Claim
from ...model import (expected_reconstruction, gaussian_density, ml2p_families, ml2p_symbols, sigmoid, z_hat_sum,
                      z_sum)
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


def _kl_at(m):
    r""":math:`\mathbb E_q\log(q/p)` for ``m.K`` traits as an unevaluated ``m.K``-dimensional integral."""
    t = [sp.Symbol(f"t_{k + 1}", real=True) for k in range(m.K)]
    q = sp.Mul(*[gaussian_density(t[k], m.theta_hat[k], m.sigma_hat[k]) for k in range(m.K)])
    p = sp.Mul(*[gaussian_density(t[k], 0, 1) for k in range(m.K)])
    return sp.Integral(q * sp.log(q / p), *[(tk, -sp.oo, sp.oo) for tk in t])


#: the variable of integration of one trait's KL integral
T = sp.Symbol("t", real=True)


def kl_expectation(f=None):
    r""":math:`\mathbb E_q\log(q/p)` for :math:`q = \prod_k \mathcal N(\hat\theta_{jk}, \hat\sigma_k^2)`
    and :math:`p = \mathcal N(0, I)`, for every number of traits :math:`K`: the sum over traits
    of the one-dimensional integrals
    :math:`\int q_k(t)\log(q_k(t)/p_k(t))\,dt`, unevaluated.

    The log-ratio of the product densities is the sum of the per-trait log-ratios, and every
    other factor of :math:`q` integrates to 1, so the :math:`K`-dimensional expectation of eq. (2)
    is this sum: the transcription writes it in that form so that it has a meaning for a
    symbolic :math:`K` (the tests compare it with the :math:`K`-dimensional integral at
    :math:`K = 1, 2`)."""
    f = f or ml2p_families()
    q = gaussian_density(T, f.theta_hat[f.j, f.k], f.sigma_hat[f.k])
    p = gaussian_density(T, 0, 1)
    return sp.Sum(sp.Integral(q * sp.log(q / p), (T, -sp.oo, sp.oo)), (f.k, 1, f.K))


def kl_closed_form(f=None):
    r"""Eq. (8)'s right-hand side as written, for every :math:`K`:
    :math:`-\frac12\sum_{k=1}^{K}(1 + \log\hat\sigma_k^2 - \hat\theta_{jk}^2 - \hat\sigma_k^2)`."""
    f = f or ml2p_families()
    th, sh = f.theta_hat[f.j, f.k], f.sigma_hat[f.k]
    return -sp.Rational(1, 2) * sp.Sum(1 + sp.log(sh ** 2, evaluate=False) - th ** 2 - sh ** 2, (f.k, 1, f.K))


def item_reconstruction(f=None, u=None):
    r"""The reconstruction term of eq. (2) for item :math:`i`, every :math:`K`:
    :math:`-[u_{ij}\log\hat P_{ij} + (1 - u_{ij})\log(1 - \hat P_{ij})]` with
    :math:`\hat P_{ij} = \sigma(\hat z_i)`."""
    f = f or ml2p_families()
    u = sp.Symbol("u_ij", nonnegative=True) if u is None else u
    phat = sigmoid(z_hat_sum(f))
    return -(u * sp.log(phat) + (1 - u) * sp.log(1 - phat))


def _zero_times(x):
    """The seed's ``0 \\hat\\sigma_k``, kept unevaluated."""
    return sp.Mul(sp.Integer(0), x, evaluate=False)


@lru_cache(maxsize=None)
def seed_claims(K=2):
    r"""The transcribed claims (one item ``i``, one student ``j``).

    Eq. (1), (2), (4.1), (4.2), (5.a), (5.b) and (8) are stated for every number of traits:
    in the indexed families of :func:`~ml2p_symbolic.model.ml2p_families`, with :math:`K` a
    positive integer symbol (and the trait index :math:`k` free, :math:`1 \le k \le K`). The
    other statements are transcribed for ``K`` traits (their checks say so in their verdict's
    ``sizes``).

    Returns a tuple of :class:`~ml2p_symbolic.engine.records.Claim` in the seed's order.
    """
    m = ml2p_symbols(K=K)
    f = ml2p_families()
    d = display
    a, th, ah, thh = m.a[0], m.theta, m.a_hat[0], m.theta_hat
    b, bh, sh, e = m.b[0], m.b_hat[0], m.sigma_hat, m.eps
    k0 = 0  # the seed's generic trait index k, as trait 1
    at_truth = lambda expr: sp.Subs(expr, tuple(m.true_parameters()), tuple(m.true_parameters().values()))  # noqa: E731
    dL_dz = sp.Derivative(d.L_REC(ZHAT), ZHAT)
    kl = kl_expectation(f)
    kl_closed = -sp.Rational(1, 2) * sp.Add(
        *[1 + sp.log(sh[k] ** 2, evaluate=False) - thh[k] ** 2 - sh[k] ** 2 for k in range(K)]
    )
    claims = []

    def add(cid, title, kind, statement, seed_text=""):
        claims.append(Claim(cid, title, kind, statement, seed_text))

    add("eq1.P", r"ML2P probability $P_{ij} = \sigma(z_i)$", "definition",
        sp.Eq(d.P_sym, 1 / (1 + sp.exp(-sp.Sum(f.a[f.i, f.l] * f.theta[f.j, f.l], (f.l, 1, f.K)) + f.b[f.i]))))
    add("eq1.Phat", r"VAE output $\hat P_{ij} = \sigma(\hat z_i)$", "definition",
        sp.Eq(d.Phat_sym, 1 / (1 + sp.exp(-sp.Sum(f.a_hat[f.i, f.l] * (f.theta_hat[f.j, f.l] + f.eps[f.l] * f.sigma_hat[f.l]),
                                                (f.l, 1, f.K)) + f.b_hat[f.i]))))
    add("eq2", r"VAE loss = cross-entropy + $\mathbb{E}_q \log(q/p)$", "definition",
        sp.Eq(d.L(*m.u), item_reconstruction(f, m.u[0]) + kl, evaluate=False))
    add("eq3", r"$\mathbb{E}_u[\mathcal{L}(u)]$ = the loss with $u$ replaced by $P$", "equation",
        sp.Eq(d.E_u(d.L(*m.u)), expected_reconstruction(m) + _kl_at(m), evaluate=False),
        r"We write $P_{ij} = \mathbb{E}(u_{ij})$, and similarly define a new " "\u201cexpected\u201d loss "
        r"function: $\mathcal{L}_{\mathbb{E}}(P_j) = \mathbb{E}_{u_j}[\mathcal{L}(u_{:j})] "
        r"= -\sum_{i=1}^n (P_{ij} \log(\hat{P}_{ij}) + (1 - P_{ij}) \log(1 - \hat{P}_{ij})) "
        r"+ \mathbb{E}_{q_\alpha(\hat{\theta}|u_j)} \log\left(\frac{q_\alpha(\hat{\theta}|u_j)}{p(\theta)}\right)$")
    line1 = -1 / (1 + sp.exp(-Z)) * (1 / (1 + sp.exp(ZHAT))) - 1 / (1 + sp.exp(Z)) * (-1 / (1 + sp.exp(-ZHAT)))
    add("eq4.1", r"$\partial\mathcal{L}/\partial\hat z_i$, first line of (4)", "equation",
        sp.Eq(dL_dz, line1, evaluate=False))
    line2 = -1 / ((1 + sp.exp(-Z)) * (1 + sp.exp(ZHAT))) + 1 / ((1 + sp.exp(Z)) * (1 + sp.exp(-ZHAT)))
    add("eq4.2", r"$\partial\mathcal{L}/\partial\hat z_i$, second line of (4)", "equation",
        sp.Eq(dL_dz, line2, evaluate=False))
    n1 = ah[k0] * (thh[k0] + e[k0] * sh[k0])
    line3 = -1 / ((1 + sp.exp(-a[k0] * th[k0] + b)) * (1 + sp.exp(n1 - bh))) + 1 / (
        (1 + sp.exp(a[k0] * th[k0] - b)) * (1 + sp.exp(-n1 - bh)))
    add("eq4.3", r"$\partial\mathcal{L}/\partial\hat z_i$ in the parameters, third line of (4)", "equation",
        sp.Eq(dL_dz, line3, evaluate=False))
    add("eq5.a", r"$\partial\mathcal{L}/\partial\hat a_{ik} = \partial\mathcal{L}/\partial\hat z_i\,"
        r"(\hat\theta_{jk} + \varepsilon_k\hat\sigma_k)$", "equation",
        sp.Eq(sp.Derivative(d.L_REC(f.a_hat[f.i, f.k]), f.a_hat[f.i, f.k]),
              dL_dz * (f.theta_hat[f.j, f.k] + f.eps[f.k] * f.sigma_hat[f.k]), evaluate=False))
    add("eq5.b", r"$\partial\mathcal{L}/\partial\hat b_i = -\partial\mathcal{L}/\partial\hat z_i$", "equation",
        sp.Eq(sp.Derivative(d.L_REC(f.b_hat[f.i]), f.b_hat[f.i]), dL_dz * (-1), evaluate=False))
    thh_ik = sp.Symbol("thetahat_i1", real=True)  # the seed writes theta_hat_{ik} here
    add("eq5.theta", r"$\partial\mathcal{L}/\partial\hat\theta_{jk} = \partial\mathcal{L}/\partial\hat z_i\,"
        r"\hat a_{ik}$", "equation",
        sp.Eq(sp.Derivative(d.L_REC(thh_ik), thh_ik), dL_dz * ah[k0], evaluate=False))
    middle = -1 / ((1 + sp.exp(-a[k0] * th[k0] + b)) * (1 + sp.exp(a[k0] * sp.Add(th[k0], _zero_times(sh[k0]), evaluate=False) - b))) + 1 / (
        (1 + sp.exp(a[k0] * th[k0] - b)) * (1 + sp.exp(-a[k0] * sp.Add(th[k0], _zero_times(sh[k0]), evaluate=False) + b)))
    lhs6 = at_truth(d.E_eps(dL_dz))
    add("eq6", r"$\mathbb{E}_{\varepsilon}[\partial\mathcal{L}/\partial\hat z_i] = 0$ at the true parameters",
        "equation",
        sp.And(sp.Eq(lhs6, middle, evaluate=False), sp.Eq(middle, 0, evaluate=False)),
        r"But first, we must take another expectation over the random variable "
        r"$\varepsilon \sim \mathcal{N}(0, I)$. Obviously, we have that $\mathbb{E}[\varepsilon_k] = 0$; "
        r"this makes our calculations very simple.")
    for cid, wrt, var in (("eq7.a", ah[k0], r"\hat a_{ik}"), ("eq7.b", bh, r"\hat b_i"),
                          ("eq7.theta", thh[k0], r"\hat\theta_{jk}")):
        add(cid, r"$\mathbb{E}_{\varepsilon}[\partial\mathcal{L}/\partial %s] = 0$ at the true parameters" % var,
            "equation",
            sp.Eq(at_truth(d.E_eps(sp.Derivative(d.L_REC(wrt), wrt))), 0, evaluate=False),
            "Therefore we clearly have \u2026 $= 0 \\quad \\forall i, j, k$")
    args_hat = (ah[k0], bh, thh[k0])
    args_true = (a[k0], b, th[k0])
    add("claim.global-min", r"true parameters: local, then global minimum of $\mathcal{L}_{\mathbb{E}[\mathrm{REC}]}$",
        "argument",
        sp.GreaterThan(d.L_REC(*args_hat), d.L_REC(*args_true)),
        r"This proves that the true parameters give a local minimum for the expected "
        r"reconstruction error in the VAE loss. And because the expected cross-entropy loss "
        r"function $\mathcal{L}_{\mathbb{E}[\text{REC}]}$ is non-negative, the reconstruction error at "
        r"the true IRT paramters is a global minimum.")
    add("eq8", r"KL closed form $-\frac{1}{2}\sum_k (1 + \log\hat\sigma_k^2 - \hat\theta_k^2 - \hat\sigma_k^2)$",
        "equation", sp.Eq(kl, kl_closed_form(f), evaluate=False))
    add("claim.kl-min", r"KL term minimised ($= 0$) at $\hat\theta = 0$, $\hat\sigma = 1$", "argument",
        sp.And(sp.GreaterThan(d.L_KL(*thh, *sh), 0),
               sp.Eq(kl_closed.subs({**{x: 0 for x in thh}, **{s: 1 for s in sh}}), 0)),
        r"It is clear that this regularization term is minimized (and equal to zero) when "
        r"$\hat{\theta}_{jk} = 0$ and $\hat{\sigma}_{jk} = 1$.")
    sigma_post = tuple(sp.Symbol(f"sigma_{k + 1}", positive=True) for k in range(K))
    add("eq9", r"$\mathcal{L}_{\mathrm{KL}}$ at $\hat\theta = \theta$, $\hat\sigma = \sigma$ is "
        r"$\mathrm{KL}(\text{posterior} \,\|\, \text{prior})$", "equation",
        sp.Eq(sp.Subs(d.L_KL(*thh, *sh), (*thh, *sh), (*th, *sigma_post)),
              d.KL(d.p_post(*th), d.p(*th)), evaluate=False),
        r"Notice that this is the KL divergence between the true posterior $p(\theta|u)$ and the "
        r"true prior $p(\theta)$.")
    add("question.unique", "the minimiser is unique", "question",
        sp.Implies(sp.Eq(d.L_REC(*args_hat), d.L_REC(*args_true)),
                   sp.Eq(sp.Tuple(*args_hat), sp.Tuple(*args_true))),
        "any chance this is unique?")
    add("todo.full-loss", r"true parameters minimise the full loss "
        r"$\mathcal{L}_{\mathbb{E}[\mathrm{REC}]} + \mathcal{L}_{\mathrm{KL}}$", "todo",
        sp.GreaterThan(d.L_E(*args_hat, sh[k0]), d.L_E(*args_true, sh[k0])),
        r"TODO: try to show that this is a global minimum for the full VAE loss function. Also "
        r"take derivatives of the KL loss w.r.t $\hat{\theta}_{jk}$. The Q-matrix may help with an "
        r"identifiability issue (existence of other local minimums) in solving the system "
        r"$(a_{ik}\theta_{jk} + b_i)_{jk} = z_i$. The Q-matrix may make the solution unique.")
    return tuple(claims)


def seed_definitions(ctx):
    r"""The seed's named quantities, which the engine's default check expands (the chain rule
    through each kept as written): the expected reconstruction loss of item :math:`i`,
    :math:`\mathcal L_{\mathbb E[\mathrm{REC}]} = -[\sigma(z_i)\log\sigma(\hat z_i) + (1 - \sigma(z_i))
    \log(1 - \sigma(\hat z_i))]` (written :math:`\mathcal L_{\mathbb E[\mathrm{REC}]}(w)` when it is
    differentiated by :math:`w`), and the logits :math:`z_i`, :math:`\hat z_i` of the model for every
    number of traits (sums up to the symbol :math:`K`, :func:`~ml2p_symbolic.model.z_sum`)."""
    f = ml2p_families()
    return {display.L_REC: item_cross_entropy(sigmoid(Z), ZHAT), Z: z_sum(f), ZHAT: z_hat_sum(f)}


#: the seed as a derivation: its statements and named quantities; checks and confirmations
#: attach to it by id where the engine's default check cannot say it
SEED = Derivation("seed", seed_claims, context=SeedContext, options={"K": 2},
                  definitions=seed_definitions, title="The ML2P-VAE seed proof, machine-checked")

CLAIMS = seed_claims()

#: the stable ids of the seed's statements, in the seed's order
CLAIM_IDS = tuple(c.id for c in CLAIMS)


def by_id(K=2):
    """Map from claim id to :class:`~ml2p_symbolic.engine.records.Claim`, in the seed's order."""
    return {c.id: c for c in seed_claims(K)}
