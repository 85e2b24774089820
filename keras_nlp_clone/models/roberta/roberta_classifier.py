"""RoBERTa text classifier."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.roberta.roberta_backbone import RobertaBackbone
from keras_nlp_clone.models.roberta.roberta_backbone import (
    roberta_kernel_initializer,
)
from keras_nlp_clone.models.roberta.roberta_preprocessor import (
    RobertaPreprocessor,
)
from keras_nlp_clone.models.text_classifier import TextClassifier
from keras_nlp_clone.utils.keras_utils import head_dtype_policy


@keras_nlp_clone_export
class RobertaClassifier(TextClassifier):
    """RoBERTa with a classification head: strings in, class scores out.

    Runs a `RobertaBackbone` and, as Hugging Face's
    `RobertaClassificationHead`, takes the hidden state of the `<s>` token
    (position 0), applies dropout, a tanh dense layer of `hidden_dim`
    units, dropout again and a dense layer to `num_classes` outputs. With a
    `RobertaPreprocessor` it takes raw strings (or `(text_a, text_b)`
    pairs) in `fit`, `evaluate` and `predict`; with `preprocessor=None` it
    takes the backbone's input dict. It compiles itself with defaults (Adam
    5e-5, sparse categorical cross-entropy, accuracy).
    `RobertaTextClassifier` is the same class under its newer name.

    Args:
        backbone: `keras_nlp_clone.models.RobertaBackbone`.
        num_classes: int. Number of classes.
        preprocessor: `keras_nlp_clone.models.RobertaPreprocessor` or
            `None`. Defaults to `None` (inputs must be preprocessed).
        activation: `None`, a string or a callable: the activation of the
            output layer; `None` returns logits, `"softmax"` probabilities.
            Defaults to `None`.
        hidden_dim: int or `None`. Units of the tanh dense layer; `None`
            uses the backbone's `hidden_dim`. Defaults to `None`.
        dropout: float. Dropout before each dense layer of the head.
            Defaults to `0.0`.
        **kwargs: passed to `Task` (`name`, `compile`).

    Returns:
        From `predict`: a float array of shape `(num_samples,
        num_classes)`.

    Examples:
    >>> classifier = keras_nlp_clone.models.RobertaClassifier.from_preset(
    ...     "roberta_base_en", num_classes=2)
    >>> classifier.fit(x=["What an amazing movie!", "A total waste."],
    ...                y=[1, 0], batch_size=2)
    >>> classifier.predict(["I loved it."]).shape
    (1, 2)

    References:
        - [Liu et al., 2019](https://arxiv.org/abs/1907.11692)
    """

    backbone_cls = RobertaBackbone
    preprocessor_cls = RobertaPreprocessor

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        activation=None,
        hidden_dim=None,
        dropout=0.0,
        **kwargs,
    ):
        # Set before the functional constructor: `compile()` runs there and
        # picks the default loss from the activation.
        self.activation = keras.activations.get(activation)

        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.pooled_dropout = keras.layers.Dropout(
            dropout, dtype=backbone.dtype_policy, name="pooled_dropout"
        )
        self.pooled_dense = keras.layers.Dense(
            hidden_dim or backbone.hidden_dim,
            kernel_initializer=roberta_kernel_initializer(),
            activation="tanh",
            dtype=backbone.dtype_policy,
            name="pooled_dense",
        )
        self.output_dropout = keras.layers.Dropout(
            dropout, dtype=backbone.dtype_policy, name="output_dropout"
        )
        self.output_dense = keras.layers.Dense(
            num_classes,
            kernel_initializer=roberta_kernel_initializer(),
            activation=activation,
            # float32 logits under mixed precision.
            dtype=head_dtype_policy(backbone.dtype_policy),
            name="logits",
        )

        # === Functional Model ===
        inputs = backbone.input
        x = backbone(inputs)[:, backbone.start_token_index, :]
        x = self.pooled_dense(self.pooled_dropout(x))
        outputs = self.output_dense(self.output_dropout(x))
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


RobertaTextClassifier = RobertaClassifier
