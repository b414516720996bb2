"""The model-file rules of docs/model_files.rst that close crafted archives:
member names, the metadata schema, permissions and temporary files."""

import json
import os
import stat
import subprocess
import sys
import threading
import zipfile

import numpy as np
import pytest

import sknumpy_mlp
from sknumpy_mlp import MLPScratchClassifier, MLPScratchRegressor, NeuralNetwork
from sknumpy_mlp.engine import Layer
from sknumpy_mlp.engine.model_file import digest

FAST = {"max_iter": 20, "learning_rate_init": 0.01, "random_state": 0, "tol": 1e-2}


@pytest.fixture(scope="module")
def saved(tmp_path_factory, multiclass_data):
    X, y = multiclass_data
    with pytest.warns(Warning):
        clf = MLPScratchClassifier(**FAST).fit(X, y)
    path = tmp_path_factory.mktemp("model") / "model.npz"
    clf.save(path)
    return clf, path, X


def _members(path):
    with zipfile.ZipFile(path) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def _write_members(path, members):
    with zipfile.ZipFile(path, "w") as z:  # stored, as np.savez writes
        for name, data in members:
            z.writestr(name, data)


def _npy(array):
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _with_metadata(path, out, change):
    """Copy the model at ``path`` to ``out`` with ``change(meta)`` applied."""
    members = _members(path)
    meta = json.loads(np.load(path)["metadata"].tobytes())
    change(meta)
    text = json.dumps(meta).encode()
    members["metadata.npy"] = _npy(np.frombuffer(text, dtype=np.uint8))
    _write_members(out, members.items())
    return out


def _refused(path, *match, cls=sknumpy_mlp):
    load = cls.load if cls is not sknumpy_mlp else sknumpy_mlp.load
    with pytest.raises(ValueError) as info:
        load(path)
    message = str(info.value)
    assert repr(str(path)) in message, message
    for text in match:
        assert text in message, message
    assert len(message) < 600
    return message


# ------------------------------------------------------------------ members


def test_a_shadow_member_is_refused_not_read(saved, tmp_path):
    clf, path, X = saved
    members = _members(path)
    # a plain 'weights_0' beside 'weights_0.npy': numpy.load's name mapping
    # would read the plain one, with its own header and a patched checksum
    other = np.zeros_like(clf.coefs_[0])
    members["weights_0"] = _npy(other)
    bad = tmp_path / "shadow.npz"
    _write_members(bad, members.items())
    _refused(bad, "'weights_0'", "not '<letters, digits, _>.npy'")
    # a shadow declaring 2**28 bytes is refused before anything is allocated
    members.pop("weights_0")
    members["metadata"] = (
        b"\x93NUMPY\x01\x00v\x00"
        + (b"{'descr': '|u1', 'fortran_order': False, 'shape': (268435456,), }").ljust(
            117
        )
        + b"\n"
    )
    _write_members(bad, members.items())
    _refused(bad, "'metadata'")
    # raw bytes
    members["metadata"] = b"not an array at all"
    _write_members(bad, members.items())
    _refused(bad, "'metadata'")


def test_duplicate_member_names_are_refused(saved, tmp_path):
    _, path, _ = saved
    members = list(_members(path).items())
    bad = tmp_path / "twice.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):  # zipfile's own
        _write_members(bad, [*members, members[0]])
    _refused(bad, "two entries named")


def test_many_members_give_a_short_message(saved, tmp_path):
    _, path, _ = saved
    members = list(_members(path).items())
    extra = [(f"x{i}.npy", b"") for i in range(25_000)]
    bad = tmp_path / "many.npz"
    _write_members(bad, [*members, *extra])
    _refused(bad, "25", "entries")
    # and a few undeclared ones are named, a handful at most
    _write_members(bad, [*members, *extra[:100]])
    _refused(bad, "unexpected entries", "and 95 more")


def _patch_flags(path, out, *, flag_bits=None, method=None):
    data = bytearray(path.read_bytes())
    for signature, offset_flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            if flag_bits is not None:
                data[start + offset_flags : start + offset_flags + 2] = (
                    flag_bits.to_bytes(2, "little")
                )
            if method is not None:
                at = start + offset_flags + 2
                data[at : at + 2] = method.to_bytes(2, "little")
            start += 4
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize(
    "patch, message",
    [({"flag_bits": 1}, "encrypted"), ({"method": 99}, "compressed")],
)
def test_zip_level_damage_is_a_value_error(saved, tmp_path, patch, message):
    _, path, _ = saved
    bad = _patch_flags(path, tmp_path / "zip.npz", **patch)
    _refused(bad, message)


def test_a_text_file_gets_no_advice_about_pickles(tmp_path):
    bad = tmp_path / "notes.npz"
    bad.write_text("model = 'fitted'\n")
    message = _refused(bad, "not a readable .npz archive")
    assert "pickle" not in message


def test_loading_a_fifo_does_not_block(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    outcome = []
    thread = threading.Thread(
        target=lambda: outcome.append(_refused(fifo, "not a regular file")),
        daemon=True,
    )
    thread.start()
    thread.join(10)
    assert outcome, "load() blocked on a FIFO"


# ------------------------------------------------------------------ schema

BAD_METADATA = [
    # (change, words of the message)
    (lambda m: m["fitted"].update(t_=1.5), "fitted.t_"),
    (lambda m: m["fitted"].update(n_features_in_=True), "fitted.n_features_in_"),
    (lambda m: m["fitted"].update(colour="red"), "unknown entry 'colour'"),
    (lambda m: m["layers"][0].update(n_outputs="5"), "layers[0].n_outputs"),
    (lambda m: m["layers"][0].update(dropout=1.0), "layers[0].dropout"),
    (lambda m: m["history"][0].update(loss="low"), "history[0].loss"),
    (lambda m: m["history"][0].pop("seconds"), "history[0] has no 'seconds'"),
    (lambda m: m["history"][1].update(epoch=7), "number its epochs"),
    (lambda m: m.update(history={"loss": 1}), "history must be a list"),
    (lambda m: m["optimizer"].update(extra=1), "optimizer has an unknown entry"),
    (lambda m: m["optimizer"].update(t=-1), "optimizer.t"),
    (lambda m: m["optimizer"].update(arrays=["ms"]), "optimizer state does not fit"),
    (lambda m: m["optimizer"].update(solver="lbfgs"), "optimizer.solver"),
    (lambda m: m.update(shuffle_state={"bit_generator": "PCG64"}), "shuffle_state"),
    (
        lambda m: m["shuffle_state"].update(bit_generator="MT19937"),
        "shuffle_state.bit_generator",
    ),
    (lambda m: m.update(params=[1, 2]), "params must be an object"),
    (
        lambda m: m["params"].update(hidden_layer_sizes={"__tuple__": 5}),
        "hyper-parameters are invalid",
    ),
    (lambda m: m["params"].update(alpha=[[[]]]), "hyper-parameters are invalid"),
    (lambda m: m.update(sha256={"weights_0": "x"}), "sha256.weights_0"),
    (lambda m: m.pop("fitted"), "no 'fitted' entry"),
    (lambda m: m.update(dtype="float16"), "metadata.dtype"),
]


@pytest.mark.parametrize("change, words", BAD_METADATA)
def test_metadata_is_checked_against_a_schema(saved, tmp_path, change, words):
    _, path, _ = saved
    bad = _with_metadata(path, tmp_path / "bad.npz", change)
    _refused(bad, words)


def _raw_metadata(path, out, text):
    members = _members(path)
    members["metadata.npy"] = _npy(np.frombuffer(text.encode(), dtype=np.uint8))
    _write_members(out, members.items())
    return out


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda t: t.replace('"t_": ', '"t_": Infinity, "x": ', 1), "not valid JSON"),
        (lambda t: t.replace('"t_": ', '"t_": ' + "9" * 5000 + ', "x": ', 1), "JSON"),
        (lambda t: t[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON"),
    ],
)
def test_hostile_json_is_a_value_error(saved, tmp_path, edit, words):
    _, path, _ = saved
    text = np.load(path)["metadata"].tobytes().decode()
    bad = _raw_metadata(path, tmp_path / "json.npz", edit(text))
    _refused(bad, words)


def test_a_network_whose_loss_contradicts_its_output_is_refused(tmp_path):
    net = NeuralNetwork([Layer(3, 2, activation="softmax", random_state=0)])
    path = tmp_path / "net.npz"
    net.save(path)
    bad = _with_metadata(path, tmp_path / "bad.npz", lambda m: m.update(loss="poisson"))
    _refused(bad, "loss does not fit its output layer")
    bad = _with_metadata(path, tmp_path / "bad.npz", lambda m: m.update(history=["a"]))
    _refused(bad, "history[0]")


def test_every_solver_and_estimator_file_passes_its_own_schema(tmp_path, rng):
    X = rng.standard_normal((60, 4))
    y = X[:, 0] > 0
    for solver in ("sgd", "adam", "rmsprop", "adamw", "lbfgs"):
        for est in (
            MLPScratchClassifier(solver=solver, max_iter=3, momentum=0.5),
            MLPScratchRegressor(solver=solver, max_iter=3, early_stopping=True)
            if solver != "lbfgs"
            else MLPScratchRegressor(solver=solver, max_iter=3),
        ):
            with pytest.warns(Warning):
                est.fit(X, y.astype(float) if est._y_numeric else y)
            est.save(tmp_path / "m.npz")
            loaded = sknumpy_mlp.load(tmp_path / "m.npz")
            np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
            if solver != "lbfgs":  # a warm start from the loaded state works
                loaded.set_params(warm_start=True, max_iter=1)
                with pytest.warns(Warning):
                    loaded.fit(X, y.astype(float) if est._y_numeric else y)


# ------------------------------------------------------------ the file system


def test_resaving_keeps_the_file_mode(saved, tmp_path):
    clf, _, _ = saved
    path = tmp_path / "private.npz"
    clf.save(path)
    os.chmod(path, 0o600)
    clf.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_missing_folder_is_named_as_the_user_gave_it(saved, tmp_path):
    clf, _, _ = saved
    target = tmp_path / "missing" / "m.npz"
    with pytest.raises(FileNotFoundError) as info:
        clf.save(target)
    assert str(target) in str(info.value) and ".tmp" not in str(info.value)


def test_a_temporary_of_a_dead_process_is_removed_by_the_next_save(saved, tmp_path):
    clf, _, _ = saved
    # a process that has exited: its pid is free (or reused, then kept)
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    dead = int(child.stdout)
    stale = tmp_path / f".m.npz.{dead}.0123456789ab.tmp"
    stale.write_bytes(b"\0" * 1000)
    mine = tmp_path / f".m.npz.{os.getpid()}.0123456789ab.tmp"  # alive: kept
    mine.write_bytes(b"")
    other = tmp_path / ".notes.txt.1.tmp"  # not a model's: kept
    other.write_bytes(b"")
    clf.save(tmp_path / "m.npz")
    try:
        os.kill(dead, 0)
        reused = True
    except ProcessLookupError:
        reused = False
    assert stale.exists() is reused
    assert mine.exists() and other.exists()
    assert sknumpy_mlp.load(tmp_path / "m.npz").n_iter_ == clf.n_iter_


def test_a_good_file_reads_exactly_its_members(saved):
    clf, path, X = saved
    loaded = MLPScratchClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    assert all(n.endswith(".npy") for n in names)
    meta = json.loads(np.load(path)["metadata"].tobytes())
    assert meta["sha256"]["weights_0"] == digest(clf.coefs_[0])
