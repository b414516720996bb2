"""The documentation's code: ``>>>`` examples in docs/*.rst run as doctests
(pytest's --doctest-glob); the ``.. code-block:: python`` snippets, which need
MNIST, a cluster or files, must at least be valid Python."""

import re

import pytest

from .conftest import ROOT

PAGES = sorted((ROOT / "docs").rglob("*.rst"))
SNIPPETS = [
    pytest.param(re.sub(r"(?m)^   ", "", code), id=f"{path.name}:{i}")
    for path in PAGES
    for i, code in enumerate(
        re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", path.read_text())
    )
]


@pytest.mark.parametrize("code", SNIPPETS)
def test_code_blocks_are_valid_python(code):
    compile(code, "<docs>", "exec")


def test_the_pages_asked_for_are_in_the_table_of_contents():
    index = (ROOT / "docs" / "index.rst").read_text()
    for page in (
        "getting_started",
        "user_guide/index",
        "auto_examples/index",
        "command_line",
        "model_files",
        "performance",
        "scaling_out",
        "api",
    ):
        assert f"\n   {page}\n" in index
        if not page.startswith("auto_examples"):
            assert (ROOT / "docs" / f"{page}.rst").is_file()
    assert len(SNIPPETS) >= 4


def test_the_user_guide_documents_every_parameter():
    from sknumpy_mlp import MLPScratchClassifier, MLPScratchRegressor

    guide = (ROOT / "docs" / "user_guide" / "estimator.rst").read_text()
    for name in MLPScratchClassifier().get_params():
        assert f"``{name}``" in guide, name
    shared = set(MLPScratchClassifier().get_params())
    regressor = (ROOT / "docs" / "user_guide" / "regressor.rst").read_text()
    for name in set(MLPScratchRegressor().get_params()) - shared:
        assert f"``{name}``" in regressor, name
