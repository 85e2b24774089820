"""BERT preprocessor for classification."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.bert.bert_backbone import BertBackbone
from keras_nlp_clone.models.bert.bert_tokenizer import BertTokenizer
from keras_nlp_clone.models.text_classifier_preprocessor import (
    TextClassifierPreprocessor,
)


@keras_nlp_clone_export
class BertPreprocessor(TextClassifierPreprocessor):
    """BERT preprocessing: strings to `token_ids`, `segment_ids`,
    `padding_mask`.

    Tokenizes one or more segments with a `BertTokenizer` and packs them as
    `[CLS] a [SEP] b [SEP]`, truncated and padded to `sequence_length`.
    Works eagerly on every backend and inside `tf.data.Dataset.map`; `y`
    and `sample_weight` pass through. `BertTextClassifierPreprocessor` is
    the same class under its newer name.

    Args:
        tokenizer: `keras_nlp_clone.models.BertTokenizer`.
        sequence_length: int. Output length. Defaults to `512`.
        truncate: str. `"round_robin"` or `"waterfall"`. Defaults to
            `"round_robin"`.

    Call arguments:
        x: a string, a list of strings, a string tensor of shape `(batch,)`,
            or a tuple of these for sentence pairs.
        y: optional labels. sample_weight: optional weights.

    Returns:
        A dict `{"token_ids", "segment_ids", "padding_mask"}` of shape
        `(batch, sequence_length)` (int32, int32, bool), or `(x, y,
        sample_weight)` when labels are given.

    Examples:
    >>> preprocessor = keras_nlp_clone.models.BertPreprocessor.from_preset(
    ...     "all_minilm_l6_v2_en", sequence_length=8)
    >>> preprocessor(("The fox.", "A dog."))["segment_ids"]
    [0 0 0 0 1 1 1 1]
    """

    backbone_cls = BertBackbone
    tokenizer_cls = BertTokenizer


BertTextClassifierPreprocessor = BertPreprocessor
