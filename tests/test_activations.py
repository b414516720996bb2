import numpy as np
import pytest

from sknumpy_mlp.engine.activations import (
    _LIMITS,
    ACTIVATIONS,
    ALIASES,
    DERIVATIVES,
    log_logistic,
    log_softmax,
    resolve_activation,
    row_max,
)
from sknumpy_mlp.engine.losses import binary_crossentropy, categorical_crossentropy

EXTREME = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_is_finite_at_extremes_without_warning(name, dtype):
    # pytest turns any overflow RuntimeWarning into an error
    out = ACTIVATIONS[name](EXTREME.astype(dtype))
    assert out.dtype == dtype
    assert np.isfinite(out).all()


def test_logistic_values_and_stability():
    out = ACTIVATIONS["logistic"](EXTREME.copy())
    assert out[0, 0] == 0.0 and out[0, -1] == 1.0
    assert out[0, 2] == 0.5
    np.testing.assert_allclose(out[0, 1], 1 / (1 + np.exp(50.0)), rtol=1e-12)


def test_softmax_rows_sum_to_one_at_extremes():
    Z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [3.0, 1.0, 0.2]])
    P = ACTIVATIONS["softmax"](Z.copy())
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    # what underflows is raised to the smallest normal number, never 0
    tiny = np.finfo(np.float64).tiny
    np.testing.assert_array_equal(P[0], [1.0, tiny, tiny])
    np.testing.assert_allclose(P[1], [1 / 3] * 3)
    expected = np.exp([3.0, 1.0, 0.2]) / np.exp([3.0, 1.0, 0.2]).sum()
    np.testing.assert_allclose(P[2], expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_classes", [3, 40])  # summed by a product, and not
def test_softmax_without_and_with_the_shift_agree(dtype, n_classes, rng):
    # logits inside the unshifted range, and the same rows with one logit
    # past it, which makes softmax subtract the row maxima: same probabilities
    bound = _LIMITS[np.dtype(dtype)][1]
    Z = rng.uniform(-bound, bound, size=(50, n_classes)).astype(dtype)
    expected = np.exp(Z - Z.max(axis=1, keepdims=True), dtype=np.float64)
    expected /= expected.sum(axis=1, keepdims=True)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    inside = ACTIVATIONS["softmax"](Z.copy())
    np.testing.assert_allclose(inside, expected, rtol=rtol)
    shifted = Z.copy()
    shifted[0, 0] = 2 * bound  # now every row is shifted
    outside = ACTIVATIONS["softmax"](shifted)
    np.testing.assert_allclose(outside[1:], inside[1:], rtol=rtol)
    few = ACTIVATIONS["softmax"](Z[:3].copy())  # the path for a few rows
    np.testing.assert_allclose(few, inside[:3], rtol=rtol)
    assert outside.min() >= np.finfo(dtype).tiny
    # a NaN logit spoils its own row only
    Z[3, 1] = np.nan
    P = ACTIVATIONS["softmax"](Z)
    assert np.isnan(P[3]).all() and np.isfinite(np.delete(P, 3, axis=0)).all()


@pytest.mark.parametrize("n_rows", [3, 50])  # the path for a few rows, and not
def test_float64_probabilities_of_float32_logits(n_rows, rng):
    # softmax(Z32, dtype=float64): the float32 logits' probabilities in
    # float64, within float32's rounding of the exponentials where no shift is
    # needed, to float64's precision where one is
    Z = rng.uniform(-25, 25, size=(n_rows, 10)).astype(np.float32)
    Z[-1, :3] = [-87, 87, 60]  # the extremes of float32 exponentials
    exact = ACTIVATIONS["softmax"](Z.astype(np.float64))
    P = ACTIVATIONS["softmax"](Z.copy(), dtype=np.float64)
    assert P.dtype == np.float64
    np.testing.assert_allclose(P, exact, rtol=3e-7, atol=0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-15)
    # probabilities near 1 keep float64's precision (float32 rounds these to 1)
    near_one = np.zeros((n_rows, 3), dtype=np.float32)
    near_one[:, 0] = 25.0
    P = ACTIVATIONS["softmax"](near_one, dtype=np.float64)
    np.testing.assert_allclose(P[:, 0], 1 / (1 + 2 * np.exp(-25.0)), rtol=1e-15)
    assert (P[:, 0] < 1).all()
    np.testing.assert_allclose(P[:, 1:], 1 / (np.exp(25.0) + 2), rtol=3e-7)
    # past float32's exponentials: in float64, never 0, as float64 logits
    far = Z.copy()
    far[0, 0] = 200.0
    P = ACTIVATIONS["softmax"](far.copy(), dtype=np.float64)
    expected = ACTIVATIONS["softmax"](far.astype(np.float64))
    np.testing.assert_allclose(P, expected, rtol=1e-15)
    # e^-225 and so on: far below float32's range, kept in float64
    assert 0 < P[0, 1:].min() < 1e-70
    # float64 logits with dtype=float64: in place, as without dtype
    Z64 = Z.astype(np.float64)
    assert ACTIVATIONS["softmax"](Z64, dtype=np.float64) is Z64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape", [(0, 3), (1, 1), (7, 10), (100, 31), (9, 32), (5, 70)]
)
def test_row_max_is_numpys_row_maximum(shape, dtype, rng):
    # both branches (narrow arrays through a transposed copy, wide ones not),
    # with a non-contiguous view, infinities and NaN
    Z = rng.normal(size=(shape[0], 2 * shape[1])).astype(dtype)[:, ::2]
    if Z.size > 2:
        Z.flat[0], Z.flat[1], Z.flat[-1] = -np.inf, np.inf, np.nan
    out = row_max(Z)
    assert out.shape == (shape[0], 1) and out.dtype == dtype
    np.testing.assert_array_equal(out, Z.max(axis=1, keepdims=True))


@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_derivative_matches_finite_differences(name, rng):
    Z = rng.normal(size=(5, 4))
    Z[np.abs(Z) < 1e-3] = 0.5  # keep clear of ReLU's kink
    G = rng.normal(size=Z.shape)  # an upstream gradient
    A = ACTIVATIONS[name](Z.copy())
    analytic = DERIVATIVES[name](A, G.copy(), Z)
    eps = 1e-6
    numeric = np.zeros_like(Z)
    for idx in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[idx] += eps
        Zm[idx] -= eps
        fp = (ACTIVATIONS[name](Zp) * G).sum()
        fm = (ACTIVATIONS[name](Zm) * G).sum()
        numeric[idx] = (fp - fm) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_aliases_resolve_and_unknown_names_are_refused():
    assert resolve_activation("sigmoid") == "logistic"
    assert set(ALIASES.values()) <= set(ACTIVATIONS)
    with pytest.raises(ValueError, match="Unknown activation 'swish'"):
        resolve_activation("swish")
    with pytest.raises(ValueError, match="must be a string"):
        resolve_activation(None)


def test_cross_entropy_from_logits_is_stable_and_exact():
    Z = np.array([[1e4, -1e4, 0.0], [0.0, 0.0, 0.0]])
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    loss, delta, P = categorical_crossentropy(Z, Y)
    # row 0: log-sum-exp = 1e4, true logit -1e4 -> 2e4; row 1: log 3
    np.testing.assert_allclose(loss, (2e4 + np.log(3)) / 2, rtol=1e-12)
    np.testing.assert_allclose(delta, (P - Y) / 2)
    assert np.isfinite(delta).all()


def test_binary_cross_entropy_from_logits_is_stable():
    Z = np.array([[1e4], [-1e4], [0.0]])
    Y = np.array([[0.0], [0.0], [1.0]])
    loss, delta, A = binary_crossentropy(Z, Y)
    np.testing.assert_allclose(loss, (1e4 + 0.0 + np.log(2)) / 3, rtol=1e-12)
    np.testing.assert_allclose(delta.ravel(), [1 / 3, 0.0, -0.5 / 3])


def test_log_helpers_match_logs_where_those_are_finite():
    Z = np.array([[2.0, -1.0, 0.5], [1e4, 0.0, -1e4]])
    np.testing.assert_allclose(
        log_softmax(Z[:1]), np.log(ACTIVATIONS["softmax"](Z[:1].copy()))
    )
    assert np.isfinite(log_softmax(Z)).all()
    np.testing.assert_allclose(log_softmax(Z)[1], [0.0, -1e4, -2e4])
    z = np.array([-30.0, 0.0, 30.0])
    np.testing.assert_allclose(log_logistic(z), -np.log1p(np.exp(-z)), rtol=1e-12)
    assert np.isfinite(log_logistic(np.array([-1e4, 1e4]))).all()
