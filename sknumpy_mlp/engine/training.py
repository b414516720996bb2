"""The epoch / mini-batch loop, with stopping rules and a per-epoch history."""

import time

import numpy as np

from .schedules import reduce_on_plateau, scheduled_rate


def minibatches(n_samples, batch_size, rng=None):
    """Yield index arrays (or slices) that cover ``range(n_samples)`` once.

    With a ``rng`` the order is a fresh permutation; without one the batches
    are consecutive slices.
    """
    if rng is None:
        for start in range(0, n_samples, batch_size):
            yield slice(start, min(start + batch_size, n_samples))
        return
    order = rng.permutation(n_samples)
    for start in range(0, n_samples, batch_size):
        yield order[start : start + batch_size]


def run_epoch(network, optimizer, X, Y, *, batch_size, loss, alpha=0.0, rng=None):
    """One pass over ``(X, Y)`` in mini-batches; returns the mean training loss.

    Each batch's gradient is the average over its rows (plus the L2 term) and
    is applied at once by ``optimizer``. ``rng`` shuffles the rows; ``None``
    keeps their order.
    """
    n_samples = X.shape[0]
    total = 0.0
    for rows in minibatches(n_samples, batch_size, rng):
        X_batch, Y_batch = X[rows], Y[rows]
        batch_loss, grads = network.loss_and_gradients(
            X_batch, Y_batch, loss=loss, alpha=alpha
        )
        optimizer.step(grads)
        total += batch_loss * X_batch.shape[0]
    network.clear()
    return total / n_samples


class EarlyStopping:
    """Track the stopping criterion the way scikit-learn's MLP does.

    The criterion is the training loss (lower is better) or, when
    ``monitor='score'``, a validation score (higher is better). An epoch that
    does not beat the best value by ``tol`` counts as no improvement; after
    more than ``n_iter_no_change`` of them in a row, :meth:`update` returns
    True.
    """

    def __init__(self, tol, n_iter_no_change, monitor="loss"):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.sign = 1.0 if monitor == "score" else -1.0
        self.best = -np.inf
        self.no_improvement = 0

    def update(self, value):
        """Record one epoch; return ``(is_new_best, stalled)``."""
        value = self.sign * value
        if value < self.best + self.tol:
            self.no_improvement += 1
        else:
            self.no_improvement = 0
        is_best = value > self.best
        if is_best:
            self.best = value
        return is_best, self.no_improvement > self.n_iter_no_change

    def reset_patience(self):
        """Start counting epochs without improvement from zero again."""
        self.no_improvement = 0


def train(
    network,
    optimizer,
    X,
    Y,
    *,
    max_iter,
    batch_size,
    loss,
    alpha=0.0,
    rng=None,
    tol=1e-4,
    n_iter_no_change=10,
    schedule="constant",
    learning_rate_init=None,
    power_t=0.5,
    samples_seen=0,
    validation_score=None,
    on_epoch=None,
):
    """Train ``network`` for up to ``max_iter`` epochs.

    Parameters
    ----------
    network : NeuralNetwork
    optimizer : SGD or Adam
        Built over ``network.parameters()``.
    X, Y : arrays
        Inputs and targets (``Y`` one row per sample, matching the output).
    max_iter : int
    batch_size : int
    loss : str
    alpha : float, default=0.0
        L2 penalty.
    rng : numpy.random.Generator or None
        Shuffles every epoch; ``None`` keeps the row order.
    tol, n_iter_no_change : float, int
        The stopping rule (see :class:`EarlyStopping`).
    schedule : {'constant', 'invscaling', 'adaptive'}
    learning_rate_init, power_t : float
        For the schedules; ``learning_rate_init`` defaults to the optimizer's.
    samples_seen : int
        Samples seen before this call (continues ``invscaling``).
    validation_score : callable or None
        ``validation_score(network) -> float``, higher is better. When given,
        training stops on it and the network ends with the weights of the best
        validation epoch.
    on_epoch : callable or None
        Called as ``on_epoch(record)`` after every epoch.

    Returns
    -------
    dict
        ``history`` (one record per epoch: epoch, loss, validation_score,
        learning_rate, seconds), ``converged``, ``samples_seen``,
        ``best_loss`` and ``best_validation_score``.
    """
    if learning_rate_init is None:
        learning_rate_init = optimizer.learning_rate
    monitor = "score" if validation_score is not None else "loss"
    stopper = EarlyStopping(tol, n_iter_no_change, monitor)
    history = []
    best_params = None
    best_loss = np.inf
    best_score = None
    converged = False
    for epoch in range(1, max_iter + 1):
        start = time.perf_counter()
        epoch_loss = run_epoch(
            network,
            optimizer,
            X,
            Y,
            batch_size=batch_size,
            loss=loss,
            alpha=alpha,
            rng=rng,
        )
        if not np.isfinite(epoch_loss):
            raise FloatingPointError(
                f"The training loss became {epoch_loss} in epoch {epoch}: training "
                f"diverged. Try a smaller learning rate (it is "
                f"{optimizer.learning_rate:g})."
            )
        samples_seen += X.shape[0]
        rate = scheduled_rate(schedule, learning_rate_init, samples_seen, power_t)
        if rate is not None:
            optimizer.learning_rate = rate
        best_loss = min(best_loss, epoch_loss)
        score = None if validation_score is None else float(validation_score(network))
        record = {
            "epoch": epoch,
            "loss": epoch_loss,
            "validation_score": score,
            "learning_rate": optimizer.learning_rate,
            "seconds": time.perf_counter() - start,
        }
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        is_best, stalled = stopper.update(epoch_loss if score is None else score)
        if score is not None and is_best:
            best_score = score
            best_params = [p.copy() for p in network.parameters()]
        if stalled:
            new_rate = reduce_on_plateau(schedule, optimizer.learning_rate)
            if new_rate is None:
                converged = True
                break
            optimizer.learning_rate = new_rate
            stopper.reset_patience()
    if best_params is not None:
        for p, best in zip(network.parameters(), best_params, strict=True):
            p[...] = best
    return {
        "history": history,
        "converged": converged,
        "samples_seen": samples_seen,
        "best_loss": best_loss,
        "best_validation_score": best_score,
    }
