import numpy as np
import pytest
import scipy.sparse as sp

from sknumpy_mlp import Layer, NeuralNetwork
from sknumpy_mlp.engine import network as network_module
from sknumpy_mlp.engine.activations import ACTIVATIONS

from .conftest import assert_agree_to_rounding


def _original_network(seed=0):
    rng = np.random.default_rng(seed)
    model = NeuralNetwork()
    model.add(Layer(784, 128, activation="relu", random_state=rng))
    model.add(Layer(128, 64, activation="relu", random_state=rng))
    model.add(Layer(64, 10, activation="softmax", random_state=rng))
    return model


def test_original_readme_snippet(tmp_path, rng):
    model = NeuralNetwork()
    model.add(Layer(784, 128, activation="relu"))
    model.add(Layer(128, 64, activation="relu"))
    model.add(Layer(64, 10, activation="softmax"))
    input_data = rng.random((5, 784))
    prediction = model.predict(input_data)
    assert prediction.shape == (5, 10)
    np.testing.assert_allclose(prediction.sum(axis=1), 1.0, rtol=1e-5)
    model.save(tmp_path / "my_model.npz")
    loaded_model = NeuralNetwork.load(tmp_path / "my_model.npz")
    assert np.array_equal(loaded_model.predict(input_data), prediction)


def test_adding_a_layer_that_does_not_fit_names_both_sizes():
    model = NeuralNetwork()
    model.add(Layer(784, 128))
    with pytest.raises(ValueError, match=r"64 inputs after a layer with 128 outputs"):
        model.add(Layer(64, 10))
    assert len(model.layers) == 1


def test_add_and_pop_change_the_architecture():
    model = _original_network()
    model.pop()
    model.add(Layer(64, 32))
    model.add(Layer(32, 10, activation="softmax"))
    assert [layer.n_outputs for layer in model.layers] == [128, 64, 32, 10]
    assert model.predict(np.zeros((1, 784))).shape == (1, 10)


def test_a_seed_reproduces_a_model_exactly():
    a, b = _original_network(seed=7), _original_network(seed=7)
    c = _original_network(seed=8)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert np.array_equal(pa, pb)
    assert not np.array_equal(a.layers[0].weights, c.layers[0].weights)


def test_initialisation_scale_he_for_relu_glorot_otherwise():
    he = Layer(2000, 300, "relu", random_state=0).weights
    glorot = Layer(2000, 300, "tanh", random_state=0).weights
    np.testing.assert_allclose(he.std(), np.sqrt(2 / 2000), rtol=0.02)
    bound = np.sqrt(6 / 2300)
    assert np.abs(glorot).max() <= bound
    np.testing.assert_allclose(glorot.std(), bound / np.sqrt(3), rtol=0.02)
    assert he.dtype == np.float32 and glorot.dtype == np.float32


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_end_to_end(dtype, rng):
    model = NeuralNetwork(
        [
            Layer(4, 5, "tanh", random_state=0, dtype=dtype),
            Layer(5, 3, "softmax", random_state=1, dtype=dtype),
        ]
    )
    X = rng.random((20, 4))  # float64 input
    Y = rng.integers(0, 3, 20)
    assert model.predict(X).dtype == dtype
    model.fit(X, Y, epochs=2, batch_size=7, verbose=False)
    for p in model.parameters():
        assert p.dtype == dtype
    _, grads = model.loss_and_gradients(
        model.check_input(X), model.check_targets(Y, 20)
    )
    assert all(g.dtype == dtype for g in grads)


def test_fit_prints_the_original_cost_lines_and_learns(capsys, multiclass_data):
    X, y = multiclass_data
    model = NeuralNetwork(
        [Layer(8, 16, "relu", random_state=0), Layer(16, 3, "softmax", random_state=1)]
    )
    before = np.mean(model.predict(X).argmax(axis=1) == y)
    model.fit(X, y, epochs=30, learning_rate=0.1, batch_size=20, random_state=0)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 30
    assert lines[0].startswith("Average Cost for epoch 1: ")
    assert lines[-1].startswith("Average Cost for epoch 30: ")
    costs = [float(line.rsplit(": ", 1)[1]) for line in lines]
    assert costs[-1] < 0.5 * costs[0]
    assert np.mean(model.predict(X).argmax(axis=1) == y) > max(0.8, before + 0.3)
    assert len(model.history_) == 30


def test_fit_accepts_one_hot_targets_like_the_original(multiclass_data):
    X, y = multiclass_data
    a = NeuralNetwork([Layer(8, 3, "softmax", random_state=0)])
    b = NeuralNetwork([Layer(8, 3, "softmax", random_state=0)])
    a.fit(X, y, epochs=3, random_state=0, verbose=False)
    b.fit(X, np.eye(3)[y], epochs=3, random_state=0, verbose=False)
    assert np.array_equal(a.layers[0].weights, b.layers[0].weights)


def test_batch_gradient_is_the_mean_of_per_sample_gradients(rng):
    net = NeuralNetwork(
        [
            Layer(3, 4, "tanh", random_state=0, dtype="float64"),
            Layer(4, 2, "softmax", random_state=1, dtype="float64"),
        ]
    )
    X = rng.normal(size=(6, 3))
    Y = np.eye(2)[[0, 1, 1, 0, 1, 0]]
    loss, grads = net.loss_and_gradients(X, Y)
    parts = [net.loss_and_gradients(X[i : i + 1], Y[i : i + 1]) for i in range(6)]
    np.testing.assert_allclose(loss, np.mean([p[0] for p in parts]))
    for k, g in enumerate(grads):
        np.testing.assert_allclose(g, np.mean([p[1][k] for p in parts], axis=0))


@pytest.mark.parametrize(
    "optimizer, options",
    [
        ("sgd", {}),
        ("sgd", {"momentum": 0.9}),
        ("sgd", {"momentum": 0.9, "nesterov": True}),
        ("adam", {}),
    ],
)
def test_every_optimizer_reduces_the_loss(optimizer, options, multiclass_data):
    X, y = multiclass_data
    model = NeuralNetwork(
        [Layer(8, 16, "relu", random_state=0), Layer(16, 3, "softmax", random_state=1)]
    )
    model.fit(
        X,
        y,
        epochs=15,
        learning_rate=0.01,
        batch_size=30,
        optimizer=optimizer,
        random_state=0,
        verbose=False,
        **options,
    )
    assert model.history_[-1] < 0.7 * model.history_[0]


def test_shuffling_is_seeded_and_changes_batches(multiclass_data):
    X, y = multiclass_data

    def trained(**kwargs):
        model = NeuralNetwork([Layer(8, 3, "softmax", random_state=0)])
        return model.fit(X, y, epochs=2, batch_size=32, verbose=False, **kwargs)

    same = trained(random_state=3), trained(random_state=3)
    other = trained(random_state=4)
    unshuffled = trained(shuffle=False)
    assert np.array_equal(same[0].layers[0].weights, same[1].layers[0].weights)
    assert not np.array_equal(same[0].layers[0].weights, other.layers[0].weights)
    assert not np.array_equal(same[0].layers[0].weights, unshuffled.layers[0].weights)


def test_sparse_input_gives_the_dense_result(multiclass_data):
    X, y = multiclass_data
    X = np.where(np.abs(X) < 1, 0, X)
    dense = NeuralNetwork(
        [
            Layer(8, 5, random_state=0, dtype="float64"),
            Layer(5, 3, "softmax", random_state=1, dtype="float64"),
        ]
    )
    sparse = NeuralNetwork(
        [
            Layer(8, 5, random_state=0, dtype="float64"),
            Layer(5, 3, "softmax", random_state=1, dtype="float64"),
        ]
    )
    dense.fit(X, y, epochs=2, random_state=0, verbose=False)
    sparse.fit(sp.csr_matrix(X), y, epochs=2, random_state=0, verbose=False)
    for a, b in zip(dense.parameters(), sparse.parameters(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros(784), "reshape\\(1, -1\\)"),
        (np.zeros((2, 28, 28)), "Flatten"),
        (np.zeros((0, 784)), "0 samples"),
        (np.zeros((2, 783)), "X has 783 features, but the network expects 784"),
        (np.full((2, 784), np.nan), "NaN or infinity"),
        (np.array([["a"] * 784]), "must be numeric"),
    ],
)
def test_predict_rejects_bad_input(X, message):
    with pytest.raises(ValueError, match=message):
        _original_network().predict(X)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"batch_size": 1.5}, "batch_size must be a positive integer"),
        ({"learning_rate": -1.0}, "learning_rate must be a positive number"),
        ({"optimizer": "lion"}, "Unknown optimizer 'lion'"),
    ],
)
def test_fit_rejects_bad_arguments(kwargs, message, multiclass_data):
    X, y = multiclass_data
    model = NeuralNetwork([Layer(8, 3, "softmax", random_state=0)])
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, verbose=False, **kwargs)


@pytest.mark.parametrize(
    "Y, message",
    [
        (np.arange(300) % 4, "class indices in \\[0, 2\\]"),
        (np.zeros((300, 4)), "must have shape \\(300, 3\\)"),
        (np.zeros(299), "Y has 299"),
    ],
)
def test_fit_rejects_bad_targets(Y, message, multiclass_data):
    X, _ = multiclass_data
    model = NeuralNetwork([Layer(8, 3, "softmax", random_state=0)])
    with pytest.raises(ValueError, match=message):
        model.fit(X, Y, verbose=False)


@pytest.mark.parametrize(
    "args, message",
    [
        ((0, 3), "n_inputs must be a positive integer"),
        ((3, -1), "n_outputs must be a positive integer"),
        ((3.0, 2), "n_inputs must be a positive integer"),
        ((3, 2, "swish"), "Unknown activation 'swish'"),
    ],
)
def test_layer_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        Layer(*args)


def test_loss_must_fit_the_output_layer(multiclass_data):
    X, y = multiclass_data
    model = NeuralNetwork(
        [Layer(8, 3, "relu", random_state=0)], loss="categorical_crossentropy"
    )
    with pytest.raises(ValueError, match="needs a 'softmax' output layer"):
        model.fit(X, y, verbose=False)


def test_divergence_raises_an_error_naming_the_learning_rate(multiclass_data):
    X, y = multiclass_data
    model = NeuralNetwork(
        [Layer(8, 64, "relu", random_state=0), Layer(64, 3, "identity", random_state=1)]
    )
    with pytest.raises(FloatingPointError, match="learning_rate"):
        with np.errstate(all="ignore"):
            model.fit(X * 1e3, np.eye(3)[y], learning_rate=1e3, verbose=False)


@pytest.mark.parametrize("n_rows", [0, 1, 15, 16, 17, 40])
def test_logits_of_any_number_of_rows_match_the_layers_one_by_one(n_rows):
    # no rows at all give no rows
    rng = np.random.default_rng(n_rows)
    model = NeuralNetwork()
    model.add(Layer(5, 7, activation="tanh", random_state=0, dtype="float64"))
    model.add(Layer(7, 3, activation="softmax", random_state=1, dtype="float64"))
    X = rng.standard_normal((n_rows, 5))
    expected = np.tanh(X @ model.layers[0].weights + model.layers[0].biases)
    expected = expected @ model.layers[1].weights + model.layers[1].biases
    Z = model.logits(X)
    assert Z.shape == (n_rows, 3)
    np.testing.assert_allclose(Z, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "hidden", [("relu", "relu"), ("identity", "tanh"), ("relu", "leaky_relu")]
)
@pytest.mark.parametrize("normalized", [False, True])
def test_a_bias_taken_late_gives_the_logits_of_the_layers_one_by_one(
    hidden, normalized, rng
):
    # ReLU and identity layers pass their biases on to the next product (see
    # NeuralNetwork.logits); biases of +-3 make many units inactive for good
    # and others always active, where carrying them matters most
    from sknumpy_mlp.engine.normalization import BatchNorm

    sizes = [6, 9, 8, 4]
    layers = [
        Layer(a, b, activation=f, random_state=i, dtype="float64")
        for i, (a, b, f) in enumerate(
            zip(sizes[:-1], sizes[1:], [*hidden, "softmax"], strict=True)
        )
    ]
    for layer in layers:
        layer.biases[...] = rng.choice([-3.0, 3.0], size=layer.biases.shape)
    if normalized:
        norm = BatchNorm(9, dtype="float64")
        norm.running_mean[...] = rng.normal(size=9)
        norm.running_var[...] = rng.uniform(0.5, 2, size=9)
        layers[0].normalization = norm
    model = NeuralNetwork(layers)
    X = rng.standard_normal((30, 6))
    seen = []
    Z = model.logits(X, check_first=lambda Z: seen.append(Z.copy()))
    np.testing.assert_allclose(seen[0], X @ layers[0].weights, rtol=1e-15)
    expected = X
    for layer in layers[:-1]:
        expected = expected @ layer.weights + layer.biases
        if layer.normalization is not None:
            expected = layer.normalization.forward(expected)
        expected = ACTIVATIONS[layer.activation](expected)
    expected = expected @ layers[-1].weights + layers[-1].biases
    np.testing.assert_allclose(Z, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_large_inputs_run_in_chunks_of_bounded_memory(monkeypatch, sparse):
    # 1 MiB chunks (1024 rows of 256 float32 activations): 5000 rows run in
    # five chunks, the last one short; each row is what it is alone (to
    # rounding), and no activation array for all rows is ever allocated
    import tracemalloc

    monkeypatch.setattr(network_module, "_CHUNK_BYTES", 2**20)
    rng = np.random.default_rng(0)
    model = NeuralNetwork()
    model.add(Layer(50, 256, activation="relu", random_state=0))
    model.add(Layer(256, 256, activation="relu", random_state=1))
    model.add(Layer(256, 10, activation="softmax", random_state=2))
    X = rng.standard_normal((5000, 50)).astype(np.float32)
    if sparse:
        X[rng.random(X.shape) < 0.7] = 0
        X = sp.csr_matrix(X)
    tracemalloc.start()
    try:
        P = model.predict(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # unchunked, one (5000, 256) float32 activation alone would be 4.9 MiB
    assert peak < 4 * 2**20
    for i in [0, 1023, 1024, 1025, 4095, 4096, 4999]:
        assert_agree_to_rounding(model.predict(X[i : i + 1]), P[i : i + 1], np.float32)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-5)
