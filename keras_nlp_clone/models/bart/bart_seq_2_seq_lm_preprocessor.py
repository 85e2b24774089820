"""BART sequence-to-sequence language model preprocessor."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.bart.bart_backbone import BartBackbone
from keras_nlp_clone.models.bart.bart_tokenizer import BartTokenizer
from keras_nlp_clone.models.seq_2_seq_lm_preprocessor import (
    Seq2SeqLMPreprocessor,
)


@keras_nlp_clone_export
class BartSeq2SeqLMPreprocessor(Seq2SeqLMPreprocessor):
    """BART preprocessing for `BartSeq2SeqLM`: source and target strings to
    next-token prediction examples, and prompts for `generate`.

    A `Seq2SeqLMPreprocessor` with a `BartTokenizer`. The source is packed
    as `<s> source </s>` and right-padded with `<pad>` to
    `encoder_sequence_length`. The target is packed as
    `</s> <s> target </s>` (BART's `decoder_start_token_id` is `</s>`, then
    `<s>` as the first token, as in KerasNLP and Hugging Face's
    `BartForConditionalGeneration`) to `decoder_sequence_length + 1`, then
    split into the decoder inputs (all but the last token) and the labels
    (all but the first), whose padding mask is the sample weight. For
    `generate`, the decoder prompt is `</s> <s>` followed by the tokens of
    `decoder_text` when given, without an end token; `generate_postprocess`
    drops the special tokens and padding before detokenizing.

    Args:
        tokenizer: `keras_nlp_clone.models.BartTokenizer`.
        encoder_sequence_length: int. The packed source length. Defaults to
            `1024`.
        decoder_sequence_length: int. The packed target length. Defaults to
            `1024`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: a dict with `encoder_text` and `decoder_text`, each a string, a
            list of strings or a string tensor `(batch,)`.
        y: must be `None`. sample_weight: must be `None`.
        encoder_sequence_length: int. Overrides `encoder_sequence_length`
            for this call. Defaults to `None`.
        decoder_sequence_length: int. Overrides `decoder_sequence_length`
            for this call. Defaults to `None`.
        sequence_length: int. An alias of `decoder_sequence_length`.
            Defaults to `None`.

    Returns:
        `(x, y, sample_weight)`: `x` a dict with `encoder_token_ids`
        (int32), `encoder_padding_mask` (bool) of shape `(batch,
        encoder_sequence_length)` and `decoder_token_ids`,
        `decoder_padding_mask` of shape `(batch, decoder_sequence_length)`;
        `y` (int32) and `sample_weight` (bool) of the decoder's shape.

    Raises:
        ValueError: when `x` is not such a dict, or labels are passed.

    Examples:
    >>> import keras
    >>> vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "a": 4,
    ...          "b": 5, "Ġ": 6, "ab": 7, "<mask>": 8}
    >>> tokenizer = keras_nlp_clone.models.BartTokenizer(
    ...     vocabulary=vocab, merges=["a b"])
    >>> preprocessor = keras_nlp_clone.models.BartSeq2SeqLMPreprocessor(
    ...     tokenizer, encoder_sequence_length=5, decoder_sequence_length=5)
    >>> x, y, w = preprocessor({"encoder_text": "ab", "decoder_text": "a"})
    >>> keras.ops.convert_to_numpy(x["encoder_token_ids"]).tolist()
    [0, 7, 2, 1, 1]
    >>> keras.ops.convert_to_numpy(x["decoder_token_ids"]).tolist()
    [2, 0, 4, 2, 1]
    >>> keras.ops.convert_to_numpy(y).tolist()
    [0, 4, 2, 1, 1]
    >>> prompt = preprocessor.generate_preprocess("ab")
    >>> keras.ops.convert_to_numpy(prompt["decoder_token_ids"]).tolist()
    [2, 0, 1, 1, 1]

    References:
        - [Lewis et al., 2019](https://arxiv.org/abs/1910.13461)
    """

    backbone_cls = BartBackbone
    tokenizer_cls = BartTokenizer

    def decoder_start_ids(self):
        """`[</s>, <s>]`: BART's decoder start token, then `<s>`."""
        return [self.tokenizer.end_token_id, self.tokenizer.start_token_id]
