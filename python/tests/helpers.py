"""Small helpers shared by the tests."""
import numpy as np


def assert_same_bits(actual, expected):
    """float32 arrays equal bit for bit (NaN payloads and signed zeros included)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.dtype == np.float32 and expected.dtype == np.float32, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    bad = np.flatnonzero(actual.view(np.uint32) != expected.view(np.uint32))
    assert bad.size == 0, "%d values differ, first at flat index %d: %r != %r" % (
        bad.size,
        bad[0],
        actual.ravel()[bad[0]],
        expected.ravel()[bad[0]],
    )
