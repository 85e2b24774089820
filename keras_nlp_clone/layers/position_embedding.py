"""A learned embedding per position, added to token embeddings."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.keras_utils import clone_initializer


@keras_nlp_clone_export
class PositionEmbedding(keras.layers.Layer):
    """A learned position embedding, as in BERT and GPT-2.

    Holds a trainable table of shape `(sequence_length, feature_dim)`, the
    variable `self.position_embeddings` (also reachable as `self.embeddings`)
    named `"embeddings"`, where
    `feature_dim` is the last dimension of the inputs. Called on a sequence
    `(batch, seq, feature_dim)`, it returns the embeddings of positions
    `start_index ... start_index + seq - 1`, broadcast to the input's shape;
    the inputs' values are not used, only their shape. Add the result to the
    token embeddings yourself (or use `TokenAndPositionEmbedding`).

    Args:
        sequence_length: int. The largest number of positions (the model's
            maximum sequence length).
        initializer: str or `keras.initializers.Initializer`. The table's
            initializer. Defaults to `"glorot_uniform"`.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        inputs: a float tensor of shape `(batch, seq, feature_dim)` (or
            `(seq, feature_dim)`), with `seq <= sequence_length`.
        start_index: int or int scalar tensor. The position of the first
            input token, e.g. the cache index when decoding one token at a
            time. Defaults to `0`.
        positions: int tensor of shape `(batch, seq)` (or `(seq,)`). Explicit
            positions to look up instead of the contiguous range; overrides
            `start_index`. Defaults to `None`.

    Returns:
        A tensor of the inputs' shape, in the compute dtype. A Keras mask on
        the inputs is passed through.

    Raises:
        ValueError: when `sequence_length` is not a positive integer, or when
            the inputs are longer than `sequence_length`.

    Examples:
    >>> import keras
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> token_embeddings = np.random.uniform(size=(2, 5, 16)).astype("float32")
    >>> layer = keras_nlp_clone.layers.PositionEmbedding(sequence_length=10)
    >>> outputs = keras.ops.add(token_embeddings, layer(token_embeddings))
    >>> tuple(outputs.shape)
    (2, 5, 16)

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805), learned
          position embeddings.
    """

    def __init__(
        self,
        sequence_length,
        initializer="glorot_uniform",
        **kwargs,
    ):
        argument_checks.check_positive_integer(
            type(self).__name__,
            "sequence_length",
            sequence_length,
            hint="It is the largest number of positions.",
        )
        super().__init__(**kwargs)
        self.sequence_length = sequence_length
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        feature_dim = inputs_shape[-1]
        self.position_embeddings = self.add_weight(
            name="embeddings",
            shape=(self.sequence_length, feature_dim),
            initializer=clone_initializer(self.initializer),
            trainable=True,
        )
        self.built = True

    @property
    def embeddings(self):
        """The position table (alias of `position_embeddings`)."""
        return self.position_embeddings

    def call(self, inputs, start_index=0, positions=None):
        shape = ops.shape(inputs)
        embeddings = ops.convert_to_tensor(self.position_embeddings)
        embeddings = ops.cast(embeddings, self.compute_dtype)
        if positions is not None:
            positions = ops.cast(positions, "int32")
            outputs = ops.take(embeddings, positions, axis=0)
            return ops.broadcast_to(outputs, shape)
        seq_length = shape[-2]
        if isinstance(seq_length, int) and seq_length > self.sequence_length:
            raise ValueError(
                f"The inputs have {seq_length} positions, more than this "
                f"layer's `sequence_length={self.sequence_length}`. Truncate "
                "the inputs or build the layer with a larger "
                "`sequence_length`."
            )
        feature_dim = shape[-1]
        outputs = ops.slice(
            embeddings, (start_index, 0), (seq_length, feature_dim)
        )
        return ops.broadcast_to(outputs, shape)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
