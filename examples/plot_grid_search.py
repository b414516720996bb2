"""
Grid search over hidden sizes
=============================

:class:`~sklearn.model_selection.GridSearchCV` over ``hidden_layer_sizes``
on 10 000 MNIST images with 3-fold cross-validation (each fit stopping
early on its own validation split), then the mean test score
and the mean fit time of every candidate, with one standard deviation over the
folds. Wider and deeper networks score higher and cost more; the project's
main job (``examples/mnist_gridsearch.py``) runs the same search on all of
MNIST.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV

from sknumpy_mlp import MLPScratchClassifier, load_mnist

(X_train, y_train), _ = load_mnist()
X, y = X_train[:10_000], y_train[:10_000]

grid = {"hidden_layer_sizes": [(32,), (64,), (64, 32), (128, 64), (256, 128)]}
search = GridSearchCV(
    MLPScratchClassifier(early_stopping=True, n_iter_no_change=5, random_state=0),
    grid,
    cv=3,
    n_jobs=-1,
)
search.fit(X, y)
print(f"best: {search.best_params_}, CV accuracy {search.best_score_:.4f}")

# %%
results = search.cv_results_
labels = [str(p["hidden_layer_sizes"]) for p in results["params"]]
x = np.arange(len(labels))
fig, (ax_score, ax_time) = plt.subplots(1, 2, figsize=(10, 4))
ax_score.errorbar(
    x, results["mean_test_score"], yerr=results["std_test_score"], fmt="o-"
)
ax_score.set_ylabel("mean CV accuracy")
ax_time.bar(x, results["mean_fit_time"], yerr=results["std_fit_time"], color="C1")
ax_time.set_ylabel("mean fit time (s)")
for ax in (ax_score, ax_time):
    ax.set_xticks(x, labels, rotation=30)
    ax.set_xlabel("hidden_layer_sizes")
fig.tight_layout()
plt.show()
