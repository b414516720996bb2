"""Sphinx configuration for the sknumpy-mlp documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` (the README's
docs command); MNIST for the gallery comes from ``SKNUMPY_MLP_MNIST``.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")
# Sphinx reads this file from docs/ and the gallery runs each example from its
# own folder: a relative MNIST path (the README's ../shared/data/mnist) is
# taken from the repository root, where the README's commands run
if os.environ.get("SKNUMPY_MLP_MNIST"):
    os.environ["SKNUMPY_MLP_MNIST"] = str(ROOT / os.environ["SKNUMPY_MLP_MNIST"])

from sknumpy_mlp import __version__  # noqa: E402

project = "sknumpy-mlp"
author = "the sknumpy-mlp developers"
copyright = "2026, the sknumpy-mlp developers"
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax from the build itself, not a CDN: formulas render offline
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = [
    "_build",
    "conftest.py",
    "auto_examples/*.ipynb",
    "make_thumbnails.py",
]
templates_path = []
autosummary_generate = True
autodoc_default_options = {
    "members": True,
    # scikit-learn's generated metadata-routing setters cite its own docs
    "exclude-members": "set_fit_request,set_partial_fit_request,"
    "set_score_request,set_predict_request",
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

# offline builds: no inventories are fetched; references to other projects are
# written as plain text
intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # run only the plot_* examples while building; the others (long MNIST
    # jobs, command-line scripts) are shown with their source
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "show_memory": False,
    "default_thumb_file": None,
}

html_theme = "pydata_sphinx_theme"
html_title = f"sknumpy-mlp {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    # every top-level page in the top bar, the API reference included
    "header_links_before_dropdown": 10,
}
html_static_path = ["_static"]
html_css_files = ["tables.css"]
html_show_sourcelink = False


def _plain_foreign_refs(app, what, name, obj, options, lines):
    """Docstrings inherited from scikit-learn cite labels of its own site
    (``:ref:`accuracy <accuracy_score>```); keep their text, drop the link."""
    import re

    if not name.startswith("sknumpy_mlp"):
        return
    pattern = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<[^`>]*>)?`")
    lines[:] = [pattern.sub(lambda m: m.group(1), line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _plain_foreign_refs)
