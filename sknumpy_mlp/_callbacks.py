"""Per-epoch reporting during fit: verbose lines and scikit-learn's callbacks."""

from .engine.backend import copy


class _Callbacks:
    """Verbose printing and scikit-learn's callback API (>= 1.9), per epoch."""

    def __init__(self, estimator, X, y, network, targets, max_epochs):
        self.estimator = estimator
        self.X, self.y = X, y
        self.network = network
        self.targets = targets
        self.context = None
        self.epoch_context = None
        if hasattr(estimator, "_init_callback_context"):
            self.context = estimator._init_callback_context(max_subtasks=max_epochs)
            self.context.call_on_fit_task_begin(estimator=estimator, X=X, y=y)

    def _fitted_attributes(self):
        """Attributes that make a copy of the estimator predict like the network."""
        layers = self.network.layers
        return {
            **self.targets.fitted_attributes(),
            "coefs_": [copy(layer.weights) for layer in layers],
            "intercepts_": [copy(layer.biases) for layer in layers],
            "normalizations_": [
                None if layer.normalization is None else layer.normalization.copied()
                for layer in layers[:-1]
            ],
            "out_activation_": layers[-1].activation,
            "n_layers_": len(layers) + 1,
        }

    def begin(self, epoch):
        if self.context is not None:
            self.epoch_context = self.context.subcontext(task_name="epoch")
            self.epoch_context.call_on_fit_task_begin(
                estimator=self.estimator, X=self.X, y=self.y
            )

    def end(self, record, begin_next=False):
        if self.estimator.verbose:
            self.estimator.report_epoch(record)
        stop = False
        if self.epoch_context is not None:
            stop = self.epoch_context.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                reconstruction_attributes=self._fitted_attributes,
            )
            self.epoch_context = None
            if begin_next and not stop:
                self.begin(record["epoch"] + 1)
        return stop

    def close_open_epoch(self):
        """End an epoch context that was begun but never ran (L-BFGS's last)."""
        if self.epoch_context is not None:
            self.epoch_context.call_on_fit_task_end(estimator=self.estimator)
            self.epoch_context = None

    def finish(self):
        if self.context is not None:
            self.context.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                reconstruction_attributes=self._fitted_attributes,
            )
