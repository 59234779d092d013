"""Tests of ml2p_symbolic.engine.render (with the seed's document): the rendered document, its escaping, the Jupyter reprs,
the committed docs/derivation.tex, and a pdflatex compile of the whole document.

The checker runs once for the module (fixture ``report``); with ``CI`` set, a missing
pdflatex fails the compile tests instead of skipping them.
"""

import os
import re
import shutil
import subprocess

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from ml2p_symbolic.derivations.seed import check
from ml2p_symbolic.engine.records import Claim, Report, Result, Verdict
from ml2p_symbolic.derivations.seed.document import render_document
from ml2p_symbolic.engine.render.latex import escape_text, formula_pieces, render_result, render_verdict, rich_text
from ml2p_symbolic.engine.richtext import segments
from ml2p_symbolic.errors import RichTextError
from ml2p_symbolic.engine.render.notebook import repr_latex, repr_markdown
from ml2p_symbolic.engine.render.pdf import compile_pdf, find_pdflatex
from ml2p_symbolic.derivations.seed.statements import CLAIM_IDS

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DERIVATION = os.path.join(REPO, "docs", "derivation.tex")
REGENERATE = "ml2p-proof render --quiet --out docs/derivation.tex"


@pytest.fixture(scope="module")
def report():
    return check()


@pytest.fixture(scope="module")
def document(report):
    return render_document(report)


def _require_pdflatex():
    if find_pdflatex() is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is missing on CI: .ci/run must install texlive-latex-base "
                        "and texlive-latex-recommended")
        pytest.skip("pdflatex not installed (apt-get install texlive-latex-base texlive-latex-recommended)")


def _math_objects(report):
    """Every SymPy object the document shows: statements, conditions, corrected statements."""
    for r in report.results:
        yield r.claim.statement
        for obj in (r.verdict.condition, r.verdict.corrected):
            if obj is not None:
                yield obj


# --------------------------------------------------------------------------- document content
def test_committed_derivation_is_current(document):
    with open(DERIVATION, encoding="utf-8") as fh:
        committed = fh.read()
    assert committed == document, f"docs/derivation.tex is stale: regenerate it with `{REGENERATE}`"


def test_rendering_is_deterministic(report, document):
    assert render_document(report) == document


def test_document_is_a_complete_article(document):
    assert document.startswith(r"\documentclass")
    assert r"\usepackage{amsmath,amssymb}" in document
    assert document.rstrip().endswith(r"\end{document}")
    assert document.count(r"\begin{document}") == 1


def test_every_claim_in_seed_order_with_its_verdict(report, document):
    positions = [document.index(r"\label{claim:%s}" % cid) for cid in CLAIM_IDS]
    assert positions == sorted(positions)
    for r in report.results:
        section = document[document.index(r"\label{claim:%s}" % r.claim.id):]
        assert r"\verdictbox{ml2p%s}{%s}" % (r.verdict.verdict, r.verdict.verdict.upper()) in section


def test_all_mathematics_is_sympy_latex(report, document):
    """Every formula appears as the pieces of sympy.latex, in order, in the document."""
    squashed = re.sub(r"\s+", "", document)
    for obj in _math_objects(report):
        pieces = formula_pieces(obj)
        start = 0
        for piece in pieces:
            at = squashed.find(re.sub(r"\s+", "", piece), start)
            assert at >= 0, f"piece {piece[:60]!r} of {sp.latex(obj)[:60]!r} not in the document"
            start = at


def test_pieces_rejoin_to_sympy_latex(report):
    for obj in _math_objects(report):
        pieces = formula_pieces(obj)
        assert re.sub(r"\s+", "", " ".join(pieces)) == re.sub(r"\s+", "", sp.latex(obj))


def test_long_statements_are_broken(report):
    by = {r.claim.id: r for r in report.results}
    for cid in ("eq2", "eq3"):
        assert len(formula_pieces(by[cid].claim.statement)) > 2
    # eq. (8) for every K is a sum over traits on each side: cut at its relation
    pieces = formula_pieces(by["eq8"].claim.statement)
    assert len(pieces) == 2 and pieces[1].startswith("=") and max(map(len, pieces)) < 400


def test_counterexample_values_and_condition_shown(report, document):
    for r in report.results:
        v = r.verdict
        section = document[document.index(r"\label{claim:%s}" % r.claim.id):]
        if v.counterexample:
            shown = section.replace(r"\allowbreak{}", "")  # long decimals may break at the margin
            for sym, val in v.counterexample.items():
                assert f"${sp.latex(sym)} = {sp.latex(sp.sympify(val))}$" in shown
        if v.values is not None:
            assert "left-hand side" in section and "right-hand side" in section
        if v.condition is not None:
            assert "Proven to hold exactly when" in section


# --------------------------------------------------------------------------- escaping
_SPECIALS = set("\\&%$#_{}~^<>|")


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2030), max_size=60))
def test_escape_text_leaves_no_bare_special(text):
    out = escape_text(text)
    # remove the escapes we emit; nothing special may remain
    out = re.sub(r"\\(textbackslash|textasciitilde|textasciicircum|textless|textgreater|textbar|ldots)\{\}", "", out)
    out = re.sub(r"\$\\[A-Za-z]+\$", "", out)  # Greek letters and relation signs as inline math
    out = re.sub(r"\\[&%$#_{}]", "", out)
    assert not (_SPECIALS & set(out)), out
    assert all(ord(c) < 128 for c in out)


def test_escape_text_examples():
    assert escape_text("sigmahat_1 - 1/sigmahat_1") == r"sigmahat\_1 - 1/sigmahat\_1"
    assert escape_text("{a}^2 & 5% #1 $x ~ \\") == (
        r"\{a\}\textasciicircum{}2 \& 5\% \#1 \$x \textasciitilde{} \textbackslash{}")


# --------------------------------------------------------------------------- rich text
def test_rich_text_escapes_prose_and_keeps_math():
    assert rich_text(r"50% of $\hat z_i$ & \$3 {x}") == r"50\% of $\hat z_i$ \& \$3 \{x\}"
    assert rich_text(r"$\frac{a_1}{2}$") == r"$\frac{a_1}{2}$"
    assert rich_text("no math_here") == r"no math\_here"


@pytest.mark.parametrize("bad", ["costs $5", "$x$ and $y", "$\\frac{1}{2$", "$a}$", "empty $$ math"])
def test_rich_text_rejects_malformed_math_naming_the_field(bad):
    with pytest.raises(RichTextError) as info:
        rich_text(bad, field="eq9: detail")
    assert isinstance(info.value, ValueError) and "eq9: detail" in str(info.value)


def test_a_malformed_verdict_field_is_named_with_its_claim(report):
    bad = Result(report.results[0].claim, Verdict("open", "simplify", evidence=("ok", "costs $5")))
    with pytest.raises(RichTextError, match=r"eq1\.P: evidence\[1\]"):
        render_result(bad)


def test_long_numbers_in_math_may_break_every_ten_digits():
    value = "0." + "1234567890" * 4
    tex = rich_text(f"${value}$")
    assert tex.count(r"\allowbreak{}") == 3 and tex.replace(r"\allowbreak{}", "") == f"${value}$"
    assert rich_text("$0.123456789012345$") == "$0.123456789012345$"  # short numbers stay whole
    verdict = Verdict("refuted", "m", values=(value, "-1.5e-16"))
    out = render_verdict(verdict)
    assert r"$0.1234567890\allowbreak{}1234567890" in out and r"$-1.5 \cdot 10^{-16}$" in out
    assert r"\texttt" not in out


# the done-when of issue 9: no ASCII mathematics in the prose of a report
_ASCII_MATH = re.compile(
    r"sigmahat|zhat|thetahat|ahat|bhat|Phat|theta_|sigma_|\beps\b|_eps|eps_|d\^2|\^2|\*\*|->|!=|<=|>="
    r"|\|\||\bsum_|\bE_|\bL_|dL/d|\bexp\(|\bsqrt\(|\b[A-Za-z]+_[A-Za-z0-9:]+")


def ascii_math(text, field="text"):
    """The ASCII-math fragments in the prose (outside ``$...$``) of the rich ``text``."""
    return [m.group(0) for kind, seg in segments(text, field) if kind == "text" for m in _ASCII_MATH.finditer(seg)]


def _rich_fields(report):
    """Every rich-text field of ``report``: titles, the draft's words, method, detail,
    evidence, and the values that are not decimal numbers."""
    for r in report.results:
        c, v = r.claim, r.verdict
        yield f"{c.id}: title", c.title
        yield f"{c.id}: seed_text", c.seed_text
        yield f"{c.id}: method", v.method
        yield f"{c.id}: detail", v.detail
        for n, line in enumerate(v.evidence):
            yield f"{c.id}: evidence[{n}]", line
        for n, value in enumerate(v.values or ()):
            if not re.fullmatch(r"-?\d+(\.\d*)?(e[-+]?\d+)?", value):
                yield f"{c.id}: values[{n}]", value


def test_the_ascii_math_checker_finds_what_it_looks_for():
    assert ascii_math("E_eps[sigma(zhat_i)] and d^2 L/du^2 = 0") == ["E_", "zhat", "d^2", "^2"]
    assert ascii_math("a_i1 -> -a_i1, KL(p || q)") == ["a_i1", "->", "a_i1", "||"]
    assert ascii_math(r"$\mathbb{E}_{\varepsilon}[\sigma(\hat z_i)]$ costs \$2, lhs - rhs") == []


def test_no_ascii_math_in_the_prose_of_the_report(report):
    found = {field: hits for field, text in _rich_fields(report) if (hits := ascii_math(text, field))}
    assert not found, found


def test_the_document_has_no_typewriter_mathematics(report, document):
    body = document[document.index(r"\begin{document}"):]
    tt = re.findall(r"\\texttt\{((?:[^{}]|\{[^{}]*\})*)\}", body)
    assert tt, "the ids are set in typewriter"
    ids = {escape_text(r.claim.id) for r in report.results}
    bad = [t for t in tt if t not in ids and re.search(r"hat|eps|\^|=|\\_\w*\d|[()]", t) and t != "nodes='auto'"]
    assert not bad, bad


# --------------------------------------------------------------------------- Jupyter reprs
def _balanced(s):
    depth = 0
    for m in re.finditer(r"\\.|[{}]", s):
        if m.group(0) == "{":
            depth += 1
        elif m.group(0) == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def test_reprs_of_every_kind(report):
    result = report.results[0]
    for obj in (result.claim, result.verdict, result, report):
        tex = obj._repr_latex_()
        assert tex == repr_latex(obj)
        assert tex.startswith(r"$\displaystyle") and tex.endswith("$") and _balanced(tex)
        md = obj._repr_markdown_()
        assert md == repr_markdown(obj)
    assert sp.latex(result.claim.statement) in result.claim._repr_markdown_()
    md = report._repr_markdown_()
    assert md.count("\n| `") == len(report.results)
    for r in report.results:
        assert r.verdict.verdict.upper() in r._repr_markdown_()
        assert _balanced(r._repr_latex_())


def test_repr_of_something_else_is_a_type_error():
    with pytest.raises(TypeError):
        repr_latex(42)
    with pytest.raises(TypeError):
        repr_markdown("claim")


# --------------------------------------------------------------------------- pdflatex
_EVIL = ("sigmahat_1 - 1/sigmahat_1", "{a: 1, b: 2} & 50% #1 \\$5 ~x^2 \\\\ <a|b> and $\\{x\\} \\le 10^{-3}$",
         "0.12345678901234567890123456789012345678901234567890123456789")


def _check_pdf(pdf, log):
    with open(pdf, "rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF") and b"%%EOF" in data[-1024:]
    # pdflatex's own count (page objects sit in compressed object streams in PDF 1.5)
    written = re.search(r"Output written on \S+ \((\d+) pages?", log.replace("\n", ""))
    assert written and int(written.group(1)) >= 1
    for bad in ("undefined references", "Undefined control sequence", "LaTeX Error",
                "There were undefined", "Reference `"):
        assert bad not in log, bad
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
        pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
        assert pages == int(written.group(1))
    return int(written.group(1))


def _overfull(log):
    """The widths (pt) by which pdflatex reports a box too wide, from its log."""
    return [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]


def test_document_compiles_with_pdflatex(document, tmp_path):
    _require_pdflatex()
    pdf = tmp_path / "derivation.pdf"
    log = compile_pdf(document, str(pdf))
    assert _check_pdf(str(pdf), log) > 5
    too_wide = [w for w in _overfull(log) if w > 1.0]
    assert not too_wide, f"lines past the margin by {too_wide} pt"
    # a display line wider than the text is shrunk by \fitmath, which says so in the log;
    # the breaking keeps every line of the seed's document within the margin unshrunk
    shrunk = re.findall(r"ml2p fitmath: a display line of ([\d.]+)pt shrunk to ([\d.]+)pt", log)
    assert not shrunk, shrunk


def test_the_overfull_box_reader_reads_pdflatex_logs():
    log = "Overfull \\hbox (12.5pt too wide) in paragraph at lines 3--4\nOverfull \\hbox (0.3pt too wide) detected"
    assert _overfull(log) == [12.5, 0.3]


def test_special_characters_compile(tmp_path):
    _require_pdflatex()
    x = sp.Symbol("x_1", positive=True)
    claim = Claim("eq.test_#1", "title with _ & % \\$ # { } ~ ^ and $\\hat{x}_1$", "equation", sp.Eq(x, 1),
                  "prose \u201cquoted\u201d, $\\sigma \\le 1$")
    verdict = Verdict("refuted", "method_with_underscores & 100%", counterexample={x: sp.Rational(1, 3)},
                      values=(_EVIL[2], _EVIL[1]), corrected=sp.Eq(x, 2), detail=_EVIL[1], evidence=_EVIL)
    doc = render_document(Report((Result(claim, verdict),)))
    assert r"sigmahat\_1 - 1/sigmahat\_1" in render_verdict(verdict)  # prose, escaped, not typewriter
    assert r"$\hat{x}_1$" in doc and r"\texorpdfstring" in doc
    pdf = tmp_path / "special.pdf"
    _check_pdf(str(pdf), compile_pdf(doc, str(pdf)))
