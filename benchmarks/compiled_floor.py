"""An experiment: the floor under the training target if NumPy's per-call cost went.

``numpy_floor.py`` shows that a bare NumPy epoch of the (64, 32) network is
about 0.47x scikit-learn's. This script asks how much of the rest is NumPy's
own overhead (some 40 calls per batch, each a pass over memory): it runs the
same epoch with every element-wise step of a batch fused into a few compiled
loops (numba), the matrix products still NumPy's (OpenBLAS), and times the
parts of the batch. Numba is not a dependency of this project (the engine is
NumPy only); install it to run this::

    pip install numba
    python benchmarks/compiled_floor.py [--data MNIST_FOLDER] [--repeats 5]

It prints, per epoch, the mean loss and time of the compiled-kernel epoch, of
``numpy_floor.nesterov_epoch`` (the same arithmetic in NumPy calls; the losses
agree to about 3 digits, the sums being taken in another order, and the
script stops if they differ by more than 1 %) and of
scikit-learn's ``MLPClassifier(solver="sgd")``, then the medians and where the
compiled epoch's time went.
"""

import argparse
import statistics
import time

import numba
import numpy as np
from numpy_floor import (
    initial_state,
    nesterov_epoch,
    params_views,
    sklearn_epoch_seconds,
)


@numba.njit(cache=True)
def bias_relu(Z, b):
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            v = Z[i, j] + b[j]
            Z[i, j] = v if v > 0 else 0


@numba.njit(cache=True)
def softmax_cross_entropy(Z, b, labels, scale):
    """Z becomes the loss gradient (softmax - one-hot) * scale; returns the loss."""
    loss = 0.0
    for i in range(Z.shape[0]):
        top = -np.inf
        for j in range(Z.shape[1]):
            Z[i, j] += b[j]
            top = max(top, Z[i, j])
        total = 0.0
        for j in range(Z.shape[1]):
            Z[i, j] = np.exp(Z[i, j] - top)
            total += Z[i, j]
        loss += np.log(total) - np.log(Z[i, labels[i]])
        for j in range(Z.shape[1]):
            Z[i, j] /= total
        Z[i, labels[i]] -= 1
        for j in range(Z.shape[1]):
            Z[i, j] *= scale
    return loss


@numba.njit(cache=True)
def column_sums(D, out):
    out[:] = 0
    for i in range(D.shape[0]):
        for j in range(D.shape[1]):
            out[j] += D[i, j]


@numba.njit(cache=True)
def relu_backward(D, A, bias_grad):
    """D *= (A > 0), and the bias gradient, in one pass."""
    bias_grad[:] = 0
    for i in range(D.shape[0]):
        for j in range(D.shape[1]):
            if A[i, j] <= 0:
                D[i, j] = 0
            bias_grad[j] += D[i, j]


@numba.njit(cache=True)
def nesterov_l2(params, grads, velocity, lr, mu, l2, n_weights):
    """The L2 term on the weights, then a Nesterov step over every parameter."""
    for k in range(n_weights):
        grads[k] += l2 * params[k]
    for k in range(params.size):
        v = mu * velocity[k] - lr * grads[k]
        velocity[k] = v
        params[k] += mu * v - lr * grads[k]


def compiled_epoch(X, y, params, grads, velocity, rng, parts, lr=0.01, mu=0.9):
    """One epoch like numpy_floor.nesterov_epoch; ``parts`` accumulates seconds."""
    n, batch, alpha = X.shape[0], 100, 1e-4
    (W1, W2, W3), (b1, b2, b3), (G1, G2, G3), (g1, g2, g3) = params_views(params, grads)
    Z1 = np.empty((batch, 64), np.float32)
    Z2 = np.empty((batch, 32), np.float32)
    Z3 = np.empty((batch, 10), np.float32)
    D1, D2 = np.empty_like(Z1), np.empty_like(Z2)
    n_weights = W1.size + W2.size + W3.size
    lr, mu, l2 = np.float32(lr), np.float32(mu), np.float32(alpha / batch)
    order = rng.permutation(n)
    loss, clock = 0.0, time.perf_counter
    for start in range(0, n, batch):
        t0 = clock()
        rows = order[start : start + batch]
        A0 = X[rows]
        t1 = clock()
        np.matmul(A0, W1, out=Z1)
        t2 = clock()
        bias_relu(Z1, b1)
        np.matmul(Z1, W2, out=Z2)
        bias_relu(Z2, b2)
        np.matmul(Z2, W3, out=Z3)
        loss += softmax_cross_entropy(Z3, b3, y[rows], np.float32(1 / batch))
        np.matmul(Z2.T, Z3, out=G3)
        column_sums(Z3, g3)
        np.matmul(Z3, W3.T, out=D2)
        relu_backward(D2, Z2, g2)
        np.matmul(Z1.T, D2, out=G2)
        np.matmul(D2, W2.T, out=D1)
        relu_backward(D1, Z1, g1)
        t3 = clock()
        np.matmul(A0.T, D1, out=G1)
        t4 = clock()
        nesterov_l2(params, grads, velocity, lr, mu, l2, n_weights)
        t5 = clock()
        for i, seconds in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            parts[i] += seconds
    return loss / n


def main(argv=None):
    from sknumpy_mlp import load_mnist

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="MNIST folder or mnist.npz")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    (X, y), _ = load_mnist(args.data)
    X, y = X.astype(np.float32), y.astype(np.int64)
    Y = np.eye(10, dtype=np.float32)[y]
    compiled, bare = initial_state(), initial_state()
    compiled_epoch(X[:200], y[:200], *initial_state(), [0.0] * 5)  # compile first
    parts = [0.0] * 5
    times = {"compiled": [], "numpy": [], "sklearn": []}
    for epoch in range(args.repeats):  # interleaved
        begin = time.perf_counter()
        a = compiled_epoch(X, y, *compiled, parts)
        times["compiled"].append(time.perf_counter() - begin)
        begin = time.perf_counter()
        b = nesterov_epoch(X, Y, *bare)
        times["numpy"].append(time.perf_counter() - begin)
        times["sklearn"].append(sklearn_epoch_seconds(X, y))
        # the same training, or the comparison means nothing
        if abs(a - b) > 1e-2 * b:
            raise AssertionError(f"losses differ: compiled {a}, NumPy {b}")
        print(
            f"epoch {epoch}: compiled kernels loss {a:.4f} in "
            f"{times['compiled'][-1]:.3f} s, NumPy calls loss {b:.4f} in "
            f"{times['numpy'][-1]:.3f} s, scikit-learn {times['sklearn'][-1]:.3f} s"
        )
    c, n, s = (statistics.median(times[k]) for k in ("compiled", "numpy", "sklearn"))
    print(
        f"training, s/epoch: compiled element-wise kernels {c:.3f} ({c / s:.2f}x), "
        f"bare NumPy loop {n:.3f} ({n / s:.2f}x), scikit-learn {s:.3f}"
    )
    names = ("gather", "first product", "middle", "first-layer gradient", "update")
    print(
        "compiled epoch, mean ms: "
        + ", ".join(
            f"{name} {1e3 * t / args.repeats:.1f}"
            for name, t in zip(names, parts, strict=True)
        )
    )


if __name__ == "__main__":
    main()
