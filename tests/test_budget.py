"""Tests of ml2p_symbolic.numeric.budget: the memory limit and the refusal message."""

import pytest

from ml2p_symbolic.errors import ML2PError, ResourceError
from ml2p_symbolic.numeric import budget


@pytest.mark.parametrize("text, value", [("1000", 1000.0), ("4GB", 4e9), ("1.5 GiB", 1.5 * 2**30),
                                         ("512mb", 512e6), ("2e3kB", 2e6)])
def test_environment_limit(monkeypatch, text, value):
    monkeypatch.setenv("ML2P_MEMORY_LIMIT", text)
    assert budget.memory_limit() == value


def test_default_limit_is_a_fraction_of_the_available_memory(monkeypatch):
    monkeypatch.delenv("ML2P_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr(budget, "_available_bytes", lambda: 10e9)
    assert budget.memory_limit() == pytest.approx(budget.MEMORY_FRACTION * 10e9)
    monkeypatch.setattr(budget, "_available_bytes", lambda: None)
    assert budget.memory_limit() is None and budget.check_memory(1e30, "anything") is None


def test_malformed_environment_limit(monkeypatch):
    monkeypatch.setenv("ML2P_MEMORY_LIMIT", "lots")
    with pytest.raises(ResourceError, match="not a size"):
        budget.memory_limit()


def test_refusal_names_the_work_the_estimate_and_the_limit(monkeypatch):
    monkeypatch.setenv("ML2P_MEMORY_LIMIT", "2GB")
    assert budget.check_memory(1.9e9, "small work") is None
    with pytest.raises(ResourceError) as info:
        budget.check_memory(22.4e9, "--students 100000000", "use fewer students")
    msg = str(info.value)
    assert msg == ("--students 100000000 needs about 22 GB of memory; the limit is 2.0 GB "
                   "(ML2P_MEMORY_LIMIT); use fewer students")
    assert isinstance(info.value, ML2PError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("n, text", [(999, "999 bytes"), (1536, "1.5 kB"), (640e6, "640 MB"),
                                     (3 * 2**30, "3.2 GB"), (22.4e9, "22 GB"), (1e30, "1e+18 TB")])
def test_format_bytes(n, text):
    assert budget.format_bytes(n) == text
