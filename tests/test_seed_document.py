"""The seed as content: its text checked as written (with the project's preamble) gives every
link of eq. (4)-(8) the verdict of the built-in check, compared from the two CLI outputs."""

import json
import pathlib

import pytest

from ml2p_symbolic.cli import main

ROOT = pathlib.Path(__file__).parent.parent
SEED = ROOT.parent.parent / "shared" / "seeds" / "000_356ad760dadef67d.txt"
if not SEED.exists():  # the worktrees live under /work/wt/, the seeds under /work/shared/
    SEED = pathlib.Path("/work/shared/seeds/000_356ad760dadef67d.txt")
PREAMBLE = ROOT / "ml2p_symbolic" / "derivations" / "seed" / "preamble.tex"
SEED_TEX = ROOT / "ml2p_symbolic" / "derivations" / "seed" / "seed.tex"

#: a built-in claim "first left side = n-th right side" of a display is the chain of its
#: document links 1..n (each link is one relation sign of the display as written)
CHAINS = {
    "eq4.1": ["eq4.1"], "eq4.2": ["eq4.1", "eq4.2"], "eq4.3": ["eq4.1", "eq4.2", "eq4.3"],
    "eq5.a": ["eq5.1", "eq5.2"], "eq5.b": ["eq5.3", "eq5.4"], "eq5.theta": ["eq5.5", "eq5.6"],
    "eq6": ["eq6.1", "eq6.2"], "eq7.a": ["eq7.1", "eq7.2", "eq7.3"], "eq7.b": ["eq7.2", "eq7.3"],
    "eq7.theta": ["eq7.3"], "eq8": ["eq8"],
}


def chain_verdict(verdicts):
    """The verdict of a chain from its links: verified if all are; refuted if one is (the
    other links being proved identities or refutations); else open if one is; else conditional."""
    if all(v == "verified" for v in verdicts):
        return "verified"
    for v in ("refuted", "open"):
        if v in verdicts:
            return v
    return "conditional"


def _json(capsys, argv):
    status = main(argv)
    out = capsys.readouterr().out
    return status, json.loads(out)


@pytest.mark.slow
@pytest.mark.parametrize("document, preamble", [(SEED, PREAMBLE), (SEED_TEX, None)],
                         ids=["seed-as-written", "seed.tex"])
def test_document_gives_the_built_in_verdicts(capsys, tmp_path, document, preamble):
    assert document.exists(), document
    status_b, built = _json(capsys, ["check", *CHAINS, "--json"])
    argv = ["check", str(document), "--json", "--cache-dir", str(tmp_path), "--timeout", "300"]
    if preamble is not None:
        argv += ["--preamble", str(preamble)]
    status_d, doc = _json(capsys, argv)
    assert status_b == status_d == 1
    built_verdicts = {c["id"]: c["verdict"] for c in built["claims"]}
    doc_verdicts = {c["id"]: c["verdict"] for c in doc["claims"]}
    mismatches = {cid: (built_verdicts[cid], [doc_verdicts[link] for link in links])
                  for cid, links in CHAINS.items()
                  if chain_verdict([doc_verdicts[link] for link in links]) != built_verdicts[cid]}
    assert not mismatches, json.dumps({c["id"]: (c["verdict"], c["detail"][:200]) for c in doc["claims"]}, indent=1)
    # every link has its line in the document, and the conditions are stated
    for c in doc["claims"]:
        assert isinstance(c["line"], int) and c["line"] >= 1
        if c["verdict"] == "conditional":
            assert c["condition"]
    assert [d["name"] for d in doc["definitions"]][:3] == [r"\sigma(x)", "z_{i}", r"\hat{z}_{i}"]
