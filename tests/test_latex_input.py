"""The LaTeX reader: notation -> SymPy, refusals at FILE:LINE:COL, displays -> steps, directives."""

import textwrap

import pytest
import sympy as sp

from ml2p_symbolic.engine.latex_input import Diff, EvalAt, Expect, parse_formula, read_document
from ml2p_symbolic.errors import LatexInputError, ML2PError

DECLS = textwrap.dedent(r"""
    %! index i = 1..n, k = 1..K
    %! real x, y, p, a_{ik}, \theta_{jk}, b_i, \hat{\theta}, \hat{a}_{ik}
    %! positive s
    %! function \sigma(t) := \frac{1}{1 + e^{-t}}
    %! random \varepsilon_k \sim \mathcal{N}(0, 1)
    %! define z_i := \sum_{k=1}^{K} a_{ik}\theta_{jk} - b_i
""")

i, k = sp.symbols("i k", integer=True, positive=True)
x, y = sp.symbols("x y", real=True)
a = sp.IndexedBase("a", real=True)
theta = sp.IndexedBase("theta", real=True)
kb = sp.Symbol("k", integer=True)
K = sp.Symbol("K", integer=True, positive=True)


def parse(formula):
    return parse_formula(formula, DECLS)


# --------------------------------------------------------------------------- notation
@pytest.mark.parametrize("formula, expected", [
    (r"\frac{1}{2} x", x / 2),
    (r"\dfrac{x}{y} + \tfrac12", x / y + sp.Rational(1, 2)),
    (r"(x + y)/(x - y)", (x + y) / (x - y)),
    (r"x \cdot y \times 2", 2 * x * y),
    (r"x(y + 1) + \hat{a}_{ik}(x + 1)", x * (y + 1) + (x + 1) * sp.IndexedBase("ahat", real=True)[i, k]),
    # declarations decide juxtaposition: p is a variable, so p(1 - p) is a product (issue 16)
    (r"p(1 - p)", sp.Symbol("p", real=True) * (1 - sp.Symbol("p", real=True))),
    (r"\theta_{jk}\left(x - \sigma(y)\right)", theta[sp.Symbol("j"), k] * (x - 1 / (1 + sp.exp(-y)))),
    # a run of declared one-letter names is their product; a script belongs to the last letter
    (r"x^2 + 2xy + y^2", x ** 2 + 2 * x * y + y ** 2),
    (r"xe^{x}", x * sp.exp(x)),
    (r"xyb_i", x * y * sp.IndexedBase("b", real=True)[i]),
    (r"2x y", 2 * x * y),
    (r"\exp(x) + e^{-x} + \exp\left(y\right)", sp.exp(x) + sp.exp(-x) + sp.exp(y)),
    (r"\log x + \ln(y)", sp.log(x) + sp.log(y)),
    (r"\sqrt{x} + \sqrt[3]{y}", sp.sqrt(x) + y ** sp.Rational(1, 3)),
    (r"\sigma(x)", 1 / (1 + sp.exp(-x))),
    (r"\Big( x + y \Big) \big[ x \big]", (x + y) * x),
    (r"e \pi", sp.E * sp.pi),
    (r"0.25 x", x / 4),
    (r"x \, y \; \quad \qquad \! 1", x * y),
])
def test_notation_translates(formula, expected):
    assert parse(formula) == expected


def test_hat_is_one_symbol_and_subscripts_are_indices():
    assert parse(r"\hat{\theta}") == sp.Symbol("thetahat", real=True)
    assert parse(r"\hat\theta") == parse(r"\widehat{\theta}")
    assert parse(r"a_{ik}") == a[i, k]
    assert parse(r"a_{i,k}") == parse(r"{a}_{ik}") == a[i, k]
    assert parse(r"a_{i1}") == a[i, 1]
    assert parse(r"\theta_{jk}") == theta[sp.Symbol("j"), k]


def test_sum_binds_its_index():
    value = parse(r"\sum_{k=1}^K a_{ik}\theta_{jk}")
    assert value == sp.Sum(a[i, kb] * theta[sp.Symbol("j"), kb], (kb, 1, K))
    # the range of a declared index may be left out; the body ends at + or -
    assert parse(r"\sum_{k} a_{ik} + x") == sp.Sum(a[i, kb], (kb, 1, K)) + x
    assert parse(r"\prod_{k=1}^{3} x") == sp.Product(x, (kb, 1, 3))


def test_derivatives_expectations_and_bars():
    d = parse(r"\frac{\partial z_i}{\partial a_{ik}}")
    assert isinstance(d, Diff) and d.variables == ((a[i, k], 1),)
    assert parse(r"\frac{\partial}{\partial x} x^2") == Diff(x**2, [(x, 1)])
    assert parse(r"\frac{d}{dx} x^2") == parse(r"\frac{d x^2}{d x}") == Diff(x**2, [(x, 1)])
    assert parse(r"\frac{\partial^2 x^3}{\partial x^2}") == Diff(x**3, [(x, 2)])
    e = parse(r"\mathbb{E}_{\varepsilon}\left[\sigma(x + s \varepsilon_k)\right]")
    assert isinstance(e, Expect) and e.variables == (sp.IndexedBase("varepsilon", real=True),)
    assert parse(r"\mathbb{E}_{\varepsilon}[x]") == parse(r"\mathbb{E}_\varepsilon \left[ x \right]")
    bar = parse(r"x^2 \Big|_{x=y, y=1}")
    assert isinstance(bar, EvalAt) and bar.pairs == ((x, y), (y, 1))
    assert parse(r"\left. x^2 \right|_{x=1}") == parse(r"x^2 \bigg|_{x=1}") == EvalAt(x**2, [(x, 1)])
    assert parse(r"\left. x \right|_{\substack{x=1 \\ y=2}}") == EvalAt(x, [(x, 1), (y, 2)])


def test_relation_chains():
    exprs, rels = parse(r"x = y \le 2 < 3 \geq 1 > 0")
    assert rels == ("=", "<=", "<", ">=", ">")
    assert exprs[0] == x and exprs[-1] == 0


def test_chain_rule_through_a_defined_quantity_parses_as_written():
    d = parse(r"\frac{\partial \hat{\theta}}{\partial z_i} \frac{\partial z_i}{\partial a_{ik}}")
    assert d.atoms(Diff)


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("formula, col, message", [
    (r"x + \tau", 5, "undeclared name \\tau"),
    (r"p(y)", 2, "ambiguous 'p(y)': the product p \\cdot (y), or p as a function of (y)?"),
    (r"\hat{a}_{ik}(x)", 13, "ambiguous"),
    (r"xw", 1, "undeclared name 'xw'"),
    (r"\log xy", 7, "ambiguous: does \\log apply"),
    (r"\hat{\theta}(x)", 13, "ambiguous"),
    (r"y + \foo", 5, "unknown command \\foo"),
    (r"\int x", 1, "write the limits of an integral"),
    (r"|x|", 1, "bare '|'"),
    (r"2x/3", 3, "ambiguous '/'"),
    (r"\log x y", 8, "ambiguous"),
    (r"\theta_{ik}", 8, "label j, got i"),
    (r"a_{kk}", 3, "runs over 1..K"),
    (r"x_{1}", 1, "not declared"),
    (r"\text{max} x", 1, "\\text{..} is only understood"),
    (r"x + ", 4, "ends too early"),
    (r"\frac{x}", 9, "ends too early"),
    (r"x = = y", 5, "unexpected '='"),
    (r"\sum a_{ik}", 1, "needs its index"),
    (r"\sigma", 1, "needs its argument in parentheses"),
    (r"\mathbb{E}_{q}[x]", 12, "not a declared random variable"),
])
def test_refusals_name_the_position(formula, col, message):
    with pytest.raises(LatexInputError) as info:
        parse(formula)
    err = info.value
    assert (err.file, err.line, err.col) == ("<formula>", 1, col), str(err)
    assert message in str(err)
    assert str(err).startswith(f"<formula>:1:{col}: error: ")
    assert isinstance(err, ML2PError) and isinstance(err, ValueError)


def test_refusal_position_is_the_true_file_position(tmp_path):
    doc = tmp_path / "d.tex"
    doc.write_text(textwrap.dedent(r"""
        \documentclass{article}
        %! real x, y
        \begin{document}
        \begin{align}
          x + y &= y + x \\
                &= y + \sigma(x)
        \end{align}
        \end{document}
    """).lstrip())
    with pytest.raises(LatexInputError) as info:
        read_document(doc)
    assert str(info.value).startswith(f"{doc}:6:16: error: undeclared name \\sigma")


def test_keep_going_reads_every_display_and_collects_every_error(tmp_path):
    doc = tmp_path / "d.tex"
    doc.write_text(textwrap.dedent(r"""
        %! real x, y
        \[ x + y = y + x \]
        \[ x = \sigma(x) \]
        \begin{align}
          x &= x \\
          y &= \foo
        \end{align}
        \[ 2 x = x + x \]
    """).lstrip())
    with pytest.raises(LatexInputError):   # the default still refuses the document
        read_document(doc)
    d = read_document(doc, keep_going=True)
    assert [(s.id, s.line) for s in d.steps] == [("L2", 2), ("L8", 8)]
    assert [(e.line, e.col) for e in d.errors] == [(3, 8), (6, 8)]
    assert "undeclared name \\sigma" in str(d.errors[0]) and "unknown command \\foo" in str(d.errors[1])


@pytest.mark.parametrize("directive, col, message", [
    ("%! index i = 0..n", 10, "expected 'letter = 1..N'"),
    ("%! real 2", 9, "single name"),
    ("%! frobnicate x", 4, "unknown directive"),
    ("%! function f := x", 13, "expected a function name"),
    ("%! random x \\sim \\mathcal{U}(0, 1)", 17, "only normal laws"),
    ("%! python eq1 = os:system", None, "no longer supported"),
    ("%! python eq8 = ml2p_symbolic.derivations.seed:check_claim", None, "no longer supported"),
    ("%! index k = 1..K\n%! real a_k\n%! define q := a_k", None, "uses the free index k"),
    # an assumption the checker would not use is refused, never silently kept (issue 16)
    ("%! index l = 1..K\n%! real y_l\n%! assume \\sum_l y_l \\le 1", None, "about a sum"),
    ("%! real x\n%! assume x = 1", None, "an equality is not used as an assumption"),
])
def test_directive_refusals(tmp_path, directive, col, message):
    doc = tmp_path / "d.tex"
    doc.write_text(directive + "\n\\[ 1 = 1 \\]\n")
    with pytest.raises(LatexInputError) as info:
        read_document(doc)
    if col is not None:
        assert str(info.value).startswith(f"{doc}:1:{col}: error: "), str(info.value)
    assert message in str(info.value)


def test_python_and_skip_directives_must_name_a_display(tmp_path):
    doc = tmp_path / "d.tex"
    doc.write_text("%! skip eq3: not mine\n\\begin{equation} 1 = 1 \\tag{2} \\end{equation}\n")
    with pytest.raises(LatexInputError, match="no display of .* has this id"):
        read_document(doc)


# --------------------------------------------------------------------------- the reader
DOC = r"""\documentclass{article}
%! index i = 1..n, k = 1..K
%! real x, y, a_{ik}
\begin{document}
Some text with inline $x = 2$ math, not a step.
\begin{align}
  x + y &= y + x \label{comm} \\
        &= \frac{1}{2}(2x + 2y) \nonumber
\end{align}
\[ \sum_{k=1}^{K} a_{ik} = \sum_{k} a_{ik}. \]
$$ x^2 \le x^2 + y^2 $$ (7)
\begin{equation}
  e^{x} \ge 1 + x \tag{T}
\end{equation}
\begin{align*}
  a_{ik} &= a_{ik} \label{r1}\\
  y &= y \label{r2} \\[2pt]
  x &= x
\end{align*}
% \begin{equation} \undefined = 1 \end{equation}  (a comment: ignored)
\end{document}
"""


def test_displays_become_steps_with_ids_and_lines(tmp_path):
    path = tmp_path / "doc.tex"
    path.write_text(DOC)
    doc = read_document(path)
    got = [(s.id, s.line, s.relation) for s in doc.steps]
    assert got == [("comm.1", 7, "="), ("comm.2", 8, "="), ("L10", 10, "="), ("eq7", 11, "<="),
                   ("eqT", 13, ">="), ("r1", 16, "="), ("r2", 17, "="), ("L18", 18, "=")]
    assert doc.steps[1].text == r"y + x = \frac{1}{2}(2x + 2y)"
    assert doc.steps[2].text == r"\sum_{k=1}^{K} a_{ik} = \sum_{k} a_{ik}"
    assert all(s.file == str(path) for s in doc.steps)


def test_markdown_displays_and_trailing_numbers(tmp_path):
    md = tmp_path / "notes.md"
    md.write_text(textwrap.dedent(r"""
        # Notes
        %! real x, y
        $$\begin{aligned} x &= x \\ y &= y + 0 \\ &= y \end{aligned} \quad (3)$$

        ```
        $$ not = math $$
        ```
        $$ x + y = y + x \tag{4} $$
    """).lstrip())
    doc = read_document(md)
    assert [(s.id, s.line) for s in doc.steps] == [("eq3.1", 3), ("eq3.2", 3), ("eq3.3", 3), ("eq4", 8)]


def test_a_row_starting_with_a_left_side_starts_a_new_chain(tmp_path):
    path = tmp_path / "c.tex"
    path.write_text("%! real x, y\n\\begin{align*} x &= x + 0 \\\\ &= x \\\\ y &= y \\end{align*}\n")
    steps = read_document(path).steps
    assert [(str(s.lhs), str(s.rhs)) for s in steps] == [("x", "x"), ("x", "x"), ("y", "y")]


def test_preamble_directives_apply_to_the_document(tmp_path):
    pre = tmp_path / "pre.tex"
    pre.write_text("%! real x\n%! define q := x^2\n")
    doc_path = tmp_path / "d.md"
    doc_path.write_text("$$ q = x x $$\n")
    doc = read_document(doc_path, preamble=pre)
    assert doc.definitions() == [{"name": "q", "kind": "define", "definition": "q := x^2",
                                  "file": str(pre), "line": 2}]
    with pytest.raises(LatexInputError, match="undeclared name q"):
        read_document(doc_path)


def test_alias_reads_one_spelling_as_another(tmp_path):
    path = tmp_path / "al.tex"
    path.write_text("%! index i = 1..n, k = 1..K\n%! real \\theta_{jk}\n"
                    "%! alias \\theta_{ik} = \\theta_{jk}\n\\[ \\theta_{ik} = \\theta_{jk} \\]\n")
    step = read_document(path).steps[0]
    assert step.lhs == step.rhs


from hypothesis import given  # noqa: E402
from strategies import LATEX_DECLARATIONS, latex_token_soups  # noqa: E402

from ml2p_symbolic.engine.latex_input.formula import declarations_from_text  # noqa: E402

SOUP_DECLS = declarations_from_text(LATEX_DECLARATIONS)


@given(latex_token_soups())
def test_any_token_soup_parses_or_is_refused_with_a_position(formula):
    try:
        value = parse_formula(formula, decls=SOUP_DECLS)
    except LatexInputError as err:
        assert str(err).startswith("<formula>:1:") and 1 <= err.col <= len(formula) + 1
        return
    values = value[0] if isinstance(value, tuple) else (value,)
    assert not any(v.has(sp.zoo, sp.nan) for v in values if isinstance(v, sp.Basic))


def test_division_by_zero_is_refused():
    with pytest.raises(LatexInputError, match="undefined"):
        parse(r"\frac{x}{0}")


# --------------------------------------------------------------------------- vectors and matrices
from ml2p_symbolic.engine.latex_input.matrix_nodes import Det, Diag, Entry, Gradient, MatrixEvalAt, Scalar  # noqa: E402

MATRIX_DECLS = textwrap.dedent(r"""
    %! index k = 1..K, l = 1..K, i = 1..n, m = 1..2
    %! positive \hat{\sigma}_k
    %! random \varepsilon_k \sim \mathcal{N}(0, 1)
    %! vector \hat{\theta} (K), \mu (K), \varepsilon (K)
    %! matrix \Sigma (K x K), symmetric positive definite
    %! matrix A (n x K)
    %! matrix R (2 x 2), symmetric
    %! real T_k
    %! define D := \mathrm{diag}(\hat{\sigma}_k^2)
""")
Km = sp.Symbol("K", integer=True, positive=True)
nm = sp.Symbol("n", integer=True, positive=True)
km = sp.Symbol("k", integer=True, positive=True)
lm = sp.Symbol("l", integer=True, positive=True)
SIGMA = sp.MatrixSymbol("Sigma", Km, Km)
THETAHAT = sp.MatrixSymbol("thetahat", Km, 1)
MU = sp.MatrixSymbol("mu", Km, 1)
AMAT = sp.MatrixSymbol("A", nm, Km)


def mparse(formula):
    return parse_formula(formula, MATRIX_DECLS)


@pytest.mark.parametrize("formula, expected", [
    (r"\Sigma^{-1}(\hat\theta - \mu)", SIGMA.I * (THETAHAT - MU)),
    (r"\hat\theta^\top", THETAHAT.T),
    (r"\hat\theta^{\top} + \mu^T + \mu^{T} + \mu^\intercal + \mu^\mathsf{T}", THETAHAT.T + 4 * MU.T),
    (r"(\hat\theta - \mu)^\top \Sigma^{-1} (\hat\theta - \mu)", Scalar((THETAHAT - MU).T * SIGMA.I * (THETAHAT - MU))),
    (r"\det\Sigma + \det(\Sigma^{-1})", Det(SIGMA) + Det(SIGMA.I)),
    (r"\log\det\Sigma", sp.log(Det(SIGMA))),
    (r"\operatorname{tr}(\Sigma^{-1} D)", sp.Trace(SIGMA.I * sp.MatrixSymbol("D", Km, Km))),
    (r"(\Sigma^{-1})_{kl}", Entry(SIGMA.I, km, lm)),
    (r"\Sigma^{-1}_{kk}", Entry(SIGMA.I, km, km)),
    (r"\log(\Sigma^{-1})_{kk}", sp.log(Entry(SIGMA.I, km, km))),
    (r"\Sigma_{kl} + \hat\theta_k + (\hat\theta)_k",
     sp.IndexedBase("Sigma", real=True)[km, lm] + 2 * sp.IndexedBase("thetahat", real=True)[km]),
    (r"A \hat\theta", AMAT * THETAHAT),
    (r"\varepsilon^\top\varepsilon", Scalar(sp.MatrixSymbol("varepsilon", Km, 1).T * sp.MatrixSymbol("varepsilon", Km, 1))),
    (r"2 \Sigma \cdot \hat\theta", 2 * SIGMA * THETAHAT),
    (r"\frac{\Sigma}{2}", SIGMA / 2),
])
def test_matrix_notation_translates(formula, expected):
    assert mparse(formula) == expected


def test_diag_binds_its_index_and_the_gradient_is_a_column():
    d = mparse(r"\mathrm{diag}(\hat{\sigma}_k^2)")
    assert isinstance(d, Diag) and d.shape == (Km, Km)
    assert km not in d.free_symbols and Km in d.free_symbols  # the diagonal position is bound, like a sum's index
    assert mparse(r"\mathrm{diag}(\hat\theta)").shape == (Km, Km)
    assert mparse(r"\mathrm{diag}(1, 2)") == sp.ImmutableMatrix([[1, 0], [0, 2]])
    g = mparse(r"\frac{\partial}{\partial \hat\theta} \det\Sigma")
    assert isinstance(g, Gradient) and g.shape == (Km, 1)
    bar = mparse(r"\frac{\partial \det\Sigma}{\partial \hat\theta}\Big|_{\hat\theta = \mu}")
    assert isinstance(bar, MatrixEvalAt) and bar.pairs == ((THETAHAT, MU),)


def test_matrix_relations_compare_equal_shapes_and_zero_is_the_zero_matrix():
    (lhs, rhs), rels = mparse(r"\Sigma^{-1}(\hat\theta - \mu) = 0")
    assert rhs == sp.ZeroMatrix(Km, 1) and rels == ("=",)
    (lhs, rhs), _ = mparse(r"\hat\theta^\top \mu = \sum_{k=1}^{K} \hat\theta_k \mu_k")
    assert isinstance(lhs, Scalar)


def test_matrix_notation_round_trips_through_sympy_latex():
    for formula in [r"(\hat\theta - \mu)^\top \Sigma^{-1} (\hat\theta - \mu) + \log\det\Sigma",
                    r"\operatorname{tr}(\Sigma^{-1} D) - \sum_{k=1}^{K} \log(\Sigma^{-1})_{kk}",
                    r"\mathrm{diag}(\hat{\sigma}_k^2)", r"\frac{\partial}{\partial \hat\theta} \det\Sigma"]:
        first = mparse(formula)
        assert mparse(sp.latex(first, mul_symbol="dot")) == first, formula


@pytest.mark.parametrize("formula, col, message", [
    (r"\Sigma + \hat\theta", 10, "cannot add a K x K matrix and a K x 1 matrix"),
    (r"\hat\theta \Sigma", 12, "cannot multiply a K x 1 by a K x K matrix"),
    (r"A A", 3, "cannot multiply a n x K by a n x K matrix"),
    (r"\Sigma + 1", 10, "cannot add a K x K matrix and a scalar"),
    (r"\log\Sigma", 5, "must be a scalar"),
    (r"\exp(\hat\theta)", 5, "must be a scalar"),
    (r"\frac{1}{\Sigma}", 1, "a denominator must be a scalar"),
    (r"\Sigma_{kk}^{-1}", 1, "ambiguous"),
    (r"\hat\theta^2", 12, "only a square matrix has powers"),
    (r"\Sigma^{1/2}", 8, "only ^{-1}, ^\\top or a positive integer power"),
    (r"\det \hat\theta", 6, "\\det needs a square matrix"),
    (r"\det x", 6, "undeclared name x"),
    (r"\operatorname{tr}(A)", 18, "the trace needs a square matrix"),
    (r"(\Sigma)_{km}", 10, "m runs over 1..2, but this dimension is K"),
    (r"(\Sigma)_{k}", 10, "takes 2 index letter(s)"),
    (r"R_{13}", 3, "does not fit"),
    (r"\mathrm{diag}(\hat\sigma_k \hat\theta_l)", 14, "exactly one free index"),
    (r"\hat\theta \le \mu", 12, "matrices are related only by '='"),
    (r"\Sigma = 1", 10, "only '= 0' means the zero matrix"),
    (r"\top", 1, "\\top is only understood as a transpose"),
    (r"\hat\sigma_k^\top", 14, "a transpose ^\\top applies to a vector or matrix"),
    (r"T_k^T", 5, "T is declared with subscripts"),
    (r"\frac{\partial \det\Sigma}{\partial \Sigma}", 37, "only a declared vector"),
    (r"\frac{\partial \det\Sigma}{\partial \Sigma_{kl}}", 37, "is not a free variable"),
    (r"\frac{\partial \det\Sigma}{\partial \varepsilon}", 37, "only a declared vector"),
    (r"\det\Sigma \Big|_{\Sigma_{kk} = 1}", 19, "cannot be set by an evaluation bar"),
    (r"\det\Sigma \Big|_{\hat\theta = 1}", 19, "set to a value of another shape"),
    (r"\log(\hat\sigma_k)_{k}", 19, "only understood on a matrix argument"),
    (r"\sum_k \Sigma", 1, "the body of \\sum must be a scalar"),
    (r"\mathbb{E}[\varepsilon]", 11, "an expectation's argument must be a scalar"),
])
def test_matrix_refusals_name_the_position(formula, col, message):
    with pytest.raises(LatexInputError) as info:
        mparse(formula)
    err = info.value
    assert (err.line, err.col) == (1, col), str(err)
    assert message in str(err), str(err)


@pytest.mark.parametrize("directive, message", [
    ("%! index k = 1..K\n%! vector v (n)", "n is not the size of a declared index"),
    ("%! index k = 1..K\n%! vector v (3)", "no declared index runs over 1..3"),
    ("%! index k = 1..K\n%! vector v_k (K)", "declare the vector or matrix by its bare name"),
    ("%! index k = 1..K\n%! vector v", "expected 'name (size)'"),
    ("%! index k = 1..K\n%! vector v (K x K)", "a vector has one size"),
    ("%! index k = 1..K\n%! matrix M (K x K), orthogonal", "unknown matrix structure 'orthogonal'"),
    ("%! index k = 1..K, i = 1..n\n%! matrix M (n x K), symmetric", "is square"),
    ("%! index k = 1..K\n%! real M\n%! matrix M (K x K)", "already declared"),
    ("%! index k = 1..K\n%! real v_{kk}\n%! vector v (K)", "a vector view needs a family with one index"),
    ("%! index k = 1..K\n%! matrix M (K x K)\n%! define N_k := M", "named without a subscript"),
    ("%! index k = 1..K\n%! vector v (K)\n%! function f(t) := v", "a function's value must be a scalar"),
    ("%! index k = 1..K\n%! vector v (K)\n%! assume v = 0", "a relation between scalars"),
])
def test_vector_and_matrix_directive_refusals(tmp_path, directive, message):
    doc = tmp_path / "d.tex"
    doc.write_text(directive + "\n\\[ 1 = 1 \\]\n")
    with pytest.raises(LatexInputError) as info:
        read_document(doc)
    assert message in str(info.value), str(info.value)
    assert str(info.value).startswith(f"{doc}:")


def test_a_vector_view_of_a_declared_family_shares_its_members():
    decls = declarations_from_text(MATRIX_DECLS)
    eps = decls.matrices[r"\varepsilon"]
    assert eps.family.kind == "random" and eps.family.matrix is eps and eps.obj.shape == (Km, 1)
    assert decls.matrices[r"\Sigma"].structure == "symmetric positive definite"
    assert decls.matrices["A"].family.kind == "real" and decls.matrices["A"].obj.shape == (nm, Km)


from strategies import MATRIX_LATEX_DECLARATIONS, matrix_token_soups  # noqa: E402

MATRIX_SOUP_DECLS = declarations_from_text(MATRIX_LATEX_DECLARATIONS)


@given(matrix_token_soups())
def test_any_matrix_token_soup_parses_or_is_refused_with_a_position(formula):
    try:
        value = parse_formula(formula, decls=MATRIX_SOUP_DECLS)
    except LatexInputError as err:
        assert str(err).startswith("<formula>:1:") and 1 <= err.col <= len(formula) + 1
        return
    values = value[0] if isinstance(value, tuple) else (value,)
    assert all(isinstance(v, sp.Basic) for v in values)


# --------------------------------------------------------------------------- issue 16: juxtaposition
JUXTA = r"""%! index i = 1..n
%! real u, v, p, x, \theta, a_i, b_i, u_i
%! define z_i := a_i (\theta - b_i)
%! define P_i := \frac{1}{1 + e^{-z_i}}
%! function \sigma(t) := \frac{1}{1 + e^{-t}}
%! define \ell := \sum_{i} (u_i \log P_i + (1 - u_i) \log(1 - P_i))
%! real d
"""


def _juxta(formula):
    return parse_formula(formula, JUXTA)


def test_a_declared_quantity_written_with_its_variables_is_that_quantity():
    ell = sp.Symbol("ell")
    P = sp.IndexedBase("P")
    theta = sp.Symbol("theta", real=True)
    assert _juxta(r"\ell(\theta)") == ell
    assert _juxta(r"P_i(\theta)") == P[i]           # P_i depends on theta through z_i
    assert _juxta(r"\frac{\partial \ell(\theta)}{\partial\theta}") == Diff(ell, [(theta, 1)])
    # was read as P_i * theta before issue 16: now the quantity, and a product only with a non-name
    assert _juxta(r"a_i P_i (1 - P_i)") == sp.IndexedBase("a", real=True)[i] * P[i] * (1 - P[i])


@pytest.mark.parametrize("formula, col, message", [
    (r"\ell(x)", 5, "\\ell does not depend on x"),
    (r"p(x)", 2, "the product p \\cdot (x), or p as a function of (x)?"),
    (r"\frac{dP_i}{dx}", 6, "d is a declared name"),
])
def test_juxtaposition_the_declarations_leave_open_is_refused_naming_both_readings(formula, col, message):
    with pytest.raises(LatexInputError) as info:
        _juxta(formula)
    assert str(info.value).startswith(f"<formula>:1:{col}: error: ") and message in str(info.value)


def test_the_differential_of_a_subscripted_quantity():
    theta = sp.Symbol("theta", real=True)
    got = parse_formula(r"\frac{dP_1}{d\theta} + \frac{dP_i}{d\theta}",
                        JUXTA.replace("%! real d\n", ""))
    P = sp.IndexedBase("P")
    assert got == Diff(P[1], [(theta, 1)]) + Diff(P[i], [(theta, 1)])


# --------------------------------------------------------------------------- issue 16: common notation
NOTATION = r"""%! index l = 1..K
%! real x, y, \theta, b, z_l
%! define P := \frac{1}{1 + e^{-(\theta - b)}}
%! define Q := \frac{1}{1 + e^{-\theta}}
%! function \sigma(t) := \frac{1}{1 + e^{-t}}
%! function \operatorname{sigmoid}(t) := \frac{1}{1 + e^{-t}}
"""


def _notation(formula):
    return parse_formula(formula, NOTATION)


def test_primes_are_the_derivative_of_a_one_variable_function_or_quantity():
    xs, th = sp.Symbol("x", real=True), sp.Symbol("theta", real=True)
    sig = 1 / (1 + sp.exp(-xs))
    # the derivative is taken by SymPy from the declared body, then evaluated at the argument
    assert sp.simplify(_notation(r"\sigma'(x)") - sig * (1 - sig)) == 0
    assert sp.simplify(_notation(r"\sigma''(x)") - sp.diff(sig, xs, 2)) == 0
    assert _notation(r"\sigma^{\prime}(x)") == _notation(r"\sigma'(x)")
    Q = sp.Symbol("Q")
    assert _notation(r"Q'") == _notation(r"Q^{\prime}") == _notation(r"Q'(\theta)") == Diff(Q, [(th, 1)])


@pytest.mark.parametrize("formula, col, message", [
    (r"P'", 1, "depends on b, theta, not on one scalar variable"),
    (r"x'", 1, "not a declared function"),
    (r"\sigma'^2(x)", 8, "a prime and a power"),
    (r"x + \prime", 5, "\\prime is only understood"),
])
def test_primes_that_are_not_a_one_variable_derivative_are_refused(formula, col, message):
    with pytest.raises(LatexInputError) as info:
        _notation(formula)
    assert str(info.value).startswith(f"<formula>:1:{col}: error: ") and message in str(info.value), str(info.value)


def test_partial_subscript_hyperbolic_functions_exp_braces_and_log_of_a_sum():
    xs, yv = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
    assert _notation(r"\partial_x \sigma(x)") == Diff(1 / (1 + sp.exp(-xs)), [(xs, 1)])
    assert _notation(r"y \partial_{x} x^2 + 1") == yv * Diff(xs ** 2, [(xs, 1)]) + 1
    assert _notation(r"\tanh x + \sinh(x) - \cosh x") == sp.tanh(xs) + sp.sinh(xs) - sp.cosh(xs)
    assert _notation(r"\exp\{x + y\}") == sp.exp(xs + yv)
    assert _notation(r"\operatorname{sigmoid}(x)") == 1 / (1 + sp.exp(-xs))
    lb, K = sp.Symbol("l", integer=True), sp.Symbol("K", integer=True, positive=True)
    z = sp.IndexedBase("z", real=True)
    # \log \sum: the sum takes the rest of the term, so the log is of the whole sum
    assert _notation(r"\log \sum_{l=1}^{K} e^{z_l}") == sp.log(sp.Sum(sp.exp(z[lb]), (lb, 1, K)))


def test_neq_and_approx_are_read_as_relations():
    xs = sp.Symbol("x", real=True)
    assert _notation(r"x^2 + 1 \neq 0") == ((xs ** 2 + 1, 0), ("!=",))
    assert _notation(r"x \approx 1") == ((xs, 1), ("~=",))
    with pytest.raises(LatexInputError, match="cannot be an approximation"):
        parse_formula("x", NOTATION + "%! assume x \\approx 1\n")


def test_text_closing_a_row_is_prose(tmp_path):
    doc = tmp_path / "d.tex"
    doc.write_text(textwrap.dedent(r"""
        %! real x, y
        \begin{align}
        (x + y)^2 &= x^2 + 2xy + y^2 \quad \text{(expand)} \\
        &= y^2 + 2yx + x^2, \qquad \text{by symmetry}. \label{p}
        \end{align}
        \[ x = \text{const} \]
    """).lstrip())
    d = read_document(doc, keep_going=True)
    assert [s.text for s in d.steps] == ["(x + y)^2 = x^2 + 2xy + y^2", "x^2 + 2xy + y^2 = y^2 + 2yx + x^2"]
    assert [(e.line, e.col) for e in d.errors] == [(6, 7)]     # \text where a formula is expected


@pytest.mark.parametrize("formula, col, message", [
    (r"\mathbb{E}_{w \sim \mathcal{N}(0, y)}[w]", 31, "not known to be nonnegative"),
    (r"\mathbb{E}_{y \sim \mathcal{N}(0, 1)}[y]", 13, "must be a fresh letter"),
    (r"\mathbb{E}_{w \sim \mathcal{U}(0, 1)}[w]", 13, "only normal laws"),
    (r"\mathbb{E}_{w \sim \mathcal{N}(0, 1)} w", 1, "needs its argument in brackets"),
    (r"y_{w \sim \mathcal{N}(0, 1)}", 3, "only understood in the subscript of \\mathbb{E}"),
    (r"x \sim y", 3, "unexpected"),
])
def test_inline_laws_are_refused_unless_a_fresh_normal_with_a_nonnegative_variance(formula, col, message):
    with pytest.raises(LatexInputError) as info:
        _notation(formula)
    assert str(info.value).startswith(f"<formula>:1:{col}: error: ") and message in str(info.value), str(info.value)


def test_an_integral_with_its_differential_binds_its_variable():
    t = sp.Symbol("t", real=True)
    xs = sp.Symbol("x", real=True)
    got = _notation(r"\int_{-\infty}^{\infty} t^2 \frac{1}{\sqrt{2\pi}} e^{-t^2/2}\,dt")
    assert got == sp.Integral(t ** 2 * sp.exp(-t ** 2 / 2) / sp.sqrt(2 * sp.pi), (t, -sp.oo, sp.oo))
    assert got.doit() == 1                     # the variance of a standard normal
    # a declared real variable may be integrated over (the integral binds it); d x as two items
    assert _notation(r"2 \int_0^1 x \, d x") == 2 * sp.Integral(xs, (xs, 0, 1))
    assert _notation(r"\int_0^1 x \, \mathrm{d}x") == sp.Integral(xs, (xs, 0, 1))


@pytest.mark.parametrize("formula, col, message", [
    (r"\int x \,dx", 1, "write the limits"),
    (r"\int_0^1 x", 10, "ends with its differential"),
    (r"\int_0^1 \,d\sigma", 13, "cannot integrate over \\sigma"),
    (r"\int_0^1 dx", 1, "no integrand"),
])
def test_integrals_refused(formula, col, message):
    with pytest.raises(LatexInputError) as info:
        _notation(formula)
    assert str(info.value).startswith(f"<formula>:1:{col}: error: ") and message in str(info.value), str(info.value)


def test_an_integral_is_refused_when_d_is_a_declared_name():
    with pytest.raises(LatexInputError, match="d is a declared name"):
        parse_formula(r"\int_0^1 x \,dx", "%! real x, d")


KL_DECLS = NOTATION + "%! positive s\n%! define q := \\mathcal{N}(x, s^2)\n"


@pytest.mark.parametrize("formula, col, message", [
    (r"D_{\mathrm{KL}}(q \| r)", 22, "r is not a declared law"),
    (r"D_{\mathrm{KL}}(q \| \mathcal{N}(0, y))", 33, "not known to be positive"),
    (r"f(q \| q)", 2, "only understood in a KL divergence"),
    (r"x + (q \| q)", 5, "only understood in a KL divergence"),
])
def test_kl_refusals(formula, col, message):
    with pytest.raises(LatexInputError) as info:
        parse_formula(formula, KL_DECLS)
    assert str(info.value).startswith(f"<formula>:1:{col}: error: ") and message in str(info.value), str(info.value)


def test_kl_is_an_expectation_over_the_first_law():
    got = parse_formula(r"D_{\mathrm{KL}}(q \,\|\, \mathcal{N}(0, 1))", KL_DECLS)
    assert isinstance(got, Expect) and len(got.variables) == 1


TABLE_DECLS = r"""%! index i = 1..n, l = 1..K
%! real u, v, p, \theta, a_i, u_i, z_l, x, b
%! positive s
%! function \sigma(t) := \frac{1}{1 + e^{-t}}
%! define P_i := \sigma(a_i \theta)
%! define P := \sigma(\theta)
%! define \ell := \sum_{i} \left(u_i \log P_i + (1 - u_i) \log(1 - P_i)\right)
%! define q := \mathcal{N}(x, s^2)
%! define r := \mathcal{N}(0, 1)
"""


@pytest.mark.parametrize("formula", [
    r"u^2 + 2uv + v^2",
    r"a_i P_i (1 - P_i)", r"p(1 - p)", r"\theta\left(u_i - \sigma(a_i \theta)\right)",
    r"\frac{\partial \ell(\theta)}{\partial\theta}",
    r"\frac{dP_1}{d\theta}",
    r"\log \sum_{l=1}^{K} e^{z_l}",
    r"\tanh x", r"\sigma'(x)", r"P^{\prime}", r"\partial_x \sigma(x)", r"\exp\{x\}",
    r"D_{\mathrm{KL}}(q \,\|\, r)", r"\mathbb{E}_{\varepsilon \sim \mathcal{N}(0,1)}[\varepsilon^2]",
    r"\int_{-\infty}^{\infty} x^2 \frac{1}{\sqrt{2\pi}} e^{-x^2/2}\,dx",
    r"x^2 + 1 \neq 0", r"e^{x} \approx 1 + x",
])
def test_every_example_of_the_issue_16_table_is_read(formula):
    """Each formula of the table of issue 16 (refused before it) is read under plain declarations."""
    parse_formula(formula, TABLE_DECLS)


def test_log_of_a_quantity_written_with_its_variables():
    ell, th = sp.Symbol("ell"), sp.Symbol("theta", real=True)
    assert _juxta(r"\log \ell(\theta)") == sp.log(ell)
    assert _juxta(r"\frac{\partial}{\partial\theta} \log \ell(\theta)") == Diff(sp.log(ell), [(th, 1)])
    with pytest.raises(LatexInputError, match="ambiguous"):
        _juxta(r"\log p(x)")


def test_a_prime_with_one_variable_written_is_the_derivative_in_it():
    # P depends on theta and b: P' alone is refused, P'(\theta) is dP/dtheta
    th = sp.Symbol("theta", real=True)
    assert _notation(r"P'(\theta)") == Diff(sp.Symbol("P"), [(th, 1)])
    with pytest.raises(LatexInputError, match="depends on b, theta"):
        _notation(r"P'")
    with pytest.raises(LatexInputError, match="does not depend on x"):
        _notation(r"P'(x)")


def test_a_power_written_on_a_trigonometric_or_hyperbolic_function():
    xs = sp.Symbol("x", real=True)
    assert _notation(r"\cosh^2 x - \sinh^2 x") == sp.cosh(xs) ** 2 - sp.sinh(xs) ** 2
    assert _notation(r"1 - \tanh^2(x)") == 1 - sp.tanh(xs) ** 2
    for formula in (r"\sin^{-1} x", r"\cos^{x} y", r"\log^2 x"):
        with pytest.raises(LatexInputError):
            _notation(formula)
