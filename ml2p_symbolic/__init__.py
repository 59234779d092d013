"""ml2p-symbolic: machine-check the mathematics of ML2P-VAE.

The public API, listed in README.md:

* :func:`check` -- check the seed's claims, returning a :class:`Report` of :class:`Result`
  (:class:`Claim` + :class:`Verdict`); :data:`CLAIM_IDS` lists the ids;
* :func:`check_identity` -- prove, refute (with a high-precision counterexample) or leave
  open an identity between two SymPy expressions;
* :func:`ml2p_symbols` -- the symbols of the ML2P-VAE model for K traits and n items;
* :class:`ML2PError` -- the ``ValueError`` subclass raised on bad input.

Submodules with their own small APIs: :mod:`ml2p_symbolic.numeric` (the numpy ML2P-VAE),
:mod:`ml2p_symbolic.population` (exact expected losses), :mod:`ml2p_symbolic.identifiability`
(Q-matrix identifiability), :mod:`ml2p_symbolic.latex` (rendering).
"""

from .checker import check
from .claims import Claim, Report, Result, Verdict
from .errors import ML2PError
from .identity import check_identity
from .model import ml2p_symbols
from .seed import CLAIM_IDS

__all__ = ["check", "check_identity", "ml2p_symbols", "Claim", "Verdict", "Result", "Report",
           "CLAIM_IDS", "ML2PError"]
__version__ = "0.1.0"
