"""
Training curves
===============

Train on 20 000 MNIST images with early stopping, which holds out 10 % of
them as a validation set, and plot the training loss, the validation loss and
the validation accuracy of every epoch with
:class:`~sknumpy_mlp.plotting.TrainingCurvesDisplay`. Training stops once the
validation accuracy has not improved for ``n_iter_no_change`` epochs, and
the estimator keeps the weights of its best epoch.
"""

import matplotlib.pyplot as plt

from sknumpy_mlp import MLPScratchClassifier, load_mnist
from sknumpy_mlp.plotting import TrainingCurvesDisplay

(X_train, y_train), (X_test, y_test) = load_mnist()
X_train, y_train = X_train[:20_000], y_train[:20_000]

clf = MLPScratchClassifier(
    hidden_layer_sizes=(64, 32), early_stopping=True, max_iter=60, random_state=0
)
clf.fit(X_train, y_train)
best = clf.best_validation_score_
print(f"{clf.n_iter_} epochs; best validation accuracy {best:.4f}")
print(f"test accuracy: {clf.score(X_test, y_test):.4f}")

# %%
# The training loss keeps falling while the validation loss turns up: the
# network starts to memorise its 18 000 training images. Early stopping keeps
# the epoch with the best validation accuracy.
display = TrainingCurvesDisplay.from_estimator(clf, name="MNIST, 20 000 images")
display.ax_.set_yscale("log")
plt.show()
