"""Time checking LaTeX documents: the corpus (target < 2 min on 2 cores) and a second run of
an unchanged document (target < 1 s), with the corpus's score.

Checks every document of ``tests/corpus/`` with an empty cache (two steps at once, each in
its own process), then again with the cache filled; prints the wall times, the number of
steps, the share of the mathematically true steps that are verified and the number of wrong
verdicts (a true step refuted or made conditional, a false or conditional step verified,
against ``tests/corpus/expected.json``). With ``--seed`` also the seed draft as written.

First it measures the burden of writing for the checker (issue 16), from reading alone: the
``%!`` directive lines per checked step of each document, and the share of the displays the
reader reads as written (no error) in the drafts written in natural notation
(``tests/corpus/natural_*.tex``) and in the whole corpus. ``--burden`` prints only that.

    python benchmarks/bench_documents.py [--seed] [--jobs 2] [--burden]
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ml2p_symbolic.engine.document.check import check_document  # noqa: E402
from ml2p_symbolic.engine.latex_input import read_document  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
SEED = pathlib.Path("/work/shared/seeds/000_356ad760dadef67d.txt")
PREAMBLE = ROOT / "ml2p_symbolic" / "derivations" / "seed" / "preamble.tex"
ADMISSIBLE = {"true": {"verified", "tested", "open"}, "false": {"refuted", "conditional", "open", "tested"},
              "conditional": {"conditional", "open", "tested"}}


def _check_all(cache, jobs):
    expected = {k: v for k, v in json.loads((CORPUS / "expected.json").read_text()).items() if not k.startswith("_")}
    reports = {}
    for name in sorted(expected):
        t = time.perf_counter()
        reports[name] = check_document(CORPUS / name, cache_dir=cache, jobs=jobs)
        print(f"  {name:<22} {len(reports[name].results):>3} steps  {time.perf_counter() - t:6.2f} s",
              file=sys.stderr, flush=True)
    return expected, reports


def burden(paths):
    """Print, per document, its directive lines, steps, displays and unreadable displays; return
    (directive lines, steps, displays, displays read) summed over ``paths``."""
    totals = [0, 0, 0, 0]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        directives = sum(1 for line in text.splitlines() if line.lstrip().startswith("%!"))
        doc = read_document(path, keep_going=True)
        displays = len(doc.displays)
        read = displays - len({(e.file, e.line) for e in doc.errors})
        per_step = directives / len(doc.steps) if doc.steps else float("nan")
        print(f"  {path.name:<34} {directives:>2} directive lines, {len(doc.steps):>3} steps "
              f"({per_step:.2f} per step), {read}/{displays} displays read as written")
        for n, v in enumerate((directives, len(doc.steps), displays, read)):
            totals[n] += v
    return totals


def _print_burden():
    natural = sorted(CORPUS.glob("natural_*.tex"))
    others = sorted(p for p in CORPUS.glob("*.tex") if p not in natural)
    for title, paths in (("drafts in natural notation", natural), ("the rest of the corpus", others)):
        print(f"burden, {title}:")
        d, st, disp, read = burden(paths)
        print(f"  total: {d / st:.2f} directive lines per step; {read} of {disp} displays "
              f"({100 * read / disp:.0f} %) read without rewriting")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", action="store_true", help="also time the seed draft as written")
    parser.add_argument("--burden", action="store_true", help="only the burden figures (no checking)")
    args = parser.parse_args()
    _print_burden()
    if args.burden:
        return

    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        expected, reports = _check_all(cache, args.jobs)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        _check_all(cache, args.jobs)
        warm = time.perf_counter() - t
        doc = CORPUS / "twopl_gradient.tex"
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "ml2p_symbolic", "check", str(doc), "--quiet",
                               "--cache-dir", cache], cwd=ROOT, capture_output=True, text=True)
        cli_warm = time.perf_counter() - t

        steps = sum(len(r.results) for r in reports.values())
        true_steps = verified = tested = wrong = 0
        for name, report in reports.items():
            for r in report.results:
                truth = expected[name][r.claim.id].split(":")[0]
                wrong += r.verdict.verdict not in ADMISSIBLE[truth]
                if truth == "true":
                    true_steps += 1
                    verified += r.verdict.verdict == "verified"
                    tested += r.verdict.verdict == "tested"
        print(f"corpus: {len(reports)} documents, {steps} steps ({true_steps} true, {steps - true_steps} "
              f"false or conditional)")
        print(f"verified: {verified} of {true_steps} true steps ({100 * verified / true_steps:.1f} %, target >= 90 %); "
              f"wrong verdicts: {wrong}")
        print(f"tested (holds at the sizes tried, not proved for every size): {tested} of {true_steps} true steps")
        print(f"corpus check, empty cache, {args.jobs} steps at once: {cold:.1f} s (target < 120 s)")
        print(f"corpus check again, unchanged documents (cache): {warm:.2f} s for {len(reports)} documents "
              f"({warm / len(reports):.3f} s each; target < 1 s)")
        print(f"ml2p-proof check {doc.name} again, a fresh process (imports included): {cli_warm:.2f} s "
              f"(exit {proc.returncode})")

        if args.seed and SEED.exists():
            t = time.perf_counter()
            report = check_document(SEED, preamble=PREAMBLE, cache_dir=cache, jobs=args.jobs)
            seed_cold = time.perf_counter() - t
            t = time.perf_counter()
            check_document(SEED, preamble=PREAMBLE, cache_dir=cache, jobs=args.jobs)
            seed_warm = time.perf_counter() - t
            counts = {}
            for r in report.results:
                counts[r.verdict.verdict] = counts.get(r.verdict.verdict, 0) + 1
            print(f"seed as written ({len(report.results)} steps: {counts}): {seed_cold:.1f} s, again {seed_warm:.2f} s")


if __name__ == "__main__":
    main()
