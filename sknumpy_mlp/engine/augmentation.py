r"""Random distortions of images, applied to every mini-batch while training.

Each image of a batch gets its own random affine map (rotation, scaling,
shift) and, optionally, an elastic deformation (Simard et al., 2003): a smooth
random displacement field. All of them are folded into one field of source
coordinates, and the image is resampled from it with bilinear interpolation
(zero outside the image), for the whole batch at once:

.. math::

   \mathbf{s}(\mathbf{q}) = \frac{1}{k} R_\theta (\mathbf{q} - \mathbf{c})
   + \mathbf{c} - \mathbf{t} + \mathbf{d}(\mathbf{q}),

where :math:`\mathbf{q}` is an output pixel, :math:`\mathbf{c}` the image
centre, :math:`R_\theta` a rotation by :math:`\theta`, :math:`k` the scale,
:math:`\mathbf{t}` the shift and :math:`\mathbf{d}` the elastic displacement:
random values in :math:`[-\alpha, \alpha]` on a coarse grid of control points
at most ``elastic_spacing`` pixels apart (evenly spread from edge to edge),
interpolated bilinearly to every pixel.

:func:`deskew` straightens and centres images with the same resampling, once,
before training and before prediction.
"""

import math

import numpy as np

__all__ = ["ImageAugmenter", "deskew"]


class ImageAugmenter:
    """Random shifts, rotations, scalings and elastic deformations of images.

    Give it to :class:`~sknumpy_mlp.MLPScratchClassifier` as ``augment=`` to
    distort every training batch anew each epoch (never the validation data or
    what is predicted); or call :meth:`transform` yourself.

    Parameters
    ----------
    image_shape : tuple of int, default=(28, 28)
        Height and width; rows of ``X`` are images flattened in C order.
    max_shift : float, default=2.0
        Largest shift in pixels, drawn uniformly in each direction.
    max_rotation : float, default=10.0
        Largest rotation in degrees, either way.
    max_scale : float, default=0.1
        The scale is drawn uniformly in ``[1 - max_scale, 1 + max_scale]``.
    elastic_alpha : float, default=0.0
        Largest elastic displacement in pixels at a control point (0: none).
    elastic_spacing : float, default=7.0
        Largest distance in pixels between the control points of the elastic
        field (they are spread evenly from edge to edge): larger is smoother.
    anneal_epochs : int, default=0
        Over the last ``anneal_epochs`` epochs of training, the distortions
        shrink linearly to ``final_strength`` times their size (0: they keep
        their size). See :meth:`strength`.
    final_strength : float, default=1.0
        The size of the distortions in the last epoch, as a fraction of the
        full size, in ``[0, 1]``: 0 trains the last epoch on the images as
        they are.

    Examples
    --------
    >>> import numpy as np
    >>> from sknumpy_mlp import ImageAugmenter
    >>> X = np.zeros((2, 784), dtype=np.float32)
    >>> X[:, 14 * 28 + 14] = 1.0  # one lit pixel in the middle
    >>> moved = ImageAugmenter(max_rotation=0, max_scale=0).transform(X, 0)
    >>> moved.shape, moved.dtype
    ((2, 784), dtype('float32'))
    >>> round(float(moved.sum(axis=1)[0]), 4)  # the ink is moved, not lost
    1.0
    """

    def __init__(
        self,
        image_shape=(28, 28),
        *,
        max_shift=2.0,
        max_rotation=10.0,
        max_scale=0.1,
        elastic_alpha=0.0,
        elastic_spacing=7.0,
        anneal_epochs=0,
        final_strength=1.0,
    ):
        self.image_shape = image_shape
        self.max_shift = max_shift
        self.max_rotation = max_rotation
        self.max_scale = max_scale
        self.elastic_alpha = elastic_alpha
        self.elastic_spacing = elastic_spacing
        self.anneal_epochs = anneal_epochs
        self.final_strength = final_strength

    _PARAMS = (
        "image_shape",
        "max_shift",
        "max_rotation",
        "max_scale",
        "elastic_alpha",
        "elastic_spacing",
        "anneal_epochs",
        "final_strength",
    )

    def get_params(self, deep=True):
        """The constructor's arguments (scikit-learn's convention)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params):
        """Set constructor arguments; returns ``self``."""
        for name, value in params.items():
            if name not in self._PARAMS:
                raise ValueError(f"Invalid parameter {name!r} for ImageAugmenter.")
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = ImageAugmenter().get_params()
        changed = [
            f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults[k]
        ]
        return f"ImageAugmenter({', '.join(changed)})"

    def __eq__(self, other):
        return type(other) is type(self) and other.get_params() == self.get_params()

    __hash__ = None

    def check(self, n_features=None):
        """Validate the parameters (and the image size against ``n_features``)."""
        shape = self.image_shape
        if not (
            isinstance(shape, tuple | list)
            and len(shape) == 2
            and all(isinstance(s, int | np.integer) and s >= 2 for s in shape)
        ):
            raise ValueError(
                "image_shape must be (height, width), two integers >= 2; "
                f"got {shape!r}."
            )
        for name in ("max_shift", "max_rotation", "elastic_alpha"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value < math.inf):
                raise ValueError(f"{name} must be a number >= 0; got {value!r}.")
        if not (isinstance(self.max_scale, int | float) and 0 <= self.max_scale < 1):
            raise ValueError(f"max_scale must be in [0, 1); got {self.max_scale!r}.")
        spacing = self.elastic_spacing
        if not (isinstance(spacing, int | float) and 1 <= spacing < math.inf):
            raise ValueError(f"elastic_spacing must be >= 1; got {spacing!r}.")
        anneal = self.anneal_epochs
        if isinstance(anneal, bool) or not (
            isinstance(anneal, int | np.integer) and anneal >= 0
        ):
            raise ValueError(f"anneal_epochs must be an integer >= 0; got {anneal!r}.")
        final = self.final_strength
        if not (isinstance(final, int | float) and 0 <= final <= 1):
            raise ValueError(f"final_strength must be in [0, 1]; got {final!r}.")
        if n_features is not None and shape[0] * shape[1] != n_features:
            raise ValueError(
                f"image_shape {tuple(shape)} has {shape[0] * shape[1]} "
                f"pixels, but X has {n_features} features."
            )
        return self

    def transform(self, X, random_state=None):
        """A randomly distorted copy of every row of ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, height * width)
        random_state : int, numpy.random.Generator or None

        Returns
        -------
        ndarray of the shape and dtype of ``X`` (float32 for integer input)
        """
        return self.distort(self._images(X), np.random.default_rng(random_state))

    def _images(self, X):
        """``X`` as an array, checked to be 2-D rows of images of this shape."""
        X = np.asarray(X)
        self.check(X.shape[1] if X.ndim == 2 else None)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, pixels); got {X.ndim}-D.")
        return X

    def average(self, predict, X, n_views=32, random_state=None):
        """Test-time augmentation: the mean of ``predict`` over ``X`` and
        ``n_views`` randomly distorted copies of it.

        A network trained on distorted images has learnt to recognise them
        under every distortion, but not equally well under each: averaging
        its predicted probabilities over a few dozen distortions of the same
        image (and the image itself) corrects some of its mistakes at the
        cost of ``n_views + 1`` predictions. Measured on MNIST in
        :doc:`/mnist_record`.

        Parameters
        ----------
        predict : callable
            Takes an array like ``X``, returns one of shape
            ``(n_samples, ...)`` to average, e.g. a fitted classifier's
            ``predict_proba`` or a regressor's ``predict``.
        X : ndarray of shape (n_samples, height * width)
        n_views : int, default=32
            Distorted copies of ``X`` (0: ``predict(X)`` alone).
        random_state : int, numpy.random.Generator or None

        Returns
        -------
        ndarray
            ``(predict(X) + sum of predict(distorted X)) / (n_views + 1)``.

        Examples
        --------
        >>> import numpy as np
        >>> from sknumpy_mlp import ImageAugmenter
        >>> X = np.zeros((3, 64))
        >>> ink = lambda images: images.sum(axis=1)  # a stand-in for predict_proba
        >>> ImageAugmenter((8, 8)).average(ink, X, n_views=4, random_state=0)
        array([0., 0., 0.])
        """
        if not (isinstance(n_views, int | np.integer) and n_views >= 0):
            raise ValueError(f"n_views must be an integer >= 0; got {n_views!r}.")
        X = self._images(X)
        rng = np.random.default_rng(random_state)
        total = np.array(predict(X), copy=True)
        if total.dtype.kind not in "fc":
            raise TypeError(
                "predict must return floats to average (predict_proba, say, not "
                f"predict's labels); it returned {total.dtype}."
            )
        for _ in range(n_views):
            total += predict(self.distort(X, rng))
        total /= n_views + 1
        return total

    def strength(self, epoch, total_epochs):
        r"""The size of the distortions in epoch ``epoch`` (from 0) of
        ``total_epochs``, as a fraction of the full size.

        With :math:`A` = ``anneal_epochs``, :math:`T` = ``total_epochs`` and
        :math:`s_f` = ``final_strength``, epoch :math:`e` distorts at

        .. math::

           s(e) = \begin{cases}
               1 & e < T - A, \\
               1 - (1 - s_f) \, \dfrac{e - (T - A) + 1}{A} & \text{otherwise,}
           \end{cases}

        which reaches :math:`s_f` in the last epoch: the training images come
        closer to the undistorted ones the network is tested on while the
        learning rate anneals to zero. The estimators count epochs as their
        learning-rate schedules do, ``max_iter`` to a cycle.

        Examples
        --------
        >>> from sknumpy_mlp import ImageAugmenter
        >>> augmenter = ImageAugmenter(anneal_epochs=4, final_strength=0.2)
        >>> [round(augmenter.strength(e, 10), 2) for e in range(5, 10)]
        [1.0, 0.8, 0.6, 0.4, 0.2]
        """
        start = total_epochs - self.anneal_epochs
        if self.anneal_epochs == 0 or epoch < start:
            return 1.0
        return 1.0 - (1.0 - self.final_strength) * (epoch - start + 1) / (
            self.anneal_epochs
        )

    def distort(self, X, rng, strength=1.0):
        """:meth:`transform` without the checks, for ``X`` already checked
        (the estimator calls it on every training batch); ``strength`` scales
        every distortion (the shift, rotation, scaling and elastic
        displacement) by that factor."""
        dtype = _float_dtype(X)
        height, width = (int(s) for s in self.image_shape)
        n = X.shape[0]
        rows, cols = self._source_coordinates(n, height, width, rng, dtype, strength)
        return _bilinear(X.reshape(n, height, width), rows, cols).astype(
            dtype, copy=False
        )

    def _source_coordinates(self, n, height, width, rng, dtype, strength=1.0):
        """Where each output pixel of each image is read from: two (n, h*w)."""
        max_rotation = self.max_rotation * strength
        max_scale = self.max_scale * strength
        max_shift = self.max_shift * strength
        alpha = self.elastic_alpha * strength
        work = np.float32 if dtype == np.float32 else np.float64
        qr, qc, weights = _constants(
            height, width, float(self.elastic_spacing), np.dtype(work).name
        )
        centre_r, centre_c = (height - 1) / 2, (width - 1) / 2
        theta = np.deg2rad(rng.uniform(-max_rotation, max_rotation, n))
        scale = rng.uniform(1 - max_scale, 1 + max_scale, n)
        shift = rng.uniform(-max_shift, max_shift, (2, n))
        cos = (np.cos(theta) / scale).astype(work)[:, None]
        sin = (np.sin(theta) / scale).astype(work)[:, None]
        if alpha > 0:
            field = rng.uniform(-alpha, alpha, (2 * n, weights.shape[1])).astype(work)
            rows, cols = np.split(field @ weights.T, 2)
        else:
            rows = np.zeros((n, height * width), dtype=work)
            cols = np.zeros((n, height * width), dtype=work)
        rows += cos * qr
        rows -= sin * qc
        rows += (centre_r - shift[0]).astype(work)[:, None]
        cols += sin * qr
        cols += cos * qc
        cols += (centre_c - shift[1]).astype(work)[:, None]
        return rows, cols


def deskew(X, image_shape=(28, 28)):
    r"""Straighten and centre every image of ``X``.

    Each image is sheared along its rows so that the ink's row and column
    become uncorrelated (a slanted stroke comes out upright), and shifted so
    that the ink's centre of mass lands on the image's centre. With the ink's
    centre :math:`(\bar r, \bar c)` and (co)variances
    :math:`\sigma_{rr}, \sigma_{rc}` (pixel values as weights), the output
    pixel :math:`(r, c)` is read, bilinearly, from

    .. math::

       \left(\bar r + (r - r_0),\;
       \bar c + (c - c_0) + \frac{\sigma_{rc}}{\sigma_{rr}} (r - r_0)\right),

    :math:`(r_0, c_0)` being the image's centre. The classic preprocessing of
    handwritten digits for classifiers that are not convolutional (LeCun et
    al., 1998): it takes away variation a network would otherwise have to
    learn. Apply it to the training and the test images alike (in a
    :class:`~sklearn.pipeline.Pipeline`: ``FunctionTransformer(deskew)``).

    Parameters
    ----------
    X : array-like of shape (n_samples, height * width)
        Images flattened in C order, pixel values >= 0 (ink).
    image_shape : tuple of int, default=(28, 28)

    Returns
    -------
    ndarray of the shape of ``X``; float32 for integer input, else its dtype.
    An image without ink comes back as zeros.

    Examples
    --------
    >>> import numpy as np
    >>> from sknumpy_mlp import deskew
    >>> image = np.zeros((9, 9))
    >>> for r in range(2, 7):
    ...     image[r, r - 1] = 1.0  # a stroke slanting right, one column left
    >>> upright = deskew(image.reshape(1, -1), (9, 9)).reshape(9, 9)
    >>> np.round(upright[2:7, 4], 6)  # all its ink in the middle column
    array([1., 1., 1., 1., 1.])
    """
    X = ImageAugmenter(image_shape)._images(X)
    height, width = (int(size) for size in image_shape)
    if X.dtype.kind not in "fiub":
        raise ValueError(f"X must hold numbers; got dtype {X.dtype}.")
    dtype = _float_dtype(X)
    # a NaN or an infinity makes the sum non-finite; a float64 sum of finite
    # values overflows only for float64 values near the largest (checked then)
    if X.dtype.kind == "f" and not np.isfinite(X.sum(dtype=np.float64)):
        if not np.isfinite(X).all():
            raise ValueError("deskew needs finite pixel values; X has NaN or infinity.")
    if X.size and X.min() < 0:
        raise ValueError(
            "deskew needs pixel values >= 0 (the ink of each image weighs its "
            "moments); deskew the images before standardising them."
        )
    # each pixel's offsets from the centre, and their products
    r, c = (
        np.indices((height, width)).reshape(2, -1) - np.c_[[height - 1, width - 1]] / 2
    )
    moments = np.stack([np.ones_like(r), r, c, r * r, r * c], axis=1)
    out = np.empty(X.shape, dtype=dtype)
    for start in range(0, X.shape[0], _DESKEW_ROWS):  # bounded temporaries
        rows = slice(start, start + _DESKEW_ROWS)
        out[rows] = _deskewed(X[rows].astype(dtype, copy=False), moments, height, width)
    return out


def _float_dtype(X):
    """The dtype of distorted or deskewed ``X``: its own, float32 for integers."""
    return X.dtype if X.dtype.kind == "f" else np.dtype(np.float32)


#: Images deskewed at a time (a few tens of megabytes of temporaries).
_DESKEW_ROWS = 1024


def _deskewed(X, moments, height, width):
    """:func:`deskew` of the rows ``X`` (checked, float), ``moments`` being the
    pixels' (1, r, c, r * r, r * c), r and c their offsets from the centre."""
    # the moments in float64, whatever X's dtype: mass, then the sums
    # weighted by r, c, r * r and r * c
    mass, sum_r, sum_c, sum_rr, sum_rc = (X.astype(np.float64) @ moments).T
    inked = mass > 0
    mass[~inked] = 1.0
    mean_r, mean_c = sum_r / mass, sum_c / mass
    var_r = sum_rr / mass - mean_r**2
    cov_rc = sum_rc / mass - mean_r * mean_c
    shear = np.divide(cov_rc, var_r, out=np.zeros_like(var_r), where=var_r > 1e-12)
    r, c = moments[:, 1], moments[:, 2]
    work = np.float32 if X.dtype == np.float32 else np.float64
    rows = (mean_r[:, None] + r + (height - 1) / 2).astype(work)
    cols = (mean_c[:, None] + c + (width - 1) / 2 + shear[:, None] * r).astype(work)
    out = _bilinear(X.reshape(-1, height, width), rows, cols)
    out[~inked] = 0
    return out


_CONSTANTS = {}


def _constants(height, width, spacing, dtype):
    """Pixel offsets from the centre and the elastic interpolation weights."""
    key = (height, width, spacing, dtype)
    if key not in _CONSTANTS:
        grid_r, grid_c = np.meshgrid(
            np.arange(height) - (height - 1) / 2,
            np.arange(width) - (width - 1) / 2,
            indexing="ij",
        )
        weights = _control_point_weights(height, width, spacing)
        _CONSTANTS[key] = (
            grid_r.ravel().astype(dtype),
            grid_c.ravel().astype(dtype),
            np.ascontiguousarray(weights.astype(dtype)),
        )
    return _CONSTANTS[key]


def _control_point_weights(height, width, spacing):
    """(h*w, k) bilinear weights of each pixel on a grid of control points."""

    def axis(size):
        n_points = max(2, math.ceil((size - 1) / spacing) + 1)
        position = np.linspace(0, n_points - 1, size)
        left = np.minimum(np.floor(position).astype(int), n_points - 2)
        frac = position - left
        weights = np.zeros((size, n_points))
        weights[np.arange(size), left] = 1 - frac
        weights[np.arange(size), left + 1] = frac
        return weights

    return np.einsum("ia,jb->ijab", axis(height), axis(width)).reshape(
        height * width, -1
    )


def _bilinear(images, rows, cols):
    """Sample ``images`` (n, h, w) at (n, h*w) coordinates; zero outside.

    ``rows`` and ``cols`` are overwritten (they become the fractional parts).
    """
    n, height, width = images.shape
    # two zero pixels around every image: coordinates clipped to [-1, size]
    # then read only zeros beyond the border
    stride = width + 4
    padded = np.zeros((n, height + 4, stride), dtype=rows.dtype)
    padded[:, 2:-2, 2:-2] = images
    flat = padded.reshape(-1)
    np.clip(rows, -1, height, out=rows)
    np.clip(cols, -1, width, out=cols)
    r0 = np.floor(rows)
    c0 = np.floor(cols)
    rows -= r0  # the fractions from here on
    cols -= c0
    # the flat index of each top-left neighbour (r0 * stride + c0 is a small
    # integer, exact in float32); the other three neighbours are read through
    # views of the padded images shifted by 1, stride and stride + 1
    r0 *= stride
    r0 += c0
    top_left = r0.astype(np.intp)
    top_left += (np.arange(n) * ((height + 4) * stride) + 2 * stride + 2)[:, None]
    top = _lerp(flat, flat[1:], top_left, cols)
    bottom = _lerp(flat[stride:], flat[stride + 1 :], top_left, cols)
    bottom -= top
    bottom *= rows
    top += bottom
    return top


def _lerp(left, right, index, fraction):
    """``left[index] + (right[index] - left[index]) * fraction``, a new array."""
    out = left.take(index)
    step = right.take(index)
    step -= out
    step *= fraction
    out += step
    return out
