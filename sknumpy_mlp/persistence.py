"""The ``.npz`` model format: arrays plus one JSON metadata entry, never a pickle.

A model file is a NumPy ``.npz`` archive (a zip of ``.npy`` members) holding

* ``metadata``: UTF-8 JSON as a 1-D ``uint8`` array: the format name and
  version, the package version, the class, the layer specification, the
  hyper-parameters and scalar fitted attributes, and a SHA-256 of every other
  member;
* ``weights_<i>``, ``biases_<i>``: the parameters of layer ``i``;
* for an estimator: ``classes``, optionally ``feature_names`` and the
  optimizer's arrays ``optimizer_<name>_<i>`` (the training history is in the
  metadata).

The specification is ``docs/model_files.rst``.

Files are read with ``numpy.load(allow_pickle=False)`` only, so loading never
runs code; every name, dtype, shape and checksum is verified before an object
is built, and anything wrong raises a ``ValueError`` that says what.
"""

import hashlib
import json
import math
import os
import secrets
import warnings
import zipfile

import numpy as np

from ._version import __version__
from .engine import Dropout, Layer, NeuralNetwork
from .engine.activations import ACTIVATIONS
from .engine.augmentation import ImageAugmenter
from .engine.losses import LOSSES
from .engine.training import HISTORY_KEYS

FORMAT_NAME = "sknumpy-mlp"
#: Version of the file layout written by this package; see docs/model_format.rst.
FORMAT_VERSION = 1
_FLOAT_DTYPES = ("float32", "float64")
_CLASSES = ("NeuralNetwork", "MLPScratchClassifier")


# ------------------------------------------------------------------- writing


def save_network(network, path):
    """Write a :class:`NeuralNetwork` to ``path`` (see the module docstring)."""
    layers = network._checked_layers()
    arrays = _layer_arrays(layers)
    meta = {
        "class": "NeuralNetwork",
        "layers": _layer_spec(layers),
        "dtype": np.dtype(network.dtype).name,
        "loss": network.loss,
        "history": [float(c) for c in network.history_],
    }
    _write(path, meta, arrays)


def save_estimator(estimator, path):
    """Write a fitted :class:`MLPScratchClassifier` to ``path``."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    network = estimator._network()
    arrays = _layer_arrays(network.layers)
    classes = estimator.classes_
    arrays["classes"] = _plain(classes)
    has_names = hasattr(estimator, "feature_names_in_")
    if has_names:
        arrays["feature_names"] = _plain(estimator.feature_names_in_)
    optimizer = None
    if estimator._optimizer_state is not None:
        state = estimator._optimizer_state
        optimizer = {k: v for k, v in state.items() if not isinstance(v, list)}
        optimizer["solver"] = estimator._optimizer_solver
        optimizer["arrays"] = sorted(k for k, v in state.items() if isinstance(v, list))
        for key in optimizer["arrays"]:
            for i, array in enumerate(state[key]):
                arrays[f"optimizer_{key}_{i}"] = array
    meta = {
        "class": "MLPScratchClassifier",
        "layers": _layer_spec(network.layers),
        "dtype": np.dtype(network.dtype).name,
        "params": _encode_params(estimator.get_params(deep=False)),
        "fitted": {
            "n_features_in_": int(estimator.n_features_in_),
            "t_": int(estimator.t_),
            "multilabel": bool(estimator._multilabel),
            "classes_object": classes.dtype == object,
            "has_feature_names": has_names,
        },
        "history": [_json_record(r) for r in estimator.history_],
        "optimizer": optimizer,
        "shuffle_state": estimator._shuffle_state,
    }
    _write(path, meta, arrays)


def _json_record(record):
    return {
        k: (None if v is None else float(v) if k != "epoch" else int(v))
        for k, v in record.items()
    }


def _layer_spec(layers):
    return [
        {
            "n_inputs": layer.n_inputs,
            "n_outputs": layer.n_outputs,
            "activation": layer.activation,
            "dropout": 0.0 if layer.dropout is None else layer.dropout.rate,
        }
        for layer in layers
    ]


def _layer_arrays(layers):
    arrays = {}
    for i, layer in enumerate(layers):
        arrays[f"weights_{i}"] = layer.weights
        arrays[f"biases_{i}"] = layer.biases
    return arrays


def _plain(values):
    """Object arrays (of str or numbers) as a plain unicode or numeric array."""
    values = np.asarray(values)
    if values.dtype == object:
        values = np.array(values.tolist())
        if values.dtype == object:
            raise ValueError(
                "Cannot save labels or feature names of mixed or unsupported types."
            )
    return values


def _optional_float(value):
    return None if value is None else float(value)


def _encode_params(params):
    encoded = {}
    for name, value in params.items():
        if name == "random_state" and not (value is None or isinstance(value, int)):
            if isinstance(value, np.integer):
                value = int(value)
            else:
                warnings.warn(
                    "random_state is a RandomState instance, which a model file "
                    "cannot hold; the loaded model will have random_state=None.",
                    UserWarning,
                    stacklevel=4,
                )
                value = None
        encoded[name] = _to_json(value, name)
    return encoded


def _to_json(value, name):
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, tuple | list):
        items = [_to_json(v, name) for v in value]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, ImageAugmenter):
        return {"__augmenter__": _to_json(value.get_params(), name)}
    if isinstance(value, dict):  # e.g. class_weight, whose keys are labels
        return {
            "__dict__": [
                [_to_json(k, name), _to_json(v, name)] for k, v in value.items()
            ]
        }
    raise ValueError(
        f"Cannot save parameter {name}={value!r}: only numbers, strings, booleans, "
        "None, and lists, tuples and dicts of those can be stored without pickle."
    )


def _from_json(value):
    if isinstance(value, dict) and set(value) == {"__tuple__"}:
        return tuple(_from_json(v) for v in value["__tuple__"])
    if isinstance(value, dict) and set(value) == {"__augmenter__"}:
        params = _from_json(value["__augmenter__"])
        if not isinstance(params, dict) or not set(params) <= set(
            ImageAugmenter._PARAMS
        ):
            raise ValueError(f"invalid augment parameters {params!r}")
        return ImageAugmenter(**params).check()
    if isinstance(value, dict) and set(value) == {"__dict__"}:
        return {_hashable(_from_json(k)): _from_json(v) for k, v in value["__dict__"]}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _write(path, meta, arrays):
    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        **meta,
        "sha256": {name: _digest(a) for name, a in arrays.items()},
    }
    text = json.dumps(meta, allow_nan=False)
    arrays["metadata"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    # A fresh name in the target's folder (so os.replace is atomic), opened
    # exclusively with mode 0o666 so that the umask applies, as for any file
    # the user writes (mkstemp would make it private to the owner).
    tmp = os.path.join(
        directory, f".{os.path.basename(path)}.{secrets.token_hex(8)}.tmp"
    )
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _digest(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


# ------------------------------------------------------------------- reading


def load(path):
    """Read any model file this package writes.

    Returns
    -------
    NeuralNetwork or MLPScratchClassifier
        Whichever object the file holds.

    Raises
    ------
    ValueError
        If the file is not a valid sknumpy-mlp model file.
    """
    with _ModelFile(path) as f:
        if f.meta["class"] == "NeuralNetwork":
            return f.network()
        return f.estimator()


def describe(path):
    """Load a model file, verifying it, and describe it.

    Every array's SHA-256 is checked, as :func:`load` does.

    Returns
    -------
    dict
        ``model`` (the loaded object), ``class``, ``format_version``,
        ``package_version`` (of the sknumpy-mlp that wrote it), ``dtype``,
        ``layers`` (dicts with ``n_inputs``, ``n_outputs``, ``activation`` and
        ``dropout``), ``n_parameters``, ``n_arrays`` (arrays verified) and
        ``size`` (bytes).

    Raises
    ------
    ValueError
        If the file is not a valid sknumpy-mlp model file.
    """
    with _ModelFile(path) as f:
        model = f.network() if f.meta["class"] == "NeuralNetwork" else f.estimator()
        meta = f.meta
    layers = [
        {
            "n_inputs": spec["n_inputs"],
            "n_outputs": spec["n_outputs"],
            "activation": spec["activation"],
            "dropout": spec.get("dropout", 0.0),
        }
        for spec in meta["layers"]
    ]
    return {
        "model": model,
        "class": meta["class"],
        "format_version": meta["format_version"],
        "package_version": meta.get("package_version"),
        "dtype": meta["dtype"],
        "layers": layers,
        "n_parameters": sum(
            (spec["n_inputs"] + 1) * spec["n_outputs"] for spec in layers
        ),
        "n_arrays": len(meta["sha256"]),
        "size": os.path.getsize(path),
    }


def load_network(path):
    """Read a file written by :meth:`NeuralNetwork.save`."""
    with _ModelFile(path) as f:
        f.expect("NeuralNetwork")
        return f.network()


def load_estimator(path):
    """Read a file written by :meth:`MLPScratchClassifier.save`."""
    with _ModelFile(path) as f:
        f.expect("MLPScratchClassifier")
        return f.estimator()


class _ModelFile:
    """An opened, validated model file."""

    def __init__(self, path):
        self.path = os.fspath(path)
        # The file is opened here, not by numpy, so that it is closed on every
        # path (numpy leaks the handle when the archive is damaged).
        self.file = open(self.path, "rb")
        try:
            try:
                self.npz = np.load(self.file, allow_pickle=False)
            except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
                raise self.error(f"it is not a readable .npz archive ({exc})") from exc
            if not isinstance(self.npz, np.lib.npyio.NpzFile):
                raise self.error("it holds a single array, not an .npz archive")
            self.meta = self._read_metadata()
            self._check_members()
        except BaseException:
            self.file.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.npz.close()
        self.file.close()

    def error(self, problem):
        return ValueError(
            f"{self.path!r} is not a valid sknumpy-mlp model file: {problem}."
        )

    def _read_metadata(self):
        if "metadata" not in self.npz.files:
            raise self.error("it has no 'metadata' entry")
        raw = self.array("metadata", check_digest=False)
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise self.error("its 'metadata' entry is not UTF-8 JSON bytes")
        try:
            meta = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self.error(f"its metadata is not valid JSON ({exc})") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise self.error("its metadata does not name the sknumpy-mlp format")
        version = meta.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise self.error(f"its format version {version!r} is not valid")
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{self.path!r} was written in sknumpy-mlp model format version "
                f"{version} (by sknumpy-mlp {meta.get('package_version')}), but this "
                f"is sknumpy-mlp {__version__}, which reads versions up to "
                f"{FORMAT_VERSION}. Upgrade sknumpy-mlp to load it."
            )
        for key, kind in (
            ("class", str),
            ("layers", list),
            ("dtype", str),
            ("sha256", dict),
        ):
            if not isinstance(meta.get(key), kind):
                raise self.error(f"its metadata has no valid {key!r} entry")
        if meta["class"] not in _CLASSES:
            raise self.error(f"it holds an unknown class {meta['class']!r}")
        if meta["dtype"] not in _FLOAT_DTYPES:
            raise self.error(f"its dtype {meta['dtype']!r} is not float32 or float64")
        if not meta["layers"]:
            raise self.error("it describes a network without layers")
        for i, spec in enumerate(meta["layers"]):
            if not (
                isinstance(spec, dict)
                and all(_is_count(spec.get(k)) for k in ("n_inputs", "n_outputs"))
                and spec.get("activation") in ACTIVATIONS
                and isinstance(spec.get("dropout", 0.0), float | int)
                and 0 <= spec.get("dropout", 0.0) < 1
            ):
                raise self.error(f"layer {i} is not described correctly: {spec!r}")
            if i and spec["n_inputs"] != meta["layers"][i - 1]["n_outputs"]:
                raise self.error(
                    f"layer {i} has {spec['n_inputs']} inputs but layer {i - 1} has "
                    f"{meta['layers'][i - 1]['n_outputs']} outputs"
                )
        return meta

    def _check_members(self):
        present = set(self.npz.files) - {"metadata"}
        declared = set(self.meta["sha256"])
        unexpected = sorted(present - declared)
        missing = sorted(declared - present)
        if unexpected:
            raise self.error(f"it has unexpected entries {unexpected}")
        if missing:
            raise self.error(f"entries {missing} are missing")

    def expect(self, cls):
        if self.meta["class"] != cls:
            raise ValueError(
                f"{self.path!r} holds a {self.meta['class']}, not a {cls}; "
                "read it with sknumpy_mlp.load."
            )

    def array(self, name, *, check_digest=True, kinds=None, shape=None):
        """Read member ``name``, checking its dtype kind, shape and checksum."""
        if name not in self.npz.files:
            raise self.error(f"the entry {name!r} is missing")
        self._check_header(name, kinds, shape)
        try:
            value = self.npz[name]
        except ValueError as exc:
            if "allow_pickle" in str(exc):
                raise self.error(
                    f"the entry {name!r} holds Python objects (pickled data), "
                    "which are never loaded"
                ) from exc
            raise self.error(f"the entry {name!r} cannot be read ({exc})") from exc
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise self.error(
                f"the entry {name!r} is damaged or truncated ({exc})"
            ) from exc
        if kinds is not None and value.dtype.kind not in kinds:
            raise self.error(
                f"the entry {name!r} has an unsupported dtype {value.dtype}"
            )
        if shape is not None and value.shape != shape:
            raise self.error(
                f"the entry {name!r} has shape {value.shape}, expected {shape}"
            )
        if check_digest and _digest(value) != self.meta["sha256"].get(name):
            raise self.error(f"the checksum of entry {name!r} does not match its data")
        return value

    def _check_header(self, name, kinds, shape):
        """Check a member's ``.npy`` header before any of its data is read.

        The declared dtype must be plain (no Python objects) and of the
        expected kind and shape, and the declared size must be exactly the
        member's data, which is stored uncompressed: so reading it allocates no
        more than the file's own bytes, whatever a hostile header says.
        """
        try:
            info = self.npz.zip.getinfo(f"{name}.npy")
            if info.compress_type != zipfile.ZIP_STORED:
                raise self.error(
                    f"the entry {name!r} is compressed, which the format never does"
                )
            if (
                info.file_size != info.compress_size
                or info.file_size > os.fstat(self.file.fileno()).st_size
            ):
                raise self.error(
                    f"the entry {name!r} declares {info.file_size} bytes, more than "
                    "the file holds"
                )
            with self.npz.zip.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    declared, _, dtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    declared, _, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise ValueError(f"unsupported .npy version {version}")
                header_bytes = f.tell()
        except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            if isinstance(exc, ValueError) and str(exc).startswith(repr(self.path)):
                raise
            raise self.error(
                f"the header of entry {name!r} is unreadable ({exc})"
            ) from exc
        if dtype.hasobject:
            raise self.error(
                f"the entry {name!r} holds Python objects (pickled data), which "
                "are never loaded"
            )
        if kinds is not None and dtype.kind not in kinds:
            raise self.error(f"the entry {name!r} has an unsupported dtype {dtype}")
        if shape is not None and tuple(declared) != shape:
            raise self.error(
                f"the entry {name!r} has shape {tuple(declared)}, expected {shape}"
            )
        n_bytes = dtype.itemsize * math.prod(declared)
        if n_bytes != info.file_size - header_bytes:
            raise self.error(
                f"the entry {name!r} declares shape {tuple(declared)} ({n_bytes} "
                f"bytes) but holds {info.file_size - header_bytes} bytes of data"
            )

    def layers(self):
        dtype = np.dtype(self.meta["dtype"])
        layers = []
        for i, spec in enumerate(self.meta["layers"]):
            n_in, n_out = spec["n_inputs"], spec["n_outputs"]
            weights = self.array(f"weights_{i}", kinds="f", shape=(n_in, n_out))
            biases = self.array(f"biases_{i}", kinds="f", shape=(n_out,))
            for name, value in ((f"weights_{i}", weights), (f"biases_{i}", biases)):
                if value.dtype != dtype:
                    raise self.error(
                        f"the entry {name!r} is {value.dtype}, expected {dtype}"
                    )
                if not np.isfinite(value).all():
                    raise self.error(f"the entry {name!r} holds NaN or infinity")
            layer = Layer.from_arrays(weights, biases, spec["activation"])
            if spec.get("dropout"):
                layer.dropout = Dropout(float(spec["dropout"]))
            layers.append(layer)
        return layers

    def network(self):
        loss = self.meta.get("loss")
        if loss is not None and loss not in LOSSES:
            raise self.error(f"it names an unknown loss {loss!r}")
        network = NeuralNetwork(self.layers(), loss=loss)
        network.history_ = [float(c) for c in self.meta.get("history", [])]
        network.package_version_ = self.meta.get("package_version")
        return network

    def estimator(self):
        from .estimator import MLPScratchClassifier

        meta = self.meta
        params = meta.get("params")
        fitted = meta.get("fitted")
        if not isinstance(params, dict) or not isinstance(fitted, dict):
            raise self.error("its metadata has no hyper-parameters or fitted state")
        try:
            params = {k: _from_json(v) for k, v in params.items()}
        except (ValueError, TypeError) as exc:
            raise self.error(f"its hyper-parameters are invalid ({exc})") from exc
        known = MLPScratchClassifier().get_params()
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise self.error(f"it has unknown hyper-parameters {unknown}")
        try:
            est = MLPScratchClassifier(**params)
            est._validate_params()
        except Exception as exc:
            raise self.error(f"its hyper-parameters are invalid ({exc})") from exc

        layers = self.layers()
        n_outputs = layers[-1].n_outputs
        multilabel = bool(fitted.get("multilabel"))
        classes = self.array("classes", kinds="biufU")
        n_classes = n_outputs if multilabel else max(n_outputs, 2)
        if (
            classes.ndim != 1
            or len(classes) != n_classes
            or (n_outputs == 2 and not multilabel)
        ):
            raise self.error(
                f"its {len(classes)} classes do not fit an output layer of "
                f"{n_outputs} units"
            )
        if fitted.get("classes_object"):
            classes = classes.astype(object)
        n_features = fitted.get("n_features_in_")
        if n_features != layers[0].n_inputs:
            raise self.error(
                f"n_features_in_={n_features!r} does not match the first layer's "
                f"{layers[0].n_inputs} inputs"
            )
        expected_out = "logistic" if multilabel or n_outputs == 1 else "softmax"
        try:
            hidden = est._hidden_sizes()
            activations = est._hidden_activations(len(hidden))
        except ValueError as exc:
            raise self.error(f"its hyper-parameters are invalid ({exc})") from exc
        if [layer.n_outputs for layer in layers[:-1]] != hidden:
            raise self.error("its layer sizes do not match hidden_layer_sizes")
        if (
            layers[-1].activation != expected_out
            or [layer.activation for layer in layers[:-1]] != activations
        ):
            raise self.error("its layer activations do not match its hyper-parameters")

        est.classes_ = classes
        est._multilabel = multilabel
        est.n_features_in_ = n_features
        if fitted.get("has_feature_names"):
            names = self.array("feature_names", kinds="U", shape=(n_features,))
            est.feature_names_in_ = names.astype(object)
        est.coefs_ = [layer.weights for layer in layers]
        est.intercepts_ = [layer.biases for layer in layers]
        history = meta.get("history")
        if not isinstance(history, list) or not all(
            isinstance(r, dict) and set(r) == set(HISTORY_KEYS) for r in history
        ):
            raise self.error("its training history is missing or malformed")
        try:
            est.t_ = int(fitted["t_"])
        except (KeyError, TypeError, ValueError) as exc:
            raise self.error(f"its fitted state is incomplete ({exc})") from exc
        est._set_history(history)
        est.n_layers_ = len(layers) + 1
        est.n_outputs_ = n_outputs
        est.out_activation_ = expected_out
        est._optimizer_solver, est._optimizer_state = self._optimizer(est)
        est._shuffle_state = meta.get("shuffle_state")
        est.package_version_ = meta.get("package_version")
        return est

    def _optimizer(self, est):
        spec = self.meta.get("optimizer")
        if spec is None:
            return None, None
        if not isinstance(spec, dict) or not isinstance(spec.get("arrays"), list):
            raise self.error("its optimizer state is malformed")
        state = {k: v for k, v in spec.items() if k not in ("solver", "arrays")}
        params = [
            p for w, b in zip(est.coefs_, est.intercepts_, strict=True) for p in (w, b)
        ]
        for key in spec["arrays"]:
            if key not in ("ms", "vs", "velocities"):
                raise self.error(f"it has an unknown optimizer array {key!r}")
            state[key] = [
                self.array(f"optimizer_{key}_{i}", kinds="f", shape=p.shape)
                for i, p in enumerate(params)
            ]
        return spec.get("solver"), state


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _optional(value):
    return None if value is None else float(value)
