r"""The model section of the seed's rendered document: eq. (1)-(3) as the toolkit builds them.

Every formula is ``sympy.latex`` of :mod:`ml2p_symbolic.model` and :mod:`ml2p_symbolic.derive`
for the number of traits the report was checked with (``report.context["K"]``).
"""

from __future__ import annotations

import sympy as sp

from ...derive import Z, ZHAT, gaussian_kl
from ...engine.render import latex
from ...model import P, P_hat, expected_reconstruction, ml2p_symbols, reconstruction_loss, z, z_hat
from .statements import SEED, display

__all__ = ["front_matter", "render_model", "render_document"]


def render_model(K=2):
    r"""Eq. (1)-(3) of the model for ``K`` traits (one item :math:`i`, one student :math:`j`)
    as a LaTeX section."""
    m = ml2p_symbols(K=K)
    L_rec = sp.Symbol(r"\mathcal{L}_{\mathrm{REC}}")
    L_erec = sp.Symbol(r"\mathcal{L}_{\mathbb{E}[\mathrm{REC}]}")
    L_kl = sp.Symbol(r"\mathcal{L}_{\mathrm{KL}}")
    eqs = [
        ("The true logit and the decoder logit:", sp.Eq(Z, z(m), evaluate=False)),
        (None, sp.Eq(ZHAT, z_hat(m), evaluate=False)),
        ("Eq. (1): the ML2P probability and the VAE output, $P_{ij} = \\sigma(z_i)$ and "
         "$\\hat P_{ij} = \\sigma(\\hat z_i)$ written out:", sp.Eq(display.P_sym, P(m), evaluate=False)),
        (None, sp.Eq(display.Phat_sym, P_hat(m), evaluate=False)),
        ("Eq. (2): the reconstruction term of the VAE loss for a response $u_{ij}$ at one draw "
         "of the noise,", sp.Eq(L_rec, reconstruction_loss(m), evaluate=False)),
        ("and its KL term for $q = \\mathcal{N}(\\hat\\theta_j, \\mathrm{diag}\\,\\hat\\sigma^2)$, "
         "$p = \\mathcal{N}(0, I)$, integrated by SymPy:", sp.Eq(L_kl, gaussian_kl(m), evaluate=False)),
        ("Eq. (3): the expected reconstruction loss, $u_{ij}$ replaced by $P_{ij}$:",
         sp.Eq(L_erec, expected_reconstruction(m), evaluate=False)),
    ]
    parts = [r"\section{The model}",
             r"\noindent The formulas below are the toolkit's own expressions for $K = %d$ latent "
             r"traits, one item $i$ and one student $j$; $\sigma$ is the logistic function and "
             r"$\varepsilon_k \sim \mathcal{N}(0, 1)$ the sampling noise." % K]
    for text, eq in eqs:
        if text:
            parts.append(r"\noindent " + text)
        parts.append(latex.render_formula(eq))
    return "\n".join(parts)


def front_matter(report):
    """The sections that precede the verdicts in the seed's document: the model with the
    number of traits the report was checked with."""
    return render_model(report.context.get("K", 2))


def render_document(report, *, K=None, title=None):
    """The seed's checked derivation as a complete LaTeX article: the model section for the
    report's number of traits (``K`` overrides it), then the verdicts."""
    if K is not None:
        report = type(report)(report.results, derivation=report.derivation, context={**report.context, "K": K})
    return latex.render_document(report, title=title or SEED.title, front_matter=front_matter(report))
