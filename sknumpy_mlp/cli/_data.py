"""The command line's data: MNIST, ``.npz`` and CSV files, and model files."""

import csv
import os
import sys
import zipfile
import zlib

import numpy as np


class _Error(Exception):
    """A problem reported to the user in one line (exit status 1)."""


def _read_csv(path, label_column, *, need_labels, header="auto", quiet=False):
    """``(X, y, feature_names)`` from a CSV file.

    ``header``: ``'yes'`` (the first row names the columns), ``'no'`` (every
    row is data, every column a feature) or ``'auto'``: a header unless every
    cell of the first row is a number, which is then said on stderr.
    """
    try:
        # utf-8-sig: a byte-order mark (as spreadsheets write) is not part of
        # the first column's name
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _Error(f"cannot read {path}: {exc}") from exc
    if not rows or not rows[0]:
        raise _Error(f"{path} is empty; expected a header row and data rows")
    has_header = header == "yes" or (
        header == "auto" and not all(_is_number(cell) for cell in rows[0])
    )
    if has_header:
        names, rows, first_line = [name.strip() for name in rows[0]], rows[1:], 2
    else:
        names, first_line = [f"x{j}" for j in range(len(rows[0]))], 1
        if header == "auto" and not quiet and not need_labels:
            print(
                f"note: {path} has no header row (its first row is numbers): "
                f"every row is data (--header yes reads it as names)",
                file=sys.stderr,
            )
    if not rows:
        raise _Error(f"{path} has a header but no data rows")
    for number, row in enumerate(rows, start=first_line):
        if len(row) != len(names):
            raise _Error(
                f"{path}, line {number}: {len(row)} values, but the "
                f"{'header has' if has_header else 'first row has'} {len(names)}"
            )
    table = np.array(rows, dtype=str)
    y = None
    if has_header and label_column in names:
        index = names.index(label_column)
        y = _labels(table[:, index], path, label_column, first_line)
        table = np.delete(table, index, axis=1)
        names.pop(index)
    elif need_labels:
        if not has_header:
            raise _Error(
                f"{path} has no header row, so no label column; add a first row "
                f"naming the columns, one of them {label_column!r}"
            )
        raise _Error(
            f"{path} has no label column {label_column!r} (columns: "
            f"{', '.join(names[:8])}{', ...' if len(names) > 8 else ''}); "
            "name it with --label-column"
        )
    if not names:
        raise _Error(f"{path} has no feature columns")
    return _numbers(table, names, path, first_line), y, names


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numbers(table, names, path, first_line):
    """The feature cells as float64; a cell that is not a finite number is
    named by line and column."""
    try:
        X = table.astype(np.float64)
    except ValueError:
        X = None
    if X is not None and np.isfinite(X).all():
        return X
    for i, j in np.ndindex(table.shape):  # the first bad cell, to name it
        value = table[i, j]
        if not _is_number(value) or not np.isfinite(float(value)):
            raise _Error(
                f"{path}, line {i + first_line}, column {names[j]!r}: {value!r} is "
                "not a finite number"
            )
    raise AssertionError("unreachable: some cell failed to convert")  # pragma: no cover


def _labels(column, path, name, first_line):
    """Integers when every value is an integer, else real numbers (regression
    targets), else strings. An empty or missing label is an error."""
    missing = [
        i for i, value in enumerate(column)
        if value.strip().lower() in ("", "nan", "na", "n/a", "null", "none")
    ]  # fmt: skip
    if missing:
        raise _Error(
            f"{path}, line {missing[0] + first_line}: the label column {name!r} is "
            f"empty or missing ({column[missing[0]]!r}) in {len(missing)} row(s); "
            "every row needs a label"
        )
    try:
        as_float = column.astype(np.float64)
    except ValueError:
        return column
    if not np.isfinite(as_float).all():
        i = int(np.argmax(~np.isfinite(as_float)))
        raise _Error(f"{path}, line {i + first_line}: label {column[i]!r} is infinite")
    if np.all(as_float == np.round(as_float)):
        return as_float.astype(np.int64)
    return as_float


def _read_npz(path, *, need_labels):
    try:
        # the file opened here, not by np.load, which leaves it open when
        # it is not a zip archive
        with open(path, "rb") as f:
            if f.read(6) == b"\x93NUMPY":
                raise _Error(
                    f"{path} holds a single array (.npy); write X and y with "
                    "numpy.savez(path, X=X, y=y)"
                )
            f.seek(0)
            with np.load(f, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
    except _Error:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError,
            RuntimeError, NotImplementedError, zlib.error) as exc:  # fmt: skip
        if "allow_pickle" in str(exc):  # numpy's advice, never ours to give
            problem = "it is not an .npz archive, or holds Python objects"
        else:
            problem = str(exc)
        raise _Error(f"cannot read {path} as an .npz file: {problem}") from exc
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
        return _read_csv(
            source,
            args.label_column,
            need_labels=need_labels,
            header=args.header,
            quiet=getattr(args, "quiet", False),
        )
    raise _Error(f"{source}: expected 'mnist', an .npz file or a .csv file")


def _load_model(path):
    """The classifier or regressor in the model file ``path``, or the
    pipeline ending in one in the pipeline file ``path``."""
    from .. import load
    from .._base import BaseMLP
    from ..pipelines import is_pipeline

    if not os.path.isfile(path):
        raise _Error(f"no such model file: {path}")
    try:
        model = load(path)
    except (ValueError, ImportError) as exc:
        raise _Error(str(exc)) from exc
    if not (isinstance(model, BaseMLP) or is_pipeline(model)):
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
