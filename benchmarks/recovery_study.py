"""Parameter recovery of the numpy ML2P-VAE, beside the published results and deepirtools.

Usage (from the repository root)::

    python benchmarks/recovery_study.py                 # the full study (about 30-60 min here)
    python benchmarks/recovery_study.py --quick         # a smoke run: small N, one seed
    python benchmarks/recovery_study.py --no-deepirtools --no-mml
    python benchmarks/recovery_study.py --estimate-correlation   # Sim-6, Sigma estimated (about 20 min)

Parts:

1. The two published configurations, ``--reps`` seeds each (replications in parallel over the
   CPU cores with concurrent.futures, each seeded):
   - Sim-ECPE-like (Curi et al., IJCNN 2019): N = 10,000, n = 28, K = 3, theta ~ N(0, I), each
     item on one or two traits, every trait >= 3 items, a ~ U(0.25, 1.75), b ~ U(-3, 3);
   - Sim-6 (Converse et al., Machine Learning 2021): N = 20,000, n = 50, K = 6, Q_ik ~
     Bernoulli(0.2), correlated traits with the true covariance given to the fit.
   Ours: the plain ELBO (k = 1) and the importance-weighted bound (k = 5, k = 20). Beside:
   the published numbers; deepirtools' IWAVE (5 importance samples, its defaults; its
   two-category ``grm`` is the 2PL with intercept -b) run on the same data sets when it is
   importable; and the marginal maximum likelihood estimate
   (:func:`ml2p_symbolic.numeric.mml.fit_mml`: EM on the 15^3 tensor Gauss-Hermite grid for
   Sim-ECPE, the adaptive 3^6 rule for Sim-6 with ``--mml-sim6``), the estimator a VAE tends
   to as k grows and the floor set by the data.
2. With ``--estimate-correlation`` (only this part runs): Sim-6 with the latent correlation
   matrix estimated by our fit (``fit(..., estimate_correlation=True)``, k = 1, 5, 20) beside
   deepirtools' IWAVE, which estimates it too (``correlated_factors`` = every factor; its
   ``cov``), on the same data sets: a, b and correlation RMSE (the off-diagonal entries
   against the true Sigma) and seconds; then a sequential head-to-head timing on the first
   seed (one fit at a time, the load average printed with each).
3. The trend with N (1k, 5k, 20k, 50k) on a small design (n = 10, K = 1) where the population
   minimiser of the mean-field (Gaussian-encoder) loss is computable exactly
   (:func:`ml2p_symbolic.population.fit_decoder`): the ELBO's error should level off at the
   population minimiser's bias while the IWAE bound's keeps shrinking.

Writes the plot ``docs/recovery_a.png`` (matplotlib, only here; ``--json-out FILE`` also
saves every result row), and prints markdown tables for ``docs/recovery.md``. Timings are wall-clock seconds on
this machine: medians over seeds; the machine has 2 cores shared with other work, so they
are noisy (the load average is printed).

deepirtools and torch are used by this script only, never by the library.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import io
import json
import os
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # one BLAS thread per worker process

import numpy as np  # noqa: E402

from ml2p_symbolic.numeric.mml import fit_mml  # noqa: E402
from ml2p_symbolic.numeric.simulate import random_correlation, simulate  # noqa: E402
from ml2p_symbolic.numeric.train import fit, recovery  # noqa: E402

PUBLISHED = {
    "sim-ecpe": {"source": "Curi et al. 2019 (ML2P-VAE)", "a_rmse": "0.26-0.35", "b_rmse": "1.67",
                 "theta_rmse": "", "seconds": "17"},
    "sim-6": {"source": "Converse et al. 2021 (ML2P-VAE, true covariance)", "a_rmse": "0.0705",
              "a_corr": "0.9985", "b_rmse": "0.047", "theta_rmse": "0.665", "seconds": "343"},
    "sim-ecpe-deepirtools": {"source": "issue 6: deepirtools IWAVE, k=5, 2 cores", "a_rmse": "0.059",
                             "a_corr": "0.992", "b_rmse": "0.031", "seconds": "52"},
}

CONFIGS = {
    "sim-ecpe": dict(students=10_000, items=28, traits=3, q="ecpe", correlated=False),
    "sim-6": dict(students=20_000, items=50, traits=6, q=0.2, correlated=True),
}

# our training settings for the study (fit()'s defaults otherwise)
OURS = dict(batch_size=256, lr=0.02, hidden=(64,))


def make_data(config, seed):
    """The data set of a configuration and seed (seeded; Sigma drawn first when correlated)."""
    rng = np.random.default_rng(seed)
    c = CONFIGS[config] if isinstance(config, str) else config
    Sigma = random_correlation(c["traits"], low=0.0, high=0.5, seed=rng) if c["correlated"] else None
    return simulate(c["students"], c["items"], c["traits"], q=c["q"], Sigma=Sigma, seed=rng)


def _summary(rec, seconds, **extra):
    out = {f"{p}_{s}": (None if rec.get(p) is None else rec[p][s])
           for p in ("a", "b", "theta", "Sigma") for s in ("rmse", "bias", "corr")}
    out["seconds"] = seconds
    out.update(extra)
    return out


def run_ours(job):
    """Worker: fit our ML2P-VAE to one data set. ``job`` = (config, seed, k, overrides)."""
    config, seed, k, overrides = job
    d = make_data(config, seed)
    kw = dict(OURS, **overrides)
    estimated = kw.get("estimate_correlation", False)
    given = CONFIGS.get(config, {}).get("correlated") and not estimated
    r = fit(d.U, d.Q, iw_samples=k, Sigma=d.Sigma if given else None, seed=seed, quiet=True, **kw)
    out = _summary(recovery(d, r), r.seconds, epochs=r.epochs, best_epoch=r.best_epoch)
    method = f"ours k={k}" + (", Sigma estimated" if estimated else "")
    out.update(config=config, seed=seed, method=method, a_hat=r.A_hat.tolist())
    if estimated:
        out["Sigma_hat"] = r.Sigma_hat.tolist()
    return out


def run_deepirtools(config, seed, k=5):
    """deepirtools' IWAVE with its defaults on the same data; None when not importable."""
    try:
        import warnings

        warnings.filterwarnings("ignore")
        import deepirtools
        import torch
        from deepirtools import IWAVE
    except ImportError:
        return None
    torch.set_num_threads(os.cpu_count() or 1)
    d = make_data(config, seed)
    deepirtools.manual_seed(seed)
    data = torch.tensor(d.U, dtype=torch.float32)
    K = d.Q.shape[1]
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        m = IWAVE(model_type="grm", latent_size=K, n_cats=[2] * d.Q.shape[0],
                  Q=torch.tensor(d.Q, dtype=torch.float32),
                  correlated_factors=list(range(K)) if CONFIGS[config]["correlated"] else [],
                  verbose=False)
        m.fit(data, iw_samples=k)
    seconds = time.perf_counter() - t0
    with contextlib.redirect_stdout(io.StringIO()):
        theta = m.scores(data, iw_samples=1).numpy()  # encoder means, as ours
    A_hat = m.loadings.numpy().astype(float)
    b_hat = -m.intercepts.numpy().astype(float).ravel()
    est = {"A": A_hat, "b": b_hat, "theta": theta}
    if CONFIGS[config]["correlated"]:
        est["Sigma_hat"] = m.cov.numpy().astype(float)  # its estimated factor correlation matrix
    out = _summary(recovery(d, est), seconds)
    out.update(config=config, seed=seed, method=f"deepirtools IWAVE k={k}", a_hat=A_hat.tolist())
    if "Sigma_hat" in est:
        out["Sigma_hat"] = est["Sigma_hat"].tolist()
    return out


def run_mml(job):
    """Worker: the marginal maximum likelihood estimate (library EM, :func:`fit_mml`) on one
    data set; Sim-ECPE uses the 15^3 tensor rule, Sim-6 the adaptive 3^6 rule with the true
    Sigma given, as to our fit."""
    config, seed, *rest = job
    estimated = bool(rest and rest[0])
    d = make_data(config, seed)
    Sigma = d.Sigma if CONFIGS.get(config, {}).get("correlated") and not estimated else None
    r = fit_mml(d.U, d.Q, Sigma=Sigma, estimate_correlation=estimated)
    out = _summary(recovery(d, r), r.seconds, epochs=r.epochs)
    method = f"MML (EM, {r.quadrature})" + (", Sigma estimated" if estimated else "")
    out.update(config=config, seed=seed, method=method, a_hat=r.A_hat.tolist(), converged=r.converged)
    return out


# --------------------------------------------------------------------------- trend with N
TREND = dict(items=10, traits=1)


def run_trend(job):
    """Worker: one fit on the small K = 1 design; errors against the truth and against the
    population minimiser of the Gaussian-encoder loss."""
    N, seed, k, A_pop, b_pop = job
    d = _simulate_given(*_trend_truth(), N, seed)
    r = fit(d.U, d.Q, iw_samples=k, seed=seed, quiet=True, **OURS)
    A_pop, b_pop = np.asarray(A_pop), np.asarray(b_pop)
    return {
        "N": N, "seed": seed, "method": f"ours k={k}", "seconds": r.seconds,
        "a_rmse": float(np.sqrt(np.mean((r.A_hat - d.A) ** 2))),
        "b_rmse": float(np.sqrt(np.mean((r.b_hat - d.b) ** 2))),
        "a_bias": float(np.mean(r.A_hat - d.A)),
        "a_rmse_to_pop": float(np.sqrt(np.mean((r.A_hat - A_pop) ** 2))),
        "b_rmse_to_pop": float(np.sqrt(np.mean((r.b_hat - b_pop) ** 2))),
    }


def _trend_truth():
    """Fixed item parameters of the trend design (seed 7): n = 10, K = 1."""
    t = simulate(1, TREND["items"], 1, seed=7)
    return t.A, t.b


def _simulate_given(A, b, N, seed):
    """Responses from given (A, b): theta ~ N(0, 1), u ~ Bernoulli(sigmoid(theta a - b))."""
    from ml2p_symbolic.numeric.simulate import SimulatedData

    rng = np.random.default_rng(seed)
    theta = rng.standard_normal((N, A.shape[1]))
    P = 0.5 * (1 + np.tanh(0.5 * (theta @ A.T - b)))
    U = (rng.random(P.shape) < P).astype(float)
    return SimulatedData(U=U, Q=(A != 0).astype(int), A=A, b=b, theta=theta, Sigma=np.eye(A.shape[1]))


# --------------------------------------------------------------------------- reporting
def _median(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return float(np.median(vals)) if vals else None


def _fmt(v, digits=3):
    return "" if v is None else f"{v:.{digits}f}"


def table_configs(rows, config):
    lines = [
        "| method | seeds | a RMSE | a bias | a corr | b RMSE | b bias | theta RMSE | theta corr | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    methods = []
    for r in rows:
        if r["config"] == config and r["method"] not in methods:
            methods.append(r["method"])
    for m in methods:
        rs = [r for r in rows if r["config"] == config and r["method"] == m]
        lines.append(
            f"| {m} | {len(rs)} | {_fmt(_median(rs, 'a_rmse'), 4)} | {_fmt(_median(rs, 'a_bias'), 4)} | "
            f"{_fmt(_median(rs, 'a_corr'), 4)} | {_fmt(_median(rs, 'b_rmse'), 4)} | "
            f"{_fmt(_median(rs, 'b_bias'), 4)} | {_fmt(_median(rs, 'theta_rmse'))} | "
            f"{_fmt(_median(rs, 'theta_corr'))} | {_fmt(_median(rs, 'seconds'), 1)} |"
        )
    for key, pub in PUBLISHED.items():
        if key.startswith(config):
            lines.append(
                f"| published: {pub['source']} | | {pub['a_rmse']} | | {pub.get('a_corr', '')} | "
                f"{pub['b_rmse']} | | {pub.get('theta_rmse', '')} | | {pub['seconds']} |"
            )
    return "\n".join(lines)


def table_per_seed(rows, config):
    seeds = sorted({r["seed"] for r in rows if r["config"] == config})
    methods = []
    for r in rows:
        if r["config"] == config and r["method"] not in methods:
            methods.append(r["method"])
    lines = ["| seed | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for s in seeds:
        cells = []
        for m in methods:
            r = next((r for r in rows if r["config"] == config and r["method"] == m and r["seed"] == s), None)
            cells.append("" if r is None else f"{r['a_rmse']:.4f} / {r['b_rmse']:.4f} / {r['seconds']:.0f} s")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table_trend(rows, pop):
    lines = ["| N | method | a RMSE vs truth | a bias | a RMSE vs population minimiser | b RMSE vs truth | seconds |",
             "|---|---|---|---|---|---|---|"]
    for N in sorted({r["N"] for r in rows}):
        for m in sorted({r["method"] for r in rows}):
            rs = [r for r in rows if r["N"] == N and r["method"] == m]
            lines.append(f"| {N} | {m} | {_fmt(_median(rs, 'a_rmse'), 4)} | {_fmt(_median(rs, 'a_bias'), 4)} | "
                         f"{_fmt(_median(rs, 'a_rmse_to_pop'), 4)} | {_fmt(_median(rs, 'b_rmse'), 4)} | "
                         f"{_fmt(_median(rs, 'seconds'), 1)} |")
    if pop is not None:
        lines.append(f"| population (N = inf) | Gaussian-encoder minimiser | {pop['a_rmse']:.4f} | "
                     f"{pop['a_bias']:.4f} | 0 | {pop['b_rmse']:.4f} | |")
        lines.append("| population (N = inf) | exact-posterior minimiser (the truth) | 0 | 0 | | 0 | |")
    return "\n".join(lines)


def plot_a(rows, path, config="sim-ecpe", seed=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seed = min(r["seed"] for r in rows if r["config"] == config) if seed is None else seed
    d = make_data(config, seed)
    mask = d.Q == 1
    picks = [r for r in rows if r["config"] == config and r["seed"] == seed and "a_hat" in r]
    fig, axes = plt.subplots(1, len(picks), figsize=(4 * len(picks), 4), sharex=True, sharey=True)
    axes = np.atleast_1d(axes)
    for ax, r in zip(axes, picks):
        est = np.asarray(r["a_hat"])[mask]
        ax.plot([0, 2], [0, 2], color="0.6", lw=1)
        ax.scatter(d.A[mask], est, s=14)
        ax.set_title(f"{r['method']}\nRMSE {r['a_rmse']:.3f}, {r['seconds']:.0f} s", fontsize=9)
        ax.set_xlabel("true a")
    axes[0].set_ylabel("estimated a")
    fig.suptitle(f"Discriminations, {config} (N = {d.U.shape[0]}, n = {d.U.shape[1]}, "
                 f"K = {d.Q.shape[1]}), seed {seed}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- Sigma estimated
def table_correlation(rows):
    lines = ["| method | seeds | a RMSE | a bias | b RMSE | b bias | correlation RMSE | correlation bias "
             "| theta RMSE | seconds |", "|---|---|---|---|---|---|---|---|---|---|"]
    for m in dict.fromkeys(r["method"] for r in rows):
        rs = [r for r in rows if r["method"] == m]
        lines.append(f"| {m} | {len(rs)} | {_fmt(_median(rs, 'a_rmse'), 4)} | {_fmt(_median(rs, 'a_bias'), 4)} | "
                     f"{_fmt(_median(rs, 'b_rmse'), 4)} | {_fmt(_median(rs, 'b_bias'), 4)} | "
                     f"{_fmt(_median(rs, 'Sigma_rmse'), 4)} | {_fmt(_median(rs, 'Sigma_bias'), 4)} | "
                     f"{_fmt(_median(rs, 'theta_rmse'))} | {_fmt(_median(rs, 'seconds'), 1)} |")
    return "\n".join(lines)


def table_correlation_per_seed(rows):
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = ["| seed | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for s in sorted({r["seed"] for r in rows}):
        cells = []
        for m in methods:
            r = next((r for r in rows if r["method"] == m and r["seed"] == s), None)
            cells.append("" if r is None else f"{r['a_rmse']:.4f} / {r['b_rmse']:.4f} / "
                         f"{r['Sigma_rmse']:.4f} / {r['seconds']:.0f} s")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def correlation_study(args, seeds):
    """Sim-6 with Sigma estimated: ours (k = 1, 5, 20; replications in parallel) and
    deepirtools (alone) on the same data sets, then sequential head-to-head timings."""
    rows = []
    ks = () if args.no_ours else (1, 5, 20)
    with cf.ProcessPoolExecutor(args.workers) as pool:
        if args.mml_sim6:
            for out in pool.map(run_mml, [("sim-6", s, True) for s in seeds]):
                rows.append(out)
                print(f"sim-6 seed {out['seed']} {out['method']}: a {out['a_rmse']:.4f} b {out['b_rmse']:.4f} "
                      f"corr {out['Sigma_rmse']:.4f} {out['seconds']:.1f} s, {out['epochs']} iterations"
                      f"{'' if out['converged'] else ' (not converged)'}", file=sys.stderr, flush=True)
        jobs = [("sim-6", s, k, {"estimate_correlation": True}) for s in seeds for k in ks]
        for out in pool.map(run_ours, jobs):
            rows.append(out)
            print(f"sim-6 seed {out['seed']} {out['method']}: a {out['a_rmse']:.4f} b {out['b_rmse']:.4f} "
                  f"corr {out['Sigma_rmse']:.4f} {out['seconds']:.1f} s (load {os.getloadavg()[0]:.2f})",
                  file=sys.stderr, flush=True)
    if not args.no_deepirtools:
        for s in seeds[: args.deep_reps_sim6]:
            out = run_deepirtools("sim-6", s)
            if out is None:
                print("deepirtools not importable: skipped", file=sys.stderr)
                break
            rows.append(out)
            print(f"sim-6 seed {s} deepirtools: a {out['a_rmse']:.4f} b {out['b_rmse']:.4f} "
                  f"corr {out['Sigma_rmse']:.4f} {out['seconds']:.1f} s (load {os.getloadavg()[0]:.2f})",
                  file=sys.stderr, flush=True)
    timing_rows = []
    for rep in range(0 if args.no_ours else args.timing_reps):
        for method in ("ours k=5", "ours k=20", "deepirtools"):
            load = os.getloadavg()[0]
            if method.startswith("ours"):
                out = run_ours(("sim-6", seeds[0], int(method.split("=")[1]), {"estimate_correlation": True}))
            elif args.no_deepirtools:
                continue
            else:
                out = run_deepirtools("sim-6", seeds[0])
                if out is None:
                    continue
            out.pop("a_hat", None)
            out.update(rep=rep, load=load)
            timing_rows.append(out)
            print(f"timing {out['method']} rep {rep}: {out['seconds']:.1f} s (load before {load:.2f})",
                  file=sys.stderr, flush=True)
    return rows, timing_rows


def print_correlation_tables(rows, timing_rows, seed):
    print("\n### sim-6, Sigma estimated\n")
    print(table_correlation(rows))
    print("\nper seed (a RMSE / b RMSE / correlation RMSE / seconds):\n")
    print(table_correlation_per_seed(rows))
    if timing_rows:
        print(f"\n### sequential timing, sim-6 seed {seed}, Sigma estimated\n")
        print("| method | runs | median seconds | min | max | load (1 min) before each | a RMSE | b RMSE "
              "| correlation RMSE |")
        print("|---|---|---|---|---|---|---|---|---|")
        for m in dict.fromkeys(r["method"] for r in timing_rows):
            rs = [r for r in timing_rows if r["method"] == m]
            t = [r["seconds"] for r in rs]
            loads = ", ".join(f"{r['load']:.2f}" for r in rs)
            print(f"| {m} | {len(rs)} | {np.median(t):.1f} | {min(t):.1f} | {max(t):.1f} | "
                  f"{loads} | {_median(rs, 'a_rmse'):.4f} | "
                  f"{_median(rs, 'b_rmse'):.4f} | {_median(rs, 'Sigma_rmse'):.4f} |")


# --------------------------------------------------------------------------- main
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=5, help="seeds per configuration (default 5)")
    p.add_argument("--first-seed", type=int, default=11, help="seeds are first-seed, first-seed+1, ... (default 11)")
    p.add_argument("--deep-reps", type=int, default=3, help="Sim-ECPE seeds run with deepirtools (default 3)")
    p.add_argument("--deep-reps-sim6", type=int, default=1, help="Sim-6 seeds run with deepirtools (default 1)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--quick", action="store_true", help="small smoke run")
    p.add_argument("--no-deepirtools", action="store_true")
    p.add_argument("--no-mml", action="store_true")
    p.add_argument("--mml-sim6", action="store_true", help="also run MML on Sim-6 (about 1-2 min per seed)")
    p.add_argument("--no-sim6", action="store_true")
    p.add_argument("--no-trend", action="store_true")
    p.add_argument("--timing-reps", type=int, default=3,
                   help="sequential head-to-head timings on the first Sim-ECPE seed (default 3)")
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs"),
                   help="folder for the plot recovery_a.png (default docs/)")
    p.add_argument("--json-out", metavar="FILE", help="also write every result row to FILE as JSON")
    p.add_argument("--estimate-correlation", action="store_true",
                   help="run only the Sim-6 study with Sigma estimated, ours beside deepirtools "
                   "(--deep-reps-sim6 seeds for deepirtools; --timing-reps sequential timings; "
                   "--mml-sim6 adds MML with R estimated)")
    p.add_argument("--no-ours", action="store_true",
                   help="with --estimate-correlation: skip our fits and the timings (e.g. MML only)")
    args = p.parse_args(argv)
    if args.quick:
        CONFIGS["sim-ecpe"]["students"] = 2000
        CONFIGS["sim-6"]["students"] = 2000
        args.reps, args.deep_reps = 1, 1
    seeds = list(range(args.first_seed, args.first_seed + args.reps))
    print(f"load average before: {os.getloadavg()}; cores: {os.cpu_count()}; workers: {args.workers}",
          file=sys.stderr)
    if args.estimate_correlation:
        rows, timing_rows = correlation_study(args, seeds)
        load = os.getloadavg()
        if args.json_out:
            with open(args.json_out, "w") as f:
                json.dump({"rows": rows, "timing": timing_rows, "load_after": load,
                           "ours_settings": {k: list(v) if isinstance(v, tuple) else v for k, v in OURS.items()}},
                          f, indent=1)
        print_correlation_tables(rows, timing_rows, seeds[0])
        print(f"\nload average after: {load}")
        return
    rows, trend_rows, pop = [], [], None
    configs = ["sim-ecpe"] + ([] if args.no_sim6 else ["sim-6"])
    ks = (1, 5, 20)
    with cf.ProcessPoolExecutor(args.workers) as pool:
        jobs = [(c, s, k, {}) for c in configs for s in seeds for k in ks]
        for out in pool.map(run_ours, jobs):
            rows.append(out)
            print(f"{out['config']} seed {out['seed']} {out['method']}: a {out['a_rmse']:.4f} "
                  f"b {out['b_rmse']:.4f} {out['seconds']:.1f} s", file=sys.stderr, flush=True)
        if not args.no_mml:
            mml_configs = ["sim-ecpe"] + (["sim-6"] if args.mml_sim6 and "sim-6" in configs else [])
            for out in pool.map(run_mml, [(c, s) for c in mml_configs for s in seeds]):
                rows.append(out)
                print(f"MML {out['config']} seed {out['seed']}: a {out['a_rmse']:.4f} "
                      f"b {out['b_rmse']:.4f} {out['seconds']:.1f} s", file=sys.stderr, flush=True)
        if not args.no_trend:
            from ml2p_symbolic.population import fit_decoder

            A, b = _trend_truth()
            pfit = fit_decoder(A, b, encoder="gaussian", nodes=64)
            A_pop, b_pop = pfit.A_hat, pfit.b_hat
            pop = {"a_rmse": float(np.sqrt(np.mean((A_pop - A) ** 2))), "a_bias": float(np.mean(A_pop - A)),
                   "b_rmse": float(np.sqrt(np.mean((b_pop - b) ** 2))), "A": A_pop.tolist(), "b": b_pop.tolist()}
            Ns = (1000, 5000) if args.quick else (1000, 5000, 20_000, 50_000)
            reps = 1 if args.quick else 3
            jobs = [(N, s, k, A_pop.tolist(), b_pop.tolist()) for N in Ns for s in range(reps) for k in (1, 20)]
            for out in pool.map(run_trend, jobs):
                trend_rows.append(out)
                print(f"trend N={out['N']} seed {out['seed']} {out['method']}: a {out['a_rmse']:.4f} "
                      f"(to pop {out['a_rmse_to_pop']:.4f})", file=sys.stderr, flush=True)
    if not args.no_deepirtools:
        for c in configs:
            for s in seeds[: args.deep_reps if c == "sim-ecpe" else args.deep_reps_sim6]:
                out = run_deepirtools(c, s)
                if out is None:
                    print("deepirtools not importable: skipped", file=sys.stderr)
                    break
                rows.append(out)
                print(f"{c} seed {s} deepirtools: a {out['a_rmse']:.4f} b {out['b_rmse']:.4f} "
                      f"{out['seconds']:.1f} s", file=sys.stderr, flush=True)
    timing_rows = []
    if args.timing_reps:
        # one fit at a time, nothing else of ours running: ours (1 BLAS thread) vs deepirtools
        # (torch on every core), alternating, on the first seed's data
        for rep in range(args.timing_reps):
            for method in ("ours k=5", "ours k=20", "deepirtools IWAVE k=5"):
                if method.startswith("ours"):
                    out = run_ours(("sim-ecpe", seeds[0], int(method.split("=")[1]), {}))
                elif args.no_deepirtools:
                    continue
                else:
                    out = run_deepirtools("sim-ecpe", seeds[0])
                    if out is None:
                        continue
                out.pop("a_hat", None)
                out.update(rep=rep, load=os.getloadavg()[0])
                timing_rows.append(out)
                print(f"timing {method} rep {rep}: {out['seconds']:.1f} s (load {out['load']:.2f})",
                      file=sys.stderr, flush=True)
    load = os.getloadavg()
    os.makedirs(args.out, exist_ok=True)
    suffix = "_quick" if args.quick else ""
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"rows": rows, "trend": trend_rows, "population": pop, "timing": timing_rows,
                       "load_after": load,
                       "ours_settings": {k: list(v) if isinstance(v, tuple) else v for k, v in OURS.items()}},
                      f, indent=1)
    plot_a(rows, os.path.join(args.out, f"recovery_a{suffix}.png"))
    for c in configs:
        print(f"\n### {c}\n")
        print(table_configs(rows, c))
        print("\nper seed (a RMSE / b RMSE / seconds):\n")
        print(table_per_seed(rows, c))
    if trend_rows:
        print("\n### trend with N (n = 10, K = 1)\n")
        print(table_trend(trend_rows, pop))
    if timing_rows:
        print(f"\n### sequential timing, sim-ecpe seed {seeds[0]}\n")
        print("| method | runs | median seconds | min | max | median load (1 min) | a RMSE | b RMSE |")
        print("|---|---|---|---|---|---|---|---|")
        for m in dict.fromkeys(r["method"] for r in timing_rows):
            rs = [r for r in timing_rows if r["method"] == m]
            t = [r["seconds"] for r in rs]
            print(f"| {m} | {len(rs)} | {np.median(t):.1f} | {min(t):.1f} | {max(t):.1f} | "
                  f"{np.median([r['load'] for r in rs]):.2f} | {_median(rs, 'a_rmse'):.4f} | {_median(rs, 'b_rmse'):.4f} |")
    print(f"\nload average after: {load}")


if __name__ == "__main__":
    main()
