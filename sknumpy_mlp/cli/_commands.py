"""The command line's commands: train, evaluate, predict and info."""

import contextlib
import csv
import os
import sys
import time
import warnings

import numpy as np
from sklearn.base import is_regressor

from .._base import BaseMLP
from ._data import _Error, _load_data, _load_model, _task
from ._options import PARAMETER_OPTIONS, deprecated_flags


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


def _writable(path):
    """Refuse an output path whose folder is missing or read-only, before any
    work is done (a model trained for an hour must not be lost at the end)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise _Error(f"cannot write {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise _Error(f"cannot write {path}: the folder {folder} is not writable")
    if os.path.isdir(path):
        raise _Error(f"cannot write {path}: it is a folder")


#: Parameters only one of the estimators has.
_ONLY = {"class_weight": "classification", "focal_gamma": "classification",
         "label_smoothing": "classification", "huber_delta": "regression"}  # fmt: skip


def _train(args):
    _writable(args.output)
    previous = _load_model(args.warm_start) if args.warm_start else None
    X, y, _ = _load_data(args.data, args, split="train")
    if args.max_samples is not None:
        X, y = X[: args.max_samples], y[: args.max_samples]
    # the estimator parameters given on the command line; the others keep the
    # estimator's own defaults (or, with --warm-start, the loaded model's)
    renamed = deprecated_flags(args)  # (it takes --learning-rate NUMBER)
    params = {
        name: getattr(args, name)
        for name, _ in PARAMETER_OPTIONS
        if hasattr(args, name)
    }
    params.update(renamed)
    if args.augment:
        params["augment"] = _augmenter(args.augment, X.shape[1])
    if previous is not None:
        if not isinstance(previous, BaseMLP):
            raise _Error("--warm-start needs a model file, not a pipeline")
        task = "regression" if is_regressor(previous) else "classification"
    else:
        task = _task(args, y)
    for name, only in _ONLY.items():
        if name in params and only != task:
            raise _Error(f"--{name.replace('_', '-')} is for {only} (--task {only})")
    if task == "regression":
        from ..regressor import MLPScratchRegressor as Estimator

        y = np.asarray(y, dtype=np.float64)
    else:
        from ..estimator import MLPScratchClassifier as Estimator
    score = "R2" if task == "regression" else "accuracy"
    if previous is not None:
        params = {**previous.get_params(), **params, "warm_start": True}
        params.pop("verbose")  # the progress line's
    max_iter = params.get("max_iter", Estimator().max_iter)
    progress = None if args.quiet else _Progress(max_iter, score=score)
    try:
        clf = _estimator_with_progress(Estimator, progress, **params)
    except TypeError as exc:
        raise _Error(str(exc)) from exc
    if previous is not None:  # its fitted state, which the fit continues
        vars(clf).update(
            {k: v for k, v in vars(previous).items() if k.endswith("_") or
             k.startswith("_")}
        )  # fmt: skip
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
                f"note: {w.message} (raise --max-iter to train longer)",
                file=sys.stderr,
            )


def _augmenter(enabled, n_features):
    """The record recipe's distortions, for square images of ``n_features``."""
    if not enabled:
        return None
    from ..engine.augmentation import ImageAugmenter

    side = int(round(n_features**0.5))
    if side * side != n_features:
        raise _Error(f"--augment needs square images; {n_features} features are not")
    return ImageAugmenter(
        (side, side), max_shift=2, max_rotation=12, max_scale=0.1, elastic_alpha=1.5
    )


def _evaluate(args):
    from sklearn.metrics import classification_report

    if args.confusion_matrix:  # the extra it needs, before any work
        import importlib.util

        if importlib.util.find_spec("matplotlib") is None:
            raise _Error(
                "--confusion-matrix needs matplotlib: pip install 'sknumpy-mlp[plot]'"
            )
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
    if args.output:
        _writable(args.output)
    model = _load_model(args.model)
    X, _, _ = _load_data(args.input, args, split="test", need_labels=False)
    if args.proba and is_regressor(model):
        raise _Error("--proba is for classifiers; the model is a regressor")
    # every prediction is made before anything is written: an error leaves
    # no half-written output (not even a header)
    if args.proba:
        proba = _predict_checked(model, X, "predict_proba")
        header = [str(c) for c in model.classes_]
        rows = [[repr(float(p)) for p in row] for row in proba]
    else:
        predictions = _predict_checked(model, X, "predict")
        value = (lambda v: repr(float(v))) if is_regressor(model) else str
        if predictions.ndim == 2:  # several outputs, or labels
            header = [f"prediction_{k}" for k in range(predictions.shape[1])]
            rows = [[value(v) for v in row] for row in predictions]
        else:
            header = ["prediction"]
            rows = [[value(p)] for p in predictions]
    try:
        out = open(args.output, "w", newline="") if args.output else sys.stdout
    except OSError as exc:
        raise _Error(f"cannot write {args.output}: {exc.strerror}") from exc
    try:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def _info(args):
    from .. import _ESTIMATORS
    from ..persistence import describe

    if not os.path.isfile(args.model):
        raise _Error(f"no such model file: {args.model}")
    from ..pipelines import is_pipeline_file

    if is_pipeline_file(args.model):
        return _pipeline_info(args.model)
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
    lines.append(("ONNX export", _onnx_opset(model)))
    _print_fields(lines)
    return 0


def _print_fields(lines):
    """``(name, value)`` pairs as aligned ``name: value`` lines."""
    width = max(len(key) for key, _ in lines)
    for key, value in lines:
        print(f"{key + ':':<{width + 1}} {value}")


def _pipeline_info(path):
    """``info`` for a pipeline file: its steps, then its estimator's summary."""
    model = _load_model(path)
    estimator = model.steps[-1][1]
    lines = [
        ("file", f"{path} ({os.path.getsize(path):,} bytes)"),
        ("class", "Pipeline (a skops file)"),
        (
            "steps",
            " -> ".join(
                f"{name} ({type(step).__name__})" for name, step in model.steps
            ),
        ),  # fmt: skip
        ("features in", str(model.n_features_in_)),
        ("estimator", type(estimator).__name__),
        (
            "architecture",
            " -> ".join(
                [str(estimator.coefs_[0].shape[0])]
                + [str(c.shape[1]) for c in estimator.coefs_]
            ),
        ),  # fmt: skip
        (
            "training",
            f"{len(estimator.history_)} epochs, final loss {estimator.loss_:.6f}",
        ),  # fmt: skip
        ("ONNX export", _onnx_opset(model)),
    ]
    _print_fields(lines)
    return 0


def _export(args):
    model = _load_model(args.model)
    try:
        from ..onnx import to_onnx
    except ImportError as exc:
        raise _Error(str(exc)) from exc
    estimator = model.steps[-1][1] if hasattr(model, "steps") else model
    options = None
    if hasattr(estimator, "classes_"):
        options = {"zipmap": bool(args.zipmap)}
        if hasattr(model, "steps"):
            options = {id(estimator): options}
    _writable(args.output)
    try:
        onx = to_onnx(model, args.output, target_opset=args.opset, options=options)
    except (NotImplementedError, RuntimeError, ValueError) as exc:
        raise _Error(f"cannot export {args.model}: {exc}") from exc
    opset = {o.domain: o.version for o in onx.opset_import}.get("", "?")
    outputs = ", ".join(o.name for o in onx.graph.output)
    print(
        f"wrote {args.output} ({os.path.getsize(args.output):,} bytes): ONNX opset "
        f"{opset}, input X ({model.n_features_in_} features), outputs {outputs}"
    )
    return 0


def _onnx_opset(model):
    """The opset ``export`` would write ``model`` with (converted in memory),
    or why it cannot."""
    try:
        from ..onnx import to_onnx
    except ImportError:
        return "not available (pip install 'sknumpy-mlp[onnx]')"
    try:
        onx = to_onnx(model)
    except (NotImplementedError, RuntimeError, ValueError) as exc:
        return f"not possible: {exc}"
    opset = {o.domain: o.version for o in onx.opset_import}.get("", "?")
    return f"ONNX opset {opset} (sknumpy-mlp export)"


#: What each subcommand runs.
COMMANDS = {
    "train": _train,
    "evaluate": _evaluate,
    "predict": _predict,
    "info": _info,
    "export": _export,
}
