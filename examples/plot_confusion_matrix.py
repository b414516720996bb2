"""
Confusion matrix and misclassified digits
=========================================

Train the default network on all 60 000 MNIST training images, then look at
its mistakes on the 10 000 test images: scikit-learn's
:class:`~sklearn.metrics.ConfusionMatrixDisplay` counts them by true and
predicted digit, and :class:`~sknumpy_mlp.plotting.MisclassifiedDisplay`
shows some of them with the predicted and true labels.
"""

import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay

from sknumpy_mlp import MLPScratchClassifier, load_mnist
from sknumpy_mlp.plotting import MisclassifiedDisplay

(X_train, y_train), (X_test, y_test) = load_mnist()
clf = MLPScratchClassifier(random_state=0).fit(X_train, y_train)
y_pred = clf.predict(X_test)
print(f"test accuracy: {clf.score(X_test, y_test):.4f}")
print(f"{(y_pred != y_test).sum()} of {len(y_test)} test digits misclassified")

# %%
# The most frequent confusions are between digits that share strokes, such as
# 4 and 9, 3 and 5, or 7 and 2.
display = ConfusionMatrixDisplay.from_predictions(y_test, y_pred, colorbar=False)
display.ax_.set_title("MNIST test set")
display.figure_.set_size_inches(7, 6)

# %%
# Many of the mistakes are digits a person would hesitate over too.
MisclassifiedDisplay.from_predictions(X_test, y_test, y_pred, n_images=32)
plt.show()
