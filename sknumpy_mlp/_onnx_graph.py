"""The ONNX graph of a fitted estimator, as skl2onnx converters.

The one implementation behind :mod:`sknumpy_mlp.onnx` (which registers both
estimators with skl2onnx when imported), the estimators' ``to_onnx`` methods
and the command line's ``export``. It needs the ``onnx`` extra (skl2onnx,
onnx, onnxruntime) and knows the estimators only through the model it is
given: :func:`register` takes their classes.

The graph is the network as it predicts: per layer a ``MatMul`` and an
``Add``, then the activation (dropout is the identity at inference), computed
in the model's own dtype (float32 or float64) whatever the input's. A
classifier has skl2onnx's two outputs, ``label`` and ``probabilities``
(a list of dicts unless the ``zipmap`` option is false); labels are int64 for
numbers, strings for strings, and a 0/1 int64 matrix for multilabel targets.
A regressor has one output, ``variable``, of shape (n_samples, n_outputs).
"""

import numpy as np

from .engine.backend import dtype_name, to_numpy
from .engine.model_file import atomic_write
from .engine.normalization import kind_of

try:
    import onnx
    from skl2onnx import (
        convert_sklearn,
        get_latest_tested_opset_version,
        update_registered_converter,
    )
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(
        f"ONNX export needs skl2onnx and onnx: pip install 'sknumpy-mlp[onnx]' ({exc})."
    ) from None

#: The opset the export uses unless told otherwise: the newest that both
#: skl2onnx has tested and the installed onnx knows.
DEFAULT_OPSET = min(get_latest_tested_opset_version(), onnx.defs.onnx_opset_version())

_TENSOR_TYPES = {np.float32: FloatTensorType, np.float64: DoubleTensorType}
_PROTO = {np.float32: onnx.TensorProto.FLOAT, np.float64: onnx.TensorProto.DOUBLE}

#: Activations that are one ONNX operator (with its attributes).
_SIMPLE = {
    "identity": ("Identity", {}),
    "relu": ("Relu", {}),
    "logistic": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "softmax": ("Softmax", {"axis": 1}),
}


def _model_dtype(model):
    """``np.float32`` or ``np.float64``: the dtype of the model's network."""
    return np.dtype(dtype_name(model.coefs_[0].dtype)).type


class _Graph:
    """Nodes and constants added to skl2onnx's container under unique names."""

    def __init__(self, scope, container, dtype):
        self.scope, self.container, self.dtype = scope, container, dtype

    def name(self, hint):
        return self.scope.get_unique_variable_name(hint)

    def constant(self, value, hint="constant", dtype=None):
        """An initializer holding ``value`` (in the graph's dtype by default)."""
        value = np.asarray(to_numpy(value), dtype=dtype or self.dtype)
        if value.dtype.kind == "U":
            proto = onnx.TensorProto.STRING
            data = [s.encode("utf-8") for s in value.ravel()]
        else:
            proto = {np.int64: onnx.TensorProto.INT64, **_PROTO}[value.dtype.type]
            data = value.ravel()
        name = self.name(hint)
        self.container.add_initializer(name, proto, list(value.shape), data)
        return name

    def node(self, op, inputs, output=None, domain=None, **attributes):
        output = output or self.name(op.lower())
        self.container.add_node(
            op,
            inputs,
            output,
            name=self.scope.get_unique_operator_name(op),
            op_domain=domain or "",
            **attributes,
        )
        return output


def _activation(graph, name, Z):
    """The nodes of activation ``name`` applied to ``Z``."""
    if name in _SIMPLE:
        op, attributes = _SIMPLE[name]
        return graph.node(op, [Z], **attributes)
    # LeakyRelu and Elu are written out: ONNX Runtime has them for float32 only
    if name == "leaky_relu":  # max(z, 0.01 z)
        return graph.node("Max", [Z, graph.node("Mul", [Z, graph.constant(0.01)])])
    if name == "elu":  # z where z >= 0, else e^z - 1
        negative = graph.node("Less", [Z, graph.constant(0.0)])
        exp = graph.node("Exp", [graph.node("Min", [Z, graph.constant(0.0)])])
        below = graph.node("Sub", [exp, graph.constant(1.0)])
        return graph.node("Where", [negative, below, Z])
    if name == "gelu":  # the tanh form: 0.5 z (1 + tanh(sqrt(2/pi) (z + c z^3)))
        cube = graph.node("Mul", [graph.node("Mul", [Z, Z]), Z])
        inner = graph.node(
            "Add", [Z, graph.node("Mul", [cube, graph.constant(0.044715)])]
        )
        scaled = graph.node("Mul", [inner, graph.constant(np.sqrt(2 / np.pi))])
        one_plus = graph.node(
            "Add", [graph.node("Tanh", [scaled]), graph.constant(1.0)]
        )
        return graph.node(
            "Mul", [graph.node("Mul", [Z, one_plus]), graph.constant(0.5)]
        )
    if name == "exp":  # capped as the engine's exp, so it never overflows
        cap = 0.99999 * np.log(np.finfo(graph.dtype).max)
        return graph.node("Exp", [graph.node("Min", [Z, graph.constant(cap)])])
    raise NotImplementedError(
        f"The activation {name!r} has no ONNX conversion; the converter knows "
        f"{sorted([*_SIMPLE, 'leaky_relu', 'elu', 'gelu', 'exp'])}."
    )


def _sigmoid(graph, Z, output=None):
    """``1 / (1 + e^-z)`` written out, accurate to a few ulps at both ends:
    ONNX Runtime's float32 Sigmoid loses the relative precision of small
    probabilities (1e-7 came out 10 % off), which predict_proba keeps."""
    denominator = graph.node(
        "Add", [graph.node("Exp", [graph.node("Neg", [Z])]), graph.constant(1.0)]
    )
    return graph.node("Reciprocal", [denominator], output)


def _normalization(graph, norm, Z):
    """A BatchNorm (its running averages) or LayerNorm, as the engine
    computes it at prediction: ``(Z - mean) * inverse * scale + shift``."""
    if kind_of(norm) == "batch":
        mean = graph.constant(to_numpy(norm.running_mean), "running_mean")
        inverse = 1.0 / np.sqrt(to_numpy(norm.running_var) + norm.epsilon)
        Z_hat = graph.node(
            "Mul", [graph.node("Sub", [Z, mean]), graph.constant(inverse, "inverse")]
        )
    elif kind_of(norm) == "layer":
        mean = _row_mean(graph, Z)
        centered = graph.node("Sub", [Z, mean])
        var = _row_mean(graph, graph.node("Mul", [centered, centered]))
        std = graph.node(
            "Sqrt", [graph.node("Add", [var, graph.constant(norm.epsilon)])]
        )
        Z_hat = graph.node("Mul", [centered, graph.node("Reciprocal", [std])])
    else:
        raise NotImplementedError(f"{norm!r} has no ONNX conversion.")
    scaled = graph.node("Mul", [Z_hat, graph.constant(to_numpy(norm.scale), "scale")])
    return graph.node("Add", [scaled, graph.constant(to_numpy(norm.shift), "shift")])


def _row_mean(graph, Z):
    """The mean of each row, as a column (ReduceMean's axes became an input
    in opset 18)."""
    if graph.container.target_opset >= 18:
        axes = graph.constant(np.array([1], dtype=np.int64), "axes", np.int64)
        return graph.node("ReduceMean", [Z, axes], keepdims=1)
    return graph.node("ReduceMean", [Z], axes=[1], keepdims=1)


def _logits(graph, model, X):
    """The output layer's pre-activation for input ``X``, in the model's dtype."""
    A = graph.node("Cast", [X], to=_PROTO[graph.dtype])
    activations = model._hidden_activations(len(model.coefs_) - 1)
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        Z = graph.node(
            "Add",
            [
                graph.node("MatMul", [A, graph.constant(W, "coefficient")]),
                graph.constant(to_numpy(b).reshape(1, -1), "intercepts"),
            ],
        )
        if i == len(activations):
            return Z
        norms = getattr(model, "normalizations_", None)
        if norms and norms[i] is not None:
            Z = _normalization(graph, norms[i], Z)
        A = _activation(graph, activations[i], Z)


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    graph = _Graph(scope, container, _model_dtype(model))
    Z = _logits(graph, model, operator.inputs[0].full_name)
    label, probabilities = (v.full_name for v in operator.outputs)
    if model._multilabel:
        P = _sigmoid(graph, Z)
        above = graph.node("Greater", [P, graph.constant(0.5)])
        graph.node("Cast", [above], label, to=onnx.TensorProto.INT64)
        graph.node("Cast", [P], probabilities, to=_PROTO[_probability_dtype(operator)])
        return
    if model.n_outputs_ == 1:  # sigma(-z) and sigma(z), as predict_proba
        both = graph.node("Concat", [graph.node("Neg", [Z]), Z], axis=1)
        P = _sigmoid(graph, both)
    else:
        P = graph.node("Softmax", [Z], axis=1)
    index = graph.node("ArgMax", [P], axis=1, keepdims=0)
    graph.node("Cast", [P], probabilities, to=_PROTO[_probability_dtype(operator)])
    classes = _label_values(model.classes_)
    graph.node(
        "Gather", [graph.constant(classes, "classes", classes.dtype), index], label
    )


def _label_values(classes):
    """``classes_`` as skl2onnx writes labels: int64 numbers, or strings."""
    if classes.dtype.kind in "biuf":
        return classes.astype(np.int64)
    return np.asarray([str(c) for c in classes])


def _probability_dtype(operator):
    """The model's dtype; float32 where skl2onnx's ZipMap follows (the
    ``zipmap`` option, on by default: ONNX's ZipMap takes float32 only)."""
    model = operator.raw_operator
    options = operator.scope_inst.get_options(model, {"zipmap": True})
    return np.float32 if options["zipmap"] is not False else _model_dtype(model)


def _classifier_shapes(operator):
    model = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    tensor = _TENSOR_TYPES[_probability_dtype(operator)]
    if model._multilabel:
        operator.outputs[0].type = Int64TensorType([n, len(model.classes_)])
    elif model.classes_.dtype.kind in "biuf":
        operator.outputs[0].type = Int64TensorType([n])
    else:
        operator.outputs[0].type = StringTensorType([n])
    operator.outputs[1].type = tensor([n, len(model.classes_)])


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    graph = _Graph(scope, container, _model_dtype(model))
    Z = _logits(graph, model, operator.inputs[0].full_name)
    A = _activation(graph, model.out_activation_, Z)  # identity, or exp (Poisson)
    graph.node("Identity", [A], operator.outputs[0].full_name)


def _regressor_shapes(operator):
    model = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _TENSOR_TYPES[_model_dtype(model)]([n, model.n_outputs_])


def register(*classes):
    """Register the converter of each estimator class with skl2onnx: a
    classifier's (with skl2onnx's ``zipmap`` option) or a regressor's."""
    from sklearn.base import ClassifierMixin

    for cls in classes:
        if issubclass(cls, ClassifierMixin):
            update_registered_converter(
                cls,
                f"Sknumpy{cls.__name__}",
                _classifier_shapes,
                _convert_classifier,
                options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
            )
        else:
            update_registered_converter(
                cls, f"Sknumpy{cls.__name__}", _regressor_shapes, _convert_regressor
            )


def to_onnx(model, path=None, *, target_opset=None, options=None):
    """``model`` (a fitted estimator, or a Pipeline ending in one) as an ONNX
    model, written to ``path`` if given.

    The input is ``X``, of shape (None, n_features_in_) and the dtype of the
    estimator's network (float32 or float64).

    Parameters
    ----------
    model : MLPScratchClassifier, MLPScratchRegressor or Pipeline
    path : str or path-like, optional
    target_opset : int, default=DEFAULT_OPSET
    options : dict, optional
        skl2onnx's conversion options, for example ``{"zipmap": False}`` for
        a classifier's probabilities as a plain tensor.

    Returns
    -------
    onnx.ModelProto
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    estimator = model.steps[-1][1] if hasattr(model, "steps") else model
    register(type(estimator))
    n_features = model.n_features_in_
    tensor = _TENSOR_TYPES[_model_dtype(estimator)]
    if options is not None and not hasattr(model, "steps"):
        options = {id(model): options}
    onx = convert_sklearn(
        model,
        initial_types=[("X", tensor([None, n_features]))],
        target_opset=target_opset or DEFAULT_OPSET,
        options=options,
    )
    if path is not None:  # all or nothing, as the model files
        atomic_write(path, lambda f: f.write(onx.SerializeToString()))
    return onx
