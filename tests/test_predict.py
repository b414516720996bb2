"""predict_proba's fast path for plain float arrays is as strict as validate_data."""

import copy

import numpy as np
import pandas as pd
import pytest

from sknumpy_mlp import MLPScratchClassifier

from .conftest import assert_agree_to_rounding


@pytest.fixture(scope="module")
def fitted(multiclass_data):
    X, y = multiclass_data
    return MLPScratchClassifier(
        max_iter=200, learning_rate_init=0.01, tol=1e-2, random_state=0
    ).fit(X, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_path_matches_the_validated_path(fitted, multiclass_data, dtype):
    # other memory layouts and row orders reach BLAS as other products, so
    # they agree to rounding, not bitwise
    X, _ = multiclass_data
    X = X.astype(dtype)
    fast = fitted.predict_proba(X)
    slow = fitted.predict_proba(pd.DataFrame(X))  # not a plain array: validated
    network_dtype = fitted.coefs_[0].dtype
    assert_agree_to_rounding(slow, fast, network_dtype)
    assert_agree_to_rounding(
        fitted.predict_proba(np.asfortranarray(X)), fast, network_dtype
    )
    assert_agree_to_rounding(fitted.predict_proba(X[::-1])[::-1], fast, network_dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "value, message",
    [
        (np.nan, "Input X contains NaN"),
        (np.inf, "Input X contains infinity"),
        (-np.inf, "Input X contains infinity"),
    ],
)
@pytest.mark.parametrize("n_rows", [5, 300])  # both ways _require_finite checks
def test_non_finite_input_is_refused_with_sklearn_message(
    fitted, multiclass_data, dtype, value, message, n_rows
):
    X, _ = multiclass_data
    for column in range(X.shape[1]):  # whatever the feature's weights
        bad = X[:n_rows].astype(dtype)
        bad[2, column] = value
        for method in (fitted.predict_proba, fitted.predict, fitted.decision_function):
            with pytest.raises(ValueError, match=message):
                method(bad)


def test_other_bad_arrays_are_refused(fitted, multiclass_data):
    X, _ = multiclass_data
    with pytest.raises(ValueError, match="X has 7 features"):
        fitted.predict_proba(X[:, :7])
    with pytest.raises(ValueError, match="Expected 2D array"):
        fitted.predict_proba(X[0])
    with pytest.raises(ValueError, match="0 sample"):
        fitted.predict_proba(X[:0])


def test_predictions_follow_weights_replaced_or_edited_after_a_prediction(fitted):
    # predict reuses the network it built last time; every kind of change to
    # the fitted arrays must show in the next prediction, as in a copy that
    # builds its network anew
    X = np.random.default_rng(0).standard_normal((50, fitted.n_features_in_))
    clf = copy.deepcopy(fitted)

    def as_a_fresh_copy():
        proba = clf.predict_proba(X)
        np.testing.assert_array_equal(proba, copy.deepcopy(clf).predict_proba(X))
        return proba

    before = as_a_fresh_copy()
    clf.coefs_[0] = clf.coefs_[0] * 2  # an array of the list replaced
    assert not np.array_equal(as_a_fresh_copy(), before)
    clf.intercepts_ = [b + 1 for b in clf.intercepts_]  # the list replaced
    relu = as_a_fresh_copy()
    clf.set_params(activation="tanh")
    tanh = as_a_fresh_copy()
    assert not np.array_equal(tanh, relu)
    clf.set_params(activation=["tanh"] * (len(clf.coefs_) - 1))
    np.testing.assert_array_equal(as_a_fresh_copy(), tanh)
    clf.activation[0] = "relu"  # the list of activations edited in place
    assert not np.array_equal(as_a_fresh_copy(), tanh)
    clf.coefs_[-1][:] = 0  # edited in place
    proba = as_a_fresh_copy()
    np.testing.assert_allclose(proba, proba[:1].repeat(len(X), axis=0))


def test_an_unhashable_subclass_still_predicts(fitted, multiclass_data):
    class Unhashable(MLPScratchClassifier):
        def __eq__(self, other):  # sets __hash__ to None
            return self is other

    X, _ = multiclass_data
    clf = Unhashable(**fitted.get_params())
    clf.__dict__.update(copy.deepcopy(fitted.__dict__))
    np.testing.assert_array_equal(clf.predict_proba(X), fitted.predict_proba(X))
