"""Training an ML2P-VAE with minibatch Adam, and measuring parameter recovery.

:func:`fit` minimises, over the encoder weights and the decoder's (A, b), the mean over
students of either

- the seed's plain ELBO loss with one reparameterised draw (``iw_samples=1``, the default):
  L_j = -log p(u_j | z_j) + KL(q(theta | u_j) || N(0, Sigma)), z_j = mu_j + sigma_j eps_j; or
- the importance-weighted bound with k draws (``iw_samples=k > 1``, Burda et al. 2016;
  the IWAVE of Urban & Bauer 2021): L_j = -log (1/k) sum_s w_sj, whose gradient is the
  softmax-normalised weights w~_sj times the per-draw reparameterised gradients of
  log w_sj (see :func:`~ml2p_symbolic.numeric.model.objective_and_grad`).

Adam (Kingma & Ba 2015) with bias correction, a learning rate that decays as
lr / (1 + epoch / lr_half_life) (halved after ``lr_half_life`` epochs), projection onto
the constraints after each step (A_ik = 0 where Q_ik = 0; A >= 0), and early stopping on a
held-out split of the students: when the held-out loss (the same objective, evaluated
with fixed draws) has not improved for ``patience`` epochs the learning rate is cut, and
after ``plateaus`` cuts training stops at the best epoch. With ``refit=True`` (the default)
a fresh model is then trained on all students for that many epochs with the same learning
rates, so that no data are left out of the estimates.

With the Q-mask, non-negative A and the N(0, I) prior the latent scale and sign are fixed,
so estimates are compared with the truth directly (:func:`recovery`), with no rotation.
"""

from __future__ import annotations

import math
import numbers
import sys
import time
from dataclasses import dataclass

import numpy as np

from ..errors import DomainError, ShapeError
from .budget import check_memory
from .correlation import check_estimate_correlation
from .model import ML2PVAE
from .validate import as_generator, check_responses, plain

__all__ = ["FitResult", "fit", "fit_summary", "recovery", "progress_bar", "check_fit_options",
           "fit_bytes", "check_holdout"]


@dataclass(frozen=True, eq=False)
class FitResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    A_hat : (n, K) estimated discriminations (0 where Q is 0).
    b_hat : (n,) estimated difficulties.
    theta_hat : (N, K) encoder means mu_j for every student (the ability estimates).
    theta_sd : (N, K) encoder standard deviations exp(log_var_j / 2).
    curve : tuple of (epoch, train_loss, holdout_loss) per epoch (mean loss per student;
        holdout_loss is NaN without a held-out split).
    seconds : wall-clock time of the fit.
    epochs : number of epochs run.
    best_epoch : the epoch whose parameters are returned.
    iw_samples : k (1 = the plain ELBO).
    refit_epochs : epochs of the refit on all students (0 without ``refit``).
    model : the fitted :class:`~ml2p_symbolic.numeric.model.ML2PVAE` (None for MML).
    method : ``"vae"`` (:func:`fit`) or ``"mml"``
        (:func:`~ml2p_symbolic.numeric.mml.fit_mml`, where theta_hat and theta_sd are
        posterior means and standard deviations, and curve rows are (EM iteration,
        -loglik/N, NaN)).
    quadrature : the MML quadrature rule, e.g. ``"tensor 15^3 = 3375 points"`` (None for
        the VAE).
    converged : False when MML stopped at ``max_iter`` (always True for the VAE).
    Sigma_hat : (K, K) the estimated latent correlation matrix R (``estimate_correlation``),
        ``None`` when the prior was fixed.
    """

    A_hat: np.ndarray
    b_hat: np.ndarray
    theta_hat: np.ndarray
    theta_sd: np.ndarray
    curve: tuple
    seconds: float
    epochs: int
    best_epoch: int
    iw_samples: int
    model: ML2PVAE
    refit_epochs: int = 0
    method: str = "vae"
    quadrature: str = None
    converged: bool = True
    Sigma_hat: np.ndarray = None


def progress_bar(epoch, epochs, train_loss, holdout_loss, *, file=None, width=30):
    """Draw a one-line progress bar on stderr (``\\r``-updated)."""
    file = sys.stderr if file is None else file
    done = int(width * epoch / max(epochs, 1))
    hold = "" if np.isnan(holdout_loss) else f"  holdout {holdout_loss:.4f}"
    print(f"\r[{'#' * done}{'.' * (width - done)}] epoch {epoch}/{epochs}  loss {train_loss:.4f}{hold}",
          end="", file=file, flush=True)


class _Adam:
    """Adam with bias correction over a list of arrays updated in place."""

    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = params
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0

    def step(self, grads, lr):
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        step = lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            p -= step * m / (np.sqrt(v) + self.eps)


_FIT_OPTION_NAMES = {name: name for name in (
    "iw_samples", "epochs", "batch_size", "lr", "lr_half_life", "hidden", "holdout", "patience",
    "plateaus", "plateau_factor", "seed")}


def _positive_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)) and value >= 1


def check_fit_options(*, iw_samples=1, epochs=200, batch_size=128, lr=0.01, lr_half_life=20.0,
                      hidden=(64,), holdout=0.1, patience=5, plateaus=3, plateau_factor=0.3,
                      seed=0, names=None):
    """Validate the numeric options of :func:`fit`, before any work; raise
    :class:`~ml2p_symbolic.errors.DomainError` naming the first bad one.

    Integers >= 1: ``iw_samples``, ``epochs``, ``batch_size``, ``patience`` and each width
    of ``hidden`` (a non-empty sequence); ``plateaus`` >= 0; finite reals: ``lr`` > 0,
    ``lr_half_life`` > 0, ``holdout`` in [0, 1), ``plateau_factor`` in (0, 1]; ``seed`` an
    int >= 0, a numpy ``Generator`` or ``None``. ``names`` maps a parameter to the name the
    message uses (the CLI passes ``{"lr": "--lr", ...}``).

    >>> check_fit_options(lr=-1.0, names={"lr": "--lr"})
    Traceback (most recent call last):
    ...
    ml2p_symbolic.errors.DomainError: --lr must be a positive number; got -1.0
    """
    label = dict(_FIT_OPTION_NAMES, **(names or {}))

    def bad(name, expected, value):
        return DomainError(f"{label[name]} must be {expected}; got {plain(value)}")

    for name, value in (("iw_samples", iw_samples), ("epochs", epochs), ("batch_size", batch_size),
                        ("patience", patience)):
        if not _positive_int(value):
            raise bad(name, "a positive integer", value)
    if not (isinstance(plateaus, numbers.Integral) and plateaus >= 0):
        raise bad("plateaus", "an integer >= 0", plateaus)
    try:
        widths = tuple(hidden)
    except TypeError:
        widths = None
    if not widths or not all(_positive_int(w) for w in widths):
        shown = ",".join(map(plain, widths)) if widths else plain(hidden)
        raise DomainError(f"{label['hidden']} must be one or more positive integer widths; got {shown}")
    for name, value, ok, expected in (
        ("lr", lr, lambda v: v > 0, "a positive number"),
        ("lr_half_life", lr_half_life, lambda v: v > 0, "a positive number"),
        ("holdout", holdout, lambda v: 0 <= v < 1, "a fraction in [0, 1)"),
        ("plateau_factor", plateau_factor, lambda v: 0 < v <= 1, "a number in (0, 1]"),
    ):
        if not (isinstance(value, numbers.Real) and math.isfinite(value) and ok(value)):
            raise bad(name, expected, value)
    try:
        as_generator(seed, label["seed"])
    except DomainError:
        expected = ("an integer >= 0" if names and "seed" in names
                    else "an int >= 0, a numpy Generator or None")
        raise bad("seed", expected, seed) from None


def check_holdout(holdout, n_students, name="holdout"):
    """The number of held-out students, ``round(holdout x N)``; raise
    :class:`~ml2p_symbolic.errors.DomainError` when ``holdout > 0`` leaves no student for
    validation or none for training (``name`` names the option in the message).

    >>> check_holdout(0.1, 200)
    20
    >>> check_holdout(0.1, 1)
    Traceback (most recent call last):
    ...
    ml2p_symbolic.errors.DomainError: holdout=0.1 leaves no students for training or validation (N=1); the held-out split needs N >= 6
    """
    N = int(n_students)
    n_val = int(round(holdout * N))
    if holdout > 0 and (n_val < 1 or n_val >= N):
        start = max(2, int(0.5 / holdout) - 2, int(0.5 / (1 - holdout)) - 2)
        need = next(m for m in range(start, start + 1000) if 1 <= round(holdout * m) < m)
        raise DomainError(f"{name}={holdout} leaves no students for training or validation (N={N}); "
                          f"the held-out split needs N >= {need}")
    return n_val


def fit_bytes(n_students, n_items, n_traits, *, hidden=(64,), batch_size=128, iw_samples=1,
              holdout=0.1):
    """Peak memory of :func:`fit` in bytes, estimated from its largest arrays at once.

    The responses and their copy with missing cells set to 0 (two float64 (N, n) arrays
    and a boolean mask), the fixed held-out draws eps (k, N_val, K), the temporaries of one
    minibatch's objective (five float64 (k, B, n) arrays: logits, softplus, sigmoid,
    log-likelihood, residual; B = min(batch size, N), as no batch holds more than the N
    students, or the held-out block), and the encoder's
    activations of a block of 4096 students at the end (two per hidden width, 2K outputs),
    and theta_hat and its standard deviation with their log-variance (N, K) each.

    >>> round(fit_bytes(10_000, 28, 3) / 1e6, 1)
    10.3
    >>> fit_bytes(200, 28, 3, batch_size=10**8) == fit_bytes(200, 28, 3, batch_size=200)
    True
    """
    N, n, K, k = float(n_students), float(n_items), float(n_traits), float(iw_samples)
    n_val = round(holdout * N)
    B = float(min(batch_size, n_students))
    width = float(sum(hidden))
    block = min(N, 4096.0)  # the final encoding runs 4096 students at a time
    return (17 * N * n + 8 * k * n_val * K + 40 * k * B * n + 24 * k * B * K
            + 8 * block * (2 * width + 2 * K) + 32 * N * K)


def fit(U, Q, *, iw_samples=1, hidden=(64,), activation="elu", nonneg=True, Sigma=None,
        estimate_correlation=False, epochs=200, batch_size=128, lr=0.01, lr_half_life=20.0,
        holdout=0.1, patience=5, plateaus=3, plateau_factor=0.3, refit=True, seed=0, quiet=False,
        progress=None):
    """Fit an ML2P-VAE to responses ``U`` (N, n) with Q-matrix ``Q`` (n, K).

    Parameters
    ----------
    U : (N, n) array of 0/1 responses; NaN marks a missing response (ignored by the
        likelihood, read as 0 by the encoder).
    Q : (n, K) 0/1 Q-matrix; A_ik is held at 0 where Q_ik = 0.
    iw_samples : k; 1 trains the plain one-sample ELBO, k > 1 the importance-weighted bound.
    hidden, activation : encoder hidden-layer widths and activation(s).
    nonneg : keep A >= 0.
    Sigma : (K, K) latent prior covariance (``None``: independent N(0, I) traits).
    estimate_correlation : learn the latent correlation matrix R with the decoder: the
        prior is N(0, R) in the KL term (ELBO) or in the importance weights (IWAE), R = L L'
        with L lower triangular with unit-norm rows, its K(K-1)/2 free parameters trained by
        Adam with the rest (:mod:`~ml2p_symbolic.numeric.correlation`), starting at R = I.
        R is a correlation matrix at every step. Needs K >= 2; cannot be combined with
        ``Sigma``. The estimate is ``FitResult.Sigma_hat``.
    epochs : at most this many passes over the training students.
    batch_size : students per Adam step.
    lr, lr_half_life : learning rate lr / (1 + epoch / lr_half_life) in epoch ``epoch``
        (counted from 0).
    holdout : fraction of students held out for early stopping (0 disables it: all epochs
        run and the last parameters are returned).
    patience, plateaus, plateau_factor : when the held-out loss has not improved for
        ``patience`` epochs, the learning rate is multiplied by ``plateau_factor``; at the
        ``plateaus + 1``-th such plateau training stops and the best epoch's parameters are
        returned.
    refit : after early stopping, train a fresh model on all students (held-out ones
        included) for ``best_epoch`` epochs with the same learning rates, and return it:
        the held-out split then only chooses the training length. Costs about twice the
        time and recovers the parameters better (no data left unused); ``False`` returns
        the best model of the first run.
    seed : int or numpy ``Generator`` for the split, initialisation and draws.
    quiet : no progress bar on stderr.
    progress : a callable ``(epoch, epochs, train_loss, holdout_loss)`` called after each
        epoch instead of the progress bar.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> from ml2p_symbolic.numeric.simulate import simulate
    >>> d = simulate(500, 9, 3, seed=0)
    >>> r = fit(d.U, d.Q, epochs=3, quiet=True, seed=0)
    >>> r.A_hat.shape, r.theta_hat.shape, r.epochs
    ((9, 3), (500, 3), 3)
    """
    check_fit_options(iw_samples=iw_samples, epochs=epochs, batch_size=batch_size, lr=lr,
                      lr_half_life=lr_half_life, hidden=hidden, holdout=holdout, patience=patience,
                      plateaus=plateaus, plateau_factor=plateau_factor, seed=seed)
    U, Q, missing = check_responses(U, Q)
    k = int(iw_samples)
    N, n = U.shape
    K = Q.shape[1]
    check_estimate_correlation(estimate_correlation, Sigma, K)
    n_val = check_holdout(holdout, N)
    check_memory(fit_bytes(N, n, K, hidden=hidden, batch_size=batch_size, iw_samples=k, holdout=holdout),
                 f"fitting {N:,} students x {n:,} items with iw_samples={k}",
                 "use fewer students, fewer importance samples or a smaller batch size")
    t0 = time.perf_counter()
    rng = as_generator(seed)
    observed = ~missing if missing.any() else None
    U0 = np.where(missing, 0.0, U) if observed is not None else U
    iw = k > 1

    def new_model(rows):
        model = ML2PVAE.init(Q, hidden=hidden, activation=activation, nonneg=nonneg, Sigma=Sigma,
                             U=U[rows], seed=rng, estimate_correlation=estimate_correlation)
        return model, _Adam(model.params)

    def run_epoch(model, adam, rows, lr_t):
        """One pass over ``rows`` in random order; returns the mean training loss."""
        perm = rows[rng.permutation(len(rows))]
        total = 0.0
        for start in range(0, len(rows), batch_size):
            idx = perm[start:start + batch_size]
            eps = rng.standard_normal((k, len(idx), K))
            obs = None if observed is None else observed[idx]
            loss, grads = model.loss_and_grad(U0[idx], eps, iw=iw, observed=obs)
            total += loss.sum()
            for g in grads:
                g *= 1.0 / len(idx)
            adam.step(grads, lr_t)
            model.project()
        return float(total / len(rows))

    order = rng.permutation(N)
    val_idx, train_idx = np.sort(order[:n_val]), order[n_val:]
    model, adam = new_model(train_idx)
    params = model.params
    if n_val:
        U_val = U0[val_idx]
        obs_val = None if observed is None else observed[val_idx]
        eps_val = rng.standard_normal((k, n_val, K))

    if progress is None and not quiet:
        progress = progress_bar
    curve, lrs = [], []
    best = (np.inf, 0, None)
    epoch = 0
    lr_scale, plateaus_seen, last_change = 1.0, 0, 0
    for epoch in range(1, int(epochs) + 1):
        lrs.append(lr_scale * lr / (1.0 + (epoch - 1) / lr_half_life))
        train_loss = run_epoch(model, adam, train_idx, lrs[-1])
        if n_val:
            val_loss = _heldout_loss(model, U_val, eps_val, iw, obs_val, batch_size)
        else:
            val_loss = float("nan")
        curve.append((epoch, train_loss, val_loss))
        if progress is not None:
            progress(epoch, int(epochs), train_loss, val_loss)
        if not np.isfinite(train_loss):
            raise DomainError(f"training diverged (loss {train_loss}) at epoch {epoch}; try a smaller lr")
        if n_val:
            if val_loss < best[0]:
                best = (val_loss, epoch, [p.copy() for p in params])
            elif epoch - max(best[1], last_change) >= patience:
                if plateaus_seen >= plateaus:
                    break
                plateaus_seen += 1  # a plateau: continue with a smaller learning rate
                lr_scale *= plateau_factor
                last_change = epoch
    if progress is progress_bar:
        print(file=sys.stderr)
    best_epoch = epoch
    if n_val and best[2] is not None:
        best_epoch = best[1]
        for p, saved in zip(params, best[2]):
            p[...] = saved
    refit_epochs = 0
    if refit and n_val:
        # a fresh model on every student, for the chosen number of epochs and learning rates
        model, adam = new_model(np.arange(N))
        all_rows = np.arange(N)
        for lr_t in lrs[:best_epoch]:
            run_epoch(model, adam, all_rows, lr_t)
        refit_epochs = best_epoch
    mu, log_var = _encode_in_blocks(model, U0)
    return FitResult(
        A_hat=model.A.copy(), b_hat=model.b.copy(), theta_hat=mu, theta_sd=np.exp(0.5 * log_var),
        curve=tuple(curve), seconds=time.perf_counter() - t0, epochs=epoch,
        best_epoch=best_epoch, iw_samples=k, model=model, refit_epochs=refit_epochs,
        Sigma_hat=model.Sigma if estimate_correlation else None,
    )


def _heldout_loss(model, U_val, eps_val, iw, obs_val, block):
    """Mean held-out loss, evaluated ``block`` students at a time (bounded memory)."""
    total = 0.0
    for start in range(0, U_val.shape[0], block):
        sl = slice(start, start + block)
        loss = model.loss_and_grad(U_val[sl], eps_val[:, sl], iw=iw,
                                   observed=None if obs_val is None else obs_val[sl], want_grad=False)[0]
        total += float(loss.sum())
    return total / U_val.shape[0]


def _encode_in_blocks(model, U, block=4096):
    """``model.encode(U)`` for every student, ``block`` students at a time."""
    parts = [model.encode(U[start:start + block]) for start in range(0, U.shape[0], block)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _get(obj, *names):
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    raise ShapeError(f"expected an object with one of the attributes {', '.join(names)}")


def _stats(true, est):
    true = np.asarray(true, dtype=np.float64).ravel()
    est = np.asarray(est, dtype=np.float64).ravel()
    err = est - true
    if true.size > 1 and true.std() > 0 and est.std() > 0:
        corr = float(np.corrcoef(true, est)[0, 1])
    else:
        corr = float("nan")
    return {"rmse": float(np.sqrt(np.mean(err * err))), "bias": float(err.mean()), "corr": corr}


def recovery(true, estimate):
    """RMSE, bias (mean of estimate - truth) and correlation for a, b and theta.

    ``true`` has attributes (or keys) ``A``, ``b``, ``theta`` and optionally ``Q`` (e.g. a
    :class:`~ml2p_symbolic.numeric.simulate.SimulatedData`); ``estimate`` has ``A_hat``,
    ``b_hat``, ``theta_hat`` (a :class:`FitResult`) or ``A``, ``b``, ``theta``.

    - a: over the entries where Q is 1 (where A is nonzero when no Q is given);
    - b: over all items;
    - theta: over all students and traits (theta_hat = encoder means), skipped (``None``)
      when either side has no theta;
    - Sigma: over the off-diagonal entries R_kl, k < l, of the estimated correlation
      matrix (``Sigma_hat``) against the true ``Sigma``: RMSE, bias and the correlation of
      the entries (NaN for K = 2: one entry); present only when both sides have one
      and K >= 2.

    Returns ``{"a": {"rmse", "bias", "corr"}, "b": {...}, "theta": {...} or None}``, with
    ``"Sigma": {...}`` added when the correlations were estimated and the truth is known.

    >>> t = {"A": np.array([[1.0, 0.0], [0.5, 2.0]]), "b": np.array([0.0, 1.0]), "theta": None}
    >>> e = {"A": np.array([[1.1, 0.0], [0.5, 2.0]]), "b": np.array([0.0, 1.0]), "theta": None}
    >>> round(recovery(t, e)["a"]["rmse"], 6), recovery(t, e)["b"]["rmse"]
    (0.057735, 0.0)
    """
    A = np.asarray(_get(true, "A"), dtype=np.float64)
    A_hat = np.asarray(_get(estimate, "A_hat", "A"), dtype=np.float64)
    try:
        Q = np.asarray(_get(true, "Q")) != 0
    except ShapeError:
        Q = A != 0
    if A.shape != A_hat.shape:
        raise ShapeError(f"true A has shape {A.shape}, the estimate {A_hat.shape}")
    out = {"a": _stats(A[Q], A_hat[Q]),
           "b": _stats(_get(true, "b"), _get(estimate, "b_hat", "b"))}
    theta = _get(true, "theta")
    theta_hat = _get(estimate, "theta_hat", "theta")
    out["theta"] = None if theta is None or theta_hat is None else _stats(theta, theta_hat)
    corr = _correlation_stats(_maybe(true, "Sigma"), _maybe(estimate, "Sigma_hat"))
    if corr is not None:
        out["Sigma"] = corr
    return out


def _maybe(obj, name):
    try:
        return _get(obj, name)
    except ShapeError:
        return None


def _correlation_stats(Sigma, Sigma_hat):
    """Recovery of the off-diagonal entries of a correlation matrix (None when either is
    missing or K = 1)."""
    if Sigma is None or Sigma_hat is None:
        return None
    Sigma = np.asarray(Sigma, dtype=np.float64)
    Sigma_hat = np.asarray(Sigma_hat, dtype=np.float64)
    if Sigma.shape != Sigma_hat.shape or Sigma.ndim != 2 or Sigma.shape[0] != Sigma.shape[1]:
        raise ShapeError(f"true Sigma has shape {Sigma.shape}, the estimate {Sigma_hat.shape}")
    if Sigma.shape[0] < 2:
        return None
    iu = np.triu_indices(Sigma.shape[0], 1)
    return _stats(Sigma[iu], Sigma_hat[iu])


def fit_summary(result, truth=None):
    """A JSON-ready summary of a :class:`FitResult`.

    Keys: ``method`` (``"vae"`` or ``"mml"``), ``recovery`` (:func:`recovery` against ``truth``, or ``None`` when the truth is
    unknown; its ``"Sigma"`` entry is the correlation RMSE, bias and correlation when the
    fit estimated the correlations), ``Sigma_hat`` (the estimated correlation matrix as a
    list of rows, or ``None``), ``seconds``, ``epochs``, ``best_epoch``, ``iw_samples``, ``students``,
    ``items``, ``traits``, ``train_loss`` and ``holdout_loss`` (at the best epoch; ``None``
    without a held-out split; for MML ``train_loss`` is -loglik/N and ``iw_samples`` is
    None, and ``quadrature`` and ``converged`` are added).
    """
    row = result.curve[result.best_epoch - 1] if result.curve else (0, float("nan"), float("nan"))
    holdout = None if np.isnan(row[2]) else row[2]
    out = {
        "method": result.method,
        "recovery": None if truth is None else recovery(truth, result),
        "seconds": result.seconds,
        "epochs": result.epochs,
        "best_epoch": result.best_epoch,
        "iw_samples": result.iw_samples,
        "refit_epochs": result.refit_epochs,
        "students": int(result.theta_hat.shape[0]),
        "items": int(result.A_hat.shape[0]),
        "traits": int(result.A_hat.shape[1]),
        "train_loss": row[1],
        "holdout_loss": holdout,
        "Sigma_hat": None if result.Sigma_hat is None else np.asarray(result.Sigma_hat).tolist(),
    }
    if result.method != "vae":
        out.update(quadrature=result.quadrature, converged=result.converged)
    return out
