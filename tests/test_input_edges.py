"""Inputs at the edges: values beyond float32, strings and dates, chunked
class weights, fork after prediction, and the memory of a default fit."""

import multiprocessing
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sknumpy_mlp import MLPScratchClassifier, MLPScratchRegressor


@pytest.fixture(scope="module")
def float32_model():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(ConvergenceWarning):
        clf = MLPScratchClassifier(dtype="float32", max_iter=30, random_state=0)
        clf.fit(X, y)
    return clf, X


@pytest.mark.parametrize("layout", ["plain", "list", "fortran"])
def test_finite_input_beyond_float32_stays_finite(float32_model, layout):
    clf, X = float32_model
    big = X * 1e39  # finite in float64, infinite once cast to float32
    data = {"plain": big, "list": big.tolist(), "fortran": np.asfortranarray(big)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning either
        proba = clf.predict_proba(data[layout])
        log_proba = clf.predict_log_proba(data[layout])
        labels = clf.predict(data[layout])
    assert np.isfinite(proba).all() and np.isfinite(log_proba).all()
    # computed in float64: the same classes as the float64 network gives
    z = clf._network(dtype=np.float64).logits(big)[:, 0]  # binary: one logit
    np.testing.assert_array_equal(labels, clf.classes_[(z > 0).astype(int)])


def test_input_that_overflows_even_float64_is_refused(float32_model):
    clf, X = float32_model
    with pytest.raises(ValueError, match="outputs overflow"):
        clf.predict_proba(np.full((2, 5), 1.7e308))


@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([["1.5", "2", "0", "1", "3"]]), "bytes/strings"),
        (np.array([[b"1", b"2", b"3", b"4", b"5"]]), "bytes/strings"),
        (np.zeros((1, 5), dtype="datetime64[D]"), "dates and durations"),
        (np.zeros((1, 5), dtype="timedelta64[s]"), "dates and durations"),
    ],
)
def test_strings_and_dates_are_refused_at_predict(float32_model, X, match):
    clf, _ = float32_model
    for method in (clf.predict, clf.predict_proba):
        with pytest.raises(ValueError, match=match):
            method(X)


def test_balanced_class_weight_is_refused_by_partial_fit():
    X = np.random.default_rng(0).standard_normal((20, 3))
    clf = MLPScratchClassifier(class_weight="balanced")
    with pytest.raises(ValueError, match="compute_class_weight"):
        clf.partial_fit(X, np.arange(20) % 2, classes=[0, 1])
    assert not hasattr(clf, "coefs_")
    # the weights computed once are the documented way
    clf.set_params(class_weight={0: 1.0, 1: 3.0}).partial_fit(
        X, np.arange(20) % 2, classes=[0, 1]
    )


def _predict_in_child(queue, clf, X):
    queue.put(clf.predict_proba(X).shape)


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_a_forked_child_predicts_after_the_parent_did(float32_model):
    clf, X = float32_model
    large = np.tile(X, (20, 1))  # 6000 rows
    clf.predict_proba(large)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_predict_in_child, args=(queue, clf, large))
    child.start()
    child.join(60)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive, "the forked child hung"
    assert queue.get(timeout=5) == (6000, 2)


@pytest.mark.parametrize("Estimator", [MLPScratchClassifier, MLPScratchRegressor])
def test_the_default_fit_does_not_copy_the_data(Estimator):
    # above 10 000 samples the defaults hold out a validation set and train
    # in float32: neither copies X (a copy would be X's 19 MB, or 90 % of it)
    rng = np.random.default_rng(0)
    X = rng.random((12_000, 200))
    y = rng.integers(0, 3, 12_000)
    est = Estimator(hidden_layer_sizes=(16,), max_iter=1)
    tracemalloc.start()
    try:
        with pytest.warns(ConvergenceWarning):
            est.fit(X, y.astype(float) if Estimator is MLPScratchRegressor else y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert est.validation_scores_ is not None  # early stopping was on
    assert peak < 0.25 * X.nbytes, peak / X.nbytes
