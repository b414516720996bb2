"""
Regression on the diabetes data, side by side with MLPRegressor
===============================================================

:class:`~sknumpy_mlp.MLPScratchRegressor` and scikit-learn's
:class:`~sklearn.neural_network.MLPRegressor` with the same settings (one
hidden layer of 100 ReLU units, Adam at 0.01, ``alpha=1``, 150 epochs,
standardised inputs) on :func:`~sklearn.datasets.load_diabetes`, three seeds each: the
test R² of every fit, and predicted against measured disease progression for
the first seed. The Huber loss, which this package adds, is shown beside them.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpy_mlp import MLPScratchRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
settings = dict(
    hidden_layer_sizes=(100,),
    learning_rate_init=0.01,
    max_iter=150,
    alpha=1.0,
    batch_size="auto",
    early_stopping=False,
)
makers = {
    "scikit-learn": lambda seed: MLPRegressor(**settings, random_state=seed),
    "sknumpy-mlp": lambda seed: MLPScratchRegressor(**settings, random_state=seed),
    "sknumpy-mlp, Huber": lambda seed: MLPScratchRegressor(
        **settings, loss="huber", huber_delta=30.0, random_state=seed
    ),
}
scores, first = {}, {}
for name, make in makers.items():
    scores[name] = []
    for seed in range(3):
        model = make_pipeline(StandardScaler(), make(seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # fixed epochs
            model.fit(X_train, y_train)
        scores[name].append(model.score(X_test, y_test))
        first.setdefault(name, model.predict(X_test))
    print(f"{name:>20}: test R² " + ", ".join(f"{s:.3f}" for s in scores[name]))

# %%
fig, axes = plt.subplots(1, len(makers), figsize=(11, 3.6), sharey=True)
for ax, name in zip(axes, makers, strict=True):
    ax.scatter(y_test, first[name], s=10)
    ax.plot([y.min(), y.max()], [y.min(), y.max()], color="grey", lw=1)
    ax.set_title(f"{name}\nmedian R² {np.median(scores[name]):.3f}")
    ax.set_xlabel("measured")
axes[0].set_ylabel("predicted")
fig.tight_layout()
plt.show()
