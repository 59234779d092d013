"""Search that *proposes* certificates to the kernel (:mod:`ml2p_symbolic.engine.kernel`).

Nothing here decides: a certificate found here counts only once
:func:`ml2p_symbolic.engine.kernel.verify` has re-checked it.

:mod:`.inequality`  the inequality prover: sign, lemmas, sums of squares, interval boxes
:mod:`.sos`         sums of squares by a conic solver (clarabel), rounded to rationals
:mod:`.boxes`       interval branch and bound (python-flint arb) with monotone tails
:mod:`.lemmas`      matching the kernel's lemmas to a difference
"""

from .inequality import find_certificate, inequality_certificates

__all__ = ["find_certificate", "inequality_certificates"]
