"""The numpy ML2P-VAE evaluator: losses, gradients and Gaussian expectations in float64.

No torch, no tensorflow, no scipy: numpy only.
"""

from .loss import ml2p_prob, vae_loss, vae_loss_grad
from .quadrature import expected_softplus, gaussian_expectation, hermite_rule

__all__ = [
    "ml2p_prob",
    "vae_loss",
    "vae_loss_grad",
    "expected_softplus",
    "gaussian_expectation",
    "hermite_rule",
]
