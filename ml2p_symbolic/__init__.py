"""ml2p-symbolic: machine-check the mathematics of ML2P-VAE.

The public API (see README.md for the list) is re-exported here.
"""

from .claims import Claim, Report, Result, Verdict
from .errors import ML2PError

__all__ = ["Claim", "Report", "Result", "Verdict", "ML2PError"]
__version__ = "0.1.0"
