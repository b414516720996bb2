"""Saved model files mutated in thousands of ways: each one is refused with a
``ValueError``/``OSError`` naming the file, or loads a model that predicts
exactly as the original. Never another exception, never a different model.

The default run makes 3 000 mutants (seeded, well under 30 s); set
``SKNUMPY_MLP_FUZZ=50000`` for a longer one, which also bounds each load's
peak memory by a small multiple of the file's size.
"""

import collections
import io
import json
import os
import tracemalloc
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

import sknumpy_mlp
from sknumpy_mlp import MLPScratchClassifier, MLPScratchRegressor, NeuralNetwork
from sknumpy_mlp.engine import Layer

N_MUTANTS = int(os.environ.get("SKNUMPY_MLP_FUZZ", "3000"))
LONG = N_MUTANTS > 3000
#: Values put in place of a metadata field: every JSON type, and the edges.
#: No other valid name of a registry: a file whose metadata names another
#: activation is another model, not a damaged one (files are not signed).
HOSTILE = [
    None, True, False, 0, -1, 1, 2, 1.5, -0.0, 1e308, 2**64, -(2**70), "", "x",
    "Relu", "float16", "lbfgs ", [], [1], [[]], {}, {"a": 1}, {"__tuple__": 3},
    {"__float__": "nan"}, {"__dict__": [[1]]}, "a" * 5000,
]  # fmt: skip


def _models(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 4))
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    labels = np.array(["x", "y", "z"])[rng.integers(0, 3, 80)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = [
            MLPScratchClassifier(
                hidden_layer_sizes=(5,), max_iter=4, early_stopping=True,
                random_state=0,
            ).fit(frame, labels),
            MLPScratchRegressor(
                hidden_layer_sizes=(3, 2), solver="sgd", momentum=0.5, max_iter=3,
                random_state=0,
            ).fit(X, X[:, :2]),
            NeuralNetwork([Layer(4, 3, "tanh", random_state=0),
                           Layer(3, 2, "softmax", random_state=1)]),
        ]  # fmt: skip
    saved = []
    for i, model in enumerate(models):
        path = tmp_path / f"original_{i}.npz"
        model.save(path)
        data = frame if i == 0 else X
        saved.append((path.read_bytes(), _outputs(model, data), data))
    return saved


def _outputs(model, X):
    if isinstance(model, NeuralNetwork):
        return [model.predict(X.to_numpy() if hasattr(X, "to_numpy") else X)]
    outputs = [model.predict(X)]
    if hasattr(model, "predict_proba"):
        outputs.append(model.predict_proba(X))
    return outputs


def _members(raw):
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return [(info.filename, z.read(info)) for info in z.infolist()]


def _archive(members):
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of duplicate names
        with zipfile.ZipFile(buffer, "w") as z:
            for name, data in members:
                z.writestr(name, data)
    return buffer.getvalue()


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _leaves(value, path=()):
    """Every position in the metadata: (path to it, its value)."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value[:3]):
            yield from _leaves(item, (*path, i))


def _set(meta, path, value):
    target = meta
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


_DELETE = object()


def _with_metadata(raw, change):
    members = _members(raw)
    index = next(i for i, (n, _) in enumerate(members) if n == "metadata.npy")
    meta = json.loads(np.load(io.BytesIO(members[index][1])).tobytes())
    change(meta)
    text = json.dumps(meta).encode()
    members[index] = ("metadata.npy", _npy(np.frombuffer(text, dtype=np.uint8)))
    return _archive(members)


def _mutant(raw, rng):
    """One mutation of the file ``raw``: (kind, bytes)."""
    kind = rng.choice(
        ["flip", "truncate", "shadow", "duplicate", "drop", "field", "field",
         "field", "key"]
    )  # fmt: skip
    if kind == "flip":
        data = bytearray(raw)
        for _ in range(rng.integers(1, 4)):
            data[rng.integers(len(data))] ^= 1 << rng.integers(8)
        return kind, bytes(data)
    if kind == "truncate":
        return kind, raw[: rng.integers(len(raw))]
    members = _members(raw)
    name, data = members[rng.integers(len(members))]
    if kind == "shadow":
        payload = [data, _npy(np.zeros(3)), b"raw bytes", _npy(np.zeros((2**20,)))]
        extra = (name[:-4], payload[rng.integers(len(payload))])
        return kind, _archive([*members, extra])
    if kind == "duplicate":
        return kind, _archive([*members, (name, _npy(np.ones(2)))])
    if kind == "drop":
        return kind, _archive([m for m in members if m[0] != name])
    meta = json.loads(np.load(io.BytesIO(dict(members)["metadata.npy"])).tobytes())
    leaves = [p for p, _ in _leaves(meta) if p]
    path = leaves[rng.integers(len(leaves))]
    if kind == "key":
        extra = (*path[:-1], "unexpected") if rng.random() < 0.5 else path
        value = _DELETE if extra == path else HOSTILE[rng.integers(len(HOSTILE))]
        if extra != path and not isinstance(_parent(meta, path), dict):
            value = _DELETE
            extra = path
        return kind, _with_metadata(raw, lambda m: _set(m, extra, value))
    value = HOSTILE[rng.integers(len(HOSTILE))]
    return kind, _with_metadata(raw, lambda m: _set(m, path, value))


def _parent(meta, path):
    target = meta
    for key in path[:-1]:
        target = target[key]
    return target


def test_mutated_model_files_are_refused_or_identical(tmp_path):
    originals = _models(tmp_path)
    rng = np.random.default_rng(12345)
    outcomes = collections.Counter()
    path = tmp_path / "mutant.npz"
    for i in range(N_MUTANTS):
        raw, expected, X = originals[i % len(originals)]
        kind, data = _mutant(raw, rng)
        path.write_bytes(data)
        if LONG:
            tracemalloc.start()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = sknumpy_mlp.load(path)
        except (ValueError, OSError) as exc:
            assert str(path) in str(exc), (kind, exc)
            assert len(str(exc)) < 1000, (kind, str(exc)[:300])
            outcomes[f"{kind}: refused"] += 1
        else:
            got = _outputs(model, X)
            assert len(got) == len(expected), kind
            for a, b in zip(got, expected, strict=True):
                np.testing.assert_array_equal(a, b, err_msg=kind)
            outcomes[f"{kind}: identical"] += 1
        finally:
            if LONG:
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                assert peak < 20 * len(data) + 8 * 2**20, (kind, peak, len(data))
    print(dict(sorted(outcomes.items())))
    # every kind of mutation was tried, and most of them were refused
    assert {k.split(":")[0] for k in outcomes} == {
        "flip", "truncate", "shadow", "duplicate", "drop", "field", "key",
    }  # fmt: skip
    refused = sum(v for k, v in outcomes.items() if k.endswith("refused"))
    assert refused > N_MUTANTS // 2


@pytest.mark.parametrize("seed", range(3))
def test_a_loaded_mutant_that_predicts_alike_also_trains_alike(tmp_path, seed):
    # metadata mutants that load are usable: a warm start runs (nothing is
    # accepted at load that fails later)
    originals = _models(tmp_path)
    raw, _, X = originals[0]
    rng = np.random.default_rng(seed)
    path = tmp_path / "m.npz"
    y = np.array(["x", "y", "z"])[np.arange(len(X)) % 3]
    loaded = 0
    for _ in range(150):
        _, data = _mutant(raw, rng)
        path.write_bytes(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = MLPScratchClassifier.load(path)
        except (ValueError, OSError):
            continue
        loaded += 1
        model.set_params(warm_start=True, max_iter=1, early_stopping=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        sknumpy_mlp.load(_save(model, tmp_path))  # and saves again
    assert loaded > 0


def _save(model, tmp_path):
    path = tmp_path / "again.npz"
    model.save(path)
    return path


@pytest.mark.parametrize(
    "name, value",
    [("dropout", [[]]), ("dropout", [0.1, 0.2]), ("normalization", ["layer", None])],
)
def test_hidden_layer_options_that_fit_would_refuse_are_refused_at_load(
    tmp_path, name, value
):
    # found by the mutants above: a file with dropout [[]] loaded, then failed
    # in fit; the model has one hidden layer, so two values are one too many
    raw, _, _ = _models(tmp_path)[0]
    path = tmp_path / "m.npz"
    path.write_bytes(_with_metadata(raw, lambda m: m["params"].update({name: value})))
    with pytest.raises(ValueError, match="hyper-parameters are invalid"):
        MLPScratchClassifier.load(path)
