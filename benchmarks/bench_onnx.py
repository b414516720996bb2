"""ONNX Runtime against the estimator's own predict_proba, on the MNIST model.

Trains the (64, 32) network on MNIST (float32, as the estimator picks for
60 000 rows), exports it with :func:`sknumpy_mlp.onnx.to_onnx` (probabilities
as a tensor, ``zipmap=False``), and times in one run, interleaved, medians:
``predict_proba`` and an ONNX Runtime session (CPU provider, its default
threads) on 1 row and on the 10 000 test rows. Also prints the file's size and
both test accuracies.

Usage::

    python benchmarks/bench_onnx.py [--data MNIST_FOLDER] [--epochs 20]
"""

import argparse
import os
import platform
import statistics
import tempfile
import time
import warnings

import numpy as np


def median_seconds(function, repeats):
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main(argv=None):
    import onnxruntime as ort
    from sklearn.exceptions import ConvergenceWarning

    from sknumpy_mlp import MLPScratchClassifier, load_mnist
    from sknumpy_mlp.onnx import to_onnx

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="MNIST folder or mnist.npz")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    (X, y), (X_test, y_test) = load_mnist(args.data)
    clf = MLPScratchClassifier(
        hidden_layer_sizes=(64, 32), max_iter=args.epochs, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    dtype = clf.coefs_[0].dtype
    X_test = X_test.astype(dtype)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "mnist.onnx")
        to_onnx(clf, path, options={"zipmap": False})
        size = os.path.getsize(path)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])

    def onnx_proba(rows):
        return session.run(["probabilities"], {"X": rows})[0]

    labels = session.run(["label"], {"X": X_test})[0]
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, onnxruntime "
        f"{ort.__version__}; (64, 32) network, {args.epochs} epochs, {dtype}"
    )
    print(f"ONNX file: {size:,} bytes")
    print(
        f"test accuracy: estimator {100 * clf.score(X_test, y_test):.2f} %, "
        f"ONNX Runtime {100 * np.mean(labels == y_test):.2f} %"
    )
    gap = np.abs(onnx_proba(X_test) - clf.predict_proba(X_test)).max()
    print(f"largest probability difference on the test rows: {gap:.1e}")
    for name, rows, repeats in (
        ("1 row", X_test[:1], args.repeats * 10),
        ("10 000 rows", X_test, args.repeats // 4),
    ):
        ours, theirs = [], []
        for _ in range(5):  # interleaved rounds
            ours.append(median_seconds(lambda r=rows: clf.predict_proba(r), repeats))
            theirs.append(median_seconds(lambda r=rows: onnx_proba(r), repeats))
        a, b = statistics.median(ours), statistics.median(theirs)
        unit, scale = ("us", 1e6) if rows.shape[0] == 1 else ("ms", 1e3)
        print(
            f"{name:<12} predict_proba {a * scale:8.2f} {unit}   ONNX Runtime "
            f"{b * scale:8.2f} {unit}   ratio ONNX / ours {b / a:.2f}"
        )


if __name__ == "__main__":
    main()
