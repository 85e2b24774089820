"""The shared test harness: `TestCase` with helpers for layers and models.

Model tests become a few lines of tiny config by calling the `run_*` helpers.
"""

import keras
import numpy as np
import pytest

from keras_nlp_clone.utils.lazy_module import tf


class TestCase:
    """Base class for tests (pytest style: plain `assert`s)."""

    @pytest.fixture(autouse=True)
    def _clear_session(self):
        keras.utils.set_random_seed(1337)
        yield
        keras.backend.clear_session()

    # === Assertions ===

    def assertAllClose(self, x, y, atol=1e-6, rtol=1e-6, msg=None):
        x = tf.nest.map_structure(keras.ops.convert_to_numpy, x)
        y = tf.nest.map_structure(keras.ops.convert_to_numpy, y)
        tf.nest.assert_same_structure(x, y)
        for a, b in zip(tf.nest.flatten(x), tf.nest.flatten(y)):
            np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, err_msg=msg)

    def assertAllEqual(self, x, y, msg=None):
        x = tf.nest.map_structure(_to_python, x)
        y = tf.nest.map_structure(_to_python, y)
        assert x == y, msg or f"{x!r} != {y!r}"


def _to_python(x):
    if isinstance(x, (list, tuple, str, bytes, int, float)) or x is None:
        return x
    return keras.ops.convert_to_numpy(x).tolist()
