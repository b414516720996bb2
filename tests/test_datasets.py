import gc
import gzip
import hashlib
import shutil
import warnings

import numpy as np
import pytest

from sknumpy_mlp import load_mnist
from sknumpy_mlp.datasets import read_idx

from .conftest import MNIST_DIR

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_shared_files_are_intact():
    for line in (MNIST_DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        data = (MNIST_DIR / name.lstrip("*")).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name


def test_load_mnist_from_the_shared_files(mnist):
    (X_train, y_train), (X_test, y_test) = mnist
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    np.testing.assert_allclose(X_train.mean() * 255, 33.318, atol=1e-3)


def test_environment_variable_and_images(monkeypatch):
    monkeypatch.setenv("SKNUMPY_MLP_MNIST", str(MNIST_DIR))
    (images, labels), (test_images, _) = load_mnist(as_images=True)
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert test_images.shape == (10000, 28, 28)
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]


@pytest.fixture(scope="module")
def small_idx(tmp_path_factory):
    """A 20/10-image MNIST in plain (not gzipped) IDX files."""
    folder = tmp_path_factory.mktemp("idx")
    for prefix, n in (("train", 20), ("t10k", 10)):
        for kind, shape in (
            ("images-idx3", (n, 28, 28)),
            ("labels-idx1", (n,)),
        ):
            source = MNIST_DIR / f"{prefix}-{kind}-ubyte.gz"
            with gzip.open(source, "rb") as f:
                header = f.read(4 + 4 * len(shape))
                data = f.read(int(np.prod(shape)))
            dims = b"".join(d.to_bytes(4, "big") for d in shape)
            (folder / f"{prefix}-{kind}-ubyte").write_bytes(header[:4] + dims + data)
    return folder


def test_plain_idx_files_and_a_keras_npz(small_idx, tmp_path, mnist):
    (X, y), (X_test, y_test) = load_mnist(small_idx)
    assert X.shape == (20, 784) and X_test.shape == (10, 784)
    np.testing.assert_array_equal(X, mnist[0][0][:20])
    np.testing.assert_array_equal(y_test, mnist[1][1][:10])
    (images, labels), (test_images, test_labels) = load_mnist(small_idx, as_images=True)
    npz = tmp_path / "mnist.npz"
    np.savez(
        npz,
        x_train=images,
        y_train=labels.astype(np.uint8),
        x_test=test_images,
        y_test=test_labels.astype(np.uint8),
    )
    for source in (npz, tmp_path):  # the file, or a folder holding it
        (X2, y2), _ = load_mnist(source)
        np.testing.assert_array_equal(X2, X)
        np.testing.assert_array_equal(y2, y)


def test_a_damaged_or_foreign_npz_is_refused_and_closed(small_idx, tmp_path):
    (images, labels), _ = load_mnist(small_idx, as_images=True)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x_train=images, y_train=labels)  # no test split
    whole = tmp_path / "whole.npz"
    np.savez(whole, x_train=images, y_train=labels, x_test=images, y_test=labels)
    damaged = tmp_path / "mnist.npz"
    damaged.write_bytes(whole.read_bytes()[:300])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="not a Keras mnist.npz: it lacks"):
            load_mnist(foreign)
        with pytest.raises(ValueError, match="not a readable mnist.npz"):
            load_mnist(damaged)
        gc.collect()
    assert [w.message for w in caught if w.category is ResourceWarning] == []


def test_the_keras_cache_is_used(small_idx, tmp_path, monkeypatch):
    (images, labels), (test_images, test_labels) = load_mnist(small_idx, as_images=True)
    cache = tmp_path / "keras" / "datasets"
    cache.mkdir(parents=True)
    np.savez(
        cache / "mnist.npz",
        x_train=images,
        y_train=labels,
        x_test=test_images,
        y_test=test_labels,
    )
    monkeypatch.delenv("SKNUMPY_MLP_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn_data"))
    (X, _), _ = load_mnist()
    assert X.shape == (20, 784)


@pytest.fixture
def nothing_configured(tmp_path, monkeypatch):
    """No path, an empty Keras cache and scikit-learn data home, no Keras."""
    import sknumpy_mlp.datasets as datasets

    monkeypatch.delenv("SKNUMPY_MLP_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn_data"))
    monkeypatch.setattr(datasets, "_download_with_keras", lambda: None)
    return tmp_path


def test_no_source_and_no_network_give_one_message(nothing_configured, monkeypatch):
    import sknumpy_mlp.datasets as datasets

    def offline(*args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr("sklearn.datasets.fetch_openml", offline)
    with pytest.raises(FileNotFoundError) as info:
        load_mnist()
    message = str(info.value)
    assert "SKNUMPY_MLP_MNIST" in message and "~/.keras/datasets" in message
    assert "sknumpy-mlp[keras]" in message and "name resolution" in message
    assert str(datasets._data_home_cache()) in message


def _fake_openml(n_train=60_000, n_test=10_000):
    rng = np.random.default_rng(0)
    # OpenML's pixels: float64 (drawn as bytes, 20 times faster than as int64)
    X = rng.integers(0, 256, (n_train + n_test, 784), dtype=np.uint8).astype(np.float64)
    y = (np.arange(n_train + n_test) % 10).astype(str)  # OpenML's labels: strings
    calls = []

    def fetch_openml(name, **kwargs):
        calls.append((name, kwargs))
        return X, y

    return fetch_openml, calls, X


def test_openml_is_the_last_source_and_is_cached(nothing_configured, monkeypatch):
    fetch, calls, X_all = _fake_openml()
    monkeypatch.setattr("sklearn.datasets.fetch_openml", fetch)
    (X, y), (X_test, y_test) = load_mnist()
    assert calls[0][0] == "mnist_784" and calls[0][1]["as_frame"] is False
    assert X.shape == (60_000, 784) and X_test.shape == (10_000, 784)
    assert X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X[1], X_all[1] / 255, rtol=1e-6)
    np.testing.assert_array_equal(y_test[:3], [0, 1, 2])
    cache = nothing_configured / "sklearn_data" / "sknumpy_mlp" / "mnist.npz"
    assert cache.is_file()

    def no_more(*args, **kwargs):  # the cached copy is used from now on
        raise AssertionError("downloaded twice")

    monkeypatch.setattr("sklearn.datasets.fetch_openml", no_more)
    (X2, _), _ = load_mnist()
    assert np.array_equal(X2, X)  # (one pass: np.testing's takes seconds here)


def test_keras_download_path_is_used_when_keras_is_importable(tmp_path, monkeypatch):
    """The third source: keras.datasets.mnist.load_data(), faked here (no network)."""
    import sys
    import types

    rng = np.random.default_rng(0)
    fake = (
        (rng.integers(0, 256, (4, 28, 28), dtype=np.uint8), np.arange(4)),
        (rng.integers(0, 256, (2, 28, 28), dtype=np.uint8), np.arange(2)),
    )
    mnist_module = types.SimpleNamespace(load_data=lambda: fake)
    keras = types.ModuleType("keras")
    keras_datasets = types.ModuleType("keras.datasets")
    keras_datasets.mnist = mnist_module
    keras.datasets = keras_datasets
    monkeypatch.setitem(sys.modules, "keras", keras)
    monkeypatch.setitem(sys.modules, "keras.datasets", keras_datasets)
    monkeypatch.delenv("SKNUMPY_MLP_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn_data"))
    (X, y), (X_test, _) = load_mnist()
    assert X.shape == (4, 784) and X_test.shape == (2, 784)
    assert (tmp_path / "sklearn_data" / "sknumpy_mlp" / "mnist.npz").is_file()
    np.testing.assert_allclose(X[0], fake[0][0][0].ravel() / 255, rtol=1e-6)


def test_an_explicit_path_without_mnist_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="lacks"):
        load_mnist(tmp_path)


def _corrupt(small_idx, tmp_path, name, transform):
    folder = tmp_path / "bad"
    shutil.copytree(small_idx, folder)
    path = folder / name
    path.write_bytes(transform(path.read_bytes()))
    return folder, path


@pytest.mark.parametrize(
    "name, transform, message",
    [
        ("train-images-idx3-ubyte", lambda b: b[:4] + b[4:-5], "truncated"),
        ("train-images-idx3-ubyte", lambda b: b + b"\0", "data after"),
        (
            "train-labels-idx1-ubyte",
            lambda b: (2051).to_bytes(4, "big") + b[4:],
            "magic number 2051, expected 2049",
        ),
        (
            "t10k-images-idx3-ubyte",
            lambda b: b[:8] + (29).to_bytes(4, "big") + b[12:],
            "declares dimensions",
        ),
        (
            "t10k-images-idx3-ubyte",
            lambda b: b[:4] + (2**31 - 1).to_bytes(4, "big") + b[8:],
            "declares dimensions",
        ),
        ("t10k-labels-idx1-ubyte", lambda b: b[:2], "too short"),
        ("t10k-labels-idx1-ubyte", lambda b: gzip.compress(b)[:-12], "cannot be read"),
    ],
)
def test_corrupt_idx_files_are_refused(name, transform, message, small_idx, tmp_path):
    folder, _ = _corrupt(small_idx, tmp_path, name, transform)
    with pytest.raises(ValueError, match=message):
        load_mnist(folder)


def test_read_idx_checks_the_label_count_matches(small_idx, tmp_path):
    folder, _ = _corrupt(
        small_idx,
        tmp_path,
        "train-labels-idx1-ubyte",
        lambda b: b[:4] + (19).to_bytes(4, "big") + b[8:-1],
    )
    assert read_idx(folder / "train-labels-idx1-ubyte", 2049).shape == (19,)
    with pytest.raises(ValueError, match="labels of shape \\(19,\\)"):
        load_mnist(folder)
