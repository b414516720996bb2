r"""Loss functions, as a name -> function registry.

Each loss takes the output layer's pre-activation ``Z`` (the logits), the
targets ``Y`` (same shape as ``Z``) and the name of the output activation, and
returns ``(loss, delta, A)``: the mean loss over the rows, the gradient of that
mean with respect to ``Z``, and the output activation ``A``. Working from the
logits is what makes the cross-entropies stable: they use log-sum-exp and
:math:`\log(1 + e^{z})` instead of the logarithm of a probability that may
have rounded to 0.
"""

import numpy as np

from .activations import ACTIVATIONS, DERIVATIVES


def categorical_crossentropy(Z, Y, activation="softmax"):
    r"""Softmax cross-entropy from logits.

    .. math::
        L = \frac{1}{n} \sum_i \Big( \log \sum_k e^{z_{ik}}
            - \sum_k y_{ik} z_{ik} \Big),
        \qquad \frac{\partial L}{\partial z} = \frac{p - y}{n}

    with :math:`p = \mathrm{softmax}(z)`; the log-sum-exp is taken after
    subtracting the row maximum.
    """
    _require(activation, "softmax", "categorical_crossentropy")
    n = Z.shape[0]
    shifted = Z - Z.max(axis=1, keepdims=True)
    A = np.exp(shifted)
    sums = A.sum(axis=1, keepdims=True)
    A /= sums
    # log-softmax = shifted - log(sum exp(shifted)); loss = -sum(Y * log-softmax)
    loss = (np.log(sums).sum() - (Y * shifted).sum()) / n
    delta = A - Y
    delta /= n
    return float(loss), delta, A


def binary_crossentropy(Z, Y, activation="logistic"):
    r"""Sigmoid (binary) cross-entropy from logits, one or more outputs.

    .. math::
        L = \frac{1}{n} \sum_{i,k} \big( \log(1 + e^{z_{ik}}) - y_{ik} z_{ik} \big),
        \qquad \frac{\partial L}{\partial z} = \frac{\sigma(z) - y}{n}

    with :math:`\log(1 + e^{z}) = \max(z, 0) + \log(1 + e^{-|z|})`.
    """
    _require(activation, "logistic", "binary_crossentropy")
    n = Z.shape[0]
    softplus = np.maximum(Z, 0) + np.log1p(np.exp(-np.abs(Z)))
    loss = (softplus.sum() - (Y * Z).sum()) / n
    A = ACTIVATIONS["logistic"](Z.copy())
    delta = A - Y
    delta /= n
    return float(loss), delta, A


def squared_error(Z, Y, activation="identity"):
    r"""Half mean squared error of the output activation :math:`a = f(z)`.

    .. math::
        L = \frac{1}{2n} \sum_{i,k} (a_{ik} - y_{ik})^2,
        \qquad \frac{\partial L}{\partial z} = f'(z) \odot \frac{a - y}{n}
    """
    n = Z.shape[0]
    A = ACTIVATIONS[activation](Z.copy())
    diff = A - Y
    loss = 0.5 * float((diff**2).sum()) / n
    diff /= n
    delta = DERIVATIVES[activation](A, diff)
    return loss, delta, A


LOSSES = {
    "categorical_crossentropy": categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "squared_error": squared_error,
}

#: The loss used when none is named, by output activation.
DEFAULT_LOSS = {
    "softmax": "categorical_crossentropy",
    "logistic": "binary_crossentropy",
}


def default_loss(output_activation):
    """Name of the natural loss for ``output_activation``."""
    return DEFAULT_LOSS.get(output_activation, "squared_error")


def check_loss(loss, output_activation):
    """Validate the pairing of a loss name with the output activation.

    Raises
    ------
    ValueError
        If ``loss`` is unknown or cannot be used with ``output_activation``.
    """
    if loss not in LOSSES:
        raise ValueError(f"Unknown loss {loss!r}; expected one of {sorted(LOSSES)}.")
    needed = {v: k for k, v in DEFAULT_LOSS.items()}.get(loss)
    if needed is not None:
        _require(output_activation, needed, loss)


def _require(activation, needed, loss):
    if activation != needed:
        raise ValueError(
            f"The {loss} loss needs a {needed!r} output layer, "
            f"but the output activation is {activation!r}."
        )
