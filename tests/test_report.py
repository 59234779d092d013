"""Tests of ml2p_symbolic.engine.report and the rich-text convention it prints
(ml2p_symbolic.engine.richtext): plain() for the terminal, rich text kept in JSON."""

import json

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from ml2p_symbolic.engine.records import Claim, Report, Result, Verdict
from ml2p_symbolic.engine.report import plain, readable, report_details, report_table, report_to_dict
from ml2p_symbolic.engine.richtext import code, literal, segments
from ml2p_symbolic.errors import RichTextError


@pytest.mark.parametrize("rich, expected", [
    (r"$\hat{z}_i$", "ẑ_i"),
    (r"$\mathbb{E}_{\varepsilon}[\sigma(\hat z_i)]$", "𝔼_ε[σ(ẑ_i)]"),
    (r"$\frac{\partial \mathcal{L}}{\partial \hat z_i}$", "∂ℒ/∂ẑ_i"),
    (r"$\frac{1}{1 + e^{-z_i}}$", "1/(1 + e^(-z_i))"),
    (r"$\hat\sigma_k^{2} \le 1$", "σ̂_k² ≤ 1"),
    (r"$\sum_{k=1}^{K} a_{ik}$", "Σ_(k=1)^K a_ik"),
    (r"$\mathrm{KL}(\mathcal{N}(\mu, s^2) \,\|\, \mathcal{N}(0, 1))$", "KL(𝒩(μ, s²) ‖ 𝒩(0, 1))"),
    (r"$\partial^2\mathcal{L}/\partial u^2 = 0$", "∂²ℒ/∂u² = 0"),
    (r"$1.1 \cdot 10^{-16}$", "1.1 · 10⁻¹⁶"),
    (r"$\sqrt{1 + \pi s^2/8}$", "√(1 + πs²/8)"),
    (r"$\hat\theta = 0$, $\varepsilon \to -\varepsilon$", "θ̂ = 0, ε → -ε"),
    (r"costs \$5 and a \\ backslash", "costs $5 and a \\ backslash"),
])
def test_plain_known_inputs(rich, expected):
    assert plain(rich) == expected


def test_plain_keeps_what_it_does_not_know_as_latex_source():
    assert plain(r"$\weirdmacro{x}_{1} + \hat{ab}$") == r"\weirdmacro{x}_1 + \hat{ab}"


def test_plain_is_one_line():
    assert plain("two\nlines   and $a\n+ b$") == "two lines and a + b"


def test_plain_names_the_field_of_malformed_text():
    with pytest.raises(RichTextError, match="eq6: detail"):
        plain("an unclosed $x", field="eq6: detail")


@given(st.text(max_size=40))
def test_literal_text_reads_back_as_itself(text):
    assert "".join(seg for _, seg in segments(literal(text))) == text
    assert all(kind == "text" for kind, _ in segments(literal(text)))


def test_code_is_math_typewriter_and_plain_reads_the_name():
    assert code("vae_loss") == r"$\texttt{vae\_loss}$" and plain(code("vae_loss")) == "vae_loss"


def test_readable_uses_pretty_or_the_plain_form_of_the_latex():
    x = sp.Symbol("x")
    assert readable(sp.Eq(x, 0)) == "x = 0"
    u = sp.Symbol("u")
    cond = sp.Eq(sp.Derivative(sp.Function("thetahat_j")(u), u), 0)
    out = readable(cond)
    assert "\n" not in out and "θ̂_j" in out and "Derivative" not in out and "\\" not in out


def _report():
    x = sp.Symbol("x", real=True)
    claim = Claim("c1", r"$\hat z_i = 0$ at $\sigma = 1$", "equation", sp.Eq(x, 0))
    verdict = Verdict("refuted", r"$\texttt{check\_identity}$", counterexample={x: 1}, values=("1", "0"),
                      detail=r"fails: $\mathbb{E}[x] \ne 0$", evidence=(r"$\partial_x f = 1$",))
    return Report((Result(claim, verdict),))


def test_table_and_details_show_the_plain_form():
    report = _report()
    table, details = report_table(report), report_details(report)
    assert "ẑ_i = 0 at σ = 1" in table and "check_identity" in table
    assert "fails: 𝔼[x] ≠ 0" in details and "∂_x f = 1" in details
    assert "$" not in table + details and "\\" not in table + details


def test_json_keeps_the_rich_text():
    data = report_to_dict(_report())["claims"][0]
    assert data["title"] == r"$\hat z_i = 0$ at $\sigma = 1$"
    assert data["detail"] == r"fails: $\mathbb{E}[x] \ne 0$" and data["evidence"] == [r"$\partial_x f = 1$"]
    json.dumps(data)
