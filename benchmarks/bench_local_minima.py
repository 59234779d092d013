"""Other stationary points of the population fit: saddles, true local minima, minima at
infinity and quadrature artifacts (issue 11, item 5). Prints the figures of the section
"Other stationary points" of docs/population.md.

    python benchmarks/bench_local_minima.py            # every check (about 12 minutes on one core)
    python benchmarks/bench_local_minima.py --quick    # without the adaptive-quadrature checks

The seed's TODO asks about "other local minimums". The exact-encoder population loss is
L(A_hat, b_hat) = -sum_u p(u) log p_hat(u) >= H(p), with equality exactly on the truth's
equivalence class; a Newton fit from a far start (test_fit_decoder_q_keeps_zeros_exactly:
A_hat = Q, b_hat = 0, 12 Gauss-Hermite points per trait) can stop elsewhere with a tiny
gradient. For each case below the fit is refined with 24, 48 and 96 points per trait from the
previous point (a table row each: L - H, gradient norm over the free parameters, extreme
Hessian eigenvalues, largest slope, how far the point moved), then the point is decided by
computations that do not rest on the rule that found it:

- large slopes (> 10): the gradient there with 96, 200 and 400 points (an artifact of the rule
  when it is large);
- L = H: the global minimum;
- still growing slopes at 96 points: the loss along the path to infinity by a quadrature split
  at the steep item's threshold (Gauss-Legendre around it), and its limit, a deterministic item;
- a negative Hessian eigenvalue: steps both ways along its eigenvector, and fits from there
  and from a jittered start (a saddle);
- otherwise: 122 neighbours at distances 0.01 and 0.05 (random directions and the eigenvectors,
  leaving out the symmetry's null direction), the loss on the segment to the truth (a barrier),
  and the loss by scipy's adaptive quadrature of the normal density itself (a true local
  minimum when every neighbour is higher and the two quadratures agree).

Designs: 3-4 items on 2 traits drawn as in the test (a ~ U(0.5, 1.8) where Q is 1,
b ~ U(-1, 1), rounded), and a 3 + 3 simple structure fitted from the truth with trait 1's sign
flipped; each under theta ~ N(0, I) and theta ~ N(0, Sigma), Sigma = [[1, 0.5], [0.5, 1]] (the
prior of the truth and of the model).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

from ml2p_symbolic.numeric.gauss_hermite import hermite_rule  # noqa: E402
from ml2p_symbolic.numeric.special import softplus  # noqa: E402
from ml2p_symbolic.population import (  # noqa: E402
    expected_neg_elbo,
    expected_neg_elbo_grad,
    fit_decoder,
    pattern_probabilities,
    response_entropy,
    response_patterns,
)
from ml2p_symbolic.population.exact import exact_terms  # noqa: E402
from ml2p_symbolic.population.patterns import log_pattern_probabilities, make_prior  # noqa: E402

SIGMA = np.array([[1.0, 0.5], [0.5, 1.0]])
PRIORS = (("N(0, I)", None), ("N(0, Sigma)", SIGMA))

#: the designs (drawn as in the test: a ~ U(0.5, 1.8) where Q is 1, b ~ U(-1, 1), then rounded)
DESIGNS = {
    "saddle": (np.ones((4, 2)), [[0.851, 0.553], [0.521, 1.557], [1.687, 1.289], [1.448, 1.207]],
               [0.87, 0.632, -0.995, 0.715]),
    "local": ([[1, 1], [1, 1], [0, 1], [1, 1]], [[0.544, 0.743], [1.377, 1.242], [0.0, 1.738], [0.701, 1.163]],
              [-0.712, 0.435, -0.447, -0.732]),
    "artifact": ([[1, 1], [0, 1], [1, 0], [1, 0]], [[0.856, 1.388], [0.0, 0.978], [1.441, 0.0], [0.709, 0.0]],
                 [0.866, 0.819, 0.699, -0.436]),
    "steep": ([[1, 1], [1, 1], [1, 1], [1, 0]], [[1.195, 0.526], [1.73, 0.696], [1.219, 1.387], [1.522, 0.0]],
              [0.278, 0.654, 0.287, 0.334]),
    "infinity": ([[1, 0], [0, 1], [1, 1]], [[0.93, 0.0], [0.0, 1.207], [0.809, 0.986]], [-0.083, -0.834, -0.971]),
    "mirror": (np.kron(np.eye(2), np.ones((3, 1))), [[0.9, 0], [1.35, 0], [1.18, 0], [0, 1.23], [0, 0.82], [0, 1.24]],
               [0.2, -0.3, 0.1, 0.5, -0.4, 0.0]),
}


def design(name):
    Q, A, b = DESIGNS[name]
    return np.asarray(Q, float), np.asarray(A, float), np.asarray(b, float)


def say(*args):
    print(*args, flush=True)


# --------------------------------------------------------------------------- measurements
def hessian_eigenvalues(Q, A_hat, b_hat, A, b, Sigma, nodes):
    """Eigenvalues of the exact loss's Hessian over the free parameters (slopes where Q is 1, b)."""
    prior = make_prior(Sigma, A.shape[1])
    p = np.exp(log_pattern_probabilities(A, b, nodes, prior))
    x = np.hstack([A_hat, b_hat[:, None]])
    free = np.hstack([Q == 1, np.ones((len(b), 1), bool)]).ravel()
    H = exact_terms(x, p, nodes, 2, prior)[2]
    ev, V = np.linalg.eigh(H[np.ix_(free, free)])
    return ev, V, free


def free_grad_norm(Q, A_hat, b_hat, A, b, Sigma, nodes):
    gA, gb = expected_neg_elbo_grad(A_hat, b_hat, A, b, Sigma=Sigma, nodes=nodes)
    return float(np.linalg.norm(np.concatenate([gA[Q == 1], gb])))


def gap(A_hat, b_hat, A, b, Sigma, nodes):
    return expected_neg_elbo(A_hat, b_hat, A, b, Sigma=Sigma, nodes=nodes) - response_entropy(A, b, Sigma=Sigma, nodes=nodes)


def refine(Q, A, b, Sigma, nodes_list=(12, 24, 48, 96), start=None):
    """Fit from the test's start with 12 points per trait, then refit from there with each finer
    rule. Prints one row per rule; returns the fits."""
    n = len(b)
    x0 = start if start is not None else (Q.copy(), np.zeros(n))
    fits = []
    say(f"  {'nodes':>5} {'L - H':>11} {'|grad|':>8} {'min eig':>10} {'max eig':>8} {'max|A_hat|':>10} "
        f"{'moved':>8} {'Newton its':>10}")
    for nodes in nodes_list:
        f = fit_decoder(A, b, encoder="exact", Sigma=Sigma, nodes=nodes, start=x0, Q=Q, max_iter=300)
        ev, _, _ = hessian_eigenvalues(Q, f.A_hat, f.b_hat, A, b, Sigma, nodes)
        moved = np.abs(np.hstack([f.A_hat - x0[0], (f.b_hat - x0[1])[:, None]])).max() if fits else float("nan")
        say(f"  {nodes:>5} {f.value - f.entropy:>11.4e} {f.grad_norm:>8.0e} {ev[0]:>10.2e} {ev[-1]:>8.2f} "
            f"{np.abs(f.A_hat).max():>10.3g} {moved:>8.1e} {f.iterations:>10}")
        fits.append((nodes, f))
        x0 = (f.A_hat, f.b_hat)
    return fits


# --------------------------------------------------------------------------- adaptive quadrature
def adaptive_pattern_probabilities(A, b, Sigma):
    """p(u) for every pattern by scipy's adaptive 2-D quadrature of the normal density itself
    (no Cholesky factor, no Gauss-Hermite): an independent method."""
    from scipy import integrate
    from scipy.stats import multivariate_normal

    S = np.eye(2) if Sigma is None else Sigma
    dens = multivariate_normal(np.zeros(2), S).pdf
    U = response_patterns(len(b))
    lim = 10.0 * np.sqrt(np.diag(S))
    out = np.empty(len(U))
    for j, u in enumerate(U):
        def f(t2, t1, u=u):
            z = A @ np.array([t1, t2]) - b
            return float(np.exp(u @ z - softplus(z).sum())) * dens([t1, t2])
        out[j], err = integrate.dblquad(f, -lim[0], lim[0], -lim[1], lim[1], epsabs=1e-15, epsrel=1e-13)
    return out


# --------------------------------------------------------------------------- split quadrature
def split_loss(A_hat, b_hat, p, Sigma, j, n_legendre=200, n_hermite=64, deterministic=False):
    """-sum_u p(u) log p_hat(u) with a quadrature that resolves item j however steep it is.

    In the whitened traits x = C^-1 theta ~ N(0, I), item j's logit is s (y_1 - t) with
    y_1 = e . x, e = C^T a_j / |C^T a_j|, s = |C^T a_j|, t = b_j / s. The integral over y_1 is
    taken by Gauss-Legendre on [-12, 12] split at t - 40/s and t + 40/s (the whole transition of
    the sigmoid lies in the middle piece), times the normal density; y_2 = e_perp . x by
    Gauss-Hermite. ``deterministic=True`` evaluates the limit s -> infinity, where item j is the
    threshold 1{y_1 > t}."""
    K = A_hat.shape[1]
    C = np.eye(K) if Sigma is None else np.linalg.cholesky(Sigma)
    B = A_hat @ C
    s = np.linalg.norm(B[j])
    e = B[j] / s
    R = np.array([e, [-e[1], e[0]]])  # rows: e, e_perp
    Bt = B @ R.T  # slopes on (y1, y2); item j is (s, 0)
    t = b_hat[j] / s
    w = 40.0 / s
    cuts = sorted({-12.0, 12.0, *(c for c in (t - w, t, t + w) if -12.0 < c < 12.0)})
    g, gw = np.polynomial.legendre.leggauss(n_legendre)
    y1, w1 = [], []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        y1.append(0.5 * (hi - lo) * g + 0.5 * (hi + lo))
        w1.append(0.5 * (hi - lo) * gw)
    y1, w1 = np.concatenate(y1), np.concatenate(w1)
    w1 = w1 * np.exp(-0.5 * y1**2) / np.sqrt(2 * np.pi)
    y2, w2 = hermite_rule(n_hermite)
    Y1, Y2 = np.meshgrid(y1, y2, indexing="ij")
    W = (w1[:, None] * w2[None, :]).ravel()
    Y = np.stack([Y1.ravel(), Y2.ravel()], axis=1)
    z = Y @ Bt.T - b_hat  # (points, n)
    U = response_patterns(len(b_hat))
    if deterministic:
        logP1 = np.where(Y[:, 0] > t, 0.0, -np.inf)
        logP0 = np.where(Y[:, 0] > t, -np.inf, 0.0)
    others = [i for i in range(len(b_hat)) if i != j or not deterministic]
    logw = np.log(W)
    L = np.empty(len(U))
    for k, u in enumerate(U):
        terms = logw.copy()
        for i in others:
            terms += u[i] * z[:, i] - softplus(z[:, i])
        if deterministic:
            terms = terms + (logP1 if u[j] else logP0)
        m = terms.max()
        L[k] = m + np.log(np.exp(terms - m).sum())
    return float(-(p @ L))


# --------------------------------------------------------------------------- the checks
def _direction(v, free, n):
    d = np.zeros(free.size)
    d[free] = v
    return d.reshape(n, 3)


def _moved(f, d, A, b, Sigma, nodes=96):
    return expected_neg_elbo(f.A_hat + d[:, :2], f.b_hat + d[:, 2], A, b, Sigma=Sigma, nodes=nodes)


def symmetry_count(Q, Sigma):
    """The dimension of the maps that keep the prior and Q's zeros (identifiability, SymPy)."""
    from ml2p_symbolic.identifiability import symmetry_dimension

    Qi = Q.astype(int)
    return symmetry_dimension(Qi) if Sigma is None else symmetry_dimension(Qi, prior="known", Sigma=Sigma)


def check_saddle(f, Q, A, b, Sigma, ev, V, free):
    n = len(b)
    base = _moved(f, np.zeros((n, 3)), A, b, Sigma)
    d = _direction(V[:, 0], free, n)
    for t in (0.05, 0.2):
        say(f"  along the eigenvector of the negative eigenvalue, step {t}: L - L(point) = "
            f"{_moved(f, t * d, A, b, Sigma) - base:.3e} and {_moved(f, -t * d, A, b, Sigma) - base:.3e}")
    g = fit_decoder(A, b, encoder="exact", Sigma=Sigma, nodes=96, Q=Q, max_iter=300,
                    start=(f.A_hat + 0.05 * d[:, :2], f.b_hat + 0.05 * d[:, 2]))
    say(f"  the fit from the point moved 0.05 along it: L - H = {g.value - g.entropy:.1e}, |grad| = {g.grad_norm:.0e}")
    rng = np.random.default_rng(0)
    g = fit_decoder(A, b, encoder="exact", Sigma=Sigma, nodes=96, Q=Q, max_iter=300,
                    start=(Q * (1 + 1e-3 * rng.normal(size=Q.shape)), np.zeros(n)))
    say(f"  the fit from the test's start plus N(0, 1e-6) noise on the slopes: L - H = {g.value - g.entropy:.1e}, "
        f"|grad| = {g.grad_norm:.0e}")


def check_minimum(f, Q, A, b, Sigma, ev, V, free, null, adaptive):
    n = len(b)
    base = _moved(f, np.zeros((n, 3)), A, b, Sigma)
    W = V[:, null:]  # the directions that are not symmetries
    rng = np.random.default_rng(0)
    for r in (1e-2, 5e-2):
        rises = []
        for _ in range(100):
            v = W @ rng.normal(size=W.shape[1])
            rises.append(_moved(f, _direction(r * v / np.linalg.norm(v), free, n), A, b, Sigma) - base)
        for k in range(W.shape[1]):
            for sgn in (1, -1):
                rises.append(_moved(f, _direction(sgn * r * W[:, k], free, n), A, b, Sigma) - base)
        say(f"  {len(rises)} points at distance {r} (100 random directions and both ways along every "
            f"eigenvector{', orthogonal to the symmetry' if null else ''}): min L - L(point) = {min(rises):.2e}")
    path = [expected_neg_elbo(f.A_hat + t * (A - f.A_hat), f.b_hat + t * (b - f.b_hat), A, b, Sigma=Sigma, nodes=96)
            for t in np.linspace(0, 1, 41)]
    k = int(np.argmax(path))
    say(f"  on the segment to the truth the loss first rises by {path[k] - path[0]:.2e} (highest at t = {k / 40:.3f})")
    if adaptive:
        p = adaptive_pattern_probabilities(A, b, Sigma)
        q = adaptive_pattern_probabilities(f.A_hat, f.b_hat, Sigma)
        say(f"  adaptive quadrature (scipy dblquad, no Gauss-Hermite): L - H = sum p log(p/p_hat) = "
            f"{float(p @ np.log(p / q)):.4e} (Gauss-Hermite, 96 points: {f.value - f.entropy:.4e}; "
            f"max |p - p_GH| = {np.abs(p - pattern_probabilities(A, b, Sigma=Sigma, nodes=96)).max():.0e})")


def check_large_slopes(fits, Q, A, b, Sigma):
    for nodes, f in fits:
        if np.abs(f.A_hat).max() > 10 and nodes < 96:
            gs = [free_grad_norm(Q, f.A_hat, f.b_hat, A, b, Sigma, m) for m in (nodes, 96, 200, 400)]
            say(f"  the {nodes}-point fit (max|A_hat| = {np.abs(f.A_hat).max():.3g}): |grad| with {nodes}, 96, "
                f"200, 400 points: {', '.join(f'{g:.1e}' for g in gs)}")


def check_infinity(f, Q, A, b, Sigma):
    j = int(np.argmax(np.abs(f.A_hat).sum(axis=1)))
    p = pattern_probabilities(A, b, Sigma=Sigma, nodes=96)
    H = response_entropy(A, b, Sigma=Sigma, nodes=96)
    s0 = float(np.linalg.norm(f.A_hat[j]))
    say(f"  item {j + 1} grows (|a_hat_{j + 1}| = {s0:.3g}): the loss along the path (a_hat_{j + 1}, b_hat_{j + 1}) "
        f"-> c (a_hat_{j + 1}, b_hat_{j + 1}), the others fixed, by the quadrature split at the item's threshold:")
    prev = None
    for c in (0.02, 0.05, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0):
        A_c, b_c = f.A_hat.copy(), f.b_hat.copy()
        A_c[j] *= c
        b_c[j] *= c
        val = split_loss(A_c, b_c, p, Sigma, j) - H
        gh = expected_neg_elbo(A_c, b_c, A, b, Sigma=Sigma, nodes=96) - H
        trend = "" if prev is None else ("  (falls)" if val < prev else "  (rises)")
        say(f"    |a_hat_{j + 1}| = {c * s0:>9.3g}: L - H = {val:.6e}   (Gauss-Hermite, 96 points: {gh:.6e}){trend}")
        prev = val
    lim = split_loss(f.A_hat, f.b_hat, p, Sigma, j, deterministic=True) - H
    say(f"    the limit, item {j + 1} a threshold 1{{a_hat . theta > b_hat}}: L - H = {lim:.6e}")
    from scipy.optimize import minimize

    others = [(i, k) for i in range(len(b)) for k in range(2) if i != j and Q[i, k]] + \
             [(i, 2) for i in range(len(b)) if i != j]

    def loss(v):
        A_v, b_v = f.A_hat.copy(), f.b_hat.copy()
        for (i, k), val in zip(others, v):
            if k == 2:
                b_v[i] = val
            else:
                A_v[i, k] = val
        return split_loss(A_v, b_v, p, Sigma, j, deterministic=True) - H

    v0 = np.array([f.b_hat[i] if k == 2 else f.A_hat[i, k] for i, k in others])
    res = minimize(loss, v0, method="BFGS", options={"gtol": 1e-10})
    say(f"    with the other {len(others)} parameters re-optimised in the limit model (BFGS): L - H = {res.fun:.6e} "
        f"(they move by {np.abs(res.x - v0).max():.1e})")


def examine(Q, A, b, Sigma, start=None, adaptive=True):
    fits = refine(Q, A, b, Sigma, (12, 24, 48, 96), start=start)
    nodes, f = fits[-1]
    check_large_slopes(fits, Q, A, b, Sigma)
    if f.value - f.entropy < 1e-12:
        say("  verdict: the global minimum (L = H)")
        return
    if np.abs(f.A_hat).max() > 10:
        check_infinity(f, Q, A, b, Sigma)
        say("  verdict: a minimum at infinity (the loss falls along the path to a deterministic item)")
        return
    ev, V, free = hessian_eigenvalues(Q, f.A_hat, f.b_hat, A, b, Sigma, nodes)
    tol = 1e-9 * ev[-1]
    neg, null = int((ev < -tol).sum()), int((np.abs(ev) <= tol).sum())
    sym = symmetry_count(Q, Sigma)
    say(f"  Hessian: {neg} negative, {null} zero (|eig| <= 1e-9 max; the maps that keep the prior and Q: {sym}), "
        f"smallest others {', '.join(f'{e:.2e}' for e in ev[neg + null:neg + null + 3])}")
    if neg:
        check_saddle(f, Q, A, b, Sigma, ev, V, free)
        say("  verdict: a saddle point")
        return
    check_minimum(f, Q, A, b, Sigma, ev, V, free, null, adaptive)
    say("  verdict: a true local minimum" + (" (a curve of them: the symmetry)" if null else ""))


#: (name, prior label, Sigma, design, start): start None is the test's (A_hat = Q, b_hat = 0)
CASES = [
    ("equal columns", "N(0, I)", None, "saddle", None),
    ("one zero", "N(0, I)", None, "local", None),
    ("steep slope", "N(0, I)", None, "artifact", None),
    ("equal columns", "N(0, Sigma)", SIGMA, "saddle", None),
    ("one zero", "N(0, Sigma)", SIGMA, "local", None),
    ("steep slope", "N(0, Sigma)", SIGMA, "steep", None),
    ("threshold", "N(0, Sigma)", SIGMA, "infinity", None),
    ("mirror", "N(0, I)", None, "mirror", "flip"),
    ("mirror", "N(0, Sigma)", SIGMA, "mirror", "flip"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the adaptive (dblquad) checks")
    args = parser.parse_args()
    for title, label, Sigma, name, start in CASES:
        Q, A, b = design(name)
        if start == "flip":  # the truth with trait 1's sign flipped
            start = (A * np.array([-1.0, 1.0]), b.copy())
        say(f"\n[{title}] theta ~ {label}; Q = {Q.astype(int).tolist()}, a = {A.tolist()}, b = {b.tolist()}"
            + ("; start: the truth with trait 1 flipped" if start is not None else ""))
        examine(Q, A, b, Sigma, start=start, adaptive=not args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
