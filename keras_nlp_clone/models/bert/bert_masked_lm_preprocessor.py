"""BERT preprocessor for masked language modelling."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.bert.bert_backbone import BertBackbone
from keras_nlp_clone.models.bert.bert_tokenizer import BertTokenizer
from keras_nlp_clone.models.masked_lm_preprocessor import MaskedLMPreprocessor


@keras_nlp_clone_export
class BertMaskedLMPreprocessor(MaskedLMPreprocessor):
    """BERT masked-LM preprocessing: strings to masked inputs and labels.

    Tokenizes with a `BertTokenizer`, packs as `[CLS] a [SEP] (b [SEP])`,
    then masks random non-special tokens: 80% become `[MASK]`, 10% a random
    token, 10% stay (the defaults). See `MaskedLMPreprocessor` for the
    arguments and outputs.

    Args:
        tokenizer: `keras_nlp_clone.models.BertTokenizer`.
        sequence_length: int. Defaults to `512`.
        truncate: str. Defaults to `"round_robin"`.
        mask_selection_rate: float. Defaults to `0.15`.
        mask_selection_length: int. Defaults to `96`.
        mask_token_rate: float. Defaults to `0.8`.
        random_token_rate: float. Defaults to `0.1`.

    Returns:
        `(x, y, sample_weight)`: `x` a dict of `token_ids`, `segment_ids`,
        `padding_mask` (`(batch, sequence_length)`) and `mask_positions`
        (`(batch, mask_selection_length)`); `y` the true ids at the masked
        positions; `sample_weight` 1.0 where a position was selected.

    Examples:
    >>> preprocessor = keras_nlp_clone.models.BertMaskedLMPreprocessor \\
    ...     .from_preset("all_minilm_l6_v2_en", sequence_length=16,
    ...                  mask_selection_length=4)
    >>> x, y, sample_weight = preprocessor(["The quick brown fox."])

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    backbone_cls = BertBackbone
    tokenizer_cls = BertTokenizer
