"""Training capabilities beyond scikit-learn's MLP: solvers, schedules,
regularisation, stopping, weights, streaming, resuming, callbacks, faults."""

import signal
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknumpy_mlp import Layer, MLPScratchClassifier, NeuralNetwork
from sknumpy_mlp.engine import optimizers
from sknumpy_mlp.engine.layers import Dropout
from sknumpy_mlp.engine.optimizers import SGD, Adam, AdamW, RMSprop, clip_grad_norm
from sknumpy_mlp.engine.schedules import Schedule


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def _holdout(clf, digits):
    X_train, X_test, y_train, y_test = digits
    clf.fit(X_train, y_train)
    return clf.score(X_test, y_test)


@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop", "adamw", "lbfgs"])
def test_every_solver_exceeds_90_percent_on_digits(solver, digits):
    lr = {"sgd": 0.05}.get(solver, 0.003)
    clf = MLPScratchClassifier(solver=solver, learning_rate_init=lr, random_state=0)
    assert _holdout(clf, digits) > 0.9


# accuracy is what is measured here; whether 60 epochs converge is not
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop", "adamw"])
@pytest.mark.parametrize(
    "schedule, extra",
    [
        ("constant", {}),
        ("invscaling", {"power_t": 0.25}),
        ("adaptive", {}),
        ("step", {"lr_decay_epochs": 20, "lr_decay_factor": 0.5}),
        ("cosine", {"warmup_epochs": 3}),
        ("linear", {}),
    ],
)
def test_every_schedule_with_every_solver_exceeds_90_percent(
    solver, schedule, extra, digits
):
    lr = {"sgd": 0.05}.get(solver, 0.003)
    clf = MLPScratchClassifier(
        solver=solver,
        learning_rate=schedule,
        learning_rate_init=lr,
        max_iter=60,
        tol=1e-3,
        random_state=0,
        **extra,
    )
    assert _holdout(clf, digits) > 0.9


def test_schedule_formulas():
    step = Schedule("step", 0.1, step_epochs=10, step_factor=0.5)
    assert [step.rate(e) for e in (0, 9, 10, 25)] == [0.1, 0.1, 0.05, 0.025]
    cosine = Schedule("cosine", 0.1, total_epochs=10, warmup_epochs=2)
    assert cosine.rate(0) == pytest.approx(0.05) and cosine.rate(1) == 0.1
    assert cosine.rate(2) == pytest.approx(0.1)
    assert cosine.rate(6) == pytest.approx(0.05)  # half way through 8 epochs
    assert cosine.rate(9) == pytest.approx(0.05 * (1 + np.cos(np.pi * 7 / 8)))
    assert cosine.rate(10) == pytest.approx(0.1)  # restarts after 8 epochs
    linear = Schedule("linear", 0.1, total_epochs=5)
    assert [linear.rate(e) for e in (0, 2, 4, 5)] == pytest.approx(
        [0.09, 0.05, 0.01, 0.09]  # mid-epoch values; restarts after 5 epochs
    )
    warm = Schedule("linear", 0.1, total_epochs=6, warmup_epochs=2)
    assert warm.rate(1) == 0.1 and warm.rate(2) == pytest.approx(0.0875)
    # stochastic weight averaging's constant rate over the last 2 of 6
    # epochs: the cosine anneals to it over the 4 before, and restarts
    held = Schedule("cosine", 0.1, total_epochs=6, hold_epochs=2, hold_rate=0.02)
    assert [held.rate(e) for e in range(7)] == pytest.approx(
        [0.1, 0.02 + 0.04 * (1 + np.cos(np.pi / 4)), 0.06,
         0.02 + 0.04 * (1 + np.cos(3 * np.pi / 4)), 0.02, 0.02, 0.1]
    )  # fmt: skip
    held_linear = Schedule("linear", 0.1, total_epochs=5, hold_epochs=1, hold_rate=0.02)
    assert [held_linear.rate(e) for e in (0, 3, 4)] == pytest.approx([0.09, 0.03, 0.02])
    held_constant = Schedule(
        "constant", 0.1, total_epochs=3, hold_epochs=1, hold_rate=0.01
    )
    assert [held_constant.rate(e) for e in range(3)] == [0.1, 0.1, 0.01]
    inv = Schedule("invscaling", 0.5, power_t=0.5)
    assert inv.rate(3, samples_seen=99) == pytest.approx(0.05)
    # 'adaptive' owns its plateau state: divided by 5 on a plateau, stopping
    # once the rate would be 1e-6 or less
    adaptive = Schedule("adaptive", 0.1)
    assert adaptive.rate(0) == 0.1 and adaptive.rate(5) == 0.1
    assert adaptive.on_plateau(5) and adaptive.rate(6) == pytest.approx(0.02)
    adaptive.current = 1e-6
    adaptive.rate(7)
    assert not adaptive.on_plateau(7)
    assert not Schedule("constant", 0.1).on_plateau(3)
    with pytest.raises(ValueError, match="Unknown learning-rate schedule"):
        Schedule("exponential", 0.1)


def test_rmsprop_and_adamw_updates_follow_their_formulas():
    g = np.array([[0.5, -2.0]])
    p = np.array([[1.0, 1.0]])
    RMSprop([p], learning_rate=0.1, rho=0.9, epsilon=0.0).step([g])
    np.testing.assert_allclose(p, 1.0 - 0.1 * g / np.sqrt(0.1 * g**2))
    w_adam, w_adamw = np.ones((2, 2)), np.ones((2, 2))
    b_adamw = np.ones(2)
    Adam([w_adam], learning_rate=0.1).step([np.zeros((2, 2))])
    AdamW([w_adamw, b_adamw], learning_rate=0.1, weight_decay=0.5).step(
        [np.zeros((2, 2)), np.zeros(2)]
    )
    np.testing.assert_allclose(w_adam, 1.0)
    np.testing.assert_allclose(w_adamw, 0.95)  # decays without a gradient
    np.testing.assert_allclose(b_adamw, 1.0)  # biases are not decayed


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, learning_rate=0.1),
        lambda p: SGD(p, learning_rate=0.1, momentum=0.9),
        lambda p: SGD(p, learning_rate=0.1, momentum=0.9, nesterov=True),
        lambda p: Adam(p, learning_rate=0.1),
        lambda p: RMSprop(p, learning_rate=0.1),
        lambda p: AdamW(p, learning_rate=0.1, decay=[]),
    ],
)
def test_large_arrays_updated_piecewise_get_exactly_the_whole_update(make, monkeypatch):
    # 2.5 pieces, so that the last one is short; float32, as in training
    size = 5 * optimizers.CHUNK // 2
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((3, size)).astype(np.float32)
    params = {}
    for chunk in (optimizers.CHUNK, 10 * size):  # pieces, then one piece
        monkeypatch.setattr(optimizers, "CHUNK", chunk)
        p = np.ones(size, dtype=np.float32)
        optimizer = make([p])
        for g in grads:
            optimizer.step([g.copy()])
        params[chunk] = p
    assert not np.array_equal(params[10 * size], 1.0)
    np.testing.assert_array_equal(*params.values())


def test_values_that_decay_out_of_the_normal_range_are_flushed_to_zero(
    digits, monkeypatch
):
    # Digits has pixels that are 0 in every image: with Adam and an L2 penalty
    # their weights shrink geometrically and, left alone, become subnormal
    # (slow to compute with) within ~1000 steps.
    X_train, _, y_train, _ = digits
    X = X_train.astype(np.float32)
    assert (X == 0).all(axis=0).any()
    tiny = np.finfo(np.float32).tiny
    models = {}
    for name, every in (("flushed", optimizers.FLUSH_EVERY), ("never", 10**9)):
        monkeypatch.setattr(optimizers, "FLUSH_EVERY", every)
        model = NeuralNetwork()
        model.add(Layer(64, 16, activation="relu", random_state=0))
        model.add(Layer(16, 10, activation="softmax", random_state=1))
        model.fit(
            X,
            y_train,
            epochs=12,
            batch_size=10,
            optimizer="adam",
            learning_rate=0.001,
            alpha=1e-3,
            random_state=0,
            verbose=False,
        )
        W = model.layers[0].weights
        models[name] = model, ((W != 0) & (np.abs(W) < tiny)).sum(), (W == 0).sum()
    flushed, subnormal, zeros = models["flushed"]
    never, subnormal_left, zeros_left = models["never"]
    assert subnormal_left > 0  # the premise
    assert subnormal == 0 and zeros > zeros_left
    # nothing a prediction could notice
    np.testing.assert_allclose(flushed.predict(X), never.predict(X), atol=1e-6)


def test_sgd_state_round_trip():
    p = np.ones(3)
    opt = SGD([p], learning_rate=0.1, momentum=0.9)
    opt.step([np.ones(3)])
    clone = SGD([p.copy()], learning_rate=0.1, momentum=0.9)
    clone.load_state_dict(opt.state_dict())
    opt.step([np.ones(3)])
    clone.step([np.ones(3)])
    np.testing.assert_array_equal(opt.params[0], clone.params[0])


def test_gradient_clipping_scales_to_the_maximum_norm():
    grads = [np.array([3.0, 0.0]), np.array([[0.0], [4.0]])]
    assert clip_grad_norm(grads, 1.0) == pytest.approx(5.0)
    assert np.sqrt(sum((g**2).sum() for g in grads)) == pytest.approx(1.0)
    small = [np.array([0.3, 0.4])]
    clip_grad_norm(small, 1.0)
    np.testing.assert_array_equal(small[0], [0.3, 0.4])


def test_dropout_gradient_with_a_fixed_mask():
    rng = np.random.default_rng(0)
    net = NeuralNetwork(
        [
            Layer(4, 6, "tanh", random_state=0, dtype="float64"),
            Layer(6, 3, "softmax", random_state=1, dtype="float64"),
        ]
    )
    net.layers[0].dropout = Dropout(0.5)
    X = rng.normal(size=(7, 4))
    Y = np.eye(3)[rng.integers(0, 3, 7)]

    def evaluate():
        net.layers[0].dropout.rng = np.random.default_rng(42)  # the same mask
        return net.loss_and_gradients(X, Y)

    value, grads = evaluate()
    eps = 1e-6
    for param, grad in zip(net.parameters(), grads, strict=True):
        numeric = np.zeros_like(param)
        for idx in np.ndindex(param.shape):
            saved = param[idx]
            param[idx] = saved + eps
            plus = evaluate()[0]
            param[idx] = saved - eps
            minus = evaluate()[0]
            param[idx] = saved
            numeric[idx] = (plus - minus) / (2 * eps)
        error = np.linalg.norm(grad - numeric) / (
            np.linalg.norm(grad) + np.linalg.norm(numeric)
        )
        assert error < 1e-6
    mask = net.layers[0].dropout._mask
    assert set(np.unique(mask)) == {0.0, 2.0}  # inverted: kept units scaled by 2


def test_dropout_is_off_at_predict_time_and_changes_training(digits):
    X_train, X_test, y_train, _ = digits
    params = {"max_iter": 5, "random_state": 0, "learning_rate_init": 0.003}
    with pytest.warns(ConvergenceWarning):
        plain = MLPScratchClassifier(**params).fit(X_train, y_train)
    with pytest.warns(ConvergenceWarning):
        dropped = MLPScratchClassifier(dropout=[0.3, 0.1], **params).fit(
            X_train, y_train
        )
    assert not np.array_equal(plain.coefs_[0], dropped.coefs_[0])
    np.testing.assert_array_equal(
        dropped.predict_proba(X_test), dropped.predict_proba(X_test)
    )
    with pytest.raises(ValueError, match="dropout has 1 rates but there are 2"):
        MLPScratchClassifier(dropout=[0.2]).fit(X_train, y_train)
    with pytest.raises(ValueError, match="needs a stochastic solver"):
        MLPScratchClassifier(dropout=0.2, solver="lbfgs").fit(X_train, y_train)


def test_one_activation_per_hidden_layer(digits):
    clf = MLPScratchClassifier(
        hidden_layer_sizes=(16, 16, 16),
        activation=["gelu", "elu", "leaky_relu"],
        learning_rate_init=0.003,
        random_state=0,
    )
    assert _holdout(clf, digits) > 0.9
    net = clf._network()
    assert [layer.activation for layer in net.layers] == [
        "gelu",
        "elu",
        "leaky_relu",
        "softmax",
    ]
    with pytest.raises(ValueError, match="activation has 2 entries but there are 3"):
        clf.set_params(activation=["relu", "tanh"]).fit(*digits[::2])
    with pytest.raises(ValueError, match="Unknown activation 'softmax'"):
        clf.set_params(activation=["relu", "softmax", "relu"]).fit(*digits[::2])


def test_early_stopping_stops_before_max_iter_and_restores_the_best_epoch(digits):
    X_train, X_test, y_train, y_test = digits
    clf = MLPScratchClassifier(
        early_stopping=True,
        n_iter_no_change=5,
        learning_rate_init=0.01,
        max_iter=500,
        random_state=0,
    ).fit(X_train, y_train)
    assert clf.n_iter_ < 500
    best = int(np.argmax(clf.validation_scores_))
    assert clf.n_iter_ == best + 1 + 6  # six epochs without improvement
    # the model holds the best epoch's weights: re-create the split and score
    _, X_val, _, y_val = train_test_split(
        X_train,
        y_train,
        test_size=0.1,
        stratify=np.searchsorted(clf.classes_, y_train),
        random_state=np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=3)[
            1
        ],
    )
    assert clf.score(X_val, y_val) == clf.best_validation_score_
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    records = clf.history_
    assert [r["epoch"] for r in records] == list(range(1, clf.n_iter_ + 1))
    assert set(records[0]) == {
        "epoch",
        "loss",
        "validation_loss",
        "validation_score",
        "learning_rate",
        "seconds",
    }


def test_early_stopping_on_the_validation_loss(digits):
    X_train, _, y_train, _ = digits
    clf = MLPScratchClassifier(
        early_stopping=True,
        scoring="loss",
        n_iter_no_change=3,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X_train, y_train)
    best = int(np.argmin(clf.validation_loss_curve_))
    assert clf.n_iter_ == best + 1 + 4


def test_a_validation_set_of_ones_own_is_routed_through_a_pipeline(digits):
    X_train, X_val, y_train, y_val = digits
    with sklearn.config_context(enable_metadata_routing=True):
        mlp = MLPScratchClassifier(
            learning_rate_init=0.003, random_state=0, n_iter_no_change=3
        )
        mlp.set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline(
            [("scale", StandardScaler()), ("mlp", mlp)], transform_input=["X_val"]
        )
        pipe.fit(X_train * 16, y_train, X_val=X_val * 16, y_val=y_val)
    fitted = pipe.named_steps["mlp"]
    # 'auto' early stopping turns on with a validation set and keeps the best
    # epoch, whose score is the pipeline's score on the (scaled) X_val
    assert fitted.n_iter_ < 200
    assert pipe.score(X_val * 16, y_val) == fitted.best_validation_score_
    assert fitted.t_ == fitted.n_iter_ * len(X_train)  # no rows held out


def test_validation_set_errors(digits):
    X_train, X_val, y_train, y_val = digits
    clf = MLPScratchClassifier(max_iter=2)
    with pytest.raises(ValueError, match="X_val and y_val must be given together"):
        clf.fit(X_train, y_train, X_val=X_val)
    with pytest.raises(ValueError, match="classes \\[42\\] that are not in"):
        clf.fit(X_train, y_train, X_val=X_val[:1], y_val=[42])


def test_class_weight_balanced_raises_minority_recall():
    X, y = make_classification(
        n_samples=2000,
        weights=[0.95],
        flip_y=0,
        class_sep=0.4,
        n_informative=3,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, random_state=0, stratify=y
    )
    params = {"hidden_layer_sizes": (8,), "random_state": 0, "tol": 1e-3}
    plain = MLPScratchClassifier(**params).fit(X_train, y_train)
    balanced = MLPScratchClassifier(class_weight="balanced", **params).fit(
        X_train, y_train
    )
    before = recall_score(y_test, plain.predict(X_test))
    after = recall_score(y_test, balanced.predict(X_test))
    assert after - before > 0.2, (before, after)


def test_class_weight_dict_matches_sample_weight(digits):
    X_train, X_test, y_train, _ = digits
    weights = {k: 1.0 + k for k in range(10)}
    params = {"solver": "lbfgs", "dtype": "float64", "random_state": 0, "max_iter": 30}
    with pytest.warns(ConvergenceWarning):
        a = MLPScratchClassifier(class_weight=weights, **params).fit(X_train, y_train)
    with pytest.warns(ConvergenceWarning):
        b = MLPScratchClassifier(**params).fit(
            X_train, y_train, sample_weight=1.0 + y_train
        )
    np.testing.assert_allclose(a.predict_proba(X_test), b.predict_proba(X_test))


def test_zero_weights_match_training_on_the_other_half(digits):
    X_train, X_test, y_train, _ = digits
    half = len(X_train) // 2
    weights = np.r_[np.ones(half), np.zeros(len(X_train) - half)]
    params = {"solver": "lbfgs", "dtype": "float64", "random_state": 0}
    weighted = MLPScratchClassifier(**params).fit(
        X_train, y_train, sample_weight=weights
    )
    subset = MLPScratchClassifier(**params).fit(X_train[:half], y_train[:half])
    np.testing.assert_allclose(
        weighted.predict_proba(X_test),
        subset.predict_proba(X_test),
        rtol=1e-6,
        atol=1e-9,
    )


def test_partial_fit_over_chunks(digits):
    X_train, X_test, y_train, y_test = digits
    clf = MLPScratchClassifier(learning_rate_init=0.003, random_state=0)
    classes = np.unique(y_train)
    for _ in range(20):
        for chunk in np.array_split(np.arange(len(X_train)), 5):
            clf.partial_fit(X_train[chunk], y_train[chunk], classes=classes)
    assert clf.score(X_test, y_test) > 0.9
    assert clf.n_iter_ == 1 and len(clf.history_) == 100  # n_iter_: this call
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPScratchClassifier().partial_fit(X_train, y_train)
    with pytest.raises(ValueError, match="not in the classes"):
        clf.partial_fit(X_train[:3], [11, 12, 13])
    assert not hasattr(MLPScratchClassifier(solver="lbfgs"), "partial_fit")


def test_partial_fit_with_sample_weight_and_every_solver(digits):
    X_train, X_test, y_train, y_test = digits
    for solver in ("sgd", "rmsprop", "adamw"):
        clf = MLPScratchClassifier(
            solver=solver, learning_rate_init=0.01, random_state=0
        )
        for _ in range(15):
            clf.partial_fit(
                X_train,
                y_train,
                classes=np.arange(10),
                sample_weight=np.ones(len(y_train)),
            )
        assert clf.score(X_test, y_test) > 0.85, solver


@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop", "adamw"])
def test_save_load_and_warm_start_match_uninterrupted_training(
    solver, digits, tmp_path
):
    X_train, X_test, y_train, _ = digits
    params = {
        "solver": solver,
        "random_state": 0,
        "n_iter_no_change": 100,
        "dropout": 0.1,
        "learning_rate_init": 0.003,
    }
    with pytest.warns(ConvergenceWarning):
        straight = MLPScratchClassifier(max_iter=6, **params).fit(X_train, y_train)
    with pytest.warns(ConvergenceWarning):
        first = MLPScratchClassifier(max_iter=3, warm_start=True, **params).fit(
            X_train, y_train
        )
    first.save(tmp_path / "half.npz")
    resumed = MLPScratchClassifier.load(tmp_path / "half.npz")
    with pytest.warns(ConvergenceWarning):
        resumed.fit(X_train, y_train)
    assert resumed.n_iter_ == 3 and len(resumed.history_) == 6
    np.testing.assert_allclose(resumed.loss_curve_, straight.loss_curve_, rtol=1e-12)
    for a, b in zip(resumed.coefs_, straight.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        resumed.predict_proba(X_test), straight.predict_proba(X_test), rtol=1e-9
    )


def test_divergence_raises_a_clear_error_and_keeps_the_old_model(digits):
    X_train, X_test, y_train, _ = digits
    clf = MLPScratchClassifier(
        solver="sgd",
        learning_rate_init=0.01,
        max_iter=5,
        warm_start=True,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_train, y_train)
    before = clf.predict_proba(X_test)
    clf.set_params(learning_rate_init=1e6, momentum=0.0)
    with pytest.raises(FloatingPointError, match="learning rate 1e\\+06"):
        clf.fit(X_train * 1e3, y_train)
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)
    assert clf.n_iter_ == 5
    fresh = MLPScratchClassifier(solver="sgd", learning_rate_init=1e6, momentum=0.0)
    with pytest.raises(FloatingPointError, match="diverged"):
        fresh.fit(X_train * 1e3, y_train)
    assert not hasattr(fresh, "coefs_")


def test_ctrl_c_stops_after_the_current_batch_and_keeps_a_usable_model(
    digits, monkeypatch
):
    X_train, X_test, y_train, y_test = digits
    calls = []
    original = Adam.step

    def step(self, grads, learning_rate=None):
        original(self, grads, learning_rate)
        calls.append(1)
        if len(calls) == 30:  # in the third epoch (14 batches an epoch)
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(Adam, "step", step)
    clf = MLPScratchClassifier(learning_rate_init=0.003, random_state=0)
    with pytest.warns(UserWarning, match="interrupted \\(Ctrl-C\\) in epoch 3"):
        clf.fit(X_train, y_train)
    assert len(calls) == 30  # nothing ran after the batch that was interrupted
    assert clf.n_iter_ == 3
    assert clf.score(X_test, y_test) > 0.5
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_multilabel_targets(tmp_path):
    X, Y = make_multilabel_classification(
        n_samples=300, n_features=10, n_classes=4, random_state=0
    )
    clf = MLPScratchClassifier(
        learning_rate_init=0.01, random_state=0, max_iter=300, tol=1e-3
    ).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 4
    assert list(clf.classes_) == [0, 1, 2, 3]
    proba = clf.predict_proba(X)
    assert proba.shape == (300, 4)
    predicted = clf.predict(X)
    assert predicted.shape == (300, 4)
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    assert np.mean(predicted == Y) > 0.9
    clf.save(tmp_path / "multilabel.npz")
    loaded = MLPScratchClassifier.load(tmp_path / "multilabel.npz")
    np.testing.assert_array_equal(loaded.predict_proba(X), proba)
    with pytest.raises(ValueError, match="class_weight is not supported"):
        MLPScratchClassifier(class_weight="balanced").fit(X, Y)
    with pytest.raises(ValueError, match="multiclass-multioutput"):
        MLPScratchClassifier().fit(X, Y * np.arange(1, 5))


def test_verbose_reports_validation_metrics(capsys, digits):
    X_train, _, y_train, _ = digits
    with pytest.warns(ConvergenceWarning):
        MLPScratchClassifier(
            early_stopping=True, max_iter=2, verbose=True, random_state=0
        ).fit(X_train, y_train)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "validation loss = " in lines[0] and "validation score = " in lines[0]
    assert lines[0].endswith(" s)")


def test_lbfgs_honours_max_iter_and_max_fun(digits):
    X_train, _, y_train, _ = digits
    with pytest.warns(ConvergenceWarning, match="L-BFGS"):
        clf = MLPScratchClassifier(solver="lbfgs", max_iter=5).fit(X_train, y_train)
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 5
    with pytest.warns(ConvergenceWarning):
        few = MLPScratchClassifier(solver="lbfgs", max_fun=4).fit(X_train, y_train)
    assert few.n_iter_ <= 4
    with pytest.raises(ValueError, match="early_stopping=True needs a stochastic"):
        MLPScratchClassifier(solver="lbfgs", early_stopping=True).fit(X_train, y_train)


def test_partial_fit_with_unsorted_string_classes(digits):
    X_train, X_test, y_train, y_test = digits
    names = np.array(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
        ],
        dtype=object,
    )
    clf = MLPScratchClassifier(learning_rate_init=0.003, random_state=0)
    for _ in range(10):
        clf.partial_fit(X_train, names[y_train], classes=names)  # unsorted
    assert list(clf.classes_) == sorted(names)
    assert clf.score(X_test, names[y_test]) > 0.85


@pytest.mark.parametrize("failure", ["diverge", "bad_width", "one_class"])
def test_a_failed_fit_leaves_the_previous_model_untouched(failure, digits):
    X_train, X_test, y_train, _ = digits
    clf = MLPScratchClassifier(
        solver="sgd",
        learning_rate_init=0.01,
        max_iter=3,
        warm_start=failure == "diverge",
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_train, y_train)
    before = dict(vars(clf))
    proba = clf.predict_proba(X_test)
    with pytest.raises((ValueError, FloatingPointError)):
        if failure == "diverge":
            clf.set_params(learning_rate_init=1e6, momentum=0.0)
            clf.fit(X_train * 1e3, y_train)
        elif failure == "bad_width":
            clf.fit(np.hstack([X_train, X_train]), np.zeros(len(X_train)))
        else:
            clf.fit(X_train, np.zeros(len(X_train)))
    after = dict(vars(clf))
    after.pop("learning_rate_init"), before.pop("learning_rate_init")
    after.pop("momentum"), before.pop("momentum")
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in after)
    np.testing.assert_array_equal(clf.predict_proba(X_test), proba)


def test_a_validation_set_without_early_stopping_is_only_scored(digits):
    X_train, X_val, y_train, y_val = digits
    clf = MLPScratchClassifier(
        early_stopping=False,
        max_iter=15,
        tol=0.0,
        n_iter_no_change=100,
        learning_rate_init=0.01,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert clf.n_iter_ == 15 and len(clf.validation_scores_) == 15
    # the final weights are kept, not the best epoch's
    assert clf.score(X_val, y_val) == clf.validation_scores_[-1]


def test_lbfgs_scores_a_validation_set_of_its_own(digits):
    # L-BFGS never stops on it, but scores it after every iteration (this
    # once passed the iteration's loss value where the loss's name belongs)
    X_train, X_val, y_train, y_val = digits
    clf = MLPScratchClassifier(solver="lbfgs", max_iter=8, tol=0.0, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert len(clf.validation_scores_) == clf.n_iter_ == 8
    assert clf.score(X_val, y_val) == clf.validation_scores_[-1]
    assert all(np.isfinite(clf.validation_loss_curve_))


def test_partial_fit_after_a_fit_with_validation(digits):
    X_train, X_test, y_train, y_test = digits
    clf = MLPScratchClassifier(early_stopping=True, max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_train, y_train)
    # as scikit-learn: partial_fit cannot continue early stopping, and the
    # model is left as it was
    before = clf.predict_proba(X_test)
    with pytest.raises(ValueError, match="partial_fit does not support early_stop"):
        clf.partial_fit(X_train, y_train)
    assert len(clf.history_) == 3
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)


def test_adaptive_rate_continues_across_a_warm_start_and_a_file(
    tmp_path, multiclass_data
):
    # the schedule owns the plateau-reduced rate; a warm start (here through a
    # model file) starts from the rate the first fit ended with (the plateau
    # patience itself restarts with every fit, so later reductions come later
    # than in one long fit)
    X, y = multiclass_data
    params = {
        "solver": "sgd",
        "learning_rate": "adaptive",
        "learning_rate_init": 0.05,
        "tol": 10.0,  # every epoch is a plateau: the rate falls every 3 epochs
        "n_iter_no_change": 2,
        "random_state": 0,
        "dtype": "float64",
    }
    with pytest.warns(ConvergenceWarning):
        straight = MLPScratchClassifier(max_iter=12, **params).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        first = MLPScratchClassifier(max_iter=6, warm_start=True, **params).fit(X, y)
    first.save(tmp_path / "half.npz")
    resumed = MLPScratchClassifier.load(tmp_path / "half.npz")
    with pytest.warns(ConvergenceWarning):
        resumed.fit(X, y)
    rates = [r["learning_rate"] for r in straight.history_]
    assert rates[-1] < rates[6] < rates[0]  # it fell in the first fit, and later
    assert [r["learning_rate"] for r in resumed.history_][:7] == rates[:7]
    np.testing.assert_allclose(
        resumed.loss_curve_[:7], straight.loss_curve_[:7], rtol=1e-12
    )


@pytest.mark.parametrize(
    "params",
    [{"learning_rate": "adaptive"}, {"early_stopping": True}, {}],
    ids=["adaptive", "early_stopping", "tol"],
)
def test_one_epoch_warm_starts_stop_and_decay_like_one_fit(params):
    # the stopping rule's best value and count go on across warm starts (as
    # scikit-learn's _no_improvement_count does): thirty 1-epoch fits give the
    # rates, the stopping epoch and the weights of one 30-epoch fit
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    common = dict(solver="sgd", learning_rate_init=0.1, tol=1e-2, n_iter_no_change=2,
                  random_state=0, batch_size=200, **params)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = MLPScratchClassifier(max_iter=30, **common).fit(X / 16, y)
        steps = MLPScratchClassifier(max_iter=1, warm_start=True, **common)
        while len(getattr(steps, "history_", [])) < len(whole.history_):
            steps.fit(X / 16, y)
    rates = [[r["learning_rate"] for r in m.history_] for m in (whole, steps)]
    assert rates[0] == rates[1]
    if params.get("learning_rate") == "adaptive":
        assert len(set(rates[0])) > 1  # the rate was reduced on a plateau
    np.testing.assert_array_equal(whole.coefs_[0], steps.coefs_[0])


def _averaged_params(**changes):
    params = dict(
        learning_rate="constant",
        learning_rate_init=0.003,
        n_iter_no_change=100,
        dropout=0.1,
        random_state=0,
        dtype="float64",
    )
    return {**params, **changes}


def test_average_epochs_ends_with_the_mean_of_the_last_epochs_weights(digits):
    # one-epoch warm starts continue a fit exactly: their weights after
    # epochs 4, 5 and 6 are the ones a 6-epoch fit averages
    X_train, X_test, y_train, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        averaged = MLPScratchClassifier(
            max_iter=6, average_epochs=3, **_averaged_params()
        )
        averaged.fit(X_train, y_train)
        plain = MLPScratchClassifier(max_iter=6, **_averaged_params()).fit(
            X_train, y_train
        )
        steps = MLPScratchClassifier(max_iter=1, warm_start=True, **_averaged_params())
        snapshots = []
        for _ in range(6):
            steps.fit(X_train, y_train)
            snapshots.append([c.copy() for c in steps.coefs_ + steps.intercepts_])
    np.testing.assert_array_equal(plain.coefs_[0], steps.coefs_[0])
    for i, a in enumerate(averaged.coefs_ + averaged.intercepts_):
        mean = (snapshots[3][i] + snapshots[4][i] + snapshots[5][i]) / 3
        np.testing.assert_allclose(a, mean, rtol=1e-12, atol=1e-14)
    assert not np.allclose(averaged.coefs_[0], plain.coefs_[0], rtol=1e-3)
    # the epochs' own losses are reported, and the average predicts
    assert averaged.loss_curve_ == plain.loss_curve_
    assert averaged.n_iter_ == 6
    assert averaged.predict(X_test).shape == (len(X_test),)


def test_average_learning_rate_holds_the_averaged_epochs_at_its_rate(digits):
    X_train, _, y_train, _ = digits
    clf = MLPScratchClassifier(
        max_iter=6,
        average_epochs=2,
        average_learning_rate=0.0005,
        **_averaged_params(learning_rate="cosine"),
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_train, y_train)
    rates = [record["learning_rate"] for record in clf.history_]
    assert rates[0] == 0.003 and rates[4:] == [0.0005, 0.0005]
    assert rates[0] > rates[1] > rates[2] > rates[3] > 0.0005  # annealed to it
    # only used with average_epochs; more epochs to average than max_iter:
    # all of them, every one at the held rate
    unused = MLPScratchClassifier(
        max_iter=3, average_learning_rate=0.0005, **_averaged_params()
    )
    everything = MLPScratchClassifier(
        max_iter=3, average_epochs=5, average_learning_rate=0.0005,
        **_averaged_params(),
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        unused.fit(X_train, y_train)
        everything.fit(X_train, y_train)
    assert [r["learning_rate"] for r in unused.history_] == [0.003] * 3
    assert [r["learning_rate"] for r in everything.history_] == [0.0005] * 3


def test_average_epochs_averages_only_the_window_that_ran(digits):
    # a fit that stops on the training loss before the last epochs of
    # max_iter averages none of them; one epoch averaged is the weights
    X_train, _, y_train, _ = digits
    common = _averaged_params(tol=10.0, n_iter_no_change=2, max_iter=30)
    stopped = MLPScratchClassifier(average_epochs=5, **common).fit(X_train, y_train)
    plain = MLPScratchClassifier(**common).fit(X_train, y_train)
    assert stopped.n_iter_ == plain.n_iter_ < 25
    np.testing.assert_array_equal(stopped.coefs_[0], plain.coefs_[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = MLPScratchClassifier(max_iter=3, average_epochs=1, **_averaged_params())
        last = MLPScratchClassifier(max_iter=3, **_averaged_params())
        for model in (one, last):
            model.fit(X_train, y_train)
    np.testing.assert_array_equal(one.coefs_[1], last.coefs_[1])


def test_average_epochs_turns_auto_early_stopping_off_and_keeps_scoring(digits):
    X_train, X_val, y_train, y_val = digits
    clf = MLPScratchClassifier(max_iter=8, average_epochs=4, **_averaged_params())
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)  # 'auto' would stop
    assert clf.n_iter_ == 8 and len(clf.validation_scores_) == 8


def test_average_epochs_is_kept_in_files_and_skipped_by_partial_fit(digits, tmp_path):
    X_train, X_test, y_train, _ = digits
    kwargs = _averaged_params(average_epochs=2, max_iter=2)
    one = MLPScratchClassifier(**kwargs).partial_fit(X_train, y_train, np.arange(10))
    plain = MLPScratchClassifier(**{**kwargs, "average_epochs": None})
    plain.partial_fit(X_train, y_train, np.arange(10))
    np.testing.assert_array_equal(one.coefs_[0], plain.coefs_[0])
    one.save(tmp_path / "m.npz")
    loaded = MLPScratchClassifier.load(tmp_path / "m.npz")
    assert loaded.get_params()["average_epochs"] == 2
    np.testing.assert_array_equal(
        loaded.predict_proba(X_test), one.predict_proba(X_test)
    )


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"solver": "lbfgs"}, "average_epochs needs a stochastic solver"),
        ({"early_stopping": True}, "cannot be combined with early_stopping=True"),
        ({"normalization": "batch"}, "cannot be combined with normalization='batch'"),
    ],
)
def test_average_epochs_refuses_what_it_cannot_average(changes, message, digits):
    X_train, _, y_train, _ = digits
    params = {**_averaged_params(max_iter=5, average_epochs=4, dropout=0.0), **changes}
    with pytest.raises(ValueError, match=message):
        MLPScratchClassifier(**params).fit(X_train, y_train)


def test_weight_average_refuses_batch_norm_and_validation_stopping():
    from sknumpy_mlp.engine.normalization import BatchNorm
    from sknumpy_mlp.engine.training import WeightAverage

    network = NeuralNetwork()
    network.add(Layer(4, 3))
    network.add(Layer(3, 2, activation="softmax"))
    network.layers[0].normalization = BatchNorm(3)
    with pytest.raises(ValueError, match="batch normalization"):
        WeightAverage(network, 0)
    plain = NeuralNetwork()
    plain.add(Layer(4, 2, activation="softmax", dtype="float64"))
    with pytest.raises(ValueError, match="stopping on a validation set"):
        WeightAverage(plain, 0, on_validation=True)
    average = WeightAverage(plain, 1)
    start = plain.layers[0].weights.copy()
    average.add(0)  # before the window: not counted
    plain.layers[0].weights += 1.0
    average.add(1)
    plain.layers[0].weights += 2.0
    average.add(2)
    assert average.apply() == 2
    np.testing.assert_allclose(plain.layers[0].weights, start + 2.0, rtol=1e-15)
