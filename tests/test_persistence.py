import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import sknumpy_mlp
from sknumpy_mlp import Dropout, Layer, MLPScratchClassifier, NeuralNetwork
from sknumpy_mlp.engine.model_file import FORMAT_VERSION
from sknumpy_mlp.engine.model_file import digest as _digest

from .conftest import assert_agree_to_rounding

FAST = {"max_iter": 200, "learning_rate_init": 0.01, "random_state": 0, "tol": 1e-2}


def _fitted_attributes(clf):
    return {
        k: v
        for k, v in vars(clf).items()
        if k.endswith("_") and not k.startswith("_") and k != "package_version_"
    }


def _without_timings(history):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in history]


def _assert_same_model(a, b, X, *, timings=True):
    assert a.get_params() == b.get_params()
    attrs_a, attrs_b = _fitted_attributes(a), _fitted_attributes(b)
    if not timings:
        attrs_a["history_"] = _without_timings(attrs_a["history_"])
        attrs_b["history_"] = _without_timings(attrs_b["history_"])
    assert attrs_a.keys() == attrs_b.keys()
    for key, value in attrs_a.items():
        other = attrs_b[key]
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            assert all(
                np.array_equal(x, y) and x.dtype == y.dtype
                for x, y in zip(value, other, strict=True)
            ), key
        elif isinstance(value, np.ndarray):
            assert np.array_equal(value, other) and value.dtype == other.dtype, key
        else:
            assert value == other, key
    for data in (X, X.astype(np.float32)):
        assert np.array_equal(a.predict_proba(data), b.predict_proba(data))
        assert np.array_equal(a.predict(data), b.predict(data))


@pytest.fixture(scope="module")
def saved(tmp_path_factory, multiclass_data):
    X, y = multiclass_data
    clf = MLPScratchClassifier(**FAST).fit(X, np.array(["a", "b", "c"])[y])
    path = tmp_path_factory.mktemp("model") / "model.npz"
    clf.save(path)
    return clf, path


@pytest.mark.parametrize(
    "case", ["multiclass", "binary", "object", "frame", "early_stopping", "float64"]
)
def test_estimator_round_trip_is_bitwise(case, tmp_path, multiclass_data):
    X, y = multiclass_data
    params, fit_X, fit_y = dict(FAST), X, y
    if case == "binary":
        fit_y = y % 2
    elif case == "object":
        fit_y = np.array(["x", "y", "z"], dtype=object)[y]
    elif case == "frame":
        fit_X = pd.DataFrame(X, columns=[f"pixel {i}" for i in range(8)])
    elif case == "early_stopping":
        params.update(early_stopping=True, hidden_layer_sizes=[16])
    elif case == "float64":
        params.update(dtype="float64", solver="sgd", activation="tanh")
    clf = MLPScratchClassifier(**params).fit(fit_X, fit_y)
    clf.save(tmp_path / "m.npz")
    loaded = MLPScratchClassifier.load(tmp_path / "m.npz")
    assert type(loaded) is MLPScratchClassifier
    if case == "frame":
        assert list(loaded.feature_names_in_) == list(fit_X.columns)
        assert loaded.feature_names_in_.dtype == object
        assert np.array_equal(loaded.predict_proba(fit_X), clf.predict_proba(fit_X))
        # the remaining checks predict on bare arrays, which needs no names
        del loaded.feature_names_in_, clf.feature_names_in_
    _assert_same_model(clf, loaded, X)
    assert loaded.package_version_ == sknumpy_mlp.__version__
    assert type(loaded.hidden_layer_sizes) is type(clf.hidden_layer_sizes)


def test_warm_start_after_loading_continues_exactly(tmp_path, multiclass_data):
    X, y = multiclass_data
    params = {**FAST, "max_iter": 4, "warm_start": True}
    with pytest.warns(ConvergenceWarning):
        clf = MLPScratchClassifier(**params).fit(X, y)
    clf.save(tmp_path / "m.npz")
    loaded = MLPScratchClassifier.load(tmp_path / "m.npz")
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    with pytest.warns(ConvergenceWarning):
        loaded.fit(X, y)
    _assert_same_model(clf, loaded, X, timings=False)


def test_network_round_trip(tmp_path, rng):
    net = NeuralNetwork(
        [Layer(5, 4, "tanh", random_state=0), Layer(4, 2, "logistic", random_state=1)]
    )
    net.layers[0].dropout = Dropout(0.25, random_state=0)
    X = rng.normal(size=(10, 5))
    net.fit(X, rng.integers(0, 2, (10, 2)), epochs=2, verbose=False)
    net.save(tmp_path / "net.npz")
    loaded = NeuralNetwork.load(tmp_path / "net.npz")
    assert [repr(layer) for layer in loaded.layers] == list(map(repr, net.layers))
    assert loaded.history_ == net.history_
    assert np.array_equal(loaded.predict(X), net.predict(X))
    assert type(sknumpy_mlp.load(tmp_path / "net.npz")) is NeuralNetwork


def test_load_returns_whatever_the_file_holds(saved, tmp_path):
    clf, path = saved
    assert type(sknumpy_mlp.load(path)) is MLPScratchClassifier
    with pytest.raises(
        ValueError, match="holds a MLPScratchClassifier, not a NeuralNetwork"
    ):
        NeuralNetwork.load(path)
    NeuralNetwork([Layer(2, 2, "softmax")]).save(tmp_path / "net.npz")
    with pytest.raises(ValueError, match="holds a NeuralNetwork"):
        MLPScratchClassifier.load(tmp_path / "net.npz")


def test_saving_writes_exactly_the_given_path(saved):
    _, path = saved
    assert sorted(os.listdir(path.parent)) == ["model.npz"]


def test_saving_an_unfitted_estimator_raises(tmp_path):
    with pytest.raises(NotFittedError):
        MLPScratchClassifier().save(tmp_path / "m.npz")
    assert not os.listdir(tmp_path)


def test_a_failed_save_keeps_the_previous_file(saved, tmp_path, monkeypatch):
    clf, original = saved
    path = tmp_path / "m.npz"
    clf.save(path)
    before = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"partial data")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        clf.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]


def test_list_and_dict_parameters_round_trip(tmp_path, multiclass_data):
    X, y = multiclass_data
    clf = MLPScratchClassifier(
        **FAST,
        hidden_layer_sizes=[16, 8],
        activation=["tanh", "gelu"],
        dropout=(0.1, 0.0),
        class_weight={0: 1.0, 1: 2.5, 2: 1.0},
    ).fit(X, y)
    clf.save(tmp_path / "m.npz")
    loaded = MLPScratchClassifier.load(tmp_path / "m.npz")
    assert loaded.get_params() == clf.get_params()
    assert type(loaded.dropout) is tuple and type(loaded.activation) is list
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_random_state_instance_is_not_stored_silently(tmp_path, multiclass_data):
    X, y = multiclass_data
    clf = MLPScratchClassifier(**{**FAST, "random_state": np.random.RandomState(0)})
    clf.fit(X, y)
    with pytest.warns(UserWarning, match="RandomState instance"):
        clf.save(tmp_path / "m.npz")
    assert MLPScratchClassifier.load(tmp_path / "m.npz").random_state is None


# ------------------------------------------------------------- refusals


def _members(path):
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    meta = json.loads(arrays.pop("metadata").tobytes())
    return meta, arrays


def _rewrite(path, meta, arrays, *, update_digests=True, undeclared=()):
    if update_digests:
        meta["sha256"] = {
            k: "0" * 64 if v.dtype == object else _digest(v)
            for k, v in arrays.items()
            if k not in undeclared
        }
    text = json.dumps(meta).encode()
    members = {**arrays, "metadata": np.frombuffer(text, dtype=np.uint8)}
    with open(path, "wb") as f:
        np.savez(f, **members)


def test_a_file_that_is_not_ours_is_refused(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("just some text")
    npy = tmp_path / "array.npz"
    np.save(npy.with_suffix(".npy"), np.zeros(3))
    os.replace(npy.with_suffix(".npy"), npy)
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    for path, message in [
        (text, "not a readable .npz archive"),
        (npy, "single array"),
        (other, "no 'metadata' entry"),
    ]:
        with pytest.raises(ValueError, match=message):
            sknumpy_mlp.load(path)


def test_a_truncated_file_is_refused(saved, tmp_path):
    _, path = saved
    data = path.read_bytes()
    for keep in (len(data) // 2, len(data) - 10, 30):
        cut = tmp_path / f"cut{keep}.npz"
        cut.write_bytes(data[:keep])
        with pytest.raises(ValueError, match="not a valid sknumpy-mlp model file"):
            MLPScratchClassifier.load(cut)


def test_a_flipped_byte_is_refused(saved, tmp_path):
    _, path = saved
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("weights_1.npy")
    # inside the member's data: past the local header and the .npy header
    data[info.header_offset + 200] ^= 0x01
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="weights_1"):
        MLPScratchClassifier.load(bad)


def test_changed_data_with_a_valid_zip_fails_the_checksum(saved, tmp_path):
    _, path = saved
    meta, arrays = _members(path)
    arrays["weights_1"] = arrays["weights_1"].copy()
    arrays["weights_1"][0, 0] += 1
    bad = tmp_path / "tampered.npz"
    _rewrite(bad, meta, arrays, update_digests=False)
    with pytest.raises(ValueError, match="checksum of entry 'weights_1'"):
        MLPScratchClassifier.load(bad)


class _Payload:
    """Unpickling this would create a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("member", ["weights_0", "metadata", "classes"])
def test_a_pickle_payload_is_never_executed(saved, tmp_path, member):
    _, path = saved
    meta, arrays = _members(path)
    marker = tmp_path / "code-ran"
    payload = np.array([_Payload(marker)], dtype=object)
    bad = tmp_path / "payload.npz"
    if member == "metadata":
        members = {**arrays, "metadata": payload}
        with open(bad, "wb") as f:
            np.savez(f, **members)
    else:
        arrays[member] = payload
        _rewrite(bad, meta, arrays)
    with pytest.raises(ValueError, match="pickled data"):
        sknumpy_mlp.load(bad)
    assert not marker.exists()


def test_shapes_that_do_not_chain_are_refused(saved, tmp_path):
    _, path = saved
    meta, arrays = _members(path)
    arrays["weights_1"] = arrays["weights_1"][:-1]
    bad = tmp_path / "shapes.npz"
    _rewrite(bad, meta, arrays)
    with pytest.raises(
        ValueError,
        match=r"'weights_1' has shape \(63, 32\), "
        r"expected \(64, 32\)",
    ):
        MLPScratchClassifier.load(bad)
    meta, arrays = _members(path)
    meta["layers"][1]["n_inputs"] = 63
    _rewrite(bad, meta, arrays)
    with pytest.raises(ValueError, match="layer 1 has 63 inputs but layer 0 has 64"):
        MLPScratchClassifier.load(bad)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m, a: a.pop("biases_2"), "missing"),
        (lambda m, a: a.update(classes=np.array(["a", "b"])), "2 classes do not fit"),
        (lambda m, a: a["weights_0"].__setitem__((0, 0), np.inf), "NaN or infinity"),
        (
            lambda m, a: a.update(weights_0=a["weights_0"].astype(np.float32)),
            "is float32, expected float64",
        ),
        (
            lambda m, a: a.update(weights_0=a["weights_0"].astype(np.int32)),
            "unsupported dtype int32",
        ),
        (lambda m, a: m.update(format="something-else"), "does not name"),
        (
            lambda m, a: m["params"].update(solver="newton"),
            "hyper-parameters are invalid",
        ),
        (lambda m, a: m["params"].update(colour="red"), "unknown hyper-parameters"),
        (lambda m, a: m["fitted"].update(n_features_in_=7), "n_features_in_=7"),
        (
            lambda m, a: m["layers"][0].update(activation="eval"),
            r"layers\[0\]\.activation must be one of",
        ),
        (lambda m, a: m["params"].update(hidden_layer_sizes=[64, 16]), "layer sizes"),
    ],
)
def test_inconsistent_files_are_refused(change, message, saved, tmp_path):
    _, path = saved
    meta, arrays = _members(path)
    arrays = {k: v.copy() for k, v in arrays.items()}
    change(meta, arrays)
    bad = tmp_path / "bad.npz"
    _rewrite(bad, meta, arrays)
    with pytest.raises(ValueError, match=message):
        MLPScratchClassifier.load(bad)


def test_an_undeclared_member_is_refused(saved, tmp_path):
    _, path = saved
    meta, arrays = _members(path)
    arrays["extra"] = np.zeros(2)
    bad = tmp_path / "extra.npz"
    _rewrite(bad, meta, arrays, undeclared=("extra",))
    with pytest.raises(ValueError, match=r"unexpected entries \['extra'\]"):
        MLPScratchClassifier.load(bad)


def test_a_newer_format_asks_to_upgrade(saved, tmp_path):
    _, path = saved
    meta, arrays = _members(path)
    meta["format_version"] = FORMAT_VERSION + 1
    bad = tmp_path / "future.npz"
    _rewrite(bad, meta, arrays)
    with pytest.raises(ValueError, match="Upgrade sknumpy-mlp"):
        sknumpy_mlp.load(bad)


def test_metadata_is_json_and_members_are_plain_arrays(saved):
    _, path = saved
    with zipfile.ZipFile(path) as z:
        names = sorted(z.namelist())
        for name in names:
            header = z.read(name)[:128]
            assert b"'descr': '|O'" not in header
    assert "metadata.npy" in names and "weights_0.npy" in names
    meta, arrays = _members(path)
    assert meta["format"] == "sknumpy-mlp" and meta["class"] == "MLPScratchClassifier"
    assert meta["params"]["hidden_layer_sizes"] == {"__tuple__": [64, 32]}
    assert arrays["classes"].dtype.kind == "U"


def _replace_member(path, out, name, data):
    """Copy the archive at ``path`` to ``out`` with member ``name`` replaced."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            payload = data if info.filename == name else source.read(info)
            target.writestr(info.filename, payload)


def _npy_header(shape, descr="<f8"):
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    header = header.ljust(117) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()


def test_a_huge_declared_shape_is_refused_before_allocating(saved, tmp_path):
    import tracemalloc

    _, path = saved
    bad = tmp_path / "huge.npz"
    # 10**12 float64 declared (8 TB), 16 bytes stored
    _replace_member(path, bad, "weights_0.npy", _npy_header((10**12,)) + b"\0" * 16)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="weights_0"):
            MLPScratchClassifier.load(bad)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20  # nothing near the declared size was allocated


def test_a_zip_entry_claiming_more_bytes_than_the_file_is_refused(saved, tmp_path):
    _, path = saved
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("weights_0.npy")
    # the central directory entry (at the end of the archive): patch its
    # uncompressed size of weights_0 to 2**31
    offset = data.rfind(b"weights_0.npy") - 46
    assert data[offset : offset + 4] == b"PK\x01\x02"
    data[offset + 24 : offset + 28] = (2**31).to_bytes(4, "little")
    bad = tmp_path / "claims.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a valid sknumpy-mlp model file"):
        MLPScratchClassifier.load(bad)
    assert info.file_size < 2**31


def test_files_of_format_version_1_keep_loading():
    """Fixtures written by sknumpy-mlp 0.1.0 (format 1); never regenerate them."""
    data = Path(__file__).parent / "data"
    with np.load(data / "model_v1_expected.npz", allow_pickle=False) as expected:
        X = expected["X"]
        clf = sknumpy_mlp.load(data / "model_v1_estimator.npz")
        assert type(clf) is MLPScratchClassifier
        # computed on another machine: equal to rounding, not bitwise
        assert_agree_to_rounding(
            clf.predict_proba(X), expected["estimator_proba"], clf.coefs_[0].dtype
        )
        np.testing.assert_array_equal(clf.predict(X), expected["estimator_pred"])
        net = sknumpy_mlp.load(data / "model_v1_network.npz")
        assert_agree_to_rounding(net.predict(X), expected["network_out"], net.dtype)
    assert clf.package_version_ == "0.1.0"
    assert list(clf.classes_) == ["ant", "bee", "cat"]


def test_saved_files_follow_the_umask(saved, tmp_path):
    clf, _ = saved
    old = os.umask(0o022)
    try:
        clf.save(tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o644


def _save_many(args):
    path, seed = args
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=60, n_features=5, random_state=seed)
    clf = MLPScratchClassifier(
        hidden_layer_sizes=(3,), max_iter=300, tol=0.5, random_state=seed
    ).fit(X, y)
    for _ in range(20):
        clf.save(path)
    return seed


def test_concurrent_saves_leave_one_complete_file(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    path = tmp_path / "shared.npz"
    with ProcessPoolExecutor(2) as pool:
        assert sorted(pool.map(_save_many, [(path, 1), (path, 2)])) == [1, 2]
    loaded = MLPScratchClassifier.load(path)
    assert loaded.random_state in (1, 2)
    assert sorted(os.listdir(tmp_path)) == ["shared.npz"]


def test_a_file_from_another_package_version_loads_and_says_so(saved, tmp_path):
    clf, path = saved
    meta, arrays = _members(path)
    meta["package_version"] = "0.0.9"
    older = tmp_path / "older.npz"
    _rewrite(older, meta, arrays)
    loaded = MLPScratchClassifier.load(older)
    assert loaded.package_version_ == "0.0.9"
    np.testing.assert_array_equal(loaded.coefs_[0], clf.coefs_[0])
