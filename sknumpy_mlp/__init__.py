"""sknumpy-mlp: a multi-layer perceptron written from scratch in NumPy.

``MLPScratchClassifier`` is the scikit-learn estimator; ``NeuralNetwork`` and
``Layer`` are the engine underneath; ``load`` reads any model file this package
writes and ``load_mnist`` finds the MNIST digits.
"""

from ._version import __version__
from .datasets import load_mnist
from .engine import Dropout, ImageAugmenter, Layer, NeuralNetwork
from .estimator import MLPScratchClassifier
from .persistence import load

__all__ = [
    "Dropout",
    "ImageAugmenter",
    "Layer",
    "MLPScratchClassifier",
    "NeuralNetwork",
    "__version__",
    "load",
    "load_mnist",
]
