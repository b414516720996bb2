"""The command line's options: one table of estimator parameters, and the parser."""

import argparse

import numpy as np
from sklearn.utils._param_validation import StrOptions

from .._version import __version__
from ..regressor import REGRESSION_LOSSES

PROG = "sknumpy-mlp"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``sknumpy-mlp train: error: ...``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parsed(kind, text, requirement):
    """``kind(text)``, or argparse's one-line error saying what is needed
    (not "invalid _positive_int value")."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{requirement}, got {text!r}") from None


def _integer(text):
    return _parsed(int, text, "must be an integer")


def _positive_int(text):
    value = _parsed(int, text, "must be a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text):
    value = _parsed(float, text, "must be a positive number")
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _non_negative_float(text):
    value = _parsed(float, text, "must be a number >= 0")
    if not value >= 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def _fraction(text):
    value = _parsed(float, text, "must be in [0, 1)")
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
    ("--random-state", "random_state", _integer, "seed"),
]  # fmt: skip


def _add_parameter_options(parser):
    """:data:`PARAMETER_OPTIONS` as arguments of ``parser``."""
    from ..estimator import MLPScratchClassifier
    from ..regressor import MLPScratchRegressor

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


def _data_options(sub, *, what):
    """Where MNIST lives and which CSV column holds the labels."""
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
    sub.add_argument(
        "--header",
        choices=["auto", "yes", "no"],
        default="auto",
        help=f"whether the first row of a CSV {what} names the columns; 'auto' "
        "(the default): yes unless every cell of it is a number",
    )


def _add_train(commands):
    """The ``train`` subcommand."""
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
    _data_options(train, what="file")
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


def _add_evaluate(commands):
    """The ``evaluate`` subcommand."""
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
    _data_options(evaluate, what="file")
    evaluate.add_argument(
        "--confusion-matrix",
        metavar="PNG",
        help="also save the confusion matrix as an image (needs matplotlib)",
    )


def _add_predict(commands):
    """The ``predict`` subcommand."""
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
    _data_options(predict, what="INPUT")
    predict.add_argument(
        "--proba", action="store_true", help="write class probabilities"
    )
    predict.add_argument(
        "--output", "-o", help="CSV file to write (default: standard output)"
    )


def _add_info(commands):
    """The ``info`` subcommand."""
    info = commands.add_parser(
        "info",
        help="describe a model file and verify its integrity",
        description="Load MODEL, verifying the SHA-256 of every array, and print "
        "its class, format version, the sknumpy-mlp version that wrote it, "
        "architecture, parameter count, dtype, classes and training summary.",
    )
    info.add_argument("model", metavar="MODEL", help="a model file")


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
    for add in (_add_train, _add_evaluate, _add_predict, _add_info):
        add(commands)
    return parser
