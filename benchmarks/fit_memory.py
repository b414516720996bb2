"""Peak memory of a default ``fit`` on a large float64 data set, against
scikit-learn's ``MLPClassifier`` with its defaults.

Each fit runs in a fresh process; the figure is the growth of that
process's peak resident set (``VmHWM``, which, unlike ``ru_maxrss``, is not
inherited across fork/exec) over its resident set just before ``fit``. Two
epochs (memory does not grow with epochs). Linux only.

    python benchmarks/fit_memory.py [--samples 200000] [--repeats 3]
"""

import argparse
import json
import statistics
import subprocess
import sys


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def worker(library, n_samples):
    import warnings

    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.random((n_samples, 784))  # float64, as MNIST scaled to [0, 1]
    y = rng.integers(0, 10, n_samples)
    if library == "ours":
        from sknumpy_mlp import MLPScratchClassifier as Estimator
    else:
        from sklearn.neural_network import MLPClassifier as Estimator
    clf = Estimator(max_iter=2, random_state=0)
    before = _status("VmRSS")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: two epochs
        clf.fit(X, y)
    growth = _status("VmHWM") - before
    print(json.dumps({"library": library, "growth_mb": growth / 2**20}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.samples)
    results = {"sknumpy-mlp": [], "scikit-learn": []}
    for _ in range(args.repeats):
        for name, library in (("sknumpy-mlp", "ours"), ("scikit-learn", "sklearn")):
            out = subprocess.run(
                [sys.executable, __file__, "--worker", library,
                 "--samples", str(args.samples)],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            results[name].append(json.loads(out)["growth_mb"])
    print(f"default fit, {args.samples} x 784 float64: peak memory growth, MB")
    for name, values in results.items():
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(f"  {name:<13} median {statistics.median(values):7.1f}  ({shown})")
    ratio = statistics.median(results["sknumpy-mlp"]) / statistics.median(
        results["scikit-learn"]
    )
    print(f"  ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
