"""ml2p-symbolic: machine-check the mathematics of ML2P-VAE.

The public API, listed in README.md:

* :func:`check` -- check the seed's claims, returning a :class:`Report` of :class:`Result`
  (:class:`Claim` + :class:`Verdict`); :data:`CLAIM_IDS` lists the ids;
* :func:`check_identity` -- prove, refute (with a high-precision counterexample) or leave
  open an identity between two SymPy expressions;
* :func:`ml2p_symbols` -- the symbols of the ML2P-VAE model for K traits and n items;
* :class:`ML2PError` -- the ``ValueError`` subclass raised on bad input.

The layout: :mod:`ml2p_symbolic.engine` (the checking engine, which knows no ML2P), the ML2P
layer (:mod:`.model`, :mod:`.derive`, :mod:`.numeric`, :mod:`.population`,
:mod:`.identifiability`, :mod:`.corrections`), and derivations as content
(:mod:`ml2p_symbolic.derivations.seed`).

The names are loaded on first use (``import ml2p_symbolic`` itself imports nothing heavy, so
the command line starts quickly); the first use also registers the notebook display of the
records (:mod:`ml2p_symbolic.engine.render.notebook`).
"""

import importlib

from . import _moved
from .errors import ML2PError

__all__ = ["check", "check_identity", "ml2p_symbols", "Claim", "Verdict", "Result", "Report",
           "CLAIM_IDS", "ML2PError"]
__version__ = "0.3.0"

#: where each public name lives
_HOMES = {
    "check": ".derivations.seed", "CLAIM_IDS": ".derivations.seed",
    "check_identity": ".engine.identity", "ml2p_symbols": ".model",
    **{name: ".engine.records" for name in ("Claim", "Verdict", "Result", "Report")},
}


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importlib.import_module(".engine.render.notebook", __name__)  # registers notebook display
    value = getattr(importlib.import_module(_HOMES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


_moved.install()
