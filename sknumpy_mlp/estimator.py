"""MLPScratchClassifier: the engine as a scikit-learn classifier."""

import functools
from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils import compute_sample_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._base import BaseMLP
from ._validation import checked_weights
from .engine.activations import ACTIVATIONS
from .engine.backend import device, namespace, to_namespace, to_numpy
from .engine.losses import LOSSES, with_label_smoothing


class MLPScratchClassifier(ClassifierMixin, BaseMLP):
    r"""Multi-layer perceptron classifier built on the from-scratch NumPy engine.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier` (the parameters
    have the same names and meanings) that trains in float32 by default and
    saves to a pickle-free ``.npz`` file.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(64, 32)
        Width of each hidden layer; ``()`` gives a network without hidden
        layers (logistic regression).
    activation : str or list of str, default='relu'
        Activation of the hidden layers: ``'relu'``, ``'leaky_relu'``,
        ``'elu'``, ``'gelu'``, ``'tanh'``, ``'logistic'`` (alias
        ``'sigmoid'``) or ``'identity'``; or a list with one per hidden layer.
    solver : {'adam', 'sgd', 'rmsprop', 'adamw', 'lbfgs'}, default='adam'
        ``'sgd'`` is mini-batch gradient descent with optional (Nesterov)
        momentum; ``'adamw'`` is Adam with decoupled weight decay; ``'lbfgs'``
        is full-batch L-BFGS-B from SciPy.
    alpha : float, default=0.001
        L2 penalty, scaled as in scikit-learn: :math:`\frac{\alpha}{2n}
        \sum \lVert W \rVert^2` per batch of :math:`n` samples (or of
        total sample weight :math:`n`).
    batch_size : int or 'auto', default=100
        Rows per mini-batch; ``'auto'`` is ``min(200, n_samples)``. A batch
        larger than the data set is the whole data set.
    learning_rate : str, default='constant'
        Learning-rate schedule, for every stochastic solver: ``'constant'``,
        ``'invscaling'``, ``'adaptive'``, ``'step'``, ``'cosine'`` or
        ``'linear'`` (see ``sknumpy_mlp.engine.schedules``).
    learning_rate_init : float, default=0.001
    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` schedule.
    max_iter : int, default=200
        Maximum number of epochs (L-BFGS: iterations).
    shuffle : bool, default=True
        Shuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split, the shuffling and the
        dropout masks.
    tol : float, default=1e-4
        Minimum improvement of the monitored quantity (training loss, or the
        validation score or loss with early stopping); for L-BFGS, SciPy's
        ``gtol``.
    verbose : bool or int, default=False
        Print the loss, validation metrics and time of every epoch.
    warm_start : bool, default=False
        Continue from the previous fit's weights, optimizer state, schedule
        position and random stream.
    momentum : float, default=0.9
        SGD momentum.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with SGD.
    early_stopping : bool or 'auto', default='auto'
        Hold out ``validation_fraction`` of the data (stratified), or use
        ``X_val``, stop when the monitored validation quantity stops improving
        and keep the best epoch's weights. ``'auto'`` turns it on above 10 000
        samples or when ``X_val`` is given, unless ``average_epochs`` is set.
    validation_fraction : float, default=0.1
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's (and AdamW's) moment decay rates.
    epsilon : float, default=1e-8
        Numerical-stability constant of Adam, AdamW and RMSprop.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before training stops (or,
        with ``learning_rate='adaptive'``, the rate is divided by 5).
    max_fun : int, default=15000
        Maximum number of loss evaluations of L-BFGS.
    rho : float, default=0.9
        RMSprop's decay rate of the squared-gradient average.
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay (weights only, not biases).
    lr_decay_epochs : int, default=10
    lr_decay_factor : float, default=0.1
        The ``'step'`` schedule multiplies the rate by ``lr_decay_factor``
        every ``lr_decay_epochs`` epochs.
    warmup_epochs : int, default=0
        Epochs of linear learning-rate warm-up before the schedule.
    dropout : float or list of float, default=0.0
        Inverted-dropout rate after each hidden layer (one rate, or one per
        hidden layer); off at prediction time.
    normalization : {'batch', 'layer'}, list or None, default=None
        Batch normalization (Ioffe and Szegedy, 2015) or layer normalization
        (Ba et al., 2016) of each hidden layer's pre-activation, between its
        affine map and its activation (one value, or one per hidden layer,
        None for none). Their scales and shifts get no L2 penalty and no
        weight decay; batch statistics are weighted by ``sample_weight``, and
        prediction uses their running averages (momentum 0.9). ``'batch'``
        needs a stochastic solver and batches of at least 2 rows.
    max_grad_norm : float or None, default=None
        Clip every batch's gradient to this global L2 norm.
    max_norm : float, list or tuple, or None, default=None
        Max-norm constraint (Srivastava et al., 2014): after every update, the
        incoming weight vector of each unit (a column of each ``coefs_[i]``)
        is scaled down to this L2 norm if it is longer. A list or tuple gives
        one bound per layer, the output layer last (``len(coefs_)`` entries;
        None leaves that layer free), e.g. ``(2.0, 2.0, 1.0)`` for two
        hidden layers.
    average_epochs : int or None, default=None
        End ``fit`` with the uniform average of the weights at the end of each
        of the last ``average_epochs`` of the ``max_iter`` epochs (the average
        of stochastic weight averaging, Izmailov et al., 2018; all of them if
        ``max_iter`` is smaller), of those that ran if training stopped
        sooner. ``loss_curve_`` stays the epochs' own losses, and a warm
        start goes on from the average. Stochastic solvers only; not with
        ``early_stopping=True`` (``'auto'`` is then off: every epoch runs)
        nor with ``normalization='batch'``; ``partial_fit`` trains one epoch
        and does not average.
    average_learning_rate : float or None, default=None
        With ``average_epochs``: the constant learning rate of the averaged
        epochs, as in stochastic weight averaging, whose averaged weights
        explore a minimum at a rate well above zero; ``'cosine'`` and
        ``'linear'`` then anneal to it over the epochs before. None: the
        schedule runs over all ``max_iter`` epochs. Only used with
        ``average_epochs``.
    augment : ImageAugmenter or None, default=None
        Distorts every training batch anew each epoch (random shifts,
        rotations, scalings and elastic deformations of images, see
        :class:`~sknumpy_mlp.ImageAugmenter`); the validation data and
        predictions are never distorted. Stochastic solvers only; the random
        draws come from ``random_state``.
    class_weight : dict, 'balanced' or None, default=None
        Weights per class, multiplied into ``sample_weight``. ``'balanced'``
        is refused by :meth:`partial_fit`, as by scikit-learn's
        ``SGDClassifier`` (each chunk would be balanced on its own): compute
        the weights once with ``compute_class_weight`` and pass them as a dict.
    scoring : {'accuracy', 'loss'}, default='accuracy'
        What early stopping monitors on the validation set.
    loss : {'log_loss', 'focal'}, default='log_loss'
        The training loss: the cross-entropy (of the softmax, or of each
        sigmoid output), or the focal loss of Lin et al. (2017), which scales
        each row's cross-entropy by :math:`(1 - p)^\gamma` so that rows the
        network already classifies well weigh less (for imbalanced or noisy
        classes).
    focal_gamma : float, default=2.0
        The focal loss's :math:`\gamma` (0 gives the cross-entropy).
    label_smoothing : float in [0, 1), default=0.0
        Trains on targets smoothed toward the uniform distribution,
        :math:`(1 - \varepsilon) y + \varepsilon / K` (:math:`K` classes, or
        2 per sigmoid output); the validation loss uses them too, as Keras
        does. Calibration and accuracy often improve with 0.05-0.1.
    dtype : {'auto', 'float32', 'float64'}, default='auto'
        Floating-point type of the weights and of the computation. ``'auto'``
        uses float32 for float32 data and for data of more than 10 000
        samples (about twice as fast; float64 data is then converted batch by
        batch, never copied whole), float64 otherwise. Predictions are
        computed in the training dtype.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when ``X`` had string column names.
    coefs_ : list of ndarray
        ``coefs_[i]`` has shape ``(width of layer i, width of layer i + 1)``.
    intercepts_ : list of ndarray
    n_iter_ : int
        Epochs run by the latest call (one for partial_fit), as in scikit-learn;
        ``history_`` holds every epoch of every call.
    loss_ : float
        Training loss of the last epoch.
    loss_curve_ : list of float
        Training loss of every epoch.
    validation_loss_curve_ : list of float or None
        Validation loss of every epoch, when there is a validation set.
    history_ : list of dict
        One record per epoch: ``epoch``, ``loss``, ``validation_loss``,
        ``validation_score``, ``learning_rate`` and ``seconds``.
    best_loss_ : float or None
        Lowest training loss; ``None`` with early stopping, as in scikit-learn.
    validation_scores_ : list of float or None
        Validation accuracy of every epoch, when there is a validation set.
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

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "scoring": [StrOptions({"accuracy", "loss"})],
        "loss": [StrOptions({"log_loss", "focal"})],
        "focal_gamma": [Interval(Real, 0, None, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
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
        class_weight=None,
        scoring="accuracy",
        dtype="auto",
        loss="log_loss",
        focal_gamma=2.0,
        label_smoothing=0.0,
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
        self.class_weight = class_weight
        self.scoring = scoring
        self.loss = loss
        self.focal_gamma = focal_gamma
        self.label_smoothing = label_smoothing

    def _loss(self, network):
        """The cross-entropy or the focal loss, on smoothed targets if asked."""
        loss = network.loss_name
        if self.loss == "focal":
            loss = functools.partial(LOSSES["focal"], gamma=float(self.focal_gamma))
        if self.label_smoothing:
            loss = with_label_smoothing(loss, float(self.label_smoothing))
        return loss

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
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (numbers, strings or other hashable objects), or a
            binary indicator matrix for multilabel classification.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every sample in the loss (an integer weight is the same
            as repeating the sample). Multiplied by ``class_weight``.
        X_val, y_val : array-like, default=None
            A validation set of your own, used instead of a
            ``validation_fraction`` split: scored after every epoch, and, with
            early stopping (on, or ``'auto'``), what training stops on.
        sample_weight_val : array-like of shape (n_val_samples,), default=None

        Returns
        -------
        self : MLPScratchClassifier
        """
        return self._fit(
            X, y, sample_weight, X_val, y_val, sample_weight_val, incremental=False
        )

    @available_if(BaseMLP._check_stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on a chunk of data, keeping all state between calls.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear; required on the first call
            (except for multilabel targets).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : MLPScratchClassifier
        """
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            # as SGDClassifier: each chunk would be balanced on its own
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit. In "
                "order to use 'balanced' weights, use compute_class_weight("
                "'balanced', classes=classes, y=y). In place of y you can use a "
                "large enough sample of the full training set target to properly "
                "estimate the class frequency distributions. Pass the resulting "
                "weights as the class_weight parameter."
            )
        return self._fit(
            X, y, sample_weight, None, None, None, incremental=True, classes=classes
        )

    def _targets(self, y, *, first_pass, incremental, classes):
        fitted = hasattr(self, "classes_")
        if incremental and not fitted and classes is None and np.ndim(y) == 1:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if incremental and fitted and classes is not None:
            if not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call to "
                    f"partial_fit, was: {self.classes_!r}"
                )
        if not (first_pass or incremental or self._multilabel):
            seen = unique_labels(y)
            if set(seen) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as "
                    f"in the previous call to fit. Previously got {self.classes_}, "
                    f"`y` has {seen}"
                )
        targets = _Targets(
            y,
            classes if first_pass else self.classes_,
            known=not first_pass or classes is not None,
            multilabel=None if first_pass else self._multilabel,
        )
        return targets

    def _weights(self, sample_weight, X, targets, dtype):
        if self.class_weight is not None:
            if targets.multilabel:
                raise ValueError(
                    "class_weight is not supported for multilabel targets."
                )
            class_weights = compute_sample_weight(self.class_weight, targets.y)
            if sample_weight is None:
                sample_weight = class_weights
            else:
                sample_weight = (
                    checked_weights(sample_weight, X, np.float64) * class_weights
                )
        return super()._weights(sample_weight, X, targets, dtype)

    # -------------------------------------------------------------- predict

    def decision_function(self, X):
        """The network's output logits (before the sigmoid or softmax).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes, else (n_samples, n_outputs)
            For two classes, positive values favour ``classes_[1]``.
        """
        Z = self._logits(X, "decision_function")
        return Z[:, 0] if self.n_outputs_ == 1 and not self._multilabel else Z

    def predict_proba(self, X):
        """Class probabilities, one column per class in ``classes_``.

        For multilabel targets, column ``k`` is the probability of label ``k``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._proba(X, "predict_proba")

    def _proba(self, X, method):
        if not hasattr(self, "coefs_"):
            check_is_fitted(self)
        softmax = self.n_outputs_ > 1 and not self._multilabel
        Z = self._logits(X, method, wide=not softmax)
        xp = namespace(Z)  # X's library, under array_api_dispatch
        if softmax:  # never exactly 0; float64 (see softmax)
            return ACTIVATIONS["softmax"](Z, dtype=np.float64)
        if self._multilabel:
            # each label's probability strictly inside (0, 1)
            return xp.clip(ACTIVATIONS["logistic"](Z), _TINY, _BELOW_ONE)
        # sigma(-z) rather than 1 - sigma(z): exact where sigma(z) rounds to 1
        P = ACTIVATIONS["logistic"](xp.concat([-Z, Z], axis=1))
        # Never exactly 0 (logit gaps beyond ~745 underflow), so that the log of a
        # probability stays finite.
        return np.maximum(P, _TINY, out=P) if xp is np else xp.maximum(P, _TINY)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`; always finite, as probabilities are
        never below the smallest positive float64 (about 2.2e-308).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        P = self._proba(X, "predict_log_proba")
        return namespace(P).log(P)

    def predict(self, X):
        """Most probable class of each sample (each label above 0.5 if multilabel).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)
        """
        proba = self._proba(X, "predict")
        xp = namespace(proba)
        if self._multilabel:
            return xp.astype(proba > 0.5, xp.int64)
        index = xp.argmax(proba, axis=1)
        if xp is np:
            return self.classes_[index]
        if self.classes_.dtype.kind in "biuf":  # labels in X's library too
            return xp.take(to_namespace(self.classes_, xp, device(proba)), index)
        return self.classes_[to_numpy(index)]  # strings stay NumPy's

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


_TINY = float(np.finfo(np.float64).tiny)
_BELOW_ONE = float(np.nextafter(1.0, 0.0))


class _Targets:
    """Class labels (or a label-indicator matrix) checked and indexed.

    Parameters
    ----------
    y : ndarray
    classes : array-like or None
        The known classes (from an earlier fit, or partial_fit's ``classes``).
    known : bool
        Whether ``y`` must stay within ``classes``.
    multilabel : bool or None
        What an earlier fit saw; None on a first fit.
    """

    def __init__(self, y, classes, *, known, multilabel, name="y"):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        kind = type_of_target(y, input_name=name)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                f"MLPScratchClassifier supports binary, multiclass and multilabel "
                f"targets; {name} is {kind}."
            )
        is_multilabel = kind == "multilabel-indicator"
        if multilabel is not None and is_multilabel != multilabel:
            raise ValueError(
                f"{name} is {'multilabel' if is_multilabel else 'not multilabel'}, "
                "unlike the data the model was fitted on."
            )
        self.y = y
        self.multilabel = is_multilabel
        if is_multilabel:
            n_labels = y.shape[1]
            if classes is not None and len(classes) != n_labels:
                raise ValueError(
                    f"{name} has {n_labels} labels, but the model has {len(classes)}."
                )
            self.classes = np.arange(n_labels)
            self.n_outputs = n_labels
            self.index = None
            return
        if known:
            classes = np.asarray(classes)
            classes = np.unique(classes)  # sorted, as searchsorted needs
            unseen = np.setdiff1d(np.unique(y), classes)
            if len(unseen):
                raise ValueError(
                    f"{name} has classes {unseen.tolist()} that are not in the "
                    f"classes {classes.tolist()} the model knows."
                )
            self.classes = classes
        else:
            self.classes = np.unique(y)
        if len(self.classes) < 2:
            raise ValueError(
                f"The data contains only one class: {self.classes[0]!r}. "
                "MLPScratchClassifier needs samples of at least 2 classes."
            )
        self.index = np.searchsorted(self.classes, y)
        self.n_outputs = 1 if len(self.classes) == 2 else len(self.classes)

    def encode(self, y, dtype):
        """Targets for the output layer: 0/1 columns, or one-hot rows."""
        if self.multilabel:
            return np.asarray(y, dtype=dtype)
        index = np.searchsorted(self.classes, y)
        if self.n_outputs == 1:
            return index.astype(dtype).reshape(-1, 1)
        Y = np.zeros((index.shape[0], self.n_outputs), dtype=dtype)
        Y[np.arange(index.shape[0]), index] = 1
        return Y

    # the targets protocol of sknumpy_mlp._base.BaseMLP

    @property
    def output_activation(self):
        return "logistic" if self.multilabel or self.n_outputs == 1 else "softmax"

    @property
    def labels(self):
        """What the accuracy scorer compares with: indices, or the indicators."""
        return self.y if self.multilabel else self.index

    @property
    def stratify(self):
        # the labels themselves (the same split as their indices), so that an
        # error names a class as the user knows it
        return None if self.multilabel else self.y

    def scorer(self, labels, sample_weight):
        return _accuracy_scorer(labels, self.multilabel, sample_weight)

    def validation(self, y_val):
        return _Targets(
            y_val, self.classes, known=True, multilabel=self.multilabel, name="y_val"
        )

    def fitted_attributes(self):
        return {
            "classes_": self.classes,
            "_multilabel": self.multilabel,
            "n_outputs_": self.n_outputs,
        }


def _accuracy_scorer(labels, multilabel, sample_weight=None):
    """``score(Z)``: (weighted) accuracy of the logits ``Z`` of held-out rows.

    ``labels`` are class indices, or the indicator matrix for multilabel targets
    (whose accuracy is the exact-match ratio, as in ``accuracy_score``).
    """

    def score(Z):
        if multilabel:
            correct = np.all((Z > 0) == (labels > 0.5), axis=1)
        elif Z.shape[1] == 1:
            correct = (Z[:, 0] > 0) == labels
        else:
            correct = Z.argmax(axis=1) == labels
        return float(np.average(correct, weights=sample_weight))

    return score
