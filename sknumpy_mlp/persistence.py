"""Estimators in model files: their state as metadata and arrays, and back.

The container (the ``.npz`` layout, atomic writes, header and checksum checks,
the layers) is :mod:`sknumpy_mlp.engine.model_file`; this module adds what an
estimator stores on top of a network: its hyper-parameters, classes, feature
names, training history and optimizer state. The specification of both is
``docs/model_files.rst``.
"""

import os
import warnings

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .engine import NeuralNetwork
from .engine.augmentation import ImageAugmenter
from .engine.backend import to_numpy
from .engine.model_file import ModelFile, layer_arrays, layer_spec, write
from .engine.normalization import kind_of
from .engine.optimizers import OPTIMIZERS
from .engine.schema import (
    any_json,
    boolean,
    fields,
    integer,
    listing,
    mapping,
    number,
    optional,
    string,
)

# ------------------------------------------------------------------- writing


#: Every optimizer's state arrays, as the registry declares them.
_STATE_ARRAYS = {name for cls in OPTIMIZERS.values() for name in cls.STATE_ARRAYS}


def file_class(cls):
    """The class name a model file records for estimator class ``cls``."""
    if issubclass(cls, RegressorMixin):
        return "MLPScratchRegressor"
    return "MLPScratchClassifier"


def save_estimator(estimator, path):
    """Write a fitted estimator to ``path``."""
    check_is_fitted(estimator)
    network = estimator._network()
    arrays = layer_arrays(network.layers)
    regressor = isinstance(estimator, RegressorMixin)
    fitted = {
        "n_features_in_": int(estimator.n_features_in_),
        "t_": int(estimator.t_),
        "n_iter_": int(estimator.n_iter_),
    }
    if regressor:
        fitted["n_outputs"] = int(estimator.n_outputs_)
    else:
        classes = estimator.classes_
        arrays["classes"] = _plain(classes)
        fitted["multilabel"] = bool(estimator._multilabel)
        fitted["classes_object"] = classes.dtype == object
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
    fitted["has_feature_names"] = has_names
    meta = {
        "class": file_class(type(estimator)),
        "layers": layer_spec(network.layers),
        "dtype": np.dtype(network.dtype).name,
        "params": _encode_params(estimator.get_params(deep=False)),
        "fitted": fitted,
        "history": [_json_record(r) for r in estimator.history_],
        "optimizer": optimizer,
        "shuffle_state": estimator._shuffle_state,
    }
    write(path, meta, arrays)


def _json_record(record):
    return {
        k: (None if v is None else float(v) if k != "epoch" else int(v))
        for k, v in record.items()
    }


def _plain(values):
    """Object arrays (of str or numbers) as a plain unicode or numeric array."""
    values = np.asarray(to_numpy(values))
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
        if np.isinf(value):  # n_iter_no_change=np.inf; JSON has no infinity
            return {"__float__": "inf" if value > 0 else "-inf"}
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
    if isinstance(value, dict) and set(value) == {"__float__"}:
        if value["__float__"] not in ("inf", "-inf"):
            raise ValueError(f"invalid float {value['__float__']!r}")
        return float(value["__float__"])
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


# ------------------------------------------------------------------- reading


def load(path, estimators):
    """Read any model file this package writes.

    Parameters
    ----------
    path : str or path-like
    estimators : dict
        The estimator classes a file may hold, by name.

    Returns
    -------
    NeuralNetwork or estimator
        Whichever object the file holds.

    Raises
    ------
    ValueError
        If the file is not a valid sknumpy-mlp model file.
    """
    with ModelFile(path) as f:
        return _read(f, estimators)


def _read(f, estimators):
    cls = f.meta["class"]
    if cls == "NeuralNetwork":
        return NeuralNetwork.from_model_file(f)
    if cls not in estimators:
        raise f.error(f"it holds an unknown class {cls!r}")
    return load_estimator(f, estimators[cls])


def describe(path, estimators):
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
    with ModelFile(path) as f:
        model = _read(f, estimators)
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


def load_estimator(source, cls):
    """The ``cls`` estimator in ``source``, a path or an opened :class:`ModelFile`."""
    if not isinstance(source, ModelFile):
        with ModelFile(source) as f:
            return load_estimator(f, cls)
    f = source
    f.expect(file_class(cls))
    meta = f.meta
    regressor = issubclass(cls, RegressorMixin)
    for key, schema in (
        ("params", PARAMS_SCHEMA),
        ("fitted", REGRESSOR_FITTED if regressor else CLASSIFIER_FITTED),
        ("history", HISTORY_SCHEMA),
        ("optimizer", OPTIMIZER_SCHEMA),
        ("shuffle_state", SHUFFLE_SCHEMA),
    ):
        if key not in meta:
            raise f.error(f"its metadata has no {key!r} entry")
        f.check(meta[key], schema, key)
    est = _estimator(f, cls, meta["params"])
    fitted, history = meta["fitted"], meta["history"]
    if [r["epoch"] for r in history] != list(range(1, len(history) + 1)):
        raise f.error("its training history does not number its epochs 1, 2, ...")
    layers = f.layers()
    n_outputs = layers[-1].n_outputs
    if regressor:
        targets, expected_out = _regression_targets(f, est, fitted, n_outputs)
    else:
        targets, expected_out = _class_targets(f, fitted, n_outputs)
    _check_architecture(f, est, layers, fitted, expected_out)
    n_features = fitted["n_features_in_"]
    attributes = {
        **targets,
        "n_features_in_": n_features,
        "coefs_": [layer.weights for layer in layers],
        "intercepts_": [layer.biases for layer in layers],
        "normalizations_": [layer.normalization for layer in layers[:-1]],
        "n_layers_": len(layers) + 1,
        "out_activation_": expected_out,
        "package_version_": meta.get("package_version"),
        "t_": fitted["t_"],
    }
    if fitted["has_feature_names"]:
        names = f.array("feature_names", kinds="U", shape=(n_features,))
        attributes["feature_names_in_"] = names.astype(object)
    n_iter = fitted.get("n_iter_", len(history))  # absent before format 2
    if n_iter > len(history):
        raise f.error(f"its n_iter_ {n_iter} is more than its {len(history)} epochs")
    est._restore_fitted(
        attributes,
        history=history,
        n_iter=n_iter,
        optimizer=_optimizer(f, [p for layer in layers for p in layer.parameters()]),
        shuffle_state=_shuffle_state(f, meta["shuffle_state"]),
    )
    return est


def _estimator(f, cls, params):
    """A ``cls`` with the file's hyper-parameters, each checked."""
    try:
        params = {k: _from_json(v) for k, v in params.items()}
    except (ValueError, TypeError, RecursionError) as exc:
        raise f.error(f"its hyper-parameters are invalid ({exc})") from exc
    unknown = sorted(set(params) - set(cls().get_params()))
    if unknown:
        raise f.error(f"it has unknown hyper-parameters {unknown[:5]}")
    try:
        est = cls(**params)
        est._validate_params()
        est._layer_options()  # what fit checks of each hidden layer's options
    except Exception as exc:
        raise f.error(f"its hyper-parameters are invalid ({exc})") from exc
    return est


def _check_architecture(f, est, layers, fitted, expected_out):
    """The layers must be the ones the hyper-parameters and targets imply."""
    n_features = fitted["n_features_in_"]
    if n_features != layers[0].n_inputs:
        raise f.error(
            f"n_features_in_={n_features!r} does not match the first layer's "
            f"{layers[0].n_inputs} inputs"
        )
    try:
        hidden = est._hidden_sizes()
        activations = est._hidden_activations(len(hidden))
    except (ValueError, TypeError) as exc:
        raise f.error(f"its hyper-parameters are invalid ({exc})") from exc
    if [layer.n_outputs for layer in layers[:-1]] != hidden:
        raise f.error("its layer sizes do not match hidden_layer_sizes")
    if (
        layers[-1].activation != expected_out
        or [layer.activation for layer in layers[:-1]] != activations
    ):
        raise f.error("its layer activations do not match its hyper-parameters")
    try:
        kinds = est._normalization_kinds(len(hidden))
    except (ValueError, TypeError) as exc:
        raise f.error(f"its hyper-parameters are invalid ({exc})") from exc
    stored = [kind_of(layer.normalization) for layer in layers]
    if stored != [*kinds, None]:
        raise f.error("its normalizations do not match its hyper-parameters")


def _class_targets(f, fitted, n_outputs):
    """A classifier's target attributes, and the output activation they imply."""
    multilabel = bool(fitted.get("multilabel"))
    classes = f.array("classes", kinds="biufU")
    n_classes = n_outputs if multilabel else max(n_outputs, 2)
    if (
        classes.ndim != 1
        or len(classes) != n_classes
        or (n_outputs == 2 and not multilabel)
    ):
        raise f.error(
            f"its {len(classes)} classes do not fit an output layer of "
            f"{n_outputs} units"
        )
    if fitted.get("classes_object"):
        classes = classes.astype(object)
    attributes = {"classes_": classes, "_multilabel": multilabel}
    attributes["n_outputs_"] = n_outputs
    return attributes, "logistic" if multilabel or n_outputs == 1 else "softmax"


def _regression_targets(f, est, fitted, n_outputs):
    """A regressor's target attributes, and the output activation they imply."""
    if fitted.get("n_outputs") != n_outputs:
        raise f.error(
            f"n_outputs={fitted.get('n_outputs')!r} does not match the output "
            f"layer's {n_outputs} units"
        )
    return {"n_outputs_": n_outputs}, "exp" if est.loss == "poisson" else "identity"


def _optimizer(f, params):
    """``(solver, state)`` of the optimizer a warm start continues, each array
    checked against its parameter, and the whole state against the solver's
    ``load_state_dict`` (so that a warm start cannot fail on it later)."""
    spec = f.meta["optimizer"]
    if spec is None:
        return None, None
    cls = OPTIMIZERS[spec["solver"]]
    arrays = spec["arrays"]
    if len(set(arrays)) != len(arrays) or not set(arrays) <= set(cls.STATE_ARRAYS):
        raise f.error(
            f"its optimizer arrays {arrays} are not {spec['solver']!r}'s "
            f"{list(cls.STATE_ARRAYS)}"
        )
    state = {k: v for k, v in spec.items() if k not in ("solver", "arrays")}
    try:  # on one-value stand-ins: the keys and numbers are what is checked
        probe = [np.zeros(1)]
        options = {"decay": probe} if cls.DECAYS_WEIGHTS else {}
        cls(probe, **options).load_state_dict(
            {**state, **{key: [np.zeros(1)] for key in arrays}}
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise f.error(
            f"its optimizer state does not fit {spec['solver']!r} ({exc!r})"
        ) from exc
    for key in spec["arrays"]:
        state[key] = [
            f.array(f"optimizer_{key}_{i}", kinds="f", shape=p.shape)
            for i, p in enumerate(params)
        ]
    return spec.get("solver"), state


def _shuffle_state(f, state):
    """The random stream's state, checked by NumPy's own PCG64."""
    if state is not None:
        try:
            np.random.PCG64().state = state
        except (TypeError, ValueError) as exc:
            raise f.error(f"its shuffle_state is not valid ({exc})") from exc
    return state


# ------------------------------------------------------------------- schema

#: An estimator file's entries beyond the container's (see
#: :mod:`sknumpy_mlp.engine.schema`); docs/model_files.rst lists them.
PARAMS_SCHEMA = mapping(string(max_length=100), any_json(), max_length=200)
_COMMON_FITTED = {
    "n_features_in_": integer(1),
    "t_": integer(0),
    "has_feature_names": boolean(),
}
CLASSIFIER_FITTED = fields(
    {**_COMMON_FITTED, "multilabel": boolean(), "classes_object": boolean()},
    {"n_iter_": integer(0)},  # from format version 2 on
)
REGRESSOR_FITTED = fields(
    {**_COMMON_FITTED, "n_outputs": integer(1), "n_iter_": integer(0)}
)
HISTORY_SCHEMA = listing(
    fields(
        {
            "epoch": integer(1),
            "loss": number(),
            "validation_loss": optional(number()),
            "validation_score": optional(number()),
            "learning_rate": optional(number(0, low_open=True)),
            "seconds": number(0),
        }
    ),
    max_length=10**7,
)
OPTIMIZER_SCHEMA = optional(
    fields(
        {
            "solver": string(set(OPTIMIZERS)),
            "arrays": listing(string(_STATE_ARRAYS), max_length=len(_STATE_ARRAYS)),
            "t": integer(0),
            "learning_rate": number(0, low_open=True),
        }
    )
)
_UINT128 = integer(0, 2**128 - 1)
SHUFFLE_SCHEMA = optional(
    fields(
        {
            "bit_generator": string({"PCG64"}),
            "state": fields({"state": _UINT128, "inc": _UINT128}),
            "has_uint32": integer(0, 1),
            "uinteger": integer(0, 2**32 - 1),
        }
    )
)
