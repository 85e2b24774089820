"""RoBERTa backbone."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.encoder_backbone import EncoderBackbone
from keras_nlp_clone.utils.host_initializers import HostTruncatedNormal


def roberta_kernel_initializer(stddev=0.02):
    """RoBERTa's initializer: truncated normal with standard deviation
    0.02."""
    return HostTruncatedNormal(stddev=stddev)


@keras_nlp_clone_export
class RobertaBackbone(EncoderBackbone):
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
        super().__init__(
            vocabulary_size=vocabulary_size,
            num_layers=num_layers,
            num_heads=num_heads,
            hidden_dim=hidden_dim,
            intermediate_dim=intermediate_dim,
            dropout=dropout,
            max_sequence_length=max_sequence_length,
            dtype=dtype,
            layer_norm_epsilon=1e-5,
            initializer=roberta_kernel_initializer,
            embeddings_name="embeddings",
            **kwargs,
        )
        self.start_token_index = 0
