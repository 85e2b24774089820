"""The sum of a token embedding and a learned position embedding."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.position_embedding import PositionEmbedding
from keras_nlp_clone.layers.reversible_embedding import ReversibleEmbedding
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.keras_utils import clone_initializer


@keras_nlp_clone_export
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embeddings plus learned position embeddings.

    Looks up each id in a `ReversibleEmbedding` (sublayer
    `token_embedding`) and adds the learned embedding of its position from a
    `PositionEmbedding` (sublayer `position_embedding`). This is the input
    layer of GPT-2-style models; with `tie_weights=True` the token table can
    also project hidden states back to logits with
    `layer.token_embedding(hidden, reverse=True)`.

    Args:
        vocabulary_size: int. The number of token ids.
        sequence_length: int. The largest number of positions.
        embedding_dim: int. The embedding size.
        tie_weights: bool. Passed to the `ReversibleEmbedding`: whether its
            reverse projection reuses the token table. Defaults to `True`.
        embeddings_initializer: str or `keras.initializers.Initializer`. The
            initializer of both tables. Defaults to `"uniform"`.
        mask_zero: bool. Whether id `0` is padding, giving a Keras mask that
            downstream layers honour. Defaults to `False`.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        inputs: int tensor of token ids, shape `(batch, seq)`, with
            `seq <= sequence_length`.
        start_index: int or int scalar tensor. The position of the first
            token. Defaults to `0`.
        positions: int tensor `(batch, seq)` of explicit positions; overrides
            `start_index`. Defaults to `None`.

    Returns:
        A float tensor of shape `(batch, seq, embedding_dim)` in the compute
        dtype, with a Keras mask `inputs != 0` when `mask_zero=True`.

    Raises:
        ValueError: when `vocabulary_size`, `sequence_length` or
            `embedding_dim` is not a positive integer.

    Examples:
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> layer = keras_nlp_clone.layers.TokenAndPositionEmbedding(
    ...     vocabulary_size=100, sequence_length=16, embedding_dim=8)
    >>> tuple(layer(np.array([[5, 6, 7, 0]])).shape)
    (1, 4, 8)

    References:
        - Radford et al., 2019, "Language Models are Unsupervised Multitask
          Learners" (GPT-2): summed token and learned position embeddings.
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762).
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        embedding_dim,
        tie_weights=True,
        embeddings_initializer="uniform",
        mask_zero=False,
        **kwargs,
    ):
        for name, value in (
            ("vocabulary_size", vocabulary_size),
            ("sequence_length", sequence_length),
            ("embedding_dim", embedding_dim),
        ):
            argument_checks.check_positive_integer(
                type(self).__name__, name, value
            )
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.tie_weights = tie_weights
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer
        )
        self.mask_zero = mask_zero

        self.token_embedding = ReversibleEmbedding(
            vocabulary_size,
            embedding_dim,
            tie_weights=tie_weights,
            embeddings_initializer=clone_initializer(
                self.embeddings_initializer
            ),
            mask_zero=mask_zero,
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.position_embedding = PositionEmbedding(
            sequence_length=sequence_length,
            initializer=clone_initializer(self.embeddings_initializer),
            dtype=self.dtype_policy,
            name="position_embedding",
        )
        self.supports_masking = self.token_embedding.supports_masking

    def build(self, inputs_shape):
        self.token_embedding.build(inputs_shape)
        self.position_embedding.build((*inputs_shape, self.embedding_dim))
        self.built = True

    def call(self, inputs, start_index=0, positions=None):
        embedded_tokens = self.token_embedding(inputs)
        embedded_positions = self.position_embedding(
            embedded_tokens, start_index=start_index, positions=positions
        )
        return embedded_tokens + embedded_positions

    def compute_mask(self, inputs, mask=None):
        return self.token_embedding.compute_mask(inputs, mask=mask)

    def compute_output_shape(self, inputs_shape):
        return (*inputs_shape, self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim,
                "tie_weights": self.tie_weights,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
                "mask_zero": self.mask_zero,
            }
        )
        return config
