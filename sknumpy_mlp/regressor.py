"""MLPScratchRegressor: the engine as a scikit-learn regressor."""

import functools
import inspect
import re
from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array

from ._base import BaseMLP
from .engine.activations import ACTIVATIONS
from .engine.backend import namespace
from .engine.losses import LOSSES
from .estimator import MLPScratchClassifier

#: The regressor's losses (all engine losses that need no class targets).
REGRESSION_LOSSES = ("squared_error", "poisson", "absolute_error", "huber")


class MLPScratchRegressor(RegressorMixin, BaseMLP):
    # the docstring is composed below, from the classifier's shared parameters
    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "scoring": [StrOptions({"r2", "loss"})],
    }
    _y_numeric = True
    # scikit-learn's MLPRegressor initialisation: Glorot-uniform weights and
    # biases in every layer. With He's larger ReLU weights make_friedman1
    # reached R² 0.64 instead of 0.72 in 10 epochs; with zero biases, 100
    # full-batch SGD steps in scikit-learn's test_partial_fit_regression
    # reached 0.62 instead of 0.67
    _initializer = "glorot_uniform_biases"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        loss="squared_error",
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
        max_fun=15000,
        rho=0.9,
        weight_decay=0.01,
        lr_decay_epochs=10,
        lr_decay_factor=0.1,
        warmup_epochs=0,
        dropout=0.0,
        normalization=None,
        max_grad_norm=None,
        max_norm=None,
        average_epochs=None,
        average_learning_rate=None,
        augment=None,
        huber_delta=1.0,
        scoring="r2",
        dtype="auto",
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            rho=rho,
            weight_decay=weight_decay,
            lr_decay_epochs=lr_decay_epochs,
            lr_decay_factor=lr_decay_factor,
            warmup_epochs=warmup_epochs,
            dropout=dropout,
            normalization=normalization,
            max_grad_norm=max_grad_norm,
            max_norm=max_norm,
            average_epochs=average_epochs,
            average_learning_rate=average_learning_rate,
            augment=augment,
            dtype=dtype,
        )
        self.loss = loss
        self.huber_delta = huber_delta
        self.scoring = scoring

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values (non-negative for ``loss='poisson'``).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every sample in the loss.
        X_val, y_val : array-like, default=None
            A validation set of your own, used instead of a
            ``validation_fraction`` split: scored (R²) after every epoch, and,
            with early stopping (on, or ``'auto'``), what training stops on.
        sample_weight_val : array-like of shape (n_val_samples,), default=None

        Returns
        -------
        self : MLPScratchRegressor
        """
        return self._fit(
            X, y, sample_weight, X_val, y_val, sample_weight_val, incremental=False
        )

    @available_if(BaseMLP._check_stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on a chunk of data, keeping all state between calls.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : MLPScratchRegressor
        """
        return self._fit(X, y, sample_weight, None, None, None, incremental=True)

    def _targets(self, y, *, first_pass, incremental, classes):
        n_outputs = None if first_pass else self.n_outputs_
        return _RegressionTargets(y, loss=self.loss, n_outputs=n_outputs)

    def _loss(self, network):
        if self.loss == "huber":
            return functools.partial(LOSSES["huber"], delta=float(self.huber_delta))
        return self.loss

    # -------------------------------------------------------------- predict

    def predict(self, X):
        """Predicted target values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for one output, else (n_samples, n_outputs)
            float32 for float32 ``X``, as scikit-learn; float64 otherwise.
        """
        Z = self._logits(X, "predict")  # checks that the model is fitted
        P = ACTIVATIONS[self.out_activation_](Z)
        xp = namespace(P)
        if xp is not np:
            if X.dtype == xp.float32:
                P = xp.astype(P, xp.float32)
        elif getattr(X, "dtype", None) == np.float32:
            P = P.astype(np.float32)
        return P[:, 0] if self.n_outputs_ == 1 else P

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _parameters_section(doc):
    """``{name: text}`` of a numpydoc Parameters section."""
    section = doc.split("    Parameters\n    ----------\n")[1].split("\n\n")[0]
    blocks = re.split(r"\n(?=    \w)", section)
    return {
        name: block
        for block in blocks
        for name in block.split(" : ")[0].strip().split(", ")
    }


_CLASSIFIER_PARAMETERS = _parameters_section(MLPScratchClassifier.__doc__)
_OWN_PARAMETERS = {
    "hidden_layer_sizes": """    hidden_layer_sizes : array-like of int, \
default=(100,)
        Width of each hidden layer; ``()`` gives a network without hidden
        layers (linear regression, or Poisson regression). The default is
        scikit-learn's: one layer is steadier than the classifier's two on
        unscaled targets.""",
    "loss": """    loss : {'squared_error', 'poisson', 'absolute_error', 'huber'}, \
default='squared_error'
        ``'squared_error'`` is half the squared error, summed over the outputs
        and averaged over the samples; ``'poisson'`` the half Poisson deviance
        with an exponential output (targets must be non-negative), as in
        scikit-learn's ``MLPRegressor``; ``'absolute_error'`` and ``'huber'``
        (quadratic up to ``huber_delta``, linear beyond) are robust to
        outliers.""",
    "huber_delta": """    huber_delta : float, default=1.0
        Where the Huber loss turns from quadratic to linear.""",
    "early_stopping": """    early_stopping : bool or 'auto', default='auto'
        Hold out ``validation_fraction`` of the data, or use ``X_val``, stop
        when the monitored validation quantity stops improving and keep the
        best epoch's weights. ``'auto'`` turns it on above 10 000 samples or
        when ``X_val`` is given, unless ``average_epochs`` is set.""",
    "scoring": """    scoring : {'r2', 'loss'}, default='r2'
        What early stopping monitors on the validation set: R² (as
        scikit-learn's ``MLPRegressor``) or the loss.""",
}
MLPScratchRegressor.__doc__ = (
    r"""Multi-layer perceptron regressor built on the from-scratch NumPy engine.

    A drop-in for :class:`sklearn.neural_network.MLPRegressor` (the parameters
    have the same names and meanings) with the classifier's additions:
    dropout, max-norm, gradient clipping, every schedule for every stochastic
    solver, a validation set of your own, exact warm starts, more losses, and
    pickle-free ``.npz`` files. ``y`` may have several outputs.

    Parameters
    ----------
"""
    + "\n".join(
        dict.fromkeys(  # beta_1 and beta_2 share a block
            _OWN_PARAMETERS.get(name) or _CLASSIFIER_PARAMETERS[name]
            for name in list(inspect.signature(MLPScratchRegressor).parameters)
        )
    )
    + r"""

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when ``X`` had string column names.
    coefs_ : list of ndarray
    intercepts_ : list of ndarray
    n_iter_ : int
        Epochs run by the latest call (one for partial_fit), as in scikit-learn;
        ``history_`` holds every epoch of every call.
    loss_ : float
    loss_curve_ : list of float
    validation_loss_curve_ : list of float or None
    history_ : list of dict
        One record per epoch: ``epoch``, ``loss``, ``validation_loss``,
        ``validation_score`` (R²), ``learning_rate`` and ``seconds``.
    best_loss_ : float or None
    validation_scores_ : list of float or None
    best_validation_score_ : float or None
    t_ : int
    n_layers_ : int
    n_outputs_ : int
    out_activation_ : str
        ``'identity'``, or ``'exp'`` for the Poisson loss.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sknumpy_mlp import MLPScratchRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = make_pipeline(
    ...     StandardScaler(),
    ...     MLPScratchRegressor(learning_rate_init=0.05, max_iter=500,
    ...                         early_stopping=False, random_state=0),
    ... ).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> reg.score(X, y) > 0.5
    True
    """
)


class _RegressionTargets:
    """Real-valued targets, one column per output (see ``BaseMLP``)."""

    stratify = None

    def __init__(self, y, *, loss, n_outputs=None, name="y"):
        y = check_array(
            y, ensure_2d=False, dtype=(np.float64, np.float32), input_name=name
        )
        if y.ndim > 2:
            raise ValueError(f"{name} must be 1-D or 2-D, got shape {y.shape}.")
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if loss == "poisson" and (Y < 0).any():
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson "
                "regression."
            )
        if n_outputs is not None and Y.shape[1] != n_outputs:
            raise ValueError(
                f"{name} has {Y.shape[1]} outputs, but the model has {n_outputs}."
            )
        self.y = y
        self.labels = Y.astype(np.float64, copy=False)
        self.n_outputs = Y.shape[1]
        self.loss = loss
        self.output_activation = "exp" if loss == "poisson" else "identity"

    def encode(self, y, dtype):
        return np.asarray(y, dtype=dtype).reshape(-1, self.n_outputs)

    def scorer(self, labels, sample_weight):
        activation = ACTIVATIONS[self.output_activation]

        def score(Z):
            predicted = activation(np.array(Z, dtype=np.float64))
            return float(r2_score(labels, predicted, sample_weight=sample_weight))

        return score

    def validation(self, y_val):
        return _RegressionTargets(
            y_val, loss=self.loss, n_outputs=self.n_outputs, name="y_val"
        )

    def fitted_attributes(self):
        return {"n_outputs_": self.n_outputs}
