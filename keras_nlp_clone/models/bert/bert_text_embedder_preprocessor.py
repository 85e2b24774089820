"""BERT preprocessor for sentence embedding."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.bert.bert_backbone import BertBackbone
from keras_nlp_clone.models.bert.bert_tokenizer import BertTokenizer
from keras_nlp_clone.models.text_embedder_preprocessor import (
    TextEmbedderPreprocessor,
)


@keras_nlp_clone_export
class BertTextEmbedderPreprocessor(TextEmbedderPreprocessor):
    """BERT preprocessing for embedding: strings to `token_ids`,
    `segment_ids`, `padding_mask`.

    Tokenizes with a `BertTokenizer` and packs each text as
    `[CLS] text [SEP]`, truncated and padded with `[PAD]` to
    `sequence_length`: the ids, token type ids and attention mask that
    sentence-transformers feeds its BERT models (all-MiniLM-L6-v2). A
    tuple of segments is packed as `[CLS] a [SEP] b [SEP]`. Works eagerly
    on every backend and inside `tf.data.Dataset.map`; `y` and
    `sample_weight` pass through.

    Args:
        tokenizer: `keras_nlp_clone.models.BertTokenizer`.
        sequence_length: int. Output length. Defaults to `256`, the
            `max_seq_length` of all-MiniLM-L6-v2.
        truncate: str. `"round_robin"` or `"waterfall"`. Defaults to
            `"round_robin"`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: a string, a list of strings, a string tensor of shape `(batch,)`,
            or a tuple of these for sentence pairs.
        y: optional targets. sample_weight: optional weights.

    Returns:
        A dict `{"token_ids", "segment_ids", "padding_mask"}` of shape
        `(batch, sequence_length)` (int32, int32, bool), or `(x, y,
        sample_weight)` when targets are given.

    Raises:
        ValueError: for an unknown `truncate`.

    Examples:
    >>> preprocessor = keras_nlp_clone.models.BertTextEmbedderPreprocessor \\
    ...     .from_preset("all_minilm_l6_v2_en", sequence_length=8)
    >>> preprocessor(["The quick brown fox."])["padding_mask"]
    [[ True  True  True  True  True  True  True False]]

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
        - [Reimers and Gurevych, 2019](https://arxiv.org/abs/1908.10084)
    """

    backbone_cls = BertBackbone
    tokenizer_cls = BertTokenizer
