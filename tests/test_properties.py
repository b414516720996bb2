"""Property-based tests (Hypothesis): random architectures, activations, dtypes,
shapes and data."""

from datetime import timedelta

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sknumpy_mlp import Layer, MLPScratchClassifier, NeuralNetwork
from sknumpy_mlp.engine.activations import ACTIVATIONS, OUTPUT_ONLY

from .conftest import assert_agree_to_rounding

HIDDEN = sorted(set(ACTIVATIONS) - OUTPUT_ONLY)
# derandomize: the same examples on every run, so CI cannot fail by chance; to
# explore new ones, run with --hypothesis-seed or raise max_examples locally.
# A failure must fail fast: bounded examples, a deadline for each, and no
# shrinking (which can take many minutes on large examples; the failing
# example is reported as found, and derandomize makes it reproducible).
SETTINGS = settings(
    derandomize=True,
    max_examples=25,
    deadline=timedelta(seconds=5),
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

architectures = st.fixed_dictionaries(
    {
        "widths": st.lists(st.integers(1, 6), min_size=0, max_size=3),
        "activations": st.lists(st.sampled_from(HIDDEN), min_size=3, max_size=3),
        "n_features": st.integers(1, 5),
        "n_samples": st.integers(1, 6),
        "output": st.sampled_from(
            [
                ("softmax", "categorical_crossentropy", 3),
                ("logistic", "binary_crossentropy", 2),
                ("identity", "squared_error", 2),
                ("tanh", "squared_error", 1),
            ]
        ),
        "seed": st.integers(0, 2**16),
        "alpha": st.sampled_from([0.0, 0.5]),
    }
)


@SETTINGS
@given(architectures)
def test_gradient_check_passes_for_random_networks(arch):
    rng = np.random.default_rng(arch["seed"])
    activation, loss, n_outputs = arch["output"]
    sizes = [arch["n_features"], *arch["widths"], n_outputs]
    acts = [*arch["activations"][: len(arch["widths"])], activation]
    net = NeuralNetwork(
        [
            Layer(a, b, act, random_state=rng, dtype="float64")
            for a, b, act in zip(sizes[:-1], sizes[1:], acts, strict=True)
        ]
    )
    for p in net.parameters():
        p += rng.normal(scale=0.3, size=p.shape)
    X = rng.normal(size=(arch["n_samples"], arch["n_features"]))
    if loss == "categorical_crossentropy":
        Y = np.eye(n_outputs)[rng.integers(0, n_outputs, len(X))]
    elif loss == "binary_crossentropy":
        Y = rng.integers(0, 2, (len(X), n_outputs)).astype(float)
    else:
        Y = rng.normal(size=(len(X), n_outputs))

    def value():
        return net.loss_and_gradients(X, Y, loss=loss, alpha=arch["alpha"])[0]

    _, grads = net.loss_and_gradients(X, Y, loss=loss, alpha=arch["alpha"])
    grads = [g.copy() for g in grads]
    eps = 1e-6
    for param, grad in zip(net.parameters(), grads, strict=True):
        numeric = np.zeros_like(param)
        for idx in np.ndindex(param.shape):
            saved = param[idx]
            param[idx] = saved + eps
            plus = value()
            param[idx] = saved - eps
            minus = value()
            param[idx] = saved
            numeric[idx] = (plus - minus) / (2 * eps)
        # relative error below 1e-6, unless the gradient is so small (dead or
        # saturated units) that finite differences resolve it only to ~1e-10
        scale = np.linalg.norm(grad) + np.linalg.norm(numeric)
        error = np.linalg.norm(grad - numeric)
        assert error < 1e-6 * scale or np.abs(grad - numeric).max() < 1e-9


data = st.fixed_dictionaries(
    {
        "n_samples": st.integers(4, 40),
        "n_features": st.integers(1, 6),
        "n_classes": st.integers(2, 4),
        "hidden": st.lists(st.integers(1, 8), min_size=0, max_size=2),
        "activation": st.sampled_from(HIDDEN),
        "dtype": st.sampled_from(["float32", "float64"]),
        "solver": st.sampled_from(["adam", "sgd", "rmsprop", "adamw", "lbfgs"]),
        "scale": st.sampled_from([1e-3, 1.0, 1e3]),
        "seed": st.integers(0, 2**16),
    }
)


def _fit(params):
    rng = np.random.default_rng(params["seed"])
    X = rng.normal(
        scale=params["scale"], size=(params["n_samples"], params["n_features"])
    )
    y = np.arange(params["n_samples"]) % params["n_classes"]
    clf = MLPScratchClassifier(
        hidden_layer_sizes=params["hidden"],
        activation=params["activation"],
        solver=params["solver"],
        dtype=params["dtype"],
        max_iter=5,
        random_state=params["seed"],
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 5 epochs never converge
        clf.fit(X, y)
    return clf, X.astype(params["dtype"])


@SETTINGS
@given(data)
def test_probabilities_are_finite_in_unit_interval_and_sum_to_one(params):
    clf, X = _fit(params)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), params["n_classes"])
    assert np.isfinite(proba).all()
    assert (proba >= 0).all() and (proba <= 1).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


@SETTINGS
@given(params=data)
def test_save_and_load_round_trip_bitwise(params, tmp_path_factory):
    clf, X = _fit(params)
    path = tmp_path_factory.mktemp("prop") / "model.npz"
    clf.save(path)
    loaded = MLPScratchClassifier.load(path)
    assert loaded.predict_proba(X).tobytes() == clf.predict_proba(X).tobytes()
    assert loaded.get_params() == clf.get_params()


@SETTINGS
@given(data, st.data())
def test_a_rows_prediction_does_not_depend_on_the_other_rows(params, draw):
    """To rounding: order, subsets and single rows (see NeuralNetwork.logits)."""
    clf, X = _fit(params)
    Z, proba = clf.decision_function(X), clf.predict_proba(X)
    dtype = clf.coefs_[0].dtype
    # a probability moves at most as much as the logits do
    scale = max(1.0, float(np.abs(Z).max()))

    def check(rows):
        assert_agree_to_rounding(clf.decision_function(X[rows]), Z[rows], dtype)
        assert_agree_to_rounding(
            clf.predict_proba(X[rows]), proba[rows], dtype, scale=scale
        )

    check(list(draw.draw(st.permutations(range(len(X))))))
    check(draw.draw(st.lists(st.integers(0, len(X) - 1), min_size=1)))
    i = draw.draw(st.integers(0, len(X) - 1))
    check(slice(i, i + 1))


@SETTINGS
@given(
    st.fixed_dictionaries(
        {
            "sizes": st.lists(st.integers(1, 300), min_size=2, max_size=4),
            "n_samples": st.integers(1, 3000),
            "dtype": st.sampled_from(["float32", "float64"]),
            "sparse": st.booleans(),
            "seed": st.integers(0, 2**16),
        }
    ),
    st.data(),
)
def test_rows_are_independent_at_realistic_sizes(params, draw):
    """Sizes where BLAS picks other kernels for other numbers of rows."""
    import scipy.sparse as sp

    rng = np.random.default_rng(params["seed"])
    sizes, dtype = params["sizes"], params["dtype"]
    acts = ["relu"] * (len(sizes) - 2) + ["softmax"]
    net = NeuralNetwork(
        [
            Layer(a, b, act, random_state=rng, dtype=dtype)
            for a, b, act in zip(sizes[:-1], sizes[1:], acts, strict=True)
        ]
    )
    X = rng.normal(size=(params["n_samples"], sizes[0])).astype(dtype)
    if params["sparse"]:
        X[rng.random(X.shape) < 0.7] = 0
        X = sp.csr_matrix(X)
    full = net.logits(X)
    scale = max(1.0, float(np.abs(full).max()))
    rows = rng.permutation(X.shape[0])[: draw.draw(st.integers(1, X.shape[0]))]
    assert_agree_to_rounding(net.logits(X[rows]), full[rows], dtype, scale=scale)
    i = draw.draw(st.integers(0, X.shape[0] - 1))
    assert_agree_to_rounding(
        net.logits(X[i : i + 1]), full[i : i + 1], dtype, scale=scale
    )
