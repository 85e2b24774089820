"""DistilBERT text classifier."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.distil_bert.distil_bert_backbone import (
    DistilBertBackbone,
)
from keras_nlp_clone.models.distil_bert.distil_bert_backbone import (
    distilbert_kernel_initializer,
)
from keras_nlp_clone.models.distil_bert.distil_bert_preprocessor import (
    DistilBertPreprocessor,
)
from keras_nlp_clone.models.text_classifier import TextClassifier
from keras_nlp_clone.utils.keras_utils import head_dtype_policy


@keras_nlp_clone_export
class DistilBertClassifier(TextClassifier):
    """DistilBERT with a classification head: strings in, class scores out.

    Runs a `DistilBertBackbone`, takes the hidden state of the first
    (`[CLS]`) token, applies a ReLU dense layer of width `hidden_dim`
    (`"pooled_dense"`), dropout, and a dense layer to `num_classes` outputs
    (`"logits"`), as Hugging Face `DistilBertForSequenceClassification`
    (`pre_classifier`, `classifier`). With a `DistilBertPreprocessor` it
    takes raw strings (or `(text_a, text_b)` pairs) in `fit`, `evaluate`
    and `predict`; with `preprocessor=None` it takes the backbone's input
    dict. It compiles itself with defaults (Adam 5e-5, sparse categorical
    cross-entropy, accuracy). `DistilBertTextClassifier` is the same class
    under its newer name.

    Args:
        backbone: `keras_nlp_clone.models.DistilBertBackbone`.
        num_classes: int. Number of classes.
        preprocessor: `keras_nlp_clone.models.DistilBertPreprocessor` or
            `None`. Defaults to `None` (inputs must be preprocessed).
        activation: `None`, a string or a callable: the activation of the
            output layer; `None` returns logits, `"softmax"` probabilities.
            Defaults to `None`.
        hidden_dim: int. Width of the `"pooled_dense"` layer. Defaults to
            `None`, the backbone's `hidden_dim`.
        dropout: float. Dropout between the two dense layers. Defaults to
            `0.2`.
        **kwargs: passed to `Task` (`name`, `compile`).

    Call arguments:
        x: raw strings (with a preprocessor) or the dict of `token_ids` and
            `padding_mask`, int `(batch, seq_len)`.

    Returns:
        Logits (or `activation` of them) of shape `(batch, num_classes)`;
        from `predict`, a NumPy array `(num_samples, num_classes)`.

    Examples:
    >>> import numpy as np
    >>> backbone = keras_nlp_clone.models.DistilBertBackbone(
    ...     vocabulary_size=100, num_layers=1, num_heads=2, hidden_dim=8,
    ...     intermediate_dim=16)
    >>> classifier = keras_nlp_clone.models.DistilBertClassifier(
    ...     backbone, num_classes=3)
    >>> classifier.predict({
    ...     "token_ids": np.ones((2, 6), "int32"),
    ...     "padding_mask": np.ones((2, 6), "int32"),
    ... }).shape
    (2, 3)

    References:
        - [Sanh et al., 2019](https://arxiv.org/abs/1910.01108)
    """

    backbone_cls = DistilBertBackbone
    preprocessor_cls = DistilBertPreprocessor

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        activation=None,
        hidden_dim=None,
        dropout=0.2,
        **kwargs,
    ):
        # Set before the functional constructor: `compile()` runs there and
        # picks the default loss from the activation.
        self.activation = keras.activations.get(activation)
        hidden_dim = hidden_dim or backbone.hidden_dim

        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.pooled_dense = keras.layers.Dense(
            hidden_dim,
            activation="relu",
            kernel_initializer=distilbert_kernel_initializer(),
            dtype=backbone.dtype_policy,
            name="pooled_dense",
        )
        self.output_dropout = keras.layers.Dropout(
            dropout, dtype=backbone.dtype_policy, name="output_dropout"
        )
        self.output_dense = keras.layers.Dense(
            num_classes,
            kernel_initializer=distilbert_kernel_initializer(),
            activation=activation,
            # float32 logits under mixed precision.
            dtype=head_dtype_policy(backbone.dtype_policy),
            name="logits",
        )

        # === Functional Model ===
        inputs = backbone.input
        x = backbone(inputs)[:, backbone.cls_token_index, :]
        x = self.pooled_dense(x)
        x = self.output_dropout(x)
        outputs = self.output_dense(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.hidden_dim = hidden_dim
        self.dropout = dropout

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "activation": keras.activations.serialize(self.activation),
                "hidden_dim": self.hidden_dim,
                "dropout": self.dropout,
            }
        )
        return config


DistilBertTextClassifier = DistilBertClassifier
