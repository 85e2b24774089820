"""The fixed sinusoidal position encoding of the original Transformer."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.utils import argument_checks


@keras_nlp_clone_export
class SinePositionEncoding(keras.layers.Layer):
    """The sinusoidal position encoding of Vaswani et al. (no weights).

    Called on a sequence of shape `(batch, seq, hidden_dim)`, it returns the
    encoding of positions `p = start_index ... start_index + seq - 1`,
    broadcast to the input's shape, with features interleaved as in
    KerasNLP: for `k = 0 ... hidden_dim - 1`,

        angle(p, k) = p / max_wavelength ** (2 * (k // 2) / hidden_dim)
        encoding(p, k) = sin(angle(p, k)) if k is even else cos(angle(p, k))

    Only the inputs' shape is used, not their values: add the result to
    the token embeddings yourself.

    Args:
        max_wavelength: int or float. The longest wavelength of the
            sinusoids (the base of the geometric progression). Defaults to
            `10000`.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        inputs: a tensor of shape `(batch, seq, hidden_dim)` (or
            `(seq, hidden_dim)`).
        start_index: int or int scalar tensor. The position of the first
            input token, e.g. the cache index when decoding one token at a
            time. Defaults to `0`.
        positions: int or float tensor of shape `(seq,)` or `(batch, seq)`.
            Explicit positions to encode instead of the contiguous range;
            overrides `start_index`. Defaults to `None`.

    Returns:
        A tensor of the inputs' shape in the compute dtype (computed in
        float32, then cast).

    Raises:
        ValueError: when `max_wavelength` is not a positive number.

    Examples:
    >>> import keras
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> embeddings = np.random.uniform(size=(2, 5, 16)).astype("float32")
    >>> encoding = keras_nlp_clone.layers.SinePositionEncoding()
    >>> outputs = keras.ops.add(embeddings, encoding(embeddings))
    >>> tuple(outputs.shape)
    (2, 5, 16)

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762),
          section 3.5.
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        argument_checks.check_positive_number(
            type(self).__name__, "max_wavelength", max_wavelength
        )
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength
        self.supports_masking = True
        self.built = True

    def call(self, inputs, start_index=0, positions=None):
        shape = ops.shape(inputs)
        seq_length, hidden_dim = shape[-2], shape[-1]
        if positions is None:
            positions = ops.arange(seq_length, dtype="float32")
            positions = positions + ops.cast(start_index, "float32")
        else:
            positions = ops.cast(positions, "float32")
        features = ops.arange(hidden_dim, dtype="int32")
        exponents = ops.cast(2 * (features // 2), "float32") / ops.cast(
            hidden_dim, "float32"
        )
        inverse_timescales = ops.power(
            ops.cast(1.0 / self.max_wavelength, "float32"), exponents
        )
        angles = ops.expand_dims(positions, -1) * inverse_timescales
        is_even = ops.equal(features % 2, 0)
        encoding = ops.where(is_even, ops.sin(angles), ops.cos(angles))
        encoding = ops.cast(encoding, self.compute_dtype)
        return ops.broadcast_to(encoding, shape)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config
