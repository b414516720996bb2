"""The ``sknumpy-mlp`` command: train, evaluate, predict with and inspect models.

Run ``sknumpy-mlp --help`` or ``sknumpy-mlp COMMAND --help``. Data comes from
MNIST (``mnist``: the training split for ``train``, the test split for
``evaluate``), an ``.npz`` file with arrays ``X`` and ``y`` (``predict`` needs
``X`` only), or a CSV file with a header row, numeric feature columns and a
label column (``--label-column``, default ``label``). Errors are reported in
one line, with exit status 2 for bad arguments and 1 for everything else.
"""

import argparse
import contextlib
import csv
import os
import sys
import time
import warnings

import numpy as np
from sklearn.base import is_regressor
from sklearn.utils._param_validation import StrOptions

from ._version import __version__
from .regressor import REGRESSION_LOSSES

PROG = "sknumpy-mlp"


class _Error(Exception):
    """A problem reported to the user in one line (exit status 1)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``sknumpy-mlp train: error: ...``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


# ------------------------------------------------------------------ data


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _non_negative_float(text):
    value = float(text)
    if not value >= 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def _fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _hidden_sizes(text):
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated positive integers such as 64,32, got {text!r}"
        )
    return sizes


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
        from .datasets import load_mnist

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
    from . import load
    from ._base import BaseMLP

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


# -------------------------------------------------------------- progress


class _Progress:
    """One line per epoch: a bar, the loss and the validation score.

    On a terminal the line is redrawn in place; otherwise (a log file, a pipe)
    each epoch gets its own line.
    """

    def __init__(self, total, stream=None, score="accuracy"):
        self.total = total
        self.score = score
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()

    def __call__(self, record):
        done = min(record["epoch"], self.total)
        filled = round(20 * done / self.total)
        line = (
            f"epoch {record['epoch']:>{len(str(self.total))}}/{self.total} "
            f"[{'#' * filled}{'.' * (20 - filled)}] loss {record['loss']:.4f}"
        )
        if record.get("validation_score") is not None:
            line += f"  validation {self.score} {record['validation_score']:.4f}"
        line += f"  ({record['seconds']:.1f} s)"
        if self.live:
            self.stream.write(f"\r{line}\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self):
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def _estimator_with_progress(cls, progress, **params):
    class WithProgress(cls):
        def report_epoch(self, record):  # the estimators' documented hook
            progress(record)

    WithProgress.__name__ = cls.__name__
    return WithProgress(verbose=progress is not None, **params)


# -------------------------------------------------------------- commands


def _train(args):
    X, y, _ = _load_data(args.data, args, split="train")
    if args.max_samples is not None:
        X, y = X[: args.max_samples], y[: args.max_samples]
    # the estimator parameters given on the command line; the others keep the
    # estimator's own defaults
    params = {
        name: getattr(args, name)
        for _, name, _, _ in PARAMETER_OPTIONS
        if hasattr(args, name)
    }
    params["augment"] = _augmenter(args.augment, X.shape[1])
    params["early_stopping"] = args.early_stopping
    task = _task(args, y)
    if task == "regression":
        from .regressor import MLPScratchRegressor as Estimator

        params["loss"] = args.loss
        y = np.asarray(y, dtype=np.float64)
    else:
        from .estimator import MLPScratchClassifier as Estimator

        if args.loss != "squared_error":
            raise _Error("--loss is for regression (--task regression)")
    score = "R2" if task == "regression" else "accuracy"
    max_iter = params.get("max_iter", Estimator().max_iter)
    progress = None if args.quiet else _Progress(max_iter, score=score)
    clf = _estimator_with_progress(Estimator, progress, **params)
    start = time.perf_counter()
    try:
        with _convergence_as_note(args.quiet):
            clf.fit(X, y)
    except ValueError as exc:
        raise _Error(str(exc)) from exc
    finally:
        if progress is not None:
            progress.close()
    seconds = time.perf_counter() - start
    clf.set_params(verbose=False)  # the progress printer is not saved
    try:
        clf.save(args.output)
    except OSError as exc:
        raise _Error(f"cannot write {args.output}: {exc}") from exc
    if not args.quiet:
        print(
            f"Trained {clf.n_iter_} epochs in {seconds:.1f} s; "
            f"training {score} {clf.score(X, y):.4f}; saved {args.output}"
        )
    return 0


@contextlib.contextmanager
def _convergence_as_note(quiet):
    """Turn a ConvergenceWarning into one line on stderr; other warnings pass."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        yield
    # re-emitted outside the catch, so that they reach the user's filters
    notes = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    later = [w for w in caught if w not in notes]
    for w in later:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if not quiet:
        for w in notes:
            print(
                f"note: {w.message} (raise --epochs to train longer)", file=sys.stderr
            )


def _augmenter(enabled, n_features):
    """The record recipe's distortions, for square images of ``n_features``."""
    if not enabled:
        return None
    from .engine.augmentation import ImageAugmenter

    side = int(round(n_features**0.5))
    if side * side != n_features:
        raise _Error(f"--augment needs square images; {n_features} features are not")
    return ImageAugmenter(
        (side, side), max_shift=2, max_rotation=12, max_scale=0.1, elastic_alpha=1.5
    )


def _evaluate(args):
    from sklearn.metrics import classification_report

    model = _load_model(args.model)
    X, y, _ = _load_data(args.data, args, split="test")
    predictions = _predict_checked(model, X, "predict")
    y = np.asarray(y)
    if is_regressor(model):
        return _evaluate_regression(model, y, predictions, args)
    accuracy = 100 * np.mean(predictions == y)
    print(f"Accuracy: {accuracy:.2f}")
    print(classification_report(y, predictions, digits=4, zero_division=0))
    if args.confusion_matrix:
        _save_confusion_matrix(y, predictions, args.confusion_matrix)
        print(f"Confusion matrix saved to {args.confusion_matrix}")
    return 0


def _evaluate_regression(model, y, predictions, args):
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    if args.confusion_matrix:
        raise _Error("--confusion-matrix is for classifiers; the model is a regressor")
    try:
        y = y.astype(np.float64).reshape(predictions.shape)
    except ValueError as exc:
        raise _Error(f"the targets do not fit the model's outputs: {exc}") from exc
    print(f"R2:   {r2_score(y, predictions):.4f}")
    print(f"MAE:  {mean_absolute_error(y, predictions):.6g}")
    print(f"RMSE: {np.sqrt(mean_squared_error(y, predictions)):.6g}")
    return 0


def _save_confusion_matrix(y, predictions, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise _Error(
            "--confusion-matrix needs matplotlib: pip install 'sknumpy-mlp[plot]'"
        ) from exc
    from sklearn.metrics import ConfusionMatrixDisplay

    display = ConfusionMatrixDisplay.from_predictions(y, predictions, colorbar=False)
    display.figure_.set_size_inches(7, 6)
    try:
        display.figure_.savefig(path, dpi=100, bbox_inches="tight")
    except (OSError, ValueError) as exc:
        raise _Error(f"cannot save {path}: {exc}") from exc
    finally:
        plt.close(display.figure_)


def _predict_checked(model, X, method):
    try:
        return getattr(model, method)(X)
    except ValueError as exc:
        raise _Error(str(exc)) from exc


def _predict(args):
    model = _load_model(args.model)
    X, _, _ = _load_data(args.input, args, split="test", need_labels=False)
    out = open(args.output, "w", newline="") if args.output else sys.stdout
    try:
        writer = csv.writer(out, lineterminator="\n")
        if args.proba and is_regressor(model):
            raise _Error("--proba is for classifiers; the model is a regressor")
        if args.proba:
            proba = _predict_checked(model, X, "predict_proba")
            writer.writerow([str(c) for c in model.classes_])
            writer.writerows([[repr(float(p)) for p in row] for row in proba])
        else:
            predictions = _predict_checked(model, X, "predict")
            value = (lambda v: repr(float(v))) if is_regressor(model) else str
            if predictions.ndim == 2:  # several outputs, or labels
                names = [f"prediction_{k}" for k in range(predictions.shape[1])]
                writer.writerow(names)
                writer.writerows([[value(v) for v in row] for row in predictions])
            else:
                writer.writerow(["prediction"])
                writer.writerows([[value(p)] for p in predictions])
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def _info(args):
    from . import _ESTIMATORS
    from .persistence import describe

    if not os.path.isfile(args.model):
        raise _Error(f"no such model file: {args.model}")
    try:
        info = describe(args.model, _ESTIMATORS)
    except ValueError as exc:
        raise _Error(str(exc)) from exc
    model, layers = info["model"], info["layers"]
    architecture = " -> ".join(
        [str(layers[0]["n_inputs"])]
        + [
            f"{spec['n_outputs']} ({spec['activation']}"
            + (f", dropout {spec['dropout']:g}" if spec["dropout"] else "")
            + ")"
            for spec in layers
        ]
    )
    lines = [
        ("file", f"{args.model} ({info['size']:,} bytes)"),
        ("class", info["class"]),
        ("format version", str(info["format_version"])),
        ("written by", f"sknumpy-mlp {info['package_version']}"),
        ("integrity", f"OK, SHA-256 of all {info['n_arrays']} arrays verified"),
        ("architecture", architecture),
        ("parameters", f"{info['n_parameters']:,}"),
        ("dtype", info["dtype"]),
    ]
    if info["class"] == "MLPScratchClassifier":
        classes = [str(c) for c in model.classes_]
        shown = " ".join(classes[:20]) + (" ..." if len(classes) > 20 else "")
        lines.append(("classes", f"{len(classes)}: {shown}"))
        lines.append(("solver", model.solver))
        training = f"{len(model.history_)} epochs, final loss {model.loss_:.6f}"
        if model.best_validation_score_ is not None:
            training += f", best validation score {model.best_validation_score_:.4f}"
        lines.append(("training", training))
    elif info["class"] == "MLPScratchRegressor":
        lines.append(("outputs", str(model.n_outputs_)))
        lines.append(("loss", model.loss))
        lines.append(("solver", model.solver))
        training = f"{len(model.history_)} epochs, final loss {model.loss_:.6f}"
        if model.best_validation_score_ is not None:
            training += f", best validation R2 {model.best_validation_score_:.4f}"
        lines.append(("training", training))
    width = max(len(key) for key, _ in lines)
    for key, value in lines:
        print(f"{key + ':':<{width + 1}} {value}")
    return 0


# ----------------------------------------------------------------- parser

#: The train options that set an estimator parameter: (flag, parameter, type,
#: help). Defaults come from the estimators, choices from their constraints.
PARAMETER_OPTIONS = [
    ("--hidden", "hidden_layer_sizes", _hidden_sizes, "hidden layer sizes, "
     "comma-separated"),
    ("--activation", "activation", None, "hidden activation"),
    ("--solver", "solver", None, "optimizer"),
    ("--epochs", "max_iter", _positive_int, "most epochs (max_iter)"),
    ("--batch-size", "batch_size", _positive_int, "rows per mini-batch"),
    ("--learning-rate", "learning_rate_init", _positive_float,
     "initial learning rate"),
    ("--alpha", "alpha", _non_negative_float, "L2 penalty"),
    ("--schedule", "learning_rate", None, "learning-rate schedule"),
    ("--dropout", "dropout", _fraction,
     "dropout rate of the hidden layers, in [0, 1)"),
    ("--max-norm", "max_norm", _positive_float,
     "max-norm constraint on each unit's incoming weights"),
    ("--random-state", "random_state", int, "seed"),
]  # fmt: skip


def _add_parameter_options(parser):
    """:data:`PARAMETER_OPTIONS` as arguments of ``parser``."""
    from .estimator import MLPScratchClassifier
    from .regressor import MLPScratchRegressor

    classifier = MLPScratchClassifier().get_params()
    regressor = MLPScratchRegressor().get_params()
    constraints = MLPScratchClassifier._parameter_constraints

    def shown(value):
        return ",".join(map(str, value)) if isinstance(value, tuple) else value

    for flag, name, kind, text in PARAMETER_OPTIONS:
        # a string option (no type) takes the names the constraint allows
        options = [c for c in constraints[name] if isinstance(c, StrOptions)]
        choices = sorted(options[0].options) if kind is None and options else None
        default = f"default: {shown(classifier[name])}"
        if regressor[name] != classifier[name]:
            default += f"; a regressor's: {shown(regressor[name])}"
        parser.add_argument(
            flag,
            dest=name,
            type=kind,
            choices=choices,
            metavar=None if choices else flag[2:].upper().replace("-", "_"),
            default=argparse.SUPPRESS,
            help=f"{text} ({default})",
        )


def _parser():
    parser = _Parser(
        prog=PROG,
        description="Train, evaluate, use and inspect sknumpy-mlp models.",
        epilog="Run 'sknumpy-mlp COMMAND --help' for the options of a command.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def data_options(sub, *, what):
        sub.add_argument(
            "--mnist-dir",
            help="folder with the MNIST IDX files (default: $SKNUMPY_MLP_MNIST, "
            "then the Keras cache, then a Keras download)",
        )
        sub.add_argument(
            "--label-column",
            default="label",
            help=f"the label column of a CSV {what} (default: %(default)s)",
        )

    train = commands.add_parser(
        "train",
        help="train a classifier or a regressor and save it",
        description="Train an MLPScratchClassifier or MLPScratchRegressor and "
        "save it as a model file. Shows one progress line per epoch (epoch, "
        "training loss, validation accuracy or R2 when early stopping holds out a "
        "validation set).",
    )
    train.add_argument(
        "--task",
        choices=["auto", "classification", "regression"],
        default="auto",
        help="what to train; 'auto' (the default) trains a regressor when the "
        "labels are real numbers, a classifier otherwise, and says which",
    )
    train.add_argument(
        "--loss",
        choices=list(REGRESSION_LOSSES),
        default="squared_error",
        help="the regressor's loss (default: %(default)s)",
    )
    train.add_argument(
        "--data",
        default="mnist",
        help="'mnist' (its 60 000 training images), an .npz file with arrays X "
        "and y, or a CSV file with a header and a label column (default: mnist)",
    )
    data_options(train, what="file")
    train.add_argument(
        "--output",
        "-o",
        default="model.npz",
        help="model file to write (default: %(default)s)",
    )
    _add_parameter_options(train)
    train.add_argument(
        "--augment",
        action="store_true",
        help="distort every training batch (square images: shifts up to 2 px, "
        "rotations up to 12 degrees, scaling up to 10 %%, elastic deformation)",
    )
    stopping = train.add_mutually_exclusive_group()
    stopping.add_argument(
        "--early-stopping",
        dest="early_stopping",
        action="store_const",
        const=True,
        default="auto",
        help="hold out 10%% of the data and stop when its accuracy stops "
        "improving (default: on above 10 000 samples)",
    )
    stopping.add_argument(
        "--no-early-stopping",
        dest="early_stopping",
        action="store_const",
        const=False,
        help="train for --epochs epochs (or until the loss stops improving)",
    )
    train.add_argument(
        "--max-samples",
        type=_positive_int,
        help="train on the first N samples only (a quick run)",
    )
    train.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing but errors"
    )
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="print a model's accuracy and classification report, or its R2, "
        "MAE and RMSE",
        description="For a classifier, print 'Accuracy: NN.NN' (percent) and "
        "scikit-learn's classification report of MODEL on the data; for a "
        "regressor, its R2, mean absolute error and root mean squared error.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="a model file")
    evaluate.add_argument(
        "--data",
        default="mnist",
        help="'mnist' (its 10 000 test images), an .npz file with arrays X and y, "
        "or a CSV file with a label column (default: mnist)",
    )
    data_options(evaluate, what="file")
    evaluate.add_argument(
        "--confusion-matrix",
        metavar="PNG",
        help="also save the confusion matrix as an image (needs matplotlib)",
    )
    evaluate.set_defaults(run=_evaluate)

    predict = commands.add_parser(
        "predict",
        help="write predictions as CSV",
        description="Predict the rows of INPUT with MODEL and write CSV: a "
        "'prediction' column, or with --proba one probability column per class.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model file")
    predict.add_argument(
        "input",
        metavar="INPUT",
        help="an .npz file with an array X, a CSV file of feature columns (a "
        "label column, if present, is ignored), or 'mnist' (the test images)",
    )
    data_options(predict, what="INPUT")
    predict.add_argument(
        "--proba", action="store_true", help="write class probabilities"
    )
    predict.add_argument(
        "--output", "-o", help="CSV file to write (default: standard output)"
    )
    predict.set_defaults(run=_predict)

    info = commands.add_parser(
        "info",
        help="describe a model file and verify its integrity",
        description="Load MODEL, verifying the SHA-256 of every array, and print "
        "its class, format version, the sknumpy-mlp version that wrote it, "
        "architecture, parameter count, dtype, classes and training summary.",
    )
    info.add_argument("model", metavar="MODEL", help="a model file")
    info.set_defaults(run=_info)
    return parser


def main(argv=None):
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except _Error as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader left (e.g. `| head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
