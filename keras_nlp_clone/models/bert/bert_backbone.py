"""BERT backbone."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.position_embedding import PositionEmbedding
from keras_nlp_clone.layers.reversible_embedding import ReversibleEmbedding
from keras_nlp_clone.layers.transformer_encoder import TransformerEncoder
from keras_nlp_clone.models.backbone import Backbone
from keras_nlp_clone.utils.keras_utils import gelu_approximate
from keras_nlp_clone.utils.keras_utils import gelu_exact
from keras_nlp_clone.utils.keras_utils import head_dtype_policy
from keras_nlp_clone.utils.host_initializers import HostTruncatedNormal


# `intermediate_activation` values: the feed-forward GELU variant.
_ACTIVATIONS = {"gelu": gelu_exact, "gelu_approximate": gelu_approximate}


def bert_kernel_initializer(stddev=0.02):
    """BERT's initializer: truncated normal with standard deviation 0.02."""
    return HostTruncatedNormal(stddev=stddev)


@keras_nlp_clone_export
class BertBackbone(Backbone):
    """A BERT encoder network: token ids to contextual embeddings.

    Sums token, learned position and segment embeddings, applies layer
    normalisation and dropout, then `num_layers` post-normalisation
    `TransformerEncoder` blocks (exact GELU, layer norm epsilon 1e-12, as
    Hugging Face `BertModel`). Also returns a pooled output: a tanh dense
    layer on the hidden state of the `[CLS]` token (`cls_token_index` 0).

    It takes preprocessed tensors; use `BertPreprocessor` for strings. This
    class has no task head; `BertClassifier` and `BertMaskedLM` add one.

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
        num_segments: int. Number of segment (token type) ids. Defaults to
            `2`.
        intermediate_activation: str. The feed-forward activation:
            `"gelu"` (exact, erf-based, as Hugging Face BERT) or
            `"gelu_approximate"` (the tanh approximation, as the original
            BERT code and KerasHub's `BertBackbone`; presets saved by
            KerasHub load with it). Defaults to `"gelu"`.
        dtype: str or `keras.DTypePolicy`. Compute and weight dtype policy.
            Defaults to `None` (the global policy, float32 by default).
        **kwargs: passed to `Backbone` (e.g. `name`).

    Call arguments (a dict):
        token_ids: int tensor `(batch, seq_len)`.
        segment_ids: int tensor `(batch, seq_len)`, 0 for the first segment.
        padding_mask: int or bool tensor `(batch, seq_len)`, 1/`True` for
            real tokens, 0/`False` for padding (masked as attention keys).

    Returns:
        A dict: `"sequence_output"` float `(batch, seq_len, hidden_dim)` and
        `"pooled_output"` float `(batch, hidden_dim)`.

    Raises:
        ValueError: when `hidden_dim` is not divisible by `num_heads`.

    Examples:
    >>> import numpy as np
    >>> backbone = keras_nlp_clone.models.BertBackbone(
    ...     vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=8,
    ...     intermediate_dim=16, max_sequence_length=12)
    >>> outputs = backbone({
    ...     "token_ids": np.ones((1, 12), "int32"),
    ...     "segment_ids": np.zeros((1, 12), "int32"),
    ...     "padding_mask": np.ones((1, 12), "int32"),
    ... })
    >>> outputs["sequence_output"].shape, outputs["pooled_output"].shape
    ((1, 12, 8), (1, 8))

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
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
        num_segments=2,
        intermediate_activation="gelu",
        dtype=None,
        **kwargs,
    ):
        if intermediate_activation not in _ACTIVATIONS:
            raise ValueError(
                "`intermediate_activation` must be one of "
                f"{sorted(_ACTIVATIONS)}. Received: "
                f"intermediate_activation={intermediate_activation!r}."
            )
        if hidden_dim % num_heads != 0:
            raise ValueError(
                "`hidden_dim` must be divisible by `num_heads`. Received: "
                f"hidden_dim={hidden_dim}, num_heads={num_heads}."
            )
        # === Layers ===
        self.token_embedding = ReversibleEmbedding(
            input_dim=vocabulary_size,
            output_dim=hidden_dim,
            embeddings_initializer=bert_kernel_initializer(),
            dtype=dtype,
            # float32 logits under mixed precision.
            reverse_dtype=head_dtype_policy(dtype).compute_dtype,
            name="token_embedding",
        )
        self.position_embedding = PositionEmbedding(
            initializer=bert_kernel_initializer(),
            sequence_length=max_sequence_length,
            dtype=dtype,
            name="position_embedding",
        )
        self.segment_embedding = keras.layers.Embedding(
            input_dim=num_segments,
            output_dim=hidden_dim,
            embeddings_initializer=bert_kernel_initializer(),
            dtype=dtype,
            name="segment_embedding",
        )
        self.embeddings_add = keras.layers.Add(dtype=dtype, name="embeddings_add")
        self.embeddings_layer_norm = keras.layers.LayerNormalization(
            epsilon=1e-12, dtype=dtype, name="embeddings_layer_norm"
        )
        self.embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout"
        )
        self.transformer_layers = [
            TransformerEncoder(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                activation=_ACTIVATIONS[intermediate_activation],
                dropout=dropout,
                layer_norm_epsilon=1e-12,
                kernel_initializer=bert_kernel_initializer(),
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]
        self.pooled_dense = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=bert_kernel_initializer(),
            activation="tanh",
            dtype=dtype,
            name="pooled_dense",
        )

        # === Functional Model ===
        token_id_input = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        segment_id_input = keras.Input(
            shape=(None,), dtype="int32", name="segment_ids"
        )
        padding_mask_input = keras.Input(
            shape=(None,), dtype="int32", name="padding_mask"
        )
        tokens = self.token_embedding(token_id_input)
        positions = self.position_embedding(tokens)
        segments = self.segment_embedding(segment_id_input)
        x = self.embeddings_add((tokens, positions, segments))
        x = self.embeddings_layer_norm(x)
        x = self.embeddings_dropout(x)
        for transformer_layer in self.transformer_layers:
            x = transformer_layer(x, padding_mask=padding_mask_input)
        cls_token_index = 0
        pooled = self.pooled_dense(x[:, cls_token_index, :])
        super().__init__(
            inputs={
                "token_ids": token_id_input,
                "segment_ids": segment_id_input,
                "padding_mask": padding_mask_input,
            },
            outputs={"sequence_output": x, "pooled_output": pooled},
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
        self.num_segments = num_segments
        self.intermediate_activation = intermediate_activation
        self.cls_token_index = cls_token_index

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
                "num_segments": self.num_segments,
                "intermediate_activation": self.intermediate_activation,
            }
        )
        return config
