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

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import secrets
import stat
import struct
import zipfile
import zlib

import numpy as np

from ._version import __version__
from .activations import ACTIVATIONS
from .backend import to_numpy
from .layers import Dropout, Layer
from .losses import LOSSES
from .normalization import NORMALIZATIONS, BatchNorm, kind_of
from .schema import (
    SchemaError,
    any_json,
    fields,
    integer,
    listing,
    mapping,
    number,
    optional,
    string,
)

FORMAT_NAME = "sknumpy-mlp"
#: Version of the file layout written by this package; see docs/model_files.rst.
#: 2 added regressors (class ``MLPScratchRegressor``); version 1 files still load.
FORMAT_VERSION = 2
FLOAT_DTYPES = ("float32", "float64")


# ------------------------------------------------------------------- writing


def layer_spec(layers):
    specs = []
    for layer in layers:
        spec = {
            "n_inputs": layer.n_inputs,
            "n_outputs": layer.n_outputs,
            "activation": layer.activation,
            "dropout": 0.0 if layer.dropout is None else layer.dropout.rate,
        }
        norm = layer.normalization
        if norm is not None:  # files without one keep loading
            spec["normalization"] = {
                "kind": kind_of(norm),
                "epsilon": norm.epsilon,
            }
            if isinstance(norm, BatchNorm):
                spec["normalization"]["momentum"] = norm.momentum
        specs.append(spec)
    return specs


#: A normalization's arrays in a model file, by the attribute they hold.
_NORM_ARRAYS = {
    "scale": "norm_scale",
    "shift": "norm_shift",
    "running_mean": "norm_mean",
    "running_var": "norm_var",
}


def layer_arrays(layers):
    arrays = {}
    for i, layer in enumerate(layers):
        arrays[f"weights_{i}"] = layer.weights
        arrays[f"biases_{i}"] = layer.biases
        if layer.normalization is not None:
            for attribute in layer.normalization._arrays():
                arrays[f"{_NORM_ARRAYS[attribute]}_{i}"] = getattr(
                    layer.normalization, attribute
                )
    return arrays


def write(path, meta, arrays):
    """Write ``meta`` and ``arrays`` to ``path`` as a model file, atomically
    (see :func:`atomic_write`)."""
    arrays = {name: np.ascontiguousarray(to_numpy(a)) for name, a in arrays.items()}
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        **meta,
        "sha256": {name: digest(a) for name, a in arrays.items()},
    }
    text = json.dumps(meta, allow_nan=False)
    arrays["metadata"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def atomic_write(path, write_to):
    """Call ``write_to(binary_file)`` for a file that then replaces ``path``.

    The data goes to a temporary file in the same folder, which then
    replaces ``path``: a reader sees the old file or the new one, never a
    part. A file that is replaced keeps its permission bits; a new one gets
    the user's umask, as any file they write. Temporaries are named
    ``.<name>.<pid>.<random>.tmp``; one left by a process that no longer
    exists (killed during a save) is removed by the next save to that folder.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            errno.ENOENT, f"cannot write {path!r}: the folder does not exist", path
        )
    _remove_stale_temporaries(directory, os.path.basename(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = None  # a new file: 0o666 less the umask, applied by os.open
    tmp = os.path.join(
        directory,
        f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(6)}.tmp",
    )
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise type(exc)(
            exc.errno, f"cannot write {path!r}: {exc.strerror}", path
        ) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.chmod(tmp, mode)
            write_to(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _remove_stale_temporaries(directory, name):
    """Remove ``.<name>.<pid>.<random>.tmp`` files of processes that are gone."""
    prefix = f".{name}."
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(".tmp")):
            continue
        pid = entry[len(prefix) :].split(".")[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, entry))


def _process_exists(pid):
    if pid == os.getpid() or os.name != "posix":
        return True  # (on Windows, os.kill(pid, 0) would send a Ctrl-C)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # someone else's, or not knowable: leave it
    return True


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


#: Every member of a model file is named ``<name>.npy``, ``<name>`` of these
#: characters; names are unique (see docs/model_files.rst).
MEMBER_NAME = re.compile(r"[A-Za-z0-9_]{1,100}")
#: Most members a model file may have (a network of 1000 layers with Adam's
#: state has about 6000).
MAX_MEMBERS = 20_000
#: Largest metadata entry read, in bytes.
MAX_METADATA_BYTES = 64 * 2**20
#: Exceptions that reading a damaged or hostile archive can raise, in zipfile,
#: numpy's header reader and the file system; each becomes a ModelFileError.
_DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    KeyError,
    RuntimeError,
    NotImplementedError,
    OverflowError,
    SyntaxError,  # numpy parses the .npy header as a Python literal
    MemoryError,
    zlib.error,
    struct.error,
)


class ModelFileError(ValueError):
    """A file that is not a valid model file; the message names the file."""


def _open_regular_file(path):
    """``path`` opened for reading, if it is a regular file: a FIFO or a device
    would block or never end."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ModelFileError(
                f"{path!r} is not a valid sknumpy-mlp model file: it is not a "
                "regular file."
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class ModelFile:
    """An opened, validated model file.

    The archive is read with :mod:`zipfile` and each member by its full
    name, never through ``numpy.load``'s name mapping (which prefers a plain
    ``weights_0`` to ``weights_0.npy``): what is checked is what is used.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.file = _open_regular_file(self.path)
        self.zip = None
        self.read = set()  # the members read so far
        try:
            self.size = os.fstat(self.file.fileno()).st_size
            self.members = self._read_directory()
            self.meta = self._read_metadata()
            self._check_members()
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        self.close()
        unread = sorted(set(self.members) - self.read)
        if exc_type is None and unread:
            # every member must be one the object was built from: a file whose
            # metadata drops a layer but keeps its arrays is not the same model
            raise self.error(f"its entries {unread[:5]} are not used by its metadata")

    def close(self):
        if self.zip is not None:
            self.zip.close()
        self.file.close()

    def error(self, problem):
        # the problem may quote the file's own values: never a page of them
        return ModelFileError(
            f"{self.path!r} is not a valid sknumpy-mlp model file: "
            f"{_shown(problem, 400)}."
        )

    def _read_directory(self):
        """The members by name (without ``.npy``), each checked to be stored
        plainly: unencrypted, uncompressed, no larger than the file."""
        if self.file.read(6) == b"\x93NUMPY":
            raise self.error("it holds a single array (.npy), not an .npz archive")
        self.file.seek(0)
        try:
            self.zip = zipfile.ZipFile(self.file)
            infos = self.zip.infolist()
        except _DAMAGE as exc:
            problem = f"it is not a readable .npz archive (a zip file: {_shown(exc)})"
            raise self.error(problem) from exc
        if len(infos) > MAX_MEMBERS:
            raise self.error(
                f"it has {len(infos)} entries, more than the {MAX_MEMBERS} a model "
                "file may have"
            )
        members = {}
        for info in infos:
            stem = info.filename[:-4] if info.filename.endswith(".npy") else None
            if stem is None or not MEMBER_NAME.fullmatch(stem):
                raise self.error(
                    f"it has an entry named {_shown(repr(info.filename))}, not "
                    "'<letters, digits, _>.npy'"
                )
            if stem in members:
                raise self.error(f"it has two entries named {info.filename!r}")
            if info.flag_bits & 0x1:
                raise self.error(f"the entry {stem!r} is encrypted")
            if info.compress_type != zipfile.ZIP_STORED:
                raise self.error(
                    f"the entry {stem!r} is compressed, which the format never does"
                )
            if info.file_size != info.compress_size or info.file_size > self.size:
                raise self.error(
                    f"the entry {stem!r} declares {info.file_size} bytes, more than "
                    "the file holds"
                )
            members[stem] = info
        return members

    def _read_metadata(self):
        if "metadata" not in self.members:
            raise self.error("it has no 'metadata' entry")
        raw = self.array(
            "metadata", check_digest=False, kinds="u", max_bytes=MAX_METADATA_BYTES
        )
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise self.error("its 'metadata' entry is not UTF-8 JSON bytes")
        try:
            text = raw.tobytes().decode("utf-8")
            meta = json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError included
            problem = f"its metadata is not valid JSON ({_shown(exc)})"
            raise self.error(problem) from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise self.error("its metadata does not name the sknumpy-mlp format")
        version = meta.get("format_version")
        if type(version) is not int or version < 1:
            raise self.error(f"its format version {_shown(version)} is not valid")
        if version > FORMAT_VERSION:
            raise ModelFileError(
                f"{self.path!r} was written in sknumpy-mlp model format version "
                f"{version} (by sknumpy-mlp {_shown(meta.get('package_version'))}), "
                f"but this is sknumpy-mlp {__version__}, which reads versions up to "
                f"{FORMAT_VERSION}. Upgrade sknumpy-mlp to load it."
            )
        self.check(meta, CONTAINER_SCHEMA, "metadata")
        for i, spec in enumerate(meta["layers"][1:], start=1):
            if spec["n_inputs"] != meta["layers"][i - 1]["n_outputs"]:
                raise self.error(
                    f"layer {i} has {spec['n_inputs']} inputs but layer {i - 1} has "
                    f"{meta['layers'][i - 1]['n_outputs']} outputs"
                )
        return meta

    def check(self, value, schema, where):
        """Check metadata ``value`` against ``schema`` (see :mod:`.schema`)."""
        try:
            schema(value, where)
        except SchemaError as exc:
            raise self.error(f"its {exc}") from None

    def _check_members(self):
        present = set(self.members) - {"metadata"}
        declared = set(self.meta["sha256"])
        for problem, names in (
            ("unexpected entries", sorted(present - declared)),
            ("missing entries", sorted(declared - present)),
        ):
            if names:
                more = f" and {len(names) - 5} more" if len(names) > 5 else ""
                raise self.error(f"it has {problem} {names[:5]}{more}")

    def expect(self, cls):
        if self.meta["class"] != cls:
            raise ModelFileError(
                f"{self.path!r} holds a {self.meta['class']}, not a {cls}; "
                "read it with sknumpy_mlp.load."
            )

    def array(self, name, *, check_digest=True, kinds=None, shape=None, max_bytes=None):
        """Member ``name``, its header checked (plain dtype of one of ``kinds``,
        ``shape``, a size that is exactly the member's data) before any data
        is read, and its checksum after."""
        info = self.members.get(name)
        if info is None:
            raise self.error(f"the entry {name!r} is missing")
        try:
            with self.zip.open(info) as f:
                shape_, fortran, dtype = _read_header(f)
                n_bytes = self._check_header(
                    name, info, f.tell(), shape_, dtype, kinds, shape, max_bytes
                )
                data = bytearray(n_bytes)
                if f.readinto(data) != n_bytes or f.read(1):
                    raise EOFError("the data is shorter or longer than declared")
        except ModelFileError:
            raise
        except _DAMAGE as exc:
            raise self.error(
                f"the entry {name!r} is damaged or truncated ({_shown(exc)})"
            ) from exc
        value = np.frombuffer(data, dtype=dtype).reshape(
            shape_, order="F" if fortran else "C"
        )
        if check_digest and digest(value) != self.meta["sha256"].get(name):
            raise self.error(f"the checksum of entry {name!r} does not match its data")
        self.read.add(name)
        return value

    def _check_header(
        self, name, info, header_bytes, declared, dtype, kinds, shape, max_bytes
    ):
        """The member's data size, once its header is found plain and exact."""
        if dtype.hasobject:
            raise self.error(
                f"the entry {name!r} holds Python objects (pickled data), which "
                "are never loaded"
            )
        if dtype.names is not None or dtype.subdtype is not None:
            raise self.error(f"the entry {name!r} holds records, not plain numbers")
        if not (dtype.isnative or dtype.itemsize == 1):
            raise self.error(f"the entry {name!r} has a byte-swapped dtype {dtype}")
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
        if max_bytes is not None and n_bytes > max_bytes:
            raise self.error(f"the entry {name!r} is larger than {max_bytes} bytes")
        return n_bytes

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
            if "normalization" in spec:
                layer.normalization = self._normalization(i, spec, dtype)
            layers.append(layer)
        return layers

    def _normalization(self, i, spec, dtype):
        """Layer ``i``'s BatchNorm or LayerNorm, its arrays checked."""
        options = dict(spec["normalization"])
        cls = NORMALIZATIONS[options.pop("kind")]
        norm = cls(spec["n_outputs"], dtype=dtype, **options)
        for attribute in norm._arrays():
            name = f"{_NORM_ARRAYS[attribute]}_{i}"
            value = self.array(name, kinds="f", shape=(spec["n_outputs"],))
            if value.dtype != dtype or not np.isfinite(value).all():
                raise self.error(f"the entry {name!r} is not finite {dtype}")
            if attribute == "running_var" and (value < 0).any():
                raise self.error(f"the entry {name!r} holds negative variances")
            setattr(norm, attribute, value)
        return norm


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _read_header(f):
    """``(shape, fortran_order, dtype)`` from an ``.npy`` member's header."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f)
    raise ValueError(f"unsupported .npy version {version}")


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _shown(value, limit=200):
    """``value`` as text, at most ``limit`` characters (an error message may
    quote a hostile file)."""
    text = value if isinstance(value, str) else str(value)
    if not isinstance(value, str | Exception):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: The container's part of the metadata: what every model file holds.
LAYER_SCHEMA = fields(
    {
        "n_inputs": integer(1),
        "n_outputs": integer(1),
        "activation": string(set(ACTIVATIONS)),
    },
    {
        "dropout": number(0, 1, high_open=True),
        "normalization": fields(
            {"kind": string({"batch", "layer"}), "epsilon": number(0, low_open=True)},
            {"momentum": number(0, 1, high_open=True)},
        ),
    },
)
CONTAINER_SCHEMA = fields(
    {
        "format": string({FORMAT_NAME}),
        "format_version": integer(1, FORMAT_VERSION),
        "class": string(max_length=100),
        "layers": listing(LAYER_SCHEMA, min_length=1, max_length=10_000),
        "dtype": string(set(FLOAT_DTYPES)),
        "sha256": mapping(
            string(pattern=MEMBER_NAME.pattern),
            string(pattern="[0-9a-f]{64}"),
            max_length=MAX_MEMBERS,
        ),
    },
    {
        "package_version": string(max_length=100),
        # a network's own entries
        "loss": optional(string(set(LOSSES))),
        "history": any_json(),
        # an estimator's (checked by sknumpy_mlp.persistence)
        "params": any_json(),
        "fitted": any_json(),
        "optimizer": any_json(),
        "shuffle_state": any_json(),
    },
)
