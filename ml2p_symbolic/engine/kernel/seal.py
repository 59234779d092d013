r"""Sealed verdicts: a ``verified`` verdict the kernel made, stored and read back intact.

A verdict cache (:mod:`ml2p_symbolic.engine.document.cache`) may live in a shared directory
or be restored by a CI job: whoever can write it must not be able to forge ``verified``. So
the kernel seals the JSON record of each ``verified`` verdict with an HMAC-SHA256 under a
secret key of this user, kept outside any cache (``kernel.key`` in ``$ML2P_CONFIG_DIR``, else
``$XDG_CONFIG_HOME/ml2p-symbolic``, else ``~/.config/ml2p-symbolic``, created with mode 0600), and :func:`unseal` rebuilds a verified verdict only from a record
whose seal matches. A record that does not match is no verdict (the step is checked again).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

from ..certificates import Sealed
from ..records import Verdict

__all__ = ["seal", "unseal", "key_path"]

_KEY = []


def key_path() -> Path:
    """Where this user's sealing key lives (see the module docstring)."""
    if os.environ.get("ML2P_CONFIG_DIR"):
        return Path(os.environ["ML2P_CONFIG_DIR"]) / "kernel.key"
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "ml2p-symbolic" / "kernel.key"


def _key():
    """The key (32 random bytes), created on first use; None when it cannot be had."""
    if _KEY:
        return _KEY[0]
    path = key_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(os.urandom(32))
            data = path.read_bytes()
        except OSError:
            return None
    except OSError:
        return None
    if len(data) < 32:
        return None
    _KEY.append(data)
    return data


def _mac(record, key):
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, text.encode("ascii"), hashlib.sha256).hexdigest()


def seal(record):
    """The seal of a verified verdict's JSON ``record`` (a dict of strings and lists), or None
    when no key can be had (then the verdict is not stored)."""
    key = _key()
    if key is None or record.get("verdict") != "verified":
        return None
    return _mac(record, key)


def unseal(record, mac):
    """The verified :class:`Verdict` of a sealed ``record``, or None when the seal does not
    match (or any field has an unexpected type)."""
    key = _key()
    if key is None or not isinstance(mac, str) or not isinstance(record, dict):
        return None
    if not hmac.compare_digest(_mac(record, key), mac) or record.get("verdict") != "verified":
        return None
    method, detail, evidence = record.get("method"), record.get("detail", ""), record.get("evidence", [])
    if not (isinstance(method, str) and isinstance(detail, str) and isinstance(evidence, list)
            and all(isinstance(e, str) for e in evidence)):
        return None
    return Verdict("verified", method, detail=detail, evidence=tuple(evidence), sizes="all",
                   certificate=Sealed(evidence[-1] if evidence else method))
