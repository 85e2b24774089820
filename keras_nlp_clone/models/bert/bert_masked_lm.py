"""BERT masked language model."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.masked_lm_head import MaskedLMHead
from keras_nlp_clone.models.bert.bert_backbone import BertBackbone
from keras_nlp_clone.models.bert.bert_backbone import bert_kernel_initializer
from keras_nlp_clone.models.bert.bert_masked_lm_preprocessor import (
    BertMaskedLMPreprocessor,
)
from keras_nlp_clone.models.masked_lm import MaskedLM
from keras_nlp_clone.utils.keras_utils import gelu_exact


@keras_nlp_clone_export
class BertMaskedLM(MaskedLM):
    """BERT with a masked language modelling head.

    Runs a `BertBackbone` and a `keras_nlp_clone.layers.MaskedLMHead`
    (dense, GELU, layer norm, then the transposed token embedding plus a
    bias, as BERT's pretraining head) on the hidden states at
    `mask_positions`. With a `BertMaskedLMPreprocessor` it trains on raw
    strings: the preprocessor masks tokens and makes the labels.

    Args:
        backbone: `keras_nlp_clone.models.BertBackbone`.
        preprocessor: `keras_nlp_clone.models.BertMaskedLMPreprocessor` or
            `None`. Defaults to `None`.
        **kwargs: passed to `Task`.

    Call arguments (a dict): the backbone's `token_ids`, `segment_ids`,
        `padding_mask`, plus `mask_positions`, int `(batch, num_masks)`.

    Returns:
        Logits of shape `(batch, num_masks, vocabulary_size)`.

    Examples:
    >>> masked_lm = keras_nlp_clone.models.BertMaskedLM.from_preset(
    ...     "all_minilm_l6_v2_en")
    >>> masked_lm.fit(["The quick brown fox jumped.", "Call me Ishmael."],
    ...               batch_size=2)

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    backbone_cls = BertBackbone
    preprocessor_cls = BertMaskedLMPreprocessor

    def __init__(self, backbone, preprocessor=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.masked_lm_head = MaskedLMHead(
            vocabulary_size=backbone.vocabulary_size,
            token_embedding=backbone.token_embedding,
            intermediate_activation=gelu_exact,
            layer_norm_epsilon=1e-12,
            kernel_initializer=bert_kernel_initializer(),
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
        backbone_outputs = backbone(backbone.input)
        outputs = self.masked_lm_head(
            backbone_outputs["sequence_output"], inputs["mask_positions"]
        )
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
