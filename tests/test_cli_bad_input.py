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


# --------------------------------------------------------------------------- issue 18: input files
import contextlib  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from ml2p_symbolic.input_files import MAX_DATA_BYTES, MAX_TEXT_BYTES  # noqa: E402

_SPEC = '[study]\nreplications = 1\n[grid]\nstudents = 120\nitems = 6\ntraits = 2\n[estimators.mml]\nmethod = "mml"\n'
_Q = "1,0\n1,0\n1,0\n0,1\n0,1\n0,1\n"


@contextlib.contextmanager
def _fifo(path, after=5.0):
    """A FIFO at ``path``. Should a command block reading it (the bug), a writer opens and
    closes it after ``after`` seconds, so that the test fails instead of hanging."""
    os.mkfifo(path)
    stop = threading.Event()

    def unblock():
        if stop.wait(after):
            return
        while not stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader waiting
                time.sleep(0.05)
                continue
            os.close(fd)

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join()


def _files(tmp_path):
    (tmp_path / "spec.toml").write_text(_SPEC)
    (tmp_path / "q.csv").write_text(_Q)
    (tmp_path / "u.csv").write_text("0,1,1,0,1,0\n1,1,0,1,0,1\n" * 20)
    (tmp_path / "doc.tex").write_text("%! real x\n\\[ x + x = 2x \\]\n")


_COMMANDS = {
    "spec": (["study", "{F}"], "study"),
    "results": (["study", "summarize", "{F}.csv"], "study"),
    "resumed results": (["study", "spec.toml", "--results", "{F}.csv", "--resume", "--workers", "1"], "study"),
    "Q-matrix": (["identify", "{F}"], "identify"),
    "sigma": (["identify", "q.csv", "--prior", "known", "--sigma", "{F}"], "identify"),
    "responses": (["fit", "--responses", "{F}", "--q", "q.csv", "--quiet"], "fit"),
    "fit Q-matrix": (["fit", "--responses", "u.csv", "--q", "{F}", "--quiet"], "fit"),
    "check preamble": (["check", "doc.tex", "--preamble", "{F}"], "check"),
    "render preamble": (["render", "doc.tex", "--preamble", "{F}", "--quiet"], "render"),
}


def _run(argv, name, capsys):
    t0 = time.monotonic()
    status = main(argv)
    seconds = time.monotonic() - t0
    line = _one_error_line(capsys.readouterr().err)
    assert status == 2 and line.startswith(f"ml2p-proof {name}: error: "), line
    assert seconds < 4, "the file was read before it was refused"
    return line


@pytest.mark.parametrize("role", list(_COMMANDS))
def test_a_fifo_is_refused_at_once_not_read(tmp_path, capsys, monkeypatch, role):
    """Issue 18, item 16: a FIFO as spec, results, summarize input or Q-matrix hung."""
    monkeypatch.chdir(tmp_path)
    _files(tmp_path)
    argv, name = _COMMANDS[role]
    fifo = "pipe.csv" if "{F}.csv" in " ".join(argv) else "pipe"
    with _fifo(str(tmp_path / fifo)):
        line = _run([a.replace("{F}.csv", fifo).replace("{F}", fifo) for a in argv], name, capsys)
    assert f"{fifo}: a FIFO (named pipe), not a " in line
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["doc.tex", "q.csv", "spec.toml", "u.csv", fifo])


@pytest.mark.parametrize("role", ["spec", "Q-matrix", "sigma", "responses", "check preamble", "render preamble"])
@pytest.mark.parametrize("target, kind", [("/dev/zero", "a device"), ("folder", "a directory")])
def test_a_device_or_a_directory_is_refused_at_once(tmp_path, capsys, monkeypatch, role, target, kind):
    """``/dev/zero`` as a spec exhausted the memory; a directory gave an OS error."""
    monkeypatch.chdir(tmp_path)
    _files(tmp_path)
    (tmp_path / "folder").mkdir()
    argv, name = _COMMANDS[role]
    line = _run([a.replace("{F}", target) for a in argv], name, capsys)
    assert f"{target}: {kind}, not a " in line


@pytest.mark.parametrize(
    "role, size",
    [("spec", MAX_TEXT_BYTES + 1), ("check preamble", MAX_TEXT_BYTES + 1), ("results", MAX_DATA_BYTES + 1),
     ("Q-matrix", MAX_DATA_BYTES + 1), ("responses", MAX_DATA_BYTES + 1)],
)
def test_a_file_above_its_size_limit_is_refused_unread(tmp_path, capsys, monkeypatch, role, size):
    monkeypatch.chdir(tmp_path)
    _files(tmp_path)
    argv, name = _COMMANDS[role]
    big = "big.csv" if "{F}.csv" in " ".join(argv) else "big"
    with open(tmp_path / big, "wb") as fh:  # sparse: no disk used, and all zeros if read
        fh.truncate(size)
    line = _run([a.replace("{F}.csv", big).replace("{F}", big) for a in argv], name, capsys)
    assert f"{big}: the " in line and f"file has {size:,} bytes, above the limit of {size - 1:,}" in line


def test_jobs_out_of_bounds_exit_2_before_checking(tmp_path, capsys, monkeypatch):
    """Issue 18, item 14: ``--jobs -1`` looped forever; --jobs had no upper bound."""
    import ml2p_symbolic.engine.document.check as check_module
    from ml2p_symbolic.numeric.budget import MAX_PROCESSES, process_limit

    monkeypatch.chdir(tmp_path)
    _files(tmp_path)
    monkeypatch.setattr(check_module, "check_document", _no_check)
    for jobs, message in (("-1", "--jobs must be at least 1; got -1"), ("0", "--jobs must be at least 1; got 0"),
                          (str(MAX_PROCESSES + 1), f"--jobs {MAX_PROCESSES + 1} is above the limit of")):
        assert main(["check", "doc.tex", "--jobs", jobs]) == 2
        assert message in _one_error_line(capsys.readouterr().err)
    assert 1 <= process_limit(100e6) <= min(MAX_PROCESSES, 4 * (os.cpu_count() or 1))
    with pytest.raises(ValueError, match="jobs must be a positive integer; got -1"):
        check_module.check_steps([object()], None, jobs=-1)  # the library refuses it too
