"""Derivations as content: each one declares its statements and the checks only Python can say.

* :mod:`ml2p_symbolic.derivations.seed` -- the draft proof that the true ML2P parameters
  minimise the VAE loss (``shared/seeds/000_356ad760dadef67d.txt``).
"""
