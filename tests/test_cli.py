"""The ml2p-proof command line: exit codes, output, JSON schema."""

import json
import subprocess
import sys

import pytest

from ml2p_symbolic import CLAIM_IDS
from ml2p_symbolic.cli import main

KEYS = {"id", "statement", "verdict", "method", "condition", "counterexample", "detail"}


def test_list_prints_every_id(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.strip().splitlines()] == list(CLAIM_IDS)


def test_unknown_id_is_a_usage_error_listing_valid_ids(capsys):
    assert main(["check", "eq4.1", "no-such-claim"]) == 2
    err = capsys.readouterr().err
    assert "no-such-claim" in err and "eq1.P" in err and "Traceback" not in err


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2


@pytest.mark.parametrize("ids", [["eq4.1", "eq4.2"], ["eq4.3"], ["eq8", "eq9"]])
def test_json_schema_and_exit_status_agree(capsys, ids):
    status = main(["check", *ids, "--json"])
    data = json.loads(capsys.readouterr().out)
    claims = data["claims"]
    assert [c["id"] for c in claims] == ids
    for c in claims:
        assert KEYS <= set(c)
        assert isinstance(c["statement"], str) and "\\" in c["statement"]  # LaTeX
        cx = c["counterexample"]
        assert cx is None or all(isinstance(k, str) and isinstance(v, (int, float)) for k, v in cx.items())
        assert c["condition"] is None or isinstance(c["condition"], str)
    all_verified = all(c["verdict"] == "verified" for c in claims)
    assert status == (0 if all_verified else 1)


def test_table_shows_verdict_and_counterexample(capsys):
    status = main(["check", "eq4.3", "--quiet"])
    out = capsys.readouterr().out
    assert "eq4.3" in out
    data_status = main(["check", "eq4.3", "--json"])
    c = json.loads(capsys.readouterr().out)["claims"][0]
    assert c["verdict"].upper() in out and status == data_status
    if c["counterexample"]:
        assert "fails at" in out and "lhs=" in out


def test_python_dash_m_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "ml2p_symbolic", "list"], capture_output=True, text=True)
    assert proc.returncode == 0 and "question.unique" in proc.stdout


def test_help_describes_exit_status():
    proc = subprocess.run([sys.executable, "-m", "ml2p_symbolic", "check", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "Exit status" in proc.stdout


def test_version_is_the_package_version():
    import ml2p_symbolic

    proc = subprocess.run([sys.executable, "-m", "ml2p_symbolic", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.split() == ["ml2p-proof", ml2p_symbolic.__version__]


def test_number_of_traits_is_an_option_and_is_validated(capsys):
    assert main(["check", "eq5.a", "--traits", "0", "--quiet"]) == 2
    assert "K must be an integer >= 1" in capsys.readouterr().err
    status = main(["check", "eq5.a", "-K", "3", "--json"])
    c = json.loads(capsys.readouterr().out)["claims"][0]
    assert status == (0 if c["verdict"] == "verified" else 1)
