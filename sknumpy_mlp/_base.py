"""The shared core of the estimators: parameters and the training drive.

:class:`BaseMLP` holds everything that a classifier and a regressor built on
the engine have in common; a subclass adds its output layer, loss, target
encoding and scoring through a *targets* object (see :meth:`BaseMLP._targets`)
with ``y``, ``n_outputs``, ``output_activation``, ``labels``, ``stratify``,
``encode(y, dtype)``, ``scorer(labels, sample_weight)``, ``validation(y_val)``
and ``fitted_attributes()``. Prediction is :mod:`._prediction`'s, per-epoch
reporting :mod:`._callbacks`' and the validation sets :mod:`._validation`'s.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import validate_data

from ._array_api import converted, float_types, numpy_dtype, training_namespace
from ._callbacks import _Callbacks
from ._prediction import PredictionMixin
from ._solvers import EMPTY_STATE, FitRun, run_lbfgs, run_stochastic
from ._validation import checked_weights, own_validation, split_validation
from .engine import Layer, NeuralNetwork
from .engine.activations import ACTIVATIONS, ALIASES, OUTPUT_ONLY, resolve_activation
from .engine.augmentation import ImageAugmenter
from .engine.backend import astype, dtype_in, to_namespace, to_numpy
from .engine.normalization import NORMALIZATIONS, kind_of
from .engine.optimizers import OPTIMIZERS
from .engine.schedules import SCHEDULES
from .persistence import load_estimator, save_estimator

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - older scikit-learn has no callback API

    class CallbackSupportMixin:
        """Stand-in: scikit-learn < 1.9 has no callback API."""


#: Where the documentation (``docs/``, built with the ``docs`` extra) is
#: published; the estimator boxes of scikit-learn's HTML repr link to their
#: API pages there.
DOCS_URL = "https://sknumpy-mlp.readthedocs.io/en/latest"
#: With ``early_stopping='auto'``, early stopping is on above this many samples
#: (the rule of scikit-learn's HistGradientBoosting estimators).
AUTO_EARLY_STOPPING_MIN_SAMPLES = 10_000
#: With ``dtype='auto'``, float64 input trains in float32 above this many samples.
AUTO_FLOAT32_MIN_SAMPLES = 10_000
#: The solvers: every optimizer of the engine's registry, and L-BFGS.
SOLVERS = (*OPTIMIZERS, "lbfgs")
#: Activations a hidden layer may use (softmax and exp are for output layers).
HIDDEN_ACTIVATIONS = {
    name
    for name in [*ACTIVATIONS, *ALIASES]
    if name not in OUTPUT_ONLY and name != "linear"
}


class BaseMLP(PredictionMixin, CallbackSupportMixin, BaseEstimator):
    """Parameters, training and prediction shared by the estimators.

    Not for direct use: see :class:`~sknumpy_mlp.MLPScratchClassifier` and
    :class:`~sknumpy_mlp.MLPScratchRegressor`.
    """

    # scikit-learn's HTML repr: the "?" of an estimator's box opens its API
    # page (docs/api.rst generates api/sknumpy_mlp.<Class>.html)
    _doc_link_module = "sknumpy_mlp"
    _doc_link_template = DOCS_URL + "/api/sknumpy_mlp.{estimator_name}.html"

    def _doc_link_url_param_generator(self):
        # the public class (the command line's progress subclass keeps its name)
        return {"estimator_name": type(self).__name__}

    #: Whether ``y`` is numeric (validate_data's ``y_numeric``).
    _y_numeric = False
    #: Weight initialiser of every layer; None: the engine's default by
    #: activation (He for ReLU, Glorot otherwise).
    _initializer = None

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), list, tuple],
        "solver": [StrOptions(set(SOLVERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions(set(SCHEDULES))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        # np.inf: never stop on a plateau (as scikit-learn)
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "rho": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "lr_decay_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr_decay_factor": [Interval(Real, 0, 1, closed="right")],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), list, tuple],
        "normalization": [StrOptions({"batch", "layer"}), list, tuple, None],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "max_norm": [Interval(Real, 0, None, closed="neither"), list, tuple, None],
        "average_epochs": [Interval(Integral, 1, None, closed="left"), None],
        "average_learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "augment": [ImageAugmenter, None],
        "dtype": [StrOptions({"auto", "float32", "float64"})],
    }

    def __init__(self, **params):
        # the subclasses list every parameter (scikit-learn reads them from
        # their signatures) and hand the shared ones down here
        for name in BaseMLP._parameter_constraints:  # the shared parameters
            setattr(self, name, params.pop(name))
        if params:
            raise TypeError(f"unexpected parameters {sorted(params)}")

    def _check_stochastic(self):
        """Whether ``partial_fit`` exists (see the subclasses' ``available_if``)."""
        if self.solver == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for stochastic solvers; "
                f"{self.solver!r} is not one."
            )
        return True

    def _fit(self, *args, **kwargs):
        """:meth:`_train`, all or nothing: if it raises, the estimator keeps the
        fitted state it had before (validate_data sets ``n_features_in_`` and
        ``feature_names_in_`` early, for one).
        """
        before = dict(vars(self))
        try:
            return self._train(*args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    def _train(
        self,
        X,
        y,
        sample_weight,
        X_val,
        y_val,
        sample_weight_val,
        *,
        incremental,
        classes=None,
    ):
        hidden, activations, dropouts, norms = self._layer_options()
        self._check_options(dropouts, incremental, norms)
        self._max_norm_bounds(len(hidden))
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, targets, dtype, (xp, where) = self._validated(
            X, y, first_pass, incremental, classes
        )
        Y = targets.encode(targets.y, dtype)
        sample_weight = self._weights(sample_weight, X, targets, dtype)
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=3
        )
        if first_pass:
            network = self._new_network(
                X.shape[1], hidden, activations, targets, dtype, seeds[0], norms
            )
            previous = EMPTY_STATE
        else:
            network, previous = self._continued_network(hidden, targets, norms)

        validation = None
        if X_val is not None or y_val is not None:
            if incremental:
                raise ValueError("partial_fit does not take a validation set.")
            validation = own_validation(
                self, X_val, y_val, sample_weight_val, targets, dtype
            )
        early_stopping = not incremental and self._use_early_stopping(
            X.shape[0], validation is not None
        )
        rows = None  # train on every row
        if early_stopping and validation is None:
            rows, validation = split_validation(
                X, Y, sample_weight, targets, self.validation_fraction, seeds[1]
            )
        if xp is not np:  # encoded on the host once; trained on X's device
            network.to(xp, where)
            Y, sample_weight, rows = (
                None if a is None else to_namespace(a, xp, where)
                for a in (Y, sample_weight, rows)
            )
            if validation is not None:
                validation.to(xp, where)

        # L-BFGS opens one more epoch context than it runs (see run_lbfgs)
        max_epochs = 1 if incremental else self.max_iter + (self.solver == "lbfgs")
        callbacks = _Callbacks(self, X, targets.y, network, targets, max_epochs)
        run = FitRun(
            network, X, Y, sample_weight, validation, previous, callbacks,
            self._loss(network), rows,
        )  # fmt: skip
        if self.solver == "lbfgs":
            result = run_lbfgs(self, run)
        else:
            result = run_stochastic(
                self,
                run,
                seed=seeds[2],
                dropouts=dropouts,
                early_stopping=early_stopping,
                max_iter=1 if incremental else self.max_iter,
                average_epochs=None if incremental else self.average_epochs,
            )
        callbacks.finish()
        self._set_fitted(network, targets, result, previous)
        self._warn_how_it_ended(result, incremental, early_stopping)
        return self

    def _validated(self, X, y, first_pass, incremental, classes):
        """``(X, targets, dtype, (xp, device))``: the checked input, the
        subclass's targets object, the training dtype (NumPy's) and the
        namespace and device ``X`` trains in (see :mod:`._array_api`)."""
        xp, where = training_namespace(X)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=float_types(xp),
            multi_output=True,
            y_numeric=self._y_numeric,
            reset=first_pass,
        )
        if self.augment is not None:
            if hasattr(X, "tocsr"):
                raise ValueError("augment needs dense X (images), not a sparse matrix.")
            self.augment.check(X.shape[1])
        dtype = (
            self._training_dtype(X) if first_pass else numpy_dtype(self.coefs_[0].dtype)
        )
        if self.solver == "lbfgs" or X.shape[0] <= AUTO_FLOAT32_MIN_SAMPLES:
            X = astype(X, dtype if xp is np else dtype_in(xp, dtype), copy=False)
        # else X keeps its dtype and each mini-batch is converted on its own:
        # no second copy of a large data set
        targets = self._targets(
            to_numpy(y), first_pass=first_pass, incremental=incremental, classes=classes
        )
        return X, targets, dtype, (xp, where)

    def _layer_options(self):
        """``(hidden sizes, activations, dropout rates, normalizations)``, one
        per hidden layer, each checked (also when a model file is read)."""
        hidden = self._hidden_sizes()
        activations = self._hidden_activations(len(hidden))
        dropouts = self._dropout_rates(len(hidden))
        return hidden, activations, dropouts, self._normalization_kinds(len(hidden))

    def _check_options(self, dropouts, incremental, norms=()):
        """Refuse combinations of parameters that cannot train."""
        for name, used in (
            ("dropout", any(dropouts)),
            ("augment", self.augment is not None),
            ("normalization='batch'", "batch" in norms),
        ):
            if self.solver == "lbfgs" and used:
                raise ValueError(
                    f"{name} needs a stochastic solver: with 'lbfgs' the full-batch "
                    "loss would change at every evaluation."
                )
        if self.average_epochs is not None:
            self._check_average(norms)
        stopped_early = getattr(self, "validation_scores_", None) is not None
        if incremental and (self.early_stopping is True or stopped_early):
            raise ValueError(
                "partial_fit does not support early_stopping=True"
                + (
                    ""
                    if self.early_stopping is True
                    else " (nor continues a fit that stopped early on a validation set)"
                )
            )

    def _check_average(self, norms):
        if self.solver == "lbfgs":
            raise ValueError(
                "average_epochs needs a stochastic solver: 'lbfgs' has no epochs "
                "to average."
            )
        if "batch" in norms:
            raise ValueError(
                "average_epochs cannot be combined with normalization='batch': its "
                "running statistics would not match the averaged weights."
            )

    def _continued_network(self, hidden, targets, norms):
        """A copy of the fitted network, and the state a warm start continues."""
        network = self._network(copy=True)
        fitted = [kind_of(layer.normalization) for layer in network.layers[:-1]]
        if fitted != norms:
            raise ValueError(
                f"warm_start cannot change normalization: the fitted network has "
                f"{fitted}, got {norms}."
            )
        if [layer.n_outputs for layer in network.layers[:-1]] != hidden:
            raise ValueError(
                "warm_start cannot change hidden_layer_sizes: the fitted network "
                f"has {[c.shape[1] for c in self.coefs_[:-1]]}, got {hidden}."
            )
        if network.layers[-1].n_outputs != targets.n_outputs:
            raise ValueError(
                f"y has {targets.n_outputs} outputs, but the fitted network has "
                f"{network.layers[-1].n_outputs}."
            )
        return network, self._state()

    def _warn_how_it_ended(self, result, incremental, early_stopping):
        if result.interrupted:
            warnings.warn(
                f"Training was interrupted (Ctrl-C) in epoch {len(self.history_)}; the "
                "model keeps the weights it had then"
                + (" (the best validation epoch's)." if early_stopping else "."),
                UserWarning,
                stacklevel=4,
            )
        elif not (incremental or result.converged or result.stopped):
            what = "L-BFGS" if self.solver == "lbfgs" else "Stochastic Optimizer"
            warnings.warn(
                f"{what}: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _set_fitted(self, network, targets, result, previous):
        """Set every fitted attribute at once, after training succeeded."""
        for name, value in targets.fitted_attributes().items():
            setattr(self, name, value)
        self.coefs_ = [layer.weights for layer in network.layers]
        self.intercepts_ = [layer.biases for layer in network.layers]
        self.normalizations_ = [layer.normalization for layer in network.layers[:-1]]
        self.t_ = result.samples_seen
        self._set_history(
            previous["history"] + result.history, n_iter=len(result.history)
        )
        self.n_layers_ = len(network.layers) + 1
        self.out_activation_ = network.layers[-1].activation
        self._optimizer_state = result.optimizer_state
        self._optimizer_solver = self.solver
        self._shuffle_state = result.shuffle_state

    def _restore_fitted(self, attributes, *, history, n_iter, optimizer, shuffle_state):
        """Take the fitted state read from a model file (see persistence.py):
        public attributes, the history and the latest call's epochs,
        ``(solver, state)`` of the optimizer and the random stream, so that
        predictions and warm starts continue."""
        for name, value in attributes.items():
            setattr(self, name, value)
        self._set_history(history, n_iter=n_iter)
        self._optimizer_solver, self._optimizer_state = optimizer
        self._shuffle_state = shuffle_state

    def _set_history(self, history, n_iter=None):
        """``history_`` (every epoch of every fit) and the attributes derived
        from it; ``n_iter_`` counts the epochs of the latest call only, as in
        scikit-learn (all of ``history`` when ``n_iter`` is not given)."""
        self.history_ = history
        self.n_iter_ = len(history) if n_iter is None else n_iter
        self.loss_curve_ = [r["loss"] for r in history]
        self.loss_ = self.loss_curve_[-1] if history else float("nan")
        if any(r["validation_score"] is not None for r in history):
            self.validation_scores_ = [r["validation_score"] for r in history]
            self.validation_loss_curve_ = [r["validation_loss"] for r in history]
            # epochs without a validation set (e.g. a later partial_fit) hold None
            self.best_validation_score_ = max(
                s for s in self.validation_scores_ if s is not None
            )
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_) if history else None

    def _state(self):
        """What a warm start or partial_fit continues from."""
        same_solver = getattr(self, "_optimizer_solver", None) == self.solver
        return {
            "n_iter": len(self.history_),
            "t": self.t_,
            "history": list(self.history_),
            "optimizer_state": self._optimizer_state if same_solver else None,
            "shuffle_state": self._shuffle_state,
        }

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if np.isscalar(sizes) else list(sizes)
        for size in sizes:
            if (
                isinstance(size, bool)
                or not isinstance(size, Integral | np.integer)
                or size <= 0
            ):
                raise ValueError(
                    f"hidden_layer_sizes must be positive integers, got "
                    f"{self.hidden_layer_sizes!r}."
                )
        return [int(size) for size in sizes]

    def _per_hidden_layer(self, name, n_hidden, what):
        """Parameter ``name`` as one value per hidden layer (one given: all)."""
        value = getattr(self, name)
        if isinstance(value, str | Real):
            return [value] * n_hidden
        if len(value) != n_hidden:
            raise ValueError(
                f"{name} has {len(value)} {what} but there are {n_hidden} hidden "
                f"layers: give one, or one per hidden layer."
            )
        return list(value)

    def _hidden_activations(self, n_hidden):
        names = self._per_hidden_layer("activation", n_hidden, "entries")
        for name in names:
            if not isinstance(name, str) or name not in HIDDEN_ACTIVATIONS:
                raise ValueError(
                    f"Unknown activation {name!r} in activation={self.activation!r}; "
                    f"expected names from {sorted(HIDDEN_ACTIVATIONS)}."
                )
        return [resolve_activation(name) for name in names]

    def _normalization_kinds(self, n_hidden):
        """``'batch'``, ``'layer'`` or None for each hidden layer."""
        value = self.normalization
        if value is None or isinstance(value, str):
            kinds = [value] * n_hidden
        else:
            kinds = list(value)
            if len(kinds) != n_hidden:
                raise ValueError(
                    f"normalization has {len(kinds)} entries but there are "
                    f"{n_hidden} hidden layers: give one, or one per hidden layer."
                )
        for kind in kinds:
            if kind not in NORMALIZATIONS and kind is not None:
                raise ValueError(
                    f"Unknown normalization {kind!r} in normalization="
                    f"{self.normalization!r}; expected 'batch', 'layer' or None."
                )
        return kinds

    def _max_norm_bounds(self, n_hidden):
        """``max_norm`` as the engine takes it: None, one bound, or a tuple of
        one bound (or None) per layer, the output layer last."""
        value = self.max_norm
        if value is None or isinstance(value, Real):
            return value
        bounds = tuple(value)
        if len(bounds) != n_hidden + 1:
            raise ValueError(
                f"max_norm has {len(bounds)} entries but the network has "
                f"{n_hidden + 1} layers ({n_hidden} hidden and the output layer): "
                "give one bound, or one per layer."
            )
        for bound in bounds:
            if bound is not None and (
                isinstance(bound, bool) or not isinstance(bound, Real) or bound <= 0
            ):
                raise ValueError(
                    "Every max_norm bound must be a positive number or None, got "
                    f"{self.max_norm!r}."
                )
        return tuple(None if b is None else float(b) for b in bounds)

    def _dropout_rates(self, n_hidden):
        rates = self._per_hidden_layer("dropout", n_hidden, "rates")
        for rate in rates:
            if (
                isinstance(rate, bool)
                or not isinstance(rate, Real)
                or not (0 <= rate < 1)
            ):
                raise ValueError(
                    f"Every dropout rate must be in [0, 1), got {self.dropout!r}."
                )
        return [float(rate) for rate in rates]

    def _training_dtype(self, X):
        if self.dtype != "auto":
            return np.dtype(self.dtype)
        if numpy_dtype(X.dtype) == np.float32 or X.shape[0] > AUTO_FLOAT32_MIN_SAMPLES:
            return np.dtype(np.float32)
        return np.dtype(np.float64)

    def _weights(self, sample_weight, X, targets, dtype):
        """The rows' weights in the training dtype, or None."""
        if sample_weight is None:
            return None
        return checked_weights(sample_weight, X, dtype)

    def _use_early_stopping(self, n_samples, has_validation_set):
        if self.solver == "lbfgs":
            if self.early_stopping is True:
                raise ValueError(
                    "early_stopping=True needs a stochastic solver; 'lbfgs' trains "
                    "on the full batch and stops on tol, max_iter and max_fun."
                )
            return False
        if self.average_epochs is not None:
            if self.early_stopping is True:
                raise ValueError(
                    "average_epochs cannot be combined with early_stopping=True: "
                    "early stopping ends with its best epoch's weights, not an "
                    "average of the last epochs'."
                )
            return False  # 'auto': every epoch of the schedule runs
        if self.early_stopping == "auto":
            return has_validation_set or n_samples > AUTO_EARLY_STOPPING_MIN_SAMPLES
        return bool(self.early_stopping)

    def _new_network(
        self, n_features, hidden, activations, targets, dtype, seed, norms=()
    ):
        rng = np.random.default_rng(seed)
        sizes = [n_features, *hidden, targets.n_outputs]
        activations = [*activations, targets.output_activation]
        network = NeuralNetwork(
            Layer(
                n_in,
                n_out,
                activation=act,
                initializer=self._initializer,
                random_state=rng,
                dtype=dtype,
            )
            for n_in, n_out, act in zip(sizes[:-1], sizes[1:], activations, strict=True)
        )
        for layer, kind in zip(network.layers[:-1], norms, strict=False):
            if kind is not None:  # between the affine map and the activation
                layer.normalization = NORMALIZATIONS[kind](layer.n_outputs, dtype=dtype)
        return network

    def _loss(self, network):
        """The training loss: a registry name, or a callable of that signature."""
        return network.loss_name

    def report_epoch(self, record):
        """Report one epoch; called after every epoch when ``verbose`` is true.

        Prints scikit-learn's ``Iteration N, loss = ...`` line, with the
        validation loss and score and the epoch's seconds. This is the hook
        for progress of your own: override it in a subclass (the command line
        draws its progress bar this way).

        Parameters
        ----------
        record : dict
            The epoch's entry of ``history_``: ``epoch``, ``loss``,
            ``validation_loss``, ``validation_score``, ``learning_rate`` and
            ``seconds``.
        """
        line = f"Iteration {record['epoch']}, loss = {record['loss']:.8f}"
        if record["validation_score"] is not None:
            line += (
                f", validation loss = {record['validation_loss']:.6f}"
                f", validation score = {record['validation_score']:.6f}"
            )
        print(f"{line} ({record['seconds']:.2f} s)")

    # ---------------------------------------------------------- persistence

    def save(self, path):
        """Write the fitted model to ``path`` as a pickle-free ``.npz`` file.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        """
        save_estimator(self, path)

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save` (never executes code from the file)."""
        return load_estimator(path, cls)

    def to_onnx(self, path=None, *, target_opset=None, options=None):
        """The fitted model as an ONNX graph, written to ``path`` if given.

        Needs the ``onnx`` extra; the graph is the one
        :func:`sknumpy_mlp.onnx.to_onnx` and ``skl2onnx.to_onnx`` make.

        Parameters
        ----------
        path : str or path-like, optional
        target_opset : int, optional
            The ONNX opset (default: :data:`sknumpy_mlp.onnx.DEFAULT_OPSET`).
        options : dict, optional
            skl2onnx's options, e.g. ``{"zipmap": False}`` for a classifier's
            probabilities as a tensor instead of a list of dicts.

        Returns
        -------
        onnx.ModelProto
        """
        from ._onnx_graph import to_onnx

        return to_onnx(self, path, target_opset=target_opset, options=options)

    def __sklearn_array_api_convert__(self, converter):
        """A copy with the fitted parameters and optimizer state converted by
        ``converter``: what scikit-learn's ``move_estimator_to(estimator, xp,
        device)`` calls to move a model to another array library or device
        (labels stay as they are, strings included)."""
        return converted(self, converter)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags
