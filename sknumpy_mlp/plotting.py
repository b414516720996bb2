"""Plots of a fitted :class:`~sknumpy_mlp.MLPScratchClassifier`.

Each plot is a ``Display`` in scikit-learn's style: a class holding the data to
draw, a ``from_estimator`` class method that computes it, and a ``plot`` method
that draws it and keeps the Matplotlib objects as attributes (``ax_``,
``figure_``, ...). Matplotlib is an optional dependency (the ``plot`` extra),
imported only when something is drawn. For the confusion matrix use
scikit-learn's :class:`~sklearn.metrics.ConfusionMatrixDisplay`.
"""

import math

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "MisclassifiedDisplay",
    "TrainingCurvesDisplay",
    "WeightImagesDisplay",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib: pip install 'sknumpy-mlp[plot]'."
        ) from exc
    return plt


def _image_shape(n_pixels, image_shape):
    if image_shape is None:
        side = math.isqrt(n_pixels)
        if side * side != n_pixels:
            raise ValueError(
                f"{n_pixels} features are not a square image; pass image_shape."
            )
        image_shape = (side, side)
    image_shape = tuple(int(s) for s in image_shape)
    if math.prod(image_shape) != n_pixels:
        raise ValueError(
            f"image_shape={image_shape} does not hold {n_pixels} features."
        )
    return image_shape


def _grid(n_images, n_cols):
    n_cols = max(1, min(n_cols, n_images))
    return math.ceil(n_images / n_cols), n_cols


class TrainingCurvesDisplay:
    """Training loss, validation loss and validation score per epoch.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Mean training loss of every epoch.
    validation_loss_curve : array-like of shape (n_epochs,), default=None
    validation_scores : array-like of shape (n_epochs,), default=None
    score_name : str, default="validation score"
    estimator_name : str, default=None

    Attributes
    ----------
    ax_ : matplotlib Axes
        The losses.
    score_ax_ : matplotlib Axes or None
        The validation score, on a second y axis.
    figure_ : matplotlib Figure

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknumpy_mlp import MLPScratchClassifier
    >>> from sknumpy_mlp.plotting import TrainingCurvesDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPScratchClassifier(early_stopping=True, random_state=0)
    >>> clf = clf.fit(X / 16, y)
    >>> display = TrainingCurvesDisplay.from_estimator(clf)
    >>> [line.get_label() for line in display.lines_]
    ['training loss', 'validation loss', 'validation accuracy']
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_loss_curve=None,
        validation_scores=None,
        score_name="validation score",
        estimator_name=None,
    ):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.validation_scores = validation_scores
        self.score_name = score_name
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None):
        """Plot the curves recorded by ``estimator.fit``.

        Parameters
        ----------
        estimator : fitted MLPScratchClassifier
        ax : matplotlib Axes, default=None
            Where to draw; a new figure if ``None``.
        name : str, default=None
            Title; the estimator's class name if ``None``.

        Returns
        -------
        TrainingCurvesDisplay
        """
        check_is_fitted(estimator, "loss_curve_")
        scoring = getattr(estimator, "scoring", "accuracy")
        display = cls(
            loss_curve=estimator.loss_curve_,
            validation_loss_curve=estimator.validation_loss_curve_,
            validation_scores=estimator.validation_scores_,
            score_name=f"validation {scoring}",
            estimator_name=name or type(estimator).__name__,
        )
        return display.plot(ax=ax)

    def plot(self, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None

        Returns
        -------
        self
        """
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        epochs = np.arange(1, len(self.loss_curve) + 1)
        lines = ax.plot(epochs, self.loss_curve, label="training loss")
        if self.validation_loss_curve is not None:
            values = np.array(self.validation_loss_curve, dtype=float)
            lines += ax.plot(
                epochs[: len(values)], values, "--", label="validation loss"
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        self.score_ax_ = None
        if self.validation_scores is not None:
            self.score_ax_ = ax.twinx()
            values = np.array(self.validation_scores, dtype=float)
            lines += self.score_ax_.plot(
                epochs[: len(values)], values, color="C2", label=self.score_name
            )
            self.score_ax_.set_ylabel(self.score_name)
        ax.legend(lines, [line.get_label() for line in lines], loc="center right")
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        self.ax_, self.figure_, self.lines_ = ax, ax.figure, lines
        return self


class WeightImagesDisplay:
    """The incoming weights of first-layer units, drawn as images.

    Unit ``j``'s weights ``W[:, j]`` have one value per input pixel; drawn in
    the image's shape they show what the unit responds to. Each image has its
    own colour scale, symmetric around zero (red positive, blue negative).

    Parameters
    ----------
    weights : ndarray of shape (n_pixels, n_units)
    image_shape : tuple of int, default=None
        A square image if ``None``.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, weights, *, image_shape=None):
        self.weights = weights
        self.image_shape = image_shape

    @classmethod
    def from_estimator(cls, estimator, *, n_units=64, n_cols=8, image_shape=None):
        """Draw the first ``n_units`` units of ``estimator``'s first layer.

        Parameters
        ----------
        estimator : fitted MLPScratchClassifier
        n_units : int, default=64
        n_cols : int, default=8
        image_shape : tuple of int, default=None

        Returns
        -------
        WeightImagesDisplay
        """
        check_is_fitted(estimator, "coefs_")
        weights = estimator.coefs_[0][:, :n_units]
        return cls(weights, image_shape=image_shape).plot(n_cols=n_cols)

    def plot(self, *, n_cols=8):
        """Draw the images in a grid of ``n_cols`` columns.

        Returns
        -------
        self
        """
        plt = _pyplot()
        shape = _image_shape(self.weights.shape[0], self.image_shape)
        n_rows, n_cols = _grid(self.weights.shape[1], n_cols)
        fig, axes = plt.subplots(
            n_rows, n_cols, figsize=(1.2 * n_cols, 1.2 * n_rows), squeeze=False
        )
        for j, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if j < self.weights.shape[1]:
                image = self.weights[:, j].reshape(shape)
                limit = np.abs(image).max() or 1.0
                ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        self.axes_, self.figure_ = axes, fig
        return self


class MisclassifiedDisplay:
    """A grid of misclassified images with their predicted and true labels.

    Parameters
    ----------
    images : ndarray of shape (n_images, n_pixels)
    y_true, y_pred : array-like of shape (n_images,)
    image_shape : tuple of int, default=None
        A square image if ``None``.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, images, y_true, y_pred, *, image_shape=None):
        self.images = images
        self.y_true = y_true
        self.y_pred = y_pred
        self.image_shape = image_shape

    @classmethod
    def from_estimator(
        cls, estimator, X, y, *, n_images=24, n_cols=8, image_shape=None
    ):
        """Predict ``X`` and draw the first ``n_images`` mistakes.

        Parameters
        ----------
        estimator : fitted classifier
        X : ndarray of shape (n_samples, n_pixels)
        y : array-like of shape (n_samples,)
        n_images : int, default=24
        n_cols : int, default=8
        image_shape : tuple of int, default=None

        Returns
        -------
        MisclassifiedDisplay
        """
        return cls.from_predictions(
            X,
            y,
            estimator.predict(X),
            n_images=n_images,
            n_cols=n_cols,
            image_shape=image_shape,
        )

    @classmethod
    def from_predictions(
        cls, X, y_true, y_pred, *, n_images=24, n_cols=8, image_shape=None
    ):
        """Draw the first ``n_images`` rows where ``y_pred != y_true``.

        Returns
        -------
        MisclassifiedDisplay
        """
        X = np.asarray(X)
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if not (len(X) == len(y_true) == len(y_pred)):
            raise ValueError(
                f"X, y_true and y_pred have {len(X)}, {len(y_true)} and "
                f"{len(y_pred)} rows; they must have the same number."
            )
        wrong = np.flatnonzero(y_true != y_pred)[:n_images]
        display = cls(X[wrong], y_true[wrong], y_pred[wrong], image_shape=image_shape)
        return display.plot(n_cols=n_cols)

    def plot(self, *, n_cols=8):
        """Draw the images, titled ``pred / true``.

        Returns
        -------
        self
        """
        plt = _pyplot()
        n_images = len(self.images)
        if n_images == 0:
            fig, ax = plt.subplots(figsize=(3, 1))
            ax.set_axis_off()
            ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
            self.axes_, self.figure_ = np.array([[ax]]), fig
            return self
        shape = _image_shape(self.images.shape[1], self.image_shape)
        n_rows, n_cols = _grid(n_images, n_cols)
        fig, axes = plt.subplots(
            n_rows, n_cols, figsize=(1.3 * n_cols, 1.5 * n_rows), squeeze=False
        )
        for i, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if i < n_images:
                ax.imshow(self.images[i].reshape(shape), cmap="gray_r")
                ax.set_title(
                    f"{self.y_pred[i]} / {self.y_true[i]}", fontsize=9, color="C3"
                )
        fig.suptitle("predicted / true")
        self.axes_, self.figure_ = axes, fig
        return self
