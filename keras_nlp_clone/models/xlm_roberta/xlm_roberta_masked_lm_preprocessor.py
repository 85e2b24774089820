"""XLM-RoBERTa preprocessor for masked language modelling."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.roberta.roberta_masked_lm_preprocessor import (
    RobertaMaskedLMPreprocessor,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_backbone import (
    XLMRobertaBackbone,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_tokenizer import (
    XLMRobertaTokenizer,
)


@keras_nlp_clone_export
class XLMRobertaMaskedLMPreprocessor(RobertaMaskedLMPreprocessor):
    """XLM-RoBERTa masked-LM preprocessing: strings to masked inputs and
    labels.

    Tokenizes with an `XLMRobertaTokenizer`, packs as `<s> a </s>` (or
    `<s> a </s></s> b </s>`), then masks random non-special tokens: 80%
    become `<mask>` (the last id), 10% a random token, 10% stay (the
    defaults). See `MaskedLMPreprocessor` for the mechanics.

    Args:
        tokenizer: `keras_nlp_clone.models.XLMRobertaTokenizer`.
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
    >>> preprocessor = keras_nlp_clone.models.XLMRobertaMaskedLMPreprocessor \\
    ...     .from_preset("xlm_roberta_base_multi", sequence_length=16,
    ...                  mask_selection_length=4)
    >>> x, y, sample_weight = preprocessor(["The quick brown fox."])

    References:
        - [Conneau et al., 2020](https://arxiv.org/abs/1911.02116)
    """

    backbone_cls = XLMRobertaBackbone
    tokenizer_cls = XLMRobertaTokenizer
