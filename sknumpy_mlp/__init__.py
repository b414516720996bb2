"""sknumpy-mlp: a multi-layer perceptron written from scratch in NumPy.

``MLPScratchClassifier`` is the scikit-learn estimator; ``NeuralNetwork`` and
``Layer`` are the engine underneath; ``load`` reads any model file this package
writes and ``load_mnist`` finds the MNIST digits.
"""

from ._version import __version__
from .datasets import load_mnist
from .engine import (
    BatchNorm,
    Dropout,
    ImageAugmenter,
    Layer,
    LayerNorm,
    NeuralNetwork,
    deskew,
)
from .estimator import MLPScratchClassifier
from .persistence import load as _load
from .regressor import MLPScratchRegressor


def load(path):
    """Read any model file this package writes (never executes code from it).

    Returns
    -------
    NeuralNetwork, MLPScratchClassifier, MLPScratchRegressor or Pipeline
        Whichever object the file holds: an ``.npz`` model file holds a
        network or an estimator, a pipeline file (written by :func:`save`
        through skops) a fitted ``Pipeline`` ending in an estimator.

    Raises
    ------
    ValueError
        If the file is not a valid model file, or a pipeline file holds a
        type that is neither scikit-learn's nor this package's.
    """
    from .pipelines import is_pipeline_file, load_pipeline

    if is_pipeline_file(path):
        return load_pipeline(path)
    return _load(path, _ESTIMATORS)


def save(model, path):
    """Write a fitted estimator, network or pipeline to ``path``.

    An estimator or a network is written as an ``.npz`` model file (as its
    own ``save`` does); a ``Pipeline`` whose last step is an estimator of this
    package as a pipeline file through skops (``pip install
    'sknumpy-mlp[pipelines]'``; ``.skops`` is the usual suffix). Both load
    with :func:`load`, and the command line reads both.
    """
    from .pipelines import is_pipeline, save_pipeline

    if is_pipeline(model):
        return save_pipeline(model, path)
    if isinstance(model, MLPScratchClassifier | MLPScratchRegressor | NeuralNetwork):
        return model.save(path)
    raise TypeError(
        "save() takes an MLPScratchClassifier, an MLPScratchRegressor, a "
        "NeuralNetwork, or a Pipeline whose last step is one of the estimators; "
        f"got {type(model).__name__}."
    )


#: The estimator classes a model file may hold, by name.
_ESTIMATORS = {
    "MLPScratchClassifier": MLPScratchClassifier,
    "MLPScratchRegressor": MLPScratchRegressor,
}

__all__ = [
    "BatchNorm",
    "Dropout",
    "ImageAugmenter",
    "Layer",
    "LayerNorm",
    "MLPScratchClassifier",
    "MLPScratchRegressor",
    "NeuralNetwork",
    "__version__",
    "deskew",
    "load",
    "load_mnist",
    "save",
]
