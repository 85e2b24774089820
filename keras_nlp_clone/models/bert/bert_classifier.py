"""BERT text classifier."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.bert.bert_backbone import BertBackbone
from keras_nlp_clone.models.bert.bert_backbone import bert_kernel_initializer
from keras_nlp_clone.models.bert.bert_preprocessor import BertPreprocessor
from keras_nlp_clone.models.text_classifier import TextClassifier
from keras_nlp_clone.utils.keras_utils import head_dtype_policy


@keras_nlp_clone_export
class BertClassifier(TextClassifier):
    """BERT with a classification head: strings in, class scores out.

    Runs a `BertBackbone`, applies dropout to its `pooled_output` and a
    dense layer to `num_classes` outputs. With a `BertPreprocessor` it
    takes raw strings (or `(text_a, text_b)` pairs) in `fit`, `evaluate`
    and `predict`; with `preprocessor=None` it takes the backbone's input
    dict. It compiles itself with defaults (Adam 5e-5, sparse categorical
    cross-entropy, accuracy). `BertTextClassifier` is the same class under
    its newer name.

    Args:
        backbone: `keras_nlp_clone.models.BertBackbone`.
        num_classes: int. Number of classes.
        preprocessor: `keras_nlp_clone.models.BertPreprocessor` or `None`.
            Defaults to `None` (inputs must be preprocessed).
        activation: `None`, a string or a callable: the activation of the
            output layer; `None` returns logits, `"softmax"` probabilities.
            Defaults to `None`.
        dropout: float. Dropout on the pooled output. Defaults to `0.1`.
        **kwargs: passed to `Task` (`name`, `compile`).

    Returns:
        From `predict`: a float array of shape `(num_samples,
        num_classes)`.

    Examples:
    >>> classifier = keras_nlp_clone.models.BertClassifier.from_preset(
    ...     "all_minilm_l6_v2_en", num_classes=2)
    >>> classifier.fit(x=["What an amazing movie!", "A total waste."],
    ...                y=[1, 0], batch_size=2)
    >>> classifier.predict(["I loved it."]).shape
    (1, 2)

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    backbone_cls = BertBackbone
    preprocessor_cls = BertPreprocessor

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        activation=None,
        dropout=0.1,
        **kwargs,
    ):
        # Set before the functional constructor: `compile()` runs there and
        # picks the default loss from the activation.
        self.activation = keras.activations.get(activation)

        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.output_dropout = keras.layers.Dropout(
            dropout, dtype=backbone.dtype_policy, name="output_dropout"
        )
        self.output_dense = keras.layers.Dense(
            num_classes,
            kernel_initializer=bert_kernel_initializer(),
            activation=activation,
            # float32 logits under mixed precision.
            dtype=head_dtype_policy(backbone.dtype_policy),
            name="logits",
        )

        # === Functional Model ===
        inputs = backbone.input
        pooled = backbone(inputs)["pooled_output"]
        outputs = self.output_dense(self.output_dropout(pooled))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.dropout = dropout

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "activation": keras.activations.serialize(self.activation),
                "dropout": self.dropout,
            }
        )
        return config


BertTextClassifier = BertClassifier
