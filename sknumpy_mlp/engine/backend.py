"""Which array library the engine computes with, found from the arrays.

NumPy is the default and needs nothing more. Any other library of the Python
array API standard (CuPy, PyTorch on the CPU or a GPU, array-api-strict) works
through `array-api-compat <https://data-apis.org/array-api-compat/>`_ (the
``array-api`` extra): the engine then computes in that library, on the device
of its arrays. It needs a library whose slices and reshapes are views and
whose arrays take in-place operators (``a += b``), as CuPy's and PyTorch's
do (JAX's do not): the layers' parameters are views of one flat array that
the optimizers update in place.

The engine is written with the standard's names, which NumPy shares
(``xp.matmul``, ``xp.exp``, ``xp.sum``); what NumPy offers beyond them
(``out=`` buffers, ``where=``, cache-sized pieces) is used only when
``xp is numpy``, where it pays.

Random numbers (shuffling, dropout masks) come from one
:class:`numpy.random.Generator`, as always. On another library they are drawn
on the arrays' device by that library's own generator, seeded once from the
NumPy one (:class:`DeviceRandom`), so that no mask or permutation crosses
from the host in the per-batch loop; a library without a generator of its own
(array-api-strict) gets the NumPy draws, sent to the device.
"""

import numpy as np


def _compat():
    try:
        import array_api_compat
    except ImportError:  # pragma: no cover - the message is the point
        raise ImportError(
            "Arrays of libraries other than NumPy need array-api-compat: "
            "pip install 'sknumpy-mlp[array-api]'."
        ) from None
    return array_api_compat


_NUMPY_TYPES = (np.ndarray, np.generic)


def _is_host(a):
    """Whether ``a`` is not an array of another library than NumPy: a NumPy
    array, a scalar, None, a list, a scipy.sparse matrix, a DataFrame..."""
    if isinstance(a, _NUMPY_TYPES) or hasattr(a, "tocsr"):
        return True
    # PyTorch's tensors are the one kind without the standard's attribute
    return not (
        hasattr(a, "__array_namespace__") or type(a).__module__.startswith("torch")
    )


def namespace(*arrays):
    """The array namespace of ``arrays``: the ``numpy`` module itself for
    NumPy arrays (and scalars, None, scipy.sparse), else array-api-compat's
    namespace of the others (which must agree)."""
    for a in arrays:  # called for every array operation: NumPy's case first
        if type(a) is not np.ndarray and not _is_host(a):
            return _compat().array_namespace(*(b for b in arrays if not _is_host(b)))
    return np


def device(a):
    """The device of ``a`` (None for NumPy)."""
    return None if _is_host(a) else _compat().device(a)


def dtype_in(xp, dtype):
    """NumPy float ``dtype`` (``np.float32`` or ``'float64'``) as ``xp``'s."""
    return getattr(xp, np.dtype(dtype).name)


def dtype_name(dtype):
    """``'float32'`` or ``'float64'`` for a float dtype of any namespace."""
    for name in ("float32", "float64"):
        if name in str(dtype):
            return name
    raise ValueError(f"Expected a float32 or float64 dtype, got {dtype!r}.")


def to_numpy(a):
    """``a`` as a NumPy array on the host (``a`` itself when it is one)."""
    if _is_host(a):
        return a
    compat = _compat()
    if compat.is_torch_array(a):
        return a.detach().cpu().numpy()
    if compat.is_cupy_array(a):
        return a.get()
    xp = compat.array_namespace(a)
    if compat.is_array_api_strict_namespace(xp):
        return np.asarray(xp.asarray(a, device=xp.Device("CPU_DEVICE")))
    return np.asarray(compat.to_device(a, "cpu"))


def to_namespace(a, xp, device=None):
    """``a`` (of any library) as an array of ``xp`` on ``device``."""
    if xp is np:
        return to_numpy(a)
    if _is_host(a):
        return xp.asarray(a, device=device)
    return xp.asarray(to_numpy(a), device=device) if namespace(a) is not xp else a


def astype(a, dtype, copy=True):
    """``a`` in ``dtype`` (of ``a``'s library); scipy.sparse included."""
    if type(a) is np.ndarray or _is_host(a):
        return a.astype(dtype, copy=copy)
    return namespace(a).astype(a, dtype, copy=copy)


def copy(a, xp=None):
    """A copy of ``a`` (of namespace ``xp``, found from ``a`` if not given)."""
    if type(a) is np.ndarray:
        return a.copy()
    return (xp or namespace(a)).asarray(a, copy=True)


def array_sum(a, axis=None, keepdims=False):
    """``xp.sum(a, axis=axis, keepdims=keepdims)``; for NumPy the array's
    own method, which skips ``np.sum``'s Python wrapper (a microsecond, in
    every batch)."""
    if type(a) is np.ndarray:
        return a.sum(axis=axis, keepdims=keepdims)
    return namespace(a).sum(a, axis=axis, keepdims=keepdims)


def take_rows(a, rows, xp):
    """``a[rows]`` for an index array or a slice ``rows``."""
    if xp is np or isinstance(rows, slice):
        return a[rows]
    return xp.take(a, rows, axis=0)


class DeviceRandom:
    """Permutations and uniform draws on the device of ``xp`` arrays, from
    the NumPy generator ``rng``: for NumPy, ``rng`` itself; for PyTorch and
    CuPy, their own generator on ``device``, seeded once from ``rng``; for
    other libraries, ``rng``'s draws sent to the device."""

    def __init__(self, rng, xp, device=None):
        self.rng, self.xp, self.device = rng, xp, device
        self._native = None
        if xp is np:
            return
        compat = _compat()
        if compat.is_torch_namespace(xp):
            import torch

            seed = int(rng.integers(2**63 - 1))
            self._native = torch.Generator(device=device).manual_seed(seed)
            self._torch = torch
        elif compat.is_cupy_namespace(xp):
            import cupy

            seed = int(rng.integers(2**63 - 1))
            with cupy.cuda.Device(device):
                self._native = cupy.random.default_rng(seed)

    def permutation(self, n):
        """A random permutation of ``range(n)``."""
        if self.xp is np:
            return self.rng.permutation(n)
        if self._native is None:
            return self.xp.asarray(self.rng.permutation(n), device=self.device)
        if hasattr(self, "_torch"):
            return self._torch.randperm(n, generator=self._native, device=self.device)
        return self._native.permutation(n)

    def random(self, shape, dtype):
        """Uniform draws in [0, 1) of NumPy float ``dtype``."""
        if self.xp is np:
            return self.rng.random(shape, dtype=dtype)
        if self._native is None:
            return self.xp.asarray(
                self.rng.random(shape, dtype=dtype), device=self.device
            )
        if hasattr(self, "_torch"):
            return self._torch.rand(
                shape,
                generator=self._native,
                device=self.device,
                dtype=dtype_in(self.xp, dtype),
            )
        return self._native.random(shape, dtype=dtype)
