"""Marginal maximum likelihood by EM: recovery, stationarity of the quadrature likelihood at
the estimate, the adaptive rule against the tensor rule, missing responses, EAP abilities,
bad input, and `ml2p-proof fit --method mml`."""

import json

import numpy as np
import pytest

from ml2p_symbolic.cli import main
from ml2p_symbolic.errors import DomainError, ShapeError
from ml2p_symbolic.numeric.data import write_estimates
from ml2p_symbolic.numeric.mml import fit_mml, marginal_loglik, mml_plan
from ml2p_symbolic.numeric.simulate import simulate
from ml2p_symbolic.numeric.train import FitResult, fit_summary, recovery
from numdiff import central_differences


def _trapezoid(y, t):
    """The trapezoidal rule on a uniform grid (numpy's name for it changed in 2.0)."""
    return float((y[1:] + y[:-1]).sum() * (t[1] - t[0]) / 2)


@pytest.fixture(scope="module")
def two_traits():
    """N = 3000, n = 12, K = 2 (Sim-ECPE-like Q), and its tensor-rule MML fit."""
    d = simulate(3000, 12, 2, seed=2)
    return d, fit_mml(d.U, d.Q)


def test_recovers_the_parameters(two_traits):
    d, r = two_traits
    assert isinstance(r, FitResult) and r.method == "mml" and r.converged
    rec = recovery(d, r)
    # sampling error at N = 3000 is about 0.06-0.12; the starting point (a = 1, b = 0) is
    # at 0.4 and 1.7, so an EM that does not move (or moves the wrong way) fails here
    assert rec["a"]["rmse"] < 0.15 and rec["b"]["rmse"] < 0.15
    assert rec["a"]["corr"] > 0.95 and rec["b"]["corr"] > 0.99
    assert np.all(r.A_hat[d.Q == 0] == 0)
    # the log-likelihood never decreases on the shared grid (EM's ascent property)
    neg_ll = np.array([row[1] for row in r.curve])
    assert np.all(np.diff(neg_ll) <= 1e-9 * np.abs(neg_ll[1:]))
    # EAP abilities: correlated with the truth, shrunk towards 0, with posterior sds < 1
    assert rec["theta"]["corr"] > 0.7
    assert r.theta_hat.std() < d.theta.std()
    assert np.all((r.theta_sd > 0.1) & (r.theta_sd < 1.0))


def test_the_estimate_is_a_stationary_point_of_the_marginal_likelihood():
    d = simulate(800, 6, 1, seed=4)
    r = fit_mml(d.U, d.Q, nodes=21, tol=1e-10)
    A, b = r.A_hat.copy(), r.b_hat.copy()

    def ll():
        return marginal_loglik(d.U, A, b, nodes=21)

    grad_A, grad_b = central_differences(ll, [A, b], h=1e-5)
    assert np.abs(grad_A).max() < 1e-3 and np.abs(grad_b).max() < 1e-3
    # and a point 0.1 away is not stationary (the check can fail)
    A += 0.1
    grad_A, _ = central_differences(ll, [A, b], h=1e-5)
    assert np.abs(grad_A).max() > 1.0
    # the estimate has the highest likelihood among nearby points
    A -= 0.1
    best = ll()
    rng = np.random.default_rng(0)
    for _ in range(5):
        dA, db = rng.normal(0, 0.02, A.shape), rng.normal(0, 0.02, b.shape)
        assert marginal_loglik(d.U, A + dA, b + db, nodes=21) < best


def test_marginal_loglik_against_a_fine_grid():
    rng = np.random.default_rng(1)
    U = (rng.random((5, 4)) < 0.5).astype(float)
    U[0, 1] = np.nan
    A = rng.uniform(0.5, 2.0, (4, 1))
    b = rng.normal(size=4)
    t = np.linspace(-12, 12, 48001)
    phi = np.exp(-t * t / 2) / np.sqrt(2 * np.pi)
    total = 0.0
    for u in U:
        logp = np.zeros_like(t)
        for i in np.flatnonzero(~np.isnan(u)):
            eta = A[i, 0] * t - b[i]
            logp += u[i] * eta - np.logaddexp(0, eta)
        total += np.log(_trapezoid(np.exp(logp) * phi, t))
    assert abs(marginal_loglik(U, A, b, nodes=80) - total) < 1e-9


def test_adaptive_rule_agrees_with_the_tensor_rule(two_traits):
    d, r = two_traits
    ra = fit_mml(d.U[:1500], d.Q, rule="adaptive", nodes=5)
    rt = fit_mml(d.U[:1500], d.Q, nodes=21)
    assert ra.quadrature == "adaptive 5^2 = 25 points per student"
    # sampling error here is about 0.1; the two quadratures agree far closer
    assert np.abs(ra.A_hat - rt.A_hat).max() < 0.02 and np.abs(ra.b_hat - rt.b_hat).max() < 0.02
    assert np.abs(ra.theta_hat - rt.theta_hat).max() < 0.02
    assert np.abs(ra.theta_sd - rt.theta_sd).max() < 0.02


def test_correlated_prior_given_to_both_rules():
    Sigma = np.array([[1.0, 0.5], [0.5, 1.0]])
    d = simulate(1500, 10, 2, seed=6, Sigma=Sigma)
    rt = fit_mml(d.U, d.Q, Sigma=Sigma, nodes=21)
    # the axis-aligned adaptive grid needs more nodes for a correlated posterior (an item
    # with slopes 1.7 and 0.7 on traits correlated 0.5): 9 nodes agree with the tensor rule
    ra = fit_mml(d.U, d.Q, Sigma=Sigma, rule="adaptive", nodes=9)
    assert np.abs(ra.A_hat - rt.A_hat).max() < 0.03
    ll = [marginal_loglik(d.U, r.A_hat, r.b_hat, nodes=41, Sigma=Sigma) for r in (rt, ra)]
    assert abs(ll[0] - ll[1]) < 0.01
    # ignoring the correlation moves the estimate by more than the rules differ
    ri = fit_mml(d.U, d.Q, nodes=21)
    assert np.abs(ri.A_hat - rt.A_hat).max() > 0.05


def test_missing_responses():
    d = simulate(3000, 12, 2, seed=2)
    U = d.U.copy()
    rng = np.random.default_rng(0)
    U[rng.random(U.shape) < 0.2] = np.nan
    r = fit_mml(U, d.Q)
    rec = recovery(d, r)
    assert rec["a"]["rmse"] < 0.2 and rec["b"]["rmse"] < 0.2
    ra = fit_mml(U[:1000], d.Q, rule="adaptive", nodes=5)
    rt = fit_mml(U[:1000], d.Q, nodes=21)
    assert np.abs(ra.A_hat - rt.A_hat).max() < 0.03
    # a missing response is left out of the likelihood: a column missing for every
    # student gives the likelihood of the other items
    A, b = d.A, d.b
    V = d.U[:200].copy()
    V[:, -1] = np.nan
    assert marginal_loglik(V, A, b) == pytest.approx(marginal_loglik(d.U[:200, :-1], A[:-1], b[:-1]), abs=1e-9)


def test_eap_against_a_fine_grid_for_one_trait():
    d = simulate(300, 8, 1, seed=9)
    r = fit_mml(d.U, d.Q, nodes=61)
    t = np.linspace(-10, 10, 20001)
    for j in (0, 7, 123):
        eta = np.outer(t, r.A_hat[:, 0]) - r.b_hat
        logp = (d.U[j] * eta - np.logaddexp(0, eta)).sum(axis=1) - t * t / 2
        w = np.exp(logp - logp.max())
        mean = _trapezoid(w * t, t) / _trapezoid(w, t)
        sd = np.sqrt(_trapezoid(w * (t - mean) ** 2, t) / _trapezoid(w, t))
        assert r.theta_hat[j, 0] == pytest.approx(mean, abs=1e-6)
        assert r.theta_sd[j, 0] == pytest.approx(sd, abs=1e-6)


def test_six_traits_use_the_adaptive_rule_and_recover():
    d = simulate(400, 18, 6, q=0.2, seed=1)
    plan = mml_plan(400, d.Q)
    assert (plan["rule"], plan["nodes"], plan["points"]) == ("adaptive", 3, 729)
    r = fit_mml(d.U, d.Q, tol=1e-2)
    assert r.quadrature == "adaptive 3^6 = 729 points per student"
    assert recovery(d, r)["b"]["rmse"] < 0.5  # N = 400: a rough estimate, but an estimate


def test_summary_and_estimate_files_work_unchanged(two_traits, tmp_path):
    d, r = two_traits
    s = fit_summary(r, d)
    assert s["method"] == "mml" and s["iw_samples"] is None and s["converged"] is True
    assert s["epochs"] == len(r.curve) and s["train_loss"] == r.curve[-1][1]
    paths = write_estimates(tmp_path / "est", r)
    assert (tmp_path / "est" / "theta_hat.csv").read_text().count("\n") == 3001
    assert len(paths) == 4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(rule="sparse"), "rule must be 'auto', 'tensor' or 'adaptive'"),
        (dict(rule="adaptive", nodes=2), "at least 3 nodes"),
        (dict(nodes=0), "nodes must be a positive int"),
        (dict(tol=0), "tol must be a positive number"),
        (dict(max_iter=0), "max_iter must be a positive int"),
        (dict(rule="tensor", nodes=15, max_work=1e4), "above the limit max_work"),
        (dict(Sigma=np.eye(3)), "Sigma must have shape (2, 2)"),
    ],
)
def test_bad_arguments(kwargs, message):
    d = simulate(100, 6, 2, seed=0)
    with pytest.raises((DomainError, ShapeError)) as info:
        fit_mml(d.U, d.Q, **kwargs)
    assert message in str(info.value)


def test_items_without_a_finite_estimate_are_refused():
    d = simulate(100, 6, 2, seed=0)
    U = d.U.copy()
    U[:, 2] = 1.0
    with pytest.raises(DomainError, match=r"item\(s\) 3: every observed response is the same"):
        fit_mml(U, d.Q)
    U[:, 2] = np.nan
    with pytest.raises(DomainError, match=r"item 3 \(column of the responses, counted from 1\) was answered by no student"):
        fit_mml(U, d.Q)


def test_the_cost_is_stated_before_any_work():
    Q = np.ones((50, 4), dtype=int)
    with pytest.raises(DomainError) as info:
        mml_plan(20_000, Q, rule="tensor")
    msg = str(info.value)
    assert "15^4 = 50625 points" in msg and "5.06e+10" in msg and "rule='adaptive'" in msg


def test_cli_fit_method_mml(capsys, tmp_path):
    base = ["fit", "--method", "mml", "--students", "400", "--items", "9", "--traits", "3", "--seed", "1"]
    assert main(base + ["--json", "--nodes", "7"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "mml" and out["quadrature"] == "tensor 7^3 = 343 points"
    assert set(out["recovery"]) == {"a", "b", "theta"} and out["students"] == 400
    assert main(base + ["--quiet", "--nodes", "7", "--out", str(tmp_path / "est")]) == 0
    text = capsys.readouterr().out
    assert text.startswith("MML fit (EM, tensor 7^3 = 343 points)") and "theta" in text
    assert (tmp_path / "est" / "a_hat.csv").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--method", "mml", "--iw-samples", "5"], "--iw-samples train the VAE"),
        (["--method", "mml", "--no-refit"], "--no-refit train the VAE"),
        (["--nodes", "5"], "options of --method mml"),
        (["--method", "mml", "--nodes", "2", "--quadrature", "adaptive"], "at least 3 nodes"),
    ],
)
def test_cli_fit_method_mml_bad_options(capsys, extra, message):
    assert main(["fit", "--students", "100", "--items", "9", "--quiet"] + extra) == 2
    err = capsys.readouterr().err
    assert "ml2p-proof fit: error:" in err and message in err


# --------------------------------------------------------------------------- issue 11: R estimated
def test_estimated_correlation_is_the_maximum_of_the_profile_likelihood():
    """The PX-EM estimate of R maximises the marginal likelihood over rho too: refitting
    (A, b) with Sigma fixed at R_hat +- 0.05 gives a lower log-likelihood, and with Sigma
    fixed at R_hat the same (A, b)."""
    Sigma = np.array([[1.0, 0.6], [0.6, 1.0]])
    d = simulate(2000, 14, 2, seed=4, Sigma=Sigma)  # four items on each trait alone
    r = fit_mml(d.U, d.Q, estimate_correlation=True, nodes=15)
    rho = r.Sigma_hat[0, 1]
    assert r.converged and r.Sigma_hat.shape == (2, 2) and np.all(np.diag(r.Sigma_hat) == 1.0)
    assert 0.35 < rho < 0.85
    lls = []
    for rho_fixed in (rho - 0.05, rho, rho + 0.05):
        S = np.array([[1.0, rho_fixed], [rho_fixed, 1.0]])
        rf = fit_mml(d.U, d.Q, Sigma=S, nodes=15)
        lls.append(marginal_loglik(d.U, rf.A_hat, rf.b_hat, nodes=15, Sigma=S))
        if rho_fixed == rho:
            assert np.abs(rf.A_hat - r.A_hat).max() < 0.02  # EM stops at tol on a flat ridge
    assert lls[1] > lls[0] and lls[1] > lls[2]
    assert recovery(d, r)["Sigma"]["rmse"] == pytest.approx(abs(rho - 0.6))
    assert fit_mml(d.U, d.Q, nodes=7).Sigma_hat is None


def test_estimated_correlation_adaptive_rule_agrees_with_the_tensor_rule():
    d = simulate(1000, 12, 2, seed=4, Sigma=np.array([[1.0, 0.5], [0.5, 1.0]]))
    rt = fit_mml(d.U, d.Q, estimate_correlation=True, nodes=15)
    ra = fit_mml(d.U, d.Q, estimate_correlation=True, rule="adaptive", nodes=7)
    assert rt.converged and ra.converged
    # sampling error of rho here is about 0.04; the rules agree far closer
    assert abs(rt.Sigma_hat[0, 1] - ra.Sigma_hat[0, 1]) < 0.005
    assert np.abs(ra.A_hat - rt.A_hat).max() < 0.01


def test_estimated_correlation_with_sigma_or_one_trait_is_refused():
    from ml2p_symbolic.errors import ArgumentError

    d = simulate(200, 9, 3, seed=0)
    with pytest.raises(ArgumentError, match="give one or the other"):
        fit_mml(d.U, d.Q, Sigma=np.eye(3), estimate_correlation=True)
    d1 = simulate(200, 5, 1, seed=0)
    with pytest.raises(DomainError, match="K >= 2"):
        fit_mml(d1.U, d1.Q, estimate_correlation=True)
