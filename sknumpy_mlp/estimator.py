"""MLPScratchClassifier: the engine as a scikit-learn classifier."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .engine import Layer, NeuralNetwork
from .engine.activations import ACTIVATIONS, log_logistic, log_softmax
from .engine.optimizers import make_optimizer
from .engine.schedules import SCHEDULES
from .engine.training import train

#: With ``early_stopping='auto'``, early stopping is on above this many samples
#: (the rule of scikit-learn's HistGradientBoosting estimators).
AUTO_EARLY_STOPPING_MIN_SAMPLES = 10_000


class MLPScratchClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier built on the from-scratch NumPy engine.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier` (the parameters
    have the same names and meanings) that trains in float32 by default and
    saves to a pickle-free ``.npz`` file.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(64, 32)
        Width of each hidden layer; ``()`` gives a network without hidden
        layers (logistic regression).
    activation : {'relu', 'logistic', 'sigmoid', 'tanh', 'identity'}, default='relu'
        Activation of the hidden layers (``'sigmoid'`` is ``'logistic'``).
    solver : {'adam', 'sgd'}, default='adam'
        ``'sgd'`` is mini-batch gradient descent with optional (Nesterov)
        momentum; ``'adam'`` is Adam.
    alpha : float, default=0.001
        L2 penalty, scaled as in scikit-learn: :math:`\\frac{\\alpha}{2n}
        \\sum \\lVert W \\rVert^2` per batch of :math:`n` samples.
    batch_size : int or 'auto', default=100
        Rows per mini-batch; ``'auto'`` is ``min(200, n_samples)``. A batch
        larger than the data set is the whole data set.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule (for both solvers).
    learning_rate_init : float, default=0.001
    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` schedule.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the validation split.
    tol : float, default=1e-4
        Minimum improvement of the monitored quantity (training loss, or the
        validation accuracy with early stopping).
    verbose : bool or int, default=False
        Print the loss (and validation score) after every epoch.
    warm_start : bool, default=False
        Continue from the previous fit's weights and optimizer state.
    momentum : float, default=0.9
        SGD momentum.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with SGD.
    early_stopping : bool or 'auto', default='auto'
        Hold out ``validation_fraction`` of the data (stratified), stop when the
        validation accuracy stops improving and keep the best epoch's weights.
        ``'auto'`` turns it on when there are more than 10 000 samples.
    validation_fraction : float, default=0.1
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before training stops.
    dtype : {'float32', 'float64'}, default='float32'
        Floating-point type of the weights and of all computation; float32 is
        about twice as fast, float64 is for gradient checks and research.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` had string column names.
    coefs_ : list of ndarray
        ``coefs_[i]`` has shape ``(width of layer i, width of layer i + 1)``.
    intercepts_ : list of ndarray
    n_iter_ : int
        Epochs run (accumulated over warm starts).
    loss_ : float
        Training loss of the last epoch.
    loss_curve_ : list of float
        Training loss of every epoch.
    best_loss_ : float or None
        Lowest training loss; ``None`` with early stopping, as in scikit-learn.
    validation_scores_ : list of float or None
        Validation accuracy of every epoch with early stopping, else ``None``.
    best_validation_score_ : float or None
    t_ : int
        Training samples seen.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Output units: 1 for two classes, else the number of classes.
    out_activation_ : str
        ``'logistic'`` for two classes, ``'softmax'`` otherwise.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sknumpy_mlp import MLPScratchClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(
    ...     StandardScaler(),
    ...     MLPScratchClassifier(learning_rate_init=0.01, random_state=0),
    ... ).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> clf.score(X, y) > 0.95
    True
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions({"identity", "logistic", "sigmoid", "tanh", "relu"})],
        "solver": [StrOptions({"sgd", "adam"})],
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
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"float32", "float64"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(64, 32),
        activation="relu",
        *,
        solver="adam",
        alpha=0.001,
        batch_size=100,
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping="auto",
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        dtype="float32",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels (numbers, strings or other hashable objects).

        Returns
        -------
        self : MLPScratchClassifier
        """
        hidden = self._hidden_sizes()
        first_pass = not (self.warm_start and hasattr(self, "coefs_"))
        dtype = np.dtype(self.dtype) if first_pass else self.coefs_[0].dtype
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], dtype=dtype, reset=first_pass
        )
        check_classification_targets(y)
        classes, y_index = np.unique(y, return_inverse=True)
        if first_pass:
            if len(classes) < 2:
                raise ValueError(
                    "The data contains only one class: "
                    f"{classes[0]!r}. MLPScratchClassifier needs samples of at least "
                    "2 classes."
                )
        elif not np.array_equal(classes, self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in "
                f"the previous call to fit. Previously got {self.classes_}, `y` has "
                f"{classes}"
            )
        n_outputs = 1 if len(classes) == 2 else len(classes)
        Y = _encode(y_index, n_outputs, dtype)

        random_state = check_random_state(self.random_state)
        if first_pass:
            network = self._new_network(
                X.shape[1], hidden, n_outputs, dtype, random_state
            )
            state = {"n_iter": 0, "t": 0, "loss_curve": [], "validation_scores": []}
            shuffle_state = None
            optimizer_state = None
        else:
            network = self._network(copy=True)
            if [layer.n_outputs for layer in network.layers[:-1]] != hidden:
                raise ValueError(
                    "warm_start cannot change hidden_layer_sizes: the fitted network "
                    f"has {[c.shape[1] for c in self.coefs_[:-1]]}, got {hidden}."
                )
            state = {
                "n_iter": self.n_iter_,
                "t": self.t_,
                "loss_curve": list(self.loss_curve_),
                "validation_scores": list(self.validation_scores_ or []),
            }
            shuffle_state = self._shuffle_state
            optimizer_state = (
                self._optimizer_state if self._optimizer_solver == self.solver else None
            )

        use_validation = self._use_early_stopping(X.shape[0])
        validation_score = None
        if use_validation:
            X, X_val, Y, _, _, y_val = train_test_split(
                X,
                Y,
                y_index,
                test_size=self.validation_fraction,
                random_state=random_state,
                stratify=y_index,
            )
            validation_score = _accuracy_scorer(X_val, y_val)

        rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        if shuffle_state is not None:
            rng.bit_generator.state = shuffle_state
        optimizer = self._make_optimizer(network.parameters())
        if optimizer_state is not None:
            optimizer.load_state_dict(optimizer_state)

        n_samples = X.shape[0]
        batch_size = (
            min(200, n_samples) if self.batch_size == "auto" else self.batch_size
        )
        result = train(
            network,
            optimizer,
            X,
            Y,
            max_iter=self.max_iter,
            batch_size=min(batch_size, n_samples),
            loss=network.loss_name,
            alpha=self.alpha,
            rng=rng if self.shuffle else None,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            schedule=self.learning_rate,
            learning_rate_init=self.learning_rate_init,
            power_t=self.power_t,
            samples_seen=state["t"],
            validation_score=validation_score,
            on_epoch=self._print_epoch if self.verbose else None,
        )

        history = result["history"]
        self.classes_ = classes
        self.coefs_ = [layer.weights for layer in network.layers]
        self.intercepts_ = [layer.biases for layer in network.layers]
        self.n_iter_ = state["n_iter"] + len(history)
        self.t_ = result["samples_seen"]
        self.loss_curve_ = state["loss_curve"] + [r["loss"] for r in history]
        self.loss_ = self.loss_curve_[-1]
        if use_validation:
            self.validation_scores_ = state["validation_scores"] + [
                r["validation_score"] for r in history
            ]
            self.best_validation_score_ = max(self.validation_scores_)
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_)
        self.n_layers_ = len(hidden) + 2
        self.n_outputs_ = n_outputs
        self.out_activation_ = network.layers[-1].activation
        self._optimizer_state = optimizer.state_dict()
        self._optimizer_solver = self.solver
        self._shuffle_state = rng.bit_generator.state

        if not result["converged"]:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

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

    def _hidden_activation(self):
        return "logistic" if self.activation == "sigmoid" else self.activation

    def _use_early_stopping(self, n_samples):
        if self.early_stopping == "auto":
            return n_samples > AUTO_EARLY_STOPPING_MIN_SAMPLES
        return bool(self.early_stopping)

    def _new_network(self, n_features, hidden, n_outputs, dtype, random_state):
        rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
        sizes = [n_features, *hidden, n_outputs]
        activations = [self.activation] * len(hidden)
        activations.append("logistic" if n_outputs == 1 else "softmax")
        return NeuralNetwork(
            Layer(n_in, n_out, activation=act, random_state=rng, dtype=dtype)
            for n_in, n_out, act in zip(sizes[:-1], sizes[1:], activations, strict=True)
        )

    def _network(self, copy=False, dtype=None):
        """The fitted network, built around ``coefs_`` and ``intercepts_``.

        The arrays are shared unless ``copy`` is true or ``dtype`` differs.
        """
        activations = [self.activation] * (len(self.coefs_) - 1)
        activations.append(self.out_activation_)
        dtype = self.coefs_[0].dtype if dtype is None else dtype
        layers = [
            Layer.from_arrays(
                w.astype(dtype, copy=copy), b.astype(dtype, copy=copy), activation
            )
            for w, b, activation in zip(
                self.coefs_, self.intercepts_, activations, strict=True
            )
        ]
        return NeuralNetwork(layers)

    def _make_optimizer(self, params):
        if self.solver == "sgd":
            return make_optimizer(
                "sgd",
                params,
                learning_rate=self.learning_rate_init,
                momentum=self.momentum,
                nesterov=self.nesterovs_momentum,
            )
        return make_optimizer(
            "adam",
            params,
            learning_rate=self.learning_rate_init,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
        )

    @staticmethod
    def _print_epoch(record):
        line = f"Iteration {record['epoch']}, loss = {record['loss']:.8f}"
        if record["validation_score"] is not None:
            line += f", validation score = {record['validation_score']:.6f}"
        print(f"{line} ({record['seconds']:.2f} s)")

    # -------------------------------------------------------------- predict

    def _logits(self, X):
        check_is_fitted(self)
        # float32 input is computed in float32, anything else in float64 (as
        # scikit-learn's MLP does): float64 input gets float64 precision.
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=False,
        )
        logits = self._network(dtype=X.dtype).logits(X)
        # The output activation runs in float64, so that probabilities near 0 or
        # 1 keep their precision and agree with predict_log_proba.
        return logits.astype(np.float64, copy=False)

    def predict_proba(self, X):
        """Class probabilities, one column per class in ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        Z = self._logits(X)
        if self.n_outputs_ == 1:
            # sigma(-z) rather than 1 - sigma(z): exact where sigma(z) rounds to 1
            return ACTIVATIONS["logistic"](np.hstack([-Z, Z]))
        return ACTIVATIONS["softmax"](Z)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed from the logits (never -inf).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        Z = self._logits(X)
        if self.n_outputs_ == 1:
            return np.hstack([log_logistic(-Z), log_logistic(Z)])
        return log_softmax(Z)

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    # ---------------------------------------------------------- persistence

    def save(self, path):
        """Write the fitted model to ``path`` as a pickle-free ``.npz`` file.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        """
        from .persistence import save_estimator

        save_estimator(self, path)

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save` (never executes code from the file)."""
        from .persistence import load_estimator

        return load_estimator(path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _encode(y_index, n_outputs, dtype):
    """Targets for the output layer: a 0/1 column, or one-hot rows."""
    if n_outputs == 1:
        return y_index.astype(dtype).reshape(-1, 1)
    Y = np.zeros((y_index.shape[0], n_outputs), dtype=dtype)
    Y[np.arange(y_index.shape[0]), y_index] = 1
    return Y


def _accuracy_scorer(X_val, y_val):
    """``score(network)``: accuracy of ``network`` on the held-out rows."""

    def score(network):
        Z = network.logits(X_val)
        predicted = (Z[:, 0] > 0) if Z.shape[1] == 1 else Z.argmax(axis=1)
        return float(np.mean(predicted == y_val))

    return score
