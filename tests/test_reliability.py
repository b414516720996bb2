"""Determinism, thread safety and hostile numbers."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from sknumpy_mlp import MLPScratchClassifier


@pytest.fixture(scope="module")
def data():
    return make_classification(
        n_samples=400, n_features=12, n_informative=6, n_classes=3, random_state=0
    )


# 30-epoch fits may not converge; that is beside the point of these tests
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_random_state_is_bitwise_identical_inside_grid_search(data):
    X, y = data

    def search():
        grid = GridSearchCV(
            MLPScratchClassifier(
                max_iter=30,
                tol=1e-2,
                learning_rate_init=0.01,
                random_state=0,
                dropout=0.1,
            ),
            {"hidden_layer_sizes": [(8,), (16,)]},
            cv=2,
            n_jobs=2,
        )
        return grid.fit(X, y)

    a, b = search(), search()
    np.testing.assert_array_equal(
        a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"]
    )
    for wa, wb in zip(a.best_estimator_.coefs_, b.best_estimator_.coefs_, strict=True):
        assert wa.tobytes() == wb.tobytes()


def test_concurrent_predictions_from_threads_are_identical(data):
    X, y = data
    clf = MLPScratchClassifier(
        max_iter=200, tol=1e-2, learning_rate_init=0.01, random_state=0
    ).fit(X, y)
    expected = clf.predict_proba(X)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: clf.predict_proba(X), range(64)))
    for result in results:
        np.testing.assert_array_equal(result, expected)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_unscaled_input_trains_without_overflow_warnings(solver, data):
    X, y = data
    X = X * 1e6  # pytest turns any RuntimeWarning into an error
    clf = MLPScratchClassifier(solver=solver, max_iter=20, random_state=0)
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
