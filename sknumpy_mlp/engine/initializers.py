r"""Weight initialisers, as a name -> function registry.

Each takes ``(n_inputs, n_outputs, rng, dtype)`` with ``rng`` a
:class:`numpy.random.Generator` and returns the weight matrix, shape
``(n_inputs, n_outputs)``; biases start at zero.
"""

import numpy as np


def he_normal(n_inputs, n_outputs, rng, dtype=np.float32):
    r"""He (Kaiming) normal: :math:`W \sim \mathcal{N}(0, 2 / n_{in})`, for ReLU."""
    scale = np.sqrt(2.0 / n_inputs)
    return (rng.standard_normal((n_inputs, n_outputs)) * scale).astype(dtype)


def glorot_uniform(n_inputs, n_outputs, rng, dtype=np.float32):
    r"""Glorot (Xavier) uniform.

    .. math:: W \sim \mathcal{U}(-b, b), \qquad b = \sqrt{6 / (n_{in} + n_{out})}
    """
    bound = np.sqrt(6.0 / (n_inputs + n_outputs))
    return rng.uniform(-bound, bound, (n_inputs, n_outputs)).astype(dtype)


INITIALIZERS = {"he_normal": he_normal, "glorot_uniform": glorot_uniform}


def default_initializer(activation):
    """He for ReLU layers, Glorot for every other activation."""
    return "he_normal" if activation == "relu" else "glorot_uniform"
