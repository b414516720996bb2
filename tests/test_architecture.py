"""The boundaries STYLE.md promises: a NumPy-only engine, lazy optional imports."""

import ast
import subprocess
import sys
from pathlib import Path

import sknumpy_mlp

PACKAGE = Path(sknumpy_mlp.__file__).parent


def _imports(nodes):
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


def test_engine_imports_numpy_only():
    """NumPy at module level; SciPy only lazily, for L-BFGS (STYLE.md)."""
    stdlib = set(sys.stdlib_module_names)
    for path in (PACKAGE / "engine").glob("*.py"):
        tree = ast.parse(path.read_text())
        top_level = set(_imports(tree.body)) - stdlib
        anywhere = set(_imports(ast.walk(tree))) - stdlib
        assert top_level <= {"numpy"}, (path.name, top_level)
        assert anywhere <= {"numpy", "scipy"}, (path.name, anywhere)


def test_no_optional_dependency_is_imported_with_the_package():
    # scikit-learn's own sklearn.callback imports rich when it is installed;
    # only what importing sknumpy_mlp adds on top of scikit-learn counts
    code = (
        "import sys, sklearn.base\n"
        "try:\n    import sklearn.callback\nexcept ImportError:\n    pass\n"
        "before = set(sys.modules)\n"
        "import sknumpy_mlp, sknumpy_mlp.engine\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new & {'tensorflow', 'keras', 'matplotlib', 'dask', 'rich',"
        " 'pandas', 'hypothesis'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_optional_dependencies_are_imported_lazily():
    optional = {"tensorflow", "keras", "matplotlib", "dask", "rich"}
    for path in PACKAGE.rglob("*.py"):
        top_level = set(_imports(ast.parse(path.read_text()).body))
        assert not top_level & optional, (path.name, top_level & optional)


def test_public_api():
    assert set(sknumpy_mlp.__all__) >= {
        "MLPScratchClassifier",
        "NeuralNetwork",
        "Layer",
        "load_mnist",
        "load",
        "__version__",
    }
    assert isinstance(sknumpy_mlp.__version__, str)
