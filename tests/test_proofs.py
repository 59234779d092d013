"""Each proof script runs, prints its own claims, and exits like the CLI."""

import pathlib
import runpy
import sys

import pytest

from ml2p_symbolic import CLAIM_IDS
from ml2p_symbolic.derivations.seed import SEED

PROOFS = sorted((pathlib.Path(__file__).parent.parent / "proofs").glob("*.py"))


def test_there_is_a_script_per_part():
    assert {p.stem for p in PROOFS} >= {"reconstruction_gradient", "eps_expectation", "kl_term", "open_questions"}


@pytest.mark.parametrize("path", PROOFS, ids=lambda p: p.stem)
def test_proof_script_prints_verdicts_and_exit_status(path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(path)])
    ns = runpy.run_path(str(path))
    status = ns["main"]([])
    out = capsys.readouterr().out
    ids = SEED.ids_checked_in(ns["PART"])
    assert ids and all(f"\n{cid}: " in out for cid in ids)
    verdict_words = [w for w in ("VERIFIED", "REFUTED", "CONDITIONAL", "OPEN") if w in out]
    assert verdict_words
    assert status == (0 if verdict_words == ["VERIFIED"] else 1)


def test_the_scripts_cover_every_claim_once():
    parts = [runpy.run_path(str(p))["PART"] for p in PROOFS]
    seen = [cid for part in parts for cid in SEED.ids_checked_in(part)]
    assert sorted(seen) == sorted(CLAIM_IDS)
