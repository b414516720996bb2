"""
Grid search over network shapes on MNIST
========================================

The project's main job: a :class:`~sklearn.pipeline.Pipeline` (drop the
never-varying border pixels, then an :class:`~sknumpy_mlp.MLPScratchClassifier`)
tuned by :class:`~sklearn.model_selection.GridSearchCV` over
``hidden_layer_sizes`` with 3-fold cross-validation on every core. It prints the
CV table, the best parameters and the test accuracy, saves the best network to
a pickle-free ``.npz`` file, reloads it and checks that the predictions are
identical.

``--quick`` runs on a 10 000-image subset (well under a minute); the full run
takes about 2 minutes on 2 cores. MNIST comes from Keras when it is installed,
else from local files (``SKNUMPY_MLP_MNIST`` or ``--data``); see
:func:`sknumpy_mlp.load_mnist`.
"""

import argparse
import time

import numpy as np
from sklearn.feature_selection import VarianceThreshold
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sknumpy_mlp import MLPScratchClassifier, load_mnist

GRID = {"mlp__hidden_layer_sizes": [(64,), (64, 32), (128, 64)]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--data", help="folder with the MNIST IDX files, or mnist.npz")
    parser.add_argument(
        "--quick", action="store_true", help="use 10 000 training and 2 000 test images"
    )
    parser.add_argument("--output", default="mnist_best_model.npz")
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    (X_train, y_train), (X_test, y_test) = load_mnist(args.data)
    if args.quick:
        X_train, y_train = X_train[:10_000], y_train[:10_000]
        X_test, y_test = X_test[:2_000], y_test[:2_000]
    print(f"Training on {len(X_train)} images, testing on {len(X_test)}.")

    pipeline = Pipeline(
        [
            ("select", VarianceThreshold()),
            ("mlp", MLPScratchClassifier(random_state=args.seed, early_stopping=True)),
        ]
    )
    search = GridSearchCV(pipeline, GRID, cv=3, n_jobs=args.n_jobs)
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
    print(f"Test accuracy: {100 * accuracy:.2f}%")

    # The model file holds the network; the selector is part of the pipeline.
    best.named_steps["mlp"].save(args.output)
    reloaded = Pipeline(
        [
            ("select", best.named_steps["select"]),
            ("mlp", MLPScratchClassifier.load(args.output)),
        ]
    )
    same = np.array_equal(
        reloaded.predict_proba(X_test), best.predict_proba(X_test)
    ) and np.array_equal(reloaded.predict(X_test), best.predict(X_test))
    print(
        f"Saved the best model to {args.output}; reloaded predictions "
        f"{'are identical' if same else 'DIFFER'}."
    )
    print(f"Total time: {time.perf_counter() - start:.1f} s")
    if not same:
        raise SystemExit("The reloaded model does not predict like the saved one.")
    return accuracy


if __name__ == "__main__":
    main()
