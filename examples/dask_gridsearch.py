"""
Grid search on a Dask cluster
=============================

The same :class:`~sklearn.model_selection.GridSearchCV` over
``hidden_layer_sizes`` as the project's main job, with its fits run by the
workers of a ``dask.distributed`` cluster through joblib's Dask backend
(``joblib.parallel_config(backend="dask")``). Nothing else changes: the
estimator is pickled to the workers (a fitted seed-size model is about 0.6 MB,
its weights and optimizer moments), trained there, and the results come back.

By default the script starts a :class:`~distributed.LocalCluster` of worker
processes on this machine; ``--scheduler tcp://HOST:8786`` runs the same code
on a real cluster started with ``dask scheduler`` and ``dask worker`` (every
worker needs ``pip install "sknumpy-mlp[dask]"`` and enough memory for the
data, which is sent to the workers once). Needs the ``dask`` extra.
"""

# sphinx_gallery_thumbnail_path = "_static/thumbnails/dask_gridsearch.png"

import argparse
import time

import joblib
from sklearn.model_selection import GridSearchCV

from sknumpy_mlp import MLPScratchClassifier, load_mnist

GRID = {"hidden_layer_sizes": [(64,), (64, 32), (128, 64)]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--data", help="folder with the MNIST IDX files, or mnist.npz")
    parser.add_argument(
        "--scheduler", help="address of a running Dask scheduler (default: a local one)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="local worker processes (default: 2)"
    )
    parser.add_argument(
        "--samples", type=int, default=20_000, help="training images (default: 20000)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.workers < 1 or args.samples < 100:
        parser.error("--workers must be >= 1 and --samples >= 100")

    from dask.distributed import Client, LocalCluster

    (X_train, y_train), (X_test, y_test) = load_mnist(args.data)
    X, y = X_train[: args.samples], y_train[: args.samples]

    if args.scheduler:
        cluster, client = None, Client(args.scheduler)
    else:
        # worker processes on the loopback interface, no dashboard
        cluster = LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        print(f"Dask cluster: {len(client.scheduler_info()['workers'])} workers")
        search = GridSearchCV(
            MLPScratchClassifier(random_state=args.seed), GRID, cv=3, n_jobs=-1
        )
        start = time.perf_counter()
        with joblib.parallel_config(backend="dask"):
            search.fit(X, y)
        seconds = time.perf_counter() - start
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    results = search.cv_results_
    print(f"\n{'hidden_layer_sizes':<20} {'mean CV accuracy':>17} {'fit s':>7}")
    for params, score, fit in zip(
        results["params"],
        results["mean_test_score"],
        results["mean_fit_time"],
        strict=True,
    ):
        print(f"{params['hidden_layer_sizes']!s:<20} {score:>17.4f} {fit:>7.1f}")
    accuracy = search.score(X_test, y_test)
    print(f"\nsearch took {seconds:.1f} s; best {search.best_params_}")
    print(f"test accuracy: {accuracy:.4f}")
    return search


if __name__ == "__main__":
    main()
