"""BART backbone."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.position_embedding import PositionEmbedding
from keras_nlp_clone.layers.reversible_embedding import ReversibleEmbedding
from keras_nlp_clone.layers.transformer_decoder import TransformerDecoder
from keras_nlp_clone.layers.transformer_encoder import TransformerEncoder
from keras_nlp_clone.models.backbone import Backbone
from keras_nlp_clone.utils.keras_utils import gelu_exact
from keras_nlp_clone.utils.keras_utils import head_dtype_policy
from keras_nlp_clone.utils.host_initializers import HostTruncatedNormal


def bart_kernel_initializer(stddev=0.02):
    """BART's initializer: truncated normal with standard deviation 0.02."""
    return HostTruncatedNormal(stddev=stddev)


@keras_nlp_clone_export
class BartBackbone(Backbone):
    """A BART encoder-decoder network: two token sequences to hidden states.

    The encoder sums token embeddings and learned encoder position
    embeddings (positions `0` to `encoder_seq_len - 1`), applies layer
    normalisation and dropout, then `num_layers` post-normalisation
    `TransformerEncoder` blocks. The decoder does the same with its own
    position embeddings and layer norm, then `num_layers` post-normalisation
    `TransformerDecoder` blocks with causal self-attention and
    cross-attention to the encoder output. Every block uses the exact (erf)
    GELU and layer norm epsilon 1e-5. The token embedding is shared by the
    encoder and the decoder and is a tied `ReversibleEmbedding`, exposed as
    `token_embedding`, so that a language-model head can reuse it. Given the
    same weights this is Hugging Face's `BartModel` (with
    `scale_embedding=False`, as every published BART).

    The layers are attributes, so that a generation task can run the encoder
    once and the decoder one token at a time with caches:
    `token_embedding`; `encoder_position_embedding`,
    `encoder_embeddings_add`, `encoder_embeddings_layer_norm`,
    `encoder_embeddings_dropout`, `encoder_transformer_layers`; and the
    `decoder_*` counterparts, `decoder_transformer_layers` included.

    It takes preprocessed tensors; use `BartSeq2SeqLMPreprocessor` for
    strings. This class has no language-model head; `BartSeq2SeqLM` adds
    one.

    Hugging Face's `BartLearnedPositionalEmbedding` looks up position `i`
    at row `i + 2` of a table of `max_position_embeddings + 2` rows; its
    converter drops the first two rows, so outputs are the same.

    Args:
        vocabulary_size: int. Size of the token vocabulary.
        num_layers: int. Number of encoder layers, and of decoder layers.
        num_heads: int. Attention heads per layer; must divide `hidden_dim`.
        hidden_dim: int. Size of the hidden states and embeddings.
        intermediate_dim: int. Width of each feed-forward block.
        dropout: float. Dropout rate on embeddings, attention and
            feed-forward outputs. Defaults to `0.1`.
        max_sequence_length: int. Longest encoder or decoder input the
            position embeddings cover. Defaults to `1024`.
        dtype: str or `keras.DTypePolicy`. Compute and weight dtype policy.
            Defaults to `None` (the global policy, float32 by default).
        **kwargs: passed to `Backbone` (e.g. `name`).

    Call arguments (a dict):
        encoder_token_ids: int tensor `(batch, encoder_seq_len)`.
        encoder_padding_mask: int or bool tensor `(batch,
            encoder_seq_len)`, 1/`True` for real tokens, 0/`False` for
            padding (masked as encoder self-attention and cross-attention
            keys).
        decoder_token_ids: int tensor `(batch, decoder_seq_len)`.
        decoder_padding_mask: int or bool tensor `(batch,
            decoder_seq_len)`, masking decoder self-attention keys.
        Both lengths must be `<= max_sequence_length`.

    Returns:
        A dict of float tensors: `encoder_sequence_output` of shape
        `(batch, encoder_seq_len, hidden_dim)` and `decoder_sequence_output`
        of shape `(batch, decoder_seq_len, hidden_dim)`.

    Raises:
        ValueError: when `hidden_dim` is not divisible by `num_heads`, or
            when an input is longer than `max_sequence_length`.

    Examples:
    >>> import numpy as np
    >>> backbone = keras_nlp_clone.models.BartBackbone(
    ...     vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=8,
    ...     intermediate_dim=16, max_sequence_length=12)
    >>> outputs = backbone({
    ...     "encoder_token_ids": np.ones((1, 12), "int32"),
    ...     "encoder_padding_mask": np.ones((1, 12), "int32"),
    ...     "decoder_token_ids": np.ones((1, 5), "int32"),
    ...     "decoder_padding_mask": np.ones((1, 5), "int32"),
    ... })
    >>> tuple(outputs["encoder_sequence_output"].shape)
    (1, 12, 8)
    >>> tuple(outputs["decoder_sequence_output"].shape)
    (1, 5, 8)

    References:
        - [Lewis et al., 2019](https://arxiv.org/abs/1910.13461)
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.1,
        max_sequence_length=1024,
        dtype=None,
        **kwargs,
    ):
        if hidden_dim % num_heads != 0:
            raise ValueError(
                "`hidden_dim` must be divisible by `num_heads`. Received: "
                f"hidden_dim={hidden_dim}, num_heads={num_heads}."
            )
        # === Layers ===
        self.token_embedding = ReversibleEmbedding(
            input_dim=vocabulary_size,
            output_dim=hidden_dim,
            tie_weights=True,
            embeddings_initializer=bart_kernel_initializer(),
            dtype=dtype,
            # float32 logits under mixed precision.
            reverse_dtype=head_dtype_policy(dtype).compute_dtype,
            name="token_embedding",
        )
        # Encoder.
        self.encoder_position_embedding = PositionEmbedding(
            sequence_length=max_sequence_length,
            initializer=bart_kernel_initializer(),
            dtype=dtype,
            name="encoder_position_embedding",
        )
        self.encoder_embeddings_add = keras.layers.Add(
            dtype=dtype, name="encoder_embeddings_add"
        )
        self.encoder_embeddings_layer_norm = keras.layers.LayerNormalization(
            epsilon=1e-5, dtype=dtype, name="encoder_embeddings_layer_norm"
        )
        self.encoder_embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="encoder_embeddings_dropout"
        )
        self.encoder_transformer_layers = [
            TransformerEncoder(
                intermediate_dim=intermediate_dim,
                num_heads=num_heads,
                dropout=dropout,
                activation=gelu_exact,
                layer_norm_epsilon=1e-5,
                kernel_initializer=bart_kernel_initializer(),
                dtype=dtype,
                name=f"transformer_encoder_layer_{i}",
            )
            for i in range(num_layers)
        ]
        # Decoder.
        self.decoder_position_embedding = PositionEmbedding(
            sequence_length=max_sequence_length,
            initializer=bart_kernel_initializer(),
            dtype=dtype,
            name="decoder_position_embedding",
        )
        self.decoder_embeddings_add = keras.layers.Add(
            dtype=dtype, name="decoder_embeddings_add"
        )
        self.decoder_embeddings_layer_norm = keras.layers.LayerNormalization(
            epsilon=1e-5, dtype=dtype, name="decoder_embeddings_layer_norm"
        )
        self.decoder_embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="decoder_embeddings_dropout"
        )
        self.decoder_transformer_layers = [
            TransformerDecoder(
                intermediate_dim=intermediate_dim,
                num_heads=num_heads,
                dropout=dropout,
                activation=gelu_exact,
                layer_norm_epsilon=1e-5,
                kernel_initializer=bart_kernel_initializer(),
                normalize_first=False,
                dtype=dtype,
                name=f"transformer_decoder_layer_{i}",
            )
            for i in range(num_layers)
        ]

        # === Functional Model ===
        encoder_token_id_input = keras.Input(
            shape=(None,), dtype="int32", name="encoder_token_ids"
        )
        encoder_padding_mask_input = keras.Input(
            shape=(None,), dtype="int32", name="encoder_padding_mask"
        )
        decoder_token_id_input = keras.Input(
            shape=(None,), dtype="int32", name="decoder_token_ids"
        )
        decoder_padding_mask_input = keras.Input(
            shape=(None,), dtype="int32", name="decoder_padding_mask"
        )
        # Encoder.
        tokens = self.token_embedding(encoder_token_id_input)
        positions = self.encoder_position_embedding(tokens)
        x = self.encoder_embeddings_add((tokens, positions))
        x = self.encoder_embeddings_layer_norm(x)
        x = self.encoder_embeddings_dropout(x)
        for transformer_layer in self.encoder_transformer_layers:
            x = transformer_layer(x, padding_mask=encoder_padding_mask_input)
        encoder_output = x
        # Decoder.
        tokens = self.token_embedding(decoder_token_id_input)
        positions = self.decoder_position_embedding(tokens)
        x = self.decoder_embeddings_add((tokens, positions))
        x = self.decoder_embeddings_layer_norm(x)
        x = self.decoder_embeddings_dropout(x)
        for transformer_layer in self.decoder_transformer_layers:
            x = transformer_layer(
                decoder_sequence=x,
                encoder_sequence=encoder_output,
                decoder_padding_mask=decoder_padding_mask_input,
                encoder_padding_mask=encoder_padding_mask_input,
            )
        decoder_output = x
        super().__init__(
            inputs={
                "encoder_token_ids": encoder_token_id_input,
                "encoder_padding_mask": encoder_padding_mask_input,
                "decoder_token_ids": decoder_token_id_input,
                "decoder_padding_mask": decoder_padding_mask_input,
            },
            outputs={
                "encoder_sequence_output": encoder_output,
                "decoder_sequence_output": decoder_output,
            },
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
