"""The MNIST digits: local IDX files, a cached copy, Keras, or OpenML."""

import gzip
import os
from pathlib import Path

import numpy as np

#: Environment variable naming a folder of IDX files or a Keras ``mnist.npz``.
MNIST_ENV = "SKNUMPY_MLP_MNIST"

_IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049
_MAX_ITEMS = 10_000_000  # far above MNIST's 70 000; bounds what a bad header can ask


def load_mnist(path=None, *, as_images=False):
    """Load MNIST as ``(X_train, y_train), (X_test, y_test)``.

    The first source that has it is used:

    1. ``path``, or else the environment variable ``SKNUMPY_MLP_MNIST``: a
       folder holding the four IDX files (gzipped or not), or a Keras-style
       ``mnist.npz`` (or a folder holding one);
    2. a copy cached by an earlier download, ``sknumpy_mlp/mnist.npz`` in
       scikit-learn's data home (:func:`sklearn.datasets.get_data_home`,
       ``~/scikit_learn_data`` unless ``$SCIKIT_LEARN_DATA`` says otherwise);
    3. the Keras cache, ``~/.keras/datasets/mnist.npz`` (``$KERAS_HOME`` is
       honoured), then ``keras.datasets.mnist.load_data()`` when Keras is
       installed (the ``keras`` extra), which downloads it;
    4. OpenML's ``mnist_784`` through :func:`sklearn.datasets.fetch_openml`
       (no extra needed; about 15 MB), split as the standard 60 000 training
       and 10 000 test images.

    A download (3 or 4) is cached as in 2, so it happens once.

    Parameters
    ----------
    path : str or os.PathLike, default=None
        Where the data is; an explicit path that does not hold MNIST is an error
        (no other source is tried).
    as_images : bool, default=False
        Return ``X`` as the raw ``uint8`` images of shape ``(n, 28, 28)``
        instead of float32 rows of 784 values in [0, 1].

    Returns
    -------
    (X_train, y_train), (X_test, y_test) : tuples of ndarray
        ``X`` float32 of shape ``(n, 784)`` with values in [0, 1] (60 000 and
        10 000 rows), ``y`` int64 labels 0-9.

    Raises
    ------
    FileNotFoundError
        If no source has the data; the message lists the three ways to provide it.
    ValueError
        If a file is not valid MNIST (wrong magic number, size or shape).
    """
    explicit = path if path is not None else os.environ.get(MNIST_ENV) or None
    if explicit is not None:
        raw = _read_local(Path(explicit))
    else:
        raw = _from_the_cache_or_a_download()
    (x_train, y_train), (x_test, y_test) = raw
    return _prepare(x_train, y_train, as_images), _prepare(x_test, y_test, as_images)


def _prepare(images, labels, as_images):
    labels = labels.astype(np.int64)
    if as_images:
        return images, labels
    X = images.reshape(len(images), -1).astype(np.float32)
    X *= np.float32(1 / 255)
    return X, labels


def _read_local(path):
    if path.is_file():
        return _read_keras_npz(path)
    if not path.is_dir():
        raise FileNotFoundError(f"MNIST path {str(path)!r} does not exist.")
    found = {key: _find_idx(path, name) for key, name in _IDX_FILES.items()}
    if all(found.values()):
        return _read_idx_set(found)
    if (path / "mnist.npz").is_file():
        return _read_keras_npz(path / "mnist.npz")
    missing = [name for key, name in _IDX_FILES.items() if found[key] is None]
    raise FileNotFoundError(
        f"MNIST folder {str(path)!r} lacks {missing} (gzipped or not) and holds no "
        "mnist.npz."
    )


def _find_idx(folder, name):
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_idx_set(files):
    x_train = read_idx(files["train_images"], _IMAGES_MAGIC)
    y_train = read_idx(files["train_labels"], _LABELS_MAGIC)
    x_test = read_idx(files["test_images"], _IMAGES_MAGIC)
    y_test = read_idx(files["test_labels"], _LABELS_MAGIC)
    return _checked((x_train, y_train), "training"), _checked((x_test, y_test), "test")


def read_idx(path, magic):
    """Read one IDX file of unsigned bytes (gzipped or not), checking its header.

    Parameters
    ----------
    path : str or os.PathLike
    magic : int
        The expected magic number: 2051 for images, 2049 for labels.

    Returns
    -------
    ndarray of uint8
        Shape ``(n, rows, cols)`` for images, ``(n,)`` for labels.

    Raises
    ------
    ValueError
        If the magic number, the dimensions or the data size are wrong.
    """
    path = Path(path)
    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rb") as f:
            header = f.read(4)
            if len(header) < 4:
                raise ValueError(f"IDX file {str(path)!r} is too short for a header.")
            found = int.from_bytes(header, "big")
            if found != magic:
                raise ValueError(
                    f"IDX file {str(path)!r} has magic number {found}, expected "
                    f"{magic} ({'images' if magic == _IMAGES_MAGIC else 'labels'})."
                )
            ndim = header[3]
            dims_raw = f.read(4 * ndim)
            if len(dims_raw) < 4 * ndim:
                raise ValueError(f"IDX file {str(path)!r} is truncated in its header.")
            dims = tuple(
                int.from_bytes(dims_raw[4 * i : 4 * i + 4], "big") for i in range(ndim)
            )
            expected_dims = (dims[0], 28, 28) if magic == _IMAGES_MAGIC else dims[:1]
            if dims != expected_dims or not 0 < dims[0] <= _MAX_ITEMS:
                raise ValueError(
                    f"IDX file {str(path)!r} declares dimensions {dims}, not those "
                    "of MNIST (n, 28, 28) images or (n,) labels."
                )
            size = int(np.prod(dims))
            data = f.read(size)
            if len(data) < size:
                raise ValueError(
                    f"IDX file {str(path)!r} is truncated: {len(data)} of {size} "
                    "data bytes."
                )
            if f.read(1):
                raise ValueError(
                    f"IDX file {str(path)!r} has data after its {size} bytes."
                )
    except (OSError, EOFError) as exc:  # e.g. a damaged gzip stream
        raise ValueError(f"IDX file {str(path)!r} cannot be read: {exc}") from exc
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def _is_gzip(path):
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _read_keras_npz(path):
    try:
        # opened here: np.load leaves a file it opened open if it is no zip
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:
            arrays = {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except KeyError as exc:
        raise ValueError(
            f"{str(path)!r} is not a Keras mnist.npz: it lacks {exc}."
        ) from exc
    except Exception as exc:  # BadZipFile, pickled or damaged members, ...
        raise ValueError(f"{str(path)!r} is not a readable mnist.npz: {exc}") from exc
    return (
        _checked((arrays["x_train"], arrays["y_train"]), "training"),
        _checked((arrays["x_test"], arrays["y_test"]), "test"),
    )


def _checked(pair, split):
    images, labels = pair
    if (
        images.ndim != 3
        or images.shape[1:] != (28, 28)
        or labels.shape != (images.shape[0],)
    ):
        raise ValueError(
            f"MNIST {split} data has images of shape {images.shape} and labels of "
            f"shape {labels.shape}; expected (n, 28, 28) and (n,)."
        )
    if images.dtype != np.uint8 or labels.dtype.kind not in "iu":
        raise ValueError(
            f"MNIST {split} data has dtypes {images.dtype} and {labels.dtype}; "
            "expected uint8 images and integer labels."
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"MNIST {split} labels are not all digits 0-9.")
    return images, labels


def _data_home_cache():
    from sklearn.datasets import get_data_home

    return Path(get_data_home()) / "sknumpy_mlp" / "mnist.npz"


def _from_the_cache_or_a_download():
    """Sources 2 to 4 of :func:`load_mnist`; a download is cached."""
    cache = _data_home_cache()
    if cache.is_file():
        return _read_keras_npz(cache)
    raw = _read_keras_cache()
    if raw is not None:
        return raw
    problems = []
    for download in (_download_with_keras, _download_from_openml):
        try:
            raw = download()
        except Exception as exc:  # no network, a server error, ...
            problems.append(f"{download.__doc__.strip()}: {type(exc).__name__}: {exc}")
            continue
        if raw is not None:
            _write_cache(cache, raw)
            return raw
    raise FileNotFoundError(
        "MNIST was not found, and could not be downloaded"
        + (f" ({'; '.join(problems)})" if problems else "")
        + ". Provide it in one of these ways: (1) pass load_mnist(path=...) or "
        f"set the environment variable {MNIST_ENV} to a folder holding the four "
        "IDX files (train-images-idx3-ubyte[.gz], ...) or to a Keras mnist.npz; "
        f"(2) place mnist.npz at {cache} or in the Keras cache, "
        "~/.keras/datasets/; (3) connect to the internet, so that OpenML's "
        "mnist_784 (or, with pip install 'sknumpy-mlp[keras]', Keras's copy) is "
        "downloaded and cached."
    )


def _write_cache(cache, raw):
    """Keep a downloaded copy in scikit-learn's data home (atomically)."""
    (x_train, y_train), (x_test, y_test) = raw
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f".mnist.{os.getpid()}.npz")
        np.savez(tmp, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        os.replace(tmp, cache)
    except OSError:  # a read-only home: the data is still returned
        pass


def _download_from_openml():
    """OpenML's mnist_784"""
    from sklearn.datasets import fetch_openml

    X, y = fetch_openml(
        "mnist_784", version=1, return_X_y=True, as_frame=False, parser="liac-arff"
    )
    images = np.asarray(X).astype(np.uint8).reshape(-1, 28, 28)
    labels = np.asarray(y).astype(np.int64)
    if images.shape[0] != 70_000:
        raise ValueError(f"mnist_784 has {images.shape[0]} images, not 70 000")
    return (
        _checked((images[:60_000], labels[:60_000]), "training"),
        _checked((images[60_000:], labels[60_000:]), "test"),
    )


def _keras_cache():
    home = os.environ.get("KERAS_HOME") or os.path.join(Path.home(), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def _read_keras_cache():
    cache = _keras_cache()
    return _read_keras_npz(cache) if cache.is_file() else None


def _download_with_keras():
    """Keras's mnist.load_data()"""
    try:
        from keras.datasets import mnist
    except ImportError:
        try:
            from tensorflow.keras.datasets import mnist
        except ImportError:
            return None
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    return (
        _checked((np.asarray(x_train), np.asarray(y_train)), "training"),
        _checked((np.asarray(x_test), np.asarray(y_test)), "test"),
    )
