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
        "gpu",
        "deploying",
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


def test_the_html_repr_links_each_estimator_to_its_api_page():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils import estimator_html_repr

    from sknumpy_mlp import MLPScratchClassifier, MLPScratchRegressor
    from sknumpy_mlp._base import DOCS_URL

    api = (ROOT / "docs" / "api.rst").read_text()
    for cls in (MLPScratchClassifier, MLPScratchRegressor):
        link = cls()._get_doc_link()
        assert link == f"{DOCS_URL}/api/sknumpy_mlp.{cls.__name__}.html"
        assert f"   {cls.__name__}\n" in api and ":toctree: api" in api
        html = estimator_html_repr(make_pipeline(StandardScaler(), cls()))
        assert link in html


def test_the_docs_render_offline_and_show_every_page_in_the_top_bar():
    conf = (ROOT / "docs" / "conf.py").read_text()
    assert '"sphinx-mathjax-offline"' in conf  # MathJax copied into the build
    index = (ROOT / "docs" / "index.rst").read_text()
    pages = re.findall(r"\n   (\S+)\n", index.split(":caption:")[1])
    limit = int(re.search(r'"header_links_before_dropdown": (\d+)', conf)[1])
    assert len(pages) <= limit  # no "More" menu hiding the API reference
    assert (ROOT / "docs" / "_static" / "tables.css").is_file()


def test_every_gallery_example_has_a_thumbnail():
    # the plot_* examples make theirs when the build runs them; the others
    # name a committed image
    for path in sorted((ROOT / "examples").glob("*.py")):
        if path.name.startswith("plot_"):
            continue
        match = re.search(
            r'# sphinx_gallery_thumbnail_path = "([^"]+)"', path.read_text()
        )
        assert match, path.name
        assert (ROOT / "docs" / match[1]).is_file(), match[1]
