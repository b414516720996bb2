r"""Loss functions, as a name -> function registry.

Each loss takes the output layer's pre-activation ``Z`` (the logits), the
targets ``Y`` (same shape as ``Z``), the name of the output activation and
optional per-row ``sample_weight``, and returns ``(loss, delta, A)``: the
weighted mean loss over the rows, the gradient of that mean with respect to
``Z``, and the output activation ``A``. Working from the logits is what makes
the cross-entropies stable: they use log-sum-exp and :math:`\log(1 + e^{z})`
instead of the logarithm of a probability that may have rounded to 0.

With weights :math:`w_i` the mean is :math:`\sum_i w_i \ell_i / \sum_i w_i`, so
an integer weight is the same as repeating the row and a zero weight the same
as removing it.

On NumPy the loss is a Python float; in another array library (see
:mod:`~sknumpy_mlp.engine.backend`) it is a 0-d array on the arrays' device,
so that no batch waits for a copy to the host.
"""

import numpy as np

from .activations import ACTIVATIONS, DERIVATIVES, log_logistic, log_softmax, row_max
from .backend import array_sum, copy, namespace


def _row_scale(Z, sample_weight):
    """Per-row factor of the mean: ``1/n``, or ``w_i / sum(w)`` (0 if all are 0)."""
    if sample_weight is None:
        return None, Z.shape[0]
    xp = namespace(Z)
    if xp is not np:  # no branch on a value of the device: w / max(sum, tiny)
        total = xp.sum(xp.astype(sample_weight, Z.dtype))
        w = xp.astype(sample_weight, Z.dtype) / xp.maximum(
            total, xp.finfo(Z.dtype).smallest_normal
        )
        return w[:, None], total
    total = float(sample_weight.sum())
    if total <= 0:
        return np.zeros((Z.shape[0], 1), dtype=Z.dtype), 1.0
    return (sample_weight / total).astype(Z.dtype, copy=False)[:, None], total


def _total(values):
    """The sum of ``values``: a float on NumPy, a 0-d array elsewhere."""
    if type(values) is np.ndarray:
        return float(values.sum())
    return namespace(values).sum(values)


def _mean(row_losses, scale, n):
    if scale is None:
        return _total(row_losses) / n
    return _total(row_losses * scale[:, 0])


def _scaled(delta, scale, n):
    if scale is None:
        delta /= n
    else:
        delta *= scale
    return delta


def categorical_crossentropy(Z, Y, activation="softmax", sample_weight=None):
    r"""Softmax cross-entropy from logits.

    .. math::
        \ell_i = \log \sum_k e^{z_{ik}} - \sum_k y_{ik} z_{ik},
        \qquad \frac{\partial \ell_i}{\partial z_i} = p_i - y_i

    with :math:`p = \mathrm{softmax}(z)`; the log-sum-exp is taken after
    subtracting the row maximum.
    """
    _require(activation, "softmax", "categorical_crossentropy")
    xp = namespace(Z)
    scale, n = _row_scale(Z, sample_weight)
    shifted = Z - row_max(Z)
    A = xp.exp(shifted)
    sums = array_sum(A, axis=1, keepdims=True)
    A /= sums
    if scale is None and xp is np:  # the common case, in as few passes as possible
        loss = (float(np.log(sums).sum()) - float(np.vdot(Y, shifted))) / n
    else:
        row_losses = xp.log(sums[:, 0]) - array_sum(Y * shifted, axis=1)
        loss = _mean(row_losses, scale, n)
    return loss, _scaled(A - Y, scale, n), A


def binary_crossentropy(Z, Y, activation="logistic", sample_weight=None):
    r"""Sigmoid (binary) cross-entropy from logits, one or more outputs.

    .. math::
        \ell_i = \sum_k \log(1 + e^{z_{ik}}) - y_{ik} z_{ik},
        \qquad \frac{\partial \ell_i}{\partial z_i} = \sigma(z_i) - y_i

    with :math:`\log(1 + e^{z}) = \max(z, 0) + \log(1 + e^{-|z|})`.
    """
    _require(activation, "logistic", "binary_crossentropy")
    xp = namespace(Z)
    scale, n = _row_scale(Z, sample_weight)
    softplus = xp.maximum(Z, 0.0) + xp.log1p(xp.exp(-xp.abs(Z)))
    row_losses = array_sum(softplus - Y * Z, axis=1)
    A = ACTIVATIONS["logistic"](copy(Z))
    delta = _scaled(A - Y, scale, n)
    return _mean(row_losses, scale, n), delta, A


def _residual_loss(Z, Y, activation, sample_weight, pointwise):
    """A loss of the residual :math:`r = f(z) - y`, summed over the outputs:
    ``pointwise(r)`` gives each element's loss and its derivative in ``r``
    (which may be ``r`` itself, overwritten afterwards)."""
    scale, n = _row_scale(Z, sample_weight)
    A = ACTIVATIONS[activation](copy(Z))
    values, slope = pointwise(A - Y)
    row_losses = array_sum(values, axis=1)
    delta = DERIVATIVES[activation](A, _scaled(slope, scale, n), Z)
    return _mean(row_losses, scale, n), delta, A


def squared_error(Z, Y, activation="identity", sample_weight=None):
    r"""Half squared error of the output activation :math:`a = f(z)`.

    .. math::
        \ell_i = \tfrac12 \sum_k (a_{ik} - y_{ik})^2,
        \qquad \frac{\partial \ell_i}{\partial z_i} = f'(z_i) \odot (a_i - y_i)
    """
    return _residual_loss(Z, Y, activation, sample_weight, lambda r: (0.5 * r**2, r))


def absolute_error(Z, Y, activation="identity", sample_weight=None):
    r"""Absolute error of the output activation :math:`a = f(z)`.

    .. math::
        \ell_i = \sum_k |a_{ik} - y_{ik}|,
        \qquad \frac{\partial \ell_i}{\partial z_i}
            = f'(z_i) \odot \operatorname{sign}(a_i - y_i)
    """
    xp = namespace(Z)
    return _residual_loss(
        Z, Y, activation, sample_weight, lambda r: (xp.abs(r), xp.sign(r))
    )


def huber(Z, Y, activation="identity", sample_weight=None, *, delta=1.0):
    r"""Huber loss of the output activation :math:`a = f(z)`, with threshold
    :math:`\delta` (``delta``): quadratic for small residuals, linear beyond.

    .. math::
        \ell_i = \sum_k \begin{cases} \tfrac12 r_{ik}^2 & |r_{ik}| \le \delta \\
            \delta (|r_{ik}| - \tfrac12 \delta) & \text{otherwise} \end{cases},
        \qquad \frac{\partial \ell_i}{\partial z_i}
            = f'(z_i) \odot \operatorname{clip}(r_i, -\delta, \delta)

    with :math:`r = a - y`.
    """

    xp = namespace(Z)

    def pointwise(r):
        size = xp.abs(r)
        values = xp.where(size <= delta, 0.5 * r**2, delta * (size - 0.5 * delta))
        return values, xp.clip(r, -delta, delta)

    return _residual_loss(Z, Y, activation, sample_weight, pointwise)


def poisson(Z, Y, activation="exp", sample_weight=None):
    r"""Half Poisson deviance of :math:`a = e^z`, for counts :math:`y \ge 0`
    (as scikit-learn's ``MLPRegressor(loss='poisson')``).

    .. math::
        \ell_i = \sum_k y_{ik} \log \frac{y_{ik}}{a_{ik}} - y_{ik} + a_{ik},
        \qquad \frac{\partial \ell_i}{\partial z_i} = a_i - y_i

    with :math:`0 \log 0 = 0`; computed from :math:`z` as
    :math:`y \log y - y z - y + e^z`, so it is finite for any finite logits.
    """
    _require(activation, "exp", "poisson")
    xp = namespace(Z)
    scale, n = _row_scale(Z, sample_weight)
    A = ACTIVATIONS["exp"](copy(Z))
    y_log_y = xp.where(Y > 0, Y * xp.log(xp.where(Y > 0, Y, 1.0)), 0.0)
    row_losses = array_sum(y_log_y - Y * Z - Y + A, axis=1)
    return _mean(row_losses, scale, n), _scaled(A - Y, scale, n), A


def focal(Z, Y, activation="softmax", sample_weight=None, *, gamma=2.0):
    r"""Focal loss (Lin et al., 2017) from logits: the cross-entropy of each
    output scaled by :math:`(1 - p)^\gamma`, so that well-classified rows
    weigh less; :math:`\gamma = 0` is the cross-entropy.

    For a softmax output, with :math:`p = \mathrm{softmax}(z)` and
    :math:`h_k = y_k \left(\gamma (1 - p_k)^{\gamma - 1} p_k \log p_k
    - (1 - p_k)^\gamma\right)`:

    .. math::
        \ell_i = -\sum_k y_{ik} (1 - p_{ik})^\gamma \log p_{ik},
        \qquad \frac{\partial \ell_i}{\partial z_{ik}}
            = h_{ik} - p_{ik} \sum_j h_{ij}

    For sigmoid outputs (binary, multilabel), :math:`p = \sigma(z)`, per
    output:

    .. math::
        \ell = -y (1 - p)^\gamma \log p - (1 - y) p^\gamma \log (1 - p),
        \qquad \frac{\partial \ell}{\partial z}
            = y (1 - p)^\gamma (\gamma p \log p - (1 - p))
            + (1 - y) p^\gamma (p - \gamma (1 - p) \log (1 - p))

    The logarithms are log-softmax and log-sigmoid of the logits, so they
    stay finite; soft targets (label smoothing) are allowed.
    """
    if activation not in ("softmax", "logistic"):
        raise ValueError(
            f"The focal loss needs a 'softmax' or 'logistic' output layer, "
            f"but the output activation is {activation!r}."
        )
    xp = namespace(Z)
    scale, n = _row_scale(Z, sample_weight)
    if activation == "softmax":
        log_p = log_softmax(Z)
        P = xp.exp(log_p)
        rest = 1.0 - P
        weight = rest**gamma
        row_losses = -array_sum(Y * weight * log_p, axis=1)
        # gamma (1 - p)^(gamma - 1) p log p, as 0 where p is 1 (its limit)
        slope = xp.where(
            rest > 0, gamma * weight * P * log_p / xp.where(rest > 0, rest, 1.0), 0.0
        )
        H = Y * (slope - weight)
        delta = H - P * array_sum(H, axis=1, keepdims=True)
        return _mean(row_losses, scale, n), _scaled(delta, scale, n), P
    log_p, log_q = log_logistic(Z), log_logistic(-Z)  # log p, log (1 - p)
    P, Q = xp.exp(log_p), xp.exp(log_q)
    row_losses = -array_sum(Y * Q**gamma * log_p + (1.0 - Y) * P**gamma * log_q, axis=1)
    delta = Y * Q**gamma * (gamma * P * log_p - Q) + (1.0 - Y) * P**gamma * (
        P - gamma * Q * log_q
    )
    return _mean(row_losses, scale, n), _scaled(delta, scale, n), P


LOSSES = {
    "categorical_crossentropy": categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "squared_error": squared_error,
    "absolute_error": absolute_error,
    "huber": huber,
    "poisson": poisson,
    "focal": focal,
}

#: The loss used when none is named, by output activation.
DEFAULT_LOSS = {
    "softmax": "categorical_crossentropy",
    "logistic": "binary_crossentropy",
    "exp": "poisson",
}


def with_label_smoothing(loss, epsilon):
    r"""``loss`` (a name or a function) on targets smoothed toward the
    uniform distribution (Szegedy et al., 2016):

    .. math:: y \leftarrow (1 - \varepsilon)\, y + \varepsilon / K

    with :math:`K` the number of classes for a softmax output, and 2 for each
    sigmoid output (its two outcomes).
    """
    base = get_loss(loss)

    def smoothed(Z, Y, activation, sample_weight=None):
        K = Z.shape[1] if activation == "softmax" else 2
        return base(Z, (1.0 - epsilon) * Y + epsilon / K, activation, sample_weight)

    return smoothed


def get_loss(loss):
    """The loss function named ``loss``; a callable of the same signature (such
    as ``functools.partial(huber, delta=2.0)``) is returned as it is."""
    return loss if callable(loss) else LOSSES[loss]


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
    if callable(loss):
        return
    if loss not in LOSSES:
        raise ValueError(f"Unknown loss {loss!r}; expected one of {sorted(LOSSES)}.")
    needed = {v: k for k, v in DEFAULT_LOSS.items()}.get(loss)
    if needed is not None:
        _require(output_activation, needed, loss)
    if loss == "focal" and output_activation not in ("softmax", "logistic"):
        _require(output_activation, "softmax' or 'logistic", loss)


def _require(activation, needed, loss):
    if activation != needed:
        raise ValueError(
            f"The {loss} loss needs a {needed!r} output layer, "
            f"but the output activation is {activation!r}."
        )
