"""The Python examples in docs/*.md run and their assertions hold."""

import re

import pytest

from .conftest import ROOT

DOCS = sorted((ROOT / "docs").glob("*.md"))
BLOCKS = [
    pytest.param(code, id=f"{path.name}:{i}")
    for path in DOCS
    for i, code in enumerate(
        re.findall(r"```python\n(.*?)```", path.read_text(), re.DOTALL)
    )
]


@pytest.mark.parametrize("code", BLOCKS)
def test_docs_example_runs(code):
    exec(compile(code, "<docs>", "exec"), {})


def test_there_are_examples_to_run():
    assert BLOCKS
