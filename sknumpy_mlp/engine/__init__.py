"""The from-scratch neural network: NumPy only, no scikit-learn.

``Layer`` and ``NeuralNetwork`` are the building blocks; activations, losses,
initialisers, optimizers and schedules are small name -> function registries;
``training`` holds the mini-batch loop.
"""

from .augmentation import ImageAugmenter, deskew
from .layers import Dropout, Layer
from .network import NeuralNetwork
from .normalization import BatchNorm, LayerNorm

__all__ = [
    "BatchNorm",
    "Dropout",
    "ImageAugmenter",
    "Layer",
    "LayerNorm",
    "NeuralNetwork",
    "deskew",
]
