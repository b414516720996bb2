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

This module is the container: writing (atomically), reading with every
header and checksum checked, and the network part shared by every file.
``sknumpy_mlp.persistence`` adds the estimators' part on top of it.

Files are read with ``numpy.load(allow_pickle=False)`` only, so loading never
runs code; every name, dtype, shape and checksum is verified before an object
is built, and anything wrong raises a ``ValueError`` that says what.
"""

import hashlib
import json
import math
import os
import secrets
import zipfile

import numpy as np

from ._version import __version__
from .activations import ACTIVATIONS
from .layers import Dropout, Layer

FORMAT_NAME = "sknumpy-mlp"
#: Version of the file layout written by this package; see docs/model_files.rst.
#: 2 added regressors (class ``MLPScratchRegressor``); version 1 files still load.
FORMAT_VERSION = 2
FLOAT_DTYPES = ("float32", "float64")


# ------------------------------------------------------------------- writing


def layer_spec(layers):
    return [
        {
            "n_inputs": layer.n_inputs,
            "n_outputs": layer.n_outputs,
            "activation": layer.activation,
            "dropout": 0.0 if layer.dropout is None else layer.dropout.rate,
        }
        for layer in layers
    ]


def layer_arrays(layers):
    arrays = {}
    for i, layer in enumerate(layers):
        arrays[f"weights_{i}"] = layer.weights
        arrays[f"biases_{i}"] = layer.biases
    return arrays


def write(path, meta, arrays):
    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        **meta,
        "sha256": {name: digest(a) for name, a in arrays.items()},
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


def digest(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


# ------------------------------------------------------------------- reading


class ModelFile:
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
        if meta["dtype"] not in FLOAT_DTYPES:
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
        if check_digest and digest(value) != self.meta["sha256"].get(name):
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


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
