"""ONNX export of both estimators, through skl2onnx.

Importing this module (it needs the ``onnx`` extra: skl2onnx, onnx and
onnxruntime) registers converters for :class:`~sknumpy_mlp.MLPScratchClassifier`
and :class:`~sknumpy_mlp.MLPScratchRegressor` with skl2onnx, so that
``skl2onnx.to_onnx(estimator_or_pipeline, X[:1])`` converts them as it does
scikit-learn's own MLPs, inside a Pipeline too. :func:`to_onnx` (and the
estimators' ``to_onnx`` methods, and ``sknumpy-mlp export``) make the same
graph without going through skl2onnx's entry point yourself.
"""

from ._onnx_graph import DEFAULT_OPSET, register, to_onnx
from .estimator import MLPScratchClassifier
from .regressor import MLPScratchRegressor

register(MLPScratchClassifier, MLPScratchRegressor)

__all__ = ["DEFAULT_OPSET", "register", "to_onnx"]
