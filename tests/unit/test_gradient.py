"""Gradient checks: centred differences and the relative-error convention."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.gradient import gradient_check, numeric_gradient, relative_error


def loss(w: np.ndarray) -> float:
    """½Σ(σ(Xw + b) − Y)² for the assignment's OR problem: the backprop task's loss."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([[0], [1], [1], [1]], dtype=float)
    A = 1 / (1 + np.exp(-(X @ w + 1)))
    return 0.5 * float(np.sum((A - Y) ** 2))


W0 = np.array([[0.40316676], [-0.44345216]])
DW = np.array([[-0.08670498], [-0.13983613]])  # the assignment's dw for these weights


def test_numeric_gradient_of_a_quadratic_is_exact() -> None:
    a = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = numeric_gradient(lambda x: float(np.sum(a * x**2)), np.array([[1.0, 2.0], [-1.0, 0.5]]))
    np.testing.assert_allclose(g, 2 * a * np.array([[1.0, 2.0], [-1.0, 0.5]]), rtol=1e-8)


def test_numeric_gradient_matches_the_assignments_dw() -> None:
    np.testing.assert_allclose(numeric_gradient(loss, W0), DW, rtol=1e-6)


def test_numeric_gradient_leaves_the_input_alone_and_accepts_lists() -> None:
    x = np.array([1.0, 2.0])
    numeric_gradient(lambda v: float(np.sum(v**3)), x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    g = numeric_gradient(lambda v: float(v[0] * v[1]), [2, 3])
    np.testing.assert_allclose(g, [3.0, 2.0])


def test_numeric_gradient_only_requested_coords() -> None:
    calls = []

    def f(v: np.ndarray) -> float:
        calls.append(1)
        return float(np.sum(v**2))

    g = numeric_gradient(f, np.array([1.0, 2.0, 3.0]), coords=[(2,)])
    assert len(calls) == 2
    assert np.isnan(g[0]) and np.isnan(g[1])
    assert g[2] == pytest.approx(6.0)


def test_relative_error_convention() -> None:
    # max |a − b| / max(|a| + |b|, tiny)
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert relative_error(np.array([1.0, 10.0]), np.array([1.0, 11.0])) == pytest.approx(1 / 21)
    assert relative_error(np.array([1.0]), np.array([-1.0])) == pytest.approx(1.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0  # no 0/0
    assert relative_error(np.array([]), np.array([])) == 0.0
    assert relative_error(np.array([[1.0], [2.0]]), np.array([1.0, 2.0])) == 0.0  # flattened


def test_relative_error_is_symmetric_and_scale_free() -> None:
    a, b = np.array([0.3, -1.2, 5.0]), np.array([0.31, -1.2, 4.9])
    assert relative_error(a, b) == pytest.approx(relative_error(b, a))
    assert relative_error(a * 1e6, b * 1e6) == pytest.approx(relative_error(a, b))


def test_gradient_check_accepts_the_right_gradient() -> None:
    ok, err, num = gradient_check(DW, loss, W0)
    assert ok and err < 1e-7
    np.testing.assert_allclose(num, DW, rtol=1e-6)


@pytest.mark.parametrize("analytic", [DW.ravel(), DW.T])
def test_gradient_check_accepts_the_same_values_in_another_shape(analytic: np.ndarray) -> None:
    assert gradient_check(analytic, loss, W0)[0]


@pytest.mark.parametrize("analytic", [2 * DW, -DW, DW + 1e-3, np.zeros_like(DW)])
def test_gradient_check_rejects_wrong_gradients(analytic: np.ndarray) -> None:
    ok, err, _ = gradient_check(analytic, loss, W0)
    assert not ok and err > 1e-5


def test_gradient_check_rejects_the_wrong_number_of_elements() -> None:
    ok, err, num = gradient_check(np.array([1.0, 2.0, 3.0]), loss, W0)
    assert not ok and err == float("inf")
    assert num.shape == W0.shape
