"""Draw the gallery thumbnails of the examples that the docs build does not
run (long MNIST jobs and command-line scripts); run by hand, the PNGs are
committed: ``python docs/make_thumbnails.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

OUT = Path(__file__).parent / "_static" / "thumbnails"


def _save(fig, name):
    fig.savefig(OUT / f"{name}.png", dpi=80)
    plt.close(fig)


def _digits(ax, images, title):
    images = np.asarray(images[:16])
    grid = images.reshape(4, 4, 8, 8).transpose(0, 2, 1, 3).reshape(32, 32)
    ax.imshow(grid, cmap="gray_r")
    ax.set_title(title, fontsize=11)
    ax.axis("off")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    digits = load_digits().images / 16
    rng = np.random.default_rng(0)

    fig, ax = plt.subplots(figsize=(4, 3))
    _digits(ax, digits[:16], "train the original network")
    _save(fig, "train_mnist")

    fig, ax = plt.subplots(figsize=(4, 3))
    matrix = np.eye(10) * 95 + rng.random((10, 10)) * 4
    ax.imshow(matrix, cmap="Blues")
    ax.set_title("accuracy and confusion on the test digits", fontsize=10)
    ax.set_xticks([]), ax.set_yticks([])
    _save(fig, "evaluate_mnist")

    fig, ax = plt.subplots(figsize=(4, 3))
    shapes = ["(64,)", "(64, 32)", "(128, 64)"]
    ax.bar(shapes, [2, 3, 4], color="tab:blue")  # a sketch, not results
    ax.set_yticks([])
    ax.set_title("grid search over hidden_layer_sizes", fontsize=11)
    _save(fig, "mnist_gridsearch")

    fig, ax = plt.subplots(figsize=(4, 3))
    shifted = [np.roll(d, rng.integers(-1, 2), axis=rng.integers(0, 2)) for d in digits]
    _digits(ax, shifted[16:32], "record recipe: distorted digits")
    _save(fig, "mnist_record")

    fig, ax = plt.subplots(figsize=(4, 3))
    for i in range(4):
        ax.barh(i, 1, left=0, color=f"C{i}")
        ax.text(0.5, i, f"worker {i + 1}", ha="center", va="center", color="w")
    ax.set_title("grid search on a Dask cluster", fontsize=11)
    ax.axis("off")
    _save(fig, "dask_gridsearch")

    fig, ax = plt.subplots(figsize=(4, 3))
    for i in range(6):
        ax.barh(0, 1, left=i * 1.1, color="tab:green")
        ax.text(i * 1.1 + 0.5, 0, f"{i + 1}", ha="center", va="center", color="w")
    ax.set_xlim(-0.2, 6.8)
    ax.set_title("partial_fit, chunk by chunk", fontsize=11)
    ax.axis("off")
    _save(fig, "mnist_out_of_core")


if __name__ == "__main__":
    main()
