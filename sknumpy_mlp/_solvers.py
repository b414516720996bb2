"""One fit's run: a stochastic solver or L-BFGS, set up from an estimator's
parameters.

:class:`FitRun` holds what one call to ``fit`` or ``partial_fit`` trains (the
network, its data and the state it continues); :func:`run_stochastic` and
:func:`run_lbfgs` build the engine's optimizer, schedule and configuration
from the estimator and return the engine's
:class:`~sknumpy_mlp.engine.training.TrainResult`.
"""

import functools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine.layers import Dropout
from .engine.optimizers import OPTIMIZERS, join_state, make_optimizer, split_state
from .engine.schedules import Schedule
from .engine.training import TrainConfig, train, train_lbfgs

#: Estimator parameters named unlike the optimizer argument they set.
PARAMETER_OF = {"nesterov": "nesterovs_momentum"}
#: What a first fit continues from: nothing.
EMPTY_STATE = {
    "n_iter": 0,
    "t": 0,
    "history": [],
    "optimizer_state": None,
    "shuffle_state": None,
}


@dataclass
class FitRun:
    """One call's training: the network, its encoded data and what it continues.

    ``previous`` is the estimator's state a warm start continues (epochs so
    far, samples seen, history, optimizer state, random stream), or
    :data:`EMPTY_STATE`; ``callbacks`` reports the epochs; ``loss`` is the
    training loss's registry name; ``rows`` are the rows of ``X`` to train on
    (None: all; early stopping holds out the others, see
    :func:`~sknumpy_mlp._validation.split_validation`).
    """

    network: Any
    X: Any
    Y: Any
    sample_weight: Any
    validation: Any
    previous: dict
    callbacks: Any
    loss: Any
    rows: Any = None


def estimator_optimizer(estimator, params, decay):
    """The estimator's solver as an engine optimizer, each of its declared
    hyper-parameters set from the estimator parameter of that name
    (``nesterov`` from ``nesterovs_momentum``, scikit-learn's name)."""
    cls = OPTIMIZERS[estimator.solver]
    options = {
        name: getattr(estimator, PARAMETER_OF.get(name, name))
        for name in cls.HYPERPARAMETERS
    }
    if cls.DECAYS_WEIGHTS:
        options["decay"] = decay
    return make_optimizer(
        estimator.solver, params, learning_rate=estimator.learning_rate_init, **options
    )


def _schedule(estimator, continued_rate):
    """The estimator's learning-rate schedule; ``'adaptive'`` continues the
    rate a previous fit reduced it to."""
    return Schedule(
        estimator.learning_rate,
        estimator.learning_rate_init,
        power_t=estimator.power_t,
        step_epochs=estimator.lr_decay_epochs,
        step_factor=estimator.lr_decay_factor,
        total_epochs=estimator.max_iter,
        warmup_epochs=estimator.warmup_epochs,
        hold_epochs=estimator.average_epochs or 0,
        # only used with average_epochs (as beta_1 only with Adam)
        hold_rate=(
            None
            if estimator.average_epochs is None
            else estimator.average_learning_rate
        ),
        current=continued_rate if estimator.learning_rate == "adaptive" else None,
    )


def _augmentation(estimator, rng, on_epoch_begin):
    """The ``augment`` callable for the training loop and the epoch hook that
    sets the strength of its distortions (:meth:`ImageAugmenter.strength`,
    epochs counted as the learning-rate schedule counts them: ``max_iter`` to
    a cycle, a warm start going on from the epochs already run)."""
    augmenter = estimator.augment
    if augmenter is None:
        return None, on_epoch_begin
    if not augmenter.anneal_epochs:
        # checked against X by the estimator: no need to validate every batch
        return functools.partial(augmenter.distort, rng=rng), on_epoch_begin
    strength = [1.0]

    def begin(epoch):  # epochs are counted from 1
        strength[0] = augmenter.strength(
            (epoch - 1) % estimator.max_iter, estimator.max_iter
        )
        on_epoch_begin(epoch)

    def augment(X_batch):
        return augmenter.distort(X_batch, rng, strength[0])

    return augment, begin


def run_stochastic(
    estimator, run, *, seed, dropouts, early_stopping, max_iter, average_epochs=None
):
    """Train ``run`` with the estimator's stochastic solver for ``max_iter``
    epochs at most (ending with the average of the last ``average_epochs``'
    weights, if not None); the result carries the optimizer's and the random
    stream's state, for a warm start to continue exactly."""
    network, previous = run.network, run.previous
    n_samples = run.X.shape[0] if run.rows is None else run.rows.shape[0]
    # One random stream for shuffling and dropout masks, saved with the
    # model, so that a warm start continues it exactly.
    rng = np.random.default_rng(seed)
    if previous["shuffle_state"] is not None:
        rng.bit_generator.state = previous["shuffle_state"]
    for layer, rate in zip(network.layers, dropouts, strict=False):
        if rate:
            layer.dropout = Dropout(rate, random_state=rng)
    # one flat array of parameters and one of gradients: the optimizer
    # updates everything in a few vectorised calls per batch
    shapes = [p.shape for p in network.parameters()]
    order = network.packed_order()
    params, grads = network.pack()
    optimizer = estimator_optimizer(
        estimator, [params], decay=[layer.weights for layer in network.layers]
    )
    # the 'adaptive' rate a warm start continues: the one the previous fit
    # ended with (stored with the optimizer's state, see below)
    continued_rate = None
    if previous["optimizer_state"] is not None:
        optimizer.load_state_dict(join_state(previous["optimizer_state"], order))
        continued_rate = optimizer.learning_rate
    batch_size = estimator.batch_size
    batch_size = min(200 if batch_size == "auto" else batch_size, n_samples)
    schedule = _schedule(estimator, continued_rate)
    augment, on_epoch_begin = _augmentation(estimator, rng, run.callbacks.begin)
    config = TrainConfig(
        max_iter=max_iter,
        batch_size=batch_size,
        loss=run.loss,
        schedule=schedule,
        alpha=estimator.alpha,
        rng=rng if estimator.shuffle else None,
        sample_weight=run.sample_weight,
        max_grad_norm=estimator.max_grad_norm,
        max_norm=estimator._max_norm_bounds(len(network.layers) - 1),
        augment=augment,
        tol=estimator.tol,
        n_iter_no_change=estimator.n_iter_no_change,
        first_epoch=previous["n_iter"] + 1,
        schedule_epoch=previous["n_iter"],
        samples_seen=previous["t"],
        validation=run.validation,
        monitor="loss" if estimator.scoring == "loss" else "score",
        stop_on_validation=early_stopping,
        on_epoch_begin=on_epoch_begin,
        on_epoch_end=run.callbacks.end,
        gradients=[grads],
        rows=run.rows,
        earlier_history=previous["history"],
        average_epochs=average_epochs,
    )
    result = train(network, optimizer, run.X, run.Y, config)
    network.clear()
    state = optimizer.state_dict()
    if schedule.current is not None:  # a reduced 'adaptive' rate goes on
        state["learning_rate"] = schedule.current
    result.optimizer_state = split_state(state, shapes, order)
    result.shuffle_state = rng.bit_generator.state
    return result


def run_lbfgs(estimator, run):
    """Train ``run`` with SciPy's L-BFGS-B; each iteration is reported as an
    epoch (L-BFGS opens one more epoch context than it runs: the last one
    is closed unused)."""
    network, previous, validation = run.network, run.previous, run.validation
    history = []
    start = [time.perf_counter()]

    def on_iteration(iteration, loss):
        record = {
            "epoch": previous["n_iter"] + iteration,
            "loss": loss,
            "validation_loss": None,
            "validation_score": None,
            "learning_rate": None,
        }
        if validation is not None:
            val_loss, val_score = validation.evaluate(network, run.loss)
            record.update(validation_loss=val_loss, validation_score=val_score)
        record["seconds"] = time.perf_counter() - start[0]
        start[0] = time.perf_counter()
        history.append(record)
        return run.callbacks.end(record, begin_next=True)

    run.callbacks.begin(previous["n_iter"] + 1)
    result = train_lbfgs(
        network,
        run.X,
        run.Y,
        loss=run.loss,
        alpha=estimator.alpha,
        sample_weight=run.sample_weight,
        max_iter=estimator.max_iter,
        max_fun=estimator.max_fun,
        tol=estimator.tol,
        on_iteration=on_iteration,
    )
    run.callbacks.close_open_epoch()
    result.history = history
    result.samples_seen = previous["t"] + run.X.shape[0] * result.n_iter
    return result
