"""The epoch / mini-batch loop, with stopping rules and a per-epoch history."""

import contextlib
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .backend import (
    DeviceRandom,
    astype,
    copy,
    device,
    dtype_in,
    namespace,
    take_rows,
    to_namespace,
    to_numpy,
)
from .losses import get_loss
from .optimizers import clip_grad_norm
from .schedules import Schedule


def minibatches(n_samples, batch_size, rng=None, rows=None):
    """Yield index arrays (or slices) that cover ``range(n_samples)`` once,
    or the row indices ``rows`` (of length ``n_samples``) once.

    With a ``rng`` (a :class:`numpy.random.Generator`, or a
    :class:`~sknumpy_mlp.engine.backend.DeviceRandom` for the arrays of
    another library) the order is a fresh permutation; without one the
    batches are consecutive slices.
    """
    if rng is None:
        for start in range(0, n_samples, batch_size):
            batch = slice(start, min(start + batch_size, n_samples))
            yield batch if rows is None else rows[batch]
        return
    order = rng.permutation(n_samples)
    if rows is not None:  # one gather an epoch, not one a batch
        order = take_rows(rows, order, namespace(rows, order))
    for start in range(0, n_samples, batch_size):
        yield order[start : min(start + batch_size, n_samples)]


def run_epoch(
    network, optimizer, X, Y, config, stop_requested=None, learning_rate=None
):
    """One pass over ``(X, Y)`` in mini-batches.

    With the settings of ``config`` (a :class:`TrainConfig`), each batch's
    gradient is the (weighted) average over its rows plus the L2 term,
    optionally clipped to a global norm of ``max_grad_norm``, and is applied at
    once by ``optimizer``. ``rng`` shuffles the rows; ``None`` keeps their
    order. ``X`` may be of another dtype than the network: each batch is
    converted on its own, so the data is never copied whole.
    Every step uses ``learning_rate`` (the schedule's, from :func:`train`; by
    default the optimizer's own). ``stop_requested()`` is asked after every
    batch; when it says yes the epoch ends early. ``max_norm`` rescales each
    unit's incoming weights to at most that L2 norm after every step
    (:meth:`NeuralNetwork.apply_max_norm`).
    ``augment(X_batch)``, if given, returns the batch to train on (e.g. randomly
    distorted images). ``gradients`` are the arrays the optimizer
    steps with when they are not the ones ``loss_and_gradients`` returns (the
    flat gradient of a packed network, see :meth:`NeuralNetwork.pack`).

    Returns
    -------
    loss : float
        Mean training loss over the rows seen (weighted like the gradients).
    completed : bool
        False if the epoch was cut short by ``stop_requested``.
    """
    n_samples = X.shape[0] if config.rows is None else config.rows.shape[0]
    xp = namespace(X)
    dtype = network.dtype if xp is np else dtype_in(xp, network.dtype)
    total = weight_seen = 0.0
    completed = True
    sample_weight, augment = config.sample_weight, config.augment
    max_grad_norm, max_norm = config.max_grad_norm, config.max_norm
    rng = config.rng
    if rng is not None and xp is not np:  # permutations drawn on the device
        rng = DeviceRandom(rng, xp, device(X))
    for rows in minibatches(n_samples, config.batch_size, rng, config.rows):
        w = None if sample_weight is None else take_rows(sample_weight, rows, xp)
        X_batch = X[rows] if xp is np else take_rows(X, rows, xp)
        if augment is not None and xp is not np:  # NumPy only: a round trip
            X_batch = to_namespace(augment(to_numpy(X_batch)), xp, device(X))
        elif augment is not None:
            X_batch = augment(X_batch)
        if X_batch.dtype != dtype:  # e.g. float64 data, float32 network
            X_batch = astype(X_batch, dtype)
        batch_loss, grads = network.loss_and_gradients(
            X_batch,
            Y[rows] if xp is np else take_rows(Y, rows, xp),
            loss=config.loss,
            alpha=config.alpha,
            sample_weight=w,
        )
        if config.gradients is not None:
            grads = config.gradients
        if max_grad_norm is not None:
            clip_grad_norm(grads, max_grad_norm)
        optimizer.step(grads, learning_rate)
        if max_norm is not None:
            network.apply_max_norm(max_norm)
        if w is None:
            weight = X_batch.shape[0]
        else:  # stays on the device for arrays of another library
            weight = float(w.sum()) if xp is np else xp.sum(xp.astype(w, dtype))
        total += batch_loss * weight
        weight_seen += weight
        if stop_requested is not None and stop_requested():
            completed = False
            break
    network.clear()
    if xp is not np:  # the epoch's one wait for the device
        total, weight_seen = float(total), float(weight_seen)
    return (total / weight_seen if weight_seen else 0.0), completed


#: The fields of every per-epoch record that :func:`train` returns.
HISTORY_KEYS = (
    "epoch",
    "loss",
    "validation_loss",
    "validation_score",
    "learning_rate",
    "seconds",
)


class EarlyStopping:
    """Track the stopping criterion the way scikit-learn's MLP does.

    The criterion is a loss (lower is better) or, when ``higher_is_better``,
    a score. An epoch that does not beat the best value by ``tol`` counts as no
    improvement; after more than ``n_iter_no_change`` of them in a row,
    :meth:`update` reports a stall.
    """

    def __init__(self, tol, n_iter_no_change, higher_is_better=False):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.sign = 1.0 if higher_is_better else -1.0
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

    def replay(self, history, key, *, adaptive=False):
        """Continue from the records of earlier fits (a warm start): their
        best value of ``record[key]`` and the epochs since it, as scikit-learn
        keeps its ``_no_improvement_count`` across warm starts. Where
        ``'adaptive'`` reduced the rate after a stall, the count restarts, as
        it did then. Returns whether
        there was anything to continue (not when an earlier epoch lacks the
        criterion, for example a validation score)."""
        values = [record[key] for record in history]
        if not values or any(v is None for v in values):
            return False
        for record, value in zip(history, values, strict=True):
            _, stalled = self.update(value)
            rate = record["learning_rate"]
            # the loop's own rule (Schedule.on_plateau): 'adaptive' reduces a
            # rate above 1e-6 and counts afresh; otherwise the fit ended there
            if stalled and adaptive and rate is not None and rate > 1e-6:
                self.reset_patience()
        return True


#: Rows of the validation inputs gathered and converted at a time (see
#: :class:`Validation`): with 784 float64 features, 6 MB.
VALIDATION_CHUNK = 1024


class Validation:
    """Held-out data scored after every epoch.

    Parameters
    ----------
    X, Y : arrays
        Inputs, and targets in the network's encoding. With ``rows``, ``X`` is
        the whole data set and the validation inputs are ``X[rows]``, gathered
        :data:`VALIDATION_CHUNK` rows at a time (the held-out part of the
        data is never copied whole); ``Y`` is then for those rows only.
    score : callable
        ``score(Z) -> float`` from the output logits ``Z`` of ``X``, higher is
        better (e.g. accuracy).
    sample_weight : array or None
    rows : array of int or None
    """

    def __init__(self, X, Y, score, sample_weight=None, rows=None):
        self.X, self.Y, self.score, self.sample_weight = X, Y, score, sample_weight
        self.rows = rows

    def to(self, xp, device=None):
        """Move the held-out arrays to namespace ``xp`` on ``device``."""
        for name in ("X", "Y", "sample_weight", "rows"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, to_namespace(value, xp, device))
        return self

    def logits(self, network):
        """The network's logits of the validation inputs."""
        xp = namespace(self.X)
        dtype = network.dtype if xp is np else dtype_in(xp, network.dtype)
        if self.rows is None and self.X.dtype == dtype:
            return network.logits(self.X)
        n_rows = self.X.shape[0] if self.rows is None else self.rows.shape[0]
        return xp.concat(
            [
                network.logits(astype(self._rows(start, xp), dtype, copy=False))
                for start in range(0, n_rows, VALIDATION_CHUNK)
            ]
        )

    def _rows(self, start, xp):
        """Validation inputs ``start`` to ``start + VALIDATION_CHUNK``."""
        n_rows = self.X.shape[0] if self.rows is None else self.rows.shape[0]
        chunk = slice(start, min(start + VALIDATION_CHUNK, n_rows))
        if self.rows is None:
            return self.X[chunk]
        return take_rows(self.X, self.rows[chunk], xp)

    def evaluate(self, network, loss):
        """``(validation loss, validation score)`` of ``network``; ``score``
        sees the logits on the host (NumPy), whatever library they are of."""
        Z = self.logits(network)
        value, _, _ = get_loss(loss)(
            Z, self.Y, network.layers[-1].activation, self.sample_weight
        )
        return float(value), float(self.score(to_numpy(Z)))


@contextlib.contextmanager
def interrupt_guard():
    """Turn the first Ctrl-C into a request to stop after the current batch.

    Yields a function that says whether Ctrl-C was pressed. A second Ctrl-C
    interrupts at once, as usual. Outside the main thread, where Python
    delivers no signals, the function always says no.
    """
    pressed = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return

    def handler(signum, frame):
        pressed.append(True)
        signal.signal(signal.SIGINT, previous)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: bool(pressed)
    finally:
        if signal.getsignal(signal.SIGINT) is handler:
            signal.signal(signal.SIGINT, previous)


@dataclass
class TrainConfig:
    """How :func:`train` trains: everything but the network, the optimizer and
    the data.

    Attributes
    ----------
    max_iter, batch_size : int
    loss : str or callable
        A name in :data:`~sknumpy_mlp.engine.losses.LOSSES`, or a function of
        that signature.
    schedule : Schedule
    alpha : float, default=0.0
        L2 penalty.
    rng : numpy.random.Generator or None
        Shuffles every epoch; ``None`` keeps the row order.
    sample_weight : array or None
    max_grad_norm : float or None
        Clip every batch's gradient to this global norm.
    max_norm : float, sequence of (float or None), or None
        Max-norm constraint on each unit's incoming weights: one bound for
        every layer, or one per layer (see
        :meth:`NeuralNetwork.apply_max_norm`).
    augment : callable or None
        ``augment(X_batch)`` returns the batch to train on.
    tol, n_iter_no_change : float, int
        The stopping rule (see :class:`EarlyStopping`).
    first_epoch : int, default=1
        Number of the first epoch in the history (continues a warm start).
    schedule_epoch : int, default=0
        Position in the learning-rate schedule of the first epoch.
    samples_seen : int, default=0
        Samples seen before this call (for ``'invscaling'``).
    validation : Validation or None
        Scored after every epoch. With ``stop_on_validation``, training stops
        on the validation ``monitor`` ('score' or 'loss') and the network ends
        with the weights of its best epoch; otherwise it stops on the training
        loss.
    on_epoch_begin : callable or None
        ``on_epoch_begin(epoch)`` before every epoch.
    on_epoch_end : callable or None
        ``on_epoch_end(record) -> bool`` after every epoch; True stops training.
    gradients : list of ndarray or None
        What the optimizer steps with, for a packed network (see
        :func:`run_epoch`).
    rows : array of int or None, default=None
        The rows of ``X`` (and ``Y``, ``sample_weight``) to train on; None:
        all. Early stopping holds out the others without copying ``X``.
    earlier_history : list of dict, default=[]
        The records of the fits a warm start continues: the stopping rule
        goes on from their best value and count (:meth:`EarlyStopping.replay`).
    average_epochs : int or None, default=None
        End with the uniform average of the weights at the end of each of
        the last ``average_epochs`` of the ``max_iter`` epochs (see
        :class:`WeightAverage`), of those that ran if training stopped
        sooner; None: the last epoch's weights. Not with
        ``stop_on_validation`` nor batch normalization.
    """

    max_iter: int
    batch_size: int
    loss: object
    schedule: Schedule
    alpha: float = 0.0
    rng: object = None
    sample_weight: object = None
    max_grad_norm: float | None = None
    max_norm: float | tuple | None = None
    augment: object = None
    tol: float = 1e-4
    n_iter_no_change: float = 10
    first_epoch: int = 1
    schedule_epoch: int = 0
    samples_seen: int = 0
    validation: object = None
    monitor: str = "score"
    stop_on_validation: bool = True
    on_epoch_begin: object = None
    on_epoch_end: object = None
    gradients: object = None
    rows: object = None
    earlier_history: list = field(default_factory=list)
    average_epochs: int | None = None


@dataclass
class TrainResult:
    """What a training run ends with.

    Attributes
    ----------
    history : list of dict
        One record per epoch (or L-BFGS iteration): the keys of
        :data:`HISTORY_KEYS`.
    samples_seen : int
        Samples seen in all, this run's included.
    n_iter : int
        Epochs (or L-BFGS iterations) run.
    converged, interrupted, stopped : bool
        How it ended: the stopping rule, Ctrl-C, or a callback.
    optimizer_state, shuffle_state : dict or None
        What a warm start continues from (set by the estimators).
    """

    history: list = field(default_factory=list)
    samples_seen: int = 0
    n_iter: int = 0
    converged: bool = False
    interrupted: bool = False
    stopped: bool = False
    optimizer_state: dict | None = None
    shuffle_state: dict | None = None


def train(network, optimizer, X, Y, config):
    """Train ``network`` for up to ``config.max_iter`` epochs.

    Parameters
    ----------
    network : NeuralNetwork
    optimizer : SGD, Adam, RMSprop or AdamW
        Built over ``network.parameters()``.
    X, Y : arrays
        Inputs and targets (``Y`` one row per sample, matching the output).
    config : TrainConfig

    Returns
    -------
    TrainResult

    Raises
    ------
    FloatingPointError
        If the loss or the weights become NaN or infinite; the message names
        the learning rate. The network then holds unusable weights.
    """
    c = config
    on_validation = c.validation is not None and c.stop_on_validation
    higher = on_validation and c.monitor == "score"
    stopper = EarlyStopping(c.tol, c.n_iter_no_change, higher_is_better=higher)
    result = TrainResult(samples_seen=c.samples_seen)
    best_params = None
    # the stopping criterion: the validation monitor, or the training loss
    key = f"validation_{c.monitor}" if on_validation else "loss"
    average = None
    if c.average_epochs is not None:
        average = WeightAverage(network, c.max_iter - c.average_epochs, on_validation)
    if stopper.replay(c.earlier_history, key, adaptive=c.schedule.name == "adaptive"):
        if on_validation:  # a warm start begins with the best epoch's weights
            best_params = _copies(network)
    with interrupt_guard() as stop_requested:
        for i in range(c.max_iter):
            epoch = c.first_epoch + i
            rate = c.schedule.rate(c.schedule_epoch + i, result.samples_seen)
            if c.on_epoch_begin is not None:
                c.on_epoch_begin(epoch)
            start = time.perf_counter()
            with np.errstate(over="ignore", invalid="ignore"):
                epoch_loss, completed = run_epoch(
                    network, optimizer, X, Y, c, stop_requested, rate
                )
                check_finite(network, epoch_loss, epoch, rate)
            result.samples_seen += X.shape[0] if c.rows is None else c.rows.shape[0]
            record = {
                "epoch": epoch,
                "loss": epoch_loss,
                "validation_loss": None,
                "validation_score": None,
                "learning_rate": rate,
            }
            if c.validation is not None:
                val_loss, val_score = c.validation.evaluate(network, c.loss)
                record.update(validation_loss=val_loss, validation_score=val_score)
            record["seconds"] = time.perf_counter() - start
            result.history.append(record)
            if average is not None and completed:
                average.add(i)
            is_best, stalled = stopper.update(record[key])
            if on_validation and is_best:
                best_params = _copies(network)
            if c.on_epoch_end is not None and c.on_epoch_end(record):
                result.stopped = True
                break
            if not completed or stop_requested():
                result.interrupted = True
                break
            if stalled:
                if not c.schedule.on_plateau(c.schedule_epoch + i):
                    result.converged = True
                    break
                stopper.reset_patience()
    if best_params is not None:
        for p, best in zip(network.parameters(), best_params, strict=True):
            p[...] = best
    if average is not None and not result.interrupted:
        average.apply()
    result.n_iter = len(result.history)
    return result


class WeightAverage:
    """The uniform average of a network's weights over the last epochs of a
    run, the average of stochastic weight averaging (Izmailov et al., 2018).

    :meth:`add` adds the weights at the end of epoch ``index`` (0-based in
    the run) from ``first`` on into one running sum, in the parameters' own
    dtype and namespace; :meth:`apply` writes the average into the network.
    Late in a decaying schedule the weights still move around a minimum, and
    their average lies nearer its centre than any one of them.

    Batch normalization is refused: its running statistics belong to the
    last epoch's weights, not to their average.
    """

    def __init__(self, network, first, on_validation=False):
        if on_validation:
            raise ValueError(
                "Averaging the last epochs' weights cannot be combined with "
                "stopping on a validation set, which ends with its best epoch's."
            )
        if any(
            hasattr(getattr(layer, "normalization", None), "running_mean")
            for layer in network.layers
        ):
            raise ValueError(
                "Averaging the last epochs' weights cannot be combined with batch "
                "normalization: its running statistics would not match the "
                "averaged weights."
            )
        self.network, self.first = network, first
        self.total, self.count = None, 0

    def add(self, index):
        """Add the weights the network has after epoch ``index`` (before
        ``first``: nothing)."""
        if index < self.first:
            return
        if self.total is None:
            self.total = _copies(self.network)
        else:
            for total, p in zip(self.total, self.network.parameters(), strict=True):
                total += p
        self.count += 1

    def apply(self):
        """Write the average into the network; returns the number of epochs
        averaged (0: none ran, the network is left as it is)."""
        if self.count:
            for p, total in zip(self.network.parameters(), self.total, strict=True):
                p[...] = total / self.count
        return self.count


def _copies(network):
    return [copy(p) for p in network.parameters()]


class TrainingDiverged(FloatingPointError, ValueError):
    """The loss or the weights became NaN or infinite.

    A ``FloatingPointError``, and a ``ValueError`` as scikit-learn's MLP raises
    for non-finite weights, so that code written for either catches it.
    """


def check_finite(network, loss, epoch, learning_rate=None):
    """Raise :class:`TrainingDiverged`, naming the learning rate, if the loss or
    any weight of ``network`` is NaN or infinite."""
    params = network.parameters()
    xp = namespace(*params)
    if np.isfinite(loss) and all(bool(xp.all(xp.isfinite(p))) for p in params):
        return
    # scikit-learn's sentence, so that messages matched against it still match
    sklearn = (
        " Solver produced non-finite parameter weights. The input data may "
        "contain large values and need to be preprocessed."
    )
    if learning_rate is None:
        raise TrainingDiverged(
            f"L-BFGS diverged in iteration {epoch}: the loss became {loss}. Try "
            "scaling the input (e.g. StandardScaler) or a larger alpha." + sklearn
        )
    raise TrainingDiverged(
        f"Training diverged in epoch {epoch}: the loss became {loss} "
        f"(learning rate {learning_rate:g}). Try a smaller learning rate "
        "(learning_rate_init), scaling the input (e.g. StandardScaler), or "
        "gradient clipping (max_grad_norm)." + sklearn
    )


def train_lbfgs(
    network,
    X,
    Y,
    *,
    loss,
    alpha=0.0,
    sample_weight=None,
    max_iter=200,
    max_fun=15000,
    tol=1e-4,
    on_iteration=None,
):
    """Full-batch training with L-BFGS-B from ``scipy.optimize``.

    The parameters are packed into one float64 vector for SciPy; loss and
    gradient come from :meth:`NeuralNetwork.loss_and_gradients`. For arrays
    of another library than NumPy they are computed there, on the device,
    and converted to the host once an evaluation, as scikit-learn does.

    Parameters
    ----------
    network : NeuralNetwork
    X, Y : arrays
    loss : str
    alpha : float, default=0.0
    sample_weight : array or None
    max_iter : int, default=200
        Maximum number of L-BFGS iterations.
    max_fun : int, default=15000
        Maximum number of loss evaluations.
    tol : float, default=1e-4
        SciPy's ``gtol``: stop when every projected gradient entry is below it.
    on_iteration : callable or None
        ``on_iteration(iteration, loss) -> bool`` after every iteration, with the
        network holding that iteration's weights; True stops (as does Ctrl-C).

    Returns
    -------
    TrainResult
        ``n_iter``, ``converged``, ``interrupted`` and ``stopped`` (the
        per-iteration losses go to ``on_iteration``).
    """
    from scipy.optimize import minimize

    params = network.parameters()
    sizes = [int(np.prod(p.shape)) for p in params]
    xp, where = namespace(*params), device(params[0])

    def unpack(flat):
        for p, chunk in zip(params, np.split(flat, np.cumsum(sizes)[:-1]), strict=True):
            p[...] = xp.astype(to_namespace(chunk.reshape(p.shape), xp, where), p.dtype)

    def objective(flat):
        unpack(flat)
        with np.errstate(over="ignore", invalid="ignore"):
            value, grads = network.loss_and_gradients(
                X, Y, loss=loss, alpha=alpha, sample_weight=sample_weight
            )
        flat_grads = np.concatenate([to_numpy(g).ravel() for g in grads])
        return float(value), flat_grads.astype(np.float64)

    losses = []
    state = {"interrupted": False, "stopped": False}
    with interrupt_guard() as stop_requested:

        def callback(intermediate_result):
            unpack(intermediate_result.x)
            losses.append(float(intermediate_result.fun))
            check_finite(network, losses[-1], len(losses))
            if on_iteration is not None and on_iteration(len(losses), losses[-1]):
                state["stopped"] = True
                raise StopIteration
            if stop_requested():
                state["interrupted"] = True
                raise StopIteration

        x0 = np.concatenate([to_numpy(p).ravel() for p in params]).astype(np.float64)
        result = minimize(
            objective,
            x0,
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
        )
    unpack(result.x)
    network.clear()
    check_finite(network, float(result.fun), result.nit)
    return TrainResult(
        n_iter=int(result.nit),
        converged=bool(result.status == 0) and not state["interrupted"],
        interrupted=state["interrupted"],
        stopped=state["stopped"],
    )
