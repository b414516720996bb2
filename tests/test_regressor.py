"""MLPScratchRegressor: targets, losses, files and the shared training drive."""

import numpy as np
import pytest
from sklearn.datasets import make_friedman1, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import sknumpy_mlp
from sknumpy_mlp import MLPScratchClassifier, MLPScratchRegressor

FAST = {"learning_rate_init": 0.01, "random_state": 0, "early_stopping": False}
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=600, noise=0.3, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def two_outputs(friedman):
    X, y = friedman
    return X, np.c_[y, -2 * y + X[:, 0]]


def test_learns_a_nonlinear_function(friedman):
    X, y = friedman
    reg = MLPScratchRegressor(**FAST, max_iter=300).fit(X[:500], y[:500])
    assert reg.score(X[500:], y[500:]) > 0.85
    assert reg.predict(X[:3]).shape == (3,)
    assert reg.out_activation_ == "identity" and reg.n_outputs_ == 1


def test_several_outputs_are_predicted_as_columns(two_outputs):
    X, Y = two_outputs
    reg = MLPScratchRegressor(**FAST, max_iter=200).fit(X, Y)
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (600, 2)
    assert reg.score(X, Y) > 0.8


def test_squared_loss_is_half_the_mean_over_rows_of_the_sum_over_outputs(
    two_outputs,
):
    # scikit-learn #8349: its L-BFGS loss averages over outputs while its
    # gradient sums over them. Here the reported loss is the function whose
    # gradient is followed: 0.5 * mean_rows(sum_outputs((y - p)**2))
    X, Y = two_outputs
    reg = MLPScratchRegressor(
        solver="lbfgs", alpha=0.0, max_iter=50, dtype="float64", random_state=0
    ).fit(X, Y)
    residual = Y - reg.predict(X)
    np.testing.assert_allclose(
        reg.loss_, 0.5 * np.mean(np.sum(residual**2, axis=1)), rtol=1e-6
    )


def test_poisson_predicts_positive_counts_and_refuses_negative_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0] + 0.2))
    reg = MLPScratchRegressor(loss="poisson", **FAST, max_iter=100).fit(X, y)
    assert reg.out_activation_ == "exp"
    assert (reg.predict(X) > 0).all()
    assert reg.score(X, y) > 0.2
    with pytest.raises(ValueError, match="negative which is not allowed"):
        MLPScratchRegressor(loss="poisson").fit(X, y - 5.0)


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_robust_losses_resist_outliers(loss):
    X, y = make_regression(n_samples=400, n_features=4, noise=1.0, random_state=0)
    y = y / y.std()
    corrupted = y.copy()
    corrupted[::10] += 30.0  # a tenth of the targets far off
    params = {**FAST, "hidden_layer_sizes": (), "max_iter": 300}
    plain = MLPScratchRegressor(**params).fit(X, corrupted)
    robust = MLPScratchRegressor(loss=loss, huber_delta=0.5, **params).fit(X, corrupted)
    assert robust.score(X, y) > plain.score(X, y) + 0.05
    assert robust.score(X, y) > 0.9


def test_early_stopping_scores_r2_on_a_validation_set(friedman):
    X, y = friedman
    reg = MLPScratchRegressor(
        learning_rate_init=0.01, early_stopping=True, random_state=0, max_iter=200
    ).fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    # the kept weights are the best epoch's: their R² on the validation set
    np.testing.assert_allclose(
        reg.score(X[400:], y[400:]), reg.best_validation_score_, rtol=1e-5
    )
    with pytest.raises(ValueError, match="y_val has 2 outputs"):
        MLPScratchRegressor(**FAST, max_iter=2).fit(
            X[:400], y[:400], X_val=X[400:], y_val=np.c_[y[400:], y[400:]]
        )


def test_round_trip_and_warm_start_continue_exactly(tmp_path, two_outputs):
    X, Y = two_outputs
    params = {**FAST, "max_iter": 3, "warm_start": True, "loss": "huber"}
    reg = MLPScratchRegressor(**params).fit(X, Y)
    reg.save(tmp_path / "r.npz")
    loaded = sknumpy_mlp.load(tmp_path / "r.npz")
    assert type(loaded) is MLPScratchRegressor
    assert loaded.get_params() == reg.get_params()
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    reg.fit(X, Y)
    loaded.fit(X, Y)
    for a, b in zip(reg.coefs_, loaded.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.n_iter_ == reg.n_iter_
    with pytest.raises(ValueError, match="holds a MLPScratchRegressor"):
        MLPScratchClassifier.load(tmp_path / "r.npz")


def test_partial_fit_keeps_the_outputs(two_outputs):
    X, Y = two_outputs
    reg = MLPScratchRegressor(**FAST)
    for start in range(0, 600, 200):
        reg.partial_fit(X[start : start + 200], Y[start : start + 200])
    assert reg.n_iter_ == 1 and len(reg.history_) == 3 and reg.n_outputs_ == 2
    with pytest.raises(ValueError, match="y has 1 outputs, but the model has 2"):
        reg.partial_fit(X, Y[:, 0])
    with pytest.raises(AttributeError, match="partial_fit"):
        MLPScratchRegressor(solver="lbfgs").partial_fit  # noqa: B018


def test_output_activations_are_not_hidden_activations(friedman):
    X, y = friedman
    with pytest.raises(ValueError, match="activation"):
        MLPScratchRegressor(activation="exp").fit(X, y)


def test_same_settings_as_sklearn_give_as_good_a_fit():
    # scikit-learn's MLPRegressor defaults, on make_friedman1
    from sklearn.neural_network import MLPRegressor

    X, y = make_friedman1(n_samples=2000, noise=1.0, random_state=1)
    X = StandardScaler().fit_transform(X)
    settings = {
        "hidden_layer_sizes": (100,),
        "alpha": 1e-4,
        "batch_size": "auto",
        "max_iter": 60,
        "early_stopping": False,
        "random_state": 0,
    }
    ours = MLPScratchRegressor(**settings).fit(X[:1500], y[:1500])
    with pytest.warns(ConvergenceWarning):
        theirs = MLPRegressor(**settings).fit(X[:1500], y[:1500])
    assert ours.score(X[1500:], y[1500:]) > theirs.score(X[1500:], y[1500:]) - 0.02
