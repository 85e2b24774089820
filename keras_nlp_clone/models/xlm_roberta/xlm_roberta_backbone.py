"""XLM-RoBERTa backbone."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.roberta.roberta_backbone import RobertaBackbone


@keras_nlp_clone_export
class XLMRobertaBackbone(RobertaBackbone):
    """An XLM-RoBERTa encoder network: token ids to contextual embeddings.

    The architecture of `RobertaBackbone` (token and learned position
    embeddings, layer norm, post-normalisation transformer layers with
    exact GELU and layer norm epsilon 1e-5), as Hugging Face
    `XLMRobertaModel`; XLM-RoBERTa differs from RoBERTa in its
    multilingual data and its SentencePiece vocabulary
    (`XLMRobertaTokenizer`, 250,002 tokens for the published models). A
    separate class so that presets, preprocessors and tasks pick the right
    tokenizer.

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
        token_ids: int tensor `(batch, seq_len)`.
        padding_mask: int or bool tensor `(batch, seq_len)`, 1/`True` for
            real tokens, 0/`False` for padding.

    Returns:
        The sequence output: a float tensor `(batch, seq_len, hidden_dim)`.

    Raises:
        ValueError: when `hidden_dim` is not divisible by `num_heads`.

    Examples:
    >>> import numpy as np
    >>> backbone = keras_nlp_clone.models.XLMRobertaBackbone(
    ...     vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=8,
    ...     intermediate_dim=16, max_sequence_length=12)
    >>> outputs = backbone({
    ...     "token_ids": np.ones((1, 12), "int32"),
    ...     "padding_mask": np.ones((1, 12), "int32"),
    ... })
    >>> tuple(outputs.shape)
    (1, 12, 8)

    References:
        - [Conneau et al., 2020](https://arxiv.org/abs/1911.02116)
    """
