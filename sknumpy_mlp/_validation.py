"""Validation sets for early stopping: a held-out split, or the user's own."""

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._array_api import float_types, training_namespace
from .engine.backend import to_numpy
from .engine.training import Validation


def checked_weights(sample_weight, X, dtype):
    """``sample_weight`` checked against ``X`` (non-negative), in ``dtype``:
    on the host, as NumPy, whatever library ``X`` is of."""
    if not (isinstance(X, np.ndarray) or hasattr(X, "tocsr")):
        X = np.empty((X.shape[0], 0))  # only its number of rows is needed
    return _check_sample_weight(
        to_numpy(sample_weight), X, dtype=np.float64, ensure_non_negative=True
    ).astype(dtype)


def split_validation(X, Y, sample_weight, targets, fraction, seed):
    """Hold out ``fraction`` of the rows (stratified when ``targets`` say so):
    ``(training rows, Validation)``. The split is of row indices, as
    ``train_test_split`` would split the arrays: ``X`` is never copied (the
    validation inputs are gathered from it in chunks, the training batches
    row by row)."""
    try:
        train_rows, val_rows = train_test_split(
            np.arange(X.shape[0]),
            test_size=fraction,
            random_state=seed,
            stratify=targets.stratify,
        )
    except ValueError as exc:
        raise ValueError(
            f"Cannot hold out validation_fraction={fraction} of "
            f"the data for early stopping: {exc}"
        ) from exc
    if val_rows.shape[0] < 2:  # scikit-learn's message
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' "
            "or the size of your dataset."
        )
    w_val = None if sample_weight is None else sample_weight[val_rows]
    score = targets.scorer(targets.labels[val_rows], w_val)
    return train_rows, Validation(X, Y[val_rows], score, w_val, rows=val_rows)


def own_validation(estimator, X_val, y_val, sample_weight_val, targets, dtype):
    """The user's validation set, checked like the training data of
    ``estimator``: a :class:`Validation`."""
    if X_val is None or y_val is None:
        raise ValueError("X_val and y_val must be given together.")
    xp, _ = training_namespace(X_val)
    X_val = validate_data(
        estimator,
        X_val,
        accept_sparse=["csr", "csc"],
        dtype=float_types(xp),
        reset=False,
    )
    if xp is np:  # else converted chunk by chunk on the device
        X_val = X_val.astype(dtype, copy=False)
    y_val = np.asarray(to_numpy(y_val))
    if y_val.shape[0] != X_val.shape[0]:
        raise ValueError(
            f"X_val has {X_val.shape[0]} samples but y_val has {y_val.shape[0]}."
        )
    val_targets = targets.validation(y_val)
    w_val = None
    if sample_weight_val is not None:
        w_val = checked_weights(sample_weight_val, X_val, dtype)
    score = targets.scorer(val_targets.labels, w_val)
    return Validation(X_val, val_targets.encode(val_targets.y, dtype), score, w_val)
