"""BatchNorm and LayerNorm in the engine: gradients, statistics, files."""

import numpy as np
import pytest

from sknumpy_mlp import BatchNorm, Layer, LayerNorm, NeuralNetwork

EPS = 1e-6


def _network(norm, n_outputs=3, output="softmax", hidden="tanh", dtype="float64"):
    rng = np.random.default_rng(0)
    net = NeuralNetwork()
    net.add(Layer(5, 7, hidden, random_state=rng, dtype=dtype))
    net.add(norm(7, dtype=dtype))
    net.add(Layer(7, 6, "relu", random_state=rng, dtype=dtype))
    net.add(norm(6, dtype=dtype))
    net.add(Layer(6, n_outputs, output, random_state=rng, dtype=dtype))
    for p in net.parameters():  # away from scale 1, shift 0
        p += rng.normal(scale=0.1, size=p.shape)
    return net


def _numeric_gradients(net, X, Y, loss, sample_weight, alpha):
    def value():
        return net.loss_and_gradients(
            X, Y, loss=loss, alpha=alpha, sample_weight=sample_weight
        )[0]

    numeric = []
    for p in net.parameters():
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            saved = p[idx]
            p[idx] = saved + EPS
            plus = value()
            p[idx] = saved - EPS
            minus = value()
            p[idx] = saved
            g[idx] = (plus - minus) / (2 * EPS)
        numeric.append(g)
    return numeric


@pytest.mark.parametrize("norm", [BatchNorm, LayerNorm])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "output, loss, n_outputs",
    [
        ("softmax", "categorical_crossentropy", 4),
        ("logistic", "binary_crossentropy", 3),
        ("identity", "squared_error", 2),
    ],
)
def test_gradients_through_normalizations(norm, weighted, output, loss, n_outputs):
    rng = np.random.default_rng(1)
    net = _network(norm, n_outputs, output)
    X = rng.normal(size=(9, 5))
    if loss == "categorical_crossentropy":
        Y = np.eye(n_outputs)[rng.integers(0, n_outputs, 9)]
    else:
        Y = rng.integers(0, 2, (9, n_outputs)).astype(float)
    w = rng.integers(0, 4, 9).astype(float) if weighted else None
    _, grads = net.loss_and_gradients(X, Y, loss=loss, alpha=0.1, sample_weight=w)
    numeric = _numeric_gradients(net, X, Y, loss, w, 0.1)
    for g, n in zip(grads, numeric, strict=True):
        # (a bias before a BatchNorm has no effect: both gradients are 0)
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-9)


def test_the_running_averages_are_not_part_of_the_training_gradient():
    rng = np.random.default_rng(2)
    net = _network(BatchNorm)
    X, Y = rng.normal(size=(8, 5)), np.eye(3)[rng.integers(0, 3, 8)]
    value, grads = net.loss_and_gradients(X, Y)
    for layer in net.layers[:2]:
        layer.normalization.running_mean[...] = rng.normal(size=layer.n_outputs)
        layer.normalization.running_var[...] = rng.random(layer.n_outputs) + 5
    again, grads_again = net.loss_and_gradients(X, Y)
    assert again == value
    for a, b in zip(grads, grads_again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_batch_statistics_in_training_running_averages_at_prediction():
    rng = np.random.default_rng(3)
    norm = BatchNorm(4, momentum=0.0, dtype="float64")  # running = last batch's
    Z = rng.normal(loc=3.0, scale=2.0, size=(50, 4))
    out = norm.forward(Z, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1, rtol=1e-4)  # epsilon
    np.testing.assert_allclose(norm.running_mean, Z.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(norm.running_var, Z.var(axis=0), rtol=1e-12)
    np.testing.assert_allclose(norm.forward(Z), out, rtol=1e-12)  # prediction
    # momentum: the running averages move a tenth of the way per batch
    slow = BatchNorm(4, momentum=0.9, dtype="float64")
    slow.forward(Z, training=True)
    np.testing.assert_allclose(slow.running_mean, 0.1 * Z.mean(axis=0), rtol=1e-12)


def test_weighted_batch_statistics_are_those_of_repeated_rows():
    rng = np.random.default_rng(4)
    net = _network(BatchNorm)
    X, Y = rng.normal(size=(8, 5)), np.eye(3)[rng.integers(0, 3, 8)]
    w = rng.integers(0, 4, 8).astype(float)
    value, grads = net.loss_and_gradients(X, Y, sample_weight=w)
    rows = np.repeat(np.arange(8), w.astype(int))
    repeated, repeated_grads = net.loss_and_gradients(X[rows], Y[rows])
    np.testing.assert_allclose(value, repeated, rtol=1e-12)
    for a, b in zip(grads, repeated_grads, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_layer_norm_normalises_each_row_the_same_in_training_and_prediction():
    rng = np.random.default_rng(5)
    norm = LayerNorm(6, dtype="float64")
    Z = rng.normal(loc=-2.0, scale=4.0, size=(10, 6))
    out = norm.forward(Z, training=True)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(norm.forward(Z), out)
    # a row alone is normalised as inside the batch
    np.testing.assert_allclose(norm.forward(Z[3:4]), out[3:4], rtol=1e-14)


def test_a_batch_of_one_row_is_refused_by_batch_norm():
    net = _network(BatchNorm)
    with pytest.raises(ValueError, match="at least 2 samples per batch.*1 sample"):
        net.loss_and_gradients(np.ones((1, 5)), np.eye(3)[[0]])
    net.predict(np.ones((1, 5)))  # prediction of one row is fine


def test_scale_and_shift_get_no_l2_penalty():
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(8, 5)), np.eye(3)[rng.integers(0, 3, 8)]
    net = _network(BatchNorm)
    _, plain = net.loss_and_gradients(X, Y)
    _, penalised = net.loss_and_gradients(X, Y, alpha=5.0)
    for i, (a, b) in enumerate(zip(plain, penalised, strict=True)):
        is_weight = a.ndim == 2
        assert np.allclose(a, b) != is_weight, i
    # packed too: the scales and shifts sit with the biases, after the weights
    net.pack()
    _, packed = net.loss_and_gradients(X, Y, alpha=5.0)
    for a, b in zip(packed, penalised, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-14)


@pytest.mark.parametrize("norm", [BatchNorm, LayerNorm])
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop"])
def test_a_normalised_network_trains(norm, optimizer):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 5))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    net = _network(norm, 2, hidden="relu")
    net.fit(X, y, epochs=15, learning_rate=0.05, optimizer=optimizer,
            momentum=0.9, random_state=0, verbose=False)  # fmt: skip
    assert net.history_[-1] < 0.75 * net.history_[0]
    assert (net.predict(X).argmax(axis=1) == y).mean() > 0.85


@pytest.mark.parametrize("norm", [BatchNorm, LayerNorm])
def test_saved_and_loaded_with_running_statistics(norm, tmp_path):
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(200, 5)), rng.integers(0, 3, 200)
    net = _network(norm).fit(X, y, epochs=2, random_state=0, verbose=False)
    net.save(tmp_path / "n.npz")
    loaded = NeuralNetwork.load(tmp_path / "n.npz")
    assert type(loaded.layers[0].normalization) is norm
    if norm is BatchNorm:
        np.testing.assert_array_equal(
            loaded.layers[1].normalization.running_var,
            net.layers[1].normalization.running_var,
        )
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


def test_a_file_with_negative_running_variances_is_refused(tmp_path):
    import zipfile

    net = _network(BatchNorm)
    net.layers[0].normalization.running_var[0] = -1.0
    net.save(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="negative variances"):
        NeuralNetwork.load(tmp_path / "bad.npz")
    assert zipfile.is_zipfile(tmp_path / "bad.npz")


def test_a_normalization_must_fit_the_layer_it_follows():
    net = NeuralNetwork([Layer(4, 3, random_state=0)])
    with pytest.raises(ValueError, match="cannot follow a layer of 3"):
        net.add(BatchNorm(5))
    with pytest.raises(ValueError, match="Add a Layer before"):
        NeuralNetwork().add(LayerNorm(3))
    output = NeuralNetwork([Layer(4, 3, "softmax", random_state=0)])
    output.add(BatchNorm(3))
    with pytest.raises(ValueError, match="output layer is not supported"):
        output.loss_and_gradients(np.ones((4, 4)), np.eye(3)[[0, 1, 2, 0]])


# ------------------------------------------------------------- the estimators

from sklearn.datasets import make_classification  # noqa: E402

from sknumpy_mlp import MLPScratchClassifier, MLPScratchRegressor  # noqa: E402

estimators = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@estimators
@pytest.mark.parametrize("normalization", ["batch", "layer"])
def test_a_warm_start_continues_the_running_statistics_exactly(normalization):
    X, y = make_classification(500, 8, n_informative=5, n_classes=3, random_state=0)
    params = dict(
        hidden_layer_sizes=(12, 8), normalization=normalization, random_state=0,
        n_iter_no_change=100, dtype="float64",
    )  # fmt: skip
    once = MLPScratchClassifier(max_iter=5, **params).fit(X, y)
    twice = MLPScratchClassifier(max_iter=2, **params).fit(X, y)
    twice.set_params(warm_start=True, max_iter=3).fit(X, y)
    for a, b in zip(once.normalizations_, twice.normalizations_, strict=True):
        for name in a._arrays():
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(once.predict_proba(X), twice.predict_proba(X))


@estimators
def test_partial_fit_moves_the_running_statistics_and_saves_them(tmp_path):
    X, y = make_classification(400, 8, n_informative=5, random_state=0)
    clf = MLPScratchClassifier(normalization="batch", random_state=0)
    clf.partial_fit(X[:200], y[:200], classes=[0, 1])
    before = clf.normalizations_[0].running_mean.copy()
    clf.partial_fit(X[200:] + 3.0, y[200:])  # shifted inputs: the averages follow
    assert not np.allclose(clf.normalizations_[0].running_mean, before)
    clf.save(tmp_path / "m.npz")
    loaded = MLPScratchClassifier.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    loaded.partial_fit(X[:200], y[:200])  # and the fit goes on from the file
    clf.partial_fit(X[:200], y[:200])
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_lbfgs_refuses_batch_normalization_and_takes_layer_normalization():
    X, y = make_classification(100, 5, random_state=0)
    with pytest.raises(ValueError, match="normalization='batch' needs a stochastic"):
        MLPScratchClassifier(solver="lbfgs", normalization="batch").fit(X, y)
    reg = MLPScratchRegressor(solver="lbfgs", normalization="layer", max_iter=500)
    assert reg.fit(X, X[:, 0]).score(X, X[:, 0]) > 0.9


@estimators
def test_bad_normalizations_are_refused():
    X, y = make_classification(101, 5, random_state=0)
    with pytest.raises(ValueError, match="normalization has 1 entries"):
        MLPScratchClassifier(normalization=["batch"]).fit(X, y)
    with pytest.raises(ValueError, match="Unknown normalization 'group'"):
        MLPScratchClassifier(normalization=["group", None]).fit(X, y)
    with pytest.raises(ValueError, match="1 sample"):  # the last batch: 1 row
        MLPScratchClassifier(normalization="batch", batch_size=50).fit(X, y)
    fitted = MLPScratchClassifier(normalization="batch", max_iter=2).fit(
        X[:100], y[:100]
    )
    with pytest.raises(ValueError, match="warm_start cannot change normalization"):
        fitted.set_params(warm_start=True, normalization="layer").fit(X[:100], y[:100])


def test_a_file_whose_normalizations_differ_from_its_parameters_is_refused(tmp_path):
    import json
    import zipfile

    X, y = make_classification(100, 5, random_state=0)
    with pytest.warns(Warning):
        MLPScratchClassifier(max_iter=2, random_state=0).fit(X, y).save(
            tmp_path / "m.npz"
        )
    with zipfile.ZipFile(tmp_path / "m.npz") as z:
        members = {name: z.read(name) for name in z.namelist()}
    meta = json.loads(np.load(tmp_path / "m.npz")["metadata"].tobytes())
    meta["params"]["normalization"] = "batch"  # the layers have none
    text = json.dumps(meta).encode()
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(text, dtype=np.uint8))
    members["metadata.npy"] = buffer.getvalue()
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(ValueError, match="normalizations do not match"):
        MLPScratchClassifier.load(tmp_path / "bad.npz")
