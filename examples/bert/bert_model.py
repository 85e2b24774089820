"""The BERT pretraining model: a backbone with a masked language model head.

`BertPretrainingModel` is a functional `keras.Model` built from library
components only: a `keras_nlp.models.BertBackbone` and a
`keras_nlp.layers.MaskedLMHead` whose output projection is the transpose of
the backbone's token embedding (tied input and output embeddings, as in
BERT). It predicts the original token ids at `mask_positions`. There is no
next-sentence-prediction head: like RoBERTa (Liu et al., 2019), the recipe
pretrains on masked tokens alone, over contiguous spans of text.

After pretraining, `model.backbone` is what fine-tuning needs; the head is
discarded. `WarmupLinearDecay` is the learning rate schedule of both
pretraining and fine-tuning.
"""

import keras

import keras_nlp_clone as keras_nlp


class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from zero to a peak, then linear decay to zero.

    The learning rate at step `s` is `peak * s / warmup_steps` while
    `s < warmup_steps`, then `peak * (total_steps - s) / (total_steps -
    warmup_steps)`, and zero from `total_steps` on (BERT's schedule).

    Args:
        peak_learning_rate: float. The learning rate at the end of warmup.
        total_steps: int. The step at which the rate reaches zero.
        warmup_steps: int. Steps of warmup, in `[0, total_steps)`.

    Raises:
        ValueError: `total_steps < 1` or `warmup_steps` outside
            `[0, total_steps)`.
    """

    def __init__(self, peak_learning_rate, total_steps, warmup_steps):
        if total_steps < 1 or not 0 <= warmup_steps < total_steps:
            raise ValueError(
                "Need total_steps >= 1 and 0 <= warmup_steps < total_steps. "
                f"Received: total_steps={total_steps}, "
                f"warmup_steps={warmup_steps}."
            )
        self.peak_learning_rate = float(peak_learning_rate)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        """Returns the learning rate at `step` (a scalar tensor)."""
        step = keras.ops.cast(step, "float32")
        warmup = step / max(self.warmup_steps, 1)
        decay = (self.total_steps - step) / (self.total_steps - self.warmup_steps)
        fraction = keras.ops.where(step < self.warmup_steps, warmup, decay)
        return self.peak_learning_rate * keras.ops.clip(fraction, 0.0, 1.0)

    def get_config(self):
        """Returns the constructor arguments, for serialization."""
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
        }


def bert_initializer():
    """Returns BERT's weight initializer.

    Returns:
        A `keras.initializers.TruncatedNormal` with standard deviation 0.02.
    """
    return keras.initializers.TruncatedNormal(stddev=0.02)


def build_backbone(vocabulary_size, model_config, max_sequence_length, dropout,
                   num_segments=2):
    """Builds a randomly initialised `BertBackbone`.

    Args:
        vocabulary_size: int. Number of WordPiece tokens.
        model_config: dict with `num_layers`, `num_heads`, `hidden_dim` and
            `intermediate_dim`, e.g. `bert_config.MODEL_CONFIGS["tiny"]`.
        max_sequence_length: int. Longest input the position embedding
            covers.
        dropout: float. Dropout rate of the backbone.
        num_segments: int. Number of segment ids. Defaults to `2`.

    Returns:
        A `keras_nlp.models.BertBackbone`.

    Raises:
        KeyError: `model_config` lacks one of the four keys.
        ValueError: `hidden_dim` is not divisible by `num_heads`.
    """
    return keras_nlp.models.BertBackbone(
        vocabulary_size=vocabulary_size,
        num_layers=model_config["num_layers"],
        num_heads=model_config["num_heads"],
        hidden_dim=model_config["hidden_dim"],
        intermediate_dim=model_config["intermediate_dim"],
        dropout=dropout,
        max_sequence_length=max_sequence_length,
        num_segments=num_segments,
    )


class BertPretrainingModel(keras.Model):
    """A `BertBackbone` with a tied masked language model head.

    Args:
        backbone: `keras_nlp.models.BertBackbone`. Trained in place: after
            `fit`, save it with `backbone.save_to_preset(...)`.
        **kwargs: passed to `keras.Model` (e.g. `name`).

    Call arguments (a dict):
        token_ids: int tensor `(batch, seq_len)`, the masked token ids.
        segment_ids: int tensor `(batch, seq_len)`.
        padding_mask: int or bool tensor `(batch, seq_len)`, 1 for real
            tokens.
        mask_positions: int tensor `(batch, num_masks)`, the positions
            whose original ids are predicted.

    Returns:
        Float logits of shape `(batch, num_masks, vocabulary_size)`.

    Raises:
        ValueError: from `MaskedLMHead`, when the backbone's token embedding
            is not a `ReversibleEmbedding`.

    Examples:
    >>> import numpy as np
    >>> backbone = build_backbone(100, {"num_layers": 1, "num_heads": 2,
    ...     "hidden_dim": 8, "intermediate_dim": 16}, 16, 0.1)
    >>> model = BertPretrainingModel(backbone)
    >>> logits = model({
    ...     "token_ids": np.ones((2, 16), "int32"),
    ...     "segment_ids": np.zeros((2, 16), "int32"),
    ...     "padding_mask": np.ones((2, 16), "int32"),
    ...     "mask_positions": np.array([[1, 3], [2, 5]], "int32"),
    ... })
    >>> tuple(logits.shape)
    (2, 2, 100)
    """

    def __init__(self, backbone, **kwargs):
        inputs = {
            "token_ids": keras.Input(shape=(None,), dtype="int32", name="token_ids"),
            "segment_ids": keras.Input(
                shape=(None,), dtype="int32", name="segment_ids"
            ),
            "padding_mask": keras.Input(
                shape=(None,), dtype="int32", name="padding_mask"
            ),
            "mask_positions": keras.Input(
                shape=(None,), dtype="int32", name="mask_positions"
            ),
        }
        masked_lm_head = keras_nlp.layers.MaskedLMHead(
            token_embedding=backbone.token_embedding,
            intermediate_activation="gelu",
            layer_norm_epsilon=1e-12,
            kernel_initializer=bert_initializer(),
            name="mlm_head",
        )
        sequence_output = backbone(
            {
                "token_ids": inputs["token_ids"],
                "segment_ids": inputs["segment_ids"],
                "padding_mask": inputs["padding_mask"],
            }
        )["sequence_output"]
        logits = masked_lm_head(
            sequence_output, mask_positions=inputs["mask_positions"]
        )
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
        self.backbone = backbone
        self.masked_lm_head = masked_lm_head


def build_optimizer(learning_rate, weight_decay, clipnorm=1.0):
    """Builds BERT's optimizer: AdamW without decay on biases and norms.

    Args:
        learning_rate: float or `keras.optimizers.schedules
            .LearningRateSchedule`, e.g. a `WarmupLinearDecay`.
        weight_decay: float. Decoupled weight decay; layer normalisation
            scales and offsets and all biases are excluded from it.
        clipnorm: float. Each gradient is clipped to this norm. Defaults to
            `1.0`.

    Returns:
        A `keras.optimizers.AdamW` (epsilon 1e-6, as BERT).
    """
    optimizer = keras.optimizers.AdamW(
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        epsilon=1e-6,
        clipnorm=clipnorm,
    )
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer
