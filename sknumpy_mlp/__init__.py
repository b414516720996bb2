"""sknumpy-mlp: a multi-layer perceptron written from scratch in NumPy.

``MLPScratchClassifier`` is the scikit-learn estimator; ``NeuralNetwork`` and
``Layer`` are the engine underneath; ``load`` reads any model file this package
writes and ``load_mnist`` finds the MNIST digits.
"""

from ._version import __version__
from .datasets import load_mnist
from .engine import Dropout, ImageAugmenter, Layer, NeuralNetwork
from .estimator import MLPScratchClassifier
from .persistence import load as _load
from .regressor import MLPScratchRegressor


def load(path):
    """Read any model file this package writes (never executes code from it).

    Returns
    -------
    NeuralNetwork, MLPScratchClassifier or MLPScratchRegressor
        Whichever object the file holds.

    Raises
    ------
    ValueError
        If the file is not a valid sknumpy-mlp model file.
    """
    return _load(path, _ESTIMATORS)


#: The estimator classes a model file may hold, by name.
_ESTIMATORS = {
    "MLPScratchClassifier": MLPScratchClassifier,
    "MLPScratchRegressor": MLPScratchRegressor,
}

__all__ = [
    "Dropout",
    "ImageAugmenter",
    "Layer",
    "MLPScratchClassifier",
    "MLPScratchRegressor",
    "NeuralNetwork",
    "__version__",
    "load",
    "load_mnist",
]
