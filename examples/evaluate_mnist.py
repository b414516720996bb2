"""
Evaluate a saved network on the MNIST test set
==============================================

Reproduces the original project's test script: loads ``model.npz`` (written by
``train_mnist.py``) and prints its accuracy on the 10 000 test digits.
"""

# sphinx_gallery_thumbnail_path = "_static/thumbnails/evaluate_mnist.png"

import argparse

import numpy as np

from sknumpy_mlp import NeuralNetwork, load_mnist


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--data", help="folder with the MNIST IDX files, or mnist.npz")
    parser.add_argument("--model", default="model.npz", help="the saved network")
    args = parser.parse_args(argv)

    _, (X_test, y_test) = load_mnist(args.data)
    model = NeuralNetwork.load(args.model)
    predictions = np.argmax(model.predict(X_test), axis=1)
    accuracy = 100 * np.mean(predictions == y_test)
    print(f"Accuracy: {accuracy:.2f}")
    return accuracy


if __name__ == "__main__":
    main()
