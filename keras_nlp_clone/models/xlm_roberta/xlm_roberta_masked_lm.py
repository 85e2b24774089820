"""XLM-RoBERTa masked language model."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.roberta.roberta_masked_lm import RobertaMaskedLM
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_backbone import (
    XLMRobertaBackbone,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_masked_lm_preprocessor import (
    XLMRobertaMaskedLMPreprocessor,
)


@keras_nlp_clone_export
class XLMRobertaMaskedLM(RobertaMaskedLM):
    """XLM-RoBERTa with a masked language modelling head.

    The head of `RobertaMaskedLM` (as Hugging Face's `XLMRobertaLMHead`:
    dense, exact GELU, layer norm, tied decoder plus a bias) on an
    `XLMRobertaBackbone`. With an `XLMRobertaMaskedLMPreprocessor` it
    trains on raw strings.

    Args:
        backbone: `keras_nlp_clone.models.XLMRobertaBackbone`.
        preprocessor:
            `keras_nlp_clone.models.XLMRobertaMaskedLMPreprocessor` or
            `None`. Defaults to `None`.
        **kwargs: passed to `Task`.

    Call arguments (a dict): the backbone's `token_ids` and
        `padding_mask`, plus `mask_positions`, int `(batch, num_masks)`.

    Returns:
        Logits of shape `(batch, num_masks, vocabulary_size)`.

    Examples:
    >>> masked_lm = keras_nlp_clone.models.XLMRobertaMaskedLM.from_preset(
    ...     "xlm_roberta_base_multi")
    >>> masked_lm.fit(["The quick brown fox.", "Le renard brun."],
    ...               batch_size=2)

    References:
        - [Conneau et al., 2020](https://arxiv.org/abs/1911.02116)
    """

    backbone_cls = XLMRobertaBackbone
    preprocessor_cls = XLMRobertaMaskedLMPreprocessor
