"""
Grid search over network shapes on MNIST
========================================

The project's main job: a :class:`~sklearn.pipeline.Pipeline` (drop the
never-varying border pixels, then an :class:`~sknumpy_mlp.MLPScratchClassifier`)
tuned by :class:`~sklearn.model_selection.GridSearchCV` over
``hidden_layer_sizes`` with 3-fold cross-validation on every core. It prints a
line per candidate and fold as they finish, the CV table, the best parameters
and the test accuracy, saves the best pipeline (selector included) with
:func:`sknumpy_mlp.save` (a skops file: ``pip install 'sknumpy-mlp[pipelines]'``),
reloads it, checks that the predictions are identical, and says how to use the
file with the command line (``sknumpy-mlp evaluate mnist_best_model.skops``
prints the same test accuracy).

``--quick`` trains on a 10 000-image subset (the test set is always all
10 000 test images). MNIST comes from
:func:`sknumpy_mlp.load_mnist` (``--data``, ``SKNUMPY_MLP_MNIST``, a cached
copy, Keras or OpenML).
"""

# sphinx_gallery_thumbnail_path = "_static/thumbnails/mnist_gridsearch.png"

import argparse
import os
import time

import numpy as np
from sklearn.feature_selection import VarianceThreshold
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

import sknumpy_mlp
from sknumpy_mlp import MLPScratchClassifier, load_mnist

GRID = {"mlp__hidden_layer_sizes": [(64,), (64, 32), (128, 64)]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--data", help="folder with the MNIST IDX files, or mnist.npz")
    parser.add_argument(
        "--quick", action="store_true", help="train on 10 000 images only"
    )
    parser.add_argument(
        "--train-size", type=int, help="train on the first N images only"
    )
    parser.add_argument("--output", default="mnist_best_model.skops")
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    (X_train, y_train), (X_test, y_test) = load_mnist(args.data)
    size = args.train_size or (10_000 if args.quick else None)
    X_train, y_train = X_train[:size], y_train[:size]
    print(f"Training on {len(X_train)} images, testing on {len(X_test)}.")

    pipeline = Pipeline(
        [
            ("select", VarianceThreshold()),
            ("mlp", MLPScratchClassifier(random_state=args.seed, early_stopping=True)),
        ]
    )
    # verbose=3: one line per candidate and fold as it ends; the workers print
    # them at once (unbuffered), not when they exit
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    search = GridSearchCV(pipeline, GRID, cv=3, n_jobs=args.n_jobs, verbose=3)
    search.fit(X_train, y_train)

    print("\nCross-validation results:")
    print(
        f"{'hidden_layer_sizes':>20} {'mean accuracy':>14} {'std':>7} "
        f"{'fit seconds':>12} {'rank':>5}"
    )
    results = search.cv_results_
    for i, params in enumerate(results["params"]):
        print(
            f"{str(params['mlp__hidden_layer_sizes']):>20} "
            f"{results['mean_test_score'][i]:>14.4f} "
            f"{results['std_test_score'][i]:>7.4f} "
            f"{results['mean_fit_time'][i]:>12.1f} "
            f"{results['rank_test_score'][i]:>5d}"
        )
    print(f"\nBest parameters: {search.best_params_}")
    best = search.best_estimator_
    accuracy = best.score(X_test, y_test)
    print(f"Test accuracy: {100 * accuracy:.2f}")

    # The whole pipeline, selector included, in one file (skops, no pickle)
    sknumpy_mlp.save(best, args.output)
    reloaded = sknumpy_mlp.load(args.output)
    same = np.array_equal(
        reloaded.predict_proba(X_test), best.predict_proba(X_test)
    ) and np.array_equal(reloaded.predict(X_test), best.predict(X_test))
    print(
        f"Saved the best pipeline to {args.output}; reloaded predictions "
        f"{'are identical' if same else 'DIFFER'}.\n"
        f"Use it from the command line:\n"
        f"  sknumpy-mlp evaluate {args.output}   (prints this test accuracy)\n"
        f"  sknumpy-mlp predict {args.output} images.csv -o predictions.csv"
    )
    print(f"Total time: {time.perf_counter() - start:.1f} s")
    if not same:
        raise SystemExit("The reloaded model does not predict like the saved one.")
    return accuracy


if __name__ == "__main__":
    main()
