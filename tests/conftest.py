"""Hypothesis profiles: ``ci`` (more examples, used when CI is set) and ``dev`` (quick).

Choose explicitly with ``HYPOTHESIS_PROFILE=dev`` or ``=ci``.
"""

import os
import sys

# small dense linear algebra is much slower multithreaded on a shared 2-core machine
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# the verdict cache's signing key: a fresh one per test session, never the user's own
import tempfile  # noqa: E402

os.environ.setdefault("ML2P_CONFIG_DIR", tempfile.mkdtemp(prefix="ml2p-config-"))

from hypothesis import HealthCheck, settings

# the shared strategies module (tests/strategies.py) importable as ``strategies`` under
# pytest's --import-mode=importlib
sys.path.insert(0, os.path.dirname(__file__))

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "dev",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
