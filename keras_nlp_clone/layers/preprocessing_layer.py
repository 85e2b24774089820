"""Base class for layers whose body runs as TensorFlow ops on any backend."""

import keras

from keras_nlp_clone.utils.tensor_utils import assert_tf_available


class PreprocessingLayer(keras.layers.Layer):
    """A non-trainable layer that preprocesses data with TensorFlow ops.

    Subclasses write `call` with TensorFlow (and TensorFlow Text) ops and
    decorate it with `keras_nlp_clone.utils.tensor_utils.preprocessing_function`.
    The same layer then works in three places:
    - eagerly, under any Keras backend, taking Python strings, lists, NumPy
      arrays or backend tensors, and returning Python lists for ragged
      results and backend tensors for dense ones;
    - inside `tf.data.Dataset.map`, as graph ops;
    - inside a `tf.function`.

    Args:
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Raises:
        ImportError: when TensorFlow Text cannot be imported.
    """

    def __init__(self, **kwargs):
        assert_tf_available(self.__class__.__name__)
        super().__init__(**kwargs)
        # Keras must not convert our TF (possibly string or ragged) inputs to
        # backend tensors, nor refuse non-tensor positional arguments.
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.built = True

    def build(self, input_shape=None):
        self.built = True
