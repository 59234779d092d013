"""Bad input to ``check`` and ``render``, tried as a new user would: one line, exit status 2
(130 for Ctrl-C), never a traceback, nothing half-written, and paths checked before the work."""

import os
import stat

import pytest

import ml2p_symbolic.derivations.seed as seed
from ml2p_symbolic.cli import main
from ml2p_symbolic.derivations.seed.common import MAX_TRAITS
from ml2p_symbolic.engine.render import pdf as pdfmod
from ml2p_symbolic.errors import LatexCompileError


def _no_check(*args, **kwargs):
    raise AssertionError("the claims were checked before the arguments were validated")


def _one_error_line(err):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("traits", ["0", "-3", str(MAX_TRAITS + 1), "1000"])
def test_bad_trait_counts_are_refused_before_any_work(traits, capsys, monkeypatch):
    monkeypatch.setattr(seed.SEED, "_verdict", _no_check)
    assert main(["check", "eq8", "--traits", traits]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "K" in line and traits in line


def test_render_into_a_missing_directory_fails_before_checking(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(seed.SEED, "_verdict", _no_check)
    target = tmp_path / "missing_dir" / "x.tex"
    assert main(["render", "--quiet", "eq4.1", "--out", str(target)]) == 2
    assert "does not exist" in _one_error_line(capsys.readouterr().err)
    assert not target.parent.exists()


def test_render_out_pdf_without_pdf_flag_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(seed.SEED, "_verdict", _no_check)
    assert main(["render", "--quiet", "eq4.1", "--out", str(tmp_path / "d.pdf")]) == 2
    assert "--pdf" in _one_error_line(capsys.readouterr().err)


def test_render_out_pdf_writes_the_pdf_there_and_no_tex(tmp_path, capsys, monkeypatch):
    """``render --out doc.pdf --pdf`` used to overwrite the LaTeX source with the PDF."""
    written = {}

    def fake_compile(tex, pdf_path, **kw):
        written[pdf_path] = tex

    monkeypatch.setattr(pdfmod, "find_pdflatex", lambda: "/bin/true")
    monkeypatch.setattr(pdfmod, "compile_pdf", fake_compile)
    target = tmp_path / "doc.pdf"
    assert main(["render", "--quiet", "eq5.b", "--out", str(target), "--pdf"]) == 0
    assert list(written) == [str(target)] and written[str(target)].startswith(r"\documentclass")
    assert not list(tmp_path.glob("*.tex"))


def test_a_failed_write_keeps_the_old_file(tmp_path, capsys, monkeypatch):
    """The .tex is written to a temporary file and renamed: a failure leaves the old one."""
    from ml2p_symbolic import output

    target = tmp_path / "d.tex"
    target.write_text("the old, good document")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "replace", broken_replace)
    assert main(["render", "--quiet", "eq5.b", "--out", str(target)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(target) in line and "No space left" in line
    assert target.read_text() == "the old, good document"
    assert [p.name for p in tmp_path.iterdir()] == ["d.tex"]  # no temporary file left behind


def _fake_pdflatex(tmp_path, body):
    exe = tmp_path / "pdflatex"
    exe.write_text("#!/bin/sh\n" + body + "\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(exe)


def test_a_hanging_pdflatex_is_stopped_with_a_clear_error(tmp_path):
    exe = _fake_pdflatex(tmp_path, "sleep 60")
    with pytest.raises(LatexCompileError, match="did not finish within 1 s"):
        pdfmod.compile_pdf(r"\documentclass{article}", str(tmp_path / "x.pdf"), pdflatex=exe, timeout=1)
    assert not (tmp_path / "x.pdf").exists()


def test_a_failing_pdflatex_is_quoted_not_a_deleted_log_path(tmp_path):
    exe = _fake_pdflatex(tmp_path, "printf '! Undefined control sequence.\\nl.12 \\\\foo\\n' > document.log; exit 1")
    with pytest.raises(LatexCompileError) as info:
        pdfmod.compile_pdf("x", str(tmp_path / "x.pdf"), pdflatex=exe)
    message = str(info.value)
    assert "Undefined control sequence" in message and "l.12" in message
    assert "/tmp/" not in message and "exit status 1" in message


def test_ctrl_c_during_check_is_one_line_and_exit_130(capsys, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(seed.SEED, "_verdict", interrupted)
    assert main(["check", "eq4.1", "--quiet"]) == 130
    assert "interrupted" in _one_error_line(capsys.readouterr().err)


def test_render_traits_3_shows_three_traits(capsys):
    assert main(["render", "--quiet", "eq1.P", "--traits", "3"]) == 0
    tex = capsys.readouterr().out
    assert "$K = 3$ latent traits" in tex
    assert r"\theta_{j3}" in tex and r"\theta_{j4}" not in tex
