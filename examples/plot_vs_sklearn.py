"""
Side by side with scikit-learn's MLPClassifier
==============================================

The same network (784-64-32-10, ReLU), the same solver (Adam, learning rate
0.001), the same batch size (100), L2 penalty and number of epochs, trained by
this package and by scikit-learn's
:class:`~sklearn.neural_network.MLPClassifier` on 20 000 MNIST images: the
test accuracy and the fit time of each. ``benchmarks/bench_vs_sklearn.py``
measures the same comparison more carefully (interleaved repeats, memory,
prediction time); see the performance page.
"""

import time
import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from sknumpy_mlp import MLPScratchClassifier, load_mnist

(X_train, y_train), (X_test, y_test) = load_mnist()
X_train, y_train = X_train[:20_000], y_train[:20_000]
settings = dict(
    hidden_layer_sizes=(64, 32),
    solver="adam",
    learning_rate_init=0.001,
    batch_size=100,
    alpha=1e-4,
    max_iter=10,
    early_stopping=False,
    random_state=0,
)
models = {
    "sknumpy-mlp": MLPScratchClassifier(**settings),
    "scikit-learn": MLPClassifier(**settings),
}
accuracy, seconds = {}, {}
for name, model in models.items():
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 10 epochs, on purpose
        model.fit(X_train, y_train)
    seconds[name] = time.perf_counter() - start
    accuracy[name] = model.score(X_test, y_test)
    print(f"{name:>12}: test accuracy {accuracy[name]:.4f}, fit {seconds[name]:.2f} s")

# %%
fig, (ax_acc, ax_time) = plt.subplots(1, 2, figsize=(9, 3.5))
names = list(models)
ax_acc.bar(names, [100 * accuracy[n] for n in names], color=["C0", "C1"])
ax_acc.set_ylim(90, 100)
ax_acc.set_ylabel("test accuracy (%)")
ax_time.bar(names, [seconds[n] for n in names], color=["C0", "C1"])
ax_time.set_ylabel("fit time, 10 epochs (s)")
fig.tight_layout()
plt.show()
