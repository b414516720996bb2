"""Prediction shared by the estimators: the fitted network, reused from call
to call, and the logits of validated or plain-array input."""

import weakref

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from ._array_api import check_same_namespace
from .engine import Layer, NeuralNetwork
from .engine.backend import astype, dtype_in, namespace


class PredictionMixin:
    """``_network`` and ``_logits`` for :class:`~sknumpy_mlp._base.BaseMLP`."""

    def _network(self, copy=False, dtype=None):
        """The fitted network, built around ``coefs_`` and ``intercepts_``.

        The arrays are shared unless ``copy`` is true or ``dtype`` differs.
        """
        # (none when fitted before normalizations existed)
        norms = getattr(self, "normalizations_", None) or [None] * (
            len(self.coefs_) - 1
        )
        arrays = (*self.coefs_, *self.intercepts_)
        if norms.count(None) != len(norms):  # their arrays are part of the key
            arrays += tuple(
                getattr(n, name) for n in norms if n is not None for name in n._arrays()
            )
        # Reused from call to call (building it is a quarter of the time of a
        # one-row prediction): it holds the very arrays of coefs_ and
        # intercepts_ (so their ids are not reused while it lives), and its
        # key, their ids and the activations as set, notices any array or
        # activation replaced. Kept outside the estimator, whose __dict__
        # predict must not touch.
        activation = self.activation
        if isinstance(activation, list):  # a list changed in place is noticed
            activation = tuple(activation)
        key = (tuple(map(id, arrays)), activation, self.out_activation_)
        try:
            cached = _NETWORKS.get(self)
        except TypeError:  # a subclass made unhashable: build it each time
            cached = key = None
        if not copy and dtype is None and cached is not None and cached[0] == key:
            return cached[1]
        activations = self._hidden_activations(len(self.coefs_) - 1)
        activations.append(self.out_activation_)
        if dtype is None:
            dtype = self.coefs_[0].dtype
        elif type(self.coefs_[0]) is not np.ndarray:  # another array library's
            dtype = dtype_in(namespace(self.coefs_[0]), dtype)
        shared = key is not None and not copy and all(a.dtype == dtype for a in arrays)
        layers = [
            Layer.from_arrays(
                astype(w, dtype, copy=copy),
                astype(b, dtype, copy=copy),
                activation,
            )
            for w, b, activation in zip(
                self.coefs_, self.intercepts_, activations, strict=True
            )
        ]
        for layer, norm in zip(layers[:-1], norms, strict=True):
            if norm is not None:  # shared, or copied like the weights
                layer.normalization = (
                    norm
                    if shared
                    else norm.copied(lambda a: astype(a, dtype, copy=True))
                )
        network = NeuralNetwork(layers)
        if shared:
            _NETWORKS[self] = (key, network)
        return network

    def _logits(self, X, method, wide=True):
        """The float64 logits of ``X`` for public method ``method`` (named
        by the error for input of another namespace than the fit's); with
        ``wide`` false, in the dtype the network computed them in (float32
        or float64), for a softmax that widens them itself."""
        if not hasattr(self, "coefs_"):
            check_is_fitted(self)
        # Computed in the dtype the network was trained in (float32 for large
        # data, see dtype): converting a batch of rows costs less than
        # converting every weight, and float32 products are twice as fast.
        # A plain float array skips validate_data: only finiteness is left,
        # checked on the first layer's product X W (see _is_plain_array).
        if self._is_plain_array(X) and type(self.coefs_[0]) is np.ndarray:
            try:
                return self._finite_logits(X, _require_finite, wide)
            except _NotFinite:
                if np.isfinite(X).all():  # finite input that overflowed the cast
                    return self._wider_logits(X)
            # else validate_data below raises its error
        # dtype='numeric' refuses strings, numeric or not, as scikit-learn's
        # MLPs do at predict; dates and durations are refused below
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype="numeric", reset=False
        )
        check_same_namespace(self, X, method)
        xp = namespace(X)
        if xp is not np:  # another array library, under array_api_dispatch
            if not xp.isdtype(X.dtype, "real floating"):
                X = xp.astype(X, xp.float64)
            return self._finite_logits(X, wide=wide)
        if X.dtype.kind in "Mm":
            raise ValueError(
                f"X has dtype {X.dtype}: dates and durations are not numbers the "
                "network can use. Convert them to numeric features explicitly "
                "instead."
            )
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        return self._finite_logits(X, wide=wide)

    def _finite_logits(self, X, check_first=None, wide=True):
        """The network's logits of float ``X``, computed in the dtype it was
        trained in, or in float64 where that overflows (:meth:`_wider_logits`);
        returned in float64 if ``wide``.

        The output activation runs in float64 (a softmax from float32 logits
        takes only its exponentials in float32), so that probabilities near
        0 or 1 keep their precision and agree with predict_log_proba.
        """
        xp = namespace(X)
        # a NaN or an infinity in X makes the first product warn ("invalid
        # value") before check_first sees it; finite input beyond float32's
        # range overflows the cast (which logits makes): both are checked here
        with np.errstate(invalid="ignore", over="ignore"):
            logits = self._network().logits(X, check_first=check_first)
        if not _finite(logits):
            return self._wider_logits(X)
        if not wide:
            return logits
        if xp is np:
            return logits.astype(np.float64, copy=False)
        return xp.astype(logits, xp.float64, copy=False)

    def _wider_logits(self, X):
        """The logits of finite ``X`` that overflowed in the network's dtype:
        in float64 (a float32 model given float64 input beyond float32's
        range), or a clear error where even that overflows."""
        xp = namespace(X)
        with np.errstate(over="ignore", invalid="ignore"):
            logits = self._network(dtype=np.float64).logits(X)
        if not _finite(logits):
            raise ValueError(
                "The network's outputs overflow for this input (its values reach "
                f"{float(abs(X).max() if xp is np else xp.max(xp.abs(X))):.3g}, "
                "the model was fitted on data of a much "
                "smaller scale): scale X as the training data was."
            )
        return logits

    def _is_plain_array(self, X):
        """Whether ``X`` needs none of validate_data's conversions.

        A 2-D float ndarray of the fitted width, for an estimator fitted
        without feature names: only finiteness is left to check, which
        :meth:`_logits` does on the first layer's product :math:`X W`: a NaN
        or an infinity in a row of ``X`` makes every entry of that row
        non-finite (times 0 it is NaN), and the product is
        ``n_features / width`` times smaller than ``X``.
        """
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype.type in (np.float32, np.float64)
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
        )


def _finite(logits):
    if type(logits) is np.ndarray:
        return np.isfinite(logits).all()
    xp = namespace(logits)
    return bool(xp.all(xp.isfinite(logits)))


class _NotFinite(Exception):
    """A first layer's product XW with NaN or infinity (see ``_logits``)."""


def _require_finite(Z):
    # A NaN or an infinity in a row of X makes every entry of that row of XW
    # NaN or infinite (times 0 it is NaN), so one column tells, at a fraction
    # of a pass over Z (a 64-unit layer: 10 against 300 us for 10 000 rows).
    # Finite input that overflows in another column stays right or shows:
    # an infinity is clipped by a ReLU as its finite value would be, or
    # reaches the logits, which _finite_logits checks.
    if not np.isfinite(Z[:, 0]).all():
        raise _NotFinite


#: The network each fitted estimator last predicted with, with its key (see
#: ``PredictionMixin._network``); an entry goes with its estimator.
_NETWORKS = weakref.WeakKeyDictionary()
