"""ALiBi: a fixed linear bias on attention scores, by key distance."""

import math

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.utils import argument_checks


def alibi_slopes(num_heads, alibi_bias_max=8):
    """The per-head ALiBi slopes of Press et al.

    For a power of two `n = num_heads` the slopes are the geometric sequence
    `2 ** (-alibi_bias_max * h / n)`, `h = 1 ... n` (with the default `8`:
    `1/2, 1/4, ..., 1/256` for 8 heads). Otherwise, with `p` the largest
    power of two below `num_heads`, they are the `p` slopes of `p` heads
    followed by the first `num_heads - p` odd-indexed slopes of `2p` heads,
    `2 ** (-alibi_bias_max * h / (2p))` for `h = 1, 3, 5, ...` (the
    reference implementation's rule, also used by BLOOM and MPT).

    Args:
        num_heads: int. The number of attention heads.
        alibi_bias_max: int or float. The exponent scale; the smallest slope
            is `2 ** -alibi_bias_max` (power-of-two head counts). Defaults to
            `8`.

    Returns:
        A list of `num_heads` Python floats, largest first.
    """
    power = 2 ** math.floor(math.log2(num_heads))
    slopes = [2.0 ** (-alibi_bias_max * h / power) for h in range(1, power + 1)]
    if power < num_heads:
        extra = 2 * power
        slopes += [
            2.0 ** (-alibi_bias_max * h / extra)
            for h in range(1, extra + 1, 2)
        ][: num_heads - power]
    return slopes


@keras_nlp_clone_export
class AlibiBias(keras.layers.Layer):
    """Adds the ALiBi linear bias to attention scores (no weights).

    ALiBi (Attention with Linear Biases) replaces position embeddings by a
    fixed penalty on each attention score, proportional to the distance
    between query and key, with a different slope `m_h` per head (see
    `alibi_slopes`: `1/2, 1/4, ..., 1/256` for 8 heads and the default
    `alibi_bias_max=8`). As in KerasNLP and MPT, the bias added to the
    scores of head `h` at key position `j` is

        bias[h, j] = m_h * (j - (key_length - 1))

    the same for every query row. For a causal model, query `i` attends to
    keys `j <= i`, and the paper's bias `-m_h * (i - j)` differs from this
    one by `m_h * (key_length - 1 - i)`, a constant along the row, which
    softmax ignores: the attention probabilities are the paper's.
    (BLOOM's `m_h * j` is likewise softmax-equivalent.)

    Args:
        alibi_bias_max: int or float. Sets the slopes: for a power-of-two
            number of heads `n` they are `2 ** (-alibi_bias_max * h / n)`,
            `h = 1 ... n`. Defaults to `8`, the paper's value.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        attention_scores: float tensor of shape `(batch, num_heads,
            query_length, key_length)`, the scaled query-key products before
            the softmax (and before any additive mask). `num_heads` must be
            known when the layer is called (symbolic inputs included).

    Returns:
        A tensor of the same shape: `attention_scores + bias`, with the
        bias (computed in float32) broadcast from shape
        `(1, num_heads, 1, key_length)`, in the layer's compute dtype.

    Raises:
        ValueError: when `alibi_bias_max` is not a positive number, when
            `attention_scores` is not of rank 4, or when its `num_heads`
            dimension is unknown.

    Examples:
    >>> import keras
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> scores = np.zeros((1, 2, 3, 3), dtype="float32")
    >>> biased = keras_nlp_clone.layers.AlibiBias()(scores)
    >>> keras.ops.convert_to_numpy(biased)[0, :, 0].tolist()
    [[-0.125, -0.0625, 0.0], [-0.0078125, -0.00390625, 0.0]]

    References:
        - [Press et al., 2022](https://arxiv.org/abs/2108.12409), "Train
          Short, Test Long: Attention with Linear Biases Enables Input
          Length Extrapolation", section 3.
    """

    def __init__(self, alibi_bias_max=8, **kwargs):
        argument_checks.check_positive_number(
            type(self).__name__,
            "alibi_bias_max",
            alibi_bias_max,
            hint="The paper uses 8.",
        )
        super().__init__(**kwargs)
        self.alibi_bias_max = alibi_bias_max
        self.built = True

    def _check_shape(self, shape):
        if len(shape) != 4:
            raise ValueError(
                "`attention_scores` must have shape `(batch, num_heads, "
                "query_length, key_length)` (rank 4). Received: "
                f"shape={tuple(shape)}."
            )
        if shape[1] is None:
            raise ValueError(
                "The `num_heads` dimension (axis 1) of `attention_scores` "
                "must be known to compute the per-head slopes. Received: "
                f"shape={tuple(shape)}."
            )

    def call(self, attention_scores):
        static_shape = tuple(attention_scores.shape)
        self._check_shape(static_shape)
        num_heads = static_shape[1]
        key_length = ops.shape(attention_scores)[-1]
        slopes = ops.convert_to_tensor(
            alibi_slopes(num_heads, self.alibi_bias_max), dtype="float32"
        )
        distances = ops.cast(
            ops.arange(1 - key_length, 1, dtype="int32"), "float32"
        )
        bias = slopes[:, None] * distances[None, :]
        bias = ops.reshape(bias, (1, num_heads, 1, -1))
        return ops.add(
            attention_scores, ops.cast(bias, attention_scores.dtype)
        )

    def compute_output_shape(self, input_shape):
        self._check_shape(tuple(input_shape))
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"alibi_bias_max": self.alibi_bias_max})
        return config
