"""Benchmark MLPScratchClassifier against scikit-learn's MLPClassifier on MNIST.

Both estimators train with the same settings on the same data, interleaved
(ours, then scikit-learn's, alternating which goes first), each fit in a fresh
subprocess so that its peak memory can be measured. The table gives medians
over the repeats:

* seconds per epoch of ``fit`` and the ratio ours / scikit-learn;
* test accuracy after the same number of epochs (repeat ``r`` uses
  ``random_state=r`` for both, so the median is over seeds); for the
  regression row (``MLPScratchRegressor`` against ``MLPRegressor`` on
  ``make_friedman1(n_samples=30000, noise=1.0)``, standardised, 20 000 rows to
  train and 10 000 to test, ``predict`` in place of ``predict_proba``), the
  test R² in percent;
* peak memory of ``fit``: the growth of the process's peak resident set during
  the fit, above what the loaded data already used;
* ``predict_proba`` time for 1 sample and for 10 000 samples;
* the floor under prediction, timed in the same worker in turn with ours:
  the bare chain of matrix products and ReLUs that ``numpy_floor.py`` times
  (no bias, no validation, no softmax), over the fitted weights and the
  10 000 test rows, converted to the weights' dtype first where they differ
  (float64 input to a network trained in float32 reads twice the bytes, a
  cost any network in float32 pays), and ours / floor.

Usage::

    python benchmarks/bench_vs_sklearn.py              # all configurations
    python benchmarks/bench_vs_sklearn.py --quick      # 1 repeat, 2 epochs

MNIST is read as by :func:`sknumpy_mlp.load_mnist` (``--data`` or
``SKNUMPY_MLP_MNIST``). Timings are noisy on shared machines: compare the
ratios, which come from the same run.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

CONFIGS = {
    "seed-SGD": {
        "hidden_layer_sizes": (64, 32),
        "solver": "sgd",
        "learning_rate_init": 0.01,
    },
    "seed-Adam": {"hidden_layer_sizes": (64, 32), "solver": "adam"},
    "wide-Adam": {"hidden_layer_sizes": (512, 512), "solver": "adam"},
    # MLPScratchRegressor against MLPRegressor on make_friedman1 (see
    # _regression_data); its "accuracy" column is the test R², in percent
    "reg-Adam": {"hidden_layer_sizes": (100,), "solver": "adam"},
}
REGRESSION = {"reg-Adam"}
COMMON = {
    "batch_size": 100,
    "alpha": 1e-4,
    "shuffle": True,
    "early_stopping": False,
    "tol": 0.0,
}


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_bytes():
    # VmHWM, not ru_maxrss: ru_maxrss survives exec, so a child would inherit
    # the parent's peak; VmHWM belongs to this process's own address space.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _median_times(functions, repeats, warmup=2):
    """Median seconds of each of ``functions``, called in turn ``repeats``
    times after ``warmup`` calls each: interleaved, they share the machine's
    moments, and none is timed while it first touches its memory (on these
    virtual machines a fresh page costs more than the work on it)."""
    for function in functions:
        for _ in range(warmup):
            function()
    times = [[] for _ in functions]
    for _ in range(repeats):
        for function, spent in zip(functions, times, strict=True):
            start = time.perf_counter()
            function()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def worker(library, config, dtype, epochs, seed, cache):
    """One fit and its measurements, printed as JSON (runs in a subprocess)."""
    if config in REGRESSION:
        X, y, X_test, y_test = _regression_data(dtype)
    else:
        X = np.load(Path(cache) / f"X_train_{dtype}.npy")
        y = np.load(Path(cache) / "y_train.npy")
        X_test = np.load(Path(cache) / f"X_test_{dtype}.npy")
        y_test = np.load(Path(cache) / "y_test.npy")
    params = {
        **COMMON,
        **CONFIGS[config],
        "max_iter": epochs,
        "n_iter_no_change": epochs + 1,
        "random_state": seed,
    }
    if library == "ours" and config in REGRESSION:
        from sknumpy_mlp import MLPScratchRegressor as Estimator
    elif library == "ours":
        from sknumpy_mlp import MLPScratchClassifier as Estimator
    elif config in REGRESSION:
        from sklearn.neural_network import MLPRegressor as Estimator
    else:
        from sklearn.neural_network import MLPClassifier as Estimator
    clf = Estimator(**params)
    rss_before = _rss_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: epochs are fixed
        start = time.perf_counter()
        clf.fit(X, y)
        seconds = time.perf_counter() - start
    peak = max(0, _peak_bytes() - rss_before)
    one = X_test[:1]
    # a regressor's predict is its predict_proba: the whole forward pass
    predict = clf.predict if config in REGRESSION else clf.predict_proba
    (one_seconds,) = _median_times([lambda: predict(one)], 300)
    timed = [lambda: predict(X_test)]
    if library == "ours":  # the floor, in turn with ours
        timed.append(lambda: _product_chain(X_test, clf.coefs_))
    many_seconds = _median_times(timed, 15)
    result = {
        "epoch_seconds": seconds / clf.n_iter_,
        "n_iter": clf.n_iter_,
        "accuracy": float(clf.score(X_test, y_test)),
        "fit_peak_mb": peak / 2**20,
        "predict_1_us": 1e6 * one_seconds,
        "predict_10k_ms": 1e3 * many_seconds[0],
    }
    if library == "ours":
        result["chain_10k_ms"] = 1e3 * many_seconds[1]
    print(json.dumps(result))


def _regression_data(dtype):
    """make_friedman1's 30 000 rows, standardised, split 20 000 / 10 000."""
    from sklearn.datasets import make_friedman1
    from sklearn.preprocessing import StandardScaler

    X, y = make_friedman1(n_samples=30_000, noise=1.0, random_state=0)
    scaler = StandardScaler().fit(X[:20_000])
    X = scaler.transform(X).astype(dtype)
    return X[:20_000], y[:20_000], X[20_000:], y[20_000:]


def _product_chain(X, weights):
    """numpy_floor.py's prediction floor: products and ReLUs, nothing else."""
    A = X.astype(weights[0].dtype, copy=False) @ weights[0]
    for W in weights[1:]:
        np.maximum(A, 0, out=A)
        A = A @ W
    return A


def _run(library, config, dtype, epochs, seed, cache):
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            library,
            config,
            dtype,
            str(epochs),
            str(seed),
            cache,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _prepare(cache, data):
    from sknumpy_mlp import load_mnist

    (X, y), (X_test, y_test) = load_mnist(data)
    for dtype in ("float32", "float64"):
        np.save(Path(cache) / f"X_train_{dtype}.npy", X.astype(dtype))
        np.save(Path(cache) / f"X_test_{dtype}.npy", X_test.astype(dtype))
    np.save(Path(cache) / "y_train.npy", y)
    np.save(Path(cache) / "y_test.npy", y_test)


def _machine():
    import sklearn
    import threadpoolctl

    import sknumpy_mlp

    blas = [
        f"{i['internal_api']} {i['version']} ({i['architecture']}, "
        f"{i['num_threads']} threads)"
        for i in threadpoolctl.threadpool_info()
        if i["user_api"] == "blas"
    ]
    return (
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, sknumpy-mlp "
        f"{sknumpy_mlp.__version__}, BLAS: {', '.join(blas)}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="MNIST folder or mnist.npz")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS)
    )
    parser.add_argument(
        "--dtypes",
        nargs="+",
        default=["float32", "float64"],
        choices=["float32", "float64"],
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 repeat of 2 epochs: a smoke test, not a measurement",
    )
    parser.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        library, config, dtype, epochs, seed, cache = args.worker
        return worker(library, config, dtype, int(epochs), int(seed), cache)
    if args.quick:
        args.epochs, args.repeats = 2, 1

    print(_machine())
    print(f"{args.repeats} repeats of {args.epochs} epochs, batch 100, medians\n")
    header = (
        f"{'config':<10} {'input':<8} {'s/epoch ours':>12} {'sklearn':>8} "
        f"{'ratio':>6} | {'acc ours':>8} {'sklearn':>8} | {'peak MB ours':>12} "
        f"{'sklearn':>8} | {'proba 1 us ours':>15} {'sklearn':>8} {'ratio':>6} | "
        f"{'10k ms ours':>11} {'sklearn':>8} {'ratio':>6} | "
        f"{'floor ms':>8} {'ours/floor':>10}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as cache:
        _prepare(cache, args.data)
        for config in args.configs:
            for dtype in args.dtypes:
                runs = {"ours": [], "sklearn": []}
                for r in range(args.repeats):
                    order = ("ours", "sklearn") if r % 2 == 0 else ("sklearn", "ours")
                    for library in order:
                        runs[library].append(
                            _run(library, config, dtype, args.epochs, r, cache)
                        )
                m = {
                    lib: {
                        k: statistics.median(run[k] for run in results)
                        for k in results[0]
                    }
                    for lib, results in runs.items()
                }
                o, s = m["ours"], m["sklearn"]
                print(
                    f"{config:<10} {dtype:<8} {o['epoch_seconds']:>12.3f} "
                    f"{s['epoch_seconds']:>8.3f} "
                    f"{o['epoch_seconds'] / s['epoch_seconds']:>6.2f} | "
                    f"{100 * o['accuracy']:>8.2f} {100 * s['accuracy']:>8.2f} | "
                    f"{o['fit_peak_mb']:>12.1f} {s['fit_peak_mb']:>8.1f} | "
                    f"{o['predict_1_us']:>15.0f} {s['predict_1_us']:>8.0f} "
                    f"{o['predict_1_us'] / s['predict_1_us']:>6.2f} | "
                    f"{o['predict_10k_ms']:>11.2f} {s['predict_10k_ms']:>8.2f} "
                    f"{o['predict_10k_ms'] / s['predict_10k_ms']:>6.2f} | "
                    f"{o['chain_10k_ms']:>8.2f} "
                    f"{o['predict_10k_ms'] / o['chain_10k_ms']:>10.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
