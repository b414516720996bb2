"""The command line's data: MNIST, ``.npz`` and CSV files, and model files."""

import csv
import os
import sys

import numpy as np


class _Error(Exception):
    """A problem reported to the user in one line (exit status 1)."""


def _read_csv(path, label_column, *, need_labels):
    """``(X, y, feature_names)`` from a CSV file with a header row."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise _Error(f"cannot read {path}: {exc}") from exc
    if not rows or not rows[0]:
        raise _Error(f"{path} is empty; expected a header row and data rows")
    header, rows = [name.strip() for name in rows[0]], rows[1:]
    if not rows:
        raise _Error(f"{path} has a header but no data rows")
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise _Error(
                f"{path}, line {number}: {len(row)} values, but the header has "
                f"{len(header)} columns"
            )
    table = np.array(rows, dtype=str)
    y = None
    if label_column in header:
        index = header.index(label_column)
        y = _labels(table[:, index])
        table = np.delete(table, index, axis=1)
        header.pop(index)
    elif need_labels:
        raise _Error(
            f"{path} has no label column {label_column!r} (columns: "
            f"{', '.join(header[:8])}{', ...' if len(header) > 8 else ''}); "
            "name it with --label-column"
        )
    if not header:
        raise _Error(f"{path} has no feature columns")
    try:
        X = table.astype(np.float64)
    except ValueError:
        for j, name in enumerate(header):
            for i, value in enumerate(table[:, j]):
                try:
                    float(value)
                except ValueError:
                    raise _Error(
                        f"{path}, line {i + 2}, column {name!r}: {value!r} is not "
                        "a number"
                    ) from None
        raise  # pragma: no cover - every cell converted above
    return X, y, header


def _labels(column):
    """Integers when every value is an integer, else real numbers (regression
    targets), else strings."""
    try:
        as_float = column.astype(np.float64)
    except ValueError:
        return column
    if np.all(as_float == np.round(as_float)):
        return as_float.astype(np.int64)
    return as_float


def _read_npz(path, *, need_labels):
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise _Error(f"cannot read {path} as an .npz file: {exc}") from exc
    if "X" not in arrays or (need_labels and "y" not in arrays):
        wanted = "'X' and 'y'" if need_labels else "'X'"
        raise _Error(
            f"{path} must hold arrays {wanted}; it holds {sorted(arrays) or 'none'}"
        )
    return arrays["X"], arrays.get("y"), None


def _load_data(source, args, *, split, need_labels=True):
    """``(X, y, feature_names)``: MNIST's ``split``, or an .npz or CSV file."""
    if source == "mnist":
        from ..datasets import load_mnist

        try:
            train, test = load_mnist(args.mnist_dir)
        except (OSError, ValueError, ImportError) as exc:
            raise _Error(f"cannot load MNIST: {exc}") from exc
        X, y = train if split == "train" else test
        return X, y, None
    if not os.path.isfile(source):
        raise _Error(f"no such file: {source}")
    if source.lower().endswith(".npz"):
        return _read_npz(source, need_labels=need_labels)
    if source.lower().endswith(".csv"):
        return _read_csv(source, args.label_column, need_labels=need_labels)
    raise _Error(f"{source}: expected 'mnist', an .npz file or a .csv file")


def _load_model(path):
    """The classifier or regressor in the model file ``path``."""
    from .. import load
    from .._base import BaseMLP

    if not os.path.isfile(path):
        raise _Error(f"no such model file: {path}")
    try:
        model = load(path)
    except ValueError as exc:
        raise _Error(str(exc)) from exc
    if not isinstance(model, BaseMLP):
        raise _Error(
            f"{path} holds a {type(model).__name__}, not an estimator; the "
            "commands train, evaluate and predict work on estimators"
        )
    return model


def _task(args, y):
    """'classification' or 'regression': as asked, or from the labels (stated)."""
    if args.task != "auto":
        return args.task
    regression = np.asarray(y).dtype.kind == "f"
    if not args.quiet:
        kind = "real numbers" if regression else "classes"
        task = "regression" if regression else "classification"
        print(f"note: the labels are {kind}: {task} (--task)", file=sys.stderr)
    return "regression" if regression else "classification"
