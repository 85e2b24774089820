"""Shared body of the encoder backbones without segment embeddings."""

import keras

from keras_nlp_clone.layers.token_and_position_embedding import (
    TokenAndPositionEmbedding,
)
from keras_nlp_clone.layers.transformer_encoder import TransformerEncoder
from keras_nlp_clone.models.backbone import Backbone
from keras_nlp_clone.utils.keras_utils import gelu_exact
from keras_nlp_clone.utils.keras_utils import head_dtype_policy


class EncoderBackbone(Backbone):
    """Token + learned position embeddings, layer norm, dropout, then
    post-norm `TransformerEncoder` blocks (exact GELU); the output is the
    sequence of hidden states `(batch, seq_len, hidden_dim)`.

    The internal base of `RobertaBackbone` (and so `XLMRobertaBackbone`)
    and `DistilBertBackbone`, which differ only in the constants passed
    here; see their docstrings for the public arguments. Not exported.

    Args:
        vocabulary_size, num_layers, num_heads, hidden_dim,
        intermediate_dim, dropout, max_sequence_length, dtype: the public
            arguments of the family's backbone.
        layer_norm_epsilon: float. Epsilon of every layer norm.
        initializer: a function returning a fresh initializer, for the
            embeddings and the encoder kernels.
        embeddings_name: str. Name of the `TokenAndPositionEmbedding`
            layer (part of the variable paths in saved weights).
        **kwargs: passed to `Backbone` (e.g. `name`).

    Raises:
        ValueError: when `hidden_dim` is not divisible by `num_heads`.
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout,
        max_sequence_length,
        dtype,
        layer_norm_epsilon,
        initializer,
        embeddings_name,
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
            embeddings_initializer=initializer(),
            dtype=dtype,
            name=embeddings_name,
        )
        # Masked LM heads tie their output projection to this table; its
        # logits are float32 under mixed precision.
        self.token_embedding = self.embeddings.token_embedding
        self.token_embedding.reverse_dtype = head_dtype_policy(dtype).compute_dtype
        self.embeddings_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=dtype, name="embeddings_layer_norm"
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
                layer_norm_epsilon=layer_norm_epsilon,
                kernel_initializer=initializer(),
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
