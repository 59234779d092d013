r"""The trap corpus (issue 15, item 8): false statements that a careless checker verifies.

Every step of ``tests/traps/*.tex`` has its truth in ``tests/traps/expected.json``, decided by
hand with a one-line reason (a counterexample for a false step, a proof sketch for a true one).
The classes (one or more documents each):

* sizes: statements that hold at the first sizes only (``sizes``, ``sizes_declared``,
  ``matrices``), or at the size combinations a truncated plan keeps (``sizes_combinations``), sums whose limits cross (``sum_bounds``: SymPy's Karr convention) or are not
  integers (``sum_bounds_fractional``);
* free indices: statements that hold at the first index values or instances only
  (``free_indices``), or hide the index in a definition (``definitions``);
* assumptions on one member of a family or one entry of a matrix (``assumptions``,
  ``assumptions_matrix``), and on a size or a free index that the default sizes and index values
  violate (``assumptions_sizes``, ``assumptions_index``);
* expectations that do not exist (``expectations``);
* near misses (``near_misses``) and real-domain slips (``real_domain``);
* inequalities, strict ones included (``inequalities``);
* evaluation bars outside a variable's domain (``bars``) and derivatives at a kink
  (``derivatives``);
* a verdict given by a display's id (``delegation``);
* displays whose typeset meaning a careless reader misses (``reading_*``: digits typeset as one
  number, a right side continued on the next row, a side condition after ``\quad``, amsmath
  displays skipped in silence).

The tests assert:

* no false step is ``verified`` (the one thing a proof checker must never do);
* no true step is ``refuted`` or ``conditional`` (a counterexample to a true statement is wrong);
* the true controls marked ``must_verify`` (closed forms and linearity, true for every size) are
  ``verified``;
* every ``verified`` step, here and in ``tests/corpus``, is proved for every size: its verdict's
  ``sizes`` is ``"all"`` (where the verdict record carries ``sizes``);
* nothing in the verdict cache is executed (a cache is a file, not a program);
* single statements given to :func:`check_identity` (real-domain slips, near misses) are not
  verified, and the clear ones are refuted with a counterexample.
"""

import json
import pathlib

import pytest
import sympy as sp

from ml2p_symbolic.engine.document.check import check_document
from ml2p_symbolic.engine.identity import check_identity

HERE = pathlib.Path(__file__).parent
TRAPS = HERE / "traps"
CORPUS = HERE / "corpus"
_RAW = json.loads((TRAPS / "expected.json").read_text())
EXPECTED = {k: v for k, v in _RAW.items() if not k.startswith("_")}
MAY_REFUSE = set(_RAW.get("_may_refuse", ()))
CORPUS_DOCUMENTS = sorted(k for k in json.loads((CORPUS / "expected.json").read_text()) if not k.startswith("_"))

#: a generous per-step limit: the machine is shared, and a step cut short is only ``open``
TIMEOUT = 60


def _check(path):
    return check_document(path, use_cache=False, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def trap_reports():
    """{document name: Report, or the ValueError the reader refused it with (``_may_refuse`` only)}."""
    reports = {}
    for name in EXPECTED:
        try:
            reports[name] = _check(TRAPS / name)
        except ValueError as exc:
            if name not in MAY_REFUSE:
                raise
            reports[name] = exc
    return reports


@pytest.fixture(scope="module")
def corpus_reports():
    return {name: _check(CORPUS / name) for name in CORPUS_DOCUMENTS}


def _results(reports):
    """(document, step id, Verdict) for every checked step."""
    for name, report in reports.items():
        if isinstance(report, Exception):
            continue
        for r in report.results:
            yield name, r.claim.id, r.verdict


def _judged(reports):
    """(document, step id, Verdict, expected entry) for every checked step with an expected
    truth (a step missing from expected.json fails ``test_trap_documents_give_the_expected_steps``)."""
    for name, step, v in _results(reports):
        entry = EXPECTED[name].get(step)
        if entry is not None:
            yield name, step, v, entry


def test_every_trap_document_is_listed():
    assert {p.name for p in TRAPS.glob("*.tex")} == set(EXPECTED)
    for name, steps in EXPECTED.items():
        for step, entry in steps.items():
            assert entry["truth"] in ("true", "false"), (name, step)
            assert entry["why"].strip(), (name, step)
            assert not entry.get("must_verify") or entry["truth"] == "true", (name, step)


@pytest.mark.slow
def test_trap_documents_give_the_expected_steps(trap_reports):
    for name, report in trap_reports.items():
        if isinstance(report, Exception):
            continue
        got = [r.claim.id for r in report.results]
        assert sorted(got) == sorted(EXPECTED[name]), name


@pytest.mark.slow
def test_no_false_trap_is_verified(trap_reports):
    wrong = [f"{name} {step}: {entry['why']} -- verified ({v.method})"
             for name, step, v, entry in _judged(trap_reports)
             if entry["truth"] == "false" and v.verdict == "verified"]
    assert not wrong, "false statements verified:\n" + "\n".join(wrong)


@pytest.mark.slow
def test_no_true_trap_is_refuted(trap_reports):
    wrong = [f"{name} {step}: {v.verdict} at {v.counterexample} ({v.detail})"
             for name, step, v, entry in _judged(trap_reports)
             if entry["truth"] == "true" and v.verdict in ("refuted", "conditional")]
    assert not wrong, "true statements refuted:\n" + "\n".join(wrong)


@pytest.mark.slow
def test_true_controls_for_every_size_are_verified(trap_reports):
    marked = [(name, step) for name, steps in EXPECTED.items() for step, e in steps.items() if e.get("must_verify")]
    assert marked
    got = {(name, step): v for name, step, v in _results(trap_reports)}
    missing = [f"{name} {step}: " + (f"{got[name, step].verdict} ({got[name, step].detail})"
                                     if (name, step) in got else "not checked")
               for name, step in marked if (name, step) not in got or got[name, step].verdict != "verified"]
    assert not missing, "controls not verified:\n" + "\n".join(missing)


def _not_for_every_size(reports):
    return [f"{name} {step}: sizes = {getattr(v, 'sizes', 'all')!r} ({v.detail})"
            for name, step, v in _results(reports)
            if v.verdict == "verified" and getattr(v, "sizes", "all") != "all"]


@pytest.mark.slow
def test_every_verified_trap_step_holds_for_every_size(trap_reports):
    wrong = _not_for_every_size(trap_reports)
    assert not wrong, "\n".join(wrong)


@pytest.mark.slow
def test_every_verified_corpus_step_holds_for_every_size(corpus_reports):
    wrong = _not_for_every_size(corpus_reports)
    assert not wrong, "\n".join(wrong)


# --------------------------------------------------------------------------- check_identity
x, y, a, b = sp.symbols("x y a b", real=True)


#: (name, lhs, rhs, a counterexample must be found): each statement is false (reason beside it)
FALSE_IDENTITIES = [
    ("log-square", sp.log(x**2), 2 * sp.log(x), True),  # x = -1: 0 vs 2 pi i
    ("sqrt-square", sp.sqrt(x**2), x, True),  # x = -1: 1 vs -1
    ("power-power", (x**a)**b, x**(a * b), True),  # x = -1, a = 2, b = 1/2: 1 vs -1
    ("log-product", sp.log(x * y), sp.log(x) + sp.log(y), True),  # x = y = -1: 0 vs 2 pi i
    ("sqrt-product", sp.sqrt(x * y), sp.sqrt(x) * sp.sqrt(y), True),  # x = y = -1: 1 vs -1
    ("power-product", (x * y)**a, x**a * y**a, True),  # x = y = -1, a = 1/2: 1 vs -1
    ("log-quotient", sp.log(x / y), sp.log(x) - sp.log(y), True),  # x = 1, y = -1: i pi vs -i pi
    ("sqrt-square-product", sp.sqrt(x**2 * y**2), x * y, True),  # x = 1, y = -1: 1 vs -1
    # (e^{log x} = x is not here: it holds for every nonzero x on the principal branch, the
    # documented convention; over the reals it is undefined for x <= 0, not false)
    ("softplus", sp.log(1 + sp.exp(40)), sp.Integer(40), True),  # differ by log(1 + e^{-40}) ~ 4e-18
    ("shift", x, x + sp.Rational(1, 10**17), True),  # differ by 1e-17
    ("pell", sp.sqrt(2), sp.Rational(665857, 470832), True),  # sqrt(2) is irrational
    ("zu", sp.pi, sp.Rational(355, 113), True),  # pi is irrational
    ("shift-tiny", x, x + sp.Rational(1, 10**50), False),  # differ by 1e-50
    ("softplus-second", sp.log(1 + sp.exp(40)), 40 + sp.exp(-40), False),  # log(1 + u) < u, u = e^{-40}
    ("ramanujan", sp.exp(sp.pi * sp.sqrt(163)), sp.Integer(640320**3 + 744), False),  # not an integer
    ("underflow", sp.exp(-1000), sp.Integer(0), False),  # e^{-1000} > 0
    ("product-shift", sp.exp(x) * sp.exp(-x), 1 + sp.exp(-100), False),  # 1 vs 1 + e^{-100}
]


@pytest.mark.parametrize("name, lhs, rhs, clear", FALSE_IDENTITIES, ids=[c[0] for c in FALSE_IDENTITIES])
def test_false_identity_is_not_verified(name, lhs, rhs, clear):
    v = check_identity(lhs, rhs, timeout=60)
    assert v.verdict != "verified", (name, v.method, v.detail)
    if clear:
        assert v.verdict == "refuted", (name, v.verdict, v.detail)
        assert v.counterexample is not None and v.values is not None
        assert set(v.counterexample) <= sp.sympify(lhs).free_symbols | sp.sympify(rhs).free_symbols
        assert v.values[0] != v.values[1]


# --------------------------------------------------------------------------- the cache
def test_a_cache_entry_is_never_executed(tmp_path):
    """A verdict cache is data: reading a tampered cache file must not run the code in it
    (``sympify`` of a string evaluates Python)."""
    doc = tmp_path / "c.tex"
    doc.write_text("%! real x\n\\[ x = x + 1 \\]\n")
    cache = tmp_path / "cache"
    check_document(doc, cache_dir=cache, timeout=TIMEOUT)
    from ml2p_symbolic.engine.document.cache import CACHE_FILE

    stored = json.loads((cache / CACHE_FILE).read_text())
    assert stored["entries"]
    marker = tmp_path / "EXECUTED"
    payload = f"__import__('pathlib').Path({str(marker)!r}).write_text('ran')"
    for entry in stored["entries"].values():
        record = entry["record"]
        for name in ("condition", "corrected"):
            record[name] = payload
        record["counterexample"] = [[payload, payload]]
    (cache / CACHE_FILE).write_text(json.dumps(stored))
    try:
        check_document(doc, cache_dir=cache, timeout=TIMEOUT)
    except ValueError:
        pass  # refusing a damaged cache is fine; running it is not
    assert not marker.exists(), "the cache's contents were executed"
