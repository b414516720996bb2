"""Data augmentation (ImageAugmenter, augment=) and the max-norm constraint."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sknumpy_mlp import ImageAugmenter, MLPScratchClassifier, NeuralNetwork, deskew
from sknumpy_mlp.engine import Layer
from sknumpy_mlp.engine.augmentation import _bilinear

STILL = dict(max_shift=0, max_rotation=0, max_scale=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


def test_no_distortion_is_the_identity(digits):
    X, _ = digits
    out = ImageAugmenter((8, 8), **STILL).transform(X, 0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, X)


def _centre_of_mass(images):
    rows, cols = np.indices(images.shape[1:])
    mass = images.sum(axis=(1, 2))
    return np.stack([(images * i).sum(axis=(1, 2)) / mass for i in (rows, cols)])


def test_shifts_move_the_ink_without_losing_it():
    rng = np.random.default_rng(0)
    images = np.zeros((50, 20, 20))
    images[:, 7:13, 6:14] = rng.random((50, 6, 8))  # far from the border
    X = images.reshape(50, -1)
    out = ImageAugmenter((20, 20), max_shift=3, max_rotation=0, max_scale=0)
    moved = out.transform(X, 1).reshape(50, 20, 20)
    np.testing.assert_allclose(moved.sum(axis=(1, 2)), images.sum(axis=(1, 2)))
    shift = _centre_of_mass(moved) - _centre_of_mass(images)
    assert np.abs(shift).max() <= 3 + 1e-9
    assert np.abs(shift).max() > 1  # it did move them
    assert len(np.unique(np.round(shift, 6))) > 50  # each image its own shift


def test_rotations_and_scalings_keep_the_centre_and_the_elastic_field_is_bounded():
    augmenter = ImageAugmenter((28, 28), max_shift=0, max_rotation=30, max_scale=0.2)
    rng = np.random.default_rng(0)
    rows, cols = augmenter._source_coordinates(200, 28, 28, rng, np.float64)
    # the centre (13.5, 13.5) maps to itself; corners move by the rotation
    centre = np.array([[13.5], [13.5]])
    q = np.stack(np.indices((28, 28)).reshape(2, -1)).astype(float)
    offset_src = np.stack([rows, cols]) - centre[:, :, None]
    offset_dst = (q - centre)[:, None, :]
    ratio = np.linalg.norm(offset_src, axis=0) / np.maximum(
        np.linalg.norm(offset_dst, axis=0), 1e-12
    )
    assert np.all((ratio > 1 / 1.2 - 1e-9) & (ratio < 1 / 0.8 + 1e-9))
    elastic = ImageAugmenter((28, 28), **STILL, elastic_alpha=2.0, elastic_spacing=5)
    rows, cols = elastic._source_coordinates(200, 28, 28, rng, np.float64)
    displacement = np.stack([rows, cols]) - q[:, None, :]
    assert np.abs(displacement).max() <= 2.0 + 1e-9
    assert np.abs(displacement).max() > 1.0
    # smooth: neighbouring pixels move alike
    field = displacement[0].reshape(200, 28, 28)
    # 7 control points across 28 pixels: 4.5 pixels apart (at most 5)
    assert np.abs(np.diff(field, axis=2)).max() <= 2 * 2.0 / 4.5 + 1e-9


def test_bilinear_sampling_is_scipys_order_1_with_zeros_outside():
    from scipy import ndimage

    rng = np.random.default_rng(0)
    images = rng.random((30, 28, 20))
    strong = ImageAugmenter(
        (28, 20), max_shift=4, max_rotation=30, max_scale=0.2, elastic_alpha=3
    )
    rows, cols = strong._source_coordinates(30, 28, 20, rng, np.float64)
    assert (rows < 0).any() and (cols > 19).any()  # some pixels read outside
    expected = [
        ndimage.map_coordinates(image, [r, c], order=1, mode="grid-constant")
        for image, r, c in zip(images, rows, cols, strict=True)
    ]
    out = _bilinear(images, rows.copy(), cols.copy())
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)


def test_average_is_the_mean_over_the_images_and_their_distortions(digits):
    X, _ = digits
    X = X[:50]
    augmenter = ImageAugmenter((8, 8), max_shift=1, elastic_alpha=0.5)
    squares = lambda images: images.astype(np.float64) ** 2  # noqa: E731
    rng = np.random.default_rng(7)
    expected = squares(X) + sum(squares(augmenter.distort(X, rng)) for _ in range(5))
    out = augmenter.average(squares, X, n_views=5, random_state=7)
    np.testing.assert_allclose(out, expected / 6, rtol=1e-12)
    np.testing.assert_array_equal(
        augmenter.average(squares, X, n_views=0, random_state=7), squares(X)
    )
    still = ImageAugmenter((8, 8), **STILL)
    np.testing.assert_allclose(
        still.average(squares, X, n_views=3), squares(X), rtol=1e-12
    )


def test_average_over_distortions_of_a_trained_classifier(digits):
    X, y = digits
    clf = MLPScratchClassifier(
        augment=ImageAugmenter((8, 8), max_shift=0.5, max_rotation=5),
        max_iter=60,
        n_iter_no_change=60,
        tol=0,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):  # all 60 epochs run
        clf.fit(X[:1200], y[:1200])
    proba = clf.augment.average(clf.predict_proba, X[1200:], 8, random_state=0)
    assert proba.shape == (len(X) - 1200, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    accuracy = np.mean(clf.classes_[proba.argmax(axis=1)] == y[1200:])
    assert accuracy > 0.9
    assert not np.allclose(proba, clf.predict_proba(X[1200:]))


@pytest.mark.parametrize(
    "n_views, predict, error, message",
    [
        (-1, np.sum, ValueError, "n_views must be an integer >= 0; got -1"),
        (2.5, np.sum, ValueError, "n_views must be an integer >= 0; got 2.5"),
        (2, lambda X: np.zeros(len(X), int), TypeError, "returned int64"),
    ],
)
def test_average_refuses_bad_arguments(n_views, predict, error, message):
    with pytest.raises(error, match=message):
        ImageAugmenter((8, 8)).average(predict, np.zeros((3, 64)), n_views)
    with pytest.raises(ValueError, match="has 64 pixels, but X has 63"):
        ImageAugmenter((8, 8)).average(np.sum, np.zeros((3, 63)))


def _moments(images):
    """Centre of mass (rows, cols) and row-column covariance of each image."""
    r, c = np.indices(images.shape[1:])
    mass = images.sum(axis=(1, 2))
    mean_r = (images * r).sum(axis=(1, 2)) / mass
    mean_c = (images * c).sum(axis=(1, 2)) / mass
    r_off = r - mean_r[:, None, None]
    c_off = c - mean_c[:, None, None]
    return mean_r, mean_c, (images * r_off * c_off).sum(axis=(1, 2)) / mass


def test_deskew_makes_slanted_strokes_upright_and_centred():
    rng = np.random.default_rng(0)
    images = np.zeros((40, 28, 28))
    for i in range(40):  # a thick stroke of random slant, off-centre
        slant, shift_r, shift_c = rng.uniform(-0.5, 0.5), *rng.integers(-3, 4, 2)
        for r in range(6, 22):
            c = 13.5 + slant * (r - 13.5) + shift_c
            images[i, r + shift_r, int(round(c)) - 1 : int(round(c)) + 2] = 1.0
    mean_r, mean_c, cov = _moments(images)
    assert np.abs(cov).max() > 10  # slanted
    out = deskew(images.reshape(40, -1)).reshape(40, 28, 28)
    mean_r, mean_c, cov = _moments(out)
    np.testing.assert_allclose(mean_r, 13.5, atol=0.05)
    np.testing.assert_allclose(mean_c, 13.5, atol=0.05)
    assert np.abs(cov).max() < 0.3
    # interpolation moves the ink without losing it (the strokes stay inside)
    np.testing.assert_allclose(out.sum(axis=(1, 2)), images.sum(axis=(1, 2)))
    # straight and centred already: only rounding changes
    again = deskew(out.reshape(40, -1)).reshape(40, 28, 28)
    assert np.abs(_moments(again)[2]).max() < 0.3


def test_deskew_leaves_an_upright_centred_image_and_an_empty_one_alone():
    image = np.zeros((2, 8, 8), dtype=np.float32)
    image[0, 1:7, 3:5] = 1.0  # a bar about the centre (3.5, 3.5)
    out = deskew(image.reshape(2, -1), (8, 8))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, image.reshape(2, -1), atol=1e-6)
    as_integers = deskew((image * 255).astype(np.uint8).reshape(2, -1), (8, 8))
    assert as_integers.dtype == np.float32  # integers give float32, as the augmenter
    np.testing.assert_allclose(as_integers, out * 255, atol=1e-3)


def test_deskew_does_each_image_alone(digits, monkeypatch):
    from sknumpy_mlp.engine import augmentation

    X, _ = digits
    whole = deskew(X[:100], (8, 8))
    monkeypatch.setattr(augmentation, "_DESKEW_ROWS", 7)  # 15 pieces, one short
    np.testing.assert_allclose(deskew(X[:100], (8, 8)), whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(deskew(X[42:43], (8, 8)), whole[42:43], atol=1e-6)


def test_deskew_straightens_mnist(mnist):
    (X, _), _ = mnist
    X = X[:500]
    before = np.abs(_moments(X.reshape(-1, 28, 28).astype(np.float64))[2])
    after = np.abs(_moments(deskew(X).reshape(-1, 28, 28).astype(np.float64))[2])
    assert np.median(before) > 1.0
    assert np.median(after) < 0.1 * np.median(before)


@pytest.mark.parametrize(
    "X, image_shape, message",
    [
        (np.zeros((3, 63)), (8, 8), "has 64 pixels, but X has 63 features"),
        (np.zeros(64), (8, 8), "must be 2-D"),
        (np.zeros((3, 64)), (8,), "image_shape must be"),
        (-np.ones((3, 64)), (8, 8), "pixel values >= 0"),
        (np.full((3, 64), np.nan), (8, 8), "NaN or infinity"),
        (np.array([["a"] * 4]), (2, 2), "must hold numbers"),
    ],
)
def test_deskew_refuses_what_it_cannot_straighten(X, image_shape, message):
    with pytest.raises(ValueError, match=message):
        deskew(X, image_shape)


def test_same_seed_same_distortions_other_seed_others(digits):
    X, _ = digits
    augmenter = ImageAugmenter(
        (8, 8), max_shift=1, elastic_alpha=0.5, elastic_spacing=3
    )
    a, b, c = (augmenter.transform(X[:20], s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


class CountingAugmenter(ImageAugmenter):
    rows = 0

    def distort(self, X, rng):
        CountingAugmenter.rows += len(X)
        return super().distort(X, rng)


def test_the_estimator_distorts_only_training_batches(digits):
    X, y = digits
    CountingAugmenter.rows = 0
    augmenter = CountingAugmenter((8, 8), max_shift=1, max_rotation=10)
    clf = MLPScratchClassifier(augment=augmenter, early_stopping=True, random_state=0)
    clf.fit(X, y)
    n_train = len(X) - int(np.ceil(0.1 * len(X)))
    assert CountingAugmenter.rows == n_train * clf.n_iter_  # not the validation
    before = CountingAugmenter.rows
    clf.predict_proba(X)
    assert CountingAugmenter.rows == before  # nor predictions
    assert clf.score(X, y) > 0.9
    again = MLPScratchClassifier(
        augment=CountingAugmenter((8, 8), max_shift=1, max_rotation=10),
        early_stopping=True,
        random_state=0,
    ).fit(X, y)
    np.testing.assert_array_equal(again.coefs_[0], clf.coefs_[0])
    plain = MLPScratchClassifier(early_stopping=True, random_state=0)
    assert not np.array_equal(plain.fit(X, y).coefs_[0], clf.coefs_[0])


def test_strength_is_full_then_falls_linearly_to_the_final_strength():
    augmenter = ImageAugmenter(anneal_epochs=4, final_strength=0.0)
    strengths = [augmenter.strength(e, 10) for e in range(10)]
    np.testing.assert_allclose(strengths, [1] * 6 + [0.75, 0.5, 0.25, 0.0])
    assert ImageAugmenter().strength(9, 10) == 1.0  # no annealing
    # a longer annealing than the run: it is its last epochs that ran
    longer = ImageAugmenter(anneal_epochs=8, final_strength=0.2)
    assert longer.strength(3, 4) == pytest.approx(0.2)
    assert longer.strength(0, 4) == pytest.approx(1 - 0.8 * 5 / 8)


def test_strength_scales_every_distortion(digits):
    X, _ = digits
    full = ImageAugmenter((8, 8), max_shift=1, elastic_alpha=0.5, elastic_spacing=3)
    rng = lambda: np.random.default_rng(7)  # noqa: E731
    # strength 0: no distortion left, the images as they are (to rounding)
    np.testing.assert_allclose(full.distort(X, rng(), 0.0), X, atol=1e-6)
    # strength 1: the full distortions, bitwise
    np.testing.assert_array_equal(full.distort(X, rng(), 1.0), full.distort(X, rng()))
    half = ImageAugmenter(
        (8, 8), max_shift=0.5, max_rotation=5.0, max_scale=0.05,
        elastic_alpha=0.25, elastic_spacing=3,
    )  # fmt: skip
    np.testing.assert_allclose(
        full.distort(X, rng(), 0.5), half.distort(X, rng()), atol=1e-6
    )


class EpochCountingAugmenter(ImageAugmenter):
    """Sets its own size from the rows it has distorted (``n_rows`` an
    epoch): what ``anneal_epochs`` must do, written the long way."""

    def __init__(self, *args, n_rows=0, epochs=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.n_rows, self.epochs, self.rows = n_rows, epochs, 0

    def distort(self, X, rng, strength=1.0):
        epoch, start = self.rows // self.n_rows, self.epochs - self.anneal_epochs
        f = 1.0
        if epoch >= start:
            f = 1.0 - (1.0 - self.final_strength) * (epoch - start + 1) / (
                self.anneal_epochs
            )
        self.rows += len(X)
        return ImageAugmenter(
            self.image_shape, max_shift=self.max_shift * f,
            max_rotation=self.max_rotation * f, max_scale=self.max_scale * f,
            elastic_alpha=self.elastic_alpha * f,
            elastic_spacing=self.elastic_spacing,
        ).distort(X, rng)  # fmt: skip


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_estimator_anneals_the_distortions_over_the_last_epochs(digits):
    X, y = digits
    settings = dict(max_shift=1, elastic_alpha=0.5, elastic_spacing=3)
    params = dict(max_iter=5, batch_size=64, dropout=0.1, random_state=0)
    annealed = ImageAugmenter((8, 8), anneal_epochs=3, final_strength=0.25, **settings)
    clf = MLPScratchClassifier(augment=annealed, **params).fit(X, y)
    by_hand = EpochCountingAugmenter(
        (8, 8), anneal_epochs=3, final_strength=0.25, n_rows=len(X), epochs=5,
        **settings,
    )  # fmt: skip
    expected = MLPScratchClassifier(augment=by_hand, **params).fit(X, y)
    for a, b in zip(clf.coefs_, expected.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    plain = ImageAugmenter((8, 8), **settings)
    unannealed = MLPScratchClassifier(augment=plain, **params).fit(X, y)
    assert not np.array_equal(unannealed.coefs_[0], clf.coefs_[0])
    # a warm start counts on from the epochs already run, as the schedules do
    first = MLPScratchClassifier(augment=annealed, warm_start=True, **params)
    first.fit(X, y)
    first.fit(X, y)  # epochs 5-9: a second cycle of 5, annealed again
    by_hand.rows = 0
    again = MLPScratchClassifier(augment=by_hand, warm_start=True, **params)
    again.fit(X, y)
    by_hand.rows = 0  # the second cycle starts again at full strength
    again.fit(X, y)
    for a, b in zip(first.coefs_, again.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_augment_survives_clone_save_and_load(digits, tmp_path):
    X, y = digits
    augmenter = ImageAugmenter(
        (8, 8), max_shift=1.5, elastic_alpha=0.5, anneal_epochs=2, final_strength=0.5
    )
    clf = MLPScratchClassifier(augment=augmenter, max_iter=3, random_state=0)
    assert clone(clf).get_params()["augment"] == augmenter
    with pytest.warns(Warning):  # 3 epochs do not converge
        clf.fit(X, y)
    clf.save(tmp_path / "m.npz")
    loaded = MLPScratchClassifier.load(tmp_path / "m.npz")
    assert loaded.augment == augmenter and loaded.augment is not augmenter
    assert repr(loaded.augment) == (
        "ImageAugmenter(image_shape=(8, 8), max_shift=1.5, elastic_alpha=0.5, "
        "anneal_epochs=2, final_strength=0.5)"
    )


@pytest.mark.parametrize(
    "augmenter, X, solver, message",
    [
        (ImageAugmenter((28, 28)), np.zeros((10, 64)), "adam", "has 784 pixels"),
        (ImageAugmenter((8, 8)), sp.csr_matrix(np.ones((10, 64))), "adam", "dense"),
        (ImageAugmenter((8, 8)), np.zeros((10, 64)), "lbfgs", "stochastic solver"),
        (ImageAugmenter((8,)), np.zeros((10, 64)), "adam", "image_shape"),
        (ImageAugmenter(max_scale=1.5), np.zeros((10, 784)), "adam", "max_scale"),
        (ImageAugmenter(max_shift=-1), np.zeros((10, 784)), "adam", "max_shift"),
        (ImageAugmenter(elastic_spacing=0), np.zeros((10, 784)), "adam", "spacing"),
        (ImageAugmenter(anneal_epochs=-1), np.zeros((10, 784)), "adam", "anneal"),
        (ImageAugmenter(anneal_epochs=2.5), np.zeros((10, 784)), "adam", "anneal"),
        (ImageAugmenter(final_strength=2), np.zeros((10, 784)), "adam", "final_str"),
    ],
)
def test_bad_augment_settings_are_errors(augmenter, X, solver, message):
    y = np.arange(10) % 2
    clf = MLPScratchClassifier(augment=augmenter, solver=solver)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)


def test_augment_must_be_an_image_augmenter():
    with pytest.raises(ValueError, match="augment"):
        MLPScratchClassifier(augment="shift").fit(np.zeros((4, 4)), [0, 1, 0, 1])


def test_apply_max_norm_shortens_only_long_columns():
    net = NeuralNetwork([Layer(3, 4, dtype="float64"), Layer(4, 2, dtype="float64")])
    W = net.layers[0].weights
    W[...] = [[3.0, 0.1, 0, 1], [4.0, 0.1, 0, 1], [0.0, 0.1, 0, 1]]
    before = W.copy()
    net.apply_max_norm(2.0)
    np.testing.assert_allclose(W[:, 0], [1.2, 1.6, 0.0])  # 5 -> 2
    np.testing.assert_array_equal(W[:, 1:], before[:, 1:])  # norms <= 2 untouched


def test_apply_max_norm_takes_one_bound_per_layer():
    net = NeuralNetwork([Layer(3, 4, dtype="float64"), Layer(4, 2, dtype="float64")])
    for layer in net.layers:
        layer.weights[...] = 3.0
    net.apply_max_norm([None, 1.5])
    np.testing.assert_array_equal(net.layers[0].weights, 3.0)  # left free
    np.testing.assert_allclose(np.linalg.norm(net.layers[1].weights, axis=0), 1.5)
    with pytest.raises(ValueError, match="max_norm has 1 entries for 2 layers"):
        net.apply_max_norm([1.0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_max_norm_per_layer_bounds_each_layer_on_its_own(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(32,), max_iter=15, learning_rate_init=0.01,
                  random_state=0)  # fmt: skip
    clf = MLPScratchClassifier(max_norm=(None, 0.3), **params).fit(X, y)
    hidden, output = (np.linalg.norm(W, axis=0).max() for W in clf.coefs_)
    assert hidden > 0.3 and output <= 0.3 * (1 + 1e-5)
    # the same bound for every layer is max_norm=bound, to the bit
    one = MLPScratchClassifier(max_norm=0.3, **params).fit(X, y)
    each = MLPScratchClassifier(max_norm=[0.3, 0.3], **params).fit(X, y)
    for a, b in zip(one.coefs_, each.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(one.intercepts_, each.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "max_norm, message",
    [
        ((1.0,), "max_norm has 1 entries but the network has 2 layers"),
        ((1.0, 0.0), "Every max_norm bound must be a positive number or None"),
        ((1.0, "2"), "Every max_norm bound must be a positive number or None"),
    ],
)
def test_max_norm_per_layer_refuses_bad_bounds(digits, max_norm, message):
    X, y = digits
    clf = MLPScratchClassifier(hidden_layer_sizes=(8,), max_norm=max_norm)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_max_norm_holds_after_training(digits):
    X, y = digits
    norms = {}
    for max_norm in (None, 0.8):
        clf = MLPScratchClassifier(
            max_norm=max_norm, early_stopping=True, learning_rate_init=0.01,
            random_state=0,
        ).fit(X, y)  # fmt: skip
        norms[max_norm] = max(np.linalg.norm(W, axis=0).max() for W in clf.coefs_)
        assert clf.score(X, y) > 0.9
    assert norms[None] > 0.8
    assert norms[0.8] <= 0.8 * (1 + 1e-5)
