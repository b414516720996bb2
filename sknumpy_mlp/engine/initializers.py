r"""Weight initialisers, as a name -> function registry.

Each takes ``(n_inputs, n_outputs, rng, dtype)`` with ``rng`` a
:class:`numpy.random.Generator` and returns ``(weights, biases)``, of shapes
``(n_inputs, n_outputs)`` and ``(n_outputs,)``.
"""

import numpy as np


def he_normal(n_inputs, n_outputs, rng, dtype=np.float32):
    r"""He (Kaiming) normal: :math:`W \sim \mathcal{N}(0, 2 / n_{in})`, for ReLU;
    biases start at zero."""
    scale = np.sqrt(2.0 / n_inputs)
    weights = (rng.standard_normal((n_inputs, n_outputs)) * scale).astype(dtype)
    return weights, np.zeros(n_outputs, dtype=dtype)


def glorot_uniform(n_inputs, n_outputs, rng, dtype=np.float32):
    r"""Glorot (Xavier) uniform weights; biases start at zero.

    .. math:: W \sim \mathcal{U}(-b, b), \qquad b = \sqrt{6 / (n_{in} + n_{out})}
    """
    bound = np.sqrt(6.0 / (n_inputs + n_outputs))
    weights = rng.uniform(-bound, bound, (n_inputs, n_outputs)).astype(dtype)
    return weights, np.zeros(n_outputs, dtype=dtype)


def glorot_uniform_biases(n_inputs, n_outputs, rng, dtype=np.float32):
    r"""Glorot uniform weights *and* biases, drawn in that order from the same
    bound :math:`b = \sqrt{6 / (n_{in} + n_{out})}`: scikit-learn's MLP
    initialisation (for every activation but the logistic, where it uses
    :math:`\sqrt{2 / (n_{in} + n_{out})}`)."""
    bound = np.sqrt(6.0 / (n_inputs + n_outputs))
    weights = rng.uniform(-bound, bound, (n_inputs, n_outputs)).astype(dtype)
    return weights, rng.uniform(-bound, bound, n_outputs).astype(dtype)


INITIALIZERS = {
    "he_normal": he_normal,
    "glorot_uniform": glorot_uniform,
    "glorot_uniform_biases": glorot_uniform_biases,
}


def default_initializer(activation):
    """He for ReLU layers, Glorot for every other activation."""
    return "he_normal" if activation == "relu" else "glorot_uniform"
