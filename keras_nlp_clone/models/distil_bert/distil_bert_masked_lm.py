"""DistilBERT masked language model."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.masked_lm_head import MaskedLMHead
from keras_nlp_clone.models.distil_bert.distil_bert_backbone import (
    DistilBertBackbone,
)
from keras_nlp_clone.models.distil_bert.distil_bert_backbone import (
    distilbert_kernel_initializer,
)
from keras_nlp_clone.models.distil_bert.distil_bert_masked_lm_preprocessor import (
    DistilBertMaskedLMPreprocessor,
)
from keras_nlp_clone.models.masked_lm import MaskedLM
from keras_nlp_clone.utils.keras_utils import gelu_exact


@keras_nlp_clone_export
class DistilBertMaskedLM(MaskedLM):
    """DistilBERT with a masked language modelling head.

    Runs a `DistilBertBackbone` and a `keras_nlp_clone.layers.MaskedLMHead`
    on the hidden states at `mask_positions`: dense, exact GELU, layer norm
    (epsilon 1e-12), then the transposed token embedding plus a bias, as
    Hugging Face `DistilBertForMaskedLM` (`vocab_transform`,
    `vocab_layer_norm`, `vocab_projector` tied to the word embeddings).
    With a `DistilBertMaskedLMPreprocessor` it trains on raw strings: the
    preprocessor masks tokens and makes the labels.

    Args:
        backbone: `keras_nlp_clone.models.DistilBertBackbone`.
        preprocessor: `keras_nlp_clone.models.DistilBertMaskedLMPreprocessor`
            or `None`. Defaults to `None`.
        **kwargs: passed to `Task` (`name`, `compile`).

    Call arguments:
        x: raw strings (with a preprocessor) or a dict of the backbone's
            `token_ids` and `padding_mask`, int `(batch, seq_len)`, plus
            `mask_positions`, int `(batch, num_masks)`.

    Returns:
        Logits of shape `(batch, num_masks, vocabulary_size)`.

    Examples:
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "fox"]
    >>> tokenizer = keras_nlp_clone.models.DistilBertTokenizer(vocab)
    >>> preprocessor = keras_nlp_clone.models.DistilBertMaskedLMPreprocessor(
    ...     tokenizer, sequence_length=8, mask_selection_length=2)
    >>> backbone = keras_nlp_clone.models.DistilBertBackbone(
    ...     vocabulary_size=len(vocab), num_layers=1, num_heads=2,
    ...     hidden_dim=8, intermediate_dim=16, max_sequence_length=8)
    >>> masked_lm = keras_nlp_clone.models.DistilBertMaskedLM(
    ...     backbone, preprocessor=preprocessor)
    >>> masked_lm.fit(["the fox the fox", "fox the fox"], batch_size=2)

    References:
        - [Sanh et al., 2019](https://arxiv.org/abs/1910.01108)
    """

    backbone_cls = DistilBertBackbone
    preprocessor_cls = DistilBertMaskedLMPreprocessor

    def __init__(self, backbone, preprocessor=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.masked_lm_head = MaskedLMHead(
            vocabulary_size=backbone.vocabulary_size,
            token_embedding=backbone.token_embedding,
            intermediate_activation=gelu_exact,
            layer_norm_epsilon=1e-12,
            kernel_initializer=distilbert_kernel_initializer(),
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
