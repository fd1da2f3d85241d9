"""Box conversions to the wire form (ax, bx, by, cx, cy, cz), no consumer needed."""
import math

import numpy as np
import pytest

from westream import wire_box
from helpers import assert_same_bits


def lengths_angles(six):
    """[a, b, c, alpha, beta, gamma] of a wire box (float64)."""
    ax, bx, by, cx, cy, cz = (float(v) for v in six)
    a = np.array([ax, 0, 0])
    b = np.array([bx, by, 0])
    c = np.array([cx, cy, cz])
    la, lb, lc = (np.linalg.norm(v) for v in (a, b, c))

    def ang(u, v):
        return math.degrees(math.acos(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))))

    return [la, lb, lc, ang(b, c), ang(a, c), ang(a, b)]


def test_matrix_lower_triangular_is_taken_as_is():
    m = [[3.0, 0, 0], [0.5, 2.5, 0], [-0.25, 0.75, 4.0]]
    assert_same_bits(wire_box(m), np.array([3.0, 0.5, 2.5, -0.25, 0.75, 4.0], np.float32))


def test_matrix_float64_is_rounded_once():
    m = np.array([[1.1, 0, 0], [0.3, 1.7, 0], [0.1, 0.2, 1.9]], dtype=np.float64)
    expected = np.array([1.1, 0.3, 1.7, 0.1, 0.2, 1.9]).astype(np.float32)
    assert_same_bits(wire_box(m), expected)


def test_matrix_scale_for_nm_is_float64_times_ten():
    six = np.array([3.3663, 0.6844, 4.6074, 2.9463, 4.1713, 0.6511])
    m = np.array([[six[0], 0, 0], [six[1], six[2], 0], [six[3], six[4], six[5]]], dtype=np.float64)
    expected = (six * 10.0).astype(np.float32)
    assert_same_bits(wire_box(m, 10.0), expected)
    # Rounding to float32 first, then scaling, gives other numbers for these
    # values: the conversion order is observable, and this pins it.
    assert not np.array_equal(expected, six.astype(np.float32) * np.float32(10))


def test_matrix_small_upper_noise_is_tolerated_and_dropped():
    m = [[5.0, 1e-6, 0], [0, 5.0, -2e-6], [0, 0, 5.0]]
    assert_same_bits(wire_box(m), np.array([5, 0, 5, 0, 0, 5], np.float32))


@pytest.mark.parametrize("where", [(0, 1), (0, 2), (1, 2)])
def test_matrix_upper_triangular_entries_are_rejected(where):
    m = np.diag([3.0, 3.0, 3.0])
    m[where] = 0.5
    with pytest.raises(ValueError, match="lower-triangular"):
        wire_box(m)


def test_orthorhombic_lengths():
    assert_same_bits(wire_box([1.5, 2.5, 3.5]), np.array([1.5, 0, 2.5, 0, 0, 3.5], np.float32))


def test_dimensions_right_angles_equal_lengths_form():
    assert_same_bits(wire_box([10.0, 20.0, 30.0, 90, 90, 90]), wire_box([10.0, 20.0, 30.0]))


def test_dimensions_rhombic_dodecahedron():
    # GROMACS rhombic dodecahedron (xy-square): a=(d,0,0), b=(0,d,0), c=(d/2,d/2,d*sqrt(2)/2),
    # i.e. lengths d, d, d and angles alpha=60, beta=60, gamma=90.
    d = 7.0
    six = wire_box([d, d, d, 60, 60, 90])
    np.testing.assert_allclose(six, [d, 0, d, d / 2, d / 2, d * math.sqrt(2) / 2], rtol=1e-6, atol=1e-6)
    assert six[1] == 0.0  # gamma = 90 gives an exact zero


def test_dimensions_general_triclinic_round_trips():
    dims = [23.0, 31.5, 28.25, 75.0, 82.0, 101.5]
    six = wire_box(dims)
    assert six.dtype == np.float32 and six.shape == (6,)
    np.testing.assert_allclose(lengths_angles(six), dims, rtol=2e-6)
    # Explicit formulas from the docstring, in float64.
    a, b, c = dims[:3]
    al, be, ga = (math.radians(x) for x in dims[3:])
    cx = c * math.cos(be)
    cy = c * (math.cos(al) - math.cos(be) * math.cos(ga)) / math.sin(ga)
    expected = np.array([a, b * math.cos(ga), b * math.sin(ga), cx, cy, math.sqrt(c * c - cx * cx - cy * cy)])
    assert_same_bits(six, expected.astype(np.float32))


@pytest.mark.parametrize("angles", [(0, 90, 90), (90, 180, 90), (90, 90, -10)])
def test_dimensions_angles_out_of_range(angles):
    with pytest.raises(ValueError, match="between 0 and 180"):
        wire_box([10, 10, 10, *angles])


def test_dimensions_impossible_cell():
    with pytest.raises(ValueError, match="valid cell"):
        wire_box([10, 10, 10, 10, 100, 170])


@pytest.mark.parametrize("shape", [(2,), (4,), (9,), (2, 3), (3, 2), (1, 6)])
def test_bad_shapes(shape):
    with pytest.raises(ValueError, match=r"got shape \(" ):
        wire_box(np.ones(shape))


def test_non_numeric_box():
    with pytest.raises(TypeError):
        wire_box(["a", "b", "c"])
