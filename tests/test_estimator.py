import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sknumpy_mlp import MLPScratchClassifier

FAST = {"max_iter": 200, "learning_rate_init": 0.01, "random_state": 0, "tol": 1e-2}


@pytest.fixture(scope="module")
def fitted_multiclass(multiclass_data):
    X, y = multiclass_data
    return MLPScratchClassifier(**FAST).fit(X, y)


def test_multiclass_fit_sets_sklearn_attributes(fitted_multiclass, multiclass_data):
    clf = fitted_multiclass
    X, y = multiclass_data
    assert clf.score(X, y) > 0.9
    assert list(clf.classes_) == [0, 1, 2]
    assert clf.n_features_in_ == 8
    assert [c.shape for c in clf.coefs_] == [(8, 64), (64, 32), (32, 3)]
    assert [b.shape for b in clf.intercepts_] == [(64,), (32,), (3,)]
    # dtype='auto': small float64 data trains in float64
    assert all(c.dtype == np.float64 for c in clf.coefs_ + clf.intercepts_)
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3
    assert clf.out_activation_ == "softmax"
    assert 1 <= clf.n_iter_ == len(clf.loss_curve_) <= 60
    assert clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert clf.t_ == clf.n_iter_ * len(X)
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]


def test_predictions_are_consistent(fitted_multiclass, multiclass_data):
    X, _ = multiclass_data
    proba = fitted_multiclass.predict_proba(X)
    assert proba.shape == (300, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(fitted_multiclass.predict_log_proba(X), np.log(proba))
    assert np.array_equal(fitted_multiclass.predict(X), proba.argmax(axis=1))


def test_binary_uses_one_logistic_output(binary_data):
    X, y = binary_data
    clf = MLPScratchClassifier(**FAST).fit(X, y)
    assert clf.n_outputs_ == 1 and clf.out_activation_ == "logistic"
    assert clf.coefs_[-1].shape == (32, 1)
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(clf.predict(X), proba.argmax(axis=1))
    assert clf.score(X, y) > 0.9
    log_proba = clf.predict_log_proba(X)
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "emu"]),
        np.array(["cat", "dog", "emu"], dtype=object),
        np.array([-1.0, 2.0, 7.0]),
    ],
)
def test_any_labels_are_predicted_in_their_own_space(labels, multiclass_data):
    X, y = multiclass_data
    clf = MLPScratchClassifier(**FAST).fit(X, labels[y])
    assert np.array_equal(clf.classes_, np.sort(labels))
    predicted = clf.predict(X)
    assert predicted.dtype == labels.dtype
    assert np.mean(predicted == labels[y]) > 0.9


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_matches_dense(fmt, multiclass_data):
    X, y = multiclass_data
    X = np.where(np.abs(X) < 0.8, 0.0, X)
    params = {**FAST, "max_iter": 5, "dtype": "float64"}
    with pytest.warns(ConvergenceWarning):
        dense = MLPScratchClassifier(**params).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        sparse = MLPScratchClassifier(**params).fit(sp.csr_matrix(X).asformat(fmt), y)
    for a, b in zip(dense.coefs_, sparse.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X).asformat(fmt))
    )


def test_dataframe_feature_names(multiclass_data):
    X, y = multiclass_data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
    clf = MLPScratchClassifier(**FAST).fit(frame, y)
    assert list(clf.feature_names_in_) == list(frame.columns)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"f0": "other"}))


def test_same_seed_same_model_other_seed_other_model(multiclass_data):
    X, y = multiclass_data
    a = MLPScratchClassifier(**FAST).fit(X, y)
    b = MLPScratchClassifier(**FAST).fit(X, y)
    c = MLPScratchClassifier(**{**FAST, "random_state": 1}).fit(X, y)
    for wa, wb in zip(a.coefs_, b.coefs_, strict=True):
        assert np.array_equal(wa, wb)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


@pytest.mark.parametrize(
    "solver, params",
    [
        ("sgd", {"momentum": 0.0}),
        ("sgd", {"momentum": 0.9, "nesterovs_momentum": False}),
        ("sgd", {"momentum": 0.9, "nesterovs_momentum": True}),
        (
            "sgd",
            {"learning_rate": "invscaling", "learning_rate_init": 0.2, "power_t": 0.25},
        ),
        ("sgd", {"learning_rate": "adaptive"}),
        ("adam", {}),
    ],
)
def test_every_solver_learns(solver, params, multiclass_data):
    X, y = multiclass_data
    kwargs = {**FAST, "max_iter": 300, "learning_rate_init": 0.05, **params}
    clf = MLPScratchClassifier(solver=solver, **kwargs).fit(X, y)
    assert clf.score(X, y) > 0.9


def test_adaptive_schedule_divides_the_rate_by_five_then_stops(multiclass_data):
    X, y = multiclass_data
    clf = MLPScratchClassifier(
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.05,
        tol=10.0,
        n_iter_no_change=1,
        random_state=0,
    ).fit(X, y)
    # with tol=10 no epoch after the first improves: the rate is divided at
    # epochs 3, 5, ..., 15 (0.05 / 5**7 = 6.4e-7 < 1e-6) and training stops at 17
    assert clf.n_iter_ == 1 + 2 * 8
    assert clf._optimizer_state["learning_rate"] == pytest.approx(0.05 / 5**7)


def test_invscaling_rate_follows_the_samples_seen(multiclass_data):
    X, y = multiclass_data
    with pytest.warns(ConvergenceWarning):
        clf = MLPScratchClassifier(
            solver="sgd",
            learning_rate="invscaling",
            learning_rate_init=0.5,
            power_t=0.5,
            max_iter=3,
            random_state=0,
        ).fit(X, y)
    # the third epoch ran after 600 samples: 0.5 / (600 + 1) ** 0.5
    assert clf._optimizer_state["learning_rate"] == pytest.approx(0.5 / (601**0.5))


def test_max_iter_reached_warns_and_tolerance_stops_early(multiclass_data):
    X, y = multiclass_data
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\)"):
        MLPScratchClassifier(max_iter=3, random_state=0).fit(X, y)
    clf = MLPScratchClassifier(tol=1.0, n_iter_no_change=2, random_state=0).fit(X, y)
    # no epoch after the first improves by 1.0: stop once more than
    # n_iter_no_change epochs in a row have not
    assert clf.n_iter_ == 1 + 3


def test_early_stopping_keeps_the_best_validation_epoch(multiclass_data):
    X, y = multiclass_data
    clf = MLPScratchClassifier(
        early_stopping=True,
        validation_fraction=0.2,
        random_state=0,
        learning_rate_init=0.01,
    ).fit(X, y)
    assert clf.best_loss_ is None
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # trained on the 80 % kept for training: 240 samples an epoch
    assert clf.t_ == 240 * clf.n_iter_
    best_epoch = int(np.argmax(clf.validation_scores_))
    assert clf.n_iter_ - 1 - best_epoch >= clf.n_iter_no_change


def test_early_stopping_auto_turns_on_above_ten_thousand_samples():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_001, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    with pytest.warns(ConvergenceWarning):
        big = MLPScratchClassifier(
            hidden_layer_sizes=(8,), max_iter=2, random_state=0
        ).fit(X, y)
    assert len(big.validation_scores_) == 2
    assert big.t_ == 2 * 9_000
    with pytest.warns(ConvergenceWarning):
        small = MLPScratchClassifier(
            hidden_layer_sizes=(8,), max_iter=2, random_state=0
        ).fit(X[:10_000], y[:10_000])
    assert small.validation_scores_ is None


def test_warm_start_continues_from_the_fitted_model(multiclass_data):
    X, y = multiclass_data
    params = {**FAST, "max_iter": 5}
    with pytest.warns(ConvergenceWarning):
        clf = MLPScratchClassifier(warm_start=True, **params).fit(X, y)
    first_loss = clf.loss_curve_[-1]
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    # n_iter_ counts this fit's epochs (as scikit-learn); the history all ten
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == len(clf.history_) == 10
    assert clf.loss_curve_[5] < first_loss
    with pytest.warns(ConvergenceWarning):
        cold = MLPScratchClassifier(**params).fit(X, y)
    # a cold fit starts from scratch: its first epoch matches the warm model's
    assert cold.loss_curve_ == clf.loss_curve_[:5]
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X[y < 2], y[y < 2])


def test_verbose_prints_one_line_per_epoch(capsys, multiclass_data):
    X, y = multiclass_data
    with pytest.warns(ConvergenceWarning):
        MLPScratchClassifier(max_iter=3, verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "Iteration 1",
        "Iteration 2",
        "Iteration 3",
    ]
    assert "loss = " in lines[0]


@pytest.mark.parametrize(
    "dtype, X_dtype, n_samples, expected",
    [
        ("auto", np.float64, 300, np.float64),
        ("auto", np.float32, 300, np.float32),
        ("auto", np.float64, 10_001, np.float32),
        ("auto", np.int64, 300, np.float64),
        ("float32", np.float64, 300, np.float32),
        ("float64", np.float32, 300, np.float64),
    ],
)
def test_training_dtype(dtype, X_dtype, n_samples, expected):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, 3)).astype(X_dtype)
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(ConvergenceWarning):
        clf = MLPScratchClassifier(
            dtype=dtype, max_iter=1, hidden_layer_sizes=(4,), random_state=0
        ).fit(X, y)
    assert all(c.dtype == expected for c in clf.coefs_ + clf.intercepts_)


def test_float32_input_is_predicted_in_float32(fitted_multiclass, multiclass_data):
    X, _ = multiclass_data
    p32 = fitted_multiclass.predict_proba(X.astype(np.float32))
    p64 = fitted_multiclass.predict_proba(X)
    np.testing.assert_allclose(p32, p64, atol=1e-5)


def test_pipeline_grid_search_and_cross_validation(multiclass_data):
    X, y = multiclass_data
    pipe = make_pipeline(StandardScaler(), MLPScratchClassifier(**FAST))
    grid = GridSearchCV(
        pipe,
        {"mlpscratchclassifier__hidden_layer_sizes": [(8,), (16, 8), (32, 16)]},
        cv=3,
        n_jobs=2,
    ).fit(X, y)
    assert grid.best_score_ > 0.8
    assert len(grid.cv_results_["mean_test_score"]) == 3
    scores = cross_val_score(MLPScratchClassifier(**FAST), X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.75


def test_clone_pickle_and_joblib(fitted_multiclass, multiclass_data, tmp_path):
    X, _ = multiclass_data
    clone_ = clone(fitted_multiclass)
    assert clone_.get_params() == fitted_multiclass.get_params()
    assert not hasattr(clone_, "coefs_")
    expected = fitted_multiclass.predict_proba(X)
    restored = pickle.loads(pickle.dumps(fitted_multiclass))
    assert np.array_equal(restored.predict_proba(X), expected)
    joblib.dump(fitted_multiclass, tmp_path / "model.joblib")
    assert np.array_equal(
        joblib.load(tmp_path / "model.joblib").predict_proba(X), expected
    )


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"hidden_layer_sizes": (64, 0)}, ValueError, "positive integers"),
        ({"hidden_layer_sizes": (64, 2.5)}, ValueError, "positive integers"),
        ({"solver": "lbfgs-typo"}, InvalidParameterError, "'solver' parameter"),
        ({"learning_rate_init": 0.0}, InvalidParameterError, "'learning_rate_init'"),
        ({"activation": "swish"}, InvalidParameterError, "'activation' parameter"),
        ({"batch_size": 0}, InvalidParameterError, "'batch_size' parameter"),
        ({"validation_fraction": 1.0}, InvalidParameterError, "'validation_fraction'"),
        ({"dtype": "float16"}, InvalidParameterError, "'dtype' parameter"),
    ],
)
def test_bad_hyper_parameters_are_named(params, error, message, multiclass_data):
    X, y = multiclass_data
    with pytest.raises(error, match=message):
        MLPScratchClassifier(**params).fit(X, y)


def test_bad_data_is_refused_with_clear_messages(fitted_multiclass, multiclass_data):
    X, y = multiclass_data
    with pytest.raises(ValueError, match="only one class"):
        MLPScratchClassifier().fit(X, np.zeros(300))
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPScratchClassifier().fit(X, np.linspace(0, 1, 300))
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPScratchClassifier().fit(bad, y)
    with pytest.raises(ValueError, match="X has 7 features, but MLPScratchClassifier"):
        fitted_multiclass.predict(X[:, :7])
    with pytest.raises(NotFittedError):
        MLPScratchClassifier().predict(X)


# scikit-learn's behaviours, as its own test_mlp.py checks them


def test_n_iter_no_change_inf_never_stops_on_a_plateau(tmp_path, multiclass_data):
    X, y = multiclass_data
    with pytest.warns(ConvergenceWarning):
        clf = MLPScratchClassifier(
            tol=1e6, n_iter_no_change=np.inf, max_iter=12, random_state=0
        ).fit(X, y)
    assert clf.n_iter_ == 12  # a tolerance that no epoch meets stops nothing
    clf.save(tmp_path / "m.npz")  # infinity survives the JSON metadata
    assert MLPScratchClassifier.load(tmp_path / "m.npz").n_iter_no_change == np.inf


def test_partial_fit_refuses_other_classes_than_before(multiclass_data):
    X, y = multiclass_data
    clf = MLPScratchClassifier(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    clf.partial_fit(X, y, classes=[2, 1, 0])  # the same set is fine
    with pytest.raises(ValueError, match=r"`classes=\[1, 2, 3\]` is not the same as"):
        clf.partial_fit(X, y, classes=[1, 2, 3])


def test_warm_start_with_other_classes_gives_sklearns_message(multiclass_data):
    X, y = multiclass_data
    with pytest.warns(ConvergenceWarning):
        clf = MLPScratchClassifier(warm_start=True, max_iter=2, random_state=0)
        clf.fit(X, y)
    for other in (np.where(y == 2, 5, y), y % 2):  # an unknown class; one missing
        with pytest.raises(ValueError, match="warm_start can only be used where `y`"):
            clf.fit(X, other)


def test_partial_fit_refuses_early_stopping(multiclass_data):
    X, y = multiclass_data
    with pytest.raises(ValueError, match="partial_fit does not support early_"):
        MLPScratchClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_focal_loss_at_gamma_zero_trains_the_log_loss_model():
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0, dtype="float64")
    ref = MLPScratchClassifier(**params).fit(X, y)
    focal = MLPScratchClassifier(loss="focal", focal_gamma=0.0, **params).fit(X, y)
    np.testing.assert_allclose(focal.loss_curve_, ref.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(focal.predict_proba(X), ref.predict_proba(X), rtol=1e-9)
    # gamma > 0 is another loss: smaller, and another model
    other = MLPScratchClassifier(loss="focal", **params).fit(X, y)
    assert other.loss_curve_[0] < ref.loss_curve_[0]
    assert not np.allclose(other.coefs_[0], ref.coefs_[0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["binary", "multilabel"])
def test_focal_loss_on_sigmoid_outputs(kind):
    X, y = make_classification(300, 6, n_informative=4, random_state=0)
    if kind == "multilabel":
        y = np.stack([y, X[:, 0] > 0], axis=1).astype(int)
    clf = MLPScratchClassifier(loss="focal", max_iter=200, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.85


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_label_smoothing_makes_the_model_less_confident_and_is_saved(tmp_path):
    X, y = make_classification(300, 6, n_informative=4, random_state=0)
    params = dict(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
    sharp = MLPScratchClassifier(**params).fit(X, y)
    smooth = MLPScratchClassifier(label_smoothing=0.2, **params).fit(X, y)
    # the smoothed targets are 0.1 and 0.9: the model is less sure of itself
    confidence = [m.predict_proba(X).max(axis=1).mean() for m in (sharp, smooth)]
    assert confidence[1] < min(0.9, confidence[0] - 0.02), confidence
    assert smooth.score(X, y) > 0.85
    smooth.save(tmp_path / "m.npz")
    loaded = MLPScratchClassifier.load(tmp_path / "m.npz")
    assert loaded.get_params()["label_smoothing"] == 0.2
    np.testing.assert_array_equal(loaded.predict_proba(X), smooth.predict_proba(X))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"label_smoothing": 1.0}, "'label_smoothing' parameter"),
        ({"focal_gamma": -1.0}, "'focal_gamma' parameter"),
        ({"loss": "huber"}, "'loss' parameter"),
    ],
)
def test_bad_loss_parameters_are_refused(params, message):
    X, y = make_classification(50, 4, random_state=0)
    with pytest.raises(ValueError, match=message):
        MLPScratchClassifier(**params).fit(X, y)
