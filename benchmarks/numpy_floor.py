"""How fast can plain NumPy go? The floor under bench_vs_sklearn.py's targets.

Two measurements, each next to scikit-learn's ``MLPClassifier`` in the same
process (these machines are noisy: compare the ratios):

* training: a hand-written epoch of the (64, 32) network on float32 MNIST with
  nothing but the work itself (the shuffled gather, three products forward,
  softmax cross-entropy, five products backward, bias sums as products, the L2
  term and a Nesterov step over one flat array, all buffers preallocated), no
  validation, no abstraction; against ``MLPClassifier(solver="sgd")``'s time
  per epoch (fit for 5 epochs, over 5, as in bench_vs_sklearn.py);
* prediction: a plain chain of float32 matrix products and ReLUs over 10 000
  rows, without validation and without a softmax, against scikit-learn's whole
  ``predict_proba`` on the same network.

Usage::

    python benchmarks/numpy_floor.py [--data MNIST_FOLDER] [--repeats 5]
"""

import argparse
import statistics
import time
import warnings

import numpy as np


def nesterov_epoch(X, Y, params, grads, velocity, rng, lr=0.01, mu=0.9, alpha=1e-4):
    """One epoch of mini-batch SGD for 784-64-32-10; the bare minimum of work."""
    n, batch = X.shape[0], 100
    (W1, W2, W3), (b1, b2, b3), (G1, G2, G3), (g1, g2, g3) = params_views(params, grads)
    ones = np.ones(batch, dtype=np.float32)
    Z1 = np.empty((batch, 64), np.float32)
    Z2 = np.empty((batch, 32), np.float32)
    Z3 = np.empty((batch, 10), np.float32)
    D1, D2 = np.empty_like(Z1), np.empty_like(Z2)
    n_weights = W1.size + W2.size + W3.size
    weights, weight_grads = params[:n_weights], grads[:n_weights]
    scratch = np.empty(n_weights, np.float32)
    order = rng.permutation(n)
    loss = 0.0  # the summed cross-entropy (the penalty left out)
    for start in range(0, n, batch):
        rows = order[start : start + batch]
        A0, T = X[rows], Y[rows]
        np.matmul(A0, W1, out=Z1)
        Z1 += b1
        np.maximum(Z1, 0, out=Z1)
        np.matmul(Z1, W2, out=Z2)
        Z2 += b2
        np.maximum(Z2, 0, out=Z2)
        np.matmul(Z2, W3, out=Z3)
        Z3 += b3
        Z3 -= Z3.max(axis=1, keepdims=True)
        loss -= float(np.vdot(T, Z3))
        np.exp(Z3, out=Z3)
        sums = Z3.sum(axis=1, keepdims=True)
        loss += float(np.log(sums).sum())
        Z3 /= sums
        Z3 -= T
        Z3 *= np.float32(1 / batch)
        np.matmul(Z2.T, Z3, out=G3)
        np.matmul(ones, Z3, out=g3)
        np.matmul(Z3, W3.T, out=D2)
        D2 *= Z2 > 0
        np.matmul(Z1.T, D2, out=G2)
        np.matmul(ones, D2, out=g2)
        np.matmul(D2, W2.T, out=D1)
        D1 *= Z1 > 0
        np.matmul(A0.T, D1, out=G1)
        np.matmul(ones, D1, out=g1)
        np.multiply(weights, np.float32(alpha / batch), out=scratch)
        weight_grads += scratch
        grads *= np.float32(lr)
        velocity *= np.float32(mu)
        velocity -= grads
        params -= grads
        np.multiply(velocity, np.float32(mu), out=grads)
        params += grads
    return loss / n


def params_views(params, grads):
    shapes = [(784, 64), (64, 32), (32, 10)]
    views = []
    for flat in (params, grads):
        offset, weights, biases = 0, [], []
        for shape in shapes:
            weights.append(flat[offset : offset + shape[0] * shape[1]].reshape(shape))
            offset += shape[0] * shape[1]
        for shape in shapes:
            biases.append(flat[offset : offset + shape[1]])
            offset += shape[1]
        views += [weights, biases]
    return views[0], views[1], views[2], views[3]


def initial_state(seed=0):
    """He-initialised flat parameters, zero gradients and velocity, and an rng."""
    rng = np.random.default_rng(seed)
    size = 784 * 64 + 64 * 32 + 32 * 10 + 64 + 32 + 10
    params = np.zeros(size, np.float32)
    (W1, W2, W3), _, _, _ = params_views(params, params)
    for W in (W1, W2, W3):
        W[...] = rng.standard_normal(W.shape) * np.sqrt(2 / W.shape[0])
    return params, np.zeros_like(params), np.zeros_like(params), rng


def sklearn_epoch_seconds(X, y):
    """Seconds per epoch of ``MLPClassifier(solver="sgd")`` fitting 5 epochs."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    sk = MLPClassifier(
        hidden_layer_sizes=(64, 32),
        solver="sgd",
        learning_rate_init=0.01,
        batch_size=100,
        alpha=1e-4,
        max_iter=5,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        begin = time.perf_counter()
        sk.fit(X, y)
        return (time.perf_counter() - begin) / sk.n_iter_


def main(argv=None):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from sknumpy_mlp import load_mnist

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="MNIST folder or mnist.npz")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    (X, y), (X_test, _) = load_mnist(args.data)
    X, X_test = X.astype(np.float32), X_test.astype(np.float32)
    Y = np.eye(10, dtype=np.float32)[y]
    state = initial_state()

    ours, theirs = [], []
    for _ in range(args.repeats):  # interleaved
        begin = time.perf_counter()
        nesterov_epoch(X, Y, *state)
        ours.append(time.perf_counter() - begin)
        theirs.append(sklearn_epoch_seconds(X, y))
    a, b = statistics.median(ours), statistics.median(theirs)
    print(
        f"training, s/epoch: bare NumPy loop {a:.3f}, scikit-learn {b:.3f}, "
        f"ratio {a / b:.2f}"
    )

    for hidden in [(64, 32), (512, 512)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            sk = MLPClassifier(hidden_layer_sizes=hidden, max_iter=1).fit(
                X[:2000], y[:2000]
            )
        weights = [w.astype(np.float32) for w in sk.coefs_]

        def chain(weights=weights):
            A = X_test @ weights[0]
            for W in weights[1:]:
                np.maximum(A, 0, out=A)
                A = A @ W

        times = {}
        for name, function in (
            ("chain", chain),
            ("sklearn", lambda sk=sk: sk.predict_proba(X_test)),
        ):
            runs = []
            for _ in range(5 * args.repeats):
                start = time.perf_counter()
                function()
                runs.append(time.perf_counter() - start)
            times[name] = statistics.median(runs)
        print(
            f"predict 10 000 rows {hidden}, ms: plain float32 products "
            f"{1e3 * times['chain']:.2f}, scikit-learn's predict_proba "
            f"{1e3 * times['sklearn']:.2f}, ratio "
            f"{times['chain'] / times['sklearn']:.2f}"
        )


if __name__ == "__main__":
    main()
