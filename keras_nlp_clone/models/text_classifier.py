"""Base class for text classification tasks."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.task import Task


@keras_nlp_clone_export
class TextClassifier(Task):
    """Base class for text classifiers: strings in, class scores out.

    A family's classifier puts a classification head on its backbone's
    features: on BERT's pooled output (`BertClassifier`), or on the hidden
    state of the first token (`RobertaClassifier`, `DistilBertClassifier`,
    whose backbones have no pooler). `TextClassifier.from_preset(...)` builds the
    family's classifier for a preset.

    The default compile uses Adam (learning rate 5e-5), sparse categorical
    cross-entropy (from logits unless `activation="softmax"`) and sparse
    categorical accuracy, so `fit`, `evaluate` and `predict` work on raw
    strings with no `compile()` call.

    Args:
        **kwargs: passed to `Task`.

    Examples:
    >>> classifier = keras_nlp_clone.models.TextClassifier.from_preset(
    ...     "all_minilm_l6_v2_en", num_classes=2)
    >>> classifier.fit(["great film", "dull"], [1, 0], batch_size=2)
    """

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs):
        """Configures training, with task defaults for `"auto"` arguments.

        Args:
            optimizer: `"auto"` (Adam, learning rate 5e-5), or any Keras
                optimizer or name.
            loss: `"auto"` (`SparseCategoricalCrossentropy`, from logits
                unless the head's activation is softmax), or any Keras loss.
            metrics: `"auto"` (`SparseCategoricalAccuracy`), or a list.
            **kwargs: passed to `keras.Model.compile` (`jit_compile`, ...).
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-5)
        if loss == "auto":
            activation = getattr(self, "activation", None)
            activation = keras.activations.get(activation)
            from_logits = activation != keras.activations.softmax
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy()]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
