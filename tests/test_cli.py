"""The sknumpy-mlp command line, run as a subprocess as a user would (the
many refused arguments and files: in this process, see run_here)."""

import contextlib
import csv
import io
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sknumpy_mlp import MLPScratchClassifier
from sknumpy_mlp.cli import main

from .conftest import MNIST_DIR, assert_agree_to_rounding, assert_same_labels


def run(*args, check=True):
    env = {**os.environ, "SKNUMPY_MLP_MNIST": str(MNIST_DIR), "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "sknumpy_mlp.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def run_here(*args):
    """:func:`run` without the subprocess: ``main`` in this process, its
    exit status and its output as the subprocess would give them (warnings
    included, in stderr). For the commands refused before any work, where
    the interpreter's start-up would be most of the test (1.4 s each)."""
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        try:
            status = main([str(a) for a in args])
        except SystemExit as exc:  # argparse's errors
            status = exc.code
    for w in caught:
        err.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno))
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


def one_line_error(result, status, *fragments):
    assert result.returncode == status
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def digits_csv(tmp_path_factory):
    X, y = load_digits(return_X_y=True)
    path = tmp_path_factory.mktemp("cli") / "digits.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"pixel{i}" for i in range(64)] + ["label"])
        for row, label in zip(X / 16, y, strict=True):
            writer.writerow([*row, label])
    return path, X / 16, y


@pytest.fixture(scope="module")
def digits_model(digits_csv, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "digits.npz"
    result = run(
        "train", "--data", digits_csv[0], "--hidden-layer-sizes", "32",
        "--max-iter", "60", "--random-state", "0", "--output", path,
    )  # fmt: skip
    return path, result


def test_train_on_csv_shows_progress_and_saves_a_loadable_model(
    digits_model, digits_csv
):
    path, result = digits_model
    epochs = [line for line in result.stderr.splitlines() if line.startswith("epoch")]
    assert epochs[0].startswith("epoch  1/60 [") and " loss " in epochs[0]
    model = MLPScratchClassifier.load(path)
    assert model.hidden_layer_sizes == (32,) and model.verbose is False
    assert len(epochs) == model.n_iter_
    _, X, y = digits_csv
    assert model.score(X, y) > 0.95
    assert f"saved {path}" in result.stdout


def test_evaluate_prints_accuracy_report_and_confusion_matrix(
    digits_model, digits_csv, tmp_path
):
    png = tmp_path / "cm.png"
    result = run(
        "evaluate", digits_model[0], "--data", digits_csv[0], "--confusion-matrix", png
    )
    model = MLPScratchClassifier.load(digits_model[0])
    _, X, y = digits_csv
    first = result.stdout.splitlines()[0]
    assert first == f"Accuracy: {100 * model.score(X, y):.2f}"
    assert "precision" in result.stdout and "macro avg" in result.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_writes_labels_and_probabilities_as_csv(
    digits_model, digits_csv, tmp_path
):
    model = MLPScratchClassifier.load(digits_model[0])
    _, X, _ = digits_csv
    lines = run("predict", digits_model[0], digits_csv[0]).stdout.splitlines()
    assert lines[0] == "prediction"
    np.testing.assert_array_equal(np.array(lines[1:], dtype=int), model.predict(X))
    out = tmp_path / "proba.csv"
    run("predict", digits_model[0], digits_csv[0], "--proba", "--output", out)
    with out.open() as f:
        header, *rows = list(csv.reader(f))
    assert header == [str(c) for c in model.classes_]
    # written by another process: equal to rounding (see ROUNDING)
    assert_agree_to_rounding(
        np.array(rows, dtype=float), model.predict_proba(X), model.coefs_[0].dtype
    )


def test_info_describes_and_verifies_the_file(digits_model):
    lines = run("info", digits_model[0]).stdout
    assert "architecture:   64 -> 32 (relu) -> 10 (softmax)" in lines
    assert "parameters:     2,410" in lines  # 65 * 32 + 33 * 10
    assert "format version: 2" in lines
    assert "integrity:      OK, SHA-256 of all" in lines
    assert "classes:        10: 0 1 2 3 4 5 6 7 8 9" in lines


def test_train_and_evaluate_on_npz_and_mnist(tmp_path):
    X, y = load_digits(return_X_y=True)
    data = tmp_path / "data.npz"
    np.savez(data, X=X / 16, y=y)
    model = tmp_path / "m.npz"
    run("train", "--data", data, "--solver", "lbfgs", "--max-iter", "50", "-q",
        "--random-state", "1", "-o", model)  # fmt: skip
    assert MLPScratchClassifier.load(model).solver == "lbfgs"
    result = run(
        "train", "--max-samples", "3000", "--max-iter", "3", "--random-state", "0",
        "-o", model,
    )  # fmt: skip
    assert "note: " in result.stderr and "raise --max-iter" in result.stderr
    accuracy = float(run("evaluate", model).stdout.splitlines()[0].split()[1])
    assert 80 < accuracy < 100  # 3000 images, 3 epochs, on the 10 000 test digits


def test_train_with_the_record_options(digits_csv, tmp_path):
    model = tmp_path / "m.npz"
    run("train", "--data", digits_csv[0], "--augment", "--dropout", "0.1",
        "--max-norm", "3,none", "--hidden-layer-sizes", "16", "--learning-rate",
        "cosine", "--max-iter", "5", "-q", "--random-state", "0",
        "-o", model)  # fmt: skip
    params = MLPScratchClassifier.load(model).get_params(deep=False)
    assert params["augment"].image_shape == (8, 8)
    assert params["augment"].elastic_alpha == 1.5
    assert (params["dropout"], params["max_norm"]) == (0.1, (3, None))
    assert params["learning_rate"] == "cosine"


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "info"])
def test_help_documents_every_option(command):
    text = run(command, "--help").stdout
    options = {
        "train": ["--data", "--hidden-layer-sizes", "--solver", "--max-iter",
                  "--batch-size", "--learning-rate", "--learning-rate-init",
                  "--alpha", "--early-stopping", "--output", "--label-column",
                  "--mnist-dir", "--random-state", "--quiet", "--dropout",
                  "--max-norm", "--augment", "--tol", "--n-iter-no-change",
                  "--class-weight", "--warm-start", "--header"],
        "evaluate": ["MODEL", "--data", "--confusion-matrix"],
        "predict": ["MODEL", "INPUT", "--proba", "--output"],
        "info": ["MODEL"],
    }[command]  # fmt: skip
    for option in options:
        assert option in text


@pytest.mark.parametrize(
    "args, status, fragments",
    [
        (["train", "--solver", "newton"], 2, ["--solver", "got 'newton'"]),
        (["train", "--hidden-layer-sizes", "64,0"], 2, ["positive integers"]),
        (["train", "--learning-rate-init", "-1"], 2, ["--learning-rate-init", "-1"]),
        (["train", "--dropout", "1"], 2, ["--dropout", "[0.0, 1.0)"]),
        (["train", "--data", "odd.npz", "--augment"], 1, ["square images"]),
        (["train", "--data", "missing.csv"], 1, ["no such file: missing.csv"]),
        (["train", "--data", "notes.txt"], 1, ["expected 'mnist', an .npz"]),
        (["evaluate"], 2, ["the following arguments are required: MODEL"]),
        (["evaluate", "missing.npz"], 1, ["no such model file"]),
        (["info", "notes.txt"], 1, ["not a valid sknumpy-mlp model file"]),
        (["frobnicate"], 2, ["invalid choice: 'frobnicate'"]),
        (["train", "--max-iter", "abc"], 2, ["--max-iter", "got 'abc'"]),
        (["train", "--random-state", "x"], 2, ["--random-state", "got 'x'"]),
        (["train", "-o", "no/such/dir/m.npz"], 1, ["folder", "does not exist"]),
        (["train", "--data", "cut.npz"], 1, ["cannot read cut.npz as an .npz"]),
        (["train", "--data", "single.npz"], 1, ["single array (.npy)"]),
        (["train", "--data", "text.npz"], 1, ["not an .npz archive"]),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_line(
    args, status, fragments, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hello\n")
    np.savez(tmp_path / "odd.npz", X=np.zeros((4, 10)), y=[0, 1, 0, 1])
    whole = (tmp_path / "odd.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(whole[: len(whole) // 2])
    with open(tmp_path / "single.npz", "wb") as f:
        np.save(f, np.zeros((4, 10)))  # an .npy renamed
    (tmp_path / "text.npz").write_text("X,y\n1,2\n")
    message = one_line_error(run_here(*args), status, *fragments)
    assert "allow_pickle" not in message and "Traceback" not in message


def test_errors_in_this_process_are_as_in_a_subprocess(tmp_path, monkeypatch):
    # run_here stands for run in the cases above: the same status and line,
    # a string option's names in sorted order (a set's order changes from
    # one process to the next)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hello\n")
    for args in (["info", "notes.txt"], ["train", "--solver", "newton"]):
        here, there = run_here(*args), run(*args, check=False)
        assert (here.returncode, here.stderr) == (there.returncode, there.stderr)
    assert "among {'adam', 'adamw', 'lbfgs', 'rmsprop', 'sgd'}; got" in here.stderr


def test_a_csv_without_header_loses_no_row(tmp_path, digits_model, digits_csv):
    _, X, _ = digits_csv
    plain = tmp_path / "plain.csv"
    np.savetxt(plain, X[:10], delimiter=",")
    result = run("predict", digits_model[0], plain)
    assert len(result.stdout.strip().splitlines()) == 11  # header + 10 rows
    assert "no header row" in result.stderr
    # a header of numbers, read as names when asked
    numbered = tmp_path / "numbered.csv"
    numbered.write_text(",".join(map(str, range(64))) + "\n" + plain.read_text())
    result = run("predict", digits_model[0], numbered, "--header", "yes")
    assert len(result.stdout.strip().splitlines()) == 11
    # training needs the labels' column, which a header names
    one_line_error(run_here("train", "--data", plain), 1, "no header row", "'label'")


def test_a_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    path = tmp_path / "bom.csv"
    rows = "".join(f"{i % 3},{i / 7:.3f},{i % 2}\n" for i in range(40))
    path.write_bytes("\ufefflabel,a,b\n".encode() + rows.encode())
    result = run(
        "train", "--data", path, "--max-iter", "2", "-q", "-o", tmp_path / "m.npz"
    )
    assert result.stderr == ""


@pytest.mark.parametrize("cell", ["", "nan", "NA"])
def test_a_missing_label_is_an_error_not_a_class(tmp_path, cell):
    path = tmp_path / "labels.csv"
    path.write_text(f"a,label\n1,0\n2,1\n3,{cell}\n4,1\n")
    one_line_error(run_here("train", "--data", path), 1, "line 4", "every row needs")


def test_predict_writes_nothing_when_it_fails(tmp_path, digits_model):
    path = tmp_path / "nan.csv"
    path.write_text(
        ",".join(f"pixel{i}" for i in range(64)) + "\n" + "0," * 63 + "nan\n"
    )
    result = run_here("predict", digits_model[0], path)
    assert result.stdout == ""
    one_line_error(result, 1, "line 2", "'pixel63'", "not a finite number")
    out = tmp_path / "missing" / "out.csv"
    one_line_error(
        run_here("predict", digits_model[0], path, "-o", out),
        1,
        "does not exist",
    )


def test_bad_csv_files_are_reported_with_line_and_column(tmp_path, digits_model):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,0\n3,x,1\n")
    one_line_error(run_here("train", "--data", bad), 1, "line 3, column 'b'", "'x'")
    bad.write_text("a,b\n1,2\n")
    one_line_error(run_here("train", "--data", bad), 1, "no label column 'label'")
    bad.write_text("a,b,label\n1,2\n")
    one_line_error(run_here("train", "--data", bad), 1, "line 2: 2 values")
    features = tmp_path / "features.csv"
    features.write_text("a,b\n1,2\n")
    one_line_error(
        run_here("predict", digits_model[0], features),
        1,
        "X has 2 features, but MLPScratchClassifier is expecting 64 features",
    )


@pytest.fixture(scope="module")
def friedman_csv(tmp_path_factory):
    from sklearn.datasets import make_friedman1

    X, y = make_friedman1(n_samples=400, noise=0.2, random_state=0)
    path = tmp_path_factory.mktemp("cli") / "friedman.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"x{i}" for i in range(10)] + ["target"])
        writer.writerows([[*row, value] for row, value in zip(X, y, strict=True)])
    return path, X, y


def test_real_valued_labels_train_a_regressor_and_say_so(friedman_csv, tmp_path):
    from sknumpy_mlp import MLPScratchRegressor

    path, X, y = friedman_csv
    model = tmp_path / "reg.npz"
    trained = run(
        "train", "--data", path, "--label-column", "target", "--max-iter", "80",
        "--learning-rate-init", "0.01", "--loss", "huber", "--random-state", "0",
        "--output", model,
    )  # fmt: skip
    assert "the labels are real numbers: regression" in trained.stderr
    assert "training R2" in trained.stdout
    reg = MLPScratchRegressor.load(model)
    assert reg.loss == "huber"
    report = run("evaluate", model, "--data", path, "--label-column", "target")
    lines = report.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["R2", "MAE", "RMSE"]
    assert float(lines[0].split()[1]) == pytest.approx(reg.score(X, y), abs=1e-4)
    out = tmp_path / "predictions.csv"
    run("predict", model, path, "--label-column", "target", "--output", out)
    with out.open() as f:
        header, *rows = list(csv.reader(f))
    assert header == ["prediction"]
    assert_agree_to_rounding(
        np.array(rows, dtype=float)[:, 0], reg.predict(X), reg.coefs_[0].dtype
    )
    refused = run_here("predict", model, path, "--proba")
    one_line_error(refused, 1, "--proba is for classifiers")
    info = run("info", model).stdout
    assert "class:          MLPScratchRegressor" in info and "loss:" in info
    # integer labels can still be regressed on, when asked
    forced = run_here(
        "train", "--data", path, "--label-column", "target", "--task",
        "classification", "--loss", "huber", "--output", tmp_path / "c.npz",
    )  # fmt: skip
    # a regressor's loss for a classifier: scikit-learn's message names both
    one_line_error(forced, 1, "'loss' parameter of MLPScratchClassifier", "'huber'")


def test_train_options_derive_from_the_estimators():
    # one table of (parameter, help): every parameter of both estimators is
    # reachable as --<name-with-dashes>, values are checked by the
    # estimator's own constraints, and an option not given leaves the
    # estimator's own default
    from sknumpy_mlp import MLPScratchRegressor
    from sknumpy_mlp.cli import PARAMETER_OPTIONS, _parser
    from sknumpy_mlp.cli._options import OWN_WAYS

    every = set(MLPScratchClassifier().get_params()) | set(
        MLPScratchRegressor().get_params()
    )
    assert {name for name, _ in PARAMETER_OPTIONS} == every - OWN_WAYS
    args = _parser().parse_args(
        ["train", "--activation", "sigmoid", "--max-iter", "3", "--n-iter-no-change",
         "inf", "--class-weight", "0:1,1:2.5", "--shuffle", "false",
         "--early-stopping", "--max-grad-norm", "none", "--batch-size", "auto"]
    )  # fmt: skip
    assert args.activation == "sigmoid" and args.max_iter == 3
    assert args.n_iter_no_change == float("inf")
    assert args.class_weight == {0: 1.0, 1: 2.5} and args.shuffle is False
    assert args.early_stopping is True and args.max_grad_norm is None
    assert args.batch_size == "auto"
    assert not hasattr(args, "hidden_layer_sizes")  # the estimator decides


def test_the_previous_flags_work_for_one_release(tmp_path):
    X, y = load_digits(return_X_y=True)
    data = tmp_path / "d.npz"
    np.savez(data, X=X / 16, y=y)
    model = tmp_path / "m.npz"
    result = run(
        "train", "--data", data, "--hidden", "16", "--epochs", "3",
        "--learning-rate", "0.02", "--schedule", "adaptive",
        "--no-early-stopping", "-o", model,
    )  # fmt: skip
    for old, new in [("--hidden", "--hidden-layer-sizes"), ("--epochs", "--max-iter"),
                     ("--schedule", "--learning-rate"),
                     ("--learning-rate NUMBER", "--learning-rate-init")]:  # fmt: skip
        assert f"note: {old} is deprecated" in result.stderr and new in result.stderr
    params = MLPScratchClassifier.load(model).get_params()
    assert params["hidden_layer_sizes"] == (16,) and params["max_iter"] == 3
    assert params["learning_rate_init"] == 0.02
    assert params["learning_rate"] == "adaptive"
    assert params["early_stopping"] is False


def test_warm_start_continues_a_saved_model(tmp_path):
    X, y = load_digits(return_X_y=True)
    data = tmp_path / "d.npz"
    np.savez(data, X=X / 16, y=y)
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    run("train", "--data", data, "--max-iter", "3", "--random-state", "0",
        "--alpha", "0.01", "-q", "-o", first)  # fmt: skip
    run("train", "--data", data, "--warm-start", first, "--max-iter", "2", "-q",
        "-o", second)  # fmt: skip
    before, after = (MLPScratchClassifier.load(p) for p in (first, second))
    assert len(after.history_) == 5 and after.n_iter_ == 2
    assert after.alpha == 0.01  # the loaded model's parameters
    # the same as continuing in Python
    before.set_params(warm_start=True, max_iter=2)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before.fit(X / 16, y)
    # (another process: equal to rounding, not asserted to the bit)
    np.testing.assert_allclose(
        before.coefs_[0], after.coefs_[0], rtol=1e-10, atol=1e-12
    )


def test_export_writes_an_onnx_file_that_predicts_like_the_model(
    digits_model, digits_csv, tmp_path
):
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    _, X, _ = digits_csv
    out = tmp_path / "digits.onnx"
    result = run("export", digits_model[0], out)
    assert (
        f"wrote {out}" in result.stdout
        and "outputs label, probabilities" in result.stdout
    )
    model = MLPScratchClassifier.load(digits_model[0])
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"X": X.astype(model.coefs_[0].dtype)})
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=1e-5)
    assert_same_labels(label, model.predict(X), model.predict_proba(X))
    # info names the opset the export writes
    assert "ONNX export:    ONNX opset " in run("info", digits_model[0]).stdout


def test_export_of_a_pipeline_file(digits_csv, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    pytest.importorskip("skops")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import sknumpy_mlp

    _, X, y = digits_csv
    pipe = make_pipeline(
        StandardScaler(), MLPScratchClassifier(max_iter=300, random_state=0)
    ).fit(X, y)
    sknumpy_mlp.save(pipe, tmp_path / "pipe.skops")
    run("export", tmp_path / "pipe.skops", tmp_path / "pipe.onnx", "--zipmap")
    session = ort.InferenceSession(
        str(tmp_path / "pipe.onnx"), providers=["CPUExecutionProvider"]
    )
    label, dicts = session.run(None, {"X": X.astype(np.float64)})
    assert_same_labels(label, pipe.predict(X), pipe.predict_proba(X))
    assert len(dicts) == len(X) and set(dicts[0]) == set(range(10))


def test_export_without_a_folder_is_refused(digits_model, tmp_path):
    pytest.importorskip("skl2onnx", reason="the onnx extra is not installed")
    result = run_here("export", digits_model[0], tmp_path / "no" / "m.onnx")
    one_line_error(result, 1, "does not exist")
