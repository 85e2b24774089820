"""Base class for masked language modelling tasks."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.task import Task


@keras_nlp_clone_export
class MaskedLM(Task):
    """Base class for masked language models: predict masked-out tokens.

    A family's masked LM (e.g. `BertMaskedLM`) runs its backbone and a
    `keras_nlp_clone.layers.MaskedLMHead` on the hidden states at
    `mask_positions`, returning vocabulary logits of shape `(batch,
    mask_selection_length, vocabulary_size)`. With its
    `MaskedLMPreprocessor` it trains on raw strings.

    The default compile uses Adam (learning rate 5e-5), sparse categorical
    cross-entropy from logits, and sparse categorical accuracy as a weighted
    metric (padding selections have weight 0).

    Args:
        **kwargs: passed to `Task`.
    """

    def compile(
        self, optimizer="auto", loss="auto", *, weighted_metrics="auto", **kwargs
    ):
        """Configures training, with task defaults for `"auto"` arguments.

        Args:
            optimizer: `"auto"` (Adam, learning rate 5e-5) or a Keras
                optimizer.
            loss: `"auto"` (`SparseCategoricalCrossentropy(from_logits=True)`)
                or a Keras loss.
            weighted_metrics: `"auto"` (`SparseCategoricalAccuracy`) or a
                list.
            **kwargs: passed to `keras.Model.compile`.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-5)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if weighted_metrics == "auto":
            weighted_metrics = [keras.metrics.SparseCategoricalAccuracy()]
        super().compile(
            optimizer=optimizer,
            loss=loss,
            weighted_metrics=weighted_metrics,
            **kwargs,
        )
