"""
Batch normalization at a high learning rate
===========================================

A deep MLP (four hidden layers of 128 ReLU units) trained on 10 000 MNIST
images with plain SGD at a learning rate of 0.2, with and without batch
normalization (``normalization='batch'``: each hidden layer's pre-activation
is normalised over the batch before its ReLU, then scaled and shifted by
learned parameters). Without it, the first epochs barely move the loss at this
rate; with it, the same rate trains at once: the normalised pre-activations
keep the gradients of every layer on the same scale (Ioffe and Szegedy,
2015).
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning

from sknumpy_mlp import MLPScratchClassifier, load_mnist

(X_train, y_train), (X_test, y_test) = load_mnist()
X_train, y_train = X_train[:10_000], y_train[:10_000]

curves = {}
for normalization in (None, "batch"):
    clf = MLPScratchClassifier(
        hidden_layer_sizes=(128, 128, 128, 128),
        solver="sgd",
        momentum=0.9,
        learning_rate_init=0.2,
        normalization=normalization,
        max_iter=15,
        n_iter_no_change=15,
        early_stopping=False,
        random_state=0,
    )
    with warnings.catch_warnings():  # all 15 epochs run on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    name = "batch normalization" if normalization else "no normalization"
    curves[name] = clf.loss_curve_
    print(f"{name}: test accuracy {clf.score(X_test, y_test):.4f}")

# %%
# The training loss of every epoch, side by side.
fig, ax = plt.subplots(figsize=(6, 4))
for name, losses in curves.items():
    ax.plot(range(1, len(losses) + 1), losses, marker="o", label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_yscale("log")
ax.set_title("4 hidden layers, SGD at learning rate 0.2")
ax.legend()
plt.show()
