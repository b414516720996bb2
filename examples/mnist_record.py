"""
MNIST above 99 % with a pure-NumPy MLP
======================================

The project's accuracy recipe: one command that trains a plain multi-layer
perceptron (no convolutions) from scratch on the 60 000 MNIST training images
and prints its accuracy on the 10 000 test images, in 10 to 25 minutes on
two CPU cores, depending on the CPU. What gets it there, each a parameter of
:class:`~sknumpy_mlp.MLPScratchClassifier`:

- width: two hidden layers of 1024 ReLU units (1.9 million weights);
- data augmentation (``augment=ImageAugmenter(...)``): every training batch is
  distorted anew each epoch by a random shift (up to 2 pixels), rotation (up
  to 12 degrees), scaling (up to 10 %) and a smooth elastic deformation, so the
  network never sees the same image twice;
- a max-norm constraint (``max_norm=2``) on every unit's incoming weights and
  a little dropout (0.1);
- Adam with batches of 256 and a cosine learning-rate schedule that anneals
  to zero over the run, so the last epochs settle into a minimum.

It prints one line per epoch, then the accuracy of test-time augmentation
(:meth:`~sknumpy_mlp.ImageAugmenter.average`: each test image's
probabilities averaged with those of 32 random distortions of it), and ends
with ``test accuracy: 0.99xx``, the network's on the test images as they
are. The measured results are in the documentation. ``--deskew``,
``--rotation`` and the other options try the variants it lists.
"""

# sphinx_gallery_thumbnail_path = "_static/thumbnails/mnist_record.png"

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sknumpy_mlp import ImageAugmenter, MLPScratchClassifier, deskew, load_mnist


def recipe(epochs, seed, rotation=12.0, **changes):
    """The estimator of the record, unfitted (``rotation``: the augmenter's
    largest rotation; ``changes``: parameters to try instead of the recipe's,
    e.g. ``label_smoothing=0.1``)."""
    return MLPScratchClassifier(**{**_recipe_params(epochs, seed, rotation), **changes})


def _recipe_params(epochs, seed, rotation):
    return dict(
        hidden_layer_sizes=(1024, 1024),
        batch_size=256,
        learning_rate_init=0.001,
        learning_rate="cosine",
        max_iter=epochs,
        # every epoch of the schedule runs: no early stopping, no stop on a
        # stalled training loss
        early_stopping=False,
        n_iter_no_change=epochs,
        alpha=0.0,
        dropout=0.1,
        max_norm=2.0,
        augment=ImageAugmenter(
            (28, 28),
            max_shift=2,
            max_rotation=rotation,
            max_scale=0.1,
            elastic_alpha=1.5,
        ),
        random_state=seed,
        verbose=True,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--data", help="folder with the MNIST IDX files, or mnist.npz")
    parser.add_argument("--seed", type=int, default=0, help="random_state")
    parser.add_argument(
        "--epochs",
        type=int,
        default=90,
        help="epochs of the cosine schedule (default: 90)",
    )
    parser.add_argument(
        "--views",
        type=int,
        default=32,
        help="distortions per test image for test-time augmentation (0: none)",
    )
    parser.add_argument(
        "--deskew",
        action="store_true",
        help="train and test on deskewed images (sknumpy_mlp.deskew)",
    )
    parser.add_argument(
        "--rotation", type=float, default=12.0, help="largest rotation in degrees"
    )
    parser.add_argument(
        "--output",
        help="save the trained model to this file (with --deskew it takes "
        "deskewed images)",
    )
    parser.add_argument(
        "--hidden-layers",
        type=int,
        nargs="+",
        metavar="UNITS",
        help="units of each hidden layer (default: 1024 1024)",
    )
    parser.add_argument(
        "--output-max-norm",
        type=float,
        help="max-norm of the output layer alone (default: the hidden layers' 2)",
    )
    parser.add_argument(
        "--label-smoothing", type=float, default=0.0, help="try label smoothing"
    )
    parser.add_argument(
        "--normalization", choices=["batch", "layer"], help="try a normalization"
    )
    parser.add_argument(
        "--schedule",
        choices=["cosine", "linear"],
        default="cosine",
        help="learning-rate schedule to zero (default: cosine)",
    )
    parser.add_argument(
        "--average-epochs",
        type=int,
        default=0,
        help="end with the average of the last epochs' weights (0: none)",
    )
    parser.add_argument(
        "--average-learning-rate",
        type=float,
        help="constant learning rate of the averaged epochs (default: the schedule's)",
    )
    parser.add_argument(
        "--anneal-epochs",
        type=int,
        default=0,
        help="shrink the distortions over the last epochs (0: never)",
    )
    parser.add_argument(
        "--final-strength",
        type=float,
        default=0.25,
        help="size of the last epoch's distortions, a fraction of the full "
        "size (with --anneal-epochs; default: 0.25)",
    )
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be positive")
    if not 0 <= args.average_epochs <= args.epochs:
        parser.error("--average-epochs must be between 0 and --epochs")
    if args.views < 0:
        parser.error("--views must be 0 or more")
    if args.hidden_layers and min(args.hidden_layers) < 1:
        parser.error("--hidden-layers must be positive")
    if args.output_max_norm is not None and args.output_max_norm <= 0:
        parser.error("--output-max-norm must be positive")
    if not 0 <= args.anneal_epochs <= args.epochs:
        parser.error("--anneal-epochs must be between 0 and --epochs")
    if not 0 <= args.final_strength <= 1:
        parser.error("--final-strength must be between 0 and 1")

    start = time.perf_counter()
    (X_train, y_train), (X_test, y_test) = load_mnist(args.data)
    if args.deskew:
        X_train, X_test = deskew(X_train), deskew(X_test)
    defaults = _recipe_params(args.epochs, args.seed, args.rotation)
    changes = {}
    if args.hidden_layers:
        changes["hidden_layer_sizes"] = tuple(args.hidden_layers)
    if args.output_max_norm is not None:
        hidden = changes.get("hidden_layer_sizes", defaults["hidden_layer_sizes"])
        changes["max_norm"] = (defaults["max_norm"],) * len(hidden) + (
            args.output_max_norm,
        )
    if args.label_smoothing:
        changes["label_smoothing"] = args.label_smoothing
    if args.normalization:
        changes["normalization"] = args.normalization
    if args.schedule != "cosine":
        changes["learning_rate"] = args.schedule
    if args.average_epochs:
        changes["average_epochs"] = args.average_epochs
    if args.average_learning_rate is not None:
        changes["average_learning_rate"] = args.average_learning_rate
    if args.anneal_epochs:
        changes["augment"] = defaults["augment"].set_params(
            anneal_epochs=args.anneal_epochs, final_strength=args.final_strength
        )
    clf = recipe(args.epochs, args.seed, args.rotation, **changes)
    print(
        f"training {clf.hidden_layer_sizes} for {args.epochs} epochs, seed {args.seed}"
    )
    with warnings.catch_warnings():
        # all max_iter epochs run on purpose: no "maximum iterations" warning
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    if args.output:
        clf.save(args.output)
    accuracy = clf.score(X_test, y_test)
    if args.views:
        proba = clf.augment.average(
            clf.predict_proba, X_test, n_views=args.views, random_state=args.seed
        )
        averaged = np.mean(clf.classes_[proba.argmax(axis=1)] == y_test)
        print(f"test accuracy over {args.views} distortions: {averaged:.4f}")
    minutes = (time.perf_counter() - start) / 60
    print(f"{minutes:.1f} minutes in all")
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
