"""DistilBERT preprocessor for masked language modelling."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.distil_bert.distil_bert_backbone import (
    DistilBertBackbone,
)
from keras_nlp_clone.models.distil_bert.distil_bert_tokenizer import (
    DistilBertTokenizer,
)
from keras_nlp_clone.models.masked_lm_preprocessor import MaskedLMPreprocessor


@keras_nlp_clone_export
class DistilBertMaskedLMPreprocessor(MaskedLMPreprocessor):
    """DistilBERT masked-LM preprocessing: strings to masked inputs and
    labels.

    Tokenizes with a `DistilBertTokenizer`, packs as `[CLS] a [SEP] (b
    [SEP])`, then masks random non-special tokens: of the selected tokens
    80% become `[MASK]`, 10% a random token and 10% stay (the defaults).
    There is no `"segment_ids"` output. See `MaskedLMPreprocessor` for the
    mechanics.

    Args:
        tokenizer: `keras_nlp_clone.models.DistilBertTokenizer`.
        sequence_length: int. Packed length. Defaults to `512`.
        truncate: str. `"round_robin"` or `"waterfall"`. Defaults to
            `"round_robin"`.
        mask_selection_rate: float. Probability a token is selected.
            Defaults to `0.15`.
        mask_selection_length: int. Maximum selected tokens per sequence.
            Defaults to `96`.
        mask_token_rate: float. Fraction of selected tokens replaced by
            `[MASK]`. Defaults to `0.8`.
        random_token_rate: float. Fraction replaced by a random token.
            Defaults to `0.1`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: strings of shape `(batch,)` or `()`, or a tuple of them.
        y: must be `None`.
        sample_weight: must be `None`.

    Returns:
        `(x, y, sample_weight)`: `x` a dict of `token_ids`, `padding_mask`
        (`(batch, sequence_length)`) and `mask_positions` (`(batch,
        mask_selection_length)`); `y` the true ids at the masked positions;
        `sample_weight` 1.0 where a position was selected, else 0.0.

    Raises:
        ValueError: when `y` or `sample_weight` is passed.

    Examples:
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "fox"]
    >>> tokenizer = keras_nlp_clone.models.DistilBertTokenizer(vocab)
    >>> preprocessor = keras_nlp_clone.models.DistilBertMaskedLMPreprocessor(
    ...     tokenizer, sequence_length=8, mask_selection_length=2)
    >>> x, y, sample_weight = preprocessor(["the fox the fox"])
    >>> sorted(x)
    ['mask_positions', 'padding_mask', 'token_ids']

    References:
        - [Sanh et al., 2019](https://arxiv.org/abs/1910.01108)
    """

    backbone_cls = DistilBertBackbone
    tokenizer_cls = DistilBertTokenizer
    include_segment_ids = False
