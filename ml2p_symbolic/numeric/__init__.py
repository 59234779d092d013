"""The numpy ML2P-VAE evaluator: losses, gradients and Gaussian expectations in float64.

numpy, with scipy.special for the special functions and the Gauss-Hermite nodes
(:mod:`.special`, :mod:`.gauss_hermite`); no torch, no tensorflow.
"""

from .loss import ml2p_prob, vae_loss, vae_loss_grad
from .quadrature import expected_softplus, gaussian_expectation, hermite_rule
from .data import load_or_simulate, read_q, read_responses, write_estimates
from .encoder import MLPEncoder
from .model import ML2PVAE
from .simulate import SimulatedData, random_correlation, simulate
from .train import FitResult, fit, fit_summary, recovery
from .mml import fit_mml, marginal_loglik, mml_plan

__all__ = [
    "ml2p_prob",
    "vae_loss",
    "vae_loss_grad",
    "expected_softplus",
    "gaussian_expectation",
    "hermite_rule",
    # encoder, model, simulation, data files, training
    "MLPEncoder",
    "ML2PVAE",
    "SimulatedData",
    "simulate",
    "random_correlation",
    "read_responses",
    "read_q",
    "write_estimates",
    "load_or_simulate",
    "FitResult",
    "fit",
    "fit_summary",
    "recovery",
    # marginal maximum likelihood by EM
    "fit_mml",
    "marginal_loglik",
    "mml_plan",
]
