"""`utils.tensor_utils.ragged_constant`: empty rows of ids stay ids."""

import tensorflow as tf

from keras_nlp_clone.utils.tensor_utils import ragged_constant


def test_empty_rows_become_int32_not_float32():
    # `tf.ragged.constant([[], []])` alone gives float32.
    ragged = ragged_constant([[], []])
    assert ragged.dtype == tf.int32
    assert ragged.to_list() == [[], []]


def test_values_keep_their_dtype():
    assert ragged_constant([[1, 2], []]).dtype == tf.int32
    assert ragged_constant([[1.5], []]).dtype == tf.float32
    strings = ragged_constant([["a"], []])
    assert strings.dtype == tf.string
    assert strings.to_list() == [[b"a"], []]
