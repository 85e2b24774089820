"""RoBERTa backbone."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.token_and_position_embedding import (
    TokenAndPositionEmbedding,
)
from keras_nlp_clone.layers.transformer_encoder import TransformerEncoder
from keras_nlp_clone.models.backbone import Backbone
from keras_nlp_clone.utils.keras_utils import gelu_exact


def roberta_kernel_initializer(stddev=0.02):
    """RoBERTa's initializer: truncated normal with standard deviation
    0.02."""
    return keras.initializers.TruncatedNormal(stddev=stddev)


@keras_nlp_clone_export
class RobertaBackbone(Backbone):
    """A RoBERTa encoder network: token ids to contextual embeddings.

    Sums token embeddings and learned position embeddings (positions `0` to
    `seq_len - 1`), applies layer normalisation and dropout, then
    `num_layers` post-normalisation `TransformerEncoder` blocks (exact GELU,
    layer norm epsilon 1e-5, as Hugging Face `RobertaModel`). Unlike BERT
    there are no segment embeddings and no pooled output: the output is the
    sequence of hidden states.

    It takes preprocessed tensors; use `RobertaPreprocessor` for strings.
    This class has no task head; `RobertaClassifier` and `RobertaMaskedLM`
    add one.

    Hugging Face RoBERTa numbers positions from `pad_token_id + 1` (2) and
    adds a constant token-type embedding; its converter slices the position
    table and folds that constant into it, so outputs are the same.

    Args:
        vocabulary_size: int. Size of the token vocabulary.
        num_layers: int. Number of transformer layers.
        num_heads: int. Attention heads per layer; must divide `hidden_dim`.
        hidden_dim: int. Size of the hidden states and embeddings.
        intermediate_dim: int. Width of each feed-forward block.
        dropout: float. Dropout rate on embeddings, attention and
            feed-forward outputs. Defaults to `0.1`.
        max_sequence_length: int. Longest input the position embedding
            covers. Defaults to `512`.
        dtype: str or `keras.DTypePolicy`. Compute and weight dtype policy.
            Defaults to `None` (the global policy, float32 by default).
        **kwargs: passed to `Backbone` (e.g. `name`).

    Call arguments (a dict):
        token_ids: int tensor `(batch, seq_len)`, `seq_len <=
            max_sequence_length`.
        padding_mask: int or bool tensor `(batch, seq_len)`, 1/`True` for
            real tokens, 0/`False` for padding (masked as attention keys).

    Returns:
        The sequence output: a float tensor `(batch, seq_len, hidden_dim)`.

    Raises:
        ValueError: when `hidden_dim` is not divisible by `num_heads`.

    Examples:
    >>> import numpy as np
    >>> backbone = keras_nlp_clone.models.RobertaBackbone(
    ...     vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=8,
    ...     intermediate_dim=16, max_sequence_length=12)
    >>> outputs = backbone({
    ...     "token_ids": np.ones((1, 12), "int32"),
    ...     "padding_mask": np.ones((1, 12), "int32"),
    ... })
    >>> tuple(outputs.shape)
    (1, 12, 8)

    References:
        - [Liu et al., 2019](https://arxiv.org/abs/1907.11692)
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.1,
        max_sequence_length=512,
        dtype=None,
        **kwargs,
    ):
        if hidden_dim % num_heads != 0:
            raise ValueError(
                "`hidden_dim` must be divisible by `num_heads`. Received: "
                f"hidden_dim={hidden_dim}, num_heads={num_heads}."
            )
        # === Layers ===
        self.embeddings = TokenAndPositionEmbedding(
            vocabulary_size=vocabulary_size,
            sequence_length=max_sequence_length,
            embedding_dim=hidden_dim,
            embeddings_initializer=roberta_kernel_initializer(),
            dtype=dtype,
            name="embeddings",
        )
        self.token_embedding = self.embeddings.token_embedding
        self.embeddings_layer_norm = keras.layers.LayerNormalization(
            epsilon=1e-5, dtype=dtype, name="embeddings_layer_norm"
        )
        self.embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout"
        )
        self.transformer_layers = [
            TransformerEncoder(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                activation=gelu_exact,
                dropout=dropout,
                layer_norm_epsilon=1e-5,
                kernel_initializer=roberta_kernel_initializer(),
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]

        # === Functional Model ===
        token_id_input = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        padding_mask_input = keras.Input(
            shape=(None,), dtype="int32", name="padding_mask"
        )
        x = self.embeddings(token_id_input)
        x = self.embeddings_layer_norm(x)
        x = self.embeddings_dropout(x)
        for transformer_layer in self.transformer_layers:
            x = transformer_layer(x, padding_mask=padding_mask_input)
        super().__init__(
            inputs={
                "token_ids": token_id_input,
                "padding_mask": padding_mask_input,
            },
            outputs=x,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length
        self.start_token_index = 0

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "max_sequence_length": self.max_sequence_length,
            }
        )
        return config
