"""XLM-RoBERTa preprocessor for sentence embedding."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.text_embedder_preprocessor import (
    TextEmbedderPreprocessor,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_backbone import (
    XLMRobertaBackbone,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_tokenizer import (
    XLMRobertaTokenizer,
)


@keras_nlp_clone_export
class XLMRobertaTextEmbedderPreprocessor(TextEmbedderPreprocessor):
    """XLM-RoBERTa preprocessing for embedding: strings to `token_ids` and
    `padding_mask`.

    Tokenizes with an `XLMRobertaTokenizer` and packs each text as
    `<s> text </s>` (ids 0 and 2), truncated and padded with `<pad>` (id 1)
    to `sequence_length`, as Hugging Face's XLM-RoBERTa tokenizer; a tuple
    of segments is packed as `<s> a </s></s> b </s>`. There are no segment
    ids: the backbone does not take them. Works eagerly on every backend
    and inside `tf.data.Dataset.map`; `y` and `sample_weight` pass through.

    Args:
        tokenizer: `keras_nlp_clone.models.XLMRobertaTokenizer`.
        sequence_length: int. Output length. Defaults to `256`.
        truncate: str. `"round_robin"` or `"waterfall"`. Defaults to
            `"round_robin"`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: a string, a list of strings, a string tensor of shape `(batch,)`,
            or a tuple of these for sentence pairs.
        y: optional targets. sample_weight: optional weights.

    Returns:
        A dict `{"token_ids", "padding_mask"}` of shape `(batch,
        sequence_length)` (int32, bool), or `(x, y, sample_weight)` when
        targets are given.

    Raises:
        ValueError: for an unknown `truncate`.

    Examples:
    >>> preprocessor = keras_nlp_clone.models \\
    ...     .XLMRobertaTextEmbedderPreprocessor.from_preset(
    ...         "xlm_roberta_base_multi", sequence_length=8)
    >>> tuple(preprocessor(["Le renard."])["token_ids"].shape)
    (1, 8)

    References:
        - [Conneau et al., 2020](https://arxiv.org/abs/1911.02116)
    """

    backbone_cls = XLMRobertaBackbone
    tokenizer_cls = XLMRobertaTokenizer
    include_segment_ids = False
    num_separators = 2
