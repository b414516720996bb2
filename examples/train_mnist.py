"""
Train the original network on MNIST
===================================

Reproduces the original project's training script: the 784-64-32-10 network
(ReLU, ReLU, softmax) trained with plain mini-batch gradient descent, learning
rate 0.01, batches of 100, 20 epochs, printing the cost of every epoch, then
saved to ``model.npz``. Run ``evaluate_mnist.py`` afterwards.

MNIST comes from ``SKNUMPY_MLP_MNIST`` (or ``--data``), the Keras cache, or a
Keras download, in that order (see :func:`sknumpy_mlp.load_mnist`).
"""

# sphinx_gallery_thumbnail_path = "_static/thumbnails/train_mnist.png"

import argparse

import numpy as np

from sknumpy_mlp import Layer, NeuralNetwork, load_mnist


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--data", help="folder with the MNIST IDX files, or mnist.npz")
    parser.add_argument("--output", default="model.npz", help="where to save")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--momentum",
        type=float,
        default=0.0,
        help="SGD momentum; the original used none (0.9 gives 97.2%%)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    (train_images, train_labels), (test_images, test_labels) = load_mnist(
        args.data, as_images=True
    )
    print(f"Training images shape: {train_images.shape}")
    print(f"Training labels shape: {train_labels.shape}")
    print(f"Testing images shape: {test_images.shape}")
    print(f"Testing labels shape: {test_labels.shape}")

    # Flatten the 28x28 images, scale pixels to [0, 1], one-hot encode labels.
    X = train_images.reshape(len(train_images), 784).astype(np.float32) / 255
    Y = np.eye(10, dtype=np.float32)[train_labels]

    rng = np.random.default_rng(args.seed)
    model = NeuralNetwork()
    model.add(Layer(784, 64, activation="relu", random_state=rng))
    model.add(Layer(64, 32, activation="relu", random_state=rng))
    model.add(Layer(32, 10, activation="softmax", random_state=rng))
    model.fit(
        X,
        Y,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        momentum=args.momentum,
        random_state=args.seed,
    )
    model.save(args.output)
    print(f"Saved the model to {args.output}")


if __name__ == "__main__":
    main()
