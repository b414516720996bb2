"""Activation functions and their derivatives, as name -> function registries.

Every activation works *in place* on its pre-activation array ``Z`` and returns
it, so a layer needs one buffer per batch instead of two. Every derivative
takes the activation's output ``A``, the gradient with respect to that output,
``grad``, and (only for the activations in :data:`NEEDS_PREACTIVATION`) the
pre-activation ``Z``, and overwrites ``grad`` with the gradient with respect to
the pre-activation. All other derivatives are functions of ``A`` alone, which
is why ``Z`` is kept for the backward pass only where it must be.

The functions compute in the namespace of their arrays (see
:mod:`~sknumpy_mlp.engine.backend`); on NumPy they work in place, elsewhere
they may return new arrays: callers use what they return.
"""

import math

import numpy as np

from .backend import array_sum, dtype_in, namespace


def identity(Z):
    r"""Identity, :math:`f(z) = z`."""
    return Z


def relu(Z):
    r"""Rectified linear unit, :math:`f(z) = \max(0, z)`."""
    if type(Z) is not np.ndarray:  # another array library's (see backend)
        return namespace(Z).where(Z > 0, Z, 0.0)
    return np.maximum(Z, 0, out=Z)


def logistic(Z):
    r"""Logistic sigmoid, :math:`f(z) = 1 / (1 + e^{-z})`.

    Computed from :math:`e^{-|z|}`, which never overflows, so pre-activations
    of :math:`\pm 10^4` give 0 and 1 without a warning.
    """
    xp = namespace(Z)
    E = xp.exp(-xp.abs(Z))
    positive = Z >= 0
    if xp is not np:
        return xp.where(positive, 1.0 / (1.0 + E), E / (1.0 + E))
    np.divide(1.0, 1.0 + E, out=Z, where=positive)
    np.divide(E, 1.0 + E, out=Z, where=~positive)
    return Z


def exp(Z):
    r"""Exponential, :math:`f(z) = e^z`: the output of Poisson regression (an
    output activation only, as in scikit-learn's ``MLPRegressor``).

    ``z`` is first capped at the logarithm of the dtype's largest number, so
    the result is always finite (``e^z`` would overflow to infinity above it).
    """
    # (a hair below it: the logarithm itself rounds up in float32)
    xp = namespace(Z)
    cap = 0.99999 * math.log(float(xp.finfo(Z.dtype).max))
    if xp is not np:
        return xp.exp(xp.minimum(Z, cap))
    np.minimum(Z, cap, out=Z)
    return np.exp(Z, out=Z)


def tanh(Z):
    r"""Hyperbolic tangent, :math:`f(z) = \tanh z`."""
    if type(Z) is not np.ndarray:  # another array library's (see backend)
        return namespace(Z).tanh(Z)
    return np.tanh(Z, out=Z)


#: Slope of leaky ReLU for negative inputs (PyTorch's default; Keras's
#: ``LeakyReLU`` layer defaults to 0.3).
LEAKY_SLOPE = 0.01
_GELU_C = math.sqrt(2.0 / math.pi)


def leaky_relu(Z):
    r"""Leaky ReLU, :math:`f(z) = z` for :math:`z > 0`, else :math:`0.01 z`."""
    if type(Z) is not np.ndarray:  # another array library's (see backend)
        return namespace(Z).maximum(Z, LEAKY_SLOPE * Z)
    return np.maximum(Z, LEAKY_SLOPE * Z, out=Z)


def elu(Z):
    r"""Exponential linear unit, :math:`f(z) = z` for :math:`z > 0`, else
    :math:`e^z - 1`.
    """
    xp = namespace(Z)
    negative = Z < 0
    if xp is not np:
        return xp.where(negative, xp.expm1(Z), Z)
    np.expm1(Z, out=Z, where=negative)
    return Z


def gelu(Z):
    r"""Gaussian error linear unit, in its tanh form (as GPT-2 and PyTorch's
    ``approximate='tanh'``).

    .. math::
        f(z) = \tfrac{1}{2} z \left(1 + \tanh\left(\sqrt{2/\pi}
            \,(z + 0.044715 z^3)\right)\right)
    """
    T = namespace(Z).tanh(_GELU_C * (Z + 0.044715 * Z**3))
    T += 1
    T *= 0.5
    Z *= T
    return Z


def row_max(Z):
    """The maximum of each row of the 2-D array ``Z``, as a column.

    NumPy reduces along a short row slowly: for the 10 logits of MNIST
    ``Z.max(axis=1)`` takes 8 us for 100 rows and 400 us for 10 000, while the
    same maxima taken down the columns of a transposed copy take 2 and 95 us.
    From about 32 columns the plain reduction is faster. The values are the
    same either way (a maximum does not depend on the order).
    """
    if type(Z) is not np.ndarray:  # another array library's (see backend)
        return namespace(Z).max(Z, axis=1, keepdims=True)
    if Z.shape[1] < 32:
        return Z.T.copy().max(axis=0)[:, None]
    return Z.max(axis=1, keepdims=True)


def softmax(Z, dtype=None):
    r"""Row-wise softmax, :math:`f(z)_k = e^{z_k - m} / \sum_j e^{z_j - m}`.

    Any shift :math:`m` of a row gives the same probabilities; it only has
    to keep the exponentials finite and their sum a normal number. When
    every logit lies within a third of the dtype's exponent range (236 in
    float64, 29 in float32) no shift is needed: no :math:`e^z` overflows and
    no probability falls below :math:`e^{-2 \cdot 236} / K`. Otherwise
    :math:`m` is the row's maximum, every exponent is :math:`\le 0`, and
    probabilities that underflow are raised to the dtype's smallest normal
    number: no probability is ever 0, so its logarithm stays finite.

    Narrow arrays sum their rows as a matrix-vector product, for the reason
    given in :func:`row_max`. For 10 000 rows of 10 float64 logits the whole
    softmax takes 200 us unshifted and 410 us shifted (``Z.max(axis=1)``
    alone: 330 us). Fewer than 8 rows always take the shift, in the fewest
    NumPy calls (one row: 4.3 against 5.5 us).

    ``dtype``, if given, is the result's (``Z`` may still be overwritten;
    where ``dtype`` is its own, ``Z`` is the result). Where it is wider
    (float64 probabilities of float32 logits), logits of magnitude up to 87
    take their exponentials unshifted in ``Z``'s dtype, all of them normal
    float32 numbers, and everything after in ``dtype``: an exponential's
    relative error (about 1e-7 in float32) is below that of the float32
    logits themselves, and sums and quotients keep ``dtype``'s precision
    near 0 and 1. NumPy's float64 exponential is SIMD only with AVX-512
    (about 10 ns a value without it, four times float32's). Larger logits
    are converted first.
    """
    if type(Z) is not np.ndarray:  # another array library's (see backend)
        xp = namespace(Z)
        if dtype is not None:
            Z = xp.astype(Z, dtype_in(xp, dtype))
        E = xp.exp(Z - xp.max(Z, axis=1, keepdims=True))
        P = E / xp.sum(E, axis=1, keepdims=True)
        return xp.maximum(P, xp.finfo(P.dtype).smallest_normal)
    if (  # float32 exponentials, float64 probabilities (see above)
        dtype is not None
        and np.dtype(dtype).itemsize > Z.itemsize
        and Z.shape[0] >= 8
        and Z.size
        and -_NORMAL_EXP <= Z.min()
        and Z.max() <= _NORMAL_EXP
    ):
        Z = np.exp(Z, out=Z).astype(dtype)
        shift = False
    else:
        if dtype is not None:
            Z = Z.astype(dtype, copy=False)
        tiny, bound = _LIMITS.get(Z.dtype) or _limits(Z.dtype)
        if Z.shape[0] < 8:  # a few rows: the fewest NumPy calls
            Z -= Z.max(axis=1, keepdims=True)
            np.exp(Z, out=Z)
            Z /= Z.sum(axis=1, keepdims=True)
            return np.maximum(Z, tiny, out=Z)
        shift = not (Z.size and -bound <= Z.min() and Z.max() <= bound)  # NaN: shift
        if shift:
            Z -= row_max(Z)
        np.exp(Z, out=Z)
    if Z.shape[1] < 32:
        sums = Z @ np.ones(Z.shape[1], dtype=Z.dtype)
    else:
        sums = Z.sum(axis=1)
    np.divide(1, sums, out=sums)
    Z *= sums[:, None]
    if shift:
        np.maximum(Z, tiny, out=Z)
    return Z


def _limits(dtype):
    """The smallest normal number of float ``dtype``, and the largest logit
    magnitude :func:`softmax` exponentiates unshifted."""
    info = np.finfo(dtype)
    return info.tiny, math.log(float(info.max)) / 3


_LIMITS = {np.dtype(t): _limits(t) for t in (np.float32, np.float64)}

#: The largest logit magnitude whose float32 exponential is a normal number:
#: e^-87 is 1.6e-38, float32's smallest normal 1.2e-38 (see softmax's dtype).
_NORMAL_EXP = 87.0


def identity_derivative(A, grad, Z=None):
    r""":math:`\partial L / \partial z = \partial L / \partial a`."""
    return grad


def relu_derivative(A, grad, Z=None):
    r""":math:`\partial a / \partial z = 1` where :math:`a > 0`, else 0."""
    if type(A) is not np.ndarray:  # another array library's (see backend)
        return namespace(A).where(A > 0, grad, 0.0)
    np.multiply(grad, A > 0, out=grad)
    return grad


def leaky_relu_derivative(A, grad, Z=None):
    r""":math:`\partial a / \partial z = 1` where :math:`a > 0`, else 0.01."""
    if type(A) is not np.ndarray:  # another array library's (see backend)
        return namespace(A).where(A > 0, grad, LEAKY_SLOPE * grad)
    grad[A <= 0] *= LEAKY_SLOPE
    return grad


def elu_derivative(A, grad, Z=None):
    r""":math:`\partial a / \partial z = 1` where :math:`a > 0`, else
    :math:`e^z = a + 1`.
    """
    xp = namespace(A)
    negative = A < 0
    if xp is not np:
        return xp.where(negative, grad * (A + 1), grad)
    grad[negative] *= A[negative] + 1
    return grad


def gelu_derivative(A, grad, Z):
    r"""Derivative of the tanh-form GELU, from the pre-activation :math:`z`.

    .. math::
        f'(z) = \tfrac12 (1 + t) + \tfrac12 z (1 - t^2) \sqrt{2/\pi}
            (1 + 3 \cdot 0.044715 z^2), \quad
        t = \tanh\left(\sqrt{2/\pi}(z + 0.044715 z^3)\right)
    """
    T = namespace(Z).tanh(_GELU_C * (Z + 0.044715 * Z**3))
    derivative = 0.5 * (1 + T) + 0.5 * Z * (1 - T**2) * _GELU_C * (
        1 + 3 * 0.044715 * Z**2
    )
    grad *= derivative
    return grad


def logistic_derivative(A, grad, Z=None):
    r""":math:`\partial a / \partial z = a (1 - a)`."""
    grad *= A
    grad *= 1 - A
    return grad


def exp_derivative(A, grad, Z=None):
    r""":math:`\partial a / \partial z = e^z = a`."""
    grad *= A
    return grad


def tanh_derivative(A, grad, Z=None):
    r""":math:`\partial a / \partial z = 1 - a^2`."""
    grad *= 1 - A**2
    return grad


def softmax_derivative(A, grad, Z=None):
    r"""Jacobian-vector product of softmax.

    .. math:: \frac{\partial L}{\partial z_k} = a_k \left(g_k - \sum_j g_j a_j\right)
    """
    grad -= array_sum(grad * A, axis=1, keepdims=True)
    grad *= A
    return grad


def log_softmax(Z):
    r"""Row-wise :math:`\log \mathrm{softmax}(z)`, finite for any finite logits."""
    xp = namespace(Z)
    shifted = Z - row_max(Z)
    shifted -= xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
    return shifted


def log_logistic(Z):
    r""":math:`\log \sigma(z) = -\log(1 + e^{-z})`, finite for any finite ``z``."""
    xp = namespace(Z)
    return -(xp.maximum(-Z, 0.0) + xp.log1p(xp.exp(-xp.abs(Z))))


ACTIVATIONS = {
    "identity": identity,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "gelu": gelu,
    "logistic": logistic,
    "tanh": tanh,
    "softmax": softmax,
    "exp": exp,
}

DERIVATIVES = {
    "identity": identity_derivative,
    "relu": relu_derivative,
    "leaky_relu": leaky_relu_derivative,
    "elu": elu_derivative,
    "gelu": gelu_derivative,
    "logistic": logistic_derivative,
    "tanh": tanh_derivative,
    "softmax": softmax_derivative,
    "exp": exp_derivative,
}


def identity_shifted(Z, b):
    r""":math:`f(z + b) - b` for the identity: ``Z`` itself."""
    return Z


def relu_shifted(Z, b):
    r""":math:`f(z + b) - b = \max(z, -b)` for ReLU, in one pass over ``Z``."""
    if type(Z) is not np.ndarray:  # another array library's (see backend)
        return namespace(Z).maximum(Z, -b)
    return np.maximum(Z, -b, out=Z)


#: Activations that can take their bias later: ``SHIFTED[name](Z, b)`` is
#: :math:`f(Z + b) - b`, computed without forming :math:`Z + b`. A layer of
#: these passes its bias on to the next product instead of adding it (see
#: ``NeuralNetwork.logits``), which saves a pass over its activations.
SHIFTED = {"identity": identity_shifted, "relu": relu_shifted}

#: Activations for output layers only.
OUTPUT_ONLY = frozenset({"softmax", "exp"})

#: Activations whose derivative needs the pre-activation ``Z``, not only ``A``.
NEEDS_PREACTIVATION = frozenset({"gelu"})

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
