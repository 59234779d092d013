"""The ``ml2p-proof`` command line: argument parsing and printing only.

Every decision lives in the library; each subcommand has an ``_add_<name>`` function that
declares its arguments and a ``_run_<name>`` function that calls the library and prints.
Exit status: 0 success (for ``check``: every checked claim verified), 1 a claim not
verified, 2 a usage error (bad arguments, unknown ids, unreadable or malformed files).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .errors import LatexInputError, ML2PError

__all__ = ["main", "run_proof"]


class _UsageError(Exception):
    """Raised by a subcommand for a problem with its arguments (exit status 2)."""


def _check_timeout(value):
    """Refuse a ``--timeout`` that is not a finite positive number of seconds (at most a day)."""
    import math

    if not (math.isfinite(value) and 0 < value <= 86400):
        raise _UsageError(f"--timeout must be a positive number of seconds, at most 86400 (a day), got {value:g}")


# --------------------------------------------------------------------------- check / list
def _add_check(sub):
    p = sub.add_parser(
        "check",
        help="check the seed's claims, or every step of a LaTeX/Markdown document",
        description="Check every step of the seed proof (or only the given ids) and print a "
        "table: id, statement, verdict, method, condition or counterexample. An argument that "
        "names an existing .tex, .md or .txt file is a document instead: every relation of every "
        "display is checked and printed as FILE:LINE: id: VERDICT (docs/format.md describes the "
        "notation and the %! directives). Exit status 0 when every checked claim is verified, 1 "
        "when any is not, 2 on a usage error or a formula the reader does not understand "
        "(every unreadable display is reported as FILE:LINE:COL: error: ..., and every readable "
        "one is still checked and printed).",
    )
    p.add_argument("ids", nargs="*", metavar="ID|FILE",
                   help="claim ids to check (default: all; see 'list'), or documents (.tex, .md, .txt)")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    _add_traits_option(p)
    g = p.add_argument_group("documents")
    g.add_argument("--preamble", metavar="FILE", help="a file of %%! directives applied before the document's own")
    g.add_argument("--timeout", type=float, default=60.0, metavar="S",
                   help="seconds allowed for each step (default 60, at most 86400); past it the step is "
                   "'open (timed out)'")
    g.add_argument("--watch", action="store_true", help="re-check whenever the document or the preamble is saved")
    g.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="steps checked at once (default 2; at most 64, 4 per core, and what memory "
                   "holds at about 100 MB each)")
    g.add_argument("--cache-dir", metavar="DIR", help="where verdicts are cached (default: the user cache directory)")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write cached verdicts")


def _document_args(args):
    """The documents among ``args.ids`` (all or none of them must be documents)."""
    import os

    from .engine.latex_input import DOCUMENT_SUFFIXES

    docs = [a for a in args.ids if os.path.splitext(a)[1].lower() in DOCUMENT_SUFFIXES and os.path.isfile(a)]
    if docs and len(docs) != len(args.ids):
        others = [a for a in args.ids if a not in docs]
        raise _UsageError(f"cannot mix documents and claim ids (or missing files): {', '.join(others)}")
    if not docs:
        looks = [a for a in args.ids if os.path.splitext(a)[1].lower() in DOCUMENT_SUFFIXES]
        if looks:
            raise _UsageError(f"no such document: {', '.join(looks)}")
        used = [o for o, v in (("--preamble", args.preamble), ("--watch", args.watch)) if v]
        if used:
            raise _UsageError(f"{', '.join(used)} only apply to a document (FILE.tex, .md or .txt)")
    _check_timeout(args.timeout)
    if args.preamble is not None and not os.path.exists(args.preamble):
        raise _UsageError(f"no such preamble file: {args.preamble}")
    _check_preamble(args.preamble)  # a FIFO, a device or a directory is refused by name
    if args.jobs is not None:
        from .numeric.budget import check_processes

        check_processes(args.jobs, "--jobs", _STEP_WORKER_BYTES)
    return docs


#: Estimated memory of one worker process checking a document's step (for ``--jobs``).
_STEP_WORKER_BYTES = 100e6


def _check_preamble(preamble):
    """A ``--preamble`` must be a regular file of at most 1 MB (no FIFO, device, directory)."""
    if preamble is not None:
        from .input_files import MAX_TEXT_BYTES, check_input_file

        check_input_file(preamble, "preamble", limit=MAX_TEXT_BYTES)


def _check_documents(docs, args):
    """Read and check each document; print linter lines or JSON; return the exit status."""
    from .engine.document.check import check_document
    from .engine.document.report import document_exit_status, document_lines, document_to_dict
    from .engine.latex_input import read_document
    from .errors import LatexInputError

    status = 0
    outputs = []
    for path in docs:
        try:
            doc = read_document(path, preamble=args.preamble, keep_going=True)
        except LatexInputError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        # every unreadable display is reported (FILE:LINE:COL), every readable one is checked
        for exc in doc.errors:
            print(str(exc), file=sys.stderr)
        progress = None if (args.quiet or args.json or not doc.steps) else _document_progress
        report = check_document(path, timeout=args.timeout, cache_dir=args.cache_dir, use_cache=not args.no_cache,
                                jobs=args.jobs, progress=progress, document=doc)
        if progress:
            print(file=sys.stderr)
        if args.json:
            outputs.append(document_to_dict(report, document=path, preamble=args.preamble,
                                            definitions=doc.definitions(), errors=doc.errors))
        elif doc.steps or not doc.errors:
            print("\n".join(document_lines(report, errors=doc.errors)))
        status = max(status, 2 if doc.errors else document_exit_status(report))
    if args.json:
        print(json.dumps(outputs[0] if len(outputs) == 1 else {"documents": outputs}, indent=2))
    return status


def _document_progress(done, total, step_id, verdict):
    print(f"\r[{done}/{total}] {step_id:<24} {verdict.verdict:<12}", end="", file=sys.stderr, flush=True)


def _watch_documents(docs, args):
    """Check, then re-check after every save of a document or the preamble (Ctrl-C stops)."""
    from .engine.document.check import wait_for_change

    paths = list(docs) + ([args.preamble] if args.preamble else [])
    status = _check_documents(docs, args)
    try:
        for _ in wait_for_change(paths):
            print(f"--- {time.strftime('%H:%M:%S')}: changed, re-checking", file=sys.stderr)
            try:
                status = _check_documents(docs, args)
            except (ML2PError, OSError) as exc:  # a save in progress: report it and keep watching
                print(f"ml2p-proof check: error: {exc}", file=sys.stderr)
                status = 2
    except KeyboardInterrupt:
        pass
    return status


def _add_traits_option(p):
    """``--traits K`` of ``check`` and ``render``: the symbolic model's number of traits."""
    p.add_argument("--traits", "-K", type=int, default=2, metavar="K",
                   help="latent traits of the symbolic model (default 2; any K >= 1)")


def _run_check(args):
    docs = _document_args(args)
    if docs:
        return _watch_documents(docs, args) if args.watch else _check_documents(docs, args)
    from .derivations.seed import check
    from .engine.report import report_exit_status, report_table, report_to_dict

    progress = None if (args.quiet or args.json) else _progress_line
    report = check(args.ids or None, K=args.traits, progress=progress)
    if progress:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report_to_dict(report), indent=2))
    else:
        print(report_table(report))
    return report_exit_status(report)


def _progress_line(i, total, claim_id):
    print(f"\r[{i}/{total}] checking {claim_id:<20}", end="", file=sys.stderr, flush=True)


def _add_list(sub):
    sub.add_parser("list", help="list the claim ids of the seed", description="List the claim ids, in the seed's order, with a short statement.")


def _run_list(args):
    from .derivations.seed.statements import CLAIMS
    from .engine.richtext import plain

    width = max(len(c.id) for c in CLAIMS)
    for c in CLAIMS:
        print(f"{c.id:<{width}}  {plain(c.title)}")
    return 0


# --------------------------------------------------------------------------- render
def _add_render(sub):
    p = sub.add_parser(
        "render",
        help="write the checked derivation as a LaTeX document (optionally a PDF)",
        description="Check the seed's claims (or only the given ids) and write a complete LaTeX "
        "article: the model (eq. 1-3), a summary table of verdicts, then each claim with its "
        "statement as transcribed, verdict, method, counterexample or proven condition and "
        "evidence. Writes to stdout unless --out is given. With --pdf, compiles it with pdflatex "
        "(PDF beside --out, or derivation.pdf in the current directory). Given a FILE.tex "
        "instead, checks that document and writes the author's own document with a verdict mark "
        "on every checked relation sign, a margin note per display and an appendix of "
        "counterexamples and conditions (PDF: FILE-checked.pdf in the current directory, or "
        "beside --out). Exit status 0 on success, 2 on a usage error, unknown ids, a formula "
        "the reader does not understand, or a missing or failing pdflatex.",
    )
    p.add_argument("ids", nargs="*", metavar="ID|FILE.tex",
                   help="claim ids to render (default: all; see 'list'), or one LaTeX document")
    p.add_argument("--out", metavar="FILE.tex", help="write the LaTeX source to FILE.tex instead of stdout")
    p.add_argument("--pdf", action="store_true", help="also compile the document with pdflatex")
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    _add_traits_option(p)
    g = p.add_argument_group("documents")
    g.add_argument("--preamble", metavar="FILE", help="a file of %%! directives applied before the document's own")
    g.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds allowed for each step (default 60)")
    g.add_argument("--cache-dir", metavar="DIR", help="where verdicts are cached (default: the user cache directory)")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write cached verdicts")


def _render_document(path, args):
    """``render FILE.tex``: the author's document with a verdict mark on every checked step."""
    import os

    from .engine.document.check import check_document
    from .engine.render.annotate import annotate_document
    from .engine.latex_input import read_document
    from .engine.render.pdf import INSTALL_HINT, find_pdflatex

    if not path.lower().endswith(".tex"):
        raise _UsageError(f"render needs a LaTeX document (.tex), got {path}")
    if args.pdf and find_pdflatex() is None:
        raise _UsageError(INSTALL_HINT)
    _check_timeout(args.timeout)
    _check_preamble(args.preamble)
    default_pdf = os.path.splitext(os.path.basename(path))[0] + "-checked.pdf"
    tex_path, pdf_path = _render_targets(args, default_pdf=default_pdf)
    _refuse_overwriting_inputs(path, args.preamble, (tex_path, pdf_path))
    doc = read_document(path, preamble=args.preamble)
    progress = None if args.quiet else _document_progress
    report = check_document(path, timeout=args.timeout, cache_dir=args.cache_dir, use_cache=not args.no_cache,
                            progress=progress, document=doc)
    if progress:
        print(file=sys.stderr)
    return _write_rendered(annotate_document(doc, report), tex_path, pdf_path,
                           source_dir=os.path.dirname(os.path.abspath(path)))


#: ``\input{F}``, ``\include{F}``, ``\includegraphics[..]{F}``: files a document reads.
_READ_FILES = r"\\(input|include|includegraphics)\s*(?:\[[^\]]*\]\s*)?\{([^{}]+)\}"


def _document_inputs(path):
    r"""The files the LaTeX document ``path`` reads: itself, and the files of its
    ``\input``, ``\include`` and ``\includegraphics`` (relative to its folder; with the
    ``.tex`` or ``.pdf`` LaTeX would add), whether or not they exist."""
    import os
    import re

    from .input_files import MAX_DATA_BYTES, read_input_bytes

    folder = os.path.dirname(os.path.abspath(path))
    text = read_input_bytes(path, "document", limit=MAX_DATA_BYTES).decode("utf-8", "replace")
    text = re.sub(r"(?<!\\)%.*", "", text)  # commented-out lines read nothing
    files = [path]
    for command, name in re.findall(_READ_FILES, text):
        name = os.path.join(folder, os.path.expanduser(name.strip()))
        files.append(name)
        if not os.path.splitext(name)[1]:
            files.append(name + (".pdf" if command == "includegraphics" else ".tex"))
    return files


def _same_file(a, b):
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare the resolved paths
        return os.path.realpath(a) == os.path.realpath(b)


def _refuse_overwriting_inputs(path, preamble, targets):
    r"""``render FILE.tex``: refuse, before any work, an output path that is the document, its
    preamble or a file it reads (``\input``, ``\include``, a figure): it would be overwritten."""
    inputs = _document_inputs(path) + ([preamble] if preamble else [])
    for target in targets:
        for source in inputs if target else ():
            if _same_file(target, source):
                what = ("the document itself" if source == path else "the preamble" if source == preamble
                        else f"a file the document reads ({source})")
                raise _UsageError(f"{target} is {what}; rendering would overwrite it; choose another "
                                  "--out")


def _write_rendered(tex, tex_path, pdf_path, source_dir=None):
    """Write the LaTeX source (atomically) and/or its PDF; stdout when neither is asked for."""
    from .engine.render.pdf import compile_pdf
    from .output import atomic_write

    if tex_path:
        atomic_write(tex_path, tex)
        print(f"wrote {tex_path}", file=sys.stderr)
    elif not pdf_path:
        sys.stdout.write(tex)
    if pdf_path:
        compile_pdf(tex, pdf_path, source_dir=source_dir)
        print(f"wrote {pdf_path}", file=sys.stderr)
    return 0


def _render_targets(args, default_pdf="derivation.pdf"):
    """(tex path or None, pdf path or None) of ``render``, validated before any work."""
    import os

    from .output import check_writable

    out = args.out
    if out and out.lower().endswith(".pdf"):
        if not args.pdf:
            raise _UsageError(f"--out {out} names a PDF; add --pdf to compile it, or give a .tex name")
        tex_path, pdf_path = None, out
    else:
        tex_path = out
        pdf_path = (os.path.splitext(out)[0] + ".pdf" if out else default_pdf) if args.pdf else None
    for path in (tex_path, pdf_path):
        if path:
            check_writable(path)
    return tex_path, pdf_path


def _run_render(args):
    from .derivations.seed import check
    from .derivations.seed.document import render_document
    from .engine.render.pdf import INSTALL_HINT, find_pdflatex

    import os

    if args.ids and args.ids[0].lower().endswith((".tex", ".md", ".txt")):
        if len(args.ids) != 1:
            raise _UsageError("render takes one document")
        if not os.path.isfile(args.ids[0]):
            raise _UsageError(f"no such document: {args.ids[0]}")
        return _render_document(args.ids[0], args)
    if args.preamble:
        raise _UsageError("--preamble only applies to a document (FILE.tex)")
    if args.pdf and find_pdflatex() is None:
        raise _UsageError(INSTALL_HINT)
    tex_path, pdf_path = _render_targets(args)
    progress = None if args.quiet else _progress_line
    report = check(args.ids or None, K=args.traits, progress=progress)
    if progress:
        print(file=sys.stderr)
    return _write_rendered(render_document(report), tex_path, pdf_path)


# --------------------------------------------------------------------------- identify
def _add_identify(sub):
    p = sub.add_parser(
        "identify",
        help="decide whether the ML2P parameters of a Q-matrix are identified",
        description="Read a Q-matrix (CSV: one row of 0/1 per item, one column per trait, 1 to 3 "
        "traits; an optional header row of trait names, first column of item names and '#' "
        "comments, read exactly as 'fit --q' reads it) and decide whether the free slopes and the "
        "intercepts are identified from the response distribution with theta ~ N(0, I), or with "
        "--prior known theta ~ N(0, Sigma) for the Sigma of --sigma, or with --prior correlation "
        "theta ~ N(0, R) for a correlation matrix R whose correlations are estimated too (R of "
        "--sigma, or a generic one): the dimension of the set of equivalent parameters (Jacobian "
        "rank, checked against the SymPy count of the pattern-preserving transformations the "
        "prior allows) and the symmetries. At most 3 traits: "
        "beyond, the tensor quadrature over the traits is not accurate enough to find the "
        "rank. Large Q-matrices (500 items: about 5 s) print their progress on stderr. Exit "
        "status 0, or 2 for an unreadable or malformed file or a Q-matrix too large for memory.",
    )
    p.add_argument("q_file", metavar="Q.csv", help="the Q-matrix file (1 to 3 trait columns)")
    p.add_argument("--no-positive", action="store_true",
                   help="do not constrain the slopes to be non-negative (sign flips become symmetries)")
    p.add_argument("--prior", choices=("standard", "known", "correlation"), default="standard",
                   help="the traits' prior: standard N(0, I) (default); known N(0, Sigma), Sigma "
                   "from --sigma; correlation N(0, R), the correlations of R estimated with the "
                   "other parameters (R from --sigma, or a generic one)")
    p.add_argument("--sigma", metavar="FILE.csv",
                   help="the K x K covariance matrix (--prior known) or correlation matrix (--prior "
                   "correlation): CSV of decimal numbers, optional header row and first column of "
                   "trait names")
    p.add_argument("--json", action="store_true",
                   help="print free_dimensions, identified and symmetries as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")


_PRIOR_TEXT = {
    "standard": "theta ~ N(0, I)",
    "known": "theta ~ N(0, Sigma), Sigma known (--sigma)",
    "correlation": "theta ~ N(0, R), R a correlation matrix estimated with the other parameters",
}


def _run_identify(args):
    from .identifiability import FULL_PATTERN_MAX_ITEMS, analyze, read_q_matrix

    from .engine.richtext import plain
    from .numeric.data import read_sigma

    Q = read_q_matrix(args.q_file)
    if args.prior == "known" and args.sigma is None:
        raise _UsageError("--prior known needs --sigma FILE.csv, the traits' covariance matrix")
    if args.prior == "standard" and args.sigma is not None:
        raise _UsageError("--sigma needs --prior known or --prior correlation (the standard prior is N(0, I))")
    Sigma = None if args.sigma is None else read_sigma(args.sigma, Q.shape[1],
                                                       correlation=args.prior == "correlation")
    show = not (args.quiet or args.json) and Q.shape[0] > FULL_PATTERN_MAX_ITEMS
    progress = (lambda message: print(f"identify: {message}", file=sys.stderr, flush=True)) if show else None
    result = analyze(Q, positive=not args.no_positive, prior=args.prior, Sigma=Sigma, progress=progress)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(f"identified:       {'yes' if result.identified else 'no'}")
    family = "rotations" if result.prior == "standard" else "transformations the prior allows"
    print(f"prior:            {_PRIOR_TEXT[result.prior]}")
    print(f"free dimensions:  {result.free_dimensions} (Jacobian nullity at "
          f"{len(result.numeric_free_dimensions)} random points: "
          f"{', '.join(map(str, result.numeric_free_dimensions))}; {family} (SymPy): "
          f"{result.symbolic_free_dimensions}; {'agree' if result.agree else 'DISAGREE'})")
    print(f"parameters:       {result.n_parameters}; items per trait: "
          f"{', '.join(map(str, result.items_per_trait))}")
    print(f"criterion:        {result.criterion} (singular-value gap {result.singular_gap:.3g})")
    print("symmetries:" + ("" if result.symmetries else "       none"))
    for s in result.symmetries:
        print(f"  - {plain(s)}")
    return 0


# --------------------------------------------------------------------------- fit
def _add_fit(sub):
    p = sub.add_parser(
        "fit",
        help="fit an ML2P-VAE (numpy) to simulated or given data and report parameter recovery",
        description="Simulate a Sim-ECPE-like data set (each item loads on one or two traits, "
        "every trait measured by at least three items, a ~ U(0.25, 1.75) where Q is 1, "
        "b ~ U(-3, 3), theta ~ N(0, I)) or read --responses and --q CSV files; train the "
        "ML2P-VAE (MLP encoder, Q-masked non-negative decoder) with minibatch Adam and early "
        "stopping; print recovery (RMSE, bias, correlation of a, b, theta) when the truth is "
        "known. --q-prob and --correlated give the Sim-6 design instead (Q_ik ~ Bernoulli(p), "
        "theta ~ N(0, Sigma) with Sigma given to the fit). --estimate-correlation estimates the "
        "latent correlation matrix instead (VAE: learnt with the decoder as R = L L' with unit-norm "
        "rows of L, a correlation matrix at every step; MML: a parameter-expanded EM step) and "
        "reports its recovery; with --correlated, Sigma then only draws the data. --method mml "
        "gives the marginal maximum "
        "likelihood estimate by EM instead (Gauss-Hermite quadrature, tensor for K <= 3, adaptive "
        "above; EAP abilities). Every option is checked, and the memory the run needs is "
        "estimated, before any work: too much is refused with the figure. Ctrl-C stops the run "
        "with exit status 130 and writes nothing. Exit status 0 on success, 2 on a usage error, "
        "a malformed file or a run too large for memory.",
    )
    p.add_argument("--method", choices=("vae", "mml"), default="vae",
                   help="vae: the ML2P-VAE (default); mml: marginal maximum likelihood by EM")
    p.add_argument("--estimate-correlation", action="store_true",
                   help="estimate the latent correlation matrix R with the item parameters (prior "
                   "N(0, R), K >= 2); with --correlated, Sigma only simulates the data and is not "
                   "given to the fit")
    g = p.add_argument_group("data (simulated unless --responses and --q are given)")
    g.add_argument("--students", type=int, default=10_000, metavar="N", help="students to simulate (default 10000)")
    g.add_argument("--items", type=int, default=28, metavar="n", help="items to simulate (default 28)")
    g.add_argument("--traits", type=int, default=3, metavar="K", help="latent traits to simulate (default 3)")
    g.add_argument("--seed", type=int, default=0, metavar="S", help="seed >= 0 for simulation and training (default 0)")
    g.add_argument("--q-prob", type=float, metavar="p",
                   help="simulate Q_ik ~ Bernoulli(p), p in (0, 1], as in Sim-6 (default: the Sim-ECPE-like Q)")
    g.add_argument("--correlated", action="store_true",
                   help="simulate theta ~ N(0, Sigma), Sigma a random correlation matrix (off-diagonal "
                   "~ U(0, 0.5)), and give Sigma to the fit as the latent prior")
    g.add_argument("--responses", metavar="FILE",
                   help="CSV of 0/1 responses (empty = missing), one row per student; an optional "
                   "header and first column of student ids")
    g.add_argument("--q", metavar="FILE", help="Q-matrix CSV, one row per item, one 0/1 column per trait")
    t = p.add_argument_group("training")
    t.add_argument("--iw-samples", type=int, default=1, metavar="k",
                   help="importance samples: 1 = the seed's one-sample ELBO (default), k > 1 = IWAE bound")
    t.add_argument("--epochs", type=int, default=200, help="at most this many epochs, >= 1 (default 200)")
    t.add_argument("--batch-size", type=int, default=128, help="students per Adam step, >= 1 (default 128)")
    t.add_argument("--lr", type=float, default=0.01, help="initial Adam learning rate, > 0 (default 0.01)")
    t.add_argument("--hidden", default="64", metavar="W[,W...]", help="encoder hidden-layer widths, >= 1 (default 64)")
    t.add_argument("--holdout", type=float, default=0.1,
                   help="fraction in [0, 1) held out for early stopping (default 0.1)")
    t.add_argument("--no-refit", dest="refit", action="store_false",
                   help="return the early-stopped model instead of refitting on all students")
    p.set_defaults(vae_defaults={a.dest: a.default for a in t._group_actions})
    m = p.add_argument_group("marginal maximum likelihood (--method mml)")
    m.add_argument("--quadrature", choices=("auto", "tensor", "adaptive"), default=None,
                   help="auto (default): tensor Gauss-Hermite for K <= 3, adaptive above")
    m.add_argument("--nodes", type=int, metavar="G",
                   help="Gauss-Hermite nodes per trait (default 15 tensor; adaptive: 3-10 by K)")
    m.add_argument("--tol", type=float, metavar="T", help="stop when the log-likelihood changes by less (default 1e-4)")
    m.add_argument("--max-iter", type=int, metavar="M", help="at most M EM iterations (default 500)")
    p.add_argument("--out", metavar="DIR",
                   help="write a_hat.csv, b_hat.csv, theta_hat.csv (with a student column), curve.csv "
                   "to DIR, all or nothing")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


#: fit()'s parameters as the command line names them, for its messages.
_FIT_OPTIONS = {"iw_samples": "--iw-samples", "epochs": "--epochs", "batch_size": "--batch-size",
                "lr": "--lr", "hidden": "--hidden", "holdout": "--holdout", "seed": "--seed"}


def _run_fit(args):
    from .numeric.budget import check_memory
    from .numeric.data import check_out_dir, load_or_simulate, write_estimates
    from .numeric.simulate import simulation_bytes
    from .numeric.train import check_fit_options, check_holdout, fit, fit_bytes, fit_summary

    mml_options = {"quadrature": "rule", "nodes": "nodes", "tol": "tol", "max_iter": "max_iter"}
    if args.method == "mml":
        vae_set = [d for d, v in args.vae_defaults.items() if getattr(args, d) != v]
        if vae_set:
            names = ["--no-refit" if d == "refit" else "--" + d.replace("_", "-") for d in vae_set]
            raise _UsageError(", ".join(names) + " train the VAE; they cannot be used with --method mml")
    elif any(getattr(args, d) is not None for d in mml_options):
        raise _UsageError("--quadrature, --nodes, --tol and --max-iter are options of --method mml")

    try:
        hidden = tuple(int(w) for w in args.hidden.split(","))
    except ValueError:
        raise _UsageError(f"--hidden must be comma-separated integers; got {args.hidden!r}") from None
    check_fit_options(iw_samples=args.iw_samples, epochs=args.epochs, batch_size=args.batch_size,
                      lr=args.lr, hidden=hidden, holdout=args.holdout, seed=args.seed, names=_FIT_OPTIONS)
    files = args.responses is not None or args.q is not None
    if files and (args.q_prob is not None or args.correlated):
        raise _UsageError("--q-prob and --correlated describe simulated data; "
                          "they cannot be used with --responses and --q")
    if not files:
        for option, value in (("--students", args.students), ("--items", args.items), ("--traits", args.traits)):
            if value < 1:
                raise _UsageError(f"{option} must be a positive integer; got {value}")
        if args.q_prob is not None and not 0.0 < args.q_prob <= 1.0:
            raise _UsageError(f"--q-prob must be a probability in (0, 1]; got {args.q_prob}")
        if args.estimate_correlation and args.traits < 2:
            raise _UsageError(f"--estimate-correlation needs --traits >= 2 (a correlation between "
                              f"traits); got {args.traits}")
        if args.method == "vae":
            check_holdout(args.holdout, args.students, "--holdout")
        sizes = (args.students, args.items, args.traits)
        check_memory(simulation_bytes(*sizes) + fit_bytes(*sizes, hidden=hidden, batch_size=args.batch_size,
                                                          iw_samples=args.iw_samples, holdout=args.holdout),
                     f"fit --students {args.students} --items {args.items} --traits {args.traits}"
                     + (f" --iw-samples {args.iw_samples}" if args.iw_samples > 1 else ""),
                     "use fewer students, items or importance samples")
    if args.out:
        check_out_dir(args.out)
    q_design = "ecpe" if args.q_prob is None else args.q_prob
    U, Q, truth, ids = load_or_simulate(responses=args.responses, q=args.q, students=args.students,
                                        items=args.items, traits=args.traits, seed=args.seed,
                                        q_design=q_design, correlated=args.correlated, with_ids=True)
    Sigma = truth.Sigma if args.correlated and not args.estimate_correlation else None
    quiet = args.quiet or args.json
    try:
        if args.method == "mml":
            from .numeric.mml import fit_mml

            kw = {name: getattr(args, d) for d, name in mml_options.items() if getattr(args, d) is not None}
            result = fit_mml(U, Q, Sigma=Sigma, estimate_correlation=args.estimate_correlation,
                             quiet=quiet, **kw)
        else:
            result = fit(U, Q, iw_samples=args.iw_samples, epochs=args.epochs, batch_size=args.batch_size,
                         lr=args.lr, hidden=hidden, holdout=args.holdout, Sigma=Sigma, refit=args.refit,
                         estimate_correlation=args.estimate_correlation, seed=args.seed, quiet=quiet)
    except KeyboardInterrupt:
        if not quiet:
            print(file=sys.stderr)  # end the progress bar's line
        raise
    summary = fit_summary(result, truth)
    if args.correlated:
        summary["Sigma"] = truth.Sigma.tolist()
    if args.out:
        summary["out"] = write_estimates(args.out, result, ids)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    if args.method == "mml":
        print(f"MML fit (EM, {summary['quadrature']}): {summary['students']} students, "
              f"{summary['items']} items, {summary['traits']} traits; {summary['epochs']} iterations"
              f"{'' if summary['converged'] else ' (max-iter reached, not converged)'}; "
              f"-loglik/N {summary['train_loss']:.4f}; {summary['seconds']:.1f} s")
    else:
        print(f"ML2P-VAE fit: {summary['students']} students, {summary['items']} items, "
              f"{summary['traits']} traits; iw_samples={summary['iw_samples']}; "
              f"{summary['epochs']} epochs (best {summary['best_epoch']}); {summary['seconds']:.1f} s")
    if args.q_prob is not None or args.correlated:
        given = "estimated by the fit" if args.estimate_correlation else "given to the fit"
        print("simulated: " + "; ".join(
            ([f"Q_ik ~ Bernoulli({args.q_prob:g})"] if args.q_prob is not None else [])
            + ([f"theta ~ N(0, Sigma), Sigma {given}"] if args.correlated else [])))
    if summary["recovery"] is None:
        print("truth unknown (data from files): no recovery figures")
        print(f"{'item':>4}  " + "  ".join(f"{'a' + str(k + 1):>7}" for k in range(Q.shape[1])) + f"  {'b':>7}")
        for i, (a, b) in enumerate(zip(result.A_hat, result.b_hat), start=1):
            print(f"{i:>4}  " + "  ".join(f"{v:7.3f}" for v in a) + f"  {b:7.3f}")
    else:
        print(f"{'':<6}{'rmse':>9}{'bias':>9}{'corr':>9}")
        for name, r in summary["recovery"].items():
            print(f"{name:<6}{r['rmse']:9.4f}{r['bias']:9.4f}{r['corr']:9.4f}")
    if result.Sigma_hat is not None:
        print("estimated correlation matrix R (Sigma_hat)"
              + (", above the diagonal; the true Sigma below it:" if args.correlated else ":"))
        K = result.Sigma_hat.shape[0]
        for i in range(K):
            row = [result.Sigma_hat[i, j] if (j >= i or not args.correlated) else truth.Sigma[i, j]
                   for j in range(K)]
            print("  " + "  ".join(f"{v:7.3f}" for v in row))
    if args.out:
        print("wrote " + ", ".join(summary["out"]))
    return 0


# --------------------------------------------------------------------------- study
def _add_study(sub):
    p = sub.add_parser(
        "study",
        help="run a simulation study from a TOML spec on Dask, or summarize its results",
        usage="ml2p-proof study SPEC.toml [--results PATH] [--resume] [--scheduler ADDRESS] "
        "[--workers N] [--json] [--quiet]\n       ml2p-proof study summarize RESULTS "
        "[--format {markdown,latex,json}] [--out FILE] [--plots DIR]",
        description="Run a Monte Carlo study: every replication of every estimator on every "
        "condition of the spec's grid is one task (simulate with its seed, fit, score), run on a "
        "local Dask cluster (--workers processes) or an existing one (--scheduler). Each result is "
        "appended to the results file as it finishes (Parquet when pyarrow is installed, else CSV; "
        "default NAME.results.parquet or .csv here), so --resume continues an interrupted study "
        "without redoing finished tasks; a failed task is recorded with its error. Prints the "
        "RMSE/bias/correlation table (mean and Monte Carlo SE over replications). 'summarize "
        "RESULTS' prints that table from a results file (Markdown, LaTeX booktabs or JSON) and "
        "with --plots writes rmse_vs_n.png and estimates.png (matplotlib). Needs the study extra "
        "(pip install 'ml2p-symbolic[study]'). Exit status 0 when every task succeeded, 1 when a "
        "task failed, 2 on a usage error (bad spec, missing extra, existing results file without "
        "--resume), 130 when interrupted.",
    )
    p.add_argument("spec", metavar="SPEC.toml", help="the study spec, or the word summarize")
    p.add_argument("results_file", nargs="?", metavar="RESULTS", help="with summarize: the results file")
    r = p.add_argument_group("running")
    r.add_argument("--results", metavar="PATH", help="results file, *.parquet or *.csv (default NAME.results.*)")
    r.add_argument("--resume", action="store_true", help="continue the results file, skipping finished tasks")
    r.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    r.add_argument("--workers", type=int, metavar="N",
                   help="local cluster processes (default: one per core; at most 64, 4 per core, "
                   "and what memory holds at about 100 MB each)")
    r.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    s = p.add_argument_group("summarize")
    s.add_argument("--format", choices=("markdown", "latex", "json"), default=None,
                   help="table format (default markdown)")
    s.add_argument("--out", metavar="FILE", help="write the table to FILE instead of stdout")
    s.add_argument("--plots", metavar="DIR", help="write rmse_vs_n.png and estimates.png to DIR")
    p.add_argument("--json", action="store_true", help="print the run's counts and the table as JSON")


def _run_study(args):
    import os

    from .study import load_spec, read_results, run_study, summarize, summary_latex, summary_markdown

    run_only = [o for o, v in (("--results", args.results), ("--resume", args.resume),
                               ("--scheduler", args.scheduler), ("--workers", args.workers is not None)) if v]
    if args.spec == "summarize":
        if args.results_file is None:
            raise _UsageError("summarize needs the results file: ml2p-proof study summarize RESULTS")
        if run_only:
            raise _UsageError(", ".join(run_only) + " run a study; they cannot be used with summarize")
        fmt = "json" if args.json else (args.format or "markdown")
        if args.out and _same_file(args.out, args.results_file):
            raise _UsageError(f"--out {args.out} is the results file; it would be overwritten")
        rows = read_results(args.results_file)
        summary = summarize(rows)
        if args.out and not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
            raise _UsageError(f"--out {args.out}: the folder does not exist")
        if args.plots:
            from .study import plot_estimates, plot_rmse_vs_n

            os.makedirs(args.plots, exist_ok=True)
            plot_rmse_vs_n(summary, os.path.join(args.plots, "rmse_vs_n.png"))
            plot_estimates(rows, os.path.join(args.plots, "estimates.png"))
            print(f"wrote {os.path.join(args.plots, 'rmse_vs_n.png')}, "
                  f"{os.path.join(args.plots, 'estimates.png')}", file=sys.stderr)
        text = (json.dumps(summary, indent=2) if fmt == "json"
                else summary_latex(summary) if fmt == "latex" else summary_markdown(summary))
        if args.out:
            from .study.summarize import write_atomic

            write_atomic(args.out, text + "\n")
            print(f"wrote {args.out}", file=sys.stderr)
        else:
            print(text)
        return 0
    if args.results_file is not None:
        raise _UsageError(f"unexpected argument {args.results_file!r} (the results file of a run is --results PATH)")
    if args.format or args.out or args.plots:
        raise _UsageError("--format, --out and --plots are options of 'study summarize RESULTS'")
    if args.workers is not None:
        from .numeric.budget import check_processes
        from .study.runner import WORKER_BYTES

        check_processes(args.workers, "--workers", WORKER_BYTES)
    spec = load_spec(args.spec)
    try:
        run = run_study(spec, args.results, scheduler=args.scheduler, workers=args.workers,
                        resume=args.resume, quiet=args.quiet or args.json)
    except KeyboardInterrupt:
        from .study import default_results_path

        if os.path.lexists(args.results or default_results_path(spec.name)):
            print("\nml2p-proof study: interrupted; the finished tasks are in the results file; "
                  "rerun with --resume to finish the study", file=sys.stderr)
        else:
            print("\nml2p-proof study: interrupted before the first task finished; nothing was "
                  "written", file=sys.stderr)
        return 130
    rows = read_results(run["results"])
    summary = summarize(rows)
    failed = sum(s["failed"] for s in summary)
    if args.json:
        print(json.dumps({"run": run, "summary": summary}, indent=2))
    else:
        print(summary_markdown(summary))
        print(f"\n{run['results']}: {run['ran']} tasks run, {run['skipped']} finished before, "
              f"{run['failed']} failed in this run; {run['seconds']:.1f} s", file=sys.stderr)
        for s in summary:
            for e in s["errors"]:
                print(f"failed: {s['condition']}, {s['estimator']}: {e}", file=sys.stderr)
    return 1 if failed else 0


def run_proof(ids, argv=None):
    """Check ``ids`` of the seed and print the table and every verdict's detail and evidence
    (or ``--json`` in ``argv``); return the exit status of ``check``. Kept for scripts
    written against 0.1; the scripts in ``proofs/`` call the library directly."""
    from .derivations.seed import check
    from .engine.report import report_details, report_exit_status, report_to_dict

    argv = sys.argv[1:] if argv is None else argv
    report = check(ids)
    print(json.dumps(report_to_dict(report), indent=2) if "--json" in argv else report_details(report))
    return report_exit_status(report)


# --------------------------------------------------------------------------- lsp
def _add_lsp(sub):
    sub.add_parser(
        "lsp",
        help="a language server (stdio): verdicts of a LaTeX/Markdown document in the editor",
        description="Run a Language Server Protocol server on stdin/stdout for an editor (VS Code, "
        "Neovim, Emacs; set-up in docs/editor.md). Each step of an open .tex/.md/.txt document is "
        "checked as 'check FILE' does (cached, time-limited) and its verdict shown on its relation "
        "sign: refuted as an error with the counterexample, open/conditional/size-limited as a "
        "warning, verified as a hint; a hover shows the evidence, a code action applies a corrected "
        "statement. Settings (initializationOptions or the 'ml2p' configuration section): preamble, "
        "timeout, showVerified, debounce, cacheDir, jobs. Needs pip install 'ml2p-symbolic[lsp]'.",
    )


def _run_lsp(args):
    try:
        from .lsp.server import serve
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("pygls", "lsprotocol", "cattrs"):
            raise
        print(f"ml2p-proof lsp: error: the language server needs pygls and lsprotocol ({exc}); "
              "pip install 'ml2p-symbolic[lsp]'", file=sys.stderr)
        return 2
    return serve()


# --------------------------------------------------------------------------- entry point
_SUBCOMMANDS = ["check", "list", "render", "identify", "fit", "study", "lsp"]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="ml2p-proof",
        description="Machine-check the ML2P-VAE seed proof: verdicts, LaTeX, numeric checks.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        globals()[f"_add_{name}"](sub)
    return parser


def main(argv=None):
    """Run the CLI; returns the exit status (also used by ``python -m ml2p_symbolic``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return globals()[f"_run_{args.command.replace('-', '_')}"](args)
    except LatexInputError as exc:  # FILE:LINE:COL: error: ..., the form editors jump to
        print(exc, file=sys.stderr)
        return 2
    except (ML2PError, _UsageError) as exc:
        print(f"ml2p-proof {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"ml2p-proof {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nml2p-proof {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
