"""The verdict cache: data, never code; signed; keyed on what was checked; only decided verdicts.

The tests forge cache files as an attacker or a damaged disk would (without the user's key),
and compare every verdict with what ``use_cache=False`` gives.
"""

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ml2p_symbolic.engine.document import cache as cache_mod
from ml2p_symbolic.engine.document import check as document_check
from ml2p_symbolic.engine.document.cache import (CACHE_FILE, ENGINE_VERSION, VerdictCache, secret_key, step_key,
                                                 verdict_from_record, verdict_to_record)
from ml2p_symbolic.engine.document.check import check_document
from ml2p_symbolic.engine.document.srepr_reader import UnreadableRecord, read_srepr
from ml2p_symbolic.engine.latex_input import read_document
from ml2p_symbolic.engine.records import Verdict
from ml2p_symbolic.errors import LatexInputError

ROOT = Path(__file__).resolve().parents[1]

#: a verified, a refuted and a conditional step (x + 1 = x is false everywhere; x^2 >= x fails at
#: x = 1/2 and holds exactly at x = 0 among the candidates, as in test_document_check)
DOC = "%! real x\n$$ (x + 1)^2 = x^2 + 2x + 1 $$\n$$ x + 1 = x $$\n$$ x^2 \\ge x $$\n"


def _summary(report):
    """What a verdict says, comparable across runs (SymPy parts as srepr)."""
    out = []
    for r in report.results:
        v = r.verdict
        cx = None if v.counterexample is None else sorted((sp.srepr(k), sp.srepr(x)) for k, x in v.counterexample.items())
        out.append((r.claim.id, v.verdict, v.method, cx, v.values,
                    None if v.condition is None else sp.srepr(v.condition),
                    None if v.corrected is None else sp.srepr(v.corrected)))
    return out


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    """The document and its verdicts without any cache, and a cache directory filled by a real run."""
    root = tmp_path_factory.mktemp("truth")
    doc = root / "doc.md"
    doc.write_text(DOC)
    uncached = check_document(doc, use_cache=False)
    cached_dir = root / "cache"
    first = check_document(doc, cache_dir=cached_dir)
    assert _summary(first) == _summary(uncached)
    assert [r.verdict.verdict for r in first.results] == ["verified", "refuted", "conditional"]
    assert len(_entries(cached_dir)) == 3  # every decided verdict was stored (and reads back)
    return doc, uncached, cached_dir


def _no_checking(*args, **kwargs):
    raise AssertionError("a step was checked again")


def _entries(cache_dir):
    return json.loads((cache_dir / CACHE_FILE).read_text())["entries"]


def _write_entries(cache_dir, entries):
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / CACHE_FILE).write_text(json.dumps({"format": ENGINE_VERSION, "entries": entries}))


def _recompute_from(truth_report):
    """A stand-in for the workers: the verdicts use_cache=False gave (what recomputing gives)."""
    verdicts = [r.verdict for r in truth_report.results]

    def run_pool(todo, timeout, jobs, cancel=None):
        for n in todo:
            yield n, verdicts[n]
    return run_pool


# --------------------------------------------------------------------------- items 1 and 18
def test_a_cached_entry_holding_code_never_runs_it(truth, tmp_path, monkeypatch):
    """Item 1: an entry whose fields are Python (correctly signed, even) is refused by the
    restricted reader: the code does not run and the step is checked again."""
    doc, uncached, cached_dir = truth
    marker = tmp_path / "PWNED"
    payload = f"__import__('os').system('touch {marker}')"
    entries = _entries(cached_dir)
    secret = secret_key()
    forged = {}
    for key, entry in entries.items():
        record = dict(entry["record"], verdict="verified", condition=payload, corrected=payload)
        forged[key] = {"record": record, "mac": cache_mod._mac(secret, key, record)}
    target = tmp_path / "c"
    _write_entries(target, forged)
    monkeypatch.setattr(document_check, "_run_pool", _recompute_from(uncached))
    report = check_document(doc, cache_dir=target)
    assert not marker.exists()
    assert _summary(report) == _summary(uncached)
    # the old sympify-based file is not read at all
    (target / "steps.json").write_text(json.dumps({k: {"verdict": "verified", "method": "x",
                                                       "condition": payload} for k in entries}))
    check_document(doc, cache_dir=target)
    assert not marker.exists()


def test_a_forged_verified_entry_is_ignored(truth, tmp_path, monkeypatch):
    """Item 1: an entry written without the user's key (a shared --cache-dir, a restored CI
    cache) is not used: a refuted step stays refuted."""
    doc, uncached, cached_dir = truth
    entries = _entries(cached_dir)
    forged = {}
    for key, entry in entries.items():
        record = dict(entry["record"], verdict="verified", method="forged", counterexample=None, values=None,
                      condition=None)
        forged[key] = {"record": record, "mac": entry["mac"]}  # the old MAC: the record changed
    target = tmp_path / "c"
    _write_entries(target, forged)
    monkeypatch.setattr(document_check, "_run_pool", _recompute_from(uncached))
    report = check_document(doc, cache_dir=target)
    assert [r.verdict.verdict for r in report.results] == ["verified", "refuted", "conditional"]
    assert _summary(report) == _summary(uncached)
    # and an entry signed with another user's key
    other = b"k" * 32
    for key, entry in entries.items():
        record = dict(entry["record"], verdict="verified", method="forged", counterexample=None, values=None,
                      condition=None)
        forged[key] = {"record": record, "mac": cache_mod._mac(other, key, record)}
    _write_entries(target, forged)
    assert _summary(check_document(doc, cache_dir=target)) == _summary(uncached)


def test_the_signing_key_is_private_and_outside_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ML2P_CONFIG_DIR", str(tmp_path / "config"))
    key = secret_key()
    path = tmp_path / "config" / "cache-key"
    assert key is not None and len(key) == 32 and secret_key() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # readable by others: not trusted, the cache is off
    assert secret_key() is None
    assert VerdictCache(tmp_path / "cache").directory is None


@pytest.mark.parametrize("damage", [
    {"values": ["0.5"]},                                 # a one-item pair
    {"values": "0.5"},
    {"counterexample": [["Symbol('x', real=True)"]]},
    {"counterexample": {"x": 1}},
    {"condition": "Pow(Integer(2), Pow(Integer(10), Integer(10)))"},  # 2**10**10, unevaluated
    {"condition": "Integer(2)**Integer(10)**Integer(10)"},
    {"condition": "(" * 500 + ")" * 500},
    {"condition": "Add(" * 5000 + ")" * 5000},
    {"condition": ["Integer(1)"]},
    {"detail": 7},
    {"evidence": "text"},
    {"verdict": "open"},
    {"verdict": "VERIFIED"},
    {"method": "timed out"},
])
def test_damaged_signed_entries_are_recomputed_not_a_crash(truth, tmp_path, monkeypatch, damage):
    """Item 18: whatever a (signed) record holds, reading it never raises nor stalls; a record
    the reader cannot take is recomputed. A signed 2**10**10 is read as an unevaluated power."""
    doc, uncached, cached_dir = truth
    secret = secret_key()
    entries = {}
    for key, entry in _entries(cached_dir).items():
        record = dict(entry["record"], **damage)
        entries[key] = {"record": record, "mac": cache_mod._mac(secret, key, record)}
    target = tmp_path / "c"
    _write_entries(target, entries)
    monkeypatch.setattr(document_check, "_run_pool", _recompute_from(uncached))
    report = check_document(doc, cache_dir=target)
    if "condition" in damage and isinstance(damage["condition"], str) and damage["condition"].startswith("Pow("):
        # a signed record of another verdict is read as it is (unevaluated); a verified one is
        # rebuilt only by the kernel, whose own seal no longer matches: it is checked again
        for r, u in zip(report.results, uncached.results):
            if u.verdict.verdict == "verified":
                assert r.verdict.verdict == "verified" and r.verdict.condition is None
            else:
                assert isinstance(r.verdict.condition, sp.Pow)
    else:
        assert _summary(report) == _summary(uncached)


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"format": ' * 50_000, "\x00\xff", "null", "[]",
                                  json.dumps({"format": ENGINE_VERSION, "entries": []})])
def test_a_damaged_cache_file_is_ignored(truth, tmp_path, monkeypatch, text):
    doc, uncached, _ = truth
    target = tmp_path / "c"
    target.mkdir()
    (target / CACHE_FILE).write_text(text, encoding="utf-8", errors="surrogateescape")
    monkeypatch.setattr(document_check, "_run_pool", _recompute_from(uncached))
    assert _summary(check_document(doc, cache_dir=target)) == _summary(uncached)


# --------------------------------------------------------------------------- the fuzz test
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                     max_leaves=20)
_srepr_like = st.lists(st.sampled_from(["Symbol(", "Integer(", "Pow(", "Add(", "__import__(", "'os'", ")", ",",
                                        "'x'", "real=True", "1", "-", ".system", "eval(", "lambda: ", "[", "]",
                                        "Float('1e99999')", "oo", "__class__", " "]), max_size=30).map("".join)
_FIELDS = ["verdict", "method", "counterexample", "values", "condition", "corrected", "detail", "evidence"]


@settings(max_examples=60)
@given(field=st.sampled_from(_FIELDS + ["mac", "record", "entry", "file", "entries"]),
       value=_json | _srepr_like | st.text(), resign=st.booleans())
def test_fuzz_the_cache_file_never_runs_code_raises_or_changes_a_verdict(truth, tmp_path_factory, field, value,
                                                                           resign):
    """Random JSON and random strings in every field of every entry, in the entries, in the
    file: reading never runs code, never raises, and every verdict is what use_cache=False
    gives (an entry we re-sign ourselves with random content may be read, but only as a
    verdict record of the expected types, so it is checked by the reader, not trusted blindly)."""
    doc, uncached, cached_dir = truth
    target = tmp_path_factory.mktemp("fuzz")
    marker = target / "PWNED"
    secret = secret_key()
    entries = _entries(cached_dir)
    if field == "file":
        (target / CACHE_FILE).write_text(json.dumps(value))
    elif field == "entries":
        (target / CACHE_FILE).write_text(json.dumps({"format": ENGINE_VERSION, "entries": value}))
    else:
        damaged = {}
        for key, entry in entries.items():
            entry = json.loads(json.dumps(entry))
            if field == "entry":
                entry = value
            elif field in ("mac", "record"):
                entry[field] = value
            else:
                entry["record"][field] = value
                if resign:
                    entry["mac"] = cache_mod._mac(secret, key, entry["record"])
            damaged[key] = entry
        _write_entries(target, damaged)
    report_verdicts = None
    original = document_check._run_pool
    try:
        document_check._run_pool = _recompute_from(uncached)
        report = check_document(doc, cache_dir=target)
        report_verdicts = _summary(report)
    finally:
        document_check._run_pool = original
    assert not marker.exists()
    if field in ("verdict", "method", "counterexample", "values", "condition", "corrected", "detail",
                 "evidence") and resign:
        # re-signed by us with a well-typed value: only the fuzzed field may differ
        for got, want in zip(report_verdicts, _summary(uncached)):
            assert got[0] == want[0]
            if field not in ("verdict",):
                assert got[1] == want[1]
    else:
        assert report_verdicts == _summary(uncached)


@settings(max_examples=200)
@given(text=_srepr_like | st.text(max_size=200))
def test_fuzz_the_srepr_reader_refuses_or_reads(text):
    """The restricted reader returns a SymPy object or raises UnreadableRecord, nothing else."""
    try:
        out = read_srepr(text)
    except UnreadableRecord:
        return
    assert isinstance(out, (sp.Basic, int, str, bool)) or out is None


def test_records_round_trip_exactly():
    x = sp.Symbol("x", real=True)
    n = sp.Symbol("n", integer=True, positive=True)
    a = sp.IndexedBase(sp.Symbol("a", real=True))
    i = sp.Symbol("i", integer=True, positive=True)
    v = Verdict("conditional", "condition search", counterexample={x: sp.Rational(1, 2), n: sp.Integer(2)},
                values=("0.1", "0.2"), condition=sp.Or(sp.Eq(n, 1), sp.Eq(a[i], 0)),
                corrected=sp.Sum(a[i] * sp.exp(-x), (i, 1, n)), detail="d", evidence=("e1", "e2"))
    back = verdict_from_record(json.loads(json.dumps(verdict_to_record(v))))
    assert back == v
    assert sp.srepr(back.corrected) == sp.srepr(v.corrected)


# --------------------------------------------------------------------------- item 2
def test_an_edit_behind_a_comment_is_not_served_from_the_cache(tmp_path):
    r"""Item 2: ``2x % c<newline> + 1`` and ``2x % c + 1`` collapse to the same text; the
    second reads ``2x`` (the comment hides ``+ 1``) and is false."""
    doc = tmp_path / "d.tex"
    doc.write_text("%! real x\n\\[ 2x % c\n + 1 = 2x + 1 \\]\n")
    assert check_document(doc, cache_dir=tmp_path / "c").results[0].verdict.verdict == "verified"
    doc.write_text("%! real x\n\\[ 2x % c + 1\n = 2x + 1 \\]\n")
    assert check_document(doc, cache_dir=tmp_path / "c").results[0].verdict.verdict == "refuted"
    assert check_document(doc, use_cache=False).results[0].verdict.verdict == "refuted"


def test_the_key_is_the_parsed_statement_and_the_effective_declarations(tmp_path):
    """Two spellings of one statement share a key; a changed declaration, size or time limit
    does not; the key does not depend on the process (hash seeds)."""
    def keys(text, timeout=60.0):
        p = tmp_path / "k.tex"
        p.write_text(text)
        d = read_document(p)
        return [step_key(s, d.declarations, timeout) for s in d.steps]

    base = "%! index i = 1..n\n%! real a_i, x\n%! sizes n = 1..2\n\\[ \\sum_{i=1}^{n} a_i + x = x + \\sum_{i=1}^{n} a_i \\]\n"
    assert keys(base) == keys(base.replace("+ x =", "+   x\n="))          # layout only
    assert keys(base) == keys("%! real x\n" + base.replace("%! real a_i, x", "%! real a_i"))  # order of lines
    assert keys(base) != keys(base.replace("1..2", "1..3"))                 # the sizes' effect
    assert keys(base) != keys(base.replace("%! real a_i, x", "%! real a_i\n%! positive x"))
    assert keys(base) != keys(base, timeout=5.0)
    script = textwrap.dedent(f"""
        import sys
        from ml2p_symbolic.engine.latex_input import read_document
        from ml2p_symbolic.engine.document.cache import step_key
        d = read_document({str(tmp_path / 'k.tex')!r})
        print([step_key(s, d.declarations, 60.0) for s in d.steps])
    """)
    keys(base)
    outs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                           env=dict(os.environ, PYTHONHASHSEED=seed)).stdout for seed in ("1", "2")}
    assert outs == {str(keys(base)) + "\n"}


# --------------------------------------------------------------------------- item 3
def test_a_repeated_sizes_directive_is_refused(tmp_path):
    """Item 3: with two ``%! sizes`` for n the last one won, and a cache keyed on the sorted
    directives served one order's verdict for the other."""
    doc = tmp_path / "s.tex"
    for first, second in (("1..3", "1..2"), ("1..2", "1..3")):
        doc.write_text(f"%! index i = 1..n\n%! real a_i\n%! sizes n = {first}\n%! sizes n = {second}\n"
                       "\\[ \\sum_{i=1}^{n} a_i = \\sum_{i=1}^{n} a_i \\]\n")
        with pytest.raises(LatexInputError) as exc:
            read_document(doc)
        assert (exc.value.line, exc.value.col) == (4, 9) and "given twice" in str(exc.value)


# --------------------------------------------------------------------------- item 4
def test_a_killed_worker_is_not_cached(tmp_path, monkeypatch):
    """Item 4: a worker killed (as by the out-of-memory killer) gives 'open' this time and is
    not stored: the next run checks the step and gives its real verdict."""
    doc = tmp_path / "k.md"
    doc.write_text("%! real x\n$$ x + 1 = 1 + x $$\n")

    def killed(n):
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(document_check, "_check_one", killed)
    (r,) = check_document(doc, cache_dir=tmp_path / "c").results
    assert r.verdict.verdict == "open" and "-9" in r.verdict.detail
    assert not (tmp_path / "c" / CACHE_FILE).exists()
    monkeypatch.undo()
    (r,) = check_document(doc, cache_dir=tmp_path / "c").results
    assert r.verdict.verdict == "verified"


@pytest.mark.parametrize("verdict", [Verdict("open", "timed out"), Verdict("open", "error", detail="exit code -9"),
                                     Verdict("open", "no proof")])
def test_only_decided_verdicts_are_stored(tmp_path, verdict):
    from ml2p_symbolic.engine import kernel
    from ml2p_symbolic.engine.certificates import Goal, Rewriting

    x = sp.Symbol("x")
    proved = kernel.verify(Goal(x + x, 2 * x), Rewriting(("structural",)), method="structural")
    cache = VerdictCache(tmp_path / "c")
    cache.put("k", verdict)
    cache.put("v", proved)
    cache.save()
    again = VerdictCache(tmp_path / "c")
    back = again.get("v")
    assert again.get("k") is None
    assert (back.verdict, back.method, back.sizes, back.evidence) == ("verified", "structural", "all", proved.evidence)


def test_steps_with_the_same_key_are_checked_once(tmp_path, monkeypatch):
    doc = tmp_path / "t.md"
    doc.write_text("%! real x\n$$ x + 1 = 1 + x $$\n$$ x+1=1+x $$\n$$ x + 2 = 2 + x $$\n")
    asked = []
    real = document_check._run_pool

    def counting(todo, timeout, jobs, cancel=None):
        asked.extend(todo)
        yield from real(todo, timeout, jobs, cancel)

    monkeypatch.setattr(document_check, "_run_pool", counting)
    report = check_document(doc, use_cache=False)
    assert sorted(asked) == [0, 2]
    assert [r.verdict.verdict for r in report.results] == ["verified"] * 3
