"""The original project's scripts, run as a user would (one epoch, to be quick)."""

import re

import pytest

from sknumpy_mlp import ImageAugmenter

from .conftest import MNIST_DIR, load_example


def test_train_then_evaluate_print_the_original_lines(tmp_path, capsys):
    model = tmp_path / "model.npz"
    load_example("train_mnist").main(
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
    accuracy = load_example("evaluate_mnist").main(
        ["--data", str(MNIST_DIR), "--model", str(model)]
    )
    output = capsys.readouterr().out.strip()
    assert re.fullmatch(r"Accuracy: \d\d\.\d\d", output)
    assert accuracy > 85  # two epochs of the original network (20 give 95.4)


def test_the_scripts_reject_bad_input_clearly(tmp_path, capsys):
    import pytest

    train, evaluate = load_example("train_mnist"), load_example("evaluate_mnist")
    grid = load_example("mnist_gridsearch")
    data = ["--data", str(MNIST_DIR)]
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        train.main([*data, "--epochs", "0", "--output", str(tmp_path / "m.npz")])
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        train.main([*data, "--learning-rate", "-1", "--output", str(tmp_path / "m")])
    with pytest.raises(SystemExit):
        train.main(["--epochs", "many"])
    assert "argument --epochs: invalid int value: 'many'" in capsys.readouterr().err
    for script in (train, evaluate, grid):
        with pytest.raises(FileNotFoundError, match="does not exist"):
            script.main(["--data", str(tmp_path / "nowhere")])
    not_a_model = tmp_path / "notes.npz"
    not_a_model.write_text("hello")
    with pytest.raises(ValueError, match="not a valid sknumpy-mlp model file"):
        evaluate.main([*data, "--model", str(not_a_model)])
    assert not list(tmp_path.glob("*.tmp"))


def test_record_recipe_runs_and_ends_with_the_test_accuracy(capsys):
    """One epoch of the record's recipe (the full run takes 10 to 25 minutes)."""
    accuracy = load_example("mnist_record").main(
        ["--data", str(MNIST_DIR), "--epochs", "1", "--views", "2", "--deskew"]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "training (1024, 1024) for 1 epochs, seed 0"
    assert lines[1].startswith("Iteration 1, loss = ")
    assert re.fullmatch(r"test accuracy: 0\.9\d{3}", lines[-1])
    assert lines[-1] == f"test accuracy: {accuracy:.4f}"
    assert accuracy > 0.95
    averaged = re.fullmatch(r"test accuracy over 2 distortions: (0\.9\d{3})", lines[-3])
    assert abs(float(averaged[1]) - accuracy) < 0.01  # the same model


def test_record_options_reach_the_estimator(monkeypatch):
    example = load_example("mnist_record")
    with pytest.raises(SystemExit):  # checked before any data is read
        example.main(["--epochs", "5", "--average-epochs", "6"])
    with pytest.raises(SystemExit):
        example.main(["--hidden-layers", "768", "0"])
    with pytest.raises(SystemExit):
        example.main(["--output-max-norm", "0"])
    with pytest.raises(SystemExit):
        example.main(["--epochs", "5", "--anneal-epochs", "6"])
    with pytest.raises(SystemExit):
        example.main(["--anneal-epochs", "5", "--final-strength", "1.5"])
    seen = {}

    def fake_recipe(epochs, seed, rotation=12.0, **changes):
        seen.update(changes, epochs=epochs)
        raise RuntimeError("stop before training")

    monkeypatch.setattr(example, "recipe", fake_recipe)
    monkeypatch.setattr(
        example, "load_mnist", lambda data: ((None, None), (None, None))
    )
    with pytest.raises(RuntimeError, match="stop before training"):
        example.main(
            ["--epochs", "5", "--schedule", "linear", "--average-epochs", "2",
             "--average-learning-rate", "0.0002", "--hidden-layers", "768", "512",
             "--output-max-norm", "1", "--anneal-epochs", "3",
             "--final-strength", "0.5"]
        )  # fmt: skip
    assert seen == {
        "hidden_layer_sizes": (768, 512),
        "max_norm": (2.0, 2.0, 1.0),
        "learning_rate": "linear",
        "average_epochs": 2,
        "average_learning_rate": 0.0002,
        "augment": ImageAugmenter(
            (28, 28), max_shift=2, max_rotation=12.0, max_scale=0.1,
            elastic_alpha=1.5, anneal_epochs=3, final_strength=0.5,
        ),
        "epochs": 5,
    }  # fmt: skip
