"""The original project's scripts, run as a user would (one epoch, to be quick)."""

import importlib.util
import re

from .conftest import MNIST_DIR, ROOT


def _example(name):
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "examples" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_then_evaluate_print_the_original_lines(tmp_path, capsys):
    model = tmp_path / "model.npz"
    _example("train_mnist").main(
        ["--data", str(MNIST_DIR), "--epochs", "2", "--output", str(model)]
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == [
        "Training images shape: (60000, 28, 28)",
        "Training labels shape: (60000,)",
        "Testing images shape: (10000, 28, 28)",
        "Testing labels shape: (10000,)",
    ]
    assert re.fullmatch(r"Average Cost for epoch 1: \d\.\d{3}", lines[4])
    assert re.fullmatch(r"Average Cost for epoch 2: \d\.\d{3}", lines[5])
    accuracy = _example("evaluate_mnist").main(
        ["--data", str(MNIST_DIR), "--model", str(model)]
    )
    output = capsys.readouterr().out.strip()
    assert re.fullmatch(r"Accuracy: \d\d\.\d\d", output)
    assert accuracy > 85  # two epochs of the original network (20 give 95.4)
