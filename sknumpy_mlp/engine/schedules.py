r"""Learning-rate schedules, as a name -> function registry.

Each schedule gives the learning rate of an epoch from the initial rate
:math:`\eta_0`, the epoch's position :math:`e` (0 for the first epoch of the
schedule) and the number of samples seen before it, :math:`t`:

* ``'constant'``: :math:`\eta_0`;
* ``'invscaling'``: :math:`\eta_0 / (t + 1)^{p}` (scikit-learn's);
* ``'adaptive'``: :math:`\eta_0` until the stopping criterion has not improved
  for ``n_iter_no_change`` epochs, then divided by 5 (see
  :meth:`Schedule.on_plateau`); training stops once it would go below
  :math:`10^{-6}`;
* ``'step'``: :math:`\eta_0 \gamma^{\lfloor e / s \rfloor}` (every :math:`s`
  epochs, multiply by :math:`\gamma`);
* ``'cosine'``: :math:`\frac{\eta_0}{2}\left(1 + \cos \frac{\pi (e \bmod T)}{T}
  \right)`, annealing over :math:`T` = ``max_iter`` epochs (less the warm-up)
  and restarting after them, as in SGDR (a warm start goes on from there);
* ``'linear'``: :math:`\eta_0 \left(1 - \frac{(e \bmod T) + 1/2}{T}\right)`,
  a straight line to zero over the same :math:`T` epochs, each epoch at
  the line's value half-way through it (so that the last one still
  trains), restarting after them as the cosine does.

Any schedule can start with a linear warm-up of :math:`W` epochs,
:math:`\eta_0 (e + 1) / W` for :math:`e < W`; the schedule proper then starts
at :math:`e - W`. Any schedule can also end with :math:`H` epochs at a
constant rate :math:`\eta_H` (``hold_epochs`` and ``hold_rate``: stochastic
weight averaging's constant rate, while the weights are averaged);
``'cosine'`` and ``'linear'`` then anneal from :math:`\eta_0` to
:math:`\eta_H` instead of 0, over :math:`T - H` epochs.
"""

import math
from dataclasses import dataclass, field


def _constant(config, epoch, samples_seen):
    return config.learning_rate_init


def _invscaling(config, epoch, samples_seen):
    return config.learning_rate_init / (samples_seen + 1) ** config.power_t


def _step(config, epoch, samples_seen):
    return config.learning_rate_init * config.step_factor ** (
        epoch // config.step_epochs
    )


def _cycle(config):
    """Epochs of one cycle of the schedule proper (after the warm-up); the
    annealing schedules and the held rate restart after it, as SGDR."""
    return max(config.total_epochs - config.warmup_epochs, 1)


def _annealing(config, epoch):
    """``(position, period, floor)`` of an annealing schedule: the epoch's
    place in its cycle, the epochs it anneals over (the cycle less the held
    epochs) and the rate it anneals to."""
    cycle = _cycle(config)
    if config.hold_rate is None:
        return epoch % cycle, cycle, 0.0
    return epoch % cycle, max(cycle - config.hold_epochs, 1), config.hold_rate


def _cosine(config, epoch, samples_seen):
    position, period, floor = _annealing(config, epoch)
    progress = position / period
    scale = 0.5 * (config.learning_rate_init - floor)
    return floor + scale * (1 + math.cos(math.pi * progress))


def _linear(config, epoch, samples_seen):
    position, period, floor = _annealing(config, epoch)
    progress = (position + 0.5) / period
    return floor + (config.learning_rate_init - floor) * (1.0 - progress)


SCHEDULES = {
    "constant": _constant,
    "invscaling": _invscaling,
    "adaptive": _constant,
    "step": _step,
    "cosine": _cosine,
    "linear": _linear,
}


@dataclass
class Schedule:
    """A learning-rate schedule and its settings.

    Parameters
    ----------
    name : str
        A key of :data:`SCHEDULES`.
    learning_rate_init : float
    power_t : float, default=0.5
        For ``'invscaling'``.
    step_epochs : int, default=10
    step_factor : float, default=0.1
        For ``'step'``.
    total_epochs : int, default=200
        For ``'cosine'`` and ``'linear'``.
    warmup_epochs : int, default=0
    hold_epochs : int, default=0
    hold_rate : float or None, default=None
        The last ``hold_epochs`` epochs of every ``total_epochs`` (after the
        warm-up) run at ``hold_rate``, whatever the schedule; None: no such
        epochs.
    """

    name: str
    learning_rate_init: float
    power_t: float = 0.5
    step_epochs: int = 10
    step_factor: float = 0.1
    total_epochs: int = 200
    warmup_epochs: int = 0
    hold_epochs: int = 0
    hold_rate: float | None = None
    #: ``'adaptive'``'s rate after its plateaus (None: not reduced yet); a warm
    #: start sets it to continue where the previous fit left off.
    current: float | None = None
    #: The rate :meth:`rate` gave last, which a plateau reduces.
    last: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        if self.name not in SCHEDULES:
            raise ValueError(
                f"Unknown learning-rate schedule {self.name!r}; "
                f"expected one of {sorted(SCHEDULES)}."
            )

    def rate(self, epoch, samples_seen=0):
        """Learning rate of epoch ``epoch`` (0-based): the schedule owns it, the
        training loop hands it to every optimizer step."""
        if epoch < self.warmup_epochs:
            rate = self.learning_rate_init * (epoch + 1) / self.warmup_epochs
        elif self._holding(epoch - self.warmup_epochs):
            rate = self.hold_rate
        elif self.name == "adaptive" and self.current is not None:
            rate = self.current
        else:
            rate = SCHEDULES[self.name](self, epoch - self.warmup_epochs, samples_seen)
        self.last = rate
        return rate

    def _holding(self, epoch):
        if self.hold_rate is None:
            return False
        cycle = _cycle(self)
        return epoch % cycle >= cycle - self.hold_epochs

    def on_plateau(self, epoch):
        """Progress stalled after epoch ``epoch``: ``'adaptive'`` divides its
        rate by 5 (from the next epoch after warm-up) and says to go on; every
        schedule says to stop once that rate would be 1e-6 or less."""
        rate = self.learning_rate_init if self.last is None else self.last
        if self.name != "adaptive" or rate <= 1e-6:
            return False
        if epoch >= self.warmup_epochs:
            self.current = rate / 5.0
        return True
