"""ONNX export, checked against ONNX Runtime on 1 000 rows."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpy_mlp import MLPScratchClassifier, MLPScratchRegressor

from .conftest import assert_same_labels

pytest.importorskip("skl2onnx", reason="the onnx extra is not installed")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
skl2onnx = pytest.importorskip("skl2onnx")
sx = pytest.importorskip("sknumpy_mlp.onnx")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RTOL = {"float32": 1e-5, "float64": 1e-10}
ACTIVATIONS = ["relu", "leaky_relu", "elu", "gelu", "logistic", "tanh", "identity"]


@pytest.fixture(scope="module")
def data():
    return make_classification(
        1000, 8, n_informative=6, n_classes=3, n_clusters_per_class=1, random_state=0
    )


def run(onx, X):
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


def _check_classifier(clf, X, dtype, onx=None):
    onx = onx or skl2onnx.to_onnx(clf, X[:1], options={"zipmap": False})
    label, proba = run(onx, X)
    expected = clf.predict_proba(X)
    assert proba.dtype == np.dtype(dtype)
    np.testing.assert_allclose(proba, expected, rtol=RTOL[dtype], atol=0)
    assert_same_labels(label, clf.predict(X), expected)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_in_both_dtypes_matches_onnx_runtime(data, activation, dtype):
    X, y = data
    labels = np.array(["ant", "bee", "cat"])[y]  # strings: a string label output
    clf = MLPScratchClassifier(
        hidden_layer_sizes=(16, 8),
        activation=activation,
        dtype=dtype,
        max_iter=20,
        random_state=0,
    ).fit(X, labels)
    _check_classifier(clf, X.astype(dtype), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_per_layer_activations_and_dropout(data, dtype):
    X, y = data
    clf = MLPScratchClassifier(
        hidden_layer_sizes=(12, 10, 6),
        activation=["gelu", "elu", "tanh"],
        dropout=[0.2, 0.1, 0.0],  # the identity at inference
        dtype=dtype,
        max_iter=20,
        random_state=0,
    ).fit(X, y)
    _check_classifier(clf, X.astype(dtype), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_integer_labels(data, dtype):
    X, y = data
    clf = MLPScratchClassifier(max_iter=20, dtype=dtype, random_state=0)
    clf.fit(X, np.where(y == 1, 7, -3))
    _check_classifier(clf, X.astype(dtype), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_multilabel_targets(data, dtype):
    X, y = data
    Y = np.stack([y == 0, y == 1, y > 0, X[:, 0] > 0], axis=1).astype(int)
    clf = MLPScratchClassifier(max_iter=20, dtype=dtype, random_state=0).fit(X, Y)
    _check_classifier(clf, X.astype(dtype), dtype)


def test_zipmap_by_default_gives_skl2onnx_dicts(data):
    X, y = data
    clf = MLPScratchClassifier(max_iter=10, dtype="float64", random_state=0)
    clf.fit(X, y)
    label, dicts = run(skl2onnx.to_onnx(clf, X[:1]), X)
    expected = clf.predict_proba(X)
    assert sorted(dicts[0]) == [0, 1, 2]
    got = np.array([[d[k] for k in (0, 1, 2)] for d in dicts])
    np.testing.assert_allclose(got, expected, rtol=1e-6)  # ZipMap stores float32
    assert_same_labels(label, clf.predict(X), expected)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", ["squared_error", "huber", "poisson"])
def test_multi_output_regression(dtype, loss):
    X, y = make_regression(1000, 6, n_targets=3, random_state=0)
    y = np.abs(y) / 100 if loss == "poisson" else y / 100
    reg = MLPScratchRegressor(
        hidden_layer_sizes=(12,), loss=loss, dtype=dtype, max_iter=20, random_state=0
    ).fit(X, y)
    (predicted,) = run(reg.to_onnx(), X.astype(dtype))
    assert predicted.shape == (1000, 3) and predicted.dtype == np.dtype(dtype)
    expected = reg.predict(X.astype(dtype))
    # an output near 0 is a sum of terms of the outputs' scale: its rounding
    # is relative to that scale, not to itself
    np.testing.assert_allclose(
        predicted,
        expected,
        rtol=RTOL[dtype],
        atol=RTOL[dtype] * np.abs(expected).max() * 1e-2,
    )


def test_a_pipeline_converts_and_agrees(data):
    X, y = data
    X = X * 50 + 3  # the scaler has work to do
    pipe = make_pipeline(
        StandardScaler(),
        MLPScratchClassifier(max_iter=20, dtype="float64", random_state=0),
    ).fit(X, y)
    onx = skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False})
    label, proba = run(onx, X)
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=1e-10)
    assert_same_labels(label, pipe.predict(X), pipe.predict_proba(X))
    # the module's own function takes the pipeline too, in the model's dtype
    label, proba = run(sx.to_onnx(pipe, options={"zipmap": False}), X)
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=1e-10)


def test_the_method_writes_the_file_and_uses_the_default_opset(data, tmp_path):
    import onnx

    X, y = data
    clf = MLPScratchClassifier(max_iter=5, random_state=0).fit(X, y)
    path = tmp_path / "m.onnx"
    clf.to_onnx(path, options={"zipmap": False})
    onx = onnx.load(path)
    onnx.checker.check_model(onx)
    # the file names the newest operator version it uses, up to the target
    assert {o.domain: o.version for o in onx.opset_import}[""] <= sx.DEFAULT_OPSET
    _check_classifier(clf, X.astype(clf.coefs_[0].dtype), "float64", onx)
    older = clf.to_onnx(target_opset=13, options={"zipmap": False})
    assert {o.domain: o.version for o in older.opset_import}[""] <= 13
    _check_classifier(clf, X.astype(clf.coefs_[0].dtype), "float64", older)


def test_a_float32_model_takes_float32_input_whatever_it_was_given(data):
    X, y = data
    clf = MLPScratchClassifier(max_iter=5, dtype="float32", random_state=0).fit(X, y)
    onx = clf.to_onnx(options={"zipmap": False})
    assert onx.graph.input[0].type.tensor_type.elem_type == 1  # FLOAT
    # skl2onnx's route with float64 example rows casts inside the graph
    label, proba = run(skl2onnx.to_onnx(clf, X[:1], options={"zipmap": False}), X)
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=1e-5)


def test_an_activation_without_conversion_is_refused_by_name(data):
    X, y = data
    clf = MLPScratchClassifier(max_iter=2, random_state=0).fit(X, y)
    clf.activation = "swish"  # as a future activation would be, before its converter
    clf._hidden_activations = lambda n: ["swish"] * n
    with pytest.raises(NotImplementedError, match="'swish' has no ONNX conversion"):
        clf.to_onnx()


def test_mnist_model_gives_the_same_test_accuracy(mnist):
    (X, y), (X_test, y_test) = mnist
    clf = MLPScratchClassifier(
        hidden_layer_sizes=(64, 32), max_iter=3, random_state=0
    ).fit(X[:20000], y[:20000])
    label, _ = run(clf.to_onnx(options={"zipmap": False}), X_test.astype(np.float32))
    ours = clf.score(X_test, y_test)
    assert abs(np.mean(label == y_test) - ours) <= 1e-4  # 0.01 points


def test_a_model_trained_on_another_array_library_exports(data):
    """Its parameters are copied to the host for the graph (array-api-strict's
    simulated device stands in for a GPU)."""
    import sklearn

    xps = pytest.importorskip("array_api_strict")
    X, y = data
    device = xps.Device("device1")
    with sklearn.config_context(array_api_dispatch=True):
        clf = MLPScratchClassifier(max_iter=5, dtype="float64", random_state=0)
        clf.fit(xps.asarray(X, device=device), xps.asarray(y, device=device))
    reference = MLPScratchClassifier(max_iter=5, dtype="float64", random_state=0)
    label, proba = run(clf.to_onnx(options={"zipmap": False}), X)
    np.testing.assert_allclose(proba, reference.fit(X, y).predict_proba(X), rtol=1e-9)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("normalization", ["batch", "layer", ["layer", "batch"]])
def test_normalizations_match_onnx_runtime(data, dtype, normalization):
    X, y = data
    clf = MLPScratchClassifier(
        hidden_layer_sizes=(16, 8),
        normalization=normalization,
        dtype=dtype,
        max_iter=20,
        random_state=0,
    ).fit(X, y)
    _check_classifier(clf, X.astype(dtype), dtype)
    older = clf.to_onnx(target_opset=13, options={"zipmap": False})  # ReduceMean
    _check_classifier(clf, X.astype(dtype), dtype, older)
    reg = MLPScratchRegressor(
        hidden_layer_sizes=(8,), normalization=normalization if isinstance(
            normalization, str) else "layer", dtype=dtype, max_iter=20, random_state=0,
    ).fit(X, X[:, :2])  # fmt: skip
    (predicted,) = run(reg.to_onnx(), X.astype(dtype))
    np.testing.assert_allclose(
        predicted, reg.predict(X.astype(dtype)), rtol=RTOL[dtype], atol=RTOL[dtype]
    )
