"""The engine and the estimators on another array library than NumPy.

Everything runs under array-api-strict on its simulated ``device1``, where
converting an array to NumPy raises: a hidden copy to the host anywhere would
fail the test. Results are compared with the same run on NumPy (the random
draws are NumPy's on array-api-strict, so the runs are the same computation
in another order of operations: to float tolerance). PyTorch's CPU build,
where installed, gets a smaller run of its own (its own random generator).
"""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification, make_regression

from sknumpy_mlp import Layer, MLPScratchClassifier, MLPScratchRegressor, NeuralNetwork
from sknumpy_mlp.engine.activations import ACTIVATIONS, DERIVATIVES
from sknumpy_mlp.engine.backend import namespace, to_numpy
from sknumpy_mlp.engine.losses import LOSSES
from sknumpy_mlp.engine.optimizers import OPTIMIZERS
from sknumpy_mlp.engine.schedules import SCHEDULES

from .conftest import assert_same_labels

xps = pytest.importorskip("array_api_strict")
pytest.importorskip("array_api_compat")

# few epochs on purpose: the runs are compared, not converged
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DEVICE = xps.Device("device1")
RTOL = 1e-9  # float64 throughout, unless a test says otherwise


def dev(a):
    return xps.asarray(np.asarray(a), device=DEVICE)


def host(a):
    assert isinstance(a, xps._array_object.Array), type(a)
    assert a.device == DEVICE
    return to_numpy(a)


@pytest.fixture
def dispatch():
    with sklearn.config_context(array_api_dispatch=True):
        yield


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        240, 6, n_informative=4, n_classes=3, n_clusters_per_class=1, random_state=0
    )
    return X, y


# ----------------------------------------------------------------- the engine


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_each_activation_and_derivative_agrees_with_numpy(name):
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((7, 5)) * 3
    grad = rng.standard_normal((7, 5))
    A = ACTIVATIONS[name](Z.copy())
    A_dev = ACTIVATIONS[name](dev(Z))
    np.testing.assert_allclose(host(A_dev), A, rtol=RTOL, atol=1e-15)
    D = DERIVATIVES[name](A.copy(), grad.copy(), Z.copy())
    D_dev = DERIVATIVES[name](dev(A), dev(grad), dev(Z))
    np.testing.assert_allclose(host(D_dev), D, rtol=RTOL, atol=1e-15)


OUTPUT_OF = {
    "categorical_crossentropy": "softmax",
    "binary_crossentropy": "logistic",
    "poisson": "exp",
    "focal": "softmax",
}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_each_loss_and_its_gradient_agree_with_numpy(loss, weighted):
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((9, 3))
    activation = OUTPUT_OF.get(loss, "tanh")
    Y = (
        np.eye(3)[rng.integers(0, 3, 9)]
        if activation == "softmax"
        else rng.random((9, 3))
    )
    w = rng.random(9) if weighted else None
    value, delta, A = LOSSES[loss](Z.copy(), Y, activation, w)
    value_dev, delta_dev, A_dev = LOSSES[loss](
        dev(Z), dev(Y), activation, None if w is None else dev(w)
    )
    assert value_dev.device == DEVICE  # a 0-d array: no wait for the host
    np.testing.assert_allclose(float(value_dev), value, rtol=RTOL)
    np.testing.assert_allclose(host(delta_dev), delta, rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(host(A_dev), A, rtol=RTOL, atol=1e-15)


def _network(activation="relu", dtype="float64", dropout=None):
    from sknumpy_mlp import Dropout

    model = NeuralNetwork()
    model.add(Layer(6, 12, activation=activation, random_state=0, dtype=dtype))
    if dropout:
        model.add(Dropout(dropout, random_state=5))
    model.add(Layer(12, 3, activation="softmax", random_state=1, dtype=dtype))
    return model


def _assert_same_network(on_device, on_numpy, rtol=RTOL):
    for a, b in zip(on_device.parameters(), on_numpy.parameters(), strict=True):
        np.testing.assert_allclose(host(a), b, rtol=rtol, atol=rtol * 1e-3)
    np.testing.assert_allclose(on_device.history_, on_numpy.history_, rtol=rtol)


HIDDEN = sorted(set(ACTIVATIONS) - {"softmax", "exp"})


@pytest.mark.parametrize("activation", HIDDEN)
def test_the_engine_trains_on_the_device_as_on_numpy(data, activation):
    X, y = data
    options = dict(epochs=3, optimizer="adam", learning_rate=0.01, verbose=False)
    ref = _network(activation, dropout=0.2).fit(X, y, random_state=0, **options)
    model = _network(activation, dropout=0.2).fit(
        dev(X), dev(y), random_state=0, **options
    )
    _assert_same_network(model, ref)
    P = model.predict(dev(X))
    np.testing.assert_allclose(host(P), ref.predict(X), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_steps_on_the_device_as_on_numpy(data, optimizer):
    X, y = data
    options = dict(
        epochs=3,
        optimizer=optimizer,
        momentum=0.9,
        nesterov=True,
        alpha=1e-3,
        learning_rate=0.01,
        verbose=False,
    )
    ref = _network().fit(X, y, random_state=0, **options)
    model = _network().fit(dev(X), dev(y), random_state=0, **options)
    _assert_same_network(model, ref)


def test_a_float32_network_stays_float32_on_the_device(data):
    X, y = data
    ref = _network(dtype="float32").fit(X, y, epochs=2, random_state=0, verbose=False)
    model = _network(dtype="float32").fit(
        dev(X), dev(y), epochs=2, random_state=0, verbose=False
    )
    assert all(p.dtype == xps.float32 for p in model.parameters())
    _assert_same_network(model, ref, rtol=1e-5)


def test_a_network_trained_on_the_device_saves_numpy_arrays(data, tmp_path):
    X, y = data
    model = _network().fit(dev(X), dev(y), epochs=2, random_state=0, verbose=False)
    model.save(tmp_path / "m.npz")
    loaded = NeuralNetwork.load(tmp_path / "m.npz")
    assert all(type(p) is np.ndarray for p in loaded.parameters())
    np.testing.assert_allclose(
        loaded.predict(X), host(model.predict(dev(X))), rtol=1e-12, atol=1e-15
    )


# ------------------------------------------------------------- the estimators


def _pair(cls, X, y, fit_kwargs=None, **params):
    """The estimator fitted on NumPy, and fitted on the device (dispatch on)."""
    fit_kwargs = fit_kwargs or {}
    params.setdefault("random_state", 0)
    ref = cls(**params).fit(X, y, **fit_kwargs)
    device_kwargs = {
        k: (dev(v) if isinstance(v, np.ndarray) else v) for k, v in fit_kwargs.items()
    }
    y_dev = dev(y) if np.asarray(y).dtype.kind in "biuf" else y  # strings: NumPy
    with sklearn.config_context(array_api_dispatch=True):
        est = cls(**params).fit(dev(X), y_dev, **device_kwargs)
    return ref, est


def _assert_same_fit(est, ref, X, rtol=RTOL):
    pairs = zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_, strict=True)
    for a, b in pairs:
        np.testing.assert_allclose(host(a), b, rtol=rtol, atol=rtol * 1e-3)
    np.testing.assert_allclose(est.loss_curve_, ref.loss_curve_, rtol=rtol)
    assert est.n_iter_ == ref.n_iter_
    with sklearn.config_context(array_api_dispatch=True):
        if hasattr(ref, "predict_proba"):
            P = est.predict_proba(dev(X))
            np.testing.assert_allclose(host(P), ref.predict_proba(X), rtol=1e-7)
            L = est.predict_log_proba(dev(X))
            np.testing.assert_allclose(host(L), ref.predict_log_proba(X), rtol=1e-7)
        predicted = est.predict(dev(X))
        if not isinstance(predicted, np.ndarray):  # NumPy's: labels that are strings
            predicted = host(predicted)
        if hasattr(ref, "predict_proba"):  # labels: equal but on near-ties
            assert_same_labels(predicted, ref.predict(X), ref.predict_proba(X))
        else:
            np.testing.assert_allclose(predicted, ref.predict(X), rtol=1e-7)


SOLVERS = ["lbfgs", *sorted(OPTIMIZERS)]


@pytest.mark.parametrize("solver", SOLVERS)
def test_every_solver_fits_on_the_device_as_on_numpy(data, solver):
    X, y = data
    ref, est = _pair(
        MLPScratchClassifier,
        X,
        y,
        hidden_layer_sizes=(10, 7),
        solver=solver,
        max_iter=4,
        learning_rate_init=0.01,
    )
    _assert_same_fit(est, ref, X)
    assert est.coefs_[0].device == DEVICE


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_every_schedule_on_the_device(data, schedule):
    X, y = data
    ref, est = _pair(
        MLPScratchClassifier,
        X,
        y,
        solver="sgd",
        learning_rate=schedule,
        hidden_layer_sizes=(8,),
        max_iter=4,
    )
    _assert_same_fit(est, ref, X)


def test_every_training_option_together_on_the_device(data):
    """Early stopping, dropout, both norms, L2, sample and class weights."""
    X, y = data
    w = np.random.default_rng(0).random(X.shape[0])
    ref, est = _pair(
        MLPScratchClassifier,
        X,
        y,
        fit_kwargs={"sample_weight": w},
        hidden_layer_sizes=(10, 8),
        activation=["gelu", "elu"],
        dropout=[0.1, 0.2],
        early_stopping=True,
        n_iter_no_change=2,
        max_norm=1.5,
        max_grad_norm=0.5,
        alpha=1e-2,
        class_weight="balanced",
        max_iter=8,
    )
    _assert_same_fit(est, ref, X)
    assert est.validation_scores_ == pytest.approx(ref.validation_scores_)


def test_an_own_validation_set_on_the_device(data):
    X, y = data
    ref, est = _pair(
        MLPScratchClassifier,
        X[:160],
        y[:160],
        fit_kwargs={"X_val": X[160:], "y_val": y[160:]},
        hidden_layer_sizes=(8,),
        max_iter=3,
    )
    _assert_same_fit(est, ref, X)
    assert est.validation_scores_ == pytest.approx(ref.validation_scores_)


def test_partial_fit_and_warm_start_continue_on_the_device(data, dispatch):
    X, y = data
    params = dict(hidden_layer_sizes=(8,), random_state=0, max_iter=2)
    ref = MLPScratchClassifier(**params)
    est = MLPScratchClassifier(**params)
    for part in (slice(0, 120), slice(120, None)):
        with sklearn.config_context(array_api_dispatch=False):
            ref.partial_fit(X[part], y[part], classes=[0, 1, 2])
        est.partial_fit(dev(X[part]), dev(y[part]), classes=[0, 1, 2])
    with sklearn.config_context(array_api_dispatch=False):
        ref.set_params(warm_start=True).fit(X, y)
    est.set_params(warm_start=True).fit(dev(X), dev(y))
    _assert_same_fit(est, ref, X)


def test_string_labels_and_multilabel_targets_on_the_device(data, dispatch):
    X, y = data
    names = np.array(["ant", "bee", "cat"])[y]
    ref, est = _pair(MLPScratchClassifier, X, names, max_iter=3)
    with sklearn.config_context(array_api_dispatch=True):
        assert isinstance(est.predict(dev(X)), np.ndarray)  # strings stay NumPy's
    _assert_same_fit(est, ref, X)
    Y = np.stack([y == 0, y == 1, y == 2, y > 0], axis=1).astype(int)
    ref, est = _pair(MLPScratchClassifier, X, Y, max_iter=3)
    _assert_same_fit(est, ref, X)


@pytest.mark.parametrize(
    "loss", ["squared_error", "absolute_error", "huber", "poisson"]
)
def test_the_regressor_on_the_device(loss):
    X, y = make_regression(150, 5, n_targets=2, random_state=0)
    y = np.abs(y) / 50 if loss == "poisson" else y / 100
    ref, est = _pair(
        MLPScratchRegressor, X, y, loss=loss, hidden_layer_sizes=(9,), max_iter=4
    )
    _assert_same_fit(est, ref, X)


def test_the_augmenter_runs_on_the_host_for_device_arrays():
    """NumPy only: each batch makes a documented round trip."""
    from sknumpy_mlp import ImageAugmenter

    rng = np.random.default_rng(0)
    X, y = rng.random((60, 64)), rng.integers(0, 2, 60)
    ref, est = _pair(
        MLPScratchClassifier,
        X,
        y,
        augment=ImageAugmenter(image_shape=(8, 8), max_shift=1),
        max_iter=2,
    )
    _assert_same_fit(est, ref, X)


def test_a_device_model_saves_and_loads_as_numpy(data, tmp_path):
    X, y = data
    ref, est = _pair(MLPScratchClassifier, X, y, solver="adam", max_iter=3)
    est.save(tmp_path / "m.npz")
    loaded = MLPScratchClassifier.load(tmp_path / "m.npz")
    assert all(type(w) is np.ndarray for w in loaded.coefs_)
    with sklearn.config_context(array_api_dispatch=True):
        on_device = host(est.predict_proba(dev(X)))
    np.testing.assert_allclose(loaded.predict_proba(X), on_device, rtol=1e-12)
    # the optimizer state came back too: a warm start continues as the NumPy one
    loaded.set_params(warm_start=True, max_iter=2).fit(X, y)
    ref.set_params(warm_start=True, max_iter=2).fit(X, y)
    np.testing.assert_allclose(loaded.predict_proba(X), ref.predict_proba(X), rtol=1e-7)


def test_move_estimator_to_moves_a_model_both_ways(data, dispatch):
    from sklearn.utils._array_api import move_estimator_to

    X, y = data
    names = np.array(["ant", "bee", "cat"])[y]
    with sklearn.config_context(array_api_dispatch=False):
        ref = MLPScratchClassifier(max_iter=3, random_state=0).fit(X, names)
    moved = move_estimator_to(ref, xps, DEVICE)
    assert moved.coefs_[0].device == DEVICE
    assert moved.classes_ is ref.classes_  # labels stay as they are
    np.testing.assert_allclose(
        host(moved.predict_proba(dev(X))), ref.predict_proba(X), rtol=1e-12
    )
    back = move_estimator_to(moved, np, None)
    assert type(back.coefs_[0]) is np.ndarray
    np.testing.assert_array_equal(back.predict(X), ref.predict(X))
    # a warm start on the device continues the moved optimizer state
    moved.set_params(warm_start=True).fit(dev(X), names)


def test_input_of_another_namespace_than_the_fit_is_refused(data):
    X, y = data
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPScratchClassifier(max_iter=2, random_state=0).fit(dev(X), dev(y))
        with pytest.raises(ValueError, match=r"predict_proba\(\) must use the same"):
            est.predict_proba(X)
    with pytest.raises(ValueError, match="move_estimator_to"):
        est.predict(X)  # without dispatch: X is NumPy, the model is not


# ----------------------------------------------------- nothing leaves the device


class _Transfers:
    """Counts conversions of array-api-strict arrays to Python or NumPy."""

    NAMES = ("__float__", "__bool__", "__int__", "__index__", "__array__")

    def __init__(self, monkeypatch):
        self.count = 0
        for name in self.NAMES:
            original = getattr(xps._array_object.Array, name)

            def counted(self_, *args, _original=original, **kwargs):
                self.count += 1
                return _original(self_, *args, **kwargs)

            monkeypatch.setattr(xps._array_object.Array, name, counted)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_the_batch_loop_never_waits_for_the_host(monkeypatch, solver):
    """The host conversions of a fit do not grow with its number of batches:
    2 batches an epoch and 20 make the same number (the per-epoch checks,
    the validation score and the epoch's loss)."""
    counts = []
    rng = np.random.default_rng(0)
    for n_samples in (200, 2000):
        X = rng.standard_normal((n_samples, 5))
        y = (X[:, 0] > 0).astype(int)
        w = rng.random(n_samples)
        est = MLPScratchClassifier(
            hidden_layer_sizes=(6,),
            solver=solver,
            batch_size=100,
            max_iter=2,
            early_stopping=True,
            validation_fraction=0.1,
            dropout=0.1,
            max_norm=2.0,
            max_grad_norm=1.0,
            alpha=1e-3,
            random_state=0,
        )
        X_dev, y_dev, w_dev = dev(X), dev(y), dev(w)
        transfers = _Transfers(monkeypatch)
        with sklearn.config_context(array_api_dispatch=True):
            est.fit(X_dev, y_dev, sample_weight=w_dev)
        counts.append(transfers.count)
        monkeypatch.undo()
    assert counts[0] == counts[1], counts


# ------------------------------------------------------------ PyTorch (CPU)


def test_pytorch_on_the_cpu_trains_and_predicts_in_torch(data, tmp_path):
    torch = pytest.importorskip("torch")
    X, y = data
    ref = MLPScratchClassifier(max_iter=20, random_state=0, dropout=0.1).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = MLPScratchClassifier(max_iter=20, random_state=0, dropout=0.1)
        est.fit(torch.asarray(X), torch.asarray(y))
        predicted = est.predict(torch.asarray(X))
    assert isinstance(est.coefs_[0], torch.Tensor)
    assert isinstance(predicted, torch.Tensor)
    # its own random stream for shuffling and dropout: close, not equal
    assert abs(float((predicted.numpy() == y).mean()) - ref.score(X, y)) < 0.1
    est.save(tmp_path / "t.npz")
    loaded = MLPScratchClassifier.load(tmp_path / "t.npz")
    with sklearn.config_context(array_api_dispatch=True):
        P = est.predict_proba(torch.asarray(X)).numpy()
    np.testing.assert_allclose(loaded.predict_proba(X), P, rtol=1e-10)
    assert namespace(loaded.coefs_[0]) is np


def test_numpy_needs_no_array_api_compat(monkeypatch, data):
    """NumPy is the default without the extra; other arrays say what to install."""
    import sys

    monkeypatch.setitem(sys.modules, "array_api_compat", None)  # import fails
    X, y = data
    MLPScratchClassifier(max_iter=2, random_state=0).fit(X, y).predict_proba(X)
    _network().fit(X, y, epochs=1, verbose=False).predict(X)
    with pytest.raises(ImportError, match=r"sknumpy-mlp\[array-api\]"):
        _network().fit(dev(X), dev(y), epochs=1, verbose=False)
