"""RoBERTa masked language model."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.masked_lm_head import MaskedLMHead
from keras_nlp_clone.models.masked_lm import MaskedLM
from keras_nlp_clone.models.roberta.roberta_backbone import RobertaBackbone
from keras_nlp_clone.models.roberta.roberta_backbone import (
    roberta_kernel_initializer,
)
from keras_nlp_clone.models.roberta.roberta_masked_lm_preprocessor import (
    RobertaMaskedLMPreprocessor,
)
from keras_nlp_clone.utils.keras_utils import gelu_exact


@keras_nlp_clone_export
class RobertaMaskedLM(MaskedLM):
    """RoBERTa with a masked language modelling head.

    Runs a `RobertaBackbone` and a `keras_nlp_clone.layers.MaskedLMHead`
    on the hidden states at `mask_positions`: dense, exact GELU, layer norm
    (epsilon 1e-5), then the transposed token embedding plus a bias, as
    Hugging Face's `RobertaLMHead`. With a `RobertaMaskedLMPreprocessor` it
    trains on raw strings: the preprocessor masks tokens and makes the
    labels.

    Args:
        backbone: `keras_nlp_clone.models.RobertaBackbone`.
        preprocessor: `keras_nlp_clone.models.RobertaMaskedLMPreprocessor`
            or `None`. Defaults to `None`.
        **kwargs: passed to `Task`.

    Call arguments (a dict): the backbone's `token_ids` and
        `padding_mask`, plus `mask_positions`, int `(batch, num_masks)`.

    Returns:
        Logits of shape `(batch, num_masks, vocabulary_size)`.

    Examples:
    >>> masked_lm = keras_nlp_clone.models.RobertaMaskedLM.from_preset(
    ...     "roberta_base_en")
    >>> masked_lm.fit(["The quick brown fox jumped.", "Call me Ishmael."],
    ...               batch_size=2)

    References:
        - [Liu et al., 2019](https://arxiv.org/abs/1907.11692)
    """

    backbone_cls = RobertaBackbone
    preprocessor_cls = RobertaMaskedLMPreprocessor

    def __init__(self, backbone, preprocessor=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.masked_lm_head = MaskedLMHead(
            vocabulary_size=backbone.vocabulary_size,
            token_embedding=backbone.token_embedding,
            intermediate_activation=gelu_exact,
            layer_norm_epsilon=1e-5,
            kernel_initializer=roberta_kernel_initializer(),
            dtype=backbone.dtype_policy,
            name="mlm_head",
        )

        # === Functional Model ===
        inputs = {
            **backbone.input,
            "mask_positions": keras.Input(
                shape=(None,), dtype="int32", name="mask_positions"
            ),
        }
        sequence_output = backbone(backbone.input)
        outputs = self.masked_lm_head(sequence_output, inputs["mask_positions"])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
