"""scikit-learn's callback API (sklearn.callback, scikit-learn >= 1.9)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sknumpy_mlp import MLPScratchClassifier

callback = pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


class StopAfter:
    """A FitCallback that asks to stop after ``n`` epochs and records what it saw."""

    def __init__(self, n):
        self.n = n
        self.ended = []
        self.accuracies = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(
        self, estimator, context, *, X=None, y=None, fitted_estimator=None
    ):
        if context.task_name != "epoch":
            return False
        self.ended.append(context.task_id)
        self.accuracies.append(fitted_estimator.score(X, y))
        return len(self.ended) >= self.n


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_scoring_monitor_logs_every_epoch(solver, digits):
    X, y = digits
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = MLPScratchClassifier(
        solver=solver, max_iter=6, learning_rate_init=0.003, random_state=0
    ).set_callbacks(monitor)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    rows = monitor.get_logs().data
    epochs = [r for r in rows if r["task_name"] == "epoch"]
    assert len(epochs) == clf.n_iter_ == 6
    assert epochs[-1]["accuracy"] > epochs[0]["accuracy"]
    assert epochs[-1]["accuracy"] == pytest.approx(clf.score(X, y))
    (root,) = [r for r in rows if r["task_name"] == "fit"]
    assert root["accuracy"] == pytest.approx(clf.score(X, y))


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_a_callback_can_stop_training(solver, digits):
    X, y = digits
    stopper = StopAfter(3)
    clf = MLPScratchClassifier(
        solver=solver, learning_rate_init=0.01, random_state=0
    ).set_callbacks(stopper)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stopping on request is not a failure
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert stopper.ended == [0, 1, 2]
    # the estimator handed to the callback predicted with that epoch's weights
    assert stopper.accuracies[-1] == pytest.approx(clf.score(X, y))
    assert len(set(np.round(stopper.accuracies, 6))) == 3


def test_progress_bar(digits, capsys):
    pytest.importorskip("rich")
    X, y = digits
    clf = MLPScratchClassifier(max_iter=4, random_state=0)
    clf.set_callbacks(callback.ProgressBar())
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    assert clf.n_iter_ == 4
    assert "MLPScratchClassifier - fit" in capsys.readouterr().out


class InterruptAt(StopAfter):
    """Presses Ctrl-C (raises SIGINT) at the end of epoch ``n``."""

    def on_fit_task_end(
        self, estimator, context, *, X=None, y=None, fitted_estimator=None
    ):
        import signal

        if context.task_name == "epoch":
            self.ended.append(context.task_id)
            if len(self.ended) == self.n:
                signal.raise_signal(signal.SIGINT)
        return False


def test_ctrl_c_during_lbfgs_keeps_a_usable_model(digits):
    X, y = digits
    clf = MLPScratchClassifier(solver="lbfgs", random_state=0).set_callbacks(
        InterruptAt(4)
    )
    with pytest.warns(UserWarning, match="interrupted \\(Ctrl-C\\)"):
        clf.fit(X, y)
    assert clf.n_iter_ == 4
    assert np.isfinite(clf.predict_proba(X)).all()
