"""The Display classes of sknumpy_mlp.plotting draw what they are given."""

import numpy as np
import pytest

from sknumpy_mlp import MLPScratchClassifier
from sknumpy_mlp.plotting import (
    MisclassifiedDisplay,
    TrainingCurvesDisplay,
    WeightImagesDisplay,
)

plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits_model():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16
    clf = MLPScratchClassifier(
        hidden_layer_sizes=(20,), early_stopping=True, random_state=0
    ).fit(X, y)
    return clf, X, y


def test_training_curves_plot_every_recorded_value(digits_model):
    clf = digits_model[0]
    display = TrainingCurvesDisplay.from_estimator(clf, name="digits")
    train, val_loss, val_score = display.lines_
    np.testing.assert_array_equal(train.get_ydata(), clf.loss_curve_)
    np.testing.assert_array_equal(val_loss.get_ydata(), clf.validation_loss_curve_)
    np.testing.assert_array_equal(val_score.get_ydata(), clf.validation_scores_)
    np.testing.assert_array_equal(train.get_xdata(), np.arange(1, clf.n_iter_ + 1))
    assert display.ax_.get_title() == "digits"
    assert display.score_ax_.get_ylabel() == "validation accuracy"


def test_training_curves_without_validation_draw_the_loss_only():
    display = TrainingCurvesDisplay(loss_curve=[3.0, 2.0, 1.5]).plot()
    assert len(display.lines_) == 1 and display.score_ax_ is None
    _, ax = plt.subplots()
    assert TrainingCurvesDisplay(loss_curve=[1.0]).plot(ax=ax).ax_ is ax


def test_weight_images_show_each_units_weights(digits_model):
    clf = digits_model[0]
    display = WeightImagesDisplay.from_estimator(clf, n_units=6, n_cols=4)
    assert display.axes_.shape == (2, 4)
    image = display.axes_[0, 1].get_images()[0].get_array()
    np.testing.assert_array_equal(image, clf.coefs_[0][:, 1].reshape(8, 8))
    assert not display.axes_[1, 3].get_images()  # 6 units in 8 cells


def test_misclassified_shows_only_mistakes_with_labels():
    X = np.arange(5 * 4, dtype=float).reshape(5, 4)
    y_true = np.array([0, 1, 2, 3, 4])
    y_pred = np.array([0, 9, 2, 8, 4])
    display = MisclassifiedDisplay.from_predictions(X, y_true, y_pred, n_cols=2)
    titles = [ax.get_title() for ax in display.axes_.flat if ax.get_images()]
    assert titles == ["9 / 1", "8 / 3"]
    np.testing.assert_array_equal(
        display.axes_[0, 1].get_images()[0].get_array(), X[3].reshape(2, 2)
    )


def test_misclassified_without_mistakes_says_so():
    X = np.zeros((2, 4))
    display = MisclassifiedDisplay.from_predictions(X, [1, 2], [1, 2])
    assert display.axes_[0, 0].texts[0].get_text() == "no misclassified images"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"image_shape": None, "n_pixels": 10}, "not a square image"),
        ({"image_shape": (3, 3), "n_pixels": 10}, "does not hold 10 features"),
    ],
)
def test_image_shape_errors(kwargs, message):
    weights = np.ones((kwargs["n_pixels"], 2))
    with pytest.raises(ValueError, match=message):
        WeightImagesDisplay(weights, image_shape=kwargs["image_shape"]).plot()


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="same number"):
        MisclassifiedDisplay.from_predictions(np.zeros((3, 4)), [1, 2], [1, 2, 3])


def test_unfitted_estimator_is_an_error():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TrainingCurvesDisplay.from_estimator(MLPScratchClassifier())
