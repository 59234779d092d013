"""The checking engine: knows nothing of ML2P or of any particular draft.

Statements (from Python or from a researcher's LaTeX document) go in; verdicts with evidence
come out. The ML2P model lives beside it (``ml2p_symbolic.model``, ``.numeric``), a draft's
content under ``ml2p_symbolic.derivations``.
"""
