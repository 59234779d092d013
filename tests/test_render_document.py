"""ml2p-proof render FILE.tex: the author's document with verdict marks and an appendix."""

import os
import pathlib
import re

import pytest

from ml2p_symbolic.cli import main
from ml2p_symbolic.engine.document.check import check_document
from ml2p_symbolic.engine.render.annotate import annotate_document
from ml2p_symbolic.engine.latex_input import read_document
from ml2p_symbolic.errors import ML2PError
from ml2p_symbolic.engine.render.pdf import find_pdflatex

CHAINS = pathlib.Path(__file__).parent / "corpus" / "chains.tex"


def test_every_checked_relation_sign_carries_its_verdict(tmp_path):
    doc = read_document(CHAINS)
    report = check_document(CHAINS, cache_dir=tmp_path)
    tex = annotate_document(doc, report)
    marks = re.findall(r"\\mlpstep\{(\d+)\}\{(\w+)\}\{(\w)\}\{([^{}]*)\}", tex)
    assert [int(n) for n, *_ in marks] == list(range(1, len(report.results) + 1))
    assert [v for _, v, _, _ in marks] == [r.verdict.verdict for r in report.results]
    assert all(sign == "=" for *_, sign in marks)
    # the author's text is otherwise unchanged: removing the marks gives the source back
    stripped = re.sub(r"\\mlpstep\{\d+\}\{\w+\}\{\w\}\{([^{}]*)\}", r"\1", tex)
    body = stripped[stripped.index("\\begin{document}"):]
    original = CHAINS.read_text()
    assert re.sub(r"\\mlpnote\{[^\n]*?\}(?=\\begin)", "", body.split("\\clearpage")[0]) == \
        original[original.index("\\begin{document}"):original.rindex("\\end{document}")]
    # the appendix states conditions and counterexamples with sympy.latex
    appendix = tex[tex.index("\\clearpage"):]
    cond = next(r for r in report.results if r.verdict.verdict == "conditional")
    assert "Holds under $K = 1" in appendix and cond.claim.id in appendix
    assert "Counterexample: $x = \\frac{1}{2}$" in appendix


def test_render_refuses_markdown(tmp_path):
    md = tmp_path / "n.md"
    md.write_text("%! real x\n$$ x = x $$\n")
    doc = read_document(md)
    with pytest.raises(ML2PError, match="needs a LaTeX document"):
        annotate_document(doc, check_document(md, cache_dir=tmp_path))


def test_render_pdf_of_a_document(tmp_path, capsys):
    if find_pdflatex() is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is missing on CI")
        pytest.skip("pdflatex not installed")
    out = tmp_path / "annotated.tex"
    assert main(["render", str(CHAINS), "--pdf", "--out", str(out), "--quiet",
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and "\\mlpstep" in out.read_text()


def test_render_parse_error_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.tex"
    bad.write_text("\\documentclass{article}\n\\begin{document}\n\\[ y = 1 \\]\n\\end{document}\n")
    assert main(["render", str(bad), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith(f"{bad}:3:4: error: undeclared name y")


def test_appendix_values_are_cut_but_stay_different():
    """Issue 16: 50-digit values ran past the margin; cut to the fewest digits (from 12) that
    still tell the two sides apart (all digits stay in the JSON)."""
    from ml2p_symbolic.engine.render.annotate import _rounded_pair

    assert _rounded_pair(("1.2500000000000000000000000000000000000000000000000",
                          "0.25000000000000000000000000000000000000000000000000")) == ("1.25", "0.25")
    assert _rounded_pair(("0.5", "0.33333333333333333333333333333333333333333333333333")) == ("0.5", "0.333333333333")
    lhs, rhs = _rounded_pair(("1.000000000000000000000001", "1.0"))
    assert lhs != rhs
