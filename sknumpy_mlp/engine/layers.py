"""Dense layers: an affine map followed by an activation."""

import numbers

import numpy as np

from .activations import (
    ACTIVATIONS,
    DERIVATIVES,
    NEEDS_PREACTIVATION,
    resolve_activation,
)
from .backend import DeviceRandom, copy, device, dtype_name, namespace, to_namespace
from .initializers import INITIALIZERS, default_initializer

#: The floating-point types the engine computes in.
DTYPES = {"float32": np.float32, "float64": np.float64}


def resolve_dtype(dtype):
    """Return ``np.float32`` or ``np.float64`` for ``dtype``.

    Raises
    ------
    ValueError
        For any other type.
    """
    try:
        resolved = np.dtype(dtype).type
    except TypeError:
        try:  # a float dtype of another array library
            resolved = np.dtype(dtype_name(dtype)).type
        except ValueError:
            resolved = None
    if resolved not in (np.float32, np.float64):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}.")
    return resolved


def as_generator(random_state):
    """Turn ``None``, an int or a Generator into a :class:`numpy.random.Generator`."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (
        isinstance(random_state, numbers.Integral)
        and not isinstance(random_state, bool)
    ):
        return np.random.default_rng(random_state)
    raise ValueError(
        "random_state must be None, an int or a numpy.random.Generator, "
        f"got {random_state!r}."
    )


def _check_size(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


class Dropout:
    r"""Inverted dropout on a layer's output.

    In training each unit is kept with probability :math:`1 - p` and scaled by
    :math:`1 / (1 - p)`, so the expected output is unchanged and nothing needs
    rescaling at prediction time, when dropout does nothing. Add it after a
    layer with ``network.add(Dropout(0.2))``.

    Parameters
    ----------
    rate : float
        Probability :math:`p` of dropping a unit, in [0, 1).
    random_state : int, numpy.random.Generator or None, default=None
        Source of the masks.
    """

    def __init__(self, rate, *, random_state=None):
        if (
            isinstance(rate, bool)
            or not isinstance(rate, numbers.Real)
            or not (0 <= rate < 1)
        ):
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate!r}.")
        self.rate = float(rate)
        self.rng = as_generator(random_state)
        self._mask = None
        self._random = None  # masks on the device of the arrays (see backend)

    def __repr__(self):
        return f"Dropout({self.rate})"

    def forward(self, A, training=False):
        """``A`` with a fresh random mask applied (in training only)."""
        if not training or self.rate == 0:
            self._mask = None
            return A
        keep = 1.0 - self.rate
        xp = namespace(A)
        if xp is np:
            mask = self.rng.random(A.shape, dtype=A.dtype) < keep
            self._mask = mask.astype(A.dtype) / A.dtype.type(keep)
            return A * self._mask
        if self._random is None or self._random.xp is not xp:
            self._random = DeviceRandom(self.rng, xp, device(A))
        draws = self._random.random(A.shape, dtype_name(A.dtype))
        self._mask = xp.astype(draws < keep, A.dtype) / keep
        return A * self._mask

    def backward(self, grad):
        """Gradient through the mask of the last training forward pass."""
        if self._mask is not None:
            grad *= self._mask
        return grad


class Layer:
    r"""A fully connected layer, :math:`A = f(X W + b)`.

    Parameters
    ----------
    n_inputs : int
        Width of the input (the previous layer's ``n_outputs``).
    n_outputs : int
        Number of units.
    activation : str, default='relu'
        The activation :math:`f`: ``'relu'``, ``'leaky_relu'``, ``'elu'``,
        ``'gelu'``, ``'logistic'`` (alias ``'sigmoid'``), ``'tanh'``,
        ``'softmax'`` or ``'identity'``.
    initializer : str or None, default=None
        How the weights (and biases) are drawn: ``'he_normal'``,
        ``'glorot_uniform'`` (both with zero biases) or
        ``'glorot_uniform_biases'`` (scikit-learn's); ``None`` means He for
        ReLU, Glorot otherwise.
    random_state : int, numpy.random.Generator or None, default=None
        Source of the initial weights; an int reproduces them exactly.
    dtype : {'float32', 'float64'}, default='float32'
        Floating-point type of the parameters and of every computation.

    Attributes
    ----------
    weights : ndarray of shape (n_inputs, n_outputs)
    biases : ndarray of shape (n_outputs,)
    grad_weights, grad_biases : ndarray or None
        Gradients from the last :meth:`backward` call.

    Examples
    --------
    >>> import numpy as np
    >>> from sknumpy_mlp import Layer
    >>> layer = Layer(3, 2, activation="relu", random_state=0)
    >>> layer.forward(np.ones((4, 3), dtype=np.float32)).shape
    (4, 2)
    """

    def __init__(
        self,
        n_inputs,
        n_outputs,
        activation="relu",
        *,
        initializer=None,
        random_state=None,
        dtype="float32",
    ):
        self.n_inputs = _check_size(n_inputs, "n_inputs")
        self.n_outputs = _check_size(n_outputs, "n_outputs")
        self.activation = resolve_activation(activation)
        self.dtype = resolve_dtype(dtype)
        if initializer is None:
            initializer = default_initializer(self.activation)
        if initializer not in INITIALIZERS:
            raise ValueError(
                f"Unknown initializer {initializer!r}; "
                f"expected one of {sorted(INITIALIZERS)}."
            )
        self.initializer = initializer
        rng = as_generator(random_state)
        self.weights, self.biases = INITIALIZERS[initializer](
            self.n_inputs, self.n_outputs, rng, self.dtype
        )
        self.grad_weights = None
        self.grad_biases = None
        self.dropout = None
        self.normalization = None
        self._packed = False
        self._input = self._output = self._preactivation = None

    @classmethod
    def from_arrays(cls, weights, biases, activation):
        """Build a layer around existing arrays (no copy, no initialisation),
        of NumPy or of another array library (see
        :mod:`~sknumpy_mlp.engine.backend`)."""
        xp = namespace(weights, biases)
        if xp is np:
            weights = np.asarray(weights)
            biases = np.asarray(biases)
        if weights.ndim != 2 or biases.shape != (weights.shape[1],):
            raise ValueError(
                f"weights of shape {weights.shape} and biases of shape "
                f"{biases.shape} do not form a layer: expected (n_inputs, n_outputs) "
                "and (n_outputs,)."
            )
        layer = cls.__new__(cls)
        layer.n_inputs, layer.n_outputs = (int(s) for s in weights.shape)
        layer.activation = resolve_activation(activation)
        layer.dtype = resolve_dtype(weights.dtype)
        layer.initializer = None
        layer.weights = weights
        layer.biases = xp.astype(biases, weights.dtype, copy=False)
        layer.grad_weights = layer.grad_biases = None
        layer.dropout = None
        layer.normalization = None
        layer._packed = False
        layer._input = layer._output = layer._preactivation = None
        return layer

    def __repr__(self):
        return (
            f"Layer({self.n_inputs}, {self.n_outputs}, activation={self.activation!r})"
        )

    def linear(self, X, training=False):
        """Pre-activation :math:`Z = X W + b` (``X`` may be scipy-sparse).

        In training, a packed layer (see :meth:`NeuralNetwork.pack`) writes
        into a buffer it reuses from batch to batch instead of a new array.
        """
        if training:
            self._input = X
            if self._packed and isinstance(X, np.ndarray):
                Z = np.matmul(
                    X, self.weights, out=self._buffer("_z", X.shape[0], self.n_outputs)
                )
                Z += self.biases
                return Z
        Z = X @ self.weights
        Z += self.biases
        return Z

    def _buffer(self, name, n_rows, *width, fill=None):
        """Rows ``[:n_rows]`` of a reusable (batch, *width) work array, filled
        with ``fill`` when it is made (if given)."""
        buffer = getattr(self, name, None)
        if buffer is None or buffer.shape[0] < n_rows:
            buffer = np.empty((n_rows, *width), dtype=self.dtype)
            if fill is not None:
                buffer.fill(fill)
            setattr(self, name, buffer)
        return buffer[:n_rows]

    def to(self, xp, device=None):
        """Move the parameters to namespace ``xp`` (on ``device``), in place;
        the arrays kept for the backward pass and the buffers are dropped."""
        self.weights = to_namespace(self.weights, xp, device)
        self.biases = to_namespace(self.biases, xp, device)
        if self.normalization is not None:
            self.normalization.to(xp, device)
        self.grad_weights = self.grad_biases = None
        self._packed = False
        self.clear()
        return self

    def activate(self, Z, training=False):
        """Apply the activation to ``Z`` (in place on NumPy) and return it."""
        if training and self.activation in NEEDS_PREACTIVATION:
            self._preactivation = copy(Z)
        A = ACTIVATIONS[self.activation](Z)
        if training:
            self._output = A
        return A

    def forward(self, X, training=False, sample_weight=None):
        """Output of the layer for input ``X``.

        With ``training=True`` the input and output are kept for
        :meth:`backward`, and dropout (if any) is applied; ``sample_weight``
        weighs the rows in a batch normalization's statistics.
        """
        Z = self.linear(X, training)
        if self.normalization is not None:
            Z = self.normalization.forward(Z, training, sample_weight)
        A = self.activate(Z, training)
        if self.dropout is not None:
            A = self.dropout.forward(A, training)
        return A

    def backward(self, grad, *, input_gradient=True):
        """Back-propagate ``grad``, the gradient with respect to this layer's output.

        Sets :attr:`grad_weights` and :attr:`grad_biases` and returns the
        gradient with respect to the layer's input (``None`` when
        ``input_gradient`` is false, which saves a matrix product in the first
        layer).
        """
        if self.dropout is not None:
            grad = self.dropout.backward(grad)
        delta = DERIVATIVES[self.activation](self._output, grad, self._preactivation)
        if self.normalization is not None:
            delta = self.normalization.backward(delta)
        return self.backward_linear(delta, input_gradient=input_gradient)

    def backward_linear(self, delta, *, input_gradient=True):
        r"""Back-propagate ``delta``, the gradient with respect to :math:`Z`.

        .. math::
            \frac{\partial L}{\partial W} = X^\top \delta, \quad
            \frac{\partial L}{\partial b} = \sum_i \delta_i, \quad
            \frac{\partial L}{\partial X} = \delta W^\top
        """
        if self._input is None:
            raise RuntimeError("backward called before forward(X, training=True).")
        X = self._input
        if self._packed and type(delta) is not np.ndarray:  # another library's
            self.grad_weights[...] = X.T @ delta
            self.grad_biases[...] = namespace(delta).sum(delta, axis=0)
            return delta @ self.weights.T if input_gradient else None
        if self._packed:  # write into the packed gradient views
            if isinstance(X, np.ndarray):
                np.matmul(X.T, delta, out=self.grad_weights)
            else:
                self.grad_weights[...] = X.T @ delta
            # a product with a vector of ones: a third of np.sum's time here
            ones = self._buffer("_ones", delta.shape[0], fill=1)
            np.matmul(ones, delta, out=self.grad_biases)
            if not input_gradient:
                return None
            return np.matmul(
                delta,
                self.weights.T,
                out=self._buffer("_dx", delta.shape[0], self.n_inputs),
            )
        xp = namespace(delta)
        self.grad_weights = np.asarray(X.T @ delta) if xp is np else X.T @ delta
        self.grad_biases = xp.sum(delta, axis=0)
        return delta @ self.weights.T if input_gradient else None

    def parameters(self):
        """The trainable arrays, ``[weights, biases]`` and a normalization's
        ``[scale, shift]`` (updated in place)."""
        own = [self.weights, self.biases]
        if self.normalization is not None:
            own += self.normalization.parameters()
        return own

    def gradients(self):
        """Gradients matching :meth:`parameters`."""
        own = [self.grad_weights, self.grad_biases]
        if self.normalization is not None:
            own += self.normalization.gradients()
        return own

    def clear(self):
        """Drop the arrays kept for the backward pass and the work buffers."""
        self._input = self._output = self._preactivation = None
        self._z = self._dx = self._ones = None
        if self.normalization is not None:
            self.normalization.clear()
