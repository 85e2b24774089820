"""DistilBERT backbone."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.encoder_backbone import EncoderBackbone
from keras_nlp_clone.utils.host_initializers import HostTruncatedNormal


def distilbert_kernel_initializer(stddev=0.02):
    """DistilBERT's initializer: truncated normal, standard deviation 0.02."""
    return HostTruncatedNormal(stddev=stddev)


@keras_nlp_clone_export
class DistilBertBackbone(EncoderBackbone):
    """A DistilBERT encoder network: token ids to contextual embeddings.

    DistilBERT is BERT distilled to half the layers, without segment
    (token type) embeddings and without the pooler. This backbone sums
    token and learned position embeddings, applies layer normalisation
    (epsilon 1e-12) and dropout, then `num_layers` post-normalisation
    `TransformerEncoder` blocks (exact GELU, layer norm epsilon 1e-12), as
    Hugging Face `DistilBertModel`. It returns the final hidden states.

    It takes preprocessed tensors; use `DistilBertPreprocessor` for
    strings. This class has no task head; `DistilBertClassifier` and
    `DistilBertMaskedLM` add one.

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
        A float tensor `(batch, seq_len, hidden_dim)`: the sequence output.
        The hidden state of the first (`[CLS]`) token, `cls_token_index`
        0, is what `DistilBertClassifier` classifies.

    Raises:
        ValueError: when `hidden_dim` is not divisible by `num_heads`.

    Examples:
    >>> import numpy as np
    >>> backbone = keras_nlp_clone.models.DistilBertBackbone(
    ...     vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=8,
    ...     intermediate_dim=16, max_sequence_length=12)
    >>> outputs = backbone({
    ...     "token_ids": np.ones((1, 12), "int32"),
    ...     "padding_mask": np.ones((1, 12), "int32"),
    ... })
    >>> tuple(outputs.shape)
    (1, 12, 8)

    References:
        - [Sanh et al., 2019](https://arxiv.org/abs/1910.01108)
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
            layer_norm_epsilon=1e-12,
            initializer=distilbert_kernel_initializer,
            embeddings_name="token_and_position_embedding",
            **kwargs,
        )
        self.cls_token_index = 0
