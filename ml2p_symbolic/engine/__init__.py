"""The checking engine: knows nothing of ML2P or of any particular draft.

Statements (from Python or from a researcher's LaTeX document) go in; verdicts with evidence
come out. Data flows one way: a derivation's statements -> the checks -> a report -> the
terminal, JSON, LaTeX/PDF.

=======================  ===============================================================
:mod:`.records`          Claim, Verdict, Result, Report: plain frozen data
:mod:`.identity`         check_identity: prove, refute with a high-precision point, or open
:mod:`.expectation`      Gaussian expectations: symbolic rules first, mpmath quadrature else
:mod:`.evidence`         high-precision values and verdicts from identities
:mod:`.derivation`       Derivation: statements + checks registered by id
:mod:`.report`           the terminal table, JSON, exit status
:mod:`.render`           LaTeX document, PDF, notebook display
=======================  ===============================================================

The ML2P model lives beside the engine (:mod:`ml2p_symbolic.model`, :mod:`ml2p_symbolic.numeric`),
and a draft's content under :mod:`ml2p_symbolic.derivations`.
"""

from .derivation import Derivation, default_check
from .identity import check_identity
from .records import VERDICTS, Claim, Report, Result, Verdict

__all__ = ["Derivation", "default_check", "check_identity", "Claim", "Verdict", "Result", "Report", "VERDICTS"]
