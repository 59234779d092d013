"""The ML2P-VAE encoder: a multilayer perceptron from responses to (mu, log_var).

The encoder maps a student's response vector u_j (length n) to the mean ``mu_j`` and the
log-variance ``log_var_j`` (length K each) of the Gaussian approximate posterior
q(theta_j | u_j) = N(mu_j, diag(exp(log_var_j))):

    h_0 = u_j
    h_l = f_l(h_{l-1} W_l + c_l)            l = 1 .. L  (hidden layers)
    [mu_j, log_var_j] = h_L W_out + c_out   (a linear output layer of width 2K)

Backpropagation is derived by hand (no autograd library): with g = d loss / d[mu, log_var]
and the pre-activations x_l = h_{l-1} W_l + c_l,

    dW_out = h_L^T g,   dc_out = sum_j g_j,   d h_L = g W_out^T
    d x_l = d h_l * f_l'(x_l),   dW_l = h_{l-1}^T d x_l,   dc_l = sum_j d x_l,
    d h_{l-1} = d x_l W_l^T.

Arrays are float64; row j is student j (a minibatch of B students has shape (B, n)).
"""

from __future__ import annotations

import numpy as np

from ..errors import DomainError, ShapeError
from .special import sigmoid, softplus
from .validate import as_generator

__all__ = ["ACTIVATIONS", "MLPEncoder"]


# Each activation is (f(x), f'(x) given x and y = f(x)).
ACTIVATIONS = {
    "relu": (lambda x: np.maximum(x, 0.0), lambda x, y: (x > 0).astype(x.dtype)),
    "elu": (
        lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
        lambda x, y: np.where(x > 0, 1.0, y + 1.0),
    ),
    "tanh": (np.tanh, lambda x, y: 1.0 - y * y),
    "sigmoid": (sigmoid, lambda x, y: y * (1.0 - y)),
    "softplus": (softplus, lambda x, y: sigmoid(x)),
    "linear": (lambda x: x, lambda x, y: np.ones_like(x)),
}
"""Activation name -> (f, f') with f'(x, f(x)); the names accepted by :class:`MLPEncoder`."""


class MLPEncoder:
    """A fully connected encoder from (B, n) responses to (B, K) ``mu`` and ``log_var``.

    Parameters
    ----------
    weights, biases : lists of arrays
        ``weights[l]`` has shape (d_l, d_{l+1}) and ``biases[l]`` shape (d_{l+1},), with
        d_0 = n and the last layer of width 2K (its first K outputs are ``mu``, the last
        K ``log_var``). The output layer is linear; the hidden layers use ``activations``.
    activations : sequence of str
        One name from :data:`ACTIVATIONS` per hidden layer (``len(weights) - 1`` names).

    Use :meth:`init` to draw a fresh encoder. ``params`` lists the arrays in the order
    ``W_1, c_1, ..., W_out, c_out``; :meth:`backward` returns gradients in the same order.

    Examples
    --------
    >>> enc = MLPEncoder.init(4, 2, hidden=(8,), seed=0)
    >>> mu, log_var, cache = enc.forward(np.ones((3, 4)))
    >>> mu.shape, log_var.shape
    ((3, 2), (3, 2))
    >>> [g.shape for g in enc.backward(cache, np.ones((3, 2)), np.zeros((3, 2)))]
    [(4, 8), (8,), (8, 4), (4,)]
    """

    def __init__(self, weights, biases, activations):
        weights = [np.asarray(w, dtype=np.float64) for w in weights]
        biases = [np.asarray(c, dtype=np.float64) for c in biases]
        activations = tuple(activations)
        if len(weights) == 0 or len(weights) != len(biases):
            raise ShapeError(
                f"need one bias per weight matrix and at least one layer; got "
                f"{len(weights)} weight matrices and {len(biases)} bias vectors"
            )
        if len(activations) != len(weights) - 1:
            raise ShapeError(
                f"need one activation per hidden layer ({len(weights) - 1}); got {len(activations)}"
            )
        for name in activations:
            if name not in ACTIVATIONS:
                raise DomainError(
                    f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}"
                )
        for l, (w, c) in enumerate(zip(weights, biases)):
            if w.ndim != 2 or c.shape != (w.shape[1],):
                raise ShapeError(
                    f"layer {l}: weight shape {w.shape} and bias shape {c.shape} do not fit; "
                    "expected (d_in, d_out) and (d_out,)"
                )
            if l > 0 and w.shape[0] != weights[l - 1].shape[1]:
                raise ShapeError(
                    f"layer {l} takes {w.shape[0]} inputs but layer {l - 1} gives "
                    f"{weights[l - 1].shape[1]}"
                )
        if weights[-1].shape[1] % 2:
            raise ShapeError(
                f"the output layer must have width 2K (mu and log_var); got {weights[-1].shape[1]}"
            )
        self.weights = weights
        self.biases = biases
        self.activations = activations

    # ------------------------------------------------------------------ construction
    @classmethod
    def init(cls, n_items, n_traits, *, hidden=(64,), activation="elu", seed=None):
        """Draw an encoder with Glorot-uniform weights and zero biases.

        ``hidden`` lists the hidden-layer widths (``()`` gives a linear encoder);
        ``activation`` is one name for every hidden layer or a sequence with one per layer.
        The output bias of ``log_var`` starts at -1 (posterior sd about 0.6), which keeps
        the first steps of training calm. ``seed`` is an int or a numpy ``Generator``.
        """
        rng = as_generator(seed)
        hidden = tuple(int(h) for h in hidden)
        if n_items < 1 or n_traits < 1 or any(h < 1 for h in hidden):
            raise ShapeError(
                f"layer widths must be positive; got n_items={n_items}, n_traits={n_traits}, "
                f"hidden={hidden}"
            )
        if isinstance(activation, str):
            activation = (activation,) * len(hidden)
        dims = (int(n_items),) + hidden + (2 * int(n_traits),)
        weights, biases = [], []
        for d_in, d_out in zip(dims[:-1], dims[1:]):
            limit = np.sqrt(6.0 / (d_in + d_out))
            weights.append(rng.uniform(-limit, limit, size=(d_in, d_out)))
            biases.append(np.zeros(d_out))
        biases[-1][n_traits:] = -1.0
        return cls(weights, biases, activation)

    # ------------------------------------------------------------------ accessors
    @property
    def n_items(self):
        return self.weights[0].shape[0]

    @property
    def n_traits(self):
        return self.weights[-1].shape[1] // 2

    @property
    def params(self):
        """The parameter arrays ``[W_1, c_1, ..., W_out, c_out]`` (views, not copies)."""
        out = []
        for w, c in zip(self.weights, self.biases):
            out += [w, c]
        return out

    def copy(self):
        """A deep copy."""
        return MLPEncoder([w.copy() for w in self.weights], [c.copy() for c in self.biases], self.activations)

    # ------------------------------------------------------------------ forward / backward
    def forward(self, U):
        """Return ``(mu, log_var, cache)`` for responses ``U`` of shape (B, n).

        ``cache`` holds the layer inputs and pre-activations that :meth:`backward` needs.
        """
        h = np.asarray(U, dtype=np.float64)
        if h.ndim != 2 or h.shape[1] != self.n_items:
            raise ShapeError(f"responses must have shape (B, {self.n_items}); got {h.shape}")
        cache = []
        for l, (w, c) in enumerate(zip(self.weights[:-1], self.biases[:-1])):
            x = h @ w
            x += c
            y = ACTIVATIONS[self.activations[l]][0](x)
            cache.append((h, x, y))
            h = y
        out = h @ self.weights[-1]
        out += self.biases[-1]
        cache.append(h)
        K = self.n_traits
        return out[:, :K], out[:, K:], cache

    def __call__(self, U):
        """``(mu, log_var)`` for responses ``U`` of shape (B, n)."""
        mu, log_var, _ = self.forward(U)
        return mu, log_var

    def backward(self, cache, d_mu, d_log_var):
        """Gradients of a scalar loss wrt ``params``, given d loss/d mu and d loss/d log_var.

        ``d_mu`` and ``d_log_var`` have shape (B, K); the result is a list of arrays in the
        order of :attr:`params`, each with the shape of its parameter.
        """
        g = np.concatenate([d_mu, d_log_var], axis=1)
        h = cache[-1]
        grads = [h.T @ g, g.sum(axis=0)]
        d_h = g @ self.weights[-1].T
        for l in range(len(self.weights) - 2, -1, -1):
            h_in, x, y = cache[l]
            d_x = d_h * ACTIVATIONS[self.activations[l]][1](x, y)
            grads = [h_in.T @ d_x, d_x.sum(axis=0)] + grads
            if l > 0:
                d_h = d_x @ self.weights[l].T
        return grads
