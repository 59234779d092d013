"""Hypothesis strategies shared by the test modules, named after what they draw."""

from hypothesis import strategies as st


def reals(lo=-30.0, hi=30.0):
    """Finite floats in [lo, hi]."""
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def positive_reals(lo=1e-3, hi=10.0):
    """Finite floats in [lo, hi] with lo > 0."""
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


# --------------------------------------------------------------- numeric ML2P-VAE (encoder, model)
@st.composite
def q_matrices(draw, max_items=6, max_traits=3):
    """A 0/1 Q-matrix (n, K) as a numpy int array, every row and every column non-empty."""
    import numpy as np

    K = draw(st.integers(1, max_traits))
    n = draw(st.integers(K, max(K, max_items)))
    Q = np.array(draw(st.lists(st.lists(st.integers(0, 1), min_size=K, max_size=K),
                               min_size=n, max_size=n)))
    Q[np.arange(K), np.arange(K)] = 1  # every trait measured
    Q[Q.sum(axis=1) == 0, 0] = 1  # every item measures something
    return Q


def encoder_architectures(max_layers=2, max_width=6, activations=("tanh", "sigmoid", "softplus", "linear")):
    """(hidden widths, activation names): a small MLP encoder's layout."""
    return st.integers(0, max_layers).flatmap(
        lambda L: st.tuples(
            st.lists(st.integers(1, max_width), min_size=L, max_size=L).map(tuple),
            st.lists(st.sampled_from(activations), min_size=L, max_size=L).map(tuple),
        )
    )


# --- symbolic expressions for check_identity (tests/test_identity.py) ----------------------


def small_rationals(max_denominator=12, max_numerator=20):
    """Exact SymPy Rationals p/q with |p| <= max_numerator, 1 <= q <= max_denominator."""
    import sympy

    return st.builds(
        sympy.Rational,
        st.integers(-max_numerator, max_numerator),
        st.integers(1, max_denominator),
    )


def nonzero_offsets():
    """Nonzero exact Rationals added to one side of an identity to make it false:
    ordinary ones (3/7, -2) and near misses below 1e-15 (10**-16, -3*10**-20)."""
    import sympy

    ordinary = small_rationals().filter(lambda c: c != 0)
    tiny = st.builds(
        lambda sign, mantissa, exponent: sign * sympy.Rational(mantissa, 10**exponent),
        st.sampled_from([1, -1]),
        st.integers(1, 9),
        st.integers(16, 22),
    )
    return st.one_of(ordinary, tiny)


def elementary_expressions(symbols, max_leaves=6):
    """Expressions over ``symbols`` built from sums, products, sigmoids, softplus, tanh,
    x/(1+x**2) and exp of a single signed symbol: bounded growth, so that |symbols| up
    to 30 keeps every value well inside floating ranges of mpmath."""
    import sympy

    symbols = list(symbols)
    exp_leaves = st.builds(
        lambda s, sign: sympy.exp(sign * s), st.sampled_from(symbols), st.sampled_from([1, -1])
    )
    leaves = st.one_of(st.sampled_from(symbols), small_rationals(), exp_leaves)

    def extend(children):
        return st.one_of(
            st.builds(lambda a, b: a + b, children, children),
            st.builds(lambda a, b: a * b, children, children),
            st.builds(lambda a: 1 / (1 + sympy.exp(-a)), children),
            st.builds(lambda a: sympy.log(1 + sympy.exp(a)), children),
            st.builds(sympy.tanh, children),
            st.builds(lambda a: a / (1 + a**2), children),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


def _arrays(shape, lo, hi):
    """Lists of finite floats in [lo, hi] reshaped to ``shape`` (numpy arrays)."""
    import numpy as np

    size = int(np.prod(shape)) if shape else 1
    return st.lists(reals(lo, hi), min_size=size, max_size=size).map(
        lambda xs: np.asarray(xs, dtype=np.float64).reshape(shape)
    )


def item_parameters(n, K, scale=3.0):
    """(A, b): discriminations A (n, K) and difficulties b (n,) in [-scale, scale]."""
    return st.tuples(_arrays((n, K), -scale, scale), _arrays((n,), -scale, scale))


def response_patterns(N, n, probabilities=False):
    """U (N, n): 0/1 responses, or probabilities in [0, 1] when ``probabilities``."""
    import numpy as np

    if probabilities:
        return _arrays((N, n), 0.0, 1.0)
    return st.lists(st.sampled_from([0.0, 1.0]), min_size=N * n, max_size=N * n).map(
        lambda xs: np.asarray(xs).reshape(N, n)
    )


def encoder_outputs(N, K, mu_scale=3.0, log_var_range=(-3.0, 3.0)):
    """(mu, log_var), each (N, K)."""
    return st.tuples(_arrays((N, K), -mu_scale, mu_scale), _arrays((N, K), *log_var_range))


@st.composite
def vae_problems(draw, max_students=4, max_items=4, max_traits=3, max_draws=3):
    """A dict U, A, b, mu, log_var, eps of matching shapes (small, for finite differences)."""
    N = draw(st.integers(1, max_students))
    n = draw(st.integers(1, max_items))
    K = draw(st.integers(1, max_traits))
    S = draw(st.integers(1, max_draws))
    A, b = draw(item_parameters(n, K))
    mu, log_var = draw(encoder_outputs(N, K))
    U = draw(response_patterns(N, n, probabilities=draw(st.booleans())))
    eps = draw(_arrays((S, N, K), -4.0, 4.0))
    return dict(U=U, A=A, b=b, mu=mu, log_var=log_var, eps=eps)


def gaussian_locations_and_scales(max_m=50.0, max_s=50.0):
    """(m, s): a mean in [-max_m, max_m] and a scale in [0, max_s]."""
    return st.tuples(
        reals(-max_m, max_m),
        st.one_of(st.just(0.0), reals(0.0, 3.0), reals(0.0, max_s)),
    )


# --- points of the symbolic model (tests/test_model.py, test_derive.py, test_checker.py) ----


@st.composite
def model_points(draw, m, scale=3.0, logit_scale=30.0):
    """An exact point (SymPy Rationals) for every parameter symbol of the symbolic model ``m``:
    a, b, theta, ahat, bhat, thetahat, eps real; sigmahat positive; u in [0, 1]. ``b_i`` and
    ``bhat_i`` range over +-``logit_scale`` so that |z_i| and |zhat_i| reach 30 and beyond."""
    import sympy

    def real(s=scale):
        return sympy.nsimplify(draw(st.floats(-s, s, allow_nan=False)), rational=True)

    pt = {}
    for i in range(m.n):
        pt[m.b[i]] = real(logit_scale)
        pt[m.b_hat[i]] = real(logit_scale)
        pt[m.u[i]] = sympy.nsimplify(draw(st.floats(0, 1)), rational=True)
        for k in range(m.K):
            pt[m.a[i][k]] = real()
            pt[m.a_hat[i][k]] = real()
    for k in range(m.K):
        pt[m.theta[k]] = real()
        pt[m.theta_hat[k]] = real()
        pt[m.eps[k]] = real()
        pt[m.sigma_hat[k]] = sympy.nsimplify(draw(st.floats(0.01, scale)), rational=True)
    return pt


# --- population view and identifiability (tests/test_population.py, test_identifiability.py) ---


@st.composite
def ml2p_models(draw, max_items=5, max_traits=2, scale=2.0, min_items=1):
    """(A, b) of a small true ML2P model: n in [min_items, max_items] items, K in
    [1, max_traits] traits, every entry in [-scale, scale] (numpy arrays)."""
    K = draw(st.integers(1, max_traits))
    n = draw(st.integers(min_items, max_items))
    return draw(item_parameters(n, K, scale))


@st.composite
def positive_ml2p_models(draw, max_items=5, min_items=3, slopes=(0.5, 2.0), intercepts=1.0):
    """(A, b) of a one-trait model with slopes in ``slopes`` (positive) and intercepts in
    [-intercepts, intercepts]: identified when n >= 3."""
    import numpy as np

    n = draw(st.integers(min_items, max_items))
    a = draw(_arrays((n, 1), *slopes))
    b = draw(_arrays((n,), -intercepts, intercepts))
    return np.asarray(a), np.asarray(b)


@st.composite
def simple_structure_q_matrices(draw, max_traits=3, min_per_trait=3, max_per_trait=4):
    """A simple-structure Q-matrix (each item measures one trait), rows shuffled: K traits with
    between ``min_per_trait`` and ``max_per_trait`` items each."""
    import numpy as np

    K = draw(st.integers(1, max_traits))
    counts = [draw(st.integers(min_per_trait, max_per_trait)) for _ in range(K)]
    Q = np.vstack([np.tile(np.eye(K, dtype=int)[k], (c, 1)) for k, c in enumerate(counts)])
    order = draw(st.permutations(list(range(Q.shape[0]))))
    return Q[list(order)]


# --------------------------------------------------------------- LaTeX formulas (engine.latex_input)
#: directives under which every formula drawn by latex_formulas() is understood
LATEX_DECLARATIONS = "\n".join([
    r"%! index i = 1..n, k = 1..K",
    r"%! real x, y, \hat{\theta}, a_{ik}, b_i, \theta_{jk}",
    r"%! positive s",
    r"%! function \sigma(t) := \frac{1}{1 + e^{-t}}",
    r"%! random \varepsilon_k \sim \mathcal{N}(0, 1)",
])

_LATEX_LEAVES = ["x", "y", r"\hat{\theta}", "s", r"a_{ik}", r"b_{i}", r"\theta_{jk}", "2", "3", "7",
                 r"\frac{1}{3}", r"\pi", "e"]


def latex_leaves():
    """A name, an indexed name or a number of the supported notation."""
    return st.sampled_from(_LATEX_LEAVES)


def _latex_compound(children):
    two = st.tuples(children, children)
    return st.one_of(
        two.map(lambda ab: f"{ab[0]} + {ab[1]}"),
        two.map(lambda ab: f"{ab[0]} - {ab[1]}"),
        two.map(lambda ab: rf"\left({ab[0]}\right) \cdot \left({ab[1]}\right)"),
        st.tuples(children, st.sampled_from(["s", "2", "1 + s^{2}"])).map(lambda ab: rf"\frac{{{ab[0]}}}{{{ab[1]}}}"),
        st.tuples(children, st.sampled_from(["2", "3"])).map(lambda ab: rf"\left({ab[0]}\right)^{{{ab[1]}}}"),
        children.map(lambda a: rf"e^{{{a}}}"),
        children.map(lambda a: rf"\exp\left({a}\right)"),
        children.map(lambda a: rf"\log\left(s + \left({a}\right)^{{2}}\right)"),
        children.map(lambda a: rf"\sqrt{{s + \left({a}\right)^{{2}}}}"),
        children.map(lambda a: rf"\sigma\left({a}\right)"),
        children.map(lambda a: rf"\sum_{{k=1}}^{{K}} a_{{ik}} \cdot \left({a}\right)"),
        children.map(lambda a: rf"\mathbb{{E}}_{{\varepsilon}}\left[{a} + \varepsilon_{{k}}\right]"),
        children.map(lambda a: rf"\frac{{\partial}}{{\partial x}} \left({a}\right)"),
        children.map(lambda a: rf"\left. {a} \right|_{{x=1}}"),
    )


def latex_formulas(max_leaves=6):
    """A formula of the supported notation (fractions, powers, exp, log, sqrt, a declared
    function, sums, expectations, derivatives, evaluation bars), understood under
    :data:`LATEX_DECLARATIONS`."""
    return st.recursive(latex_leaves(), _latex_compound, max_leaves=max_leaves)


_LATEX_TOKENS = ["x", "y", "s", "a_{ik}", "b_i", r"\theta_{jk}", r"\hat{\theta}", "+", "-", "=", r"\le", "(", ")",
                 "{", "}", "[", "]", "^", "_", "2", r"\frac", r"\sqrt", r"\sum_{k=1}^{K}", r"\sum", r"\log", r"\exp",
                 "e", r"\sigma", r"\cdot", "/", r"\mathbb{E}_{\varepsilon}", r"\varepsilon_k", r"\Big|_{x=1}",
                 r"\left.", r"\right|", r"\left(", r"\right)", r"\partial", r"\frac{\partial}{\partial x}",
                 r"\frac{d}{dx}", "&", "\\\\", ",", r"\text{a}", r"\forall", "i", "k", "|", r"\infty", r"\prod",
                 r"\substack{x=1}", "0.5", r"\pi", r"\foo", "$", "0",
                 # the notation of issue 16
                 "xy", "'", r"^{\prime}", r"\prime", r"\partial_x", r"\tanh", r"\{", r"\}", r"\neq", r"\approx",
                 r"\sim", r"\mathcal{N}(0, 1)", r"\int_0^1", r"\int", "dx", r"\|", r"D_{\mathrm{KL}}", r"\quad",
                 r"\mathbb{E}_{w \sim \mathcal{N}(0, 1)}"]


def latex_token_soups(max_tokens=12):
    """A string of LaTeX tokens in any order (mostly not a formula): for fuzzing the reader."""
    return st.lists(st.sampled_from(_LATEX_TOKENS), min_size=1, max_size=max_tokens).map(" ".join)


@st.composite
def correlation_matrices(draw, K, max_abs=0.8):
    """A K x K correlation matrix (numpy), from a Cholesky factor with unit-norm rows whose
    diagonal entries are at least sqrt(1 - max_abs**2) (so |rho| <= max_abs for K = 2, and
    the matrix stays well conditioned)."""
    import numpy as np

    C = np.zeros((K, K))
    for k in range(K):
        row = np.array(draw(st.lists(reals(-1.0, 1.0), min_size=k, max_size=k)) + [0.0])
        norm = np.linalg.norm(row[:k])
        most = max_abs if k else 0.0
        if norm > most:
            row[:k] *= most / norm
        row[k] = np.sqrt(1.0 - row[:k] @ row[:k])
        C[k, :k + 1] = row
    S = C @ C.T
    S[np.diag_indices(K)] = 1.0
    return S


@st.composite
def covariance_matrices(draw, K, max_abs=0.8, variances=(0.5, 2.0)):
    """A K x K covariance matrix: a :func:`correlation_matrices` draw scaled by standard
    deviations whose squares lie in ``variances``."""
    import numpy as np

    R = draw(correlation_matrices(K, max_abs))
    sd = np.sqrt(np.array(draw(st.lists(reals(*variances), min_size=K, max_size=K))))
    return R * np.outer(sd, sd)


MATRIX_LATEX_DECLARATIONS = "\n".join([
    r"%! index k = 1..K, l = 1..K, i = 1..n",
    r"%! positive \hat{\sigma}_k",
    r"%! vector \hat{\theta} (K), \mu (K)",
    r"%! matrix \Sigma (K x K), symmetric positive definite",
    r"%! matrix A (n x K)",
    r"%! real x",
])

_MATRIX_TOKENS = [r"\Sigma", r"\hat{\theta}", r"\mu", "A", "x", r"\hat{\sigma}_k", "^{-1}", r"^\top", "^T", "^{T}",
                  "^2", "_{kk}", "_{kl}", "_k", "_{12}", r"\det", r"\operatorname{tr}", r"\mathrm{diag}", r"\log",
                  "(", ")", "+", "-", "=", r"\le", "0", "1", r"\frac{1}{2}", r"\frac{\partial}{\partial \hat{\theta}}",
                  r"\sum_{k=1}^{K}", r"\Big|_{\hat{\theta} = \mu}", r"\top", r"\cdot", ",", "{", "}"]


def matrix_token_soups(max_tokens=10):
    """A string of matrix-notation tokens in any order: for fuzzing the matrix rules."""
    return st.lists(st.sampled_from(_MATRIX_TOKENS), min_size=1, max_size=max_tokens).map(" ".join)


@st.composite
def correlation_parameters(draw, min_traits=1, max_traits=6, bound=20.0):
    """(w, K): K traits and the K(K-1)/2 free parameters of a correlation matrix
    (:mod:`ml2p_symbolic.numeric.correlation`), each a finite float in [-bound, bound]."""
    import numpy as np

    K = draw(st.integers(min_traits, max_traits))
    m = K * (K - 1) // 2
    w = draw(st.lists(reals(-bound, bound), min_size=m, max_size=m))
    return np.array(w, dtype=float), K


# --------------------------------------------------------------- the kernel: closed forms of sums
@st.composite
def polynomial_summands(draw, max_degree=3, max_coefficient=5):
    """Integer coefficients (c_0, ..., c_d) of a summand c_0 + c_1 i + ... + c_d i^d, d <= max_degree."""
    degree = draw(st.integers(0, max_degree))
    coeffs = draw(st.lists(st.integers(-max_coefficient, max_coefficient), min_size=degree + 1,
                           max_size=degree + 1))
    return tuple(coeffs)


def size_traps(max_sizes=4):
    """How many first sizes (1..m) a false closed form agrees with the true one at."""
    return st.integers(1, max_sizes)
