"""Central finite differences shared by the gradient tests (importable as ``numdiff``)."""

import numpy as np


def central_differences(f, params, h=1e-6, skip=None):
    """(f(x + h e) - f(x - h e)) / 2h of the scalar ``f()`` for every entry of every array in
    ``params``, perturbed in place and restored; ``skip(j, idx)`` leaves an entry at 0."""
    out = []
    for j, p in enumerate(params):
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            if skip is not None and skip(j, idx):
                continue
            old = p[idx]
            p[idx] = old + h
            up = f()
            p[idx] = old - h
            down = f()
            p[idx] = old
            g[idx] = (up - down) / (2 * h)
        out.append(g)
    return out
