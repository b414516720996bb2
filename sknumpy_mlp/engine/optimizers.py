r"""Stochastic optimizers that update parameter arrays in place.

An optimizer is built for a list of parameter arrays; :meth:`step` takes the
matching gradients and changes the parameters in place. Its whole state is
``state_dict()``, a dict of plain arrays and numbers, so it can be saved and
restored. The formulas follow scikit-learn's ``_stochastic_optimizers``; one
addition: every :data:`FLUSH_EVERY` steps, values that have decayed almost to
the subnormal range are set to zero (:func:`flush_subnormals`), because
arithmetic on subnormal numbers is many times slower.

The arrays may be of another library than NumPy (see
:mod:`~sknumpy_mlp.engine.backend`): the updates are the same in-place
operators; the ``out=`` buffers and cache-sized pieces are NumPy's only.
"""

import numpy as np

from .backend import device, namespace, to_namespace

#: Element-wise updates of flat arrays run over pieces of this many values, so
#: that the passes of a step (a dozen for Adam) find a piece in the CPU's cache
#: instead of reading the whole arrays from memory each time. Measured (float32,
#: 670 000 values, right after a matrix product): Adam 1.55 -> 1.13 ms.
CHUNK = 2**16

#: Every this many steps, values of the parameters and of the optimizer state
#: that have decayed to within ``FLUSH_MARGIN`` times the smallest normal float
#: are set to zero (see :func:`flush_subnormals`).
FLUSH_EVERY = 8
FLUSH_MARGIN = 2.0**24


class Optimizer:
    """What every optimizer declares, once; the estimators, the command line
    and model files derive their options from it (a new optimizer is one
    subclass and one :data:`OPTIMIZERS` entry)."""

    #: Hyper-parameters besides the learning rate: keyword arguments of
    #: ``__init__`` that the estimators set from their parameters of the same
    #: name (see ``sknumpy_mlp._solvers.estimator_optimizer``).
    HYPERPARAMETERS = ()
    #: Entries of :meth:`state_dict` that are lists of arrays (model files
    #: store them as arrays, see persistence.py).
    STATE_ARRAYS = ()
    #: Whether ``__init__`` takes ``decay``, the weight arrays to decay.
    DECAYS_WEIGHTS = False

    def _take_rate(self, learning_rate):
        """Step with ``learning_rate`` when given (the training loop passes its
        schedule's); it stays the optimizer's :attr:`learning_rate`."""
        if learning_rate is not None:
            self.learning_rate = float(learning_rate)


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum.

    .. math::
        v \leftarrow \mu v - \eta g, \qquad
        \theta \leftarrow \theta + v \quad
        (\text{Nesterov: } \theta \leftarrow \theta + \mu v - \eta g)

    Parameters
    ----------
    params : list of ndarray
        The arrays to update.
    learning_rate : float, default=0.01
    momentum : float, default=0.0
    nesterov : bool, default=False
    """

    HYPERPARAMETERS = ("momentum", "nesterov")
    STATE_ARRAYS = ("velocities",)

    def __init__(self, params, learning_rate=0.01, momentum=0.0, nesterov=False):
        self.params = list(params)
        self.learning_rate = float(learning_rate)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.velocities = (
            [_zeros_like(p) for p in self.params] if self.momentum > 0 else None
        )
        self.t = 0

    def step(self, grads, learning_rate=None):
        """Apply one update with ``grads`` (one per parameter), in place.

        ``grads`` are used as scratch space and hold garbage afterwards.
        ``learning_rate`` is the rate of this step (the training loop passes
        its schedule's); by default, and afterwards, :attr:`learning_rate`.
        """
        self._take_rate(learning_rate)
        self.t += 1
        lr = float(self.learning_rate)
        if self.velocities is None:
            for p, g in zip(self.params, grads, strict=True):
                in_chunks(_descend, (p, g), lr)
        else:
            update = _nesterov if self.nesterov else _momentum
            mu = float(self.momentum)
            for p, g, v in zip(self.params, grads, self.velocities, strict=True):
                in_chunks(update, (p, g, v), lr, mu)
        if self.t % FLUSH_EVERY == 0:
            flush_subnormals(self.params + (self.velocities or []))

    def state_dict(self):
        """Arrays and numbers that fully describe the optimizer's state."""
        state = {"t": self.t, "learning_rate": self.learning_rate}
        if self.velocities is not None:
            state["velocities"] = self.velocities
        return state

    def load_state_dict(self, state):
        """Restore what :meth:`state_dict` returned."""
        self.t = int(state["t"])
        self.learning_rate = float(state["learning_rate"])
        if "velocities" in state:
            self.velocities = _matching(state["velocities"], self.params)


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2014).

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \quad
        \theta \leftarrow \theta - \eta \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}
            \frac{m}{\sqrt{v} + \epsilon}

    Parameters
    ----------
    params : list of ndarray
    learning_rate : float, default=0.001
    beta_1, beta_2 : float, default=0.9, 0.999
    epsilon : float, default=1e-8
    """

    HYPERPARAMETERS = ("beta_1", "beta_2", "epsilon")
    STATE_ARRAYS = ("ms", "vs")

    def __init__(
        self, params, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8
    ):
        self.params = list(params)
        self.learning_rate = float(learning_rate)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.ms = [_zeros_like(p) for p in self.params]
        self.vs = [_zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, grads, learning_rate=None):
        """Apply one update with ``grads`` (one per parameter), in place.

        ``grads`` are used as scratch space and hold garbage afterwards.
        ``learning_rate`` is the rate of this step (the training loop passes
        its schedule's); by default, and afterwards, :attr:`learning_rate`.
        """
        self._take_rate(learning_rate)
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        # a Python float, so that float32 parameters are not computed in float64
        lr = float(self.learning_rate * np.sqrt(1 - b2**self.t) / (1 - b1**self.t))
        for p, g, m, v in zip(self.params, grads, self.ms, self.vs, strict=True):
            in_chunks(_adam, (p, g, m, v), lr, b1, b2, self.epsilon)
        if self.t % FLUSH_EVERY == 0:
            flush_subnormals(self.params + self.ms + self.vs)

    def state_dict(self):
        """Arrays and numbers that fully describe the optimizer's state."""
        return {
            "t": self.t,
            "learning_rate": self.learning_rate,
            "ms": self.ms,
            "vs": self.vs,
        }

    def load_state_dict(self, state):
        """Restore what :meth:`state_dict` returned."""
        self.t = int(state["t"])
        self.learning_rate = float(state["learning_rate"])
        self.ms = _matching(state["ms"], self.params)
        self.vs = _matching(state["vs"], self.params)


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012): steps scaled by a running RMS of the gradient.

    .. math::
        v \leftarrow \rho v + (1 - \rho) g^2, \qquad
        \theta \leftarrow \theta - \eta \frac{g}{\sqrt{v} + \epsilon}

    Parameters
    ----------
    params : list of ndarray
    learning_rate : float, default=0.001
    rho : float, default=0.9
    epsilon : float, default=1e-8
    """

    HYPERPARAMETERS = ("rho", "epsilon")
    STATE_ARRAYS = ("vs",)

    def __init__(self, params, learning_rate=0.001, rho=0.9, epsilon=1e-8):
        self.params = list(params)
        self.learning_rate = float(learning_rate)
        self.rho = float(rho)
        self.epsilon = float(epsilon)
        self.vs = [_zeros_like(p) for p in self.params]
        self._scratch = None
        self.t = 0

    def step(self, grads, learning_rate=None):
        """Apply one update with ``grads`` (one per parameter), in place.

        ``grads`` are used as scratch space and hold garbage afterwards.
        ``learning_rate`` is the rate of this step (the training loop passes
        its schedule's); by default, and afterwards, :attr:`learning_rate`.
        """
        self._take_rate(learning_rate)
        self.t += 1
        rho, lr = self.rho, float(self.learning_rate)
        if self._scratch is None:
            self._scratch = [namespace(p).empty_like(p) for p in self.params]
        for p, g, v, s in zip(self.params, grads, self.vs, self._scratch, strict=True):
            in_chunks(_rmsprop, (p, g, v, s), lr, rho, self.epsilon)
        if self.t % FLUSH_EVERY == 0:
            flush_subnormals(self.params + self.vs)

    def state_dict(self):
        """Arrays and numbers that fully describe the optimizer's state."""
        return {"t": self.t, "learning_rate": self.learning_rate, "vs": self.vs}

    def load_state_dict(self, state):
        """Restore what :meth:`state_dict` returned."""
        self.t = int(state["t"])
        self.learning_rate = float(state["learning_rate"])
        self.vs = _matching(state["vs"], self.params)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    After the Adam step, every weight matrix (not the biases) shrinks by
    :math:`\eta \lambda \theta`, independently of the gradient:

    .. math:: \theta \leftarrow \theta - \eta \lambda \theta

    Parameters
    ----------
    params : list of ndarray
    learning_rate : float, default=0.001
    beta_1, beta_2 : float, default=0.9, 0.999
    epsilon : float, default=1e-8
    weight_decay : float, default=0.01
    decay : list of ndarray or None, default=None
        The arrays to decay (views of ``params`` when those are packed); by
        default every parameter with more than one dimension.
    """

    HYPERPARAMETERS = (*Adam.HYPERPARAMETERS, "weight_decay")
    DECAYS_WEIGHTS = True

    def __init__(
        self,
        params,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        weight_decay=0.01,
        decay=None,
    ):
        super().__init__(params, learning_rate, beta_1, beta_2, epsilon)
        self.weight_decay = float(weight_decay)
        self.decay = [p for p in self.params if p.ndim > 1] if decay is None else decay

    def step(self, grads, learning_rate=None):
        """Apply the decoupled decay, then one Adam update with ``grads``."""
        self._take_rate(learning_rate)
        if self.weight_decay:
            shrink = 1.0 - float(self.learning_rate) * self.weight_decay
            for p in self.decay:
                p *= shrink
        super().step(grads, learning_rate)


def in_chunks(function, arrays, *args):
    """Call ``function(*arrays, *args)``, piece by piece for large flat arrays.

    ``arrays`` have the same shape; ``function`` works on them element by
    element, in place, so running it on consecutive pieces of
    :data:`CHUNK` values gives the same result as running it once.
    """
    size = arrays[0].shape[0]
    if size <= CHUNK or arrays[0].ndim != 1 or not isinstance(arrays[0], np.ndarray):
        function(*arrays, *args)
        return
    for start in range(0, size, CHUNK):
        function(*(a[start : start + CHUNK] for a in arrays), *args)


def flush_subnormals(arrays):
    """Set the values of ``arrays`` that are nearly subnormal to zero, in place.

    Values that only decay (Adam's moment of a weight whose input is always 0,
    a dead unit's momentum, a weight shrunk by the L2 penalty alone) become
    subnormal numbers after a few hundred steps, and every operation on a
    subnormal is done by the CPU in microcode: measured with 9 % of a
    784 x 64 float32 weight matrix subnormal, its product with a batch takes
    24 times as long, and an Adam step 7 times. So the optimizers zero every
    value below :data:`FLUSH_MARGIN` (2**24) times the smallest normal float,
    about 2e-31 in float32 and 4e-301 in float64, every :data:`FLUSH_EVERY`
    steps: far too small to change a prediction, and far enough from the
    subnormal range (below 1.2e-38 in float32) that a value shrinking by 10 %
    a step takes some 160 steps to cross the gap between two flushes.
    """
    for a in arrays:
        xp = namespace(a)
        tiny = float(xp.finfo(a.dtype).smallest_normal) * FLUSH_MARGIN
        if xp is not np:
            a[...] = xp.where(xp.abs(a) < tiny, 0.0, a)
            continue
        flat = a.reshape(-1) if a.flags.c_contiguous else a  # a view, not a copy
        in_chunks(_flush, (flat,), tiny)


def _flush(a, tiny):
    np.copyto(a, 0, where=np.abs(a) < tiny)


def _zeros_like(a):
    return namespace(a).zeros_like(a)


# The updates of one array (or of a piece of it, see in_chunks), element by
# element and in place; ``g`` is used as scratch space.


def _descend(p, g, lr):
    g *= lr
    p -= g


def _momentum(p, g, v, lr, mu):
    g *= lr
    v *= mu
    v -= g
    p += v


def _nesterov(p, g, v, lr, mu):  # p += mu * v - lr * g, with the new v
    g *= lr
    v *= mu
    v -= g
    p -= g
    if not isinstance(p, np.ndarray):
        p += mu * v
        return
    np.multiply(v, mu, out=g)
    p += g


def _adam(p, g, m, v, lr, b1, b2, epsilon):
    m *= b1
    v *= b2
    g *= 1 - b1
    m += g
    g *= g
    g *= (1 - b2) / (1 - b1) ** 2  # g was scaled by (1 - b1) above
    v += g
    _step_by_rms(p, m, v, g, lr, epsilon)


def _rmsprop(p, g, v, s, lr, rho, epsilon):
    v *= rho
    if not isinstance(p, np.ndarray):
        v += (1 - rho) * (g * g)
        p -= lr * g / (namespace(v).sqrt(v) + epsilon)
        return
    np.multiply(g, g, out=s)
    s *= 1 - rho
    v += s
    _step_by_rms(p, g, v, s, lr, epsilon)


def _step_by_rms(p, numerator, v, scratch, lr, epsilon):
    """``p -= lr * numerator / (sqrt(v) + epsilon)``, through ``scratch``."""
    if not isinstance(p, np.ndarray):
        p -= lr * numerator / (namespace(v).sqrt(v) + epsilon)
        return
    np.sqrt(v, out=scratch)
    scratch += epsilon
    np.divide(numerator, scratch, out=scratch)
    scratch *= lr
    p -= scratch


def clip_grad_norm(grads, max_norm):
    r"""Scale ``grads`` in place so that their global L2 norm is at most ``max_norm``.

    .. math:: g \leftarrow g \cdot \min\left(1, \frac{c}{\lVert g \rVert_2}\right)

    Returns
    -------
    float
        The norm before clipping (a 0-d array of the device for arrays of
        another library than NumPy: no branch waits for the host).
    """
    xp = namespace(*grads)
    if xp is not np:
        norm = xp.sqrt(
            sum(xp.vecdot(xp.reshape(g, (-1,)), xp.reshape(g, (-1,))) for g in grads)
        )
        factor = xp.minimum(max_norm / (norm + 1e-12), 1.0)
        for g in grads:
            g *= xp.astype(factor, g.dtype)
        return norm
    norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
    if norm > max_norm:
        factor = max_norm / (norm + 1e-12)
        for g in grads:
            g *= factor
    return norm


def split_state(state, shapes, order):
    """Optimizer state of packed parameters, as one array per parameter.

    ``state`` comes from an optimizer over one flat array holding the
    parameters of ``shapes`` in the sequence ``order`` (indices into
    ``shapes``, see :meth:`NeuralNetwork.packed_order`); every list of arrays
    in it becomes one array (a view) per parameter, in the order of ``shapes``.
    """
    sizes = [int(np.prod(shapes[i])) for i in order]
    ends = np.cumsum(sizes).tolist()

    def split(flat):
        xp = namespace(flat)
        pieces = [None] * len(shapes)
        for i, start, end in zip(order, [0, *ends[:-1]], ends, strict=True):
            pieces[i] = xp.reshape(flat[start:end], shapes[i])
        return pieces

    return {
        key: split(value[0]) if isinstance(value, list) else value
        for key, value in state.items()
    }


def join_state(state, order):
    """The inverse of :func:`split_state`: one flat array per list."""

    def join(arrays):
        xp = namespace(*arrays)
        return [xp.concat([xp.reshape(arrays[i], (-1,)) for i in order])]

    return {
        key: join(value) if isinstance(value, list) else value
        for key, value in state.items()
    }


def _matching(arrays, params):
    """Copies of ``arrays`` in the dtype, namespace and device of ``params``."""
    arrays = [
        namespace(p).asarray(
            to_namespace(a, namespace(p), device(p)), dtype=p.dtype, copy=True
        )
        for a, p in zip(arrays, params, strict=True)
    ]
    for a, p in zip(arrays, params, strict=True):
        if a.shape != p.shape:
            raise ValueError(
                f"Optimizer state of shape {a.shape} does not match a parameter "
                f"of shape {p.shape}."
            )
    return arrays


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adamw": AdamW}


def make_optimizer(name, params, **options):
    """Build optimizer ``name`` (a key of :data:`OPTIMIZERS`) for ``params``."""
    if name not in OPTIMIZERS:
        raise ValueError(
            f"Unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}."
        )
    return OPTIMIZERS[name](params, **options)
