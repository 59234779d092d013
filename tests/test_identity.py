"""Soundness of check_identity: true identities of the ML2P-VAE derivation are verified,
deliberately wrong variants are refuted with counterexamples that we re-check here
independently (60-digit evaluation, assumptions respected), and nothing false is ever
verified."""


import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import (
    Function,
    Interval,
    Rational,
    S,
    Subs,
    Derivative,
    cos,
    diff,
    exp,
    log,
    pi,
    sin,
    sqrt,
    symbols,
    tanh,
)

from ml2p_symbolic.engine.records import Verdict
from ml2p_symbolic.errors import IdentityInputError
from ml2p_symbolic.engine.identity import IDENTITY_METHODS, check_identity

from strategies import elementary_expressions, nonzero_offsets, small_rationals


def sigmoid(t):
    return 1 / (1 + exp(-t))


# ----------------------------------------------------------------- symbols of the model

K = 3
z, z_hat, b, b_hat, x, y, t = symbols("z z_hat b b_hat x y t", real=True)
P = symbols("P", real=True)
mu = symbols("mu_1:4", real=True)
sig = symbols("sigma_1:4", positive=True)
eps = symbols("epsilon_1:4", real=True)
a = sympy.Matrix(2, 2, lambda i, k: symbols(f"a_{i + 1}{k + 1}", real=True))
theta = symbols("theta_1:3", real=True)
s_pos = symbols("s", positive=True)
s_real = symbols("s", real=True)
n = symbols("n", integer=True)
f = Function("f")
u = symbols("u")

# z_hat of item 1 with K latent traits sampled by the reparametrisation theta = mu + sigma*eps
Z_HAT = sum(a_k * (m + s * e) for a_k, m, s, e in zip(symbols("a_1:4", real=True), mu, sig, eps)) - b_hat
A_1 = symbols("a_1:4", real=True)
CROSS_ENTROPY = -(P * log(sigmoid(Z_HAT)) + (1 - P) * log(1 - sigmoid(Z_HAT)))
KL_1 = (sig[0] ** 2 + mu[0] ** 2 - 1 - log(sig[0] ** 2)) / 2
# z of item i = sum_k a_ik theta_k - b
Z_ITEM = [sum(a[i, k] * theta[k] for k in range(2)) - b for i in range(2)]


# ----------------------------------------------------------------- independent re-check


def assert_genuine_counterexample(lhs, rhs, verdict, assumptions=()):
    """Re-check a refutation without the checker's code: exact values, assumptions hold,
    the sides differ at 60 digits far beyond rounding, and the reported values match."""
    assert verdict.verdict == "refuted", verdict
    assert verdict.method == "numeric counterexample"
    point = verdict.counterexample
    assert isinstance(point, dict)
    assert not lhs.subs(point).free_symbols and not rhs.subs(point).free_symbols
    for symbol, value in point.items():
        if symbol.is_real:
            assert isinstance(value, sympy.Rational), (symbol, value)  # exact, Integer included
        else:  # a complex symbol may get a Gaussian rational p + q*I
            assert all(isinstance(part, sympy.Rational) for part in value.as_real_imag())
        if symbol.is_positive:
            assert value > 0
        if symbol.is_nonnegative:
            assert value >= 0
        if symbol.is_negative:
            assert value < 0
        if symbol.is_nonpositive:
            assert value <= 0
        if symbol.is_integer:
            assert value.is_integer
        if symbol.is_zero is False:
            assert value != 0
    for condition in assumptions:
        assert condition.subs(point) == sympy.true, (condition, point)
    left = sympy.N(lhs.subs(point), 60)
    right = sympy.N(rhs.subs(point), 60)
    gap = sympy.N((lhs - rhs).subs(point), 60)
    for value in (left, right, gap):
        assert value.is_number and value.is_finite and not value.has(S.NaN, sympy.zoo)
    scale = max(abs(left), abs(right))
    assert abs(gap) > max(sympy.Float("1e-40"), sympy.Float("1e-26") * scale)
    # the reported values are the two sides at >= 30 significant digits
    assert verdict.values is not None
    for reported, exact in zip(verdict.values, (left, right)):
        assert abs(sympy.sympify(reported) - exact) <= sympy.Float("1e-30") * max(1, abs(exact))


# ----------------------------------------------------------------- the corpus

TRUE_IDENTITIES = {
    "sigmoid two forms": (sigmoid(z), exp(z) / (1 + exp(z)), None),
    "1 - sigma(z) = sigma(-z)": (1 - sigmoid(z), sigmoid(-z), None),
    "d log sigma": (diff(log(sigmoid(z)), z), 1 - sigmoid(z), None),
    "d log(1 - sigma)": (diff(log(1 - sigmoid(z)), z), -sigmoid(z), None),
    "sigma'": (diff(sigmoid(z), z), sigmoid(z) * (1 - sigmoid(z)), None),
    "cross-entropy derivative, seed form": (
        -P / (1 + exp(z_hat)) + (1 - P) / (1 + exp(-z_hat)),
        sigmoid(z_hat) - P,
        None,
    ),
    "d CE / d z_hat": (
        diff(-(P * log(sigmoid(z_hat)) + (1 - P) * log(1 - sigmoid(z_hat))), z_hat),
        sigmoid(z_hat) - P,
        None,
    ),
    "chain rule d CE / d mu_1 (K = 3)": (diff(CROSS_ENTROPY, mu[0]), A_1[0] * (sigmoid(Z_HAT) - P), None),
    "chain rule d CE / d sigma_2 (K = 3)": (
        diff(CROSS_ENTROPY, sig[1]),
        A_1[1] * eps[1] * (sigmoid(Z_HAT) - P),
        None,
    ),
    "d CE / d b_hat": (diff(CROSS_ENTROPY, b_hat), P - sigmoid(Z_HAT), None),
    "d z_1 / d a_12": (diff(Z_ITEM[0], a[0, 1]), theta[1], None),
    "KL closed form, log split": (KL_1, (sig[0] ** 2 + mu[0] ** 2 - 1) / 2 - log(sig[0]), None),
    "d KL / d sigma": (diff(KL_1, sig[0]), sig[0] - 1 / sig[0], None),
    "d KL / d mu": (diff(KL_1, mu[0]), mu[0], None),
    "log(s**2) = 2 log s, s > 0": (log(s_pos**2), 2 * log(s_pos), None),
    "log(s**2) = 2 log s under s > 0": (log(s_real**2), 2 * log(s_real), [s_real > 0]),
    "sqrt(x**2) = x under x >= 0": (sqrt(x**2), x, [x >= 0]),
    "sqrt(x**2) = -x on (-oo, 0]": (sqrt(x**2), -x, {x: Interval(-sympy.oo, 0)}),
    "log(x - 1) shifted": (log((x - 1) ** 2), 2 * log(x - 1), [x > 1]),
    "softplus difference": (log(1 + exp(t)) - log(1 + exp(-t)), t, None),
    "tanh via sigmoid": (tanh(t), 2 * sigmoid(2 * t) - 1, None),
    "Pythagoras": (sin(t) ** 2 + cos(t) ** 2, 1, None),
    "chain rule, undefined f": (
        diff(f(sigmoid(t)), t),
        Subs(Derivative(f(u), u), u, sigmoid(t)) * sigmoid(t) * (1 - sigmoid(t)),
        None,
    ),
    "(-1)**(2n) = 1": ((-1) ** (2 * n), 1, None),
    "Gaussian log density": (
        log(exp(-((x - mu[0]) ** 2) / (2 * sig[0] ** 2)) / (sqrt(2 * pi) * sig[0])),
        -((x - mu[0]) ** 2) / (2 * sig[0] ** 2) - log(sig[0]) - log(2 * pi) / 2,
        None,
    ),
}

FALSE_IDENTITIES = {
    "sign flip in sigma'": (diff(sigmoid(z), z), -sigmoid(z) * (1 - sigmoid(z)), None),
    "1 - sigma(z) = sigma(z)": (1 - sigmoid(z), sigmoid(z), None),
    "cross-entropy derivative, sign flip": (
        -P / (1 + exp(z_hat)) + (1 - P) / (1 + exp(-z_hat)),
        P - sigmoid(z_hat),
        None,
    ),
    "chain rule, dropped factor a_1": (diff(CROSS_ENTROPY, mu[0]), sigmoid(Z_HAT) - P, None),
    "chain rule, wrong index a_2": (diff(CROSS_ENTROPY, mu[0]), A_1[1] * (sigmoid(Z_HAT) - P), None),
    "chain rule, dropped eps": (diff(CROSS_ENTROPY, sig[1]), A_1[1] * (sigmoid(Z_HAT) - P), None),
    "swapped indices a_12 vs a_21": (diff(Z_ITEM[0], theta[1]), a[1, 0], None),
    "swapped indices in z": (
        Z_ITEM[0],
        a[0, 0] * theta[0] + a[1, 0] * theta[1] - b,
        None,
    ),
    "KL off by a constant": (KL_1, (sig[0] ** 2 + mu[0] ** 2) / 2 - log(sig[0]), None),
    "d KL / d sigma, dropped 1/sigma": (diff(KL_1, sig[0]), sig[0], None),
    "near miss + 1e-16": (x, x + Rational(1, 10**16), None),
    "near miss * (1 + 1e-17)": (x, x * (1 + Rational(1, 10**17)), None),
    "near miss in sigma": (sigmoid(z), sigmoid(z) + Rational(3, 10**18), None),
    "log(s**2) = 2 log s, s real": (log(s_real**2), 2 * log(s_real), None),
    "sqrt(x**2) = x, x real": (sqrt(x**2), x, None),
    "log(x*y) = log x + log y, x, y real": (log(x * y), log(x) + log(y), None),
    "sqrt(x**2) = x on x < 3": (sqrt(x**2), x, [x < 3]),
    "sqrt(x**2) = x on x > -1": (sqrt(x**2), x, [x > -1]),
    "log(x**2) = 2 log x on x != 0": (log(x**2), 2 * log(x), [sympy.Ne(x, 0)]),
    "(-1)**n = 1": ((-1) ** n, 1, None),
    "x = y": (x, y, [x > y]),
}


@pytest.mark.parametrize("name", sorted(TRUE_IDENTITIES))
def test_true_identity_is_verified(name):
    lhs, rhs, assumptions = TRUE_IDENTITIES[name]
    verdict = check_identity(lhs, rhs, assumptions=assumptions)
    assert verdict.verdict == "verified", verdict
    assert verdict.method in IDENTITY_METHODS
    assert verdict.counterexample is None


@pytest.mark.parametrize("name", sorted(FALSE_IDENTITIES))
def test_false_identity_is_refuted(name):
    lhs, rhs, assumptions = FALSE_IDENTITIES[name]
    verdict = check_identity(lhs, rhs, assumptions=assumptions)
    conditions = assumptions if isinstance(assumptions, list) else ()
    assert_genuine_counterexample(sympy.sympify(lhs), sympy.sympify(rhs), verdict, conditions)


def test_complex_valued_counterexample_is_flagged():
    # log(-1) = I*pi: for a negative real s only the principal branch separates the sides
    verdict = check_identity(log(s_real**2), 2 * log(s_real))
    assert verdict.verdict == "refuted"
    assert verdict.counterexample[s_real] < 0
    assert "complex" in verdict.detail


def test_real_valued_counterexample_is_preferred():
    verdict = check_identity(sqrt(x**2), x)
    assert "complex" not in verdict.detail
    assert verdict.counterexample[x] < 0


def test_undecidable_pair_stays_open():
    g = Function("g")
    verdict = check_identity(f(x), g(x))
    assert verdict.verdict == "open"
    assert verdict.counterexample is None and verdict.values is None
    assert "simplify" in verdict.detail and "numeric search" in verdict.detail


def test_complex_symbol_gets_complex_counterexample():
    w = symbols("w")  # no assumptions: ranges over the complex plane
    verdict = check_identity(log(exp(w)), w)
    assert_genuine_counterexample(log(exp(w)), w, verdict)
    assert verdict.counterexample[w].as_real_imag()[1] != 0
    # for real arguments the same pair agrees: a real symbol leaves the claim unrefuted
    assert check_identity(log(exp(t)), t).verdict == "verified"


def test_indexed_variables():
    a_ = sympy.IndexedBase("a", real=True)
    theta_ = sympy.IndexedBase("theta", real=True)
    swapped = check_identity(a_[1, 2] * theta_[2], a_[2, 1] * theta_[2])
    assert_genuine_counterexample(a_[1, 2] * theta_[2], a_[2, 1] * theta_[2], swapped)
    assert set(swapped.counterexample) == {a_[1, 2], a_[2, 1], theta_[2]}
    zh = a_[1, 1] * theta_[1] + a_[1, 2] * theta_[2] - b
    assert check_identity(diff(log(sigmoid(zh)), theta_[2]), a_[1, 2] * (1 - sigmoid(zh))).verdict == (
        "verified"
    )


def test_exhausted_time_budget_is_open_not_verified():
    lhs, rhs, _ = TRUE_IDENTITIES["Pythagoras"]
    verdict = check_identity(lhs, rhs, timeout=1e-3)
    assert verdict.verdict == "open"
    assert "skipped" in verdict.detail
    wrong = check_identity(lhs, rhs + Rational(1, 10**18), timeout=1e-3)
    assert wrong.verdict in ("open", "refuted")


def test_unevaluated_integral_is_evaluated_exactly():
    e = symbols("e", real=True)
    density = exp(-(e**2) / 2) / sqrt(2 * pi)
    second_moment = sympy.Integral((mu[0] + sig[0] * e) ** 2 * density, (e, -sympy.oo, sympy.oo))
    verdict = check_identity(second_moment, mu[0] ** 2 + sig[0] ** 2, timeout=20)
    assert verdict.verdict == "verified" and verdict.method == "doit+simplify"
    wrong = check_identity(second_moment, mu[0] ** 2 + sig[0], timeout=2)
    assert wrong.verdict != "verified"
    if wrong.verdict == "refuted":
        assert_genuine_counterexample(second_moment, mu[0] ** 2 + sig[0], wrong)


def test_signal_handler_is_restored():
    import signal

    before = signal.getsignal(signal.SIGALRM)
    check_identity(sin(t) ** 2 + cos(t) ** 2, 1)
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_constant_identities():
    assert check_identity(2, Rational(4, 2)).verdict == "verified"
    assert check_identity(exp(log(3)), 3).verdict == "verified"
    verdict = check_identity(pi, Rational(355, 113))
    assert verdict.verdict == "refuted" and verdict.counterexample == {}


def test_assumptions_as_boolean_and_iterable_agree():
    as_list = check_identity(sqrt(x**2), x, assumptions=[x > 0, y < 1])
    as_and = check_identity(sqrt(x**2), x, assumptions=(x > 0) & (y < 1))
    assert as_list.verdict == as_and.verdict == "verified"


def test_counterexample_respects_extra_assumptions():
    conditions = [x > 2, y <= -1, sympy.Ne(x, 3)]
    verdict = check_identity(x * y, x + y, assumptions=conditions)
    assert_genuine_counterexample(x * y, x + y, verdict, conditions)


def test_counterexample_respects_interval_assumption():
    verdict = check_identity(x, 1 - x, assumptions={x: Interval.open(0, 1)})
    assert verdict.verdict == "refuted"
    assert 0 < verdict.counterexample[x] < 1


@pytest.mark.parametrize(
    "bad",
    ["x + 1", sympy.Eq(x, 1), sympy.Matrix([x]), object(), [x]],
    ids=["string", "Eq", "Matrix", "object", "list"],
)
def test_bad_sides_raise(bad):
    with pytest.raises(IdentityInputError) as info:
        check_identity(bad, x)
    assert "lhs" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "bad",
    ["x > 0", [x + 1], {x: 3}, {"x": Interval(0, 1)}, 5, [object()]],
    ids=["string", "expression", "dict-number", "dict-string-key", "int", "object"],
)
def test_malformed_assumptions_raise(bad):
    with pytest.raises(IdentityInputError):
        check_identity(x, x, assumptions=bad)


def test_verdict_record():
    verdict = check_identity(sigmoid(z), exp(z) / (1 + exp(z)))
    assert isinstance(verdict, Verdict)
    assert verdict.verdict in ("verified", "refuted", "open")
    assert verdict.evidence and verdict.detail


# ----------------------------------------------------------------- properties

REALS = symbols("x y", real=True)
POSITIVES = symbols("p q", positive=True)


@given(elementary_expressions(REALS), nonzero_offsets())
def test_offset_identity_is_never_verified(lhs, offset):
    verdict = check_identity(lhs, lhs + offset)
    assert verdict.verdict != "verified"
    if verdict.verdict == "refuted":
        assert_genuine_counterexample(lhs, lhs + offset, verdict)


@given(elementary_expressions(REALS), small_rationals().filter(lambda c: c != 0))
def test_ordinary_offset_is_refuted(lhs, offset):
    verdict = check_identity(lhs, lhs + offset)
    assert_genuine_counterexample(lhs, lhs + offset, verdict)


@given(elementary_expressions(REALS), st.sampled_from(["expand", "together", "rewrite", "multiply"]))
def test_rewritten_identity_is_never_refuted(lhs, how):
    x_, _ = REALS
    rhs = {
        "expand": lambda e: sympy.expand(e),
        "together": lambda e: sympy.together(e),
        "rewrite": lambda e: e.rewrite(exp),
        "multiply": lambda e: sympy.expand(e * (1 + x_**2)) / (1 + x_**2),
    }[how](lhs)
    verdict = check_identity(lhs, rhs)
    assert verdict.verdict != "refuted", (lhs, rhs, verdict)


@given(elementary_expressions(POSITIVES), nonzero_offsets())
def test_positive_symbols_get_positive_values(lhs, offset):
    verdict = check_identity(lhs, lhs + offset)
    assert verdict.verdict != "verified"
    if verdict.verdict == "refuted":
        assert all(value > 0 for value in verdict.counterexample.values())
        assert_genuine_counterexample(lhs, lhs + offset, verdict)


@settings(max_examples=20)
@given(st.integers(-5, 5), st.integers(1, 5))
def test_bounded_symbol_counterexamples_stay_in_bounds(lo, width):
    hi = lo + width
    conditions = [x > lo, x < hi]
    verdict = check_identity(x**2, x, assumptions=conditions)
    if verdict.verdict == "refuted":
        assert_genuine_counterexample(x**2, x, verdict, conditions)
    else:  # x**2 = x only at 0 and 1: the open interval always contains another point
        pytest.fail(f"x**2 = x on ({lo}, {hi}) not refuted: {verdict}")


def _run_isolated(code):
    """Run ``code`` in a fresh interpreter (the main thread, where SIGALRM limits apply)
    with a generous wall-clock guard, so a broken limit fails this test instead of hanging."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_timeout_is_a_hard_limit_on_unguarded_work():
    """A step outside any per-step budget (here the domain preparation, made to hang) is
    still stopped by the overall limit: the verdict is open (timed out), not a hang."""
    proc = _run_isolated(
        "import time, sympy as sp\n"
        "import ml2p_symbolic.engine.identity as idm\n"
        "def hang(*a, **k):\n"
        "    while True: time.sleep(0.01)\n"
        "idm._strengthened_difference = hang\n"
        "x = sp.Symbol('x', real=True)\n"
        "v = idm.check_identity(sp.sin(x)**2 + sp.cos(x)**2, 1, timeout=1)\n"
        "print(v.verdict, '|', v.method, '|', v.evidence[-1])\n")
    assert proc.returncode == 0, proc.stderr
    verdict, method, last = (p.strip() for p in proc.stdout.split("|"))
    assert (verdict, method) == ("open", "undecided (timed out)")
    assert "time limit of 1 s" in last


def test_a_slow_rewriting_step_gives_way_to_the_next():
    """A rewriting step that never ends is stopped at its share and the search still runs."""
    proc = _run_isolated(
        "import time, sympy as sp\n"
        "import ml2p_symbolic.engine.identity as idm\n"
        "import ml2p_symbolic.engine.kernel.rewriting as rw\n"
        "def hang(d):\n"
        "    while True: time.sleep(0.01)\n"
        "rw.REWRITINGS['hang'] = hang\n"
        "idm._cheap_steps = lambda: [('hang', hang, 1.0)]\n"
        "x = sp.Symbol('x', real=True)\n"
        "v = idm.check_identity(x**2, x, timeout=4)\n"
        "print(v.verdict, '|', '; '.join(v.evidence))\n")
    assert proc.returncode == 0, proc.stderr
    verdict, evidence = (p.strip() for p in proc.stdout.split("|"))
    assert verdict == "refuted"
    assert "hang: stopped after 1.0 s" in evidence


def test_a_swallowed_alarm_fires_again():
    """An _OutOfTime raised where Python cannot propagate it (a garbage-collector callback
    reports it as unraisable) must not end the limit: the alarm fires again."""
    proc = _run_isolated(
        "import time\n"
        "import ml2p_symbolic.engine.identity as idm\n"
        "t = time.monotonic()\n"
        "try:\n"
        "    with idm._time_limit(0.2):\n"
        "        try:\n"
        "            while time.monotonic() - t < 1.0: pass\n"
        "        except BaseException:\n"
        "            pass  # the first alarm is swallowed here\n"
        "        while True: time.sleep(0.01)\n"
        "except idm._OutOfTime:\n"
        "    print('stopped')\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "stopped"
