"""Perplexity: the exponent of the mean token cross-entropy."""

import keras
import numpy as np
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.metrics.metric_utils import check_float_dtype


def _is_string_like(x):
    if isinstance(x, (str, bytes, list, tuple)):
        x = np.asarray(x)
    if isinstance(x, np.ndarray):
        return x.dtype.kind in ("U", "S", "O")
    return "string" in str(getattr(x, "dtype", ""))


@keras_nlp_clone_export
class Perplexity(keras.metrics.Metric):
    """Perplexity of a language model's predictions.

    Perplexity is `exp` of the mean cross-entropy of the target tokens under
    the predicted distributions. The metric keeps two totals across
    `update_state` calls, the weighted sum of the token cross-entropies and
    the sum of the token weights, and `result()` returns
    `exp(total_crossentropy / total_weight)`: the mean is over every
    unmasked token seen since the last `reset_state`, so batches with more
    tokens count for more (as in Hugging Face's perplexity recipe and
    KerasHub since its accumulation fix; earlier KerasNLP releases weighted
    each batch's mean by its number of sequences, which gives the same value
    only when every update has the same number of unmasked tokens per
    sequence).

    A token's weight is `sample_weight` (broadcast to `y_true`'s shape; `1`
    when not given) times `0` where `y_true == mask_token_id`. Masked labels
    may lie outside the vocabulary (e.g. Hugging Face's `-100`): they are
    never looked up.

    Being built from `keras.ops` only, the metric runs standalone and inside
    `model.compile(metrics=[...])` (`fit`/`evaluate`, compiled with XLA or
    not) on JAX, TensorFlow and PyTorch.

    Args:
        from_logits: bool. Whether `y_pred` holds logits (`True`) or
            probabilities (`False`; each distribution is renormalized to sum
            to one and clipped away from zero, as
            `keras.losses.sparse_categorical_crossentropy` does). Defaults to
            `False`.
        mask_token_id: int. Target id whose positions are left out of the
            mean (e.g. the padding id). Multiplies `sample_weight` when both
            are given. Defaults to `None` (no masking).
        dtype: string. The floating point dtype of the computation and of
            the result. Defaults to `"float32"`.
        name: string. The metric's name. Defaults to `"perplexity"`.
        **kwargs: passed to `keras.metrics.Metric`.

    Call arguments (`update_state(y_true, y_pred, sample_weight=None)`):
        y_true: int tensor of shape `(batch_size, sequence_length)`, the
            target token ids (floats holding whole numbers are accepted).
        y_pred: float tensor of shape
            `(batch_size, sequence_length, vocabulary_size)`, logits or
            probabilities.
        sample_weight: optional float tensor of shape `(batch_size,)` or
            `(batch_size, sequence_length)`, or a scalar.

    Returns:
        `result()`: a scalar tensor of `dtype`, the perplexity; `0.0` while
        no token with a nonzero weight has been seen (before any update, or
        when every token was masked).

    Raises:
        ValueError: for a non floating `dtype`; for `y_true`/`y_pred` whose
            ranks or shapes do not match (`y_pred.shape[:-1]` must equal
            `y_true.shape`), or an empty batch (both checked on the static
            shapes).
        TypeError: for string `y_true`, or a `y_pred` that is not floating
            point.

    Examples:
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> perplexity = keras_nlp_clone.metrics.Perplexity(from_logits=True)
    >>> y_true = np.array([[1, 2]])
    >>> y_pred = np.log(np.array([[[0.25, 0.5, 0.25], [0.5, 0.25, 0.25]]]))
    >>> float(perplexity(y_true, y_pred))  # exp(-(log 0.5 + log 0.25) / 2)
    2.828427...

    With a padding id masked out, in `compile`:

    ```python
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras_nlp.metrics.Perplexity(from_logits=True,
                                              mask_token_id=0)],
    )
    ```

    References:
        - [Jelinek et al., 1977](https://doi.org/10.1121/1.2016299)
        - KerasNLP `Perplexity`:
          <https://keras.io/api/keras_nlp/metrics/perplexity/>.
        - Hugging Face, "Perplexity of fixed-length models":
          <https://huggingface.co/docs/transformers/perplexity>.
    """

    def __init__(
        self,
        from_logits=False,
        mask_token_id=None,
        dtype="float32",
        name="perplexity",
        **kwargs,
    ):
        check_float_dtype(dtype, self.__class__.__name__)
        if mask_token_id is not None and (
            isinstance(mask_token_id, bool)
            or not isinstance(mask_token_id, int)
        ):
            raise ValueError(
                "`mask_token_id` must be an int (a target token id) or "
                f"`None`. Received: mask_token_id={mask_token_id!r}"
            )
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.from_logits = bool(from_logits)
        self.mask_token_id = mask_token_id
        self._aggregate_crossentropy = self.add_variable(
            shape=(),
            initializer="zeros",
            dtype=self.dtype,
            name="aggregate_crossentropy",
        )
        self._aggregate_weight = self.add_variable(
            shape=(),
            initializer="zeros",
            dtype=self.dtype,
            name="aggregate_weight",
        )

    def _check_inputs(self, y_true, y_pred):
        name = self.__class__.__name__
        true_dtype = keras.backend.standardize_dtype(y_true.dtype)
        pred_dtype = keras.backend.standardize_dtype(y_pred.dtype)
        if true_dtype == "string" or pred_dtype == "string":
            raise TypeError(
                f"`{name}` takes token ids and predicted distributions, not "
                "strings. Tokenize the targets first. Received: "
                f"y_true.dtype={true_dtype}, y_pred.dtype={pred_dtype}"
            )
        if "float" not in pred_dtype:
            raise TypeError(
                f"`{name}`: `y_pred` must be floating point logits or "
                f"probabilities. Received: y_pred.dtype={pred_dtype}"
            )
        true_shape = tuple(y_true.shape)
        pred_shape = tuple(y_pred.shape)
        if len(pred_shape) != len(true_shape) + 1 or len(true_shape) < 1:
            raise ValueError(
                f"`{name}`: `y_pred` must have one more dimension than "
                "`y_true` (`(batch_size, sequence_length, vocabulary_size)` "
                "against `(batch_size, sequence_length)`). Received: "
                f"y_true.shape={true_shape}, y_pred.shape={pred_shape}"
            )
        for a, b in zip(true_shape, pred_shape[:-1]):
            if a is not None and b is not None and a != b:
                raise ValueError(
                    f"`{name}`: `y_pred.shape[:-1]` must equal "
                    f"`y_true.shape`. Received: y_true.shape={true_shape}, "
                    f"y_pred.shape={pred_shape}"
                )
        if true_shape[0] == 0:
            raise ValueError(
                f"`{name}.update_state` received an empty batch "
                f"(y_true.shape={true_shape}). Skip the update for empty "
                "batches."
            )

    def update_state(self, y_true, y_pred, sample_weight=None):
        for arg_name, value in (("y_true", y_true), ("y_pred", y_pred)):
            if _is_string_like(value):
                raise TypeError(
                    f"`{self.__class__.__name__}` takes token ids and "
                    "predicted distributions, not strings. Tokenize the "
                    f"targets first. Received a string `{arg_name}`."
                )
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        self._check_inputs(y_true, y_pred)
        y_true = ops.cast(y_true, "int32")
        y_pred = ops.cast(y_pred, self.dtype)

        weight = ops.ones(ops.shape(y_true), dtype=self.dtype)
        if sample_weight is not None:
            sample_weight = ops.cast(
                ops.convert_to_tensor(sample_weight), self.dtype
            )
            while (
                len(sample_weight.shape) < len(y_true.shape)
                and len(sample_weight.shape) > 0
            ):
                sample_weight = ops.expand_dims(sample_weight, -1)
            weight = weight * sample_weight
        if self.mask_token_id is not None:
            mask = ops.not_equal(y_true, self.mask_token_id)
            weight = weight * ops.cast(mask, self.dtype)
            # Masked labels (e.g. -100) may be outside the vocabulary.
            y_true = ops.where(mask, y_true, ops.zeros_like(y_true))

        crossentropy = keras.losses.sparse_categorical_crossentropy(
            y_true, y_pred, from_logits=self.from_logits
        )
        crossentropy = ops.cast(crossentropy, self.dtype)
        weighted = ops.where(ops.greater(weight, 0), crossentropy * weight, 0.0)
        self._aggregate_crossentropy.assign_add(ops.sum(weighted))
        self._aggregate_weight.assign_add(ops.sum(weight))

    def result(self):
        total_weight = ops.convert_to_tensor(self._aggregate_weight)
        seen = ops.greater(total_weight, 0)
        mean = self._aggregate_crossentropy / ops.where(seen, total_weight, 1.0)
        return ops.where(seen, ops.exp(mean), 0.0)

    def reset_state(self):
        self._aggregate_crossentropy.assign(0.0)
        self._aggregate_weight.assign(0.0)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "from_logits": self.from_logits,
                "mask_token_id": self.mask_token_id,
            }
        )
        return config
