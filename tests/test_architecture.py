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
    """NumPy at module level; lazily, SciPy for L-BFGS and the array-API
    compatibility layer, and (in backend.py only) the random generators of
    PyTorch and CuPy (STYLE.md)."""
    stdlib = set(sys.stdlib_module_names)
    for path in (PACKAGE / "engine").glob("*.py"):
        tree = ast.parse(path.read_text())
        top_level = set(_imports(tree.body)) - stdlib
        anywhere = set(_imports(ast.walk(tree))) - stdlib
        allowed = {"numpy", "scipy", "array_api_compat"}
        if path.name == "backend.py":
            allowed |= {"torch", "cupy"}
        assert top_level <= {"numpy"}, (path.name, top_level)
        assert anywhere <= allowed, (path.name, anywhere)


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


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_imports(path):
    """Modules of the package that ``path`` imports anywhere (lazily included)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = (
                    package.rsplit(".", node.level - 1)[0]
                    if node.level > 1
                    else package
                )
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module
            # "from . import x" names a module x when there is one
            targets = [
                f"{module}.{alias.name}"
                if (PACKAGE.parent / f"{module}.{alias.name}".replace(".", "/"))
                .with_suffix(".py")
                .is_file()
                else module
                for alias in node.names
            ]
        else:
            continue
        yield from (t for t in targets if t.split(".")[0] == PACKAGE.name)


def test_the_package_has_no_import_circle():
    # relative and lazy imports count: a circle through a function-level
    # import still ties two layers together
    graph = {
        _module_name(path): set(_package_imports(path)) - {_module_name(path)}
        for path in PACKAGE.rglob("*.py")
    }
    done, stack = set(), []

    def visit(module):
        if module in stack:
            cycle = stack[stack.index(module) :] + [module]
            raise AssertionError("import circle: " + " -> ".join(cycle))
        if module in done:
            return
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            visit(target)
        stack.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    assert graph["sknumpy_mlp.engine.network"] >= {"sknumpy_mlp.engine.model_file"}
    engine = {m for m in graph if m.startswith("sknumpy_mlp.engine")}
    for module in engine:  # the engine imports nothing above it
        assert graph[module] <= engine, (module, graph[module] - engine)


def test_everything_about_an_optimizer_derives_from_its_registry_entry():
    # a new optimizer is one class (its HYPERPARAMETERS, STATE_ARRAYS and
    # DECAYS_WEIGHTS) plus one entry in OPTIMIZERS; the estimators'
    # constraints, their optimizer wiring, the CLI and the model files follow
    from sknumpy_mlp import MLPScratchClassifier, MLPScratchRegressor, persistence
    from sknumpy_mlp._base import SOLVERS
    from sknumpy_mlp._solvers import PARAMETER_OF
    from sknumpy_mlp.cli import _parser
    from sknumpy_mlp.engine.optimizers import OPTIMIZERS

    assert set(SOLVERS) == set(OPTIMIZERS) | {"lbfgs"}
    for Estimator in (MLPScratchClassifier, MLPScratchRegressor):
        (solvers,) = Estimator._parameter_constraints["solver"]
        assert solvers.options == set(SOLVERS)
        params = Estimator().get_params()
        for cls in OPTIMIZERS.values():
            for name in cls.HYPERPARAMETERS:
                assert PARAMETER_OF.get(name, name) in params, (cls, name)
    for cls in OPTIMIZERS.values():
        assert set(cls.STATE_ARRAYS) <= persistence._STATE_ARRAYS
    train = _parser()._subparsers._group_actions[0].choices["train"]
    (solver,) = [a for a in train._actions if a.dest == "solver"]
    assert set(solver.choices) == set(SOLVERS)
