r"""The identities behind the population theorems, each checked by SymPy."""

from __future__ import annotations

import itertools

__all__ = ["symbolic_identities"]


def symbolic_identities(n=2):
    r"""The identities behind the minimiser theorems, each checked by SymPy.

    Returns a tuple of ``(name, statement, proved)`` for ``n`` items, with ``proved`` True
    when every equation behind the statement is ``"verified"`` by
    :func:`ml2p_symbolic.engine.identity.check_identity` (an exact rewriting to 0 on the symbols'
    domain; sums of logarithms of positive symbols are first split by ``expand_log``,
    which is exact for positive arguments):

    ``patterns-sum-to-one``
        :math:`\sum_u\prod_i P_i^{u_i}(1-P_i)^{1-u_i} = 1` for symbolic :math:`P_i`, hence
        :math:`\sum_u p(u) = 1` for any mixing distribution (and any quadrature rule);
    ``cross-entropy-decomposition``
        :math:`-\sum_u p_u\log q_u = -\sum_u p_u\log p_u + \sum_u p_u\log(p_u/q_u)`;
    ``gibbs``
        :math:`g(t) = t - 1 - \log t \ge 0` for :math:`t > 0` (:math:`g(1) = g'(1) = 0`,
        :math:`g'' = 1/t^2 > 0`), and :math:`\mathrm{KL}(p\|q) = \sum_u p_u g(q_u/p_u)
        - \sum_u q_u + \sum_u p_u`, so :math:`\mathrm{KL} \ge 0` when both sum to 1,
        with equality iff :math:`q = p`;
    ``stationary-at-truth``
        :math:`\partial_x\big(-\sum_u p_u\log p_u(x)\big)\big|_{p(x) = p} = -\sum_u p_u'(x) = 0`
        because :math:`\sum_u p_u(x) = 1` for every decoder :math:`x`;
    ``elbo-gap``
        for a posterior on finitely many nodes, :math:`\log p(u) - \mathrm{ELBO}(q) =
        \mathrm{KL}(q\,\|\,p(\cdot\mid u))` (so the Gaussian loss is the exact loss plus the
        expected gap);
    ``gaussian-kl``
        :math:`\mathrm{KL}(\mathcal N(\mu, s^2)\|\mathcal N(0,1)) =
        -\tfrac12(1 + \log s^2 - \mu^2 - s^2)` by integration.

    Examples
    --------
    >>> all(ok for _, _, ok in symbolic_identities(2))
    True
    """
    import sympy as sp

    from ..engine.identity import check_identity

    def proved(*pairs):
        return all(check_identity(lhs, rhs).verdict == "verified" for lhs, rhs in pairs)

    def logs_split(expr):  # log(x y) = log x + log y, exact for the positive symbols used
        return sp.expand_log(expr, force=True)

    out = []
    P = sp.symbols(f"P1:{n + 1}", positive=True)
    total = sum(
        sp.Mul(*[P[i] if u[i] else 1 - P[i] for i in range(n)])
        for u in itertools.product((0, 1), repeat=n)
    )
    out.append(("patterns-sum-to-one", sp.Eq(total, 1), proved((total, sp.Integer(1)))))

    m = 2**n
    p = sp.symbols(f"p1:{m + 1}", positive=True)
    q = sp.symbols(f"q1:{m + 1}", positive=True)
    ce = -sum(p[j] * sp.log(q[j]) for j in range(m))
    H = -sum(p[j] * sp.log(p[j]) for j in range(m))
    KL = sum(p[j] * sp.log(p[j] / q[j]) for j in range(m))
    out.append(("cross-entropy-decomposition", sp.Eq(ce, H + KL),
                proved((logs_split(ce), logs_split(H + KL)))))

    t = sp.symbols("t", positive=True)
    g = t - 1 - sp.log(t)
    rebuilt = sum(p[j] * g.subs(t, q[j] / p[j]) for j in range(m)) - sum(q) + sum(p)
    gibbs_ok = proved((g.subs(t, 1), sp.Integer(0)), (sp.diff(g, t).subs(t, 1), sp.Integer(0)),
                      (sp.diff(g, t, 2), 1 / t**2), (logs_split(rebuilt), logs_split(KL)))
    out.append(("gibbs", sp.Eq(KL, rebuilt), gibbs_ok))

    pf = sp.symbols(f"phat1:{m + 1}", positive=True)  # p_j(x) of the decoder
    dp = sp.symbols(f"dphat1:{m + 1}", real=True)  # d p_j(x) / dx
    grad = -sum(p[j] * dp[j] / pf[j] for j in range(m))  # d/dx of -sum_j p_j log p_j(x)
    at_truth = grad.subs({pf[j]: p[j] for j in range(m)})
    # sum_j p_j(x) = 1 for all x, so sum_j dp_j = 0: eliminate the last derivative
    out.append(("stationary-at-truth", sp.Eq(at_truth, 0),
                proved((at_truth.subs(dp[-1], -sum(dp[:-1])), sp.Integer(0)))))

    J = 3
    wq = sp.symbols(f"w1:{J + 1}", positive=True)  # prior x likelihood at each node
    r = sp.symbols(f"r1:{J + 1}", positive=True)  # q on the nodes
    Z = sum(wq)
    elbo = sum(r[j] * (sp.log(wq[j]) - sp.log(r[j])) for j in range(J))
    klq = sum(r[j] * sp.log(r[j] / (wq[j] / Z)) for j in range(J))
    # q sums to 1: r_J = 1 - r_1 - ... - r_(J-1)
    on_simplex = {r[-1]: 1 - sum(r[:-1])}
    out.append(("elbo-gap", sp.Eq(sp.log(Z) - elbo, klq),
                proved((logs_split(sp.log(Z) - elbo).subs(on_simplex),
                        logs_split(klq).subs(on_simplex)))))

    mu = sp.symbols("mu", real=True)
    s = sp.symbols("s", positive=True)
    th = sp.symbols("theta", real=True)
    qd = sp.exp(-(th - mu) ** 2 / (2 * s**2)) / (s * sp.sqrt(2 * sp.pi))
    log_ratio = sp.expand(-(th - mu) ** 2 / (2 * s**2) - sp.log(s) + th**2 / 2)
    kl_int = sp.integrate(qd * log_ratio, (th, -sp.oo, sp.oo))
    closed = -sp.Rational(1, 2) * (1 + sp.log(s**2) - mu**2 - s**2)
    out.append(("gaussian-kl", sp.Eq(kl_int, closed), proved((logs_split(kl_int), logs_split(closed)))))
    return tuple(out)
