"""Finite-difference gradient checks, in float64, through whole networks."""

import numpy as np
import pytest

from sknumpy_mlp import Layer, NeuralNetwork
from sknumpy_mlp.engine.activations import ACTIVATIONS

# exp is an output activation (Poisson regression) whose hidden use compounds
# exponentials; the estimators refuse it there (see test_regressor.py)
HIDDEN = sorted(set(ACTIVATIONS) - {"exp"})
EPS = 1e-6


def _network(hidden_activation, output_activation, n_outputs, seed=0):
    rng = np.random.default_rng(seed)
    net = NeuralNetwork()
    net.add(Layer(5, 7, hidden_activation, random_state=rng, dtype="float64"))
    net.add(Layer(7, 6, hidden_activation, random_state=rng, dtype="float64"))
    net.add(Layer(6, n_outputs, output_activation, random_state=rng, dtype="float64"))
    for p in net.parameters():  # non-zero biases, so they are checked too
        p += rng.normal(scale=0.1, size=p.shape)
    return net


def _targets(loss, n_samples, n_outputs, rng):
    if loss == "categorical_crossentropy":
        return np.eye(n_outputs)[rng.integers(0, n_outputs, n_samples)]
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, (n_samples, n_outputs)).astype(float)
    return rng.normal(size=(n_samples, n_outputs))


def _check_gradients(net, X, Y, loss, alpha=0.0, sample_weight=None):
    def evaluate():
        return net.loss_and_gradients(
            X, Y, loss=loss, alpha=alpha, sample_weight=sample_weight
        )

    value, grads = evaluate()
    assert np.isfinite(value)
    for param, grad in zip(net.parameters(), grads, strict=True):
        assert grad.shape == param.shape and grad.dtype == np.float64
        numeric = np.zeros_like(param)
        for idx in np.ndindex(param.shape):
            saved = param[idx]
            param[idx] = saved + EPS
            plus, _ = evaluate()
            param[idx] = saved - EPS
            minus, _ = evaluate()
            param[idx] = saved
            numeric[idx] = (plus - minus) / (2 * EPS)
        scale = np.linalg.norm(grad) + np.linalg.norm(numeric)
        relative_error = np.linalg.norm(grad - numeric) / scale
        assert relative_error < 1e-6, relative_error


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(
    "output, loss, n_outputs",
    [
        ("softmax", "categorical_crossentropy", 4),
        ("logistic", "binary_crossentropy", 1),
        ("logistic", "binary_crossentropy", 3),
    ],
)
def test_cross_entropy_gradients(hidden, output, loss, n_outputs):
    rng = np.random.default_rng(1)
    net = _network(hidden, output, n_outputs)
    X = rng.normal(size=(9, 5))
    _check_gradients(net, X, _targets(loss, 9, n_outputs, rng), loss)


@pytest.mark.parametrize("output", sorted(ACTIVATIONS))
def test_squared_error_gradients_for_every_output_activation(output):
    rng = np.random.default_rng(2)
    net = _network("tanh", output, 3)
    X = rng.normal(size=(8, 5))
    _check_gradients(net, X, _targets("squared_error", 8, 3, rng), "squared_error")


@pytest.mark.parametrize("alpha", [0.1, 3.0])
def test_l2_penalty_gradients(alpha):
    rng = np.random.default_rng(3)
    net = _network("relu", "softmax", 3)
    X = rng.normal(size=(6, 5))
    Y = _targets("categorical_crossentropy", 6, 3, rng)
    _check_gradients(net, X, Y, "categorical_crossentropy", alpha=alpha)


def test_l2_penalty_value_matches_its_definition():
    rng = np.random.default_rng(4)
    net = _network("relu", "softmax", 3)
    X = rng.normal(size=(6, 5))
    Y = _targets("categorical_crossentropy", 6, 3, rng)
    plain, _ = net.loss_and_gradients(X, Y)
    penalised, _ = net.loss_and_gradients(X, Y, alpha=0.5)
    squares = sum((layer.weights**2).sum() for layer in net.layers)
    np.testing.assert_allclose(penalised - plain, 0.5 * 0.5 / 6 * squares)


def test_softmax_cross_entropy_output_gradient_is_p_minus_y():
    rng = np.random.default_rng(5)
    layer = Layer(4, 3, "softmax", random_state=0, dtype="float64")
    net = NeuralNetwork([layer])
    X = rng.normal(size=(5, 4))
    Y = np.eye(3)[[0, 1, 2, 1, 0]]
    net.loss_and_gradients(X, Y)
    P = net.predict(X)
    np.testing.assert_allclose(layer.grad_biases, (P - Y).sum(axis=0) / 5)
    np.testing.assert_allclose(layer.grad_weights, X.T @ (P - Y) / 5)


@pytest.mark.parametrize(
    "output, loss, n_outputs",
    [
        ("softmax", "categorical_crossentropy", 3),
        ("logistic", "binary_crossentropy", 2),
        ("identity", "squared_error", 2),
    ],
)
def test_sample_weighted_gradients(output, loss, n_outputs):
    rng = np.random.default_rng(6)
    net = _network("gelu", output, n_outputs)
    X = rng.normal(size=(8, 5))
    Y = _targets(loss, 8, n_outputs, rng)
    weights = rng.integers(0, 4, 8).astype(float)
    value, grads = net.loss_and_gradients(
        X, Y, loss=loss, alpha=0.3, sample_weight=weights
    )
    # an integer weight is the same as repeating the row
    rows = np.repeat(np.arange(8), weights.astype(int))
    repeated, repeated_grads = net.loss_and_gradients(
        X[rows], Y[rows], loss=loss, alpha=0.3
    )
    np.testing.assert_allclose(value, repeated)
    for g, r in zip(grads, repeated_grads, strict=True):
        np.testing.assert_allclose(g, r, atol=1e-12)
    _check_gradients(net, X, Y, loss, alpha=0.3, sample_weight=weights)


REGRESSION_LOSSES = [
    ("identity", "squared_error"),
    ("identity", "absolute_error"),
    ("identity", "huber"),
    ("exp", "poisson"),
    ("tanh", "huber"),
]


def _regression_targets(loss, n_samples, n_outputs, rng):
    if loss == "poisson":  # counts, zeros included
        return rng.poisson(1.5, (n_samples, n_outputs)).astype(float)
    # residuals both inside and beyond huber's delta of 1
    return 2 * rng.normal(size=(n_samples, n_outputs))


@pytest.mark.parametrize("output, loss", REGRESSION_LOSSES)
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_loss_gradients_with_several_outputs(output, loss, weighted):
    # several outputs: the loss is summed over them, and its gradient is the
    # gradient of that sum (the n_outputs mismatch of scikit-learn #8349
    # cannot hide here)
    rng = np.random.default_rng(7)
    net = _network("tanh", output, 3)
    X = rng.normal(size=(10, 5))
    Y = _regression_targets(loss, 10, 3, rng)
    weights = rng.integers(0, 4, 10).astype(float) if weighted else None
    _check_gradients(net, X, Y, loss, alpha=0.2, sample_weight=weights)


def test_huber_delta_is_honoured():
    import functools

    from sknumpy_mlp.engine.losses import huber

    rng = np.random.default_rng(8)
    net = _network("relu", "identity", 2)
    X = rng.normal(size=(12, 5))
    Y = 3 * rng.normal(size=(12, 2))
    wide = functools.partial(huber, delta=1e6)  # never linear: half squares
    np.testing.assert_allclose(
        net.loss_and_gradients(X, Y, loss=wide)[0],
        net.loss_and_gradients(X, Y, loss="squared_error")[0],
    )
    _check_gradients(net, X, Y, functools.partial(huber, delta=0.5))


def test_poisson_loss_is_half_the_deviance_of_sklearn():
    from sklearn.metrics import mean_poisson_deviance

    rng = np.random.default_rng(9)
    net = _network("tanh", "exp", 1)
    X = rng.normal(size=(20, 5))
    y = rng.poisson(2.0, 20).astype(float)
    value, _ = net.loss_and_gradients(X, y[:, None], loss="poisson")
    predicted = net.predict(X)[:, 0]
    np.testing.assert_allclose(value, 0.5 * mean_poisson_deviance(y, predicted))


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize(
    "output, n_outputs", [("softmax", 4), ("logistic", 1), ("logistic", 3)]
)
@pytest.mark.parametrize("weighted", [False, True])
def test_focal_loss_gradients(output, n_outputs, gamma, weighted):
    import functools

    from sknumpy_mlp.engine.losses import focal

    rng = np.random.default_rng(8)
    net = _network("tanh", output, n_outputs)
    X = rng.normal(size=(9, 5)) * 2  # confident rows too, where (1 - p) is small
    loss = "categorical_crossentropy" if output == "softmax" else "binary_crossentropy"
    Y = _targets(loss, 9, n_outputs, rng)
    weights = rng.integers(0, 4, 9).astype(float) if weighted else None
    _check_gradients(
        net, X, Y, functools.partial(focal, gamma=gamma), alpha=0.1,
        sample_weight=weights,
    )  # fmt: skip


def test_focal_loss_is_the_cross_entropy_at_gamma_zero_and_smaller_above():
    from sknumpy_mlp.engine.losses import LOSSES, focal

    rng = np.random.default_rng(9)
    Z = rng.normal(size=(20, 5)) * 3
    Y = np.eye(5)[rng.integers(0, 5, 20)]
    ce, ce_delta, _ = LOSSES["categorical_crossentropy"](Z.copy(), Y)
    f0, f0_delta, _ = focal(Z.copy(), Y, gamma=0.0)
    np.testing.assert_allclose(f0, ce, rtol=1e-13)
    np.testing.assert_allclose(f0_delta, ce_delta, atol=1e-15)
    f2, _, _ = focal(Z.copy(), Y, gamma=2.0)
    assert 0 < f2 < ce  # every row's term shrinks by (1 - p)^2 < 1


@pytest.mark.parametrize(
    "output, loss, n_outputs",
    [
        ("softmax", "categorical_crossentropy", 4),
        ("logistic", "binary_crossentropy", 3),
        ("softmax", "focal", 4),
    ],
)
def test_label_smoothing_gradients_and_targets(output, loss, n_outputs):
    from sknumpy_mlp.engine.losses import get_loss, with_label_smoothing

    rng = np.random.default_rng(10)
    net = _network("relu", output, n_outputs)
    X = rng.normal(size=(9, 5))
    Y = _targets(
        "binary_crossentropy" if output == "logistic" else "categorical_crossentropy",
        9, n_outputs, rng,
    )  # fmt: skip
    weights = rng.integers(0, 4, 9).astype(float)
    smoothed = with_label_smoothing(loss, 0.1)
    _check_gradients(net, X, Y, smoothed, alpha=0.1, sample_weight=weights)
    # it is the loss of the smoothed targets: (1 - eps) y + eps / K
    K = n_outputs if output == "softmax" else 2
    Z = rng.normal(size=(9, n_outputs))
    expected = get_loss(loss)(Z.copy(), 0.9 * Y + 0.1 / K, output)[0]
    assert smoothed(Z.copy(), Y, output)[0] == pytest.approx(expected, rel=1e-14)
