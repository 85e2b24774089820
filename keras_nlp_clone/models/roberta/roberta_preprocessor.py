"""RoBERTa preprocessor for classification."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.roberta.roberta_backbone import RobertaBackbone
from keras_nlp_clone.models.roberta.roberta_tokenizer import RobertaTokenizer
from keras_nlp_clone.models.text_classifier_preprocessor import (
    TextClassifierPreprocessor,
)


@keras_nlp_clone_export
class RobertaPreprocessor(TextClassifierPreprocessor):
    """RoBERTa preprocessing: strings to `token_ids` and `padding_mask`.

    Tokenizes one or more segments with a `RobertaTokenizer` and packs them
    as `<s> a </s></s> b </s>` (two separators between segments, as
    Hugging Face's RoBERTa tokenizer), truncated and padded with `<pad>` to
    `sequence_length`. There are no segment ids: RoBERTa's backbone does
    not take them. Works eagerly on every backend and inside
    `tf.data.Dataset.map`; `y` and `sample_weight` pass through.
    `RobertaTextClassifierPreprocessor` is the same class under its newer
    name.

    Args:
        tokenizer: `keras_nlp_clone.models.RobertaTokenizer`.
        sequence_length: int. Output length. Defaults to `512`.
        truncate: str. `"round_robin"` (trim the longest segment one token
            at a time) or `"waterfall"` (trim the last segments first).
            Defaults to `"round_robin"`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: a string, a list of strings, a string tensor of shape `(batch,)`,
            or a tuple of these for sentence pairs.
        y: optional labels. sample_weight: optional weights.

    Returns:
        A dict `{"token_ids", "padding_mask"}` of shape `(batch,
        sequence_length)` (int32, bool), or `(x, y, sample_weight)` when
        labels are given.

    Raises:
        ValueError: for an unknown `truncate`.

    Examples:
    >>> preprocessor = keras_nlp_clone.models.RobertaPreprocessor \\
    ...     .from_preset("roberta_base_en", sequence_length=8)
    >>> x = preprocessor(("The fox.", "A dog."))
    >>> tuple(x["token_ids"].shape), tuple(x["padding_mask"].shape)
    ((8,), (8,))

    References:
        - [Liu et al., 2019](https://arxiv.org/abs/1907.11692)
    """

    backbone_cls = RobertaBackbone
    tokenizer_cls = RobertaTokenizer
    include_segment_ids = False
    num_separators = 2


RobertaTextClassifierPreprocessor = RobertaPreprocessor
