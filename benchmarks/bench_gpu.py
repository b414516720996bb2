"""The engine on a GPU (CuPy or PyTorch-CUDA) against NumPy on the same machine.

Under ``sklearn.set_config(array_api_dispatch=True)`` the estimators train in
the library of their input, on its device (see the "GPU and other array
libraries" page of the docs). This script times, on float32 MNIST:

* ``seed``: the (64, 32) network with Adam, batches of 100 and of 1000;
* ``wide``: the (512, 512) network with Adam, batches of 100, next to
  scikit-learn's ``MLPClassifier`` on the CPU;
* ``record``: the record recipe of ``examples/mnist_record.py`` (1024 x 1024,
  dropout, max-norm, augmentation, cosine schedule), its whole run
  (``--record-epochs``; the augmenter is NumPy's, so each batch makes a round
  trip to the host: its cost is in the figure).

For each it prints the median seconds per epoch on the device, the test
accuracy, the seconds per epoch of the same estimator on NumPy on this
machine's CPU (``--cpu-epochs`` of them), and the ratio CPU / device; for
``wide`` also scikit-learn's seconds per epoch and the ratio to it.

Usage::

    python benchmarks/bench_gpu.py                       # torch or cupy, all runs
    python benchmarks/bench_gpu.py --library cupy --skip-record
    python benchmarks/bench_gpu.py --library array_api_strict --quick   # a CPU check

``array_api_strict`` runs the script on its simulated device on the CPU (to
check the script itself, not to time anything).
"""

import argparse
import platform
import statistics
import time
import warnings

import numpy as np

RUNS = {
    "seed b100": {"hidden_layer_sizes": (64, 32), "batch_size": 100},
    "seed b1000": {"hidden_layer_sizes": (64, 32), "batch_size": 1000},
    "wide b100": {"hidden_layer_sizes": (512, 512), "batch_size": 100},
}


def library(name):
    """``(xp, device, synchronize)`` of library ``name`` (None: whichever of
    PyTorch-CUDA and CuPy is installed)."""
    if name is None:
        for candidate in ("torch", "cupy"):
            try:
                return library(candidate)
            except (ImportError, RuntimeError):
                continue
        raise SystemExit("Neither PyTorch with CUDA nor CuPy is installed.")
    if name == "torch":
        import array_api_compat.torch as xp
        import torch

        if not torch.cuda.is_available():
            raise RuntimeError("PyTorch sees no CUDA device.")
        return xp, torch.device("cuda"), torch.cuda.synchronize
    if name == "cupy":
        import array_api_compat.cupy as xp
        import cupy

        return xp, cupy.cuda.Device(0), cupy.cuda.Device(0).synchronize
    if name == "array_api_strict":
        import array_api_strict as xp

        return xp, xp.Device("device1"), lambda: None
    raise SystemExit(f"Unknown library {name!r}.")


def estimator(epochs, seed=0, **params):
    from sknumpy_mlp import MLPScratchClassifier

    return MLPScratchClassifier(
        solver="adam",
        max_iter=epochs,
        early_stopping=False,
        n_iter_no_change=epochs,
        random_state=seed,
        **params,
    )


def record_estimator(epochs, seed=0):
    """``examples/mnist_record.py``'s recipe itself, without its epoch lines."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "mnist_record.py"
    spec = importlib.util.spec_from_file_location("mnist_record", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.recipe(epochs, seed, verbose=False)


def timed_fit(est, X, y, synchronize):
    """``(median seconds per epoch, seconds in all)`` of ``est.fit(X, y)``."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
        synchronize()
        total = time.perf_counter() - start
    seconds = [record["seconds"] for record in est.history_]
    # the first epoch includes the device's warm-up (kernels, allocator)
    return statistics.median(seconds[1:] or seconds), total


def accuracy(est, X, y):
    from sknumpy_mlp.engine.backend import to_numpy

    return float(np.mean(to_numpy(est.predict(X)) == y))


def sklearn_epoch(X, y, epochs, **params):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    sk = MLPClassifier(max_iter=epochs, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        sk.fit(X, y)
    return (time.perf_counter() - start) / sk.n_iter_


def main(argv=None):
    import sklearn

    from sknumpy_mlp import load_mnist

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", choices=["torch", "cupy", "array_api_strict"])
    parser.add_argument("--data", help="MNIST folder or mnist.npz")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timed fit")
    parser.add_argument("--cpu-epochs", type=int, default=2)
    parser.add_argument("--record-epochs", type=int, default=90)
    parser.add_argument("--skip-record", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="2000 rows, 2 epochs: checks the script"
    )
    args = parser.parse_args(argv)
    xp, device, synchronize = library(args.library)
    (X, y), (X_test, y_test) = load_mnist(args.data)
    X, X_test = X.astype(np.float32), X_test.astype(np.float32)
    if args.quick:
        X, y, X_test, y_test = X[:2000], y[:2000], X_test[:500], y_test[:500]
        args.epochs = args.cpu_epochs = args.record_epochs = 2
    X_dev = xp.asarray(X, device=device)
    y_dev = xp.asarray(y, device=device)
    X_test_dev = xp.asarray(X_test, device=device)

    print(
        f"{xp.__name__} on {device}; CPU: {platform.processor() or platform.machine()}"
    )
    header = (
        f"{'run':<12} {'device s/ep':>11} {'acc %':>6} {'numpy s/ep':>10} "
        f"{'ratio':>6} {'sklearn s/ep':>12} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, params in RUNS.items():
        with sklearn.config_context(array_api_dispatch=True):
            est = estimator(args.epochs, **params)
            on_device, _ = timed_fit(est, X_dev, y_dev, synchronize)
            acc = accuracy(est, X_test_dev, y_test)
        on_cpu, _ = timed_fit(estimator(args.cpu_epochs, **params), X, y, lambda: None)
        line = (
            f"{name:<12} {on_device:>11.3f} {100 * acc:>6.2f} {on_cpu:>10.3f} "
            f"{on_cpu / on_device:>6.1f}"
        )
        if name.startswith("wide"):
            theirs = sklearn_epoch(X, y, args.cpu_epochs, **params)
            line += f" {theirs:>12.3f} {theirs / on_device:>6.1f}"
        print(line, flush=True)
    if not args.skip_record:
        with sklearn.config_context(array_api_dispatch=True):
            est = record_estimator(args.record_epochs)
            on_device, total = timed_fit(est, X_dev, y_dev, synchronize)
            acc = accuracy(est, X_test_dev, y_test)
        on_cpu, _ = timed_fit(record_estimator(args.cpu_epochs), X, y, lambda: None)
        print(
            f"{'record':<12} {on_device:>11.3f} {100 * acc:>6.2f} {on_cpu:>10.3f} "
            f"{on_cpu / on_device:>6.1f}   ({args.record_epochs} epochs: "
            f"{total:.0f} s on the device, about "
            f"{on_cpu * args.record_epochs:.0f} s on the CPU)"
        )


if __name__ == "__main__":
    main()
