r"""Batch and layer normalization of a layer's pre-activation.

Added after a :class:`~sknumpy_mlp.engine.layers.Layer` (``network.add(
BatchNorm(n))``), a normalization works between that layer's affine map and
its activation, as in Ioffe and Szegedy (2015):

.. math::
    \hat z = \frac{z - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad
    a = f(\gamma \odot \hat z + \beta)

with a learnable scale :math:`\gamma` (``scale``, starting at 1) and shift
:math:`\beta` (``shift``, at 0). :class:`BatchNorm` takes :math:`\mu,
\sigma^2` per unit over the rows of the batch in training (weighted by the
rows' sample weights) and from running averages at prediction;
:class:`LayerNorm` (Ba et al., 2016) takes them per row over the units,
the same in training and prediction.

The backward pass, with :math:`g = \partial L / \partial \hat z = \gamma \odot
\partial L / \partial a'` and the rows' normalised weights :math:`a_i`
(:math:`1/n` without sample weights; for LayerNorm, :math:`1/m` over the
:math:`m` units of a row):

.. math::
    \frac{\partial L}{\partial z_i} = \frac{1}{\sqrt{\sigma^2 + \epsilon}}
        \Bigl(g_i - a_i \sum_j g_j - a_i \hat z_i \sum_j g_j \hat z_j\Bigr),
    \qquad
    \frac{\partial L}{\partial \gamma} = \sum_i g'_i \hat z_i, \quad
    \frac{\partial L}{\partial \beta} = \sum_i g'_i

(:math:`g'` the gradient with respect to the normalization's output); the
running averages are not part of the computation the gradient follows.
"""

import copy
import numbers

import numpy as np

from .backend import array_sum, namespace, to_namespace
from .backend import copy as backend_copy
from .layers import _check_size, resolve_dtype


class _Normalization:
    """What both normalizations share: the scale and shift, their gradients
    (views of the packed gradient once the network is packed), and the
    backward pass from the forward pass's cache."""

    #: The axis the statistics are taken over: 0 (rows) or 1 (units).
    AXIS = None

    def __init__(self, n_units, *, epsilon=1e-5, dtype="float32"):
        self.n_units = _check_size(n_units, "n_units")
        if not (isinstance(epsilon, numbers.Real) and epsilon > 0):
            raise ValueError(f"epsilon must be a positive number, got {epsilon!r}.")
        self.epsilon = float(epsilon)
        self.dtype = resolve_dtype(dtype)
        self.scale = np.ones(self.n_units, dtype=self.dtype)
        self.shift = np.zeros(self.n_units, dtype=self.dtype)
        self.grad_scale = self.grad_shift = None
        self._packed = False
        self._cache = None

    def __repr__(self):
        return f"{type(self).__name__}({self.n_units})"

    def parameters(self):
        """``[scale, shift]``: never L2-penalised nor decayed (see pack)."""
        return [self.scale, self.shift]

    def gradients(self):
        return [self.grad_scale, self.grad_shift]

    def forward(self, Z, training=False, sample_weight=None):
        """``scale * (Z - mean) / sqrt(var + epsilon) + shift``."""
        mean, var, weights = self._statistics(Z, training, sample_weight)
        inverse = 1.0 / namespace(Z).sqrt(var + self.epsilon)
        Z_hat = (Z - mean) * inverse
        if training:
            self._cache = (Z_hat, inverse, weights)
        return Z_hat * self.scale + self.shift

    def backward(self, grad):
        """The gradient with respect to the input, from the one with respect
        to the output; sets :attr:`grad_scale` and :attr:`grad_shift`."""
        if self._cache is None:
            raise RuntimeError("backward called before forward(Z, training=True).")
        Z_hat, inverse, weights = self._cache
        self._set_gradient("grad_scale", array_sum(grad * Z_hat, axis=0))
        self._set_gradient("grad_shift", array_sum(grad, axis=0))
        G = grad * self.scale
        axis = self.AXIS
        total = array_sum(G, axis=axis, keepdims=True)
        along = array_sum(G * Z_hat, axis=axis, keepdims=True)
        return inverse * (G - weights * total - weights * Z_hat * along)

    def _set_gradient(self, name, value):
        if self._packed:  # a view of the packed gradient
            getattr(self, name)[...] = value
        else:
            setattr(self, name, value)

    def to(self, xp, device=None):
        """Move the arrays to namespace ``xp`` on ``device``, in place."""
        for name in self._arrays():
            setattr(self, name, to_namespace(getattr(self, name), xp, device))
        self.grad_scale = self.grad_shift = None
        self._packed = False
        self._cache = None
        return self

    def _arrays(self):
        """The attributes that hold its arrays (what a model file stores)."""
        return ("scale", "shift")

    def copied(self, convert=None):
        """A copy that shares no array with this one; ``convert(array)``,
        if given, makes each new array (another dtype, another library)."""
        new = copy.copy(self)
        for name in self._arrays():
            value = getattr(self, name)
            setattr(
                new, name, backend_copy(value) if convert is None else convert(value)
            )
        new.grad_scale = new.grad_shift = None
        new._packed = False
        new._cache = None
        return new

    def clear(self):
        self._cache = None


class BatchNorm(_Normalization):
    r"""Batch normalization (Ioffe and Szegedy, 2015) of a layer's
    pre-activation.

    In training, each unit is normalised by the mean and variance of the
    batch (weighted by ``sample_weight`` when the rows have weights: the
    weighted mean and the weighted biased variance), and the running
    averages move towards them:
    :math:`m \leftarrow \rho m + (1 - \rho) \mu`; at prediction the running
    averages are used. A batch of one row cannot be normalised and is refused.

    Parameters
    ----------
    n_units : int
        Width of the layer it follows.
    momentum : float in [0, 1), default=0.9
        :math:`\rho` of the running averages.
    epsilon : float, default=1e-5
    dtype : {'float32', 'float64'}, default='float32'
    """

    AXIS = 0

    def __init__(self, n_units, *, momentum=0.9, epsilon=1e-5, dtype="float32"):
        super().__init__(n_units, epsilon=epsilon, dtype=dtype)
        if not (isinstance(momentum, numbers.Real) and 0 <= momentum < 1):
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}.")
        self.momentum = float(momentum)
        self.running_mean = np.zeros(self.n_units, dtype=self.dtype)
        self.running_var = np.ones(self.n_units, dtype=self.dtype)

    def _arrays(self):
        return ("scale", "shift", "running_mean", "running_var")

    def _statistics(self, Z, training, sample_weight):
        if not training:
            return self.running_mean, self.running_var, None
        n = Z.shape[0]
        if n < 2:
            raise ValueError(
                "BatchNorm needs at least 2 samples per batch in training, got "
                "1 sample: use a batch_size that leaves no batch of 1 sample."
            )
        xp = namespace(Z)
        if sample_weight is None:
            weights = 1.0 / n
            mean = array_sum(Z, axis=0) / n
            var = array_sum((Z - mean) ** 2, axis=0) / n
        else:
            w = xp.astype(sample_weight, Z.dtype)
            total = xp.maximum(xp.sum(w), xp.finfo(Z.dtype).smallest_normal)
            weights = (w / total)[:, None]
            mean = array_sum(weights * Z, axis=0)
            var = array_sum(weights * (Z - mean) ** 2, axis=0)
        rho = self.momentum
        self.running_mean[...] = rho * self.running_mean + (1 - rho) * mean
        self.running_var[...] = rho * self.running_var + (1 - rho) * var
        return mean, var, weights


class LayerNorm(_Normalization):
    r"""Layer normalization (Ba et al., 2016) of a layer's pre-activation:
    each row by the mean and variance of its own units, the same in training
    and prediction (no running statistics, no dependence on the batch).

    Parameters
    ----------
    n_units : int
    epsilon : float, default=1e-5
    dtype : {'float32', 'float64'}, default='float32'
    """

    AXIS = 1

    def _statistics(self, Z, training, sample_weight):
        m = Z.shape[1]
        mean = array_sum(Z, axis=1, keepdims=True) / m
        var = array_sum((Z - mean) ** 2, axis=1, keepdims=True) / m
        return mean, var, 1.0 / m


#: The normalizations by name, as the estimators' ``normalization`` takes them.
NORMALIZATIONS = {"batch": BatchNorm, "layer": LayerNorm}


def kind_of(normalization):
    """The :data:`NORMALIZATIONS` name of ``normalization``, or None."""
    for name, cls in NORMALIZATIONS.items():
        if type(normalization) is cls:
            return name
    return None
