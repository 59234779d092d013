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
"""

from . import _moved
from .derivations.seed import CLAIM_IDS, check
from .engine import Claim, Report, Result, Verdict, check_identity
from .engine.render import notebook as _notebook  # noqa: F401  (registers notebook display)
from .errors import ML2PError
from .model import ml2p_symbols

__all__ = ["check", "check_identity", "ml2p_symbols", "Claim", "Verdict", "Result", "Report",
           "CLAIM_IDS", "ML2PError"]
__version__ = "0.2.0"

_moved.install()
