"""The README, as a user reads it: short, and every Python block runs as
written (in a fresh folder, with MNIST from the shared files)."""

import contextlib
import io
import re
import warnings
from pathlib import Path

import pytest

from .conftest import MNIST_DIR, ROOT

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_the_readme_is_short_and_has_the_two_commands():
    assert len(README.splitlines()) <= 150
    assert (
        'pip install -q -e ".[test]" && SKNUMPY_MLP_MNIST=../shared/data/mnist '
        "python -m pytest" in README
    )
    assert "python examples/mnist_gridsearch.py" in README
    for extra in ("keras", "plot", "dask", "progress", "pipelines", "docs", "test"):
        assert f"`{extra}`" in README, extra
    # no project history, no internal paths, no measured table (the docs'
    # performance page has it)
    for internal in ("ORIGINAL_README", "../shared/ORIGINAL", "results_2026", "| ---"):
        assert internal not in README


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_every_python_block_runs_as_written(code, tmp_path, monkeypatch):
    # (resolved first: the folder may be given relative to the repository)
    monkeypatch.setenv("SKNUMPY_MLP_MNIST", str(Path(MNIST_DIR).resolve()))
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out):
        warnings.simplefilter("ignore")  # e.g. a ConvergenceWarning of a demo
        exec(compile(code, "<README>", "exec"), {"__name__": "__readme__"})
    # what a comment promises ("# about 0.97") is what it prints
    promised = re.findall(r"print\(.*\)\s*#.*?about (\d\.\d+)", code)
    printed = [float(v) for v in re.findall(r"^(\d\.\d+)", out.getvalue(), re.M)]
    for value, got in zip(promised, printed, strict=False):
        assert abs(got - float(value)) < 0.05, (value, got)


def test_there_are_blocks_for_each_quick_start():
    assert len(BLOCKS) >= 4
    assert any("load_digits" in b for b in BLOCKS)
    assert any("load_mnist" in b for b in BLOCKS)
    assert any("NeuralNetwork()" in b and "X, Y =" in b for b in BLOCKS)
