"""Base preprocessor for text classification."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.segment_packing_preprocessor import (
    SegmentPackingPreprocessor,
)
from keras_nlp_clone.utils.tensor_utils import preprocessing_function


@keras_nlp_clone_export
class TextClassifierPreprocessor(SegmentPackingPreprocessor):
    """Tokenizes and packs one or more text segments for classification.

    For each input segment (a string, or a batch of strings) the tokenizer
    runs, then a `keras_nlp_clone.layers.MultiSegmentPacker` joins the
    segments with the tokenizer's start, separator and end tokens, truncates
    to `sequence_length` and pads. For BERT a sentence pair becomes
    `[CLS] a [SEP] b [SEP] [PAD] ...`.

    Args:
        tokenizer: a `keras_nlp_clone.tokenizers.Tokenizer` with
            `start_token_id`, `end_token_id` and `pad_token_id`.
        sequence_length: int. Length of the packed outputs. Defaults to
            `512`.
        truncate: str. `"round_robin"` (trim the longest segment one token
            at a time) or `"waterfall"` (trim the last segments first).
            Defaults to `"round_robin"`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: a string tensor or list of strings of shape `(batch,)` or `()`,
            or a tuple of such for multiple segments (sentence pairs).
        y: optional labels, passed through unchanged.
        sample_weight: optional sample weights, passed through unchanged.

    Returns:
        `x` as a dict of `"token_ids"` (int32), `"segment_ids"` (int32;
        only for families with segment embeddings, see
        `include_segment_ids`) and `"padding_mask"` (bool), each of shape
        `(batch, sequence_length)`;
        with `y` or `sample_weight`, the tuple `(x, y, sample_weight)`
        without the `None`s.

    Raises:
        ValueError: for an unknown `truncate`, or a `sequence_length` that
            is not an integer >= 1.

    Examples:
    >>> preprocessor = keras_nlp_clone.models.BertPreprocessor.from_preset(
    ...     "all_minilm_l6_v2_en", sequence_length=8)
    >>> preprocessor("The quick brown fox.")["token_ids"]
    [ 101 1996 4248 2829 4419 1012  102    0]
    """

    @preprocessing_function
    def call(self, x, y=None, sample_weight=None):
        token_ids, segment_ids, padding_mask = self._tokenize_and_pack(x)
        x = self._backbone_inputs(token_ids, segment_ids, padding_mask)
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
