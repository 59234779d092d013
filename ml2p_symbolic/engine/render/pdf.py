"""Compiling a LaTeX document to PDF with pdflatex, safely.

pdflatex runs in a temporary directory with ``-halt-on-error`` and a time limit; the PDF
reaches its destination by an atomic rename, so a failed or interrupted compile never leaves
a half-written or stale file where the user asked for one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from ...errors import LatexCompileError
from ...output import atomic_write

__all__ = ["INSTALL_HINT", "find_pdflatex", "compile_pdf"]

#: what to tell a user who has no pdflatex
INSTALL_HINT = ("pdflatex was not found on PATH. Install it, e.g. on Debian/Ubuntu:\n"
                "    apt-get install texlive-latex-base texlive-latex-recommended\n"
                "or write the .tex with --out and compile it elsewhere.")


def find_pdflatex():
    """The path of ``pdflatex`` on ``PATH``, or ``None`` when it is not installed."""
    return shutil.which("pdflatex")


def _log_errors(log, limit=6):
    """The error lines of a pdflatex log (``!`` lines and the line after each, which holds
    the offending input), or its last lines when none is marked."""
    lines = log.splitlines()
    out = []
    for n, ln in enumerate(lines):
        if ln.startswith("!"):
            out.append(ln.strip())
            if n + 1 < len(lines) and lines[n + 1].startswith("l."):
                out.append(lines[n + 1].strip())
    if not out:
        out = [ln.strip() for ln in lines[-limit:] if ln.strip()]
    return out[: 2 * limit]


def compile_pdf(tex, pdf_path, *, runs=2, pdflatex=None, timeout=120, source_dir=None):
    """Compile the LaTeX source ``tex`` with pdflatex and write the PDF to ``pdf_path``
    (atomically). pdflatex runs ``runs`` times (twice resolves references), each run at most
    ``timeout`` seconds. ``source_dir`` (an author's document's folder) is put on
    ``TEXINPUTS`` so that its ``\\input`` files and figures are found.

    Returns the log of the last run (a ``str``).

    Raises
    ======
    LatexCompileError
        (a ``ValueError``) when pdflatex fails, hangs past ``timeout`` or writes no PDF; the
        message quotes the log's error lines (the log itself is deleted with the temporary
        directory).
    FileNotFoundError
        when pdflatex is not installed (the message says how to install it).
    """
    exe = pdflatex or find_pdflatex()
    if exe is None:
        raise FileNotFoundError(INSTALL_HINT)
    env = dict(os.environ)
    if source_dir:
        env["TEXINPUTS"] = os.path.abspath(source_dir) + os.pathsep + env.get("TEXINPUTS", "")
    with tempfile.TemporaryDirectory(prefix="ml2p-render-") as tmp:
        with open(os.path.join(tmp, "document.tex"), "w", encoding="utf-8") as fh:
            fh.write(tex)
        log_path = os.path.join(tmp, "document.log")
        for run in range(1, runs + 1):
            try:
                proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "document.tex"],
                                      cwd=tmp, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise LatexCompileError(f"pdflatex did not finish within {timeout} s (run {run} of {runs}); "
                                        "nothing was written") from None
            log = open(log_path, encoding="latin-1").read() if os.path.exists(log_path) else ""
            if proc.returncode != 0:
                detail = "; ".join(_log_errors(log)) or (proc.stdout or b"").decode("latin-1").strip()[-400:] \
                    or "no log was written"
                raise LatexCompileError(f"pdflatex failed (exit status {proc.returncode}, run {run} of {runs}): {detail}")
        pdf = os.path.join(tmp, "document.pdf")
        if not os.path.exists(pdf):
            raise LatexCompileError("pdflatex exited without error but wrote no PDF: " + "; ".join(_log_errors(log)))
        with open(pdf, "rb") as fh:
            atomic_write(pdf_path, fh.read())
    return log
