"""RoBERTa preprocessor for masked language modelling."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.masked_lm_preprocessor import MaskedLMPreprocessor
from keras_nlp_clone.models.roberta.roberta_backbone import RobertaBackbone
from keras_nlp_clone.models.roberta.roberta_tokenizer import RobertaTokenizer


@keras_nlp_clone_export
class RobertaMaskedLMPreprocessor(MaskedLMPreprocessor):
    """RoBERTa masked-LM preprocessing: strings to masked inputs and labels.

    Tokenizes with a `RobertaTokenizer`, packs as `<s> a </s>` (or
    `<s> a </s></s> b </s>` for pairs), then masks random non-special
    tokens: 80% become `<mask>`, 10% a random token, 10% stay (the
    defaults). See `MaskedLMPreprocessor` for the mechanics.

    Args:
        tokenizer: `keras_nlp_clone.models.RobertaTokenizer`.
        sequence_length: int. Packed length. Defaults to `512`.
        truncate: str. `"round_robin"` or `"waterfall"`. Defaults to
            `"round_robin"`.
        mask_selection_rate: float. Probability a token is selected.
            Defaults to `0.15`.
        mask_selection_length: int. Maximum selected tokens per sequence.
            Defaults to `96`.
        mask_token_rate: float. Fraction of selected tokens replaced by
            `<mask>`. Defaults to `0.8`.
        random_token_rate: float. Fraction replaced by a random token.
            Defaults to `0.1`.
        **kwargs: passed to `keras.layers.Layer`.

    Returns:
        `(x, y, sample_weight)`: `x` a dict of `token_ids`, `padding_mask`
        (`(batch, sequence_length)`) and `mask_positions` (`(batch,
        mask_selection_length)`); `y` the true ids at the masked positions;
        `sample_weight` 1.0 where a position was selected, 0.0 for padding.

    Raises:
        ValueError: when `y` or `sample_weight` is passed.

    Examples:
    >>> preprocessor = keras_nlp_clone.models.RobertaMaskedLMPreprocessor \\
    ...     .from_preset("roberta_base_en", sequence_length=16,
    ...                  mask_selection_length=4)
    >>> x, y, sample_weight = preprocessor(["The quick brown fox."])

    References:
        - [Liu et al., 2019](https://arxiv.org/abs/1907.11692)
    """

    backbone_cls = RobertaBackbone
    tokenizer_cls = RobertaTokenizer
    include_segment_ids = False
    num_separators = 2
