"""GPT-2 backbone."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.position_embedding import PositionEmbedding
from keras_nlp_clone.layers.reversible_embedding import ReversibleEmbedding
from keras_nlp_clone.layers.transformer_decoder import TransformerDecoder
from keras_nlp_clone.models.backbone import Backbone
from keras_nlp_clone.utils.keras_utils import gelu_approximate
from keras_nlp_clone.utils.keras_utils import head_dtype_policy
from keras_nlp_clone.utils.host_initializers import HostRandomNormal


def gpt2_kernel_initializer(stddev=0.02):
    """GPT-2's initializer: normal with standard deviation 0.02."""
    return HostRandomNormal(stddev=stddev)


@keras_nlp_clone_export
class GPT2Backbone(Backbone):
    """A GPT-2 decoder network: token ids to contextual embeddings.

    Sums token embeddings (a tied `ReversibleEmbedding`, exposed as
    `token_embedding` so that a language-model head can reuse it) and
    learned position embeddings (positions `0` to `seq_len - 1`), applies
    dropout, then `num_layers` pre-normalisation `TransformerDecoder` blocks
    with causal self-attention and no cross-attention (GELU with the tanh
    approximation, layer norm epsilon 1e-5), and a final layer norm. Given
    the same weights this is Hugging Face's `GPT2Model`.

    It takes preprocessed tensors; use `GPT2Preprocessor` for strings. This
    class has no language-model head (`GPT2CausalLM` is not implemented
    yet).

    Args:
        vocabulary_size: int. Size of the token vocabulary.
        num_layers: int. Number of transformer layers.
        num_heads: int. Attention heads per layer; must divide `hidden_dim`.
        hidden_dim: int. Size of the hidden states and embeddings.
        intermediate_dim: int. Width of each feed-forward block.
        dropout: float. Dropout rate on embeddings, attention and
            feed-forward outputs. Defaults to `0.1`.
        max_sequence_length: int. Longest input the position embedding
            covers. Defaults to `1024`.
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
    >>> backbone = keras_nlp_clone.models.GPT2Backbone(
    ...     vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=8,
    ...     intermediate_dim=16, max_sequence_length=12)
    >>> outputs = backbone({
    ...     "token_ids": np.ones((1, 12), "int32"),
    ...     "padding_mask": np.ones((1, 12), "int32"),
    ... })
    >>> tuple(outputs.shape)
    (1, 12, 8)

    References:
        - [Radford et al., 2019](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf)
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
            embeddings_initializer=gpt2_kernel_initializer(stddev=0.01),
            dtype=dtype,
            # float32 logits under mixed precision.
            reverse_dtype=head_dtype_policy(dtype).compute_dtype,
            name="token_embedding",
        )
        self.position_embedding = PositionEmbedding(
            sequence_length=max_sequence_length,
            initializer=gpt2_kernel_initializer(stddev=0.02),
            dtype=dtype,
            name="position_embedding",
        )
        self.embeddings_add = keras.layers.Add(dtype=dtype, name="embeddings_add")
        self.embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout"
        )
        self.transformer_layers = [
            TransformerDecoder(
                intermediate_dim=intermediate_dim,
                num_heads=num_heads,
                dropout=dropout,
                activation=gelu_approximate,
                layer_norm_epsilon=1e-5,
                kernel_initializer=gpt2_kernel_initializer(stddev=0.02),
                normalize_first=True,
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=1e-5, dtype=dtype, name="layer_norm"
        )

        # === Functional Model ===
        token_id_input = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        padding_mask_input = keras.Input(
            shape=(None,), dtype="int32", name="padding_mask"
        )
        tokens = self.token_embedding(token_id_input)
        positions = self.position_embedding(tokens)
        x = self.embeddings_add((tokens, positions))
        x = self.embeddings_dropout(x)
        for transformer_layer in self.transformer_layers:
            x = transformer_layer(x, decoder_padding_mask=padding_mask_input)
        sequence_output = self.layer_norm(x)
        super().__init__(
            inputs={
                "token_ids": token_id_input,
                "padding_mask": padding_mask_input,
            },
            outputs=sequence_output,
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
