"""Benchmarks of the population view and of Q-matrix identifiability; prints figures.

    python benchmarks/bench_population.py            # timings and the bias tables (n = 4..16)
    python benchmarks/bench_population.py --quick    # timings and the bias tables up to n = 10
    python benchmarks/bench_population.py --sigma    # only the bias table against the correlation rho

Targets (issue 5): expected_neg_elbo(encoder="exact") for n = 16, K = 1, nodes = 64 under
1 s; analyze() of a 30 x 3 Q-matrix under 10 s; (issue 9) of a 500 x 3 one under 15 s (it took
over 200 s and 2.7 GB before the Jacobian's Gram matrix was accumulated block by block). BLAS threads are limited to one (set before
numpy is imported): on a shared machine threaded LAPACK on small matrices can be 100x slower.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from ml2p_symbolic.identifiability import analyze, estimate_cost  # noqa: E402
from ml2p_symbolic.population import (  # noqa: E402
    expected_neg_elbo,
    fit_decoder,
    gauss_hermite_normal,
    minimiser_bias,
    response_entropy,
    response_patterns,
)


def _best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def item_bank(n_max=16, seed=0):
    """Nested one-trait tests: the first n items of a fixed bank (a ~ U(0.7, 2), b ~ N(0, 1))."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.7, 2.0, (n_max, 1)), rng.normal(0.0, 1.0, n_max)


def bench_exact_loss():
    A, b = item_bank(16)
    A_hat = A * 1.1
    t, value = _best_of(lambda: expected_neg_elbo(A_hat, b, A, b, encoder="exact", nodes=64))
    h = response_entropy(A, b, nodes=64)
    print(f"expected_neg_elbo exact, n=16, K=1, nodes=64: {t:.3f} s  (target < 1 s)   "
          f"value {value:.10f}, entropy {h:.10f}")


def bench_identify():
    rng = np.random.default_rng(0)
    cases = {
        "30x3 no zeros": np.ones((30, 3), dtype=int),
        "30x3 simple structure": np.kron(np.eye(3, dtype=int), np.ones((10, 1), dtype=int)),
        "30x3 random (p=0.6)": (rng.random((30, 3)) < 0.6).astype(int) | np.eye(30, 3, dtype=int),
        "200x3 random (p=0.5)": (rng.random((200, 3)) < 0.5).astype(int) | np.eye(200, 3, dtype=int),
        "500x3 random (p=0.5)": (rng.random((500, 3)) < 0.5).astype(int) | np.eye(500, 3, dtype=int),
    }
    S3 = np.array([[1.0, 0.4, 0.2], [0.4, 1.2, -0.3], [0.2, -0.3, 0.9]])
    for name, Q in cases.items():
        for prior, kw in (("standard", {}), ("known", {"Sigma": S3}), ("correlation", {})):
            if prior != "standard" and name not in ("30x3 no zeros", "500x3 random (p=0.5)"):
                continue
            cost = estimate_cost(Q, prior=prior)
            t = time.perf_counter()
            r = analyze(Q, prior=prior, **kw)
            t = time.perf_counter() - t
            target = 15 if Q.shape[0] > 100 else 10
            print(f"analyze {name:24s} {prior:11s}: {t:6.2f} s  (target < {target} s; estimated "
                  f"{2 * cost['seconds']:.1f} s, {cost['bytes'] / 1e6:.0f} MB)   free_dimensions "
                  f"{r.free_dimensions} (numeric {r.numeric_free_dimensions}, symbolic "
                  f"{r.symbolic_free_dimensions}), identified {r.identified}, gap {r.singular_gap:.2g}")


def bias_table(ns):
    A_all, b_all = item_bank(16)  # the same bank whatever ns, so the tests are nested
    print()
    print("Minimiser of the expected loss with the best diagonal-Gaussian encoder (K = 1, nodes = 64)")
    print("items: first n of a fixed bank, a ~ U(0.7, 2), b ~ N(0, 1); fit by Newton from the truth")
    header = (f"{'n':>3} {'|A^-A|_F':>10} {'|b^-b|_2':>10} {'max|da|':>9} {'max|db|':>9} "
              f"{'rel |A^-A|':>10} {'L(truth)-H':>11} {'L(min)-H':>11} {'gap':>10} {'|grad|':>8} {'time':>7}")
    print(header)
    print("-" * len(header))
    for n in ns:
        A, b = A_all[:n], b_all[:n]
        t = time.perf_counter()
        r = minimiser_bias(A, b, encoder="gaussian", nodes=64)
        t = time.perf_counter() - t
        print(f"{n:>3} {r.distance_A:>10.4g} {r.distance_b:>10.4g} {r.max_abs_A:>9.3g} "
              f"{r.max_abs_b:>9.3g} {r.distance_A / np.linalg.norm(A):>10.4g} "
              f"{r.loss_at_truth - r.entropy:>11.4g} {r.loss_at_minimiser - r.entropy:>11.4g} "
              f"{r.gap:>10.3g} {r.fit.grad_norm:>8.1g} {t:>6.1f}s")
    print()
    print("Two traits, no zeros in Q (all of A free), Gaussian encoder, nodes = 24 per trait:")
    print("a ~ U(0.5, 1.5), b ~ U(-1, 1) (first n of a fixed bank); distances after the best signed")
    print("permutation (the Gaussian family's symmetries) and after the best rotation (Procrustes)")
    rng = np.random.default_rng(1)
    A2, b2 = rng.uniform(0.5, 1.5, (8, 2)), rng.uniform(-1, 1, 8)
    print(f"{'n':>3} {'|A^-A| perm':>12} {'|A^-A| rot':>11} {'|b^-b|':>9} {'gap':>9} {'|col 2|/|col 1|':>16}")
    for n in (4, 6, 8):
        r = minimiser_bias(A2[:n], b2[:n], encoder="gaussian", nodes=24)
        cols = np.sort(np.linalg.norm(r.fit.A_hat, axis=0))
        print(f"{n:>3} {r.distance_A:>12.4g} {r.distance_A_orthogonal:>11.4g} {r.distance_b:>9.3g} "
              f"{r.gap:>9.3g} {cols[0] / cols[1]:>16.3g}")
    r = minimiser_bias(A_all[:6], b_all[:6], encoder="exact", nodes=64)
    print(f"\nexact encoder, n = 6: |A^-A|_F = {r.distance_A:.2g}, |b^-b|_2 = {r.distance_b:.2g}, "
          f"L(truth) - H = {r.loss_at_truth - r.entropy:.2g} (the truth is the minimiser)")


def simple_structure_bank(per_max=6, seed=0):
    """Two traits in simple structure: per trait a nested bank of ``per_max`` items
    (a ~ U(0.7, 1.5), b ~ U(-1, 1)); ``simple_structure(per)`` takes the first ``per`` of each."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.7, 1.5, (2, per_max))
    b = rng.uniform(-1.0, 1.0, (2, per_max))

    def simple_structure(per):
        Q = np.kron(np.eye(2), np.ones((per, 1)))
        A = Q * np.concatenate([a[0, :per], a[1, :per]])[:, None]
        return Q, A, np.concatenate([b[0, :per], b[1, :per]])

    return simple_structure


def q_bias_table(pers, nodes=24, starts=5, starts_max_items=10):
    """Gaussian-encoder minimiser with A restricted to a simple-structure Q-matrix (K = 2).

    The random-start check runs only up to ``starts_max_items`` items: from far starts the
    per-pattern encoder solves are slow (about 24 s per Newton step at n = 12, against
    0.5 s near the minimiser)."""
    simple_structure = simple_structure_bank(max(pers))
    print()
    print(f"Two traits, simple-structure Q (A_hat zero where Q = 0), Gaussian encoder, nodes = {nodes}")
    print("per trait the first n/2 items of a fixed bank, a ~ U(0.7, 1.5), b ~ U(-1, 1) (seed 0);")
    print(f"fit from the truth; 'starts': max |A_hat - A_hat(truth start)| over {starts} random starts")
    print("(n <= %d); 'split': max |A_hat - the one-trait minimisers of each block|" % starts_max_items)
    header = (f"{'n':>3} {'|A^-A|_F':>10} {'|b^-b|_2':>10} {'max|da|':>9} {'max|db|':>9} "
              f"{'L(truth)-H':>11} {'L(min)-H':>11} {'gap':>10} {'|grad|':>8} {'starts':>8} "
              f"{'split':>8} {'time':>7}")
    print(header)
    print("-" * len(header))
    for per in pers:
        Q, A, b = simple_structure(per)
        n = A.shape[0]
        t = time.perf_counter()
        r = minimiser_bias(A, b, encoder="gaussian", nodes=nodes, Q=Q)
        t = time.perf_counter() - t
        rng = np.random.default_rng(1)
        spread = 0.0 if n <= starts_max_items else float("nan")
        for _ in range(starts if n <= starts_max_items else 0):
            A0 = Q * rng.uniform(0.2, 3.0, A.shape) * rng.choice([-1.0, 1.0], (1, 2))
            f = fit_decoder(A, b, encoder="gaussian", nodes=nodes, Q=Q, start=(A0, rng.uniform(-2, 2, n)))
            spread = max(spread, float(np.abs(f.A_hat - r.fit.A_hat).max()))
        # the K = 2 minimiser is the pair of one-trait minimisers (the objective factorises)
        split = 0.0
        for k in range(2):
            rows = Q[:, k] == 1
            rk = minimiser_bias(A[rows][:, [k]], b[rows], encoder="gaussian", nodes=nodes)
            split = max(split, float(np.abs(rk.fit.A_hat[:, 0] - r.fit.A_hat[rows, k]).max()))
        print(f"{n:>3} {r.distance_A:>10.4g} {r.distance_b:>10.4g} {r.max_abs_A:>9.3g} "
              f"{r.max_abs_b:>9.3g} {r.loss_at_truth - r.entropy:>11.4g} "
              f"{r.loss_at_minimiser - r.entropy:>11.4g} {r.gap:>10.3g} {r.fit.grad_norm:>8.1g} "
              f"{'-' if np.isnan(spread) else format(spread, '.1g'):>8} {split:>8.1g} {t:>6.1f}s")
    Q, A, b = simple_structure(min(pers))
    r = minimiser_bias(A, b, encoder="exact", nodes=nodes, Q=Q)
    print(f"exact encoder, n = {A.shape[0]}, same Q: |A^-A|_F = {r.distance_A:.2g}, "
          f"|b^-b|_2 = {r.distance_b:.2g}, gap = {r.gap:.2g} (the truth is the minimiser)")


def correlated_banks(seed=2):
    """Item banks for K = 2 with correlated traits, a ~ U(0.7, 1.5), b ~ U(-1, 1) (seed 2):
    simple structure 3 + 3 and 4 + 4 (nested), six and eight items with cross-loadings, and
    four and six items with every slope free (no Q). Returns [(name, Q or None, A, b)]."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.7, 1.5, (8, 2))
    b = rng.uniform(-1.0, 1.0, 8)
    banks = []
    for per in (3, 4):
        Q = np.kron(np.eye(2), np.ones((per, 1)))
        rows = list(range(per)) + list(range(4, 4 + per))
        banks.append((f"simple {per}+{per}", Q, Q * a[rows], b[rows]))
    cross = np.array([[1, 0], [1, 0], [1, 1], [0, 1], [0, 1], [1, 1], [1, 0], [0, 1]], dtype=float)
    for n in (6, 8):
        banks.append((f"cross-loadings n={n}", cross[:n], cross[:n] * a[:n], b[:n]))
    for n in (4, 6):
        banks.append((f"all free n={n}", None, a[:n], b[:n]))
    return banks


def posterior_correlation(A, b, Sigma, nodes=24):
    """sum_u p(u) corr(theta_1, theta_2 | u) at the truth (K = 2): the exact posterior's
    correlation, which the diagonal-Gaussian encoder cannot represent."""
    theta, w = gauss_hermite_normal(nodes, 2, Sigma=Sigma)
    z = theta @ A.T - b
    U = response_patterns(A.shape[0])
    W = np.exp(U @ z.T - np.logaddexp(0, z).sum(axis=1)[None, :]) * w
    p = W.sum(axis=1)
    W /= p[:, None]
    m = W @ theta
    C = np.einsum("uq,qk,ql->ukl", W, theta, theta) - m[:, :, None] * m[:, None, :]
    return float(p @ (C[:, 0, 1] / np.sqrt(C[:, 0, 0] * C[:, 1, 1])))


def sigma_table(rhos=(0.0, 0.3, 0.5, 0.8), nodes=24):
    """The decoder bias of the exact-posterior and the diagonal-Gaussian minimisers against rho,
    theta ~ N(0, [[1, rho], [rho, 1]]) in the truth and in the model's prior (issue 11)."""
    print()
    print(f"K = 2, theta ~ N(0, [[1, rho], [rho, 1]]) in the truth and in the VAE's prior, nodes = {nodes}")
    print("exact: fit from the truth + 0.2 (slopes where Q is 1) and b - 0.2; distances after the maps that")
    print("  keep the prior (no Q: M Sigma M^T = Sigma, whitened Procrustes; with Q: sign flips/swaps)")
    print("gauss: the diagonal-Gaussian minimiser, fit from the truth; 'rot' = |A^-A|_F after the best map")
    print("  that keeps N(0, Sigma) (no Q), i.e. the bias beyond the symmetries of the exact loss")
    print("post.corr = sum_u p(u) corr(theta_1, theta_2 | u) at the truth; mean da = mean of A_hat - A where Q is 1")
    header = (f"{'bank':<20} {'rho':>4} {'post.corr':>9} | {'ex |dA|':>8} {'ex |db|':>8} | {'|A^-A|_F':>9} {'rot':>7} "
              f"{'mean da':>8} "
              f"{'|b^-b|_2':>9} {'max|da|':>8} {'max|db|':>8} {'L(truth)-H':>10} {'gap':>9} {'|grad|':>7} {'time':>6}")
    print(header)
    print("-" * len(header))
    for name, Q, A, b in correlated_banks():
        for rho in rhos:
            S = np.array([[1.0, rho], [rho, 1.0]])
            mask = np.ones_like(A) if Q is None else Q
            t = time.perf_counter()
            ex = fit_decoder(A, b, encoder="exact", Sigma=S, nodes=nodes, Q=Q, start=(A + 0.2 * mask, b - 0.2))
            r = minimiser_bias(A, b, encoder="gaussian", Sigma=S, nodes=nodes, Q=Q)
            t = time.perf_counter() - t
            rot = "-" if Q is not None else format(r.distance_A_orthogonal, ".3g")
            mean_da = float((r.fit.A_hat - A)[mask == 1].mean())
            print(f"{name:<20} {rho:>4.1f} {posterior_correlation(A, b, S, nodes):>9.3f} | "
                  f"{np.linalg.norm(ex.A_hat - A):>8.1g} {np.linalg.norm(ex.b_hat - b):>8.1g} | "
                  f"{r.distance_A:>9.4f} {rot:>7} {mean_da:>8.3f} {r.distance_b:>9.4f} {r.max_abs_A:>8.4f} {r.max_abs_b:>8.4f} "
                  f"{r.loss_at_truth - r.entropy:>10.3g} {r.gap:>9.3g} {r.fit.grad_norm:>7.0e} {t:>5.1f}s",
                  flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="bias table only up to n = 10")
    parser.add_argument("--sigma", action="store_true",
                        help="only the bias table against the correlation of the traits (issue 11)")
    args = parser.parse_args()
    if args.sigma:
        sigma_table()
        return
    bench_exact_loss()
    bench_identify()
    bias_table([4, 6, 8, 10] if args.quick else [4, 6, 8, 10, 12, 14, 16])
    q_bias_table([3, 4, 5] if args.quick else [3, 4, 5, 6])


if __name__ == "__main__":
    main()
