"""
Data augmentation: distorted digits
===================================

:class:`~sknumpy_mlp.ImageAugmenter` is what takes a plain MLP above 99 % on
MNIST (``examples/mnist_record.py``): given to the estimator as
``augment=``, it distorts every training batch anew each epoch. Here it is
applied by hand to eight digits, five times each: a random shift of up to 2
pixels, a rotation of up to 12 degrees, a scaling of up to 10 % and a smooth
elastic deformation, all in one bilinear resampling.
"""

import matplotlib.pyplot as plt

from sknumpy_mlp import ImageAugmenter, load_mnist

(X_train, y_train), _ = load_mnist()
digits = X_train[:8]
augmenter = ImageAugmenter(
    (28, 28), max_shift=2, max_rotation=12, max_scale=0.1, elastic_alpha=1.5
)
versions = [digits] + [augmenter.transform(digits, seed) for seed in range(5)]

fig, axes = plt.subplots(len(versions), len(digits), figsize=(8, 6))
for row, images in enumerate(versions):
    for col, image in enumerate(images):
        ax = axes[row, col]
        ax.imshow(image.reshape(28, 28), cmap="gray_r")
        ax.set_axis_off()
    axes[row, 0].set_title("original" if row == 0 else f"seed {row - 1}", loc="left")
fig.tight_layout()
plt.show()
