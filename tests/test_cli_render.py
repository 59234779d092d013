"""Tests of ``ml2p-proof render``: output to stdout and --out, exit statuses, unknown ids,
--pdf with and without pdflatex. Each run checks only one or two claims, to stay quick."""

import os

import pytest

from ml2p_symbolic.cli import main
from ml2p_symbolic.engine.render.pdf import find_pdflatex


def test_render_to_stdout(capsys):
    assert main(["render", "--quiet", "eq5.b"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(r"\documentclass")
    assert r"\label{claim:eq5.b}" in out and r"\label{claim:eq4.1}" not in out
    assert out.rstrip().endswith(r"\end{document}")


def test_render_to_file(tmp_path, capsys):
    out = tmp_path / "d.tex"
    assert main(["render", "--quiet", "eq4.1", "eq4.3", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    tex = out.read_text(encoding="utf-8")
    assert tex.index(r"\label{claim:eq4.1}") < tex.index(r"\label{claim:eq4.3}")
    assert "REFUTED" in tex and not (tmp_path / "d.pdf").exists()


def test_render_unknown_id_exits_2_with_the_list(capsys):
    assert main(["render", "--quiet", "eq4.1", "no-such-claim"]) == 2
    err = capsys.readouterr().err
    assert "no-such-claim" in err and "eq1.P" in err and "todo.full-loss" in err


def test_render_pdf_without_pdflatex_exits_2_with_install_hint(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "d.tex"
    assert main(["render", "--quiet", "--pdf", "--out", str(out), "eq5.b"]) == 2
    err = capsys.readouterr().err
    assert "apt-get install texlive-latex-base texlive-latex-recommended" in err
    assert not out.exists()


def test_render_pdf_beside_out(tmp_path, capsys):
    if find_pdflatex() is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is missing on CI")
        pytest.skip("pdflatex not installed")
    out = tmp_path / "sub" / "d.tex"
    out.parent.mkdir()
    assert main(["render", "--quiet", "--pdf", "--out", str(out), "eq5.b"]) == 0
    pdf = out.with_suffix(".pdf")
    assert out.exists() and pdf.exists()
    assert pdf.read_bytes().startswith(b"%PDF")
    assert not list(tmp_path.glob("*.aux")) and not list(out.parent.glob("*.aux"))


def test_render_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["render", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for opt in ("--out", "--pdf", "ID"):
        assert opt in out


DOC = "\\documentclass{article}\n\\begin{document}\n\\input{part}\n\\includegraphics[width=3cm]{fig}\n%! real x\n\\[ x + x = 2x \\]\n\\end{document}\n"


@pytest.mark.parametrize(
    "out, what",
    [
        ("paper.tex", "the document itself"),
        ("./sub/../paper.tex", "the document itself"),
        ("link.tex", "the document itself"),  # a symbolic link to it
        ("part.tex", "a file the document reads"),  # its \input{part}
        ("pre.tex", "the preamble"),
        ("fig.tex --pdf", "a file the document reads"),  # the PDF fig.pdf is its figure
    ],
)
def test_render_refuses_to_overwrite_the_document_or_what_it_reads(tmp_path, capsys, monkeypatch, out, what):
    """Issue 18, item 6: ``render paper.tex --out paper.tex`` overwrote the author's source."""
    import ml2p_symbolic.engine.document.check as check_module
    import ml2p_symbolic.engine.latex_input as latex_input
    from ml2p_symbolic.engine.render import pdf as pdfmod

    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    files = {"paper.tex": DOC, "part.tex": "\\[ 1 + 1 = 2 \\]\n", "pre.tex": "%! real y\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "link.tex").symlink_to(tmp_path / "paper.tex")
    (tmp_path / "fig.pdf").write_bytes(b"%PDF-1.5 the author's figure")
    monkeypatch.setattr(check_module, "check_document", lambda *a, **k: pytest.fail("checked before refusing"))
    monkeypatch.setattr(latex_input, "read_document", lambda *a, **k: pytest.fail("read before refusing"))
    monkeypatch.setattr(pdfmod, "find_pdflatex", lambda: "/bin/true")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert main(["render", "paper.tex", "--preamble", "pre.tex", "--quiet", "--out"] + out.split()) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("ml2p-proof render: error: ") and what in lines[0] and "--out" in lines[0]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
