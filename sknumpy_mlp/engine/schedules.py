r"""Learning-rate schedules, as in scikit-learn's MLP.

* ``'constant'``: :math:`\eta_t = \eta_0`.
* ``'invscaling'``: :math:`\eta_t = \eta_0 / (t + 1)^{p}`, with :math:`t` the
  number of samples seen, updated after every epoch.
* ``'adaptive'``: :math:`\eta_0` until the stopping criterion has not improved
  for ``n_iter_no_change`` epochs, then divided by 5 (training stops only once
  it would drop below :math:`10^{-6}`).
"""

SCHEDULES = ("constant", "invscaling", "adaptive")


def scheduled_rate(schedule, learning_rate_init, samples_seen, power_t=0.5):
    """Learning rate after ``samples_seen`` samples, for a time-based schedule.

    Returns ``None`` for schedules that do not depend on time.
    """
    if schedule == "invscaling":
        return learning_rate_init / (samples_seen + 1) ** power_t
    return None


def reduce_on_plateau(schedule, learning_rate):
    """New learning rate when progress stalls, or ``None`` to stop training."""
    if schedule == "adaptive" and learning_rate > 1e-6:
        return learning_rate / 5.0
    return None
