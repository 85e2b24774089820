"""Rotary position embedding (RoPE), as in GPT-NeoX and Llama."""

import math

import keras
import numpy as np
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.utils import argument_checks

ROPE_TYPES = ("linear", "yarn")


@keras_nlp_clone_export
class RotaryEmbedding(keras.layers.Layer):
    """Rotary position embedding (RoPE) of Su et al., in the half layout.

    Rotates the features of each position by angles proportional to the
    position: with `d` the size of the feature axis, feature `k < d/2` and
    feature `k + d/2` form a pair rotated by `p * inv_freq[k]`, where

        inv_freq[k] = 1 / max_wavelength ** (2k / d)

    i.e. `outputs = x * cos + rotate_half(x) * sin` with
    `rotate_half([x1, x2]) = [-x2, x1]` and `cos`/`sin` of the angles
    repeated over both halves. This is the layout of GPT-NeoX, Llama and
    Hugging Face's `apply_rotary_pos_emb` (not the interleaved pairs of the
    RoFORMER paper). The layer has no weights; apply it to queries and keys
    before attention, so that their dot products depend only on relative
    positions.

    Two position scalings are supported (`rope_type`):
    - `"linear"`: positions are divided by `scaling_factor` (position
      interpolation, Chen et al.); `scaling_factor=1.0` is plain RoPE.
    - `"yarn"`: YaRN (Peng et al.) as in Hugging Face `transformers`:
      frequencies are blended between interpolated (`/ scaling_factor`)
      and original ones across the correction range given by `beta_fast`,
      `beta_slow` and `original_max_position_embeddings`, and `cos`/`sin`
      are multiplied by `0.1 * ln(scaling_factor) + 1` (when
      `scaling_factor > 1`).

    Args:
        max_wavelength: int or float. The base of the frequencies (Hugging
            Face's `rope_theta`). Defaults to `10000`.
        scaling_factor: float. The position scaling factor (see above).
            Defaults to `1.0`.
        rope_type: str. `"linear"` or `"yarn"`. Defaults to `"linear"`.
        beta_fast: float. YaRN's extrapolation boundary, in rotations. Only
            used with `"yarn"`. Defaults to `32.0`.
        beta_slow: float. YaRN's interpolation boundary, in rotations. Only
            used with `"yarn"`. Defaults to `1.0`.
        original_max_position_embeddings: int. The context length the model
            was trained with. Only used with `"yarn"`. Defaults to `4096`.
        truncate: bool. Whether YaRN rounds the correction range to whole
            feature indices. Only used with `"yarn"`. Defaults to `True`.
        sequence_axis: int. The inputs' sequence axis. Defaults to `1`.
        feature_axis: int. The inputs' feature axis (the one rotated).
            Defaults to `-1`.
        denominator_dim: only `None` (the frequencies use the size of the
            feature axis) is supported. Defaults to `None`.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        inputs: a float tensor with a sequence and a feature axis, typically
            `(batch, seq, num_heads, head_dim)` or `(batch, seq, dim)`; the
            feature axis must have even, static size.
        start_index: int or int scalar tensor. The position of the first
            token along the sequence axis, e.g. the cache index when
            decoding one token at a time. Defaults to `0`.
        positions: int or float tensor of shape `(seq,)` or `(batch, seq)`.
            Explicit positions instead of the contiguous range; overrides
            `start_index`. Defaults to `None`.

    Returns:
        A tensor of the inputs' shape, in the compute dtype.

    Raises:
        ValueError: when `max_wavelength` or `scaling_factor` is not
            positive, when `rope_type` is not one of `"linear"` and
            `"yarn"`, when `denominator_dim` is not `None`, or when the
            feature axis has odd size.

    Examples:
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> rotary = keras_nlp_clone.layers.RotaryEmbedding()
    >>> queries = np.random.uniform(size=(2, 6, 4, 8)).astype("float32")
    >>> tuple(rotary(queries).shape)
    (2, 6, 4, 8)
    >>> # The query of the token at position 5 during cached decoding.
    >>> tuple(rotary(queries[:, 5:6], start_index=5).shape)
    (2, 1, 4, 8)

    References:
        - [Su et al., 2021](https://arxiv.org/abs/2104.09864), RoFormer.
        - [Chen et al., 2023](https://arxiv.org/abs/2306.15595), position
          interpolation.
        - [Peng et al., 2023](https://arxiv.org/abs/2309.00071), YaRN.
    """

    def __init__(
        self,
        max_wavelength=10000,
        scaling_factor=1.0,
        rope_type="linear",
        beta_fast=32.0,
        beta_slow=1.0,
        original_max_position_embeddings=4096,
        truncate=True,
        sequence_axis=1,
        feature_axis=-1,
        denominator_dim=None,
        **kwargs,
    ):
        owner = type(self).__name__
        for name, value in (
            ("max_wavelength", max_wavelength),
            ("scaling_factor", scaling_factor),
            ("beta_fast", beta_fast),
            ("beta_slow", beta_slow),
        ):
            argument_checks.check_positive_number(owner, name, value)
        argument_checks.check_positive_integer(
            owner,
            "original_max_position_embeddings",
            original_max_position_embeddings,
        )
        argument_checks.check_choice(
            owner,
            "rope_type",
            rope_type,
            ROPE_TYPES,
            hint="Other RoPE variants are not supported by this library.",
        )
        argument_checks.check_choice(owner, "truncate", truncate, (True, False))
        argument_checks.check_choice(
            owner,
            "denominator_dim",
            denominator_dim,
            (None,),
            hint="The frequencies use the size of the feature axis.",
        )
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength
        self.scaling_factor = scaling_factor
        self.rope_type = rope_type
        self.beta_fast = beta_fast
        self.beta_slow = beta_slow
        self.original_max_position_embeddings = original_max_position_embeddings
        self.truncate = truncate
        self.sequence_axis = sequence_axis
        self.feature_axis = feature_axis
        self.denominator_dim = denominator_dim
        self.built = True

    def _inverse_frequencies(self, dim):
        """The `dim // 2` inverse frequencies and the cos/sin multiplier."""
        exponents = np.arange(0, dim, 2, dtype="float64") / dim
        inverse = 1.0 / self.max_wavelength**exponents
        if self.rope_type == "linear":
            return inverse, 1.0
        # YaRN: keep the high frequencies (many rotations over the original
        # context), interpolate the low ones, ramp linearly in between.
        factor = self.scaling_factor

        def correction_dim(rotations):
            context = self.original_max_position_embeddings
            return (dim * math.log(context / (rotations * 2 * math.pi))) / (
                2 * math.log(self.max_wavelength)
            )

        low = correction_dim(self.beta_fast)
        high = correction_dim(self.beta_slow)
        if self.truncate:
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, dim - 1)
        if low == high:
            high += 0.001
        ramp = np.clip((np.arange(dim // 2) - low) / (high - low), 0.0, 1.0)
        extrapolation = 1.0 - ramp
        inverse = (inverse / factor) * ramp + inverse * extrapolation
        attention_factor = 1.0
        if factor > 1:
            attention_factor = 0.1 * math.log(factor) + 1.0
        return inverse, attention_factor

    def call(self, inputs, start_index=0, positions=None):
        rank = len(inputs.shape)
        sequence_axis = self.sequence_axis % rank
        feature_axis = self.feature_axis % rank
        x = ops.moveaxis(inputs, (feature_axis, sequence_axis), (-1, 1))
        dim = x.shape[-1]
        if not isinstance(dim, int) or dim % 2:
            raise ValueError(
                "`RotaryEmbedding` rotates pairs of features, so the feature "
                f"axis ({self.feature_axis}) must have a static, even size. "
                f"Received: inputs of shape {tuple(inputs.shape)}."
            )
        inverse, attention_factor = self._inverse_frequencies(dim)
        inverse = ops.convert_to_tensor(inverse.astype("float32"))

        if positions is None:
            positions = ops.arange(ops.shape(x)[1], dtype="float32")
            positions = positions + ops.cast(start_index, "float32")
        else:
            positions = ops.cast(positions, "float32")
        if len(positions.shape) == 1:
            positions = positions[None]
        if self.rope_type == "linear":
            positions = positions / self.scaling_factor
        # `(batch or 1, seq, dim)`, then broadcastable to `x`.
        angles = positions[..., None] * inverse
        angles = ops.concatenate((angles, angles), axis=-1)
        for _ in range(rank - 3):
            angles = ops.expand_dims(angles, axis=2)
        cos = ops.cast(ops.cos(angles) * attention_factor, self.compute_dtype)
        sin = ops.cast(ops.sin(angles) * attention_factor, self.compute_dtype)

        x = ops.cast(x, self.compute_dtype)
        first, second = ops.split(x, 2, axis=-1)
        rotated = ops.concatenate((ops.negative(second), first), axis=-1)
        outputs = x * cos + rotated * sin
        return ops.moveaxis(outputs, (-1, 1), (feature_axis, sequence_axis))

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_wavelength": self.max_wavelength,
                "scaling_factor": self.scaling_factor,
                "rope_type": self.rope_type,
                "beta_fast": self.beta_fast,
                "beta_slow": self.beta_slow,
                "original_max_position_embeddings": (
                    self.original_max_position_embeddings
                ),
                "truncate": self.truncate,
                "sequence_axis": self.sequence_axis,
                "feature_axis": self.feature_axis,
                "denominator_dim": self.denominator_dim,
            }
        )
        return config
