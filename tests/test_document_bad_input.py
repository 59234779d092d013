r"""Bad documents, preambles and options of ``check FILE``: exit 2 and one line
``FILE:LINE:COL: error: ...`` (or ``ml2p-proof check: error: ...``), never a traceback, a hang
or a silent wrong answer (issue 18)."""

import threading
import time

import pytest

from ml2p_symbolic.cli import main
from ml2p_symbolic.engine.document import check as document_check
from ml2p_symbolic.engine.document.check import check_document, wait_for_change
from ml2p_symbolic.engine.latex_input import read_document
from ml2p_symbolic.errors import LatexInputError


_REAL_RUN_POOL = document_check._run_pool


@pytest.fixture(autouse=True)
def _no_checking_before_reading(monkeypatch):
    """Refusals come from the reader: no step may reach a worker in these tests unless a
    test restores the pool."""
    def refuse(*args, **kwargs):
        raise AssertionError("a step was checked")
    monkeypatch.setattr(document_check, "_run_pool", refuse)


def _one_error_line(err):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


def _refused(path, capsys, *extra):
    assert main(["check", str(path), "--quiet", "--no-cache", *extra]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    return _one_error_line(out.err)


# --------------------------------------------------------------------------- 17: encodings, nesting
@pytest.mark.parametrize("data, where", [
    (b"%! real x\n\\[ x = x\xff \\]\n", ":2:9:"),
    (b"\xff\xfe%\x00!\x00", ":1:1:"),                        # UTF-16 with its byte-order mark
    (b"%\x00!\x00 \x00r\x00", ":1:2:"),                      # UTF-16 without it: NUL characters
])
def test_a_document_that_is_not_utf8_is_one_clear_line(tmp_path, capsys, data, where):
    doc = tmp_path / "d.tex"
    doc.write_bytes(data)
    line = _refused(doc, capsys)
    assert line.startswith(str(doc) + where) and ("UTF-8" in line), line


def test_a_preamble_that_is_not_utf8_is_one_clear_line(tmp_path, capsys):
    doc = tmp_path / "d.tex"
    doc.write_text("\\[ x = x \\]\n")
    pre = tmp_path / "p.tex"
    pre.write_bytes(b"%! real \xe9\n")
    line = _refused(doc, capsys, "--preamble", str(pre))
    assert line.startswith(f"{pre}:1:9: error: the preamble is not UTF-8"), line


@pytest.mark.parametrize("make", [lambda n: "x^{" * n + "x" + "}" * n,
                                  lambda n: "{" * n + "x" + "}" * n,
                                  lambda n: "\\frac{1}{" * n + "x" + "}" * n,
                                  lambda n: "\\left(" * n + "x" + "\\right)" * n])
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(tmp_path, capsys, make):
    doc = tmp_path / "d.md"
    doc.write_text("%! real x\n$$ " + make(300) + " = x $$\n")
    line = _refused(doc, capsys)
    assert line.startswith(f"{doc}:2:") and "nested more than" in line, line


def test_moderate_nesting_is_still_read(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text("%! real x\n$$ " + "{" * 40 + "x" + "}" * 40 + " = x $$\n")
    assert len(read_document(doc).steps) == 1


# --------------------------------------------------------------------------- 13: slow reading
@pytest.mark.parametrize("formula", ["2^{2^{40}}", "(2^{1000})^{1000}", "\\sqrt[2^{-40}]{3}", "10^{-2^{40}}",
                                     "1" + "0" * 5000])
def test_a_huge_exact_number_is_refused_while_reading_not_a_hang(tmp_path, capsys, formula):
    """Item 13: reading ``x = 2^{2^{40}}`` made SymPy compute a 2^40-bit number in the main
    process (no --timeout there). Now refused at once, at the power."""
    doc = tmp_path / "d.md"
    doc.write_text(f"%! real x\n$$ x = {formula} $$\n")
    started = time.monotonic()
    line = _refused(doc, capsys)
    assert time.monotonic() - started < 20
    assert line.startswith(f"{doc}:2:") and "digits" in line, line


def test_a_large_but_reasonable_power_is_read(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text("%! real x\n$$ 2^{1000} = 2^{1000} $$\n")
    (step,) = read_document(doc).steps
    assert step.lhs == 2 ** 1000


# --------------------------------------------------------------------------- 11: byte-order mark
def test_a_byte_order_mark_does_not_hide_the_first_directive(tmp_path):
    """Item 11: ``%! positive x`` on line 1 after a BOM was not a directive, so x was not
    positive and the step sqrt(x^2) = x read differently."""
    doc = tmp_path / "d.tex"
    doc.write_bytes(b"\xef\xbb\xbf%! positive x\n\\[ \\sqrt{x^2} = x \\]\n")
    d = read_document(doc)
    assert [decl.kind for decl in d.declarations.variables()] == ["positive"]
    (step,) = d.steps
    assert step.lhs == step.rhs  # sqrt(x^2) is x for positive x
    assert (step.line, step.col) == (2, 15)


# --------------------------------------------------------------------------- 12: code fences
@pytest.mark.parametrize("fence", ["```", "~~~", "````python"])
def test_an_unclosed_code_fence_is_an_error(tmp_path, capsys, fence):
    doc = tmp_path / "d.md"
    doc.write_text(f"%! real x\n{fence}\n$$ x = x + 1 $$\n")
    line = _refused(doc, capsys)
    assert line.startswith(f"{doc}:2:1: error: this code block") and "never closed" in line, line


def test_closed_code_fences_are_skipped(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text("%! real x\n```\n$$ x = x + 1 $$\n```\n~~~~\n```\n$$ y = 1 $$\n~~~~\n$$ x = x $$\n")
    assert [s.line for s in read_document(doc).steps] == [9]


# --------------------------------------------------------------------------- 9: labels
def test_a_label_given_twice_is_refused(tmp_path, capsys):
    """Item 9: ``\\label{Loss}`` twice was accepted (ids starting with L were exempt), and
    ``%! skip Loss`` then hid a false step."""
    doc = tmp_path / "d.tex"
    doc.write_text("%! real x\n%! skip Loss: later\n\\[ x = x \\label{Loss} \\]\n\\[ x + 1 = x \\label{Loss} \\]\n")
    line = _refused(doc, capsys)
    assert line.startswith(f"{doc}:4:1: error:") and "Loss" in line, line


def test_a_label_given_twice_in_an_align_is_refused(tmp_path):
    doc = tmp_path / "d.tex"
    doc.write_text("%! real x\n\\begin{align}\nx &= x \\label{A} \\\\\nx + 1 &= 1 + x \\label{A}\n\\end{align}\n")
    with pytest.raises(LatexInputError, match="the label A is given twice") as exc:
        read_document(doc)
    assert exc.value.line == 4


def test_a_label_equal_to_an_automatic_id_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(document_check, "_run_pool", _REAL_RUN_POOL)  # the readable display is checked
    doc = tmp_path / "d.tex"
    doc.write_text("%! real x\n\\[ x = x \\label{L3} \\]\n\\[ x + 1 = x \\]\n")
    # one error never voids a document (issue 16): the clash is reported, exit 2, and the false
    # display on line 3 is never reported verified
    assert main(["check", str(doc), "--quiet", "--no-cache"]) == 2
    out = capsys.readouterr()
    line = _one_error_line(out.err)
    assert line.startswith(f"{doc}:2:") and "L3" in line and "automatic id" in line, line
    assert f"{doc}:3:" not in out.out


# --------------------------------------------------------------------------- 10: \input
@pytest.mark.parametrize("command", ["\\input{part}", "\\include{part}", "\\input{part.tex}"])
def test_input_and_include_are_refused_not_silently_no_steps(tmp_path, capsys, command):
    """Item 10: the mathematics of an included file was not read: 'no steps', exit 0."""
    (tmp_path / "part.tex").write_text("%! real x\n\\[ x = x + 1 \\]\n")
    doc = tmp_path / "d.tex"
    doc.write_text(f"%! real y\n{command}\n")
    line = _refused(doc, capsys)
    assert line.startswith(f"{doc}:2:1: error:") and "unchecked" in line, line


def test_input_in_a_comment_is_not_refused(tmp_path):
    doc = tmp_path / "d.tex"
    doc.write_text("%! real x\n% \\input{old}\n\\[ x = x \\]\n")
    assert len(read_document(doc).steps) == 1


# --------------------------------------------------------------------------- 3: repeated directives
@pytest.mark.parametrize("lines, where", [
    ("%! index i = 1..n\n%! real a_i\n%! sizes n = 1..2\n%! sizes n = 1..3\n", (4, 9)),
    ("%! real x, y\n%! alias x = y\n%! alias x = y\n", (3, 10)),
    ("%! real x\n%! skip eq1: a\n%! skip eq1: b\n", (3, 9)),
])
def test_a_directive_whose_last_one_would_win_is_refused(tmp_path, lines, where):
    doc = tmp_path / "d.tex"
    doc.write_text(lines + "\\[ x = x \\tag{1} \\]\n")
    with pytest.raises(LatexInputError) as exc:
        read_document(doc)
    assert (exc.value.line, exc.value.col) == where, str(exc.value)


# --------------------------------------------------------------------------- 19: --timeout
@pytest.mark.parametrize("value", ["inf", "nan", "1e300", "0", "-1", "-inf", "100000"])
def test_a_timeout_that_is_not_a_finite_positive_number_is_refused(tmp_path, capsys, value):
    doc = tmp_path / "d.md"
    doc.write_text("%! real x\n$$ x = x $$\n")
    line = _refused(doc, capsys, f"--timeout={value}")
    assert line.startswith("ml2p-proof check: error: --timeout must be a positive number"), line


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 0, -1.0, 1e300])
def test_check_document_refuses_a_bad_timeout(tmp_path, value):
    doc = tmp_path / "d.md"
    doc.write_text("%! real x\n$$ x = x $$\n")
    with pytest.raises(ValueError, match="timeout"):
        check_document(doc, timeout=value, use_cache=False)


# --------------------------------------------------------------------------- 20: {{x}}
def test_double_braces_around_a_name_read_as_the_name(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text("%! real x\n$$ {{x}} = x $$\n$$ {{{x}}}^2 = x^2 $$\n")
    first, second = read_document(doc).steps
    assert first.lhs == first.rhs and second.lhs == second.rhs


# --------------------------------------------------------------------------- 22: --watch
def test_watch_waits_while_the_file_is_missing_during_a_save(tmp_path):
    """Item 22: an editor saving by delete-and-rename leaves the file missing for a moment;
    the watcher yields once the file is back, not while it is missing."""
    doc = tmp_path / "d.md"
    doc.write_text("a")
    changes = wait_for_change([doc], interval=0.05, max_polls=200)
    doc.unlink()
    seen = []

    def restore():
        time.sleep(0.5)
        doc.write_text("bb")

    t = threading.Thread(target=restore)
    t.start()
    seen.append(next(changes))
    t.join()
    assert doc.exists() and seen[0][0] is not None


def test_watch_keeps_going_after_a_bad_save(tmp_path, capsys, monkeypatch):
    """A save that is not UTF-8 or vanished file: one error line, and the watch goes on."""
    doc = tmp_path / "d.md"
    doc.write_text("%! real x\n$$ x = x $$\n")
    states = iter([b"%! real x\n$$ x = x\xff $$\n", None, b"%! real x\n$$ x + 1 = 1 + x $$\n"])

    def fake_changes(paths, **kwargs):
        for data in states:
            if data is None:
                doc.unlink()
            else:
                doc.write_bytes(data)
            yield
        raise KeyboardInterrupt

    monkeypatch.setattr(document_check, "wait_for_change", fake_changes)
    monkeypatch.undo()  # the steps themselves are checked here
    monkeypatch.setattr(document_check, "wait_for_change", fake_changes)
    status = main(["check", str(doc), "--watch", "--quiet", "--no-cache"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "not UTF-8" in err and "No such file" in err
    assert status == 0  # the last save verified
