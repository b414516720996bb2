"""NeuralNetwork: a stack of layers with a loss, trained by back-propagation."""

import numbers
import warnings

import numpy as np

from . import model_file
from .activations import ACTIVATIONS, SHIFTED
from .backend import astype, device, dtype_in, namespace, to_namespace
from .layers import Dropout, Layer, as_generator
from .losses import check_loss, default_loss, get_loss
from .normalization import _Normalization
from .optimizers import OPTIMIZERS, in_chunks, make_optimizer
from .schedules import Schedule
from .schema import listing, number
from .training import TrainConfig, train

#: Rows are predicted in chunks whose widest activation array takes about
#: this many bytes: it bounds the memory of a prediction, not its rounding.
_CHUNK_BYTES = 64 * 2**20


def _add_scaled(total, values, scratch, scale):
    """``total += scale * values``, through ``scratch`` (see in_chunks)."""
    np.multiply(values, scale, out=scratch)
    total += scratch


class NeuralNetwork:
    """A feed-forward network: layers added one by one, trained with mini-batches.

    Parameters
    ----------
    layers : iterable of Layer, default=()
        Layers to :meth:`add` straight away.
    loss : {'categorical_crossentropy', 'binary_crossentropy', 'squared_error'} \
            or None, default=None
        ``None`` picks categorical cross-entropy for a softmax output, binary
        cross-entropy for a sigmoid output and squared error otherwise.

    Attributes
    ----------
    layers : list of Layer
    history_ : list of float
        Mean training loss of every epoch run by :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from sknumpy_mlp import Layer, NeuralNetwork
    >>> model = NeuralNetwork()
    >>> model.add(Layer(4, 8, activation="relu", random_state=0))
    >>> model.add(Layer(8, 3, activation="softmax", random_state=1))
    >>> model.predict(np.zeros((2, 4))).shape
    (2, 3)
    """

    def __init__(self, layers=(), *, loss=None):
        self.layers = []
        self.loss = loss
        self.history_ = []
        self._packed = None
        for layer in layers:
            self.add(layer)

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"NeuralNetwork([{inner}])"

    def add(self, layer):
        """Append ``layer``; its input width must equal the last layer's output width.

        A :class:`Dropout` is attached to the output of the last layer; a
        :class:`~sknumpy_mlp.engine.normalization.BatchNorm` or
        ``LayerNorm`` to its pre-activation (between its affine map and its
        activation).

        Raises
        ------
        ValueError
            If the layer does not fit onto the network.
        """
        if isinstance(layer, Dropout):
            if not self.layers:
                raise ValueError("Add a Layer before a Dropout: it drops its outputs.")
            self.layers[-1].dropout = layer
            return
        if isinstance(layer, _Normalization):
            if not self.layers:
                raise ValueError("Add a Layer before a normalization of its units.")
            last = self.layers[-1]
            if layer.n_units != last.n_outputs or layer.dtype != last.dtype:
                raise ValueError(
                    f"A {layer!r} of {np.dtype(layer.dtype).name} cannot follow a "
                    f"layer of {last.n_outputs} {np.dtype(last.dtype).name} units."
                )
            last.normalization = layer
            self._packed = None
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                "Expected a Layer, Dropout, BatchNorm or LayerNorm, got "
                f"{type(layer).__name__}."
            )
        if self.layers:
            last = self.layers[-1]
            if layer.n_inputs != last.n_outputs:
                raise ValueError(
                    f"Cannot add a layer with {layer.n_inputs} inputs after a layer "
                    f"with {last.n_outputs} outputs: n_inputs must be "
                    f"{last.n_outputs}."
                )
            if layer.dtype != last.dtype:
                raise ValueError(
                    f"Cannot add a {np.dtype(layer.dtype).name} layer to a "
                    f"{np.dtype(last.dtype).name} network."
                )
        self._packed = None  # the architecture changed: pack again to train
        self.layers.append(layer)

    def pop(self):
        """Remove and return the last layer."""
        if not self.layers:
            raise IndexError("pop from a network without layers.")
        self._packed = None
        return self.layers.pop()

    @property
    def n_inputs(self):
        """Input width (of the first layer)."""
        return self._checked_layers()[0].n_inputs

    @property
    def n_outputs(self):
        """Output width (of the last layer)."""
        return self._checked_layers()[-1].n_outputs

    @property
    def dtype(self):
        """Floating-point type of the parameters."""
        return self._checked_layers()[0].dtype

    @property
    def loss_name(self):
        """The loss used for training (resolved from the output layer if unset)."""
        output = self._checked_layers()[-1].activation
        loss = default_loss(output) if self.loss is None else self.loss
        check_loss(loss, output)
        return loss

    def _checked_layers(self):
        if not self.layers:
            raise ValueError("The network has no layers: add at least one Layer.")
        return self.layers

    def check_input(self, X):
        """Return ``X`` as a 2-D array of the network's dtype, or raise ValueError.

        ``X`` of another array library than NumPy stays in it, on its device.
        """
        n_inputs, dtype = self.n_inputs, self.dtype
        xp = namespace(X)
        if xp is not np:
            if not xp.isdtype(X.dtype, ("bool", "integral", "real floating")):
                raise ValueError(
                    f"Input X must be numeric, got an array of dtype {X.dtype}."
                )
            X = xp.astype(X, dtype_in(xp, dtype), copy=False)
            values = X
        elif hasattr(X, "tocsr") and hasattr(X, "nnz"):  # scipy.sparse, kept sparse
            X = X.tocsr().astype(dtype, copy=False)
            values = X.data
        else:
            try:
                X = np.asarray(X)
            except ValueError as exc:
                raise ValueError(
                    f"Input X could not be read as an array: {exc}"
                ) from exc
            if X.dtype.kind not in "biuf":
                raise ValueError(
                    f"Input X must be numeric, got an array of dtype {X.dtype}."
                )
            X = X.astype(dtype, copy=False)
            values = X
        if X.ndim != 2:
            hint = (
                " Use X.reshape(1, -1) for a single sample."
                if X.ndim == 1
                else " Flatten each sample first, e.g. X.reshape(len(X), -1)."
            )
            raise ValueError(
                f"Expected a 2-D input of shape (n_samples, {n_inputs}), "
                f"got shape {X.shape}.{hint}"
            )
        if X.shape[0] == 0:
            raise ValueError("Input X is empty: it has 0 samples.")
        if X.shape[1] != n_inputs:
            raise ValueError(
                f"X has {X.shape[1]} features, but the network expects {n_inputs}."
            )
        if not bool(xp.all(xp.isfinite(values))):
            raise ValueError("Input X contains NaN or infinity.")
        return X

    def check_targets(self, Y, n_samples):
        """Return targets as a 2-D array matching the output layer.

        Accepts one-hot (or, for squared error, real-valued) rows of width
        ``n_outputs``, or a 1-D vector of integer class indices, which is
        one-hot encoded (for a single sigmoid output: used as the 0/1 column).
        """
        n_outputs, dtype = self.n_outputs, self.dtype
        xp = namespace(Y)
        if xp is not np:  # checked on the host, once; trained on the device
            return to_namespace(
                self.check_targets(to_namespace(Y, np), n_samples), xp, device(Y)
            )
        Y = np.asarray(Y)
        if Y.dtype.kind not in "biuf":
            raise ValueError(f"Targets Y must be numeric, got dtype {Y.dtype}.")
        if Y.shape[0] != n_samples:
            raise ValueError(
                f"X has {n_samples} samples but Y has {Y.shape[0]}: they must match."
            )
        if Y.ndim == 1:
            if n_outputs == 1:
                return Y.astype(dtype).reshape(-1, 1)
            if (
                not np.array_equal(Y, np.round(Y))
                or Y.min() < 0
                or Y.max() >= n_outputs
            ):
                raise ValueError(
                    f"1-D targets must be class indices in [0, {n_outputs - 1}]."
                )
            one_hot = np.zeros((n_samples, n_outputs), dtype=dtype)
            one_hot[np.arange(n_samples), Y.astype(np.intp)] = 1
            return one_hot
        if Y.ndim != 2 or Y.shape[1] != n_outputs:
            raise ValueError(
                f"Targets Y must have shape ({n_samples}, {n_outputs}) or "
                f"({n_samples},), got {Y.shape}."
            )
        if not np.isfinite(Y).all():
            raise ValueError("Targets Y contain NaN or infinity.")
        return Y.astype(dtype, copy=False)

    def forward(self, X, training=False):
        """Run ``X`` (already checked) through every layer; return the output."""
        for layer in self._checked_layers():
            X = layer.forward(X, training)
        return X

    def logits(self, X, *, check_first=None):
        r"""Pre-activation of the output layer for ``X`` (already checked).

        ``X`` of another float dtype than the network's is converted as it
        enters the first product (a chunk at a time, see below), and the
        converted copy is let go as soon as the product is made.
        ``check_first(Z)``, if given, sees the first layer's product
        :math:`X W` before its bias and activation (and may raise).

        Each layer is one matrix product over the rows, as in scikit-learn's
        MLP. Inputs so large that an activation array would pass about
        ``_CHUNK_BYTES`` run in row chunks of that size, to bound memory. A
        row's result equals its result alone to rounding, not bitwise: BLAS
        may sum a product in another order for another number of rows.

        A ReLU or identity layer without normalization takes its bias late
        (see :data:`~sknumpy_mlp.engine.activations.SHIFTED`): it keeps
        :math:`A - b = \max(X W, -b)`, one pass like the ReLU alone, and the
        next layer adds :math:`b W'` to its own bias :math:`b'`, since
        :math:`A W' + b' = (A - b) W' + (b W' + b')`. That saves a pass over
        each such layer's activations (5 % of a prediction with the (64, 32)
        MNIST network); the sums round differently, at the dtype's precision.
        It is done where the rows outnumber the next layer's units, so that
        :math:`b W'` costs less than the pass it saves.
        """
        layers = self._checked_layers()
        widest = max(layer.n_outputs for layer in layers)
        chunk = max(1, _CHUNK_BYTES // (widest * np.dtype(self.dtype).itemsize))
        n_samples = X.shape[0]
        xp = namespace(X)
        dtype = self.dtype if xp is np else dtype_in(xp, self.dtype)
        if n_samples <= chunk:
            return self._chain(X, layers, dtype, check_first)
        shape = (n_samples, layers[-1].n_outputs)
        if xp is np:
            Z = np.empty(shape, dtype=dtype)
        else:
            Z = xp.empty(shape, dtype=dtype, device=device(X))
        for start in range(0, n_samples, chunk):
            rows = slice(start, min(start + chunk, n_samples))
            Z[rows] = self._chain(X[rows], layers, dtype, check_first)
        return Z

    @staticmethod
    def _chain(X, layers, dtype, check_first):
        """The output layer's pre-activation for ``X``, layer by layer, each
        bias taken as late as it can be (see :meth:`logits`)."""
        Z = astype(X, dtype, copy=False) @ layers[0].weights
        if check_first is not None:
            check_first(Z)
        bias = layers[0].biases  # what Z still lacks
        for layer, following in zip(layers[:-1], layers[1:], strict=True):
            shifted = SHIFTED.get(layer.activation)
            if (
                shifted is not None
                and layer.normalization is None
                and Z.shape[0] > following.n_outputs
            ):
                Z = shifted(Z, bias)  # f(Z + bias) - bias
                bias = bias @ following.weights + following.biases
            else:
                Z += bias
                # dropout is the identity; a normalization uses its running averages
                if layer.normalization is not None:
                    Z = layer.normalization.forward(Z)
                Z = layer.activate(Z)
                bias = following.biases
            Z = Z @ following.weights
        Z += bias
        return Z

    def predict(self, X):
        """Output of the network (class probabilities for a softmax output).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
            In the array library of ``X`` (see :meth:`to`).
        """
        X = self.check_input(X)
        self._follow(X)
        Z = self.logits(X)
        return ACTIVATIONS[self.layers[-1].activation](Z)

    def to(self, xp, device=None):
        """Move every parameter to the array namespace ``xp`` (``numpy``, or
        for example ``array_api_compat.torch``), on ``device``; returns the
        network. :meth:`fit` and :meth:`predict` do it themselves for input of
        another library than the parameters'."""
        for layer in self._checked_layers():
            layer.to(xp, device)
        self._packed = None
        return self

    def _follow(self, X):
        """Move the parameters to the namespace and device of ``X`` if they
        are elsewhere."""
        weights = self._checked_layers()[0].weights
        xp = namespace(X)
        if namespace(weights) is not xp or device(weights) != device(X):
            self.to(xp, device(X))

    def parameters(self):
        """All trainable arrays, layer by layer: ``[W1, b1, W2, b2, ...]``."""
        return [p for layer in self.layers for p in layer.parameters()]

    def pack(self):
        """Move every parameter into one contiguous array, for fast training.

        Each layer's ``weights`` and ``biases`` become views of one flat array,
        and its gradients views of a second one that the backward pass writes
        into, so that an optimizer updates all parameters in a handful of
        vectorised calls instead of a few per array, and no gradient is
        allocated per batch. Values are kept; arrays held from before now are
        copies no longer used by the network.

        Returns
        -------
        params, grads : ndarray
            The two flat arrays.
        """
        layers = self._checked_layers()
        dtype = self.dtype
        total = sum(int(np.prod(p.shape)) for p in self.parameters())
        xp = namespace(layers[0].weights)
        where = {"dtype": dtype}  # and the device, for another library
        if xp is not np:
            where = {"dtype": dtype_in(xp, dtype), "device": device(layers[0].weights)}
        params = xp.empty(total, **where)
        grads = xp.zeros(total, **where)
        offset = 0
        # all weights first, then all biases: the L2 penalty is one slice
        # normalizations' scales and shifts with the biases: no L2, no decay
        for group in self._packed_groups():
            for owner, name in group:
                value = getattr(owner, name)
                end = offset + int(np.prod(value.shape))
                view = xp.reshape(params[offset:end], value.shape)
                view[...] = value
                setattr(owner, name, view)
                setattr(
                    owner, f"grad_{name}", xp.reshape(grads[offset:end], value.shape)
                )
                owner._packed = True
                offset = end
            if group[0][1] == "weights":
                n_weights = offset
        self._packed = (
            params[:n_weights],
            grads[:n_weights],
            xp.empty(n_weights, **where),
        )
        return params, grads

    def apply_max_norm(self, max_norm):
        r"""Scale each unit's incoming weights down to an L2 norm of ``max_norm``.

        For every column :math:`w_j` of every weight matrix,
        :math:`w_j \leftarrow w_j \min(1, c / \lVert w_j \rVert)`; biases are
        not constrained. ``max_norm`` is one bound :math:`c` for every layer,
        or a sequence of one per layer (None leaves that layer free).
        """
        if np.isscalar(max_norm):
            max_norm = [max_norm] * len(self.layers)
        elif len(max_norm) != len(self.layers):
            raise ValueError(
                f"max_norm has {len(max_norm)} entries for {len(self.layers)} "
                "layers: give one bound, or one per layer."
            )
        xp = namespace(self.layers[0].weights)
        for layer, bound in zip(self.layers, max_norm, strict=True):
            if bound is None:
                continue
            W = layer.weights
            limit = bound * bound
            if xp is not np:  # no branch on a value of the device
                squares = xp.maximum(xp.sum(W * W, axis=0), limit)
                W *= bound / xp.sqrt(squares)
                continue
            squares = np.einsum("ij,ij->j", W, W)
            if squares.max(initial=0.0) > limit:
                too_long = squares > limit
                W[:, too_long] *= (bound / np.sqrt(squares[too_long])).astype(W.dtype)

    def _packed_groups(self):
        """``(owner, attribute)`` of every parameter as :meth:`pack` lays them
        out: the weights, then the biases and normalizations' parameters."""
        weights = [(layer, "weights") for layer in self.layers]
        rest = []
        for layer in self.layers:
            rest.append((layer, "biases"))
            if layer.normalization is not None:
                rest += [(layer.normalization, "scale"), (layer.normalization, "shift")]
        return [weights, rest]

    def packed_order(self):
        """Order of :meth:`parameters` in the flat arrays of :meth:`pack`."""
        index = {id(p): i for i, p in enumerate(self.parameters())}
        return [
            index[id(getattr(owner, name))]
            for group in self._packed_groups()
            for owner, name in group
        ]

    def loss_and_gradients(self, X, Y, *, loss=None, alpha=0.0, sample_weight=None):
        r"""Mean loss on ``(X, Y)`` and its gradient for every parameter.

        The mean over rows is weighted by ``sample_weight`` when given. With
        ``alpha > 0`` the L2 penalty
        :math:`\frac{\alpha}{2 s} \sum_l \lVert W_l \rVert_F^2` is added (to the
        weights, not the biases), with :math:`s` the number of rows or the sum of
        their weights, as scikit-learn's MLP does.

        Returns
        -------
        loss : float
        grads : list of ndarray
            In the order of :meth:`parameters`.
        """
        layers = self._checked_layers()
        output = layers[-1]
        if output.dropout is not None:
            raise ValueError("Dropout after the output layer is not supported.")
        loss = self.loss_name if loss is None else loss
        if output.normalization is not None:
            raise ValueError("A normalization of the output layer is not supported.")
        A = X
        for layer in layers[:-1]:
            A = layer.forward(A, training=True, sample_weight=sample_weight)
        Z = output.linear(A, training=True)
        value, delta, _ = get_loss(loss)(Z, Y, output.activation, sample_weight)
        grad = output.backward_linear(delta, input_gradient=len(layers) > 1)
        for i in range(len(layers) - 2, -1, -1):
            grad = layers[i].backward(grad, input_gradient=i > 0)
        grads = [g for layer in layers for g in layer.gradients()]
        if alpha:
            if sample_weight is None:
                value += self._add_l2(grads, alpha / X.shape[0])
            elif type(Z) is not np.ndarray:  # the weights' sum stays on the device
                xp = namespace(Z)
                total = xp.sum(xp.astype(sample_weight, Z.dtype))
                safe = xp.maximum(total, xp.finfo(Z.dtype).smallest_normal)
                value += self._add_l2(grads, xp.where(total > 0, alpha / safe, 0.0))
            elif (total := float(sample_weight.sum())) > 0:
                value += self._add_l2(grads, alpha / total)
        return value, grads

    def _add_l2(self, grads, scale):
        """Add ``scale * W`` to the weight gradients; return the penalty's value."""
        if self._packed is not None:  # one slice holds every weight
            weights, weight_grads, scratch = self._packed
            if type(weights) is not np.ndarray:  # another array library's
                weight_grads += scale * weights
                return 0.5 * scale * namespace(weights).vecdot(weights, weights)
            in_chunks(_add_scaled, (weight_grads, weights, scratch), scale)
            return 0.5 * scale * float(np.vdot(weights, weights))
        xp = namespace(self.layers[0].weights)
        if xp is not np:
            penalty = sum(
                xp.vecdot(xp.reshape(W, (-1,)), xp.reshape(W, (-1,)))
                for W in (layer.weights for layer in self.layers)
            )
            for i, layer in enumerate(self.layers):
                grads[self._weight_index(i)] += scale * layer.weights
            return 0.5 * scale * penalty
        penalty = 0.0
        for i, layer in enumerate(self.layers):
            penalty += float(np.vdot(layer.weights, layer.weights))
            grads[self._weight_index(i)] += scale * layer.weights
        return 0.5 * scale * penalty

    def _weight_index(self, i):
        """Position of layer ``i``'s weights in :meth:`parameters`."""
        return sum(len(layer.parameters()) for layer in self.layers[:i])

    def clear(self):
        """Drop the arrays every layer kept for the backward pass."""
        for layer in self.layers:
            layer.clear()

    def fit(
        self,
        X,
        Y,
        epochs=20,
        learning_rate=0.01,
        batch_size=100,
        *,
        optimizer="sgd",
        momentum=0.0,
        nesterov=False,
        alpha=0.0,
        shuffle=True,
        random_state=None,
        verbose=True,
    ):
        """Train with mini-batch gradient descent, printing the cost of every epoch.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_inputs)
        Y : array-like of shape (n_samples, n_outputs) or (n_samples,)
            One-hot targets, or integer class indices.
        epochs : int, default=20
        learning_rate : float, default=0.01
        batch_size : int, default=100
        optimizer : {'sgd', 'adam', 'rmsprop', 'adamw'}, default='sgd'
        momentum : float, default=0.0
            For SGD.
        nesterov : bool, default=False
            For SGD with momentum.
        alpha : float, default=0.0
            L2 penalty.
        shuffle : bool, default=True
            Shuffle the rows every epoch.
        random_state : int, numpy.random.Generator or None, default=None
            Seeds the shuffling.
        verbose : bool, default=True
            Print ``Average Cost for epoch N: x.xxx`` after every epoch.

        Returns
        -------
        self : NeuralNetwork
        """
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Integral)
                or value < 1
            ):
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if not (isinstance(learning_rate, numbers.Real) and learning_rate > 0):
            raise ValueError(
                f"learning_rate must be a positive number, got {learning_rate!r}."
            )
        X = self.check_input(X)
        Y = self.check_targets(Y, X.shape[0])
        self._follow(X)
        loss = self.loss_name
        options = {"learning_rate": learning_rate}
        declared = OPTIMIZERS.get(optimizer)
        if declared is not None:  # else make_optimizer names the choices
            own = {"momentum": momentum, "nesterov": nesterov}
            options.update(
                {k: v for k, v in own.items() if k in declared.HYPERPARAMETERS}
            )
        params, grads = self.pack()
        if declared is not None and declared.DECAYS_WEIGHTS:
            options.update(decay=[layer.weights for layer in self.layers])
        opt = make_optimizer(optimizer, [params], **options)
        rng = as_generator(random_state) if shuffle else None

        def report(record):
            self.history_.append(record["loss"])
            if verbose:
                print(f"Average Cost for epoch {record['epoch']}: {record['loss']:.3f}")

        config = TrainConfig(
            max_iter=epochs,
            batch_size=batch_size,
            loss=loss,
            schedule=Schedule("constant", learning_rate),
            alpha=alpha,
            rng=rng,
            n_iter_no_change=epochs,  # the original trains for every epoch
            on_epoch_end=report,
            gradients=[grads],
        )
        if train(self, opt, X, Y, config).interrupted:
            warnings.warn(
                f"Training was interrupted (Ctrl-C) in epoch {len(self.history_)}; "
                "the network keeps the weights it had then.",
                UserWarning,
                stacklevel=2,
            )
        return self

    def save(self, path):
        """Write the network to ``path`` as a ``.npz`` file (no pickle)."""
        layers = self._checked_layers()
        meta = {
            "class": "NeuralNetwork",
            "layers": model_file.layer_spec(layers),
            "dtype": np.dtype(self.dtype).name,
            "loss": self.loss,
            "history": [float(c) for c in self.history_],
        }
        model_file.write(path, meta, model_file.layer_arrays(layers))

    @classmethod
    def load(cls, path):
        """Read a network written by :meth:`save`; never executes code from the file."""
        with model_file.ModelFile(path) as f:
            f.expect("NeuralNetwork")
            return cls.from_model_file(f)

    @classmethod
    def from_model_file(cls, f):
        """The network held by the opened, validated model file ``f``."""
        f.check(f.meta.get("history", []), HISTORY_SCHEMA, "history")
        loss = f.meta.get("loss")  # a registry name: checked by the container
        network = cls(f.layers(), loss=loss)
        try:
            _ = network.loss_name  # the loss must fit the output layer
        except ValueError as exc:
            raise f.error(f"its loss does not fit its output layer ({exc})") from None
        network.history_ = [float(c) for c in f.meta.get("history", [])]
        network.package_version_ = f.meta.get("package_version")
        return network


#: A network file's training history: the mean loss of every epoch.
HISTORY_SCHEMA = listing(number(), max_length=10**7)
