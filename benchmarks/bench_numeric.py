"""Time vae_loss + vae_loss_grad (numpy) against torch autograd on the CPU, float64.

    python benchmarks/bench_numeric.py [--N 10000] [--n 100] [--K 5] [--repeats 7]

Cases: S = 1 eps draw, nodes = 32 (Gauss-Hermite) and nodes = "auto".  Prints the median
of ``--repeats`` runs (the machine is shared, so medians), the numpy/torch ratio where
torch is importable (the library itself never imports torch), and peak traced memory
of one numpy loss + gradient evaluation (tracemalloc sees numpy's allocations).
"""

import argparse
import statistics
import time
import tracemalloc

import numpy as np

from ml2p_symbolic.numeric import hermite_rule, vae_loss, vae_loss_grad


def median_time(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def numpy_case(U, A, b, mu, log_var, kw):
    def run():
        vae_loss(U, A, b, mu, log_var, **kw)
        vae_loss_grad(U, A, b, mu, log_var, **kw)

    return run


def torch_case(torch, U, A, b, mu, log_var, kw):
    """The same loss written in torch; gradients by autograd (loss forward + backward)."""
    t = {k: torch.tensor(v) for k, v in dict(U=U, A=A, b=b, mu=mu, log_var=log_var).items()}
    if "eps" in kw:
        eps = torch.tensor(kw["eps"])
    else:
        x, w = (torch.tensor(a) for a in hermite_rule(kw["nodes"]))
    softplus = torch.nn.functional.softplus

    def run():
        A_, b_, mu_, lv_ = (t[k].clone().requires_grad_() for k in ("A", "b", "mu", "log_var"))
        kl = -0.5 * (1 + lv_ - mu_ * mu_ - lv_.exp()).sum(dim=1)
        if "eps" in kw:
            theta = mu_ + eps * (0.5 * lv_).exp()  # (S, N, K)
            z = theta @ A_.T - b_
            rec = (softplus(z) - t["U"] * z).sum(dim=2).mean(dim=0)
        else:
            m = mu_ @ A_.T - b_
            s = (lv_.exp() @ (A_ * A_).T).sqrt()
            F = softplus(m[..., None] + s[..., None] * x) @ w
            rec = (F - t["U"] * m).sum(dim=1)
        loss = kl + rec
        loss.sum().backward()
        return loss.detach(), A_.grad, b_.grad, mu_.grad, lv_.grad

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--K", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    N, n, K = args.N, args.n, args.K
    A = np.abs(rng.normal(size=(n, K)))
    b = rng.normal(size=n)
    mu = rng.normal(size=(N, K))
    log_var = rng.normal(-1.0, 0.5, size=(N, K))
    U = (rng.random((N, n)) < 0.5).astype(np.float64)
    cases = [
        ("S=1 eps", {"eps": rng.normal(size=(1, N, K))}),
        ("nodes=32", {"nodes": 32}),
        ("nodes=auto", {"nodes": "auto"}),
    ]
    try:
        import torch

        torch.set_default_dtype(torch.float64)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    except ImportError:
        torch = None
        print("torch not importable: numpy timings only")
    print(f"N={N} n={n} K={K}, median of {args.repeats}, loss + gradient")
    print(f"{'case':<12} {'numpy s':>9} {'torch s':>9} {'ratio':>7} {'peak MiB':>9}")
    for name, kw in cases:
        t_np = median_time(numpy_case(U, A, b, mu, log_var, kw), args.repeats)
        tracemalloc.start()
        numpy_case(U, A, b, mu, log_var, kw)()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        if torch is not None and name != "nodes=auto":
            run = torch_case(torch, U, A, b, mu, log_var, kw)
            loss, gA, gb, gmu, glv = run()
            ref = vae_loss_grad(U, A, b, mu, log_var, **kw)
            agree = max(
                float(np.abs(g.numpy() - ref[k]).max() / (1 + np.abs(ref[k]).max()))
                for k, g in zip(("A", "b", "mu", "log_var"), (gA, gb, gmu, glv))
            )
            assert agree < 1e-9, f"torch and numpy gradients differ ({agree:.1e})"
            t_t = median_time(run, args.repeats)
            print(f"{name:<12} {t_np:9.3f} {t_t:9.3f} {t_np / t_t:7.2f} {peak:9.1f}")
        else:
            print(f"{name:<12} {t_np:9.3f} {'-':>9} {'-':>7} {peak:9.1f}")


if __name__ == "__main__":
    main()
