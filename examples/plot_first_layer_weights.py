"""
What the first layer learned
============================

Each unit of the first hidden layer has one weight per pixel, so its weights
can be drawn as a 28x28 image: red where ink raises the unit's input, blue
where it lowers it. Drawn with
:class:`~sknumpy_mlp.plotting.WeightImagesDisplay` for a network trained on
20 000 MNIST images: each unit weighs a few blobs and strokes of the central
area against each other, over the speckle of its random initial weights. The
pixels near the border, which never hold ink, get no gradient from the data,
so the L2 penalty (``alpha``) shrinks their weights to zero: the pale frame.
"""

import matplotlib.pyplot as plt

from sknumpy_mlp import MLPScratchClassifier, load_mnist
from sknumpy_mlp.plotting import WeightImagesDisplay

(X_train, y_train), (X_test, y_test) = load_mnist()
clf = MLPScratchClassifier(
    hidden_layer_sizes=(64, 32), alpha=1e-2, early_stopping=True, random_state=0
)
clf.fit(X_train[:20_000], y_train[:20_000])
print(f"test accuracy: {clf.score(X_test, y_test):.4f}")

display = WeightImagesDisplay.from_estimator(clf, n_units=48, n_cols=8)
display.figure_.suptitle("First-layer weights of 48 of the 64 units")
plt.show()
