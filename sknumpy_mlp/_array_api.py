"""scikit-learn's array API dispatch for the estimators.

With ``sklearn.set_config(array_api_dispatch=True)``, an estimator given the
arrays of another library (a PyTorch tensor, a CuPy array) trains in that
library, on their device: the engine computes there (see
:mod:`~sknumpy_mlp.engine.backend`). What is checked or encoded once a fit
(the labels, the sample weights, the early-stopping split) is done on the
host and sent to the device before the first epoch; the per-batch loop never
waits for the host. Without dispatch, or for NumPy input, nothing changes.
"""

import numpy as np
from sklearn import get_config

from .engine.backend import device, dtype_name, namespace


def training_namespace(X):
    """``(xp, device)`` that ``X`` trains in: its own library under
    ``array_api_dispatch``, else ``(numpy, None)``."""
    if not get_config()["array_api_dispatch"]:
        return np, None
    return namespace(X), device(X)


def float_types(xp):
    """The float dtypes of ``xp`` that ``validate_data`` may keep."""
    return (np.float64, np.float32) if xp is np else (xp.float64, xp.float32)


def numpy_dtype(dtype):
    """``np.float32`` or ``np.float64`` for a float dtype of any library."""
    return np.dtype(dtype_name(dtype))


def check_same_namespace(estimator, X, method):
    """Raise scikit-learn's error when ``X`` is not of the namespace and
    device that ``estimator`` was fitted in (its ``coefs_``)."""
    weights = estimator.coefs_[0]
    fitted_xp = namespace(weights)
    xp = namespace(X) if get_config()["array_api_dispatch"] else np
    if fitted_xp is xp and (xp is np or device(X) == device(weights)):
        return
    where = f"{getattr(fitted_xp, '__name__', fitted_xp)} on {device(weights)}"
    if fitted_xp is np:
        where = "numpy"
    given = getattr(xp, "__name__", xp) if xp is not np else "numpy"
    if xp is not np:
        given += f" on {device(X)}"
    elif not get_config()["array_api_dispatch"]:
        given += " (array_api_dispatch is off)"
    raise ValueError(
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the "
        f"same namespace and the same device as those passed to fit(): it was "
        f"fitted in {where}, got {given}. Move the estimator with: 'from "
        "sklearn.utils._array_api import get_namespace_and_device, "
        "move_estimator_to; xp, _, device = get_namespace_and_device(X); "
        "estimator = move_estimator_to(estimator, xp, device)'"
    )


def converted(estimator, converter):
    """A copy of fitted ``estimator`` with its numeric arrays (parameters and
    optimizer state) converted by ``converter``; labels of any type stay as
    they are (see ``BaseMLP.__sklearn_array_api_convert__``)."""
    from sklearn.base import clone

    new = clone(estimator)
    for name, value in vars(estimator).items():
        if name in ("coefs_", "intercepts_"):
            value = [converter(a) for a in value]
        elif name == "normalizations_":
            value = [None if n is None else n.copied(converter) for n in value]
        elif name == "_optimizer_state" and value is not None:
            value = {
                k: [converter(a) for a in v] if isinstance(v, list) else v
                for k, v in value.items()
            }
        setattr(new, name, value)
    return new
