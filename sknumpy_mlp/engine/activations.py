"""Activation functions and their derivatives, as name -> function registries.

Every activation works *in place* on its pre-activation array ``Z`` and returns
it, so a layer needs one buffer per batch instead of two. Every derivative
takes the activation's output ``A`` and the gradient with respect to that
output, ``grad``, and overwrites ``grad`` with the gradient with respect to
the pre-activation. All five derivatives below are functions of ``A`` alone,
which is why ``Z`` need not be kept for the backward pass.
"""

import numpy as np


def identity(Z):
    r"""Identity, :math:`f(z) = z`."""
    return Z


def relu(Z):
    r"""Rectified linear unit, :math:`f(z) = \max(0, z)`."""
    return np.maximum(Z, 0, out=Z)


def logistic(Z):
    r"""Logistic sigmoid, :math:`f(z) = 1 / (1 + e^{-z})`.

    Computed from :math:`e^{-|z|}`, which never overflows, so pre-activations
    of :math:`\pm 10^4` give 0 and 1 without a warning.
    """
    E = np.exp(-np.abs(Z))
    positive = Z >= 0
    np.divide(1.0, 1.0 + E, out=Z, where=positive)
    np.divide(E, 1.0 + E, out=Z, where=~positive)
    return Z


def tanh(Z):
    r"""Hyperbolic tangent, :math:`f(z) = \tanh z`."""
    return np.tanh(Z, out=Z)


def softmax(Z):
    r"""Row-wise softmax, :math:`f(z)_k = e^{z_k - m} / \sum_j e^{z_j - m}`.

    Subtracting the row maximum :math:`m` keeps every exponent <= 0, so no
    overflow whatever the logits.
    """
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


def identity_derivative(A, grad):
    r""":math:`\partial L / \partial z = \partial L / \partial a`."""
    return grad


def relu_derivative(A, grad):
    r""":math:`\partial a / \partial z = 1` where :math:`a > 0`, else 0."""
    grad[A <= 0] = 0
    return grad


def logistic_derivative(A, grad):
    r""":math:`\partial a / \partial z = a (1 - a)`."""
    grad *= A
    grad *= 1 - A
    return grad


def tanh_derivative(A, grad):
    r""":math:`\partial a / \partial z = 1 - a^2`."""
    grad *= 1 - A**2
    return grad


def softmax_derivative(A, grad):
    r"""Jacobian-vector product of softmax.

    .. math:: \frac{\partial L}{\partial z_k} = a_k \left(g_k - \sum_j g_j a_j\right)
    """
    grad -= (grad * A).sum(axis=1, keepdims=True)
    grad *= A
    return grad


def log_softmax(Z):
    r"""Row-wise :math:`\log \mathrm{softmax}(z)`, finite for any finite logits."""
    shifted = Z - Z.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


def log_logistic(Z):
    r""":math:`\log \sigma(z) = -\log(1 + e^{-z})`, finite for any finite ``z``."""
    return -(np.maximum(-Z, 0) + np.log1p(np.exp(-np.abs(Z))))


ACTIVATIONS = {
    "identity": identity,
    "relu": relu,
    "logistic": logistic,
    "tanh": tanh,
    "softmax": softmax,
}

DERIVATIVES = {
    "identity": identity_derivative,
    "relu": relu_derivative,
    "logistic": logistic_derivative,
    "tanh": tanh_derivative,
    "softmax": softmax_derivative,
}

#: Other names accepted for an activation.
ALIASES = {"sigmoid": "logistic", "linear": "identity"}


def resolve_activation(name):
    """Return the canonical name of activation ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not a known activation.
    """
    if not isinstance(name, str):
        raise ValueError(
            f"activation must be a string, got {type(name).__name__}: {name!r}."
        )
    canonical = ALIASES.get(name, name)
    if canonical not in ACTIVATIONS:
        known = sorted(set(ACTIVATIONS) | set(ALIASES))
        raise ValueError(f"Unknown activation {name!r}; expected one of {known}.")
    return canonical
