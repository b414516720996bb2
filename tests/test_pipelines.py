"""Fitted pipelines saved and loaded through skops, and used by the CLI."""

import os
import stat
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_selection import VarianceThreshold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import sknumpy_mlp
from sknumpy_mlp import (
    ImageAugmenter,
    MLPScratchClassifier,
    MLPScratchRegressor,
    deskew,
)
from sknumpy_mlp.pipelines import trusted_types

from .conftest import MNIST_DIR

pytest.importorskip("skops")


class Doubler(TransformerMixin, BaseEstimator):
    """A type of the user's own: not trusted when loading."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return 2 * X


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.random((120, 16))
    X[:, 0] = 0.5  # a constant column, which VarianceThreshold drops
    return X, np.array(["ant", "bee", "cat"])[np.arange(120) % 3]


def _fitted(*steps, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_pipeline(*steps).fit(X, y)


@pytest.mark.parametrize("kind", ["classifier", "regressor", "augmented"])
def test_a_pipeline_round_trips_and_predicts_identically(tmp_path, data, kind):
    X, y = data
    if kind == "regressor":
        last, target = MLPScratchRegressor(max_iter=5, random_state=0), X[:, 1]
    else:
        augment = ImageAugmenter((4, 4), max_shift=1) if kind == "augmented" else None
        last = MLPScratchClassifier(max_iter=5, random_state=0, augment=augment)
        target = y
    # (images keep all their pixels: no selector before an augmenter)
    first = StandardScaler() if kind == "augmented" else VarianceThreshold()
    pipe = _fitted(first, StandardScaler(), last, X=X, y=target)
    path = tmp_path / "pipe.skops"
    sknumpy_mlp.save(pipe, path)
    loaded = sknumpy_mlp.load(path)
    assert [name for name, _ in loaded.steps] == [name for name, _ in pipe.steps]
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    if kind != "regressor":
        np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    # warm start continues from the loaded state
    loaded[-1].set_params(warm_start=True, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded.fit(X, target)


def test_a_deskewing_pipeline_round_trips(tmp_path, data):
    X, y = data
    deskewing = FunctionTransformer(deskew, kw_args={"image_shape": (4, 4)})
    pipe = _fitted(deskewing, MLPScratchClassifier(max_iter=5), X=X, y=y)
    sknumpy_mlp.save(pipe, tmp_path / "p.skops")
    loaded = sknumpy_mlp.load(tmp_path / "p.skops")
    assert loaded[0].func is deskew
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_a_foreign_type_is_refused_by_name(tmp_path, data):
    X, y = data
    pipe = _fitted(Doubler(), MLPScratchClassifier(max_iter=3), X=X, y=y)
    path = tmp_path / "foreign.skops"
    sknumpy_mlp.save(pipe, path)
    with pytest.raises(ValueError, match="Doubler") as info:
        sknumpy_mlp.load(path)
    assert "does not trust" in str(info.value) and str(path) in str(info.value)


def test_only_pipelines_ending_in_our_estimators_are_saved(tmp_path, data):
    X, y = data
    from sklearn.linear_model import LogisticRegression

    pipe = _fitted(StandardScaler(), LogisticRegression(), X=X, y=y)
    with pytest.raises(TypeError, match="Pipeline whose last step"):
        sknumpy_mlp.save(pipe, tmp_path / "p.skops")
    with pytest.raises(TypeError, match="got StandardScaler"):
        sknumpy_mlp.save(StandardScaler(), tmp_path / "p.skops")


def test_saving_keeps_the_file_mode_and_single_estimators_stay_npz(tmp_path, data):
    X, y = data
    pipe = _fitted(StandardScaler(), MLPScratchClassifier(max_iter=3), X=X, y=y)
    path = tmp_path / "p.skops"
    sknumpy_mlp.save(pipe, path)
    os.chmod(path, 0o600)
    sknumpy_mlp.save(pipe, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sknumpy_mlp.save(pipe[-1], tmp_path / "m.npz")  # the .npz model format
    assert type(sknumpy_mlp.load(tmp_path / "m.npz")) is MLPScratchClassifier


def test_trusted_types_name_what_skops_records(tmp_path, data):
    import skops.io as sio

    X, y = data
    pipe = _fitted(StandardScaler(), MLPScratchClassifier(max_iter=3), X=X, y=y)
    sio.dump(pipe, tmp_path / "p.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "p.skops")
    assert set(untrusted) <= set(trusted_types())
    loaded = sio.load(tmp_path / "p.skops", trusted=trusted_types())
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


def test_the_main_job_saves_a_pipeline_the_cli_evaluates_alike(tmp_path, capsys):
    from .conftest import load_example

    output = tmp_path / "best.skops"
    accuracy = load_example("mnist_gridsearch").main(
        ["--data", str(MNIST_DIR), "--train-size", "1500", "--n-jobs", "1",
         "--output", str(output)]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert f"Test accuracy: {100 * accuracy:.2f}" in printed
    assert f"sknumpy-mlp evaluate {output}" in printed
    env = {**os.environ, "SKNUMPY_MLP_MNIST": str(MNIST_DIR)}
    for command in (["evaluate", output], ["info", output]):
        result = subprocess.run(
            [sys.executable, "-m", "sknumpy_mlp.cli", *map(str, command)],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        if command[0] == "evaluate":
            assert result.stdout.splitlines()[0] == f"Accuracy: {100 * accuracy:.2f}"
        else:
            assert "select (VarianceThreshold) -> mlp" in result.stdout
