"""ml2p-proof check FILE.tex: exit statuses, linter lines, JSON line numbers, refusals."""

import json
import subprocess
import sys
import textwrap

import pytest

from ml2p_symbolic.cli import main

TRUE_DOC = textwrap.dedent(r"""
    \documentclass{article}
    %! real x, y
    \begin{document}
    \begin{align}
      (x + y)^2 &= x^2 + 2 x y + y^2 \\
                &= (y + x)^2
    \end{align}
    \end{document}
""").lstrip()


@pytest.fixture
def cache(tmp_path):
    return ["--cache-dir", str(tmp_path / "cache")]


def test_all_verified_exits_0_with_one_linter_line_per_step(tmp_path, capsys, cache):
    doc = tmp_path / "ok.tex"
    doc.write_text(TRUE_DOC)
    assert main(["check", str(doc), "--quiet", *cache]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{doc}:5: L5: VERIFIED (expand)" or lines[0].startswith(f"{doc}:5: L5: VERIFIED")
    assert lines[1].startswith(f"{doc}:6: L6: VERIFIED")
    assert lines[-1] == "2 verified of 2 steps"


def test_a_wrong_step_exits_1_and_json_has_its_line(tmp_path, capsys, cache):
    doc = tmp_path / "bad.md"
    doc.write_text("%! real x\n\nText.\n\n$$ (x + 1)^2 = x^2 + 1 $$\n")
    assert main(["check", str(doc), "--json", *cache]) == 1
    data = json.loads(capsys.readouterr().out)
    (claim,) = data["claims"]
    assert (claim["id"], claim["line"], claim["file"], claim["verdict"]) == ("L5", 5, str(doc), "conditional")
    assert claim["condition"] == "x = 0" and claim["counterexample"]
    assert data["definitions"] == [] and data["summary"]["conditional"] == 1


@pytest.mark.parametrize("text, where, message", [
    ("%! real x\n\\[ x + \\foo \\]\n", "2:8", "unknown command \\foo"),
    ("\\[ x + 1 = 1 + x \\]\n", "1:4", "undeclared name x"),
    ("%! real x\n\\begin{equation}\n  x = \\sigma(x)\n\\end{equation}\n", "3:7", "undeclared name \\sigma"),
    ("%! bogus x\n", "1:4", "unknown directive"),
])
def test_parse_errors_exit_2_with_one_line_and_no_traceback(tmp_path, text, where, message):
    doc = tmp_path / "e.tex"
    doc.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "ml2p_symbolic", "check", str(doc)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{doc}:{where}: error: ") and message in err[0]
    assert "Traceback" not in proc.stderr


TWO_BAD_FIVE_GOOD = textwrap.dedent(r"""
    %! real u, v
    \begin{equation}
    u + v = v + u \label{a}
    \end{equation}
    \begin{equation}
    u \foo = 1 \label{bad1}
    \end{equation}
    \begin{equation}
    (u + v)^2 = u^2 + 2 u v + v^2 \label{b}
    \end{equation}
    \begin{equation}
    u \cdot v = v \cdot u \label{c}
    \end{equation}
    \begin{equation}
    u + w = 1 \label{bad2}
    \end{equation}
    \begin{equation}
    u - v = -(v - u) \label{d}
    \end{equation}
    \begin{equation}
    (u + 1)^2 = u^2 + 1 \label{e}
    \end{equation}
""").lstrip()


def test_two_unreadable_displays_are_both_reported_and_the_five_others_decided(tmp_path, cache):
    """One error never voids a document: both errors at FILE:LINE:COL on stderr, a verdict for
    each of the five readable displays on stdout (e is false: (u+1)^2 - u^2 - 1 = 2u), exit 2."""
    doc = tmp_path / "mixed.tex"
    doc.write_text(TWO_BAD_FIVE_GOOD)
    proc = subprocess.run([sys.executable, "-m", "ml2p_symbolic", "check", str(doc), "--quiet", *cache],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert err == [f"{doc}:6:3: error: unknown command \\foo",
                   f"{doc}:15:5: error: undeclared name w; declare it with a directive such as '%! real w'"]
    out = proc.stdout.strip().splitlines()
    assert [line.split(": ")[1] for line in out[:-1]] == ["a", "b", "c", "d", "e"]
    assert all(": VERIFIED" in line for line in out[:4]) and ": CONDITIONAL" in out[4]
    assert out[-1].endswith("2 display(s) could not be read (errors above)")
    assert "Traceback" not in proc.stderr


def test_json_lists_every_unreadable_display(tmp_path, capsys, cache):
    doc = tmp_path / "mixed.tex"
    doc.write_text(TWO_BAD_FIVE_GOOD)
    assert main(["check", str(doc), "--json", *cache]) == 2
    data = json.loads(capsys.readouterr().out)
    assert [(e["line"], e["col"]) for e in data["errors"]] == [(6, 3), (15, 5)]
    assert all(e["file"] == str(doc) for e in data["errors"])
    assert [c["id"] for c in data["claims"]] == ["a", "b", "c", "d", "e"]
    assert data["summary"]["unreadable"] == 2


@pytest.mark.parametrize("argv, message", [
    (["check", "eq4.1", "{doc}"], "cannot mix"),
    (["check", "missing.tex"], "no such document"),
    (["check", "{doc}", "--preamble", "missing-pre.tex"], "no such preamble"),
    (["check", "{doc}", "--timeout", "0"], "--timeout must be a positive"),
    (["check", "eq4.1", "--preamble", "{doc}"], "only apply to a document"),
])
def test_usage_errors_exit_2(tmp_path, capsys, argv, message):
    doc = tmp_path / "ok.tex"
    doc.write_text(TRUE_DOC)
    assert main([a.format(doc=doc) for a in argv]) == 2
    assert message in capsys.readouterr().err


def test_preamble_and_watch(tmp_path, capsys, cache, monkeypatch):
    pre = tmp_path / "pre.tex"
    pre.write_text("%! real x\n%! define q := x + 1\n")
    doc = tmp_path / "d.txt"
    doc.write_text("$$ q^2 = x^2 + 2x + 1 $$\n")
    from ml2p_symbolic.engine.document import check as document_check

    saves = iter([1])
    monkeypatch.setattr(document_check, "wait_for_change", lambda paths, **kw: saves)
    assert main(["check", str(doc), "--preamble", str(pre), "--watch", "--quiet", *cache]) == 0
    out = capsys.readouterr()
    assert out.out.count(f"{doc}:1: L1: VERIFIED") == 2  # checked, then re-checked after the save
    assert "re-checking" in out.err


def test_wait_for_change_sees_a_save(tmp_path):
    from ml2p_symbolic.engine.document.check import wait_for_change

    path = tmp_path / "w.tex"
    path.write_text("a")
    changes = wait_for_change([path], interval=0.05, max_polls=3)
    path.write_text("ab")
    assert next(changes)
