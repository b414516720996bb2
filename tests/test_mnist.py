"""End-to-end accuracy on the real MNIST test set (the shared files; no skip)."""

import numpy as np

from sknumpy_mlp import Layer, MLPScratchClassifier, NeuralNetwork


def test_default_estimator_reaches_97_percent(mnist, recwarn):
    (X_train, y_train), (X_test, y_test) = mnist
    clf = MLPScratchClassifier(random_state=0).fit(X_train, y_train)
    accuracy = clf.score(X_test, y_test)
    print(f"default estimator: {accuracy:.4f} after {clf.n_iter_} epochs")
    assert accuracy >= 0.97
    assert len(recwarn) == 0  # no ConvergenceWarning, nothing else either


def test_original_configuration_reaches_95_percent(mnist):
    """784-64-32-10 ReLU/softmax, plain SGD, rate 0.01, batch 100, 20 epochs."""
    (X_train, y_train), (X_test, y_test) = mnist
    rng = np.random.default_rng(0)
    model = NeuralNetwork()
    model.add(Layer(784, 64, activation="relu", random_state=rng))
    model.add(Layer(64, 32, activation="relu", random_state=rng))
    model.add(Layer(32, 10, activation="softmax", random_state=rng))
    model.fit(
        X_train,
        y_train,
        epochs=20,
        learning_rate=0.01,
        batch_size=100,
        random_state=0,
        verbose=False,
    )
    accuracy = np.mean(model.predict(X_test).argmax(axis=1) == y_test)
    print(f"original configuration: {accuracy:.4f}")
    assert accuracy >= 0.95
    assert model.history_[-1] < model.history_[0] / 3
