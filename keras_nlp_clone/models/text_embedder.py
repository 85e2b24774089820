"""Base class for text embedding tasks: strings in, sentence embeddings
out."""

import keras
import numpy as np
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.task import Task
from keras_nlp_clone.utils.keras_utils import head_dtype_policy

POOLING_MODES = ("mean", "cls", "max")


class _SentencePooling(keras.layers.Layer):
    """Pools a `(batch, length, hidden)` sequence to `(batch, hidden)` over
    the non-padding tokens, then optionally L2-normalizes.

    `"mean"`: the sum of the unpadded hidden states over their count
    (clamped at 1e-9), as sentence-transformers' `Pooling` with
    `pooling_mode_mean_tokens`; `"max"`: the elementwise maximum over the
    unpadded states (padding set to -1e9, as sentence-transformers does);
    `"cls"`: the first token's state. Normalization divides by the L2 norm
    clamped at 1e-12, as `torch.nn.functional.normalize`.
    """

    def __init__(self, pooling_mode, normalize, **kwargs):
        super().__init__(**kwargs)
        self.pooling_mode = pooling_mode
        self.normalize = normalize

    def call(self, sequence_output, padding_mask):
        x = ops.cast(sequence_output, self.compute_dtype)
        mask = ops.expand_dims(ops.cast(padding_mask, self.compute_dtype), -1)
        if self.pooling_mode == "mean":
            total = ops.sum(x * mask, axis=1)
            count = ops.maximum(ops.sum(mask, axis=1), 1e-9)
            pooled = total / count
        elif self.pooling_mode == "max":
            pooled = ops.max(ops.where(mask > 0, x, -1e9), axis=1)
        else:
            pooled = x[:, 0, :]
        if self.normalize:
            norm = ops.sqrt(ops.sum(ops.square(pooled), axis=-1, keepdims=True))
            pooled = pooled / ops.maximum(norm, 1e-12)
        return pooled

    def compute_output_shape(self, sequence_output_shape, padding_mask_shape):
        return (sequence_output_shape[0], sequence_output_shape[-1])


@keras_nlp_clone_export
class TextEmbedder(Task):
    """Base class for text embedders: strings in, sentence embeddings out.

    A text embedder runs a backbone over packed text and pools its
    `sequence_output` into one vector per input, the architecture of
    sentence-transformers models such as all-MiniLM-L6-v2 (a BERT with
    mean pooling and L2 normalization). The pooling follows
    sentence-transformers' `Pooling` module:

    - `"mean"`: the mean of the hidden states of the non-padding tokens
      (`[CLS]` and `[SEP]` included, as the attention mask marks them);
    - `"cls"`: the hidden state of the first token;
    - `"max"`: the elementwise maximum over the non-padding tokens.

    With `normalize=True` each embedding is divided by its L2 norm, so a
    dot product of two embeddings is their cosine similarity. Outputs are
    float32 under the float32 policy, and computed in float32 (the
    variable dtype) under a mixed precision policy.

    `predict` takes raw strings (or a `tf.data.Dataset` of them) when the
    task has a preprocessor, or the backbone's input dict when
    `preprocessor=None`; token ids outside `[0, vocabulary_size)` in such
    a dict are refused with an error naming the largest id.

    Training: as KerasNLP's (KerasHub's) `TextEmbedder`, the default
    compile uses Adam (learning rate 5e-5), `keras.losses.CosineSimilarity`
    and `keras.metrics.CosineSimilarity`, so `fit(texts, target_embeddings)`
    pulls each embedding towards a target vector of shape `(hidden_dim,)`;
    call `compile()` with another loss (e.g. a contrastive one written for
    your data) to train otherwise. `TextEmbedder.from_preset(...)` builds
    the family's embedder for a preset.

    Subclasses set `backbone_cls` and `preprocessor_cls`.

    Args:
        backbone: a `keras_nlp_clone.models.Backbone` whose output is the
            sequence output of shape `(batch, length, hidden_dim)`, or a
            dict holding it as `"sequence_output"` (BERT), and whose inputs
            hold `"padding_mask"`.
        preprocessor: a `keras_nlp_clone.models.TextEmbedderPreprocessor`
            or `None`. Defaults to `None` (inputs must be preprocessed).
        pooling_mode: str. `"mean"`, `"cls"` or `"max"`. Defaults to
            `"mean"`.
        normalize: bool. L2-normalize the embeddings. Defaults to `True`.
        **kwargs: passed to `Task` (`name`, `compile`).

    Returns:
        From `predict`: a float32 array of shape `(num_samples,
        hidden_dim)`.

    Raises:
        ValueError: `pooling_mode` is not one of `"mean"`, `"cls"`,
            `"max"`; `normalize` is not a bool; in `predict`, `fit` or
            `evaluate`, a preprocessed `token_ids` input holds an id outside
            `[0, vocabulary_size)`.

    Examples:
    >>> embedder = keras_nlp_clone.models.TextEmbedder.from_preset(
    ...     "all_minilm_l6_v2_en")
    >>> embeddings = embedder.predict(
    ...     ["The weather is lovely today.", "It's so sunny outside!"])
    >>> embeddings.shape
    (2, 384)
    >>> round(float(embeddings[0] @ embeddings[1]), 4)
    0.666

    References:
        - [Reimers and Gurevych, 2019](https://arxiv.org/abs/1908.10084)
    """

    def __init__(
        self,
        backbone,
        preprocessor=None,
        pooling_mode="mean",
        normalize=True,
        **kwargs,
    ):
        if pooling_mode not in POOLING_MODES:
            raise ValueError(
                f"`pooling_mode` must be one of {list(POOLING_MODES)}. "
                f"Received: pooling_mode={pooling_mode!r}."
            )
        if not isinstance(normalize, (bool, np.bool_)):
            raise ValueError(
                "`normalize` must be True or False. Received: "
                f"normalize={normalize!r}."
            )
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.pooling = _SentencePooling(
            pooling_mode,
            bool(normalize),
            # float32 embeddings under mixed precision.
            dtype=head_dtype_policy(backbone.dtype_policy),
            name="pooling",
        )

        # === Functional Model ===
        inputs = backbone.input
        sequence_output = backbone(inputs)
        if isinstance(sequence_output, dict):  # BERT: also `pooled_output`
            sequence_output = sequence_output["sequence_output"]
        outputs = self.pooling(sequence_output, inputs["padding_mask"])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.pooling_mode = pooling_mode
        self.normalize = bool(normalize)

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs):
        """Configures training, with task defaults for `"auto"` arguments.

        Args:
            optimizer: `"auto"` (Adam, learning rate 5e-5), or any Keras
                optimizer or name.
            loss: `"auto"` (`keras.losses.CosineSimilarity`: the negated
                cosine similarity of each embedding and its target), or any
                Keras loss.
            metrics: `"auto"` (`keras.metrics.CosineSimilarity`), or a list.
            **kwargs: passed to `keras.Model.compile` (`jit_compile`, ...).
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-5)
        if loss == "auto":
            loss = keras.losses.CosineSimilarity()
        if metrics == "auto":
            metrics = [keras.metrics.CosineSimilarity()]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    # === Input checks ===

    def predict(self, x=None, batch_size=None, **kwargs):
        """Embeds raw strings, a dataset, or preprocessed inputs.

        Args:
            x: raw strings (a list, array or string) with a preprocessor, a
                `tf.data.Dataset` of them, or with `preprocessor=None` the
                backbone's input dict of arrays of shape `(num_samples,
                length)`.
            batch_size: int. Defaults to 32.
            **kwargs: passed to `keras.Model.predict` (`verbose`, ...).

        Returns:
            A float32 NumPy array of shape `(num_samples, hidden_dim)`.

        Raises:
            ValueError: preprocessed `token_ids` outside `[0,
                vocabulary_size)` (checked by `Task` for every task).
        """
        return super().predict(x=x, batch_size=batch_size, **kwargs)

    def fit(self, x=None, y=None, batch_size=None, **kwargs):
        """Trains the embedder; inputs as in `Task.fit`, `y` the target
        embeddings of shape `(num_samples, hidden_dim)` for the default
        cosine similarity loss."""
        return super().fit(x=x, y=y, batch_size=batch_size, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"pooling_mode": self.pooling_mode, "normalize": self.normalize}
        )
        return config
