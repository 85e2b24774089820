"""Base preprocessor for text embedding."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.segment_packing_preprocessor import (
    SegmentPackingPreprocessor,
)
from keras_nlp_clone.utils.tensor_utils import preprocessing_function


@keras_nlp_clone_export
class TextEmbedderPreprocessor(SegmentPackingPreprocessor):
    """Tokenizes and packs text for a sentence embedding model.

    For each input segment (a string, or a batch of strings) the tokenizer
    runs, then a `keras_nlp_clone.layers.MultiSegmentPacker` adds the
    tokenizer's start and end tokens, truncates to `sequence_length` and
    pads: `[CLS] text [SEP] [PAD] ...` for BERT, `<s> text </s> <pad> ...`
    for XLM-RoBERTa, the inputs sentence-transformers builds for the same
    models. A tuple of segments (a sentence pair) is packed with the
    family's separators, as the classification preprocessors do.

    It differs from `TextClassifierPreprocessor` in its default
    `sequence_length`, 256 (the `max_seq_length` of sentence-transformers'
    all-MiniLM-L6-v2 and most of its models), and in being the class
    `TextEmbedder.from_preset` builds.

    Args:
        tokenizer: a `keras_nlp_clone.tokenizers.Tokenizer` with
            `start_token_id`, `end_token_id` and `pad_token_id`.
        sequence_length: int. Length of the packed outputs. Defaults to
            `256`.
        truncate: str. `"round_robin"` (trim the longest segment one token
            at a time) or `"waterfall"` (trim the last segments first).
            Defaults to `"round_robin"`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: a string tensor or list of strings of shape `(batch,)` or `()`,
            or a tuple of such for several segments.
        y: optional targets (e.g. embeddings to fit to), passed through
            unchanged.
        sample_weight: optional sample weights, passed through unchanged.

    Returns:
        `x` as a dict of `"token_ids"` (int32), `"segment_ids"` (int32;
        only for families with segment embeddings) and `"padding_mask"`
        (bool), each of shape `(batch, sequence_length)`; with `y` or
        `sample_weight`, the tuple `(x, y, sample_weight)` without the
        `None`s.

    Raises:
        ValueError: for an unknown `truncate`, or a `sequence_length` that
            is not an integer >= 1.

    Examples:
    >>> preprocessor = keras_nlp_clone.models.TextEmbedderPreprocessor \\
    ...     .from_preset("all_minilm_l6_v2_en", sequence_length=8)
    >>> type(preprocessor).__name__
    'BertTextEmbedderPreprocessor'
    >>> preprocessor("The quick brown fox.")["token_ids"]
    [ 101 1996 4248 2829 4419 1012  102    0]
    """

    def __init__(
        self, tokenizer, sequence_length=256, truncate="round_robin", **kwargs
    ):
        super().__init__(
            tokenizer,
            sequence_length=sequence_length,
            truncate=truncate,
            **kwargs,
        )

    @preprocessing_function
    def call(self, x, y=None, sample_weight=None):
        token_ids, segment_ids, padding_mask = self._tokenize_and_pack(x)
        x = self._backbone_inputs(token_ids, segment_ids, padding_mask)
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
