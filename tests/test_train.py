"""Training: the IWAE gradient against finite differences, a short fit that learns,
reproducibility, progress output, recovery()."""

import numpy as np
import pytest

from ml2p_symbolic.errors import ArgumentError, DomainError, ShapeError
from ml2p_symbolic.numeric.model import objective_and_grad
from ml2p_symbolic.numeric.simulate import simulate
from ml2p_symbolic.numeric.train import FitResult, fit, fit_summary, recovery
from numdiff import central_differences


@pytest.mark.parametrize("k", [1, 2, 5])
@pytest.mark.parametrize("correlated", [False, True])
def test_iwae_gradient_matches_central_differences(k, correlated):
    rng = np.random.default_rng(k + 10 * correlated)
    B, n, K = 3, 4, 2
    U = (rng.random((B, n)) < 0.5).astype(float)
    theta = {"A": rng.uniform(0.3, 1.5, (n, K)), "b": rng.normal(size=n),
             "mu": rng.normal(size=(B, K)), "log_var": rng.normal(size=(B, K)) * 0.5 - 0.5}
    eps = rng.standard_normal((k, B, K))
    P = None
    if correlated:
        Sigma = np.array([[1.0, 0.4], [0.4, 1.0]])
        P = np.linalg.inv(Sigma)
    kw = dict(precision=P, logdet_precision=0.0 if P is None else np.log(np.linalg.det(P)), iw=True)

    def f():
        return objective_and_grad(U, theta["A"], theta["b"], theta["mu"], theta["log_var"], eps,
                                  want_grad=False, **kw)[0].sum()

    _, grads = objective_and_grad(U, theta["A"], theta["b"], theta["mu"], theta["log_var"], eps, **kw)
    numerics = central_differences(f, list(theta.values()), h=1e-6)
    for (name, x), numeric in zip(theta.items(), numerics):
        err = np.max(np.abs(numeric - grads[name])) / max(np.max(np.abs(grads[name])), 1.0)
        assert err < 1e-6, name


def test_iwae_value_is_minus_log_mean_weight():
    rng = np.random.default_rng(3)
    U = np.array([[1.0, 0.0, 1.0]])
    A, b = np.array([[1.0], [0.5], [2.0]]), np.array([0.0, 0.3, -0.2])
    mu, lv = np.array([[0.2]]), np.array([[-0.4]])
    eps = rng.standard_normal((4, 1, 1))
    z = mu + np.exp(lv / 2) * eps[:, 0]
    p = 1 / (1 + np.exp(-(z @ A.T - b)))
    log_lik = (U * np.log(p) + (1 - U) * np.log(1 - p)).sum(axis=1)
    log_prior = -0.5 * z[:, 0] ** 2 - 0.5 * np.log(2 * np.pi)
    log_q = -0.5 * eps[:, 0, 0] ** 2 - 0.5 * np.log(2 * np.pi) - lv[0, 0] / 2
    expected = -np.log(np.mean(np.exp(log_lik + log_prior - log_q)))
    got = objective_and_grad(U, A, b, mu, lv, eps, iw=True, want_grad=False)[0]
    assert np.allclose(got, expected, rtol=1e-12)


@pytest.fixture(scope="module")
def small_data():
    return simulate(3000, 15, 3, seed=1)


@pytest.mark.parametrize("k", [1, 5])
def test_short_fit_improves_the_loss_and_recovers_a(small_data, k):
    d = small_data
    r = fit(d.U, d.Q, iw_samples=k, epochs=40, seed=0, quiet=True)
    assert isinstance(r, FitResult) and r.iw_samples == k
    assert r.curve[-1][1] < r.curve[0][1] and min(c[2] for c in r.curve) < r.curve[0][2]
    assert np.all(r.A_hat[d.Q == 0] == 0) and np.all(r.A_hat >= 0)
    rec = recovery(d, r)
    assert rec["a"]["rmse"] < 0.3 and rec["a"]["corr"] > 0.9  # loose: the ELBO shrinks a
    assert rec["b"]["rmse"] < 0.3 and rec["theta"]["corr"] > 0.5
    assert r.theta_hat.shape == d.theta.shape and np.all(r.theta_sd > 0)


def test_fit_is_reproducible_and_seed_matters(small_data):
    d = small_data
    r1 = fit(d.U, d.Q, epochs=2, seed=4, quiet=True)
    r2 = fit(d.U, d.Q, epochs=2, seed=np.random.default_rng(4), quiet=True)
    r3 = fit(d.U, d.Q, epochs=2, seed=5, quiet=True)
    assert np.array_equal(r1.A_hat, r2.A_hat) and np.array_equal(r1.theta_hat, r2.theta_hat)
    assert not np.array_equal(r1.A_hat, r3.A_hat)


def test_refit_uses_all_students_for_the_chosen_number_of_epochs(small_data):
    d = small_data
    r = fit(d.U[:1000], d.Q, epochs=6, seed=0, quiet=True)
    assert r.refit_epochs == r.best_epoch >= 1
    r0 = fit(d.U[:1000], d.Q, epochs=6, seed=0, quiet=True, refit=False)
    assert r0.refit_epochs == 0 and r0.best_epoch == r.best_epoch
    assert not np.array_equal(r.A_hat, r0.A_hat)
    assert fit(d.U[:1000], d.Q, epochs=2, holdout=0.0, seed=0, quiet=True).refit_epochs == 0


def test_fit_with_missing_responses_and_correlated_prior(small_data):
    d = small_data
    U = d.U.copy()
    U[np.random.default_rng(0).random(U.shape) < 0.1] = np.nan
    r = fit(U, d.Q, Sigma=np.full((3, 3), 0.3) + 0.7 * np.eye(3), epochs=3, holdout=0.0, seed=0, quiet=True)
    assert np.all(np.isfinite(r.A_hat)) and np.all(np.isfinite(r.theta_hat))
    assert r.epochs == 3 and all(np.isnan(c[2]) for c in r.curve)


def test_progress_on_stderr_unless_quiet(small_data, capsys):
    d = small_data
    fit(d.U[:300], d.Q, epochs=2, seed=0, quiet=True)
    assert capsys.readouterr().err == ""
    fit(d.U[:300], d.Q, epochs=2, seed=0)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "#" in err
    seen = []
    fit(d.U[:300], d.Q, epochs=2, seed=0, progress=lambda *a: seen.append(a))
    assert [s[0] for s in seen] == [1, 2] and capsys.readouterr().err == ""


def test_recovery_values():
    true = {"A": np.array([[1.0, 0.0], [0.5, 2.0]]), "b": np.array([0.0, 1.0]),
            "theta": np.array([[0.0, 1.0], [1.0, 0.0]]), "Q": np.array([[1, 0], [1, 1]])}
    est = {"A_hat": np.array([[1.3, 0.0], [0.5, 2.0]]), "b_hat": np.array([0.2, 1.2]),
           "theta_hat": np.array([[0.0, 1.0], [1.0, 0.0]])}
    rec = recovery(true, est)
    assert rec["a"]["rmse"] == pytest.approx(np.sqrt(0.09 / 3)) and rec["a"]["bias"] == pytest.approx(0.1)
    assert rec["b"] == {"rmse": pytest.approx(0.2), "bias": pytest.approx(0.2), "corr": pytest.approx(1.0)}
    assert rec["theta"]["rmse"] == 0.0 and rec["theta"]["corr"] == pytest.approx(1.0)


def test_bad_fit_arguments_raise(small_data):
    d = small_data
    with pytest.raises(DomainError, match="iw_samples"):
        fit(d.U, d.Q, iw_samples=0)
    with pytest.raises(ShapeError, match="one row per item"):
        fit(d.U, d.Q[:5])
    with pytest.raises(DomainError, match="0, 1 or NaN"):
        fit(d.U * 2, d.Q)
    with pytest.raises(DomainError, match="holdout"):
        fit(d.U, d.Q, holdout=1.0)


@pytest.mark.parametrize("kw, match", [
    ({"lr": -1.0}, "lr must be a positive number; got -1.0"),
    ({"lr": float("nan")}, "lr must be a positive number; got nan"),
    ({"epochs": 0}, "epochs must be a positive integer; got 0"),
    ({"batch_size": np.int64(0)}, "batch_size must be a positive integer; got 0"),
    ({"hidden": (8, 0)}, "hidden must be one or more positive integer widths; got 8,0"),
    ({"hidden": ()}, "hidden must be one or more positive integer widths"),
    ({"holdout": -0.1}, r"holdout must be a fraction in \[0, 1\); got -0.1"),
    ({"seed": -1}, "seed must be an int >= 0, a numpy Generator or None; got -1"),
])
def test_every_numeric_option_is_validated_before_work(small_data, kw, match):
    with pytest.raises(DomainError, match=match):
        fit(small_data.U, small_data.Q, quiet=True, **kw)


def test_an_item_nobody_answered_is_named_not_reported_as_divergence(small_data):
    U = small_data.U[:200].copy()
    U[:, 4] = np.nan
    with pytest.raises(DomainError, match=r"item 5 \(column of the responses, counted from 1\) was "
                                          r"answered by no student"):
        fit(U, small_data.Q, epochs=2, quiet=True)


def test_an_item_answered_only_by_held_out_students_trains(small_data):
    """Its training column is all missing; the initial b must not be NaN (no warning)."""
    U = small_data.U[:60].copy()
    U[1:, 2] = np.nan  # only student 0 answered item 3
    for seed in range(4):
        r = fit(U, small_data.Q, epochs=2, holdout=0.5, quiet=True, seed=seed)
        assert np.all(np.isfinite(r.b_hat)) and np.all(np.isfinite(r.theta_hat))


def test_memory_estimated_and_refused_with_the_figure_before_training(small_data, monkeypatch):
    from ml2p_symbolic.errors import ResourceError
    from ml2p_symbolic.numeric.train import fit_bytes

    monkeypatch.setenv("ML2P_MEMORY_LIMIT", "1GB")
    need = fit_bytes(3000, 15, 3, iw_samples=1_000_000)
    assert need > 1e9
    with pytest.raises(ResourceError, match=r"iw_samples=1000000 needs about \d+ (GB|TB) of memory; "
                                            r"the limit is 1\.0 GB"):
        fit(small_data.U, small_data.Q, iw_samples=1_000_000, quiet=True,
            progress=lambda *a: pytest.fail("training started"))


# --------------------------------------------------------------------------- issue 11: R estimated
@pytest.fixture(scope="module")
def correlated_data():
    """N = 3000 students, 20 items, K = 2 traits correlated rho = 0.6."""
    return simulate(3000, 20, 2, Sigma=np.array([[1.0, 0.6], [0.6, 1.0]]), seed=3)


@pytest.mark.parametrize("k", [1, 5])
def test_estimated_correlation_recovers_rho(correlated_data, k):
    d = correlated_data
    r = fit(d.U, d.Q, iw_samples=k, estimate_correlation=True, batch_size=128, lr=0.02, seed=0, quiet=True)
    R = r.Sigma_hat
    assert R.shape == (2, 2) and np.all(np.diag(R) == 1.0) and R[0, 1] == R[1, 0]
    # rho = 0.6; the marginal likelihood profiled over rho (fit_mml with Sigma fixed) peaks
    # at 0.55 on this data set, standard error 0.03; a fit that left R at I (0) or moved it
    # the wrong way fails this
    assert abs(R[0, 1] - 0.6) < 0.15
    rec = recovery(d, r)
    assert rec["Sigma"]["rmse"] == pytest.approx(abs(R[0, 1] - 0.6))
    assert rec["Sigma"]["bias"] == pytest.approx(R[0, 1] - 0.6)
    assert rec["a"]["rmse"] < 0.3 and np.array_equal(r.model.Sigma, R)


def test_correlation_not_estimated_without_the_flag(correlated_data):
    d = correlated_data
    r = fit(d.U[:500], d.Q, epochs=2, seed=0, quiet=True)
    assert r.Sigma_hat is None and r.model.corr is None
    assert "Sigma" not in recovery(d, {"A": r.A_hat, "b": r.b_hat, "theta": None})
    assert fit_summary(r)["Sigma_hat"] is None
    r = fit(d.U[:500], d.Q, epochs=2, seed=0, quiet=True, estimate_correlation=True)
    assert fit_summary(r, None)["Sigma_hat"] == r.Sigma_hat.tolist()


def test_estimate_correlation_with_sigma_or_one_trait_is_refused(correlated_data):
    d = correlated_data
    with pytest.raises(ArgumentError, match="give one or the other"):
        fit(d.U, d.Q, Sigma=np.eye(2), estimate_correlation=True, quiet=True,
            progress=lambda *a: pytest.fail("training started"))
    with pytest.raises(DomainError, match="K >= 2"):
        fit(d.U, np.ones((20, 1), int), estimate_correlation=True, quiet=True)


def test_correlation_recovery_over_the_off_diagonal_entries():
    true = {"A": np.eye(3), "b": np.zeros(3), "theta": None,
            "Sigma": np.array([[1.0, 0.2, 0.4], [0.2, 1.0, 0.0], [0.4, 0.0, 1.0]])}
    est = {"A": np.eye(3), "b": np.zeros(3), "theta": None,
           "Sigma_hat": np.array([[1.0, 0.3, 0.4], [0.3, 1.0, -0.2], [0.4, -0.2, 1.0]])}
    rec = recovery(true, est)["Sigma"]
    assert rec["rmse"] == pytest.approx(np.sqrt((0.01 + 0.04) / 3))
    assert rec["bias"] == pytest.approx(-0.1 / 3)
    assert rec["corr"] == pytest.approx(np.corrcoef([0.2, 0.4, 0.0], [0.3, 0.4, -0.2])[0, 1])
