"""Fitted pipelines in files: the scikit-learn steps through ``skops.io``.

A single estimator is saved as this package's own ``.npz`` model file
(:mod:`sknumpy_mlp.persistence`). A :class:`~sklearn.pipeline.Pipeline` whose
last step is one of its estimators is saved with `skops
<https://skops.readthedocs.io>`_, a maintained library that stores
scikit-learn objects without pickle and loads only the types it is told to
trust: scikit-learn's own, and this package's (:func:`trusted_types`).
Install it with ``pip install 'sknumpy-mlp[pipelines]'``.
"""

import os
import stat
import zipfile

from sklearn.pipeline import Pipeline

from .engine.model_file import atomic_write

INSTALL = "pip install 'sknumpy-mlp[pipelines]'"


def _skops():
    try:
        import skops.io
    except ImportError as exc:
        raise ImportError(
            f"Saving and loading pipelines needs skops: {INSTALL}"
        ) from exc
    return skops.io


def trusted_types():
    """The names of this package's types that a pipeline file may hold
    (and of :func:`~sknumpy_mlp.deskew`, for ``FunctionTransformer(deskew)``).

    Pass them to ``skops.io.load(path, trusted=...)`` to read a pipeline file
    with skops directly; :func:`sknumpy_mlp.load` trusts them (and nothing
    else that skops does not trust by default).
    """
    from .engine.augmentation import ImageAugmenter, deskew
    from .estimator import MLPScratchClassifier
    from .regressor import MLPScratchRegressor

    names = (MLPScratchClassifier, MLPScratchRegressor, ImageAugmenter, deskew)
    return [f"{obj.__module__}.{obj.__qualname__}" for obj in names]


def is_pipeline(obj):
    """Whether ``obj`` is a Pipeline whose last step is one of our estimators."""
    from ._base import BaseMLP

    return isinstance(obj, Pipeline) and isinstance(obj.steps[-1][1], BaseMLP)


def is_pipeline_file(path):
    """Whether ``path`` is a skops file (a zip archive with ``schema.json``);
    never blocks: a FIFO or a device is not one."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with zipfile.ZipFile(path) as z:
            return "schema.json" in z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def save_pipeline(pipeline, path):
    """Write a fitted pipeline ending in one of our estimators to ``path``
    (atomically, keeping a replaced file's permissions)."""
    from sklearn.utils.validation import check_is_fitted

    if not is_pipeline(pipeline):
        raise TypeError(
            f"Expected a Pipeline whose last step is an MLPScratchClassifier or "
            f"MLPScratchRegressor, got {type(pipeline).__name__}."
        )
    check_is_fitted(pipeline)
    sio = _skops()
    atomic_write(path, lambda f: sio.dump(pipeline, f))


def load_pipeline(path):
    """The pipeline in the skops file ``path``; a type that is neither
    scikit-learn's nor this package's is refused, by name, before anything
    is built."""
    sio = _skops()
    path = os.fspath(path)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # a damaged archive or schema
        raise ValueError(f"{path!r} is not a readable pipeline file: {exc}") from exc
    ours = set(trusted_types())
    foreign = sorted(set(untrusted) - ours)
    if foreign:
        raise ValueError(
            f"{path!r} holds types that sknumpy-mlp does not trust: {foreign[:5]}. "
            "If you trust the file's source, load it with skops.io.load(path, "
            "trusted=[...]) naming them."
        )
    try:
        pipeline = sio.load(path, trusted=sorted(set(untrusted) & ours))
    except Exception as exc:
        raise ValueError(f"{path!r} is not a readable pipeline file: {exc}") from exc
    if not is_pipeline(pipeline):
        raise ValueError(
            f"{path!r} holds a {type(pipeline).__name__}, not a Pipeline ending in "
            "an sknumpy-mlp estimator."
        )
    return pipeline
