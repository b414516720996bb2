"""Shared, seeded fixtures; data sets are built once per session."""

import os

# Lets scikit-learn's check_array_api_input run instead of skipping; must be set
# before scipy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
# Plots are drawn off-screen in the tests.
os.environ.setdefault("MPLBACKEND", "Agg")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: CI sets SKNUMPY_MLP_MNIST; a checkout beside ../shared works without it.
# absolute: tests that change folder (and the processes they start) still
# find it when the environment gives it relative to the repository
MNIST_DIR = Path(
    os.environ.get("SKNUMPY_MLP_MNIST") or ROOT.parent / "shared/data/mnist"
).resolve()


def load_example(name, folder="examples"):
    """The module ``<folder>/<name>.py``, imported as a user's script would be."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def mnist():
    """``(X_train, y_train), (X_test, y_test)`` from the shared IDX files."""
    from sknumpy_mlp import load_mnist

    if not MNIST_DIR.is_dir():
        pytest.fail(
            f"MNIST not found at {MNIST_DIR}: set SKNUMPY_MLP_MNIST to the folder "
            "with the four IDX files (CI sets it to ../shared/data/mnist)."
        )
    return load_mnist(MNIST_DIR)


@pytest.fixture(scope="session")
def multiclass_data():
    """A small, learnable 3-class problem (float64)."""
    X, y = make_classification(
        n_samples=300, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return X, y


@pytest.fixture(scope="session")
def binary_data():
    """A small, learnable 2-class problem (float64)."""
    X, y = make_classification(
        n_samples=200, n_features=6, n_informative=4, random_state=1
    )
    return X, y


@pytest.fixture
def rng():
    return np.random.default_rng(0)


#: Relative rounding allowed between results computed with other shapes, other
#: BLAS thread counts or on another machine (a BLAS may sum a product in any
#: order); bitwise equality is asserted only for the same computation twice.
ROUNDING = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def assert_same_labels(actual, expected, proba, margin=1e-5):
    """Labels predicted by two computations (another library, ONNX Runtime)
    agree on every row the model does not nearly tie on: where the two most
    probable classes (or, multilabel, a label's probability and 0.5) are
    within ``margin``, rounding may break the tie either way."""
    actual, expected, proba = (np.asarray(a) for a in (actual, expected, proba))
    if expected.ndim == 2:
        clear = np.abs(proba - 0.5) > margin
    else:
        top = np.sort(proba, axis=1)
        clear = top[:, -1] - top[:, -2] > margin
    np.testing.assert_array_equal(actual[clear], expected[clear])
    assert clear.mean() > 0.9, "too many near-ties for the comparison to say much"


def assert_agree_to_rounding(actual, expected, dtype, *, scale=None):
    """``actual`` equals ``expected`` to the rounding of ``dtype`` arithmetic.

    The absolute allowance is relative to ``scale`` (default: the largest
    ``|expected|``, at least 1): a sum's rounding error is relative to the size
    of its terms, not of its result, so a value near 0 gets no tighter a bound.
    Pass the logits' scale when comparing probabilities of large logits.
    """
    tol = ROUNDING[np.dtype(dtype)]
    if scale is None:
        scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale)
