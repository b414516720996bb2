"""
Training on data larger than memory
===================================

``partial_fit`` trains one epoch on whatever rows it is given, so a data set
that does not fit in memory can be learned chunk by chunk. This script stores
the 60 000 MNIST training images as a 60000x784 float32 ``numpy.memmap`` on
disk (188 MB), then trains on it reading one chunk of rows at a time, the
chunks in a new random order every pass, and compares the result with the
same network trained in memory with ``fit`` for the same number of epochs.

``--dask`` reads the same file as a Dask array and trains through
``dask_ml.wrappers.Incremental``, which calls ``partial_fit`` on one block at a
time (needs the ``dask`` extra). Only one chunk of rows is in memory at once
either way; the labels (60 000 integers) are kept in memory.
"""

# sphinx_gallery_thumbnail_path = "_static/thumbnails/mnist_out_of_core.png"

import argparse
import os
import tempfile
import time
import warnings

import numpy as np

from sknumpy_mlp import MLPScratchClassifier, load_mnist


def write_memmap(X, path):
    """Copy ``X`` to a new float32 memmap file at ``path`` and reopen it read-only."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=X.shape)
    out[:] = X
    out.flush()
    del out
    return np.load(path, mmap_mode="r")


def train_in_chunks(X, y, classes, *, epochs, chunk_size, random_state):
    """``partial_fit`` over row chunks of ``X`` (any array, e.g. a memmap)."""
    clf = MLPScratchClassifier(random_state=random_state)
    rng = np.random.default_rng(random_state)
    starts = np.arange(0, X.shape[0], chunk_size)
    for _ in range(epochs):
        for start in rng.permutation(starts):
            rows = slice(start, start + chunk_size)
            clf.partial_fit(np.asarray(X[rows]), y[rows], classes=classes)
    return clf


def train_dask(path, y, classes, *, epochs, chunk_size, random_state):
    """The same through ``dask_ml.wrappers.Incremental`` on a Dask array."""
    import dask.array as da
    from dask_ml.wrappers import Incremental

    X = da.from_array(np.load(path, mmap_mode="r"), chunks=(chunk_size, -1))
    Y = da.from_array(y, chunks=chunk_size)
    incremental = Incremental(
        MLPScratchClassifier(random_state=random_state),
        shuffle_blocks=True,
        random_state=random_state,
    )
    for _ in range(epochs):
        incremental.partial_fit(X, Y, classes=classes)
    return incremental.estimator_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--data", help="folder with the MNIST IDX files, or mnist.npz")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument(
        "--workdir", help="where to write the memmap (default: a temporary folder)"
    )
    parser.add_argument("--dask", action="store_true", help="go through a Dask array")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.chunk_size < 1:
        parser.error("--epochs and --chunk-size must be positive")

    (X_train, y_train), (X_test, y_test) = load_mnist(args.data)
    classes = np.unique(y_train)
    with tempfile.TemporaryDirectory(dir=args.workdir) as folder:
        path = os.path.join(folder, "mnist_train.npy")
        X_disk = write_memmap(X_train, path)
        print(f"memmap: {path}, {X_disk.shape}, {X_disk.nbytes / 1e6:.0f} MB")
        start = time.perf_counter()
        train, source = (train_dask, path) if args.dask else (train_in_chunks, X_disk)
        chunked = train(
            source,
            y_train,
            classes,
            epochs=args.epochs,
            chunk_size=args.chunk_size,
            random_state=args.seed,
        )
        chunked_seconds = time.perf_counter() - start
        del X_disk

    start = time.perf_counter()
    in_memory = MLPScratchClassifier(
        max_iter=args.epochs, early_stopping=False, random_state=args.seed
    )
    with warnings.catch_warnings():
        # a fixed number of epochs, as for the chunks
        warnings.filterwarnings("ignore", message=".*Maximum iterations")
        in_memory.fit(X_train, y_train)
    memory_seconds = time.perf_counter() - start

    chunked_accuracy = chunked.score(X_test, y_test)
    memory_accuracy = in_memory.score(X_test, y_test)
    how = "Dask array, Incremental" if args.dask else "memmap, partial_fit"
    print(f"{how}: {args.epochs} passes in chunks of {args.chunk_size} rows")
    for name, accuracy, seconds in (
        ("out of core", chunked_accuracy, chunked_seconds),
        ("in memory", memory_accuracy, memory_seconds),
    ):
        print(f"  {name + ':':<12} test accuracy {accuracy:.4f} ({seconds:.1f} s)")
    print(f"difference: {100 * (chunked_accuracy - memory_accuracy):+.2f} points")
    return chunked_accuracy, memory_accuracy


if __name__ == "__main__":
    main()
