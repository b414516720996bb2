"""The command line's options: one table of estimator parameters, and the parser."""

import argparse
import sys

import numpy as np
from sklearn.utils._param_validation import StrOptions

from .._version import __version__

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


#: The estimator parameters the ``train`` command sets, each as
#: ``--<name with dashes>``: (parameter, help). Types, choices and defaults
#: come from the estimators' parameter constraints and defaults.
PARAMETER_OPTIONS = [
    ("hidden_layer_sizes", "hidden layer sizes, comma-separated (64,32)"),
    ("activation", "hidden activation, or one per hidden layer (relu,tanh)"),
    ("solver", "optimizer"),
    ("alpha", "L2 penalty"),
    ("batch_size", "rows per mini-batch, or auto (min(200, n_samples))"),
    ("learning_rate", "learning-rate schedule"),
    ("learning_rate_init", "initial learning rate"),
    ("power_t", "exponent of the invscaling schedule"),
    ("max_iter", "most epochs"),
    ("shuffle", "shuffle the rows every epoch (true/false)"),
    ("random_state", "seed, or none"),
    ("tol", "tolerance of the stopping rule"),
    ("momentum", "SGD momentum"),
    ("nesterovs_momentum", "Nesterov momentum (true/false)"),
    ("early_stopping", "hold out validation_fraction and stop when its score "
     "stops improving: true, false or auto (on above 10 000 samples)"),
    ("validation_fraction", "share of the data early stopping holds out"),
    ("beta_1", "Adam's first-moment decay"),
    ("beta_2", "Adam's second-moment decay"),
    ("epsilon", "Adam's and RMSprop's numerical-stability term"),
    ("n_iter_no_change", "epochs without improvement before stopping (inf: "
     "never)"),
    ("max_fun", "most loss evaluations of L-BFGS"),
    ("rho", "RMSprop's decay"),
    ("weight_decay", "AdamW's decoupled weight decay"),
    ("lr_decay_epochs", "epochs between the step schedule's reductions"),
    ("lr_decay_factor", "the step schedule's reduction factor"),
    ("warmup_epochs", "epochs of linear warm-up of the rate"),
    ("dropout", "dropout rate of the hidden layers, or one per hidden layer"),
    ("normalization", "batch or layer normalization of the hidden layers, or one "
     "per hidden layer"),
    ("max_grad_norm", "clip each batch's gradient to this global norm, or none"),
    ("max_norm", "max-norm constraint on each unit's incoming weights, or one "
     "per layer, the output layer last (2,2,none), or none"),
    ("average_epochs", "end with the average of the last epochs' weights, or "
     "none"),
    ("average_learning_rate", "constant learning rate of the averaged epochs, or "
     "none"),
    ("dtype", "floating-point type of the weights"),
    ("class_weight", "classifier: balanced, or label:weight pairs (0:1,1:3)"),
    ("scoring", "what early stopping monitors"),
    ("loss", "the loss: log_loss or focal (classifier), squared_error, "
     "absolute_error, huber or poisson (regressor)"),
    ("focal_gamma", "classifier: the focal loss's gamma"),
    ("label_smoothing", "classifier: smooth the targets toward uniform by this"),
    ("huber_delta", "regressor: where the Huber loss turns linear"),
]  # fmt: skip
#: Parameters the command sets in its own ways: ``verbose`` (its progress
#: line, see --quiet), ``augment`` (--augment) and ``warm_start``
#: (--warm-start MODEL).
OWN_WAYS = {"verbose", "augment", "warm_start"}
#: Flags of the previous release, kept for one release: old flag -> the
#: parameter it sets (now ``flag(parameter)``).
DEPRECATED = {"--hidden": "hidden_layer_sizes", "--epochs": "max_iter",
              "--schedule": "learning_rate"}  # fmt: skip


def flag(name):
    return "--" + name.replace("_", "-")


def _constraints():
    """Every parameter's constraints, the classifier's and the regressor's."""
    from sklearn.utils._param_validation import make_constraint

    from ..estimator import MLPScratchClassifier
    from ..regressor import MLPScratchRegressor

    merged = {}
    for cls in (MLPScratchClassifier, MLPScratchRegressor):
        for name, constraints in cls._parameter_constraints.items():
            merged.setdefault(name, [])
            for c in constraints:
                made = make_constraint(c)
                if str(made) not in map(str, merged[name]):
                    merged[name].append(made)
    return merged


def _value(text):
    """One item of an option's value: an int, a float, or the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _converter(name, constraints):
    """Parse ``--name``'s text into a value its constraints accept."""

    def convert(text):
        stripped = text.strip()
        lower = stripped.lower()
        candidates = []
        if lower == "none":
            candidates.append(None)
        if lower in ("true", "false", "yes", "no"):
            candidates.append(lower in ("true", "yes"))
        candidates.append(stripped)
        if lower in ("inf", "infinity"):
            candidates.append(float("inf"))
        candidates.append(_value(stripped))
        if "," in stripped or name in ("hidden_layer_sizes",):
            items = [
                None if part.strip().lower() == "none" else _value(part.strip())
                for part in stripped.split(",")
                if part
            ]
            candidates.append(tuple(items))
        if ":" in stripped:  # class_weight's label:weight pairs
            try:
                candidates.append(
                    {_value(k.strip()): float(w) for k, w in
                     (pair.split(":") for pair in stripped.split(","))}
                )  # fmt: skip
            except ValueError:
                pass
        for value in candidates:
            if any(c.is_satisfied_by(value) for c in constraints):
                return value
        wanted = " or ".join(_described(c) for c in constraints if str(c) != "None")
        raise argparse.ArgumentTypeError(f"must be {wanted}; got {text!r}")

    convert.__name__ = name
    return convert


def _described(constraint):
    """scikit-learn's description of ``constraint``, with a string option's
    names in sorted order (in a set's order they change from run to run)."""
    if isinstance(constraint, StrOptions):
        names = ", ".join(repr(o) for o in sorted(constraint.options))
        return f"a str among {{{names}}}"
    return str(constraint)


def _convert_for(name, constraints):
    if name == "hidden_layer_sizes":  # always a tuple of positive sizes
        return _hidden_sizes
    return _converter(name, constraints[name])


def _or_number(convert):
    """``convert``, or a positive number (see :func:`deprecated_flags`)."""

    def either(text):
        try:
            value = float(text)
        except ValueError:
            return convert(text)
        if value > 0:
            return value
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")

    either.__name__ = convert.__name__
    return either


def _add_parameter_options(parser):
    """:data:`PARAMETER_OPTIONS` as arguments of ``parser``, and the
    deprecated flags of the previous release."""
    from ..estimator import MLPScratchClassifier
    from ..regressor import MLPScratchRegressor

    classifier = MLPScratchClassifier().get_params()
    regressor = MLPScratchRegressor().get_params()
    constraints = _constraints()

    def shown(value):
        return ",".join(map(str, value)) if isinstance(value, tuple) else value

    for name, text in PARAMETER_OPTIONS:
        # the names a string-only parameter takes; true/false where it is
        # also a boolean
        kinds = constraints[name]
        names = {o for c in kinds if isinstance(c, StrOptions) for o in c.options}
        if any(str(c).startswith("an instance of 'bool'") for c in kinds):
            names |= {"true", "false"}
        plain = all(
            isinstance(c, StrOptions)
            or str(c) == "None"
            or str(c).startswith("an instance of 'bool'")
            for c in kinds
        )
        choices = sorted(names) if plain and names else None
        own = [classifier, regressor]
        defaults = [shown(d[name]) for d in own if name in d]
        default = f"default: {defaults[0]}"
        if len(defaults) == 2 and defaults[1] != defaults[0]:
            default += f"; a regressor's: {defaults[1]}"
        convert = _convert_for(name, constraints)
        if name == "learning_rate":  # the previous release's --learning-rate 0.01
            convert = _or_number(convert)
        parser.add_argument(
            flag(name),
            dest=name,
            type=convert,
            # names only: argparse lists them (and checks them again)
            choices=choices
            if name != "learning_rate"  # (it also takes the old numbers)
            and all(isinstance(c, StrOptions) for c in kinds)
            else None,
            # a bare --early-stopping means true, as in the previous release
            **({"nargs": "?", "const": True} if name == "early_stopping" else {}),
            metavar="{" + ",".join(choices) + "}" if choices else name.upper(),
            default=argparse.SUPPRESS,
            help=f"{text} ({default})",
        )
    for old in DEPRECATED:
        parser.add_argument(
            old, dest=f"deprecated{old}", default=argparse.SUPPRESS,
            help=argparse.SUPPRESS,
        )  # fmt: skip


def deprecated_flags(args):
    """The values given with the previous release's flag names, as the
    parameters they now set, each with a deprecation note on stderr;
    ``--learning-rate`` with a number still sets ``learning_rate_init``."""
    params = {}
    constraints = _constraints()
    notes = []
    for old, name in DEPRECATED.items():
        text = getattr(args, f"deprecated{old}", None)
        if text is not None:
            params[name] = _convert_for(name, constraints)(text)
            notes.append((old, flag(name)))
    rate = getattr(args, "learning_rate", None)
    if isinstance(rate, int | float) and not isinstance(rate, bool):
        params["learning_rate_init"] = rate  # the old --learning-rate 0.01
        del args.learning_rate
        notes.append(("--learning-rate NUMBER", "--learning-rate-init NUMBER"))
    for old, new in notes:
        print(
            f"note: {old} is deprecated and will be removed in the next release; "
            f"use {new}",
            file=sys.stderr,
        )
    return params


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
    train.add_argument(
        "--warm-start",
        metavar="MODEL",
        help="continue training the estimator in the model file MODEL "
        "(warm_start=True: its weights, optimizer state and the parameters "
        "given here)",
    )
    train.add_argument(  # the previous release's switch (--early-stopping false)
        "--no-early-stopping",
        dest="early_stopping",
        action="store_const",
        const=False,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
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


def _add_export(commands):
    """The ``export`` subcommand."""
    export = commands.add_parser(
        "export",
        help="export a model to ONNX",
        description="Convert MODEL (a model file, or a pipeline file ending in "
        "an estimator) to an ONNX file that ONNX Runtime and other runtimes "
        "serve without this package (needs the onnx extra).",
    )
    export.add_argument("model", metavar="MODEL", help="a model or pipeline file")
    export.add_argument("output", metavar="OUTPUT", help="the .onnx file to write")
    export.add_argument(
        "--opset",
        type=int,
        help="the ONNX opset to target (default: the newest skl2onnx has tested)",
    )
    export.add_argument(
        "--zipmap",
        action="store_true",
        help="a classifier's probabilities as a list of dicts (skl2onnx's ZipMap) "
        "instead of a tensor",
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
    for add in (_add_train, _add_evaluate, _add_predict, _add_info, _add_export):
        add(commands)
    return parser
