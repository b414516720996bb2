"""The benchmark scripts measure the work they claim to (no timing here)."""

import numpy as np

from sknumpy_mlp import Layer, NeuralNetwork

from .conftest import load_example


def test_the_bare_numpy_loop_trains_exactly_like_the_engine():
    # numpy_floor.py's hand-written epoch is the floor under the engine's
    # speed only if it does the same work: same shuffle, loss, L2 term and
    # Nesterov step. One epoch from the same weights must give the same model.
    floor = load_example("numpy_floor", folder="benchmarks")
    rng = np.random.default_rng(0)
    X = rng.random((1000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 1000)
    model = NeuralNetwork()
    for n_in, n_out, activation in ((784, 64, "relu"), (64, 32, "relu")):
        model.add(Layer(n_in, n_out, activation=activation, random_state=n_in))
    model.add(Layer(32, 10, activation="softmax", random_state=1))
    size = sum(p.size for p in model.parameters())
    params = np.zeros(size, np.float32)
    weights, biases, _, _ = floor.params_views(params, params)
    for layer, W, b in zip(model.layers, weights, biases, strict=True):
        W[...] = layer.weights
        b[...] = layer.biases
    grads, velocity = np.zeros_like(params), np.zeros_like(params)
    start = params.copy()
    alpha = 0.5  # large enough for the L2 term to show after 10 steps

    loss = floor.nesterov_epoch(
        X,
        np.eye(10, dtype=np.float32)[y],
        params,
        grads,
        velocity,
        np.random.default_rng(7),
        alpha=alpha,
    )
    model.fit(
        X,
        y,
        epochs=1,
        learning_rate=0.01,
        batch_size=100,
        optimizer="sgd",
        momentum=0.9,
        nesterov=True,
        alpha=alpha,
        random_state=np.random.default_rng(7),
        verbose=False,
    )

    assert np.abs(params - start).max() > 1e-3  # it did train
    for layer, W, b in zip(model.layers, weights, biases, strict=True):
        np.testing.assert_allclose(W, layer.weights, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(b, layer.biases, rtol=1e-4, atol=1e-6)
    penalty = 0.5 * alpha / 100 * sum(float(np.vdot(W, W)) for W in weights)
    assert abs(loss - (model.history_[0] - penalty)) < 5e-3


def test_the_comparison_benchmark_measures_both_libraries(tmp_path):
    # bench_vs_sklearn.py's worker, in its own subprocess as the script runs
    # it, on a small stand-in for the MNIST cache
    bench = load_example("bench_vs_sklearn", folder="benchmarks")
    rng = np.random.default_rng(0)
    for name, rows in (("train", 600), ("test", 200)):
        y = rng.integers(0, 2, rows)
        X = rng.random((rows, 784))
        X[y == 1, :100] += 1.0  # an easy rule, learnt in two epochs
        np.save(tmp_path / f"X_{name}_float32.npy", X.astype(np.float32))
        np.save(tmp_path / f"y_{name}.npy", y)
    for library in ("ours", "sklearn"):
        result = bench._run(library, "seed-SGD", "float32", 2, 0, str(tmp_path))
        assert result["n_iter"] == 2
        assert 0.9 < result["accuracy"] <= 1.0
        assert result["epoch_seconds"] > 0 and result["fit_peak_mb"] >= 0
        assert result["predict_1_us"] > 0 and result["predict_10k_ms"] > 0
        assert ("chain_10k_ms" in result) == (library == "ours")


def test_the_prediction_floor_is_the_networks_product_chain():
    # bench_vs_sklearn.py's floor column is the logits' own work less the
    # biases: with zero biases the two agree
    bench = load_example("bench_vs_sklearn", folder="benchmarks")
    model = NeuralNetwork()
    model.add(Layer(6, 5, activation="relu", random_state=0, dtype="float64"))
    model.add(Layer(5, 4, activation="relu", random_state=1, dtype="float64"))
    model.add(Layer(4, 3, activation="softmax", random_state=2, dtype="float64"))
    X = np.random.default_rng(0).standard_normal((50, 6))
    weights = [layer.weights for layer in model.layers]
    np.testing.assert_allclose(
        bench._product_chain(X, weights), model.logits(X), rtol=1e-12, atol=1e-12
    )


def test_the_regression_row_compares_the_regressors(tmp_path):
    bench = load_example("bench_vs_sklearn", folder="benchmarks")
    for library in ("ours", "sklearn"):
        result = bench._run(library, "reg-Adam", "float32", 2, 0, str(tmp_path))
        assert result["n_iter"] == 2
        assert 0.5 < result["accuracy"] <= 1.0  # the test R² of make_friedman1
        assert ("chain_10k_ms" in result) == (library == "ours")


def test_the_gpu_benchmark_runs_on_array_api_strict(capsys):
    """bench_gpu.py, every run of it, on array-api-strict's simulated device
    (the CPU stands in for a GPU: this checks the script, not a speed)."""
    import pytest

    pytest.importorskip("array_api_strict")
    from .conftest import MNIST_DIR

    bench = load_example("bench_gpu", folder="benchmarks")
    bench.main(["--library", "array_api_strict", "--quick", "--data", str(MNIST_DIR)])
    out = capsys.readouterr().out
    rows = {
        line.split()[0] + " " + line.split()[1]: line.split()
        for line in out.splitlines()[3:]
        if line.strip()
    }
    assert {"seed b100", "seed b1000", "wide b100"} <= set(rows)
    assert any(line.startswith("record") for line in out.splitlines())
    for name in ("seed b100", "seed b1000", "wide b100"):
        accuracy = float(rows[name][3])
        # 2000 rows, 2 epochs (4 steps at batch 1000): above chance, 10 %
        assert 20 < accuracy <= 100, out
    assert len(rows["wide b100"]) == 8  # with scikit-learn's time and ratio
