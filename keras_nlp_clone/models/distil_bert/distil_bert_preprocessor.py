"""DistilBERT preprocessor for classification."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.distil_bert.distil_bert_backbone import (
    DistilBertBackbone,
)
from keras_nlp_clone.models.distil_bert.distil_bert_tokenizer import (
    DistilBertTokenizer,
)
from keras_nlp_clone.models.text_classifier_preprocessor import (
    TextClassifierPreprocessor,
)


@keras_nlp_clone_export
class DistilBertPreprocessor(TextClassifierPreprocessor):
    """DistilBERT preprocessing: strings to `token_ids` and `padding_mask`.

    Tokenizes one or more segments with a `DistilBertTokenizer` and packs
    them as `[CLS] a [SEP] b [SEP]`, truncated and padded to
    `sequence_length`. DistilBERT has no segment embeddings, so unlike
    `BertPreprocessor` there is no `"segment_ids"` output. Works eagerly on
    every backend and inside `tf.data.Dataset.map`; `y` and
    `sample_weight` pass through. `DistilBertTextClassifierPreprocessor` is
    the same class under its newer name.

    Args:
        tokenizer: `keras_nlp_clone.models.DistilBertTokenizer`.
        sequence_length: int. Output length. Defaults to `512`.
        truncate: str. `"round_robin"` (trim the longest segment one token
            at a time) or `"waterfall"` (trim the last segments first).
            Defaults to `"round_robin"`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: a string, a list of strings, a string tensor of shape `(batch,)`,
            or a tuple of these for sentence pairs.
        y: optional labels, passed through.
        sample_weight: optional weights, passed through.

    Returns:
        A dict `{"token_ids", "padding_mask"}` of shape `(batch,
        sequence_length)` (int32, bool), or `(x, y, sample_weight)` without
        the `None`s when labels are given.

    Raises:
        ValueError: for an unknown `truncate`.

    Examples:
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "fox"]
    >>> tokenizer = keras_nlp_clone.models.DistilBertTokenizer(vocab)
    >>> preprocessor = keras_nlp_clone.models.DistilBertPreprocessor(
    ...     tokenizer, sequence_length=6)
    >>> preprocessor(("the fox", "fox"))["token_ids"]
    [2 5 6 3 6 3]

    References:
        - [Sanh et al., 2019](https://arxiv.org/abs/1910.01108)
    """

    backbone_cls = DistilBertBackbone
    tokenizer_cls = DistilBertTokenizer
    include_segment_ids = False


DistilBertTextClassifierPreprocessor = DistilBertPreprocessor
