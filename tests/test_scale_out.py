"""Scaling out: grid searches on a Dask cluster, out-of-core training, and
estimators small enough to ship to workers."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sknumpy_mlp import MLPScratchClassifier

from .conftest import MNIST_DIR, load_example


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


def _search(X, y, n_jobs):
    search = GridSearchCV(
        MLPScratchClassifier(max_iter=15, random_state=0),
        {"hidden_layer_sizes": [(16,), (32, 16)], "alpha": [1e-4, 1e-2]},
        cv=2,
        n_jobs=n_jobs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    return search


def test_grid_search_on_a_local_dask_cluster_agrees_with_the_serial_one(digits):
    distributed = pytest.importorskip("dask.distributed")
    X, y = digits
    serial = _search(X, y, n_jobs=1)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_config(backend="dask"):
            on_dask = _search(X, y, n_jobs=-1)
        # the fits ran in the worker processes
        assert len(client.scheduler_info()["workers"]) == 2
    # Dask's workers run BLAS in one thread, the serial search in two: products
    # round differently, so the models agree closely, not bitwise, and a
    # score may move by a sample or two of a fold's ~900
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_allclose(
            on_dask.cv_results_[key], serial.cv_results_[key], atol=0.003
        )
    assert on_dask.best_params_ == serial.best_params_
    best = on_dask.best_estimator_, serial.best_estimator_
    np.testing.assert_allclose(
        best[0].predict_proba(X), best[1].predict_proba(X), atol=1e-4
    )


def test_out_of_core_memmap_example_is_within_a_point_of_in_memory(capsys):
    chunked, in_memory = load_example("mnist_out_of_core").main(
        ["--data", str(MNIST_DIR), "--epochs", "5"]
    )
    assert abs(chunked - in_memory) <= 0.01
    assert chunked > 0.95
    assert "memmap, partial_fit: 5 passes" in capsys.readouterr().out


def test_dask_array_training_goes_block_by_block(digits, tmp_path):
    pytest.importorskip("dask_ml")
    X, y = digits
    path = tmp_path / "X.npy"
    np.save(path, X)
    module = load_example("mnist_out_of_core")
    classes = np.unique(y)
    via_dask = module.train_dask(
        path, y, classes, epochs=15, chunk_size=200, random_state=0
    )
    # three blocks a pass, one partial_fit (one epoch) each
    assert len(via_dask.history_) == 45
    assert via_dask.score(X, y) > 0.8
    chunked = module.train_in_chunks(
        np.load(path, mmap_mode="r"), y, classes, epochs=15, chunk_size=200,
        random_state=0,
    )  # fmt: skip
    assert len(chunked.history_) == 45
    assert chunked.score(X, y) > 0.8


def test_a_fitted_model_pickles_to_its_parameters_and_optimizer_state(mnist):
    (X, y), _ = mnist
    sizes = {}
    for n in (5_000, 60_000):
        clf = MLPScratchClassifier(max_iter=2, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X[:n], y[:n])
        clf.predict(X[:1000])
        sizes[n] = len(pickle.dumps(clf))
    parameters = sum(a.nbytes for a in clf.coefs_ + clf.intercepts_)
    # weights + Adam's two moments, nothing that grows with the data
    assert sizes[60_000] <= 3 * parameters + 64_000
    assert abs(sizes[60_000] - sizes[5_000]) < 1_000


def test_dask_grid_search_example_runs_on_a_local_cluster(capsys):
    pytest.importorskip("dask.distributed")
    search = load_example("dask_gridsearch").main(
        ["--data", str(MNIST_DIR), "--samples", "1500", "--workers", "2"]
    )
    out = capsys.readouterr().out
    assert "Dask cluster: 2 workers" in out
    assert len(search.cv_results_["params"]) == 3
    assert float(out.strip().splitlines()[-1].split()[-1]) > 0.8
