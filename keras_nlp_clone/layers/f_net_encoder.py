"""The FNet encoder block: Fourier token mixing then a feedforward network."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.transformer_layer_utils import check_layer_norm_epsilon
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.keras_utils import clone_initializer


@keras_nlp_clone_export
class FNetEncoder(keras.layers.Layer):
    """One FNet encoder block: Fourier mixing, then a feedforward network.

    FNet replaces self-attention by a parameter-free Fourier transform over
    the sequence and hidden dimensions, keeping its real part. The block
    computes

        h = LayerNorm(x + Re(FFT2(x)))
        outputs = LayerNorm(h + Dropout(W2 activation(W1 h)))

    where `FFT2` is the two-dimensional discrete Fourier transform over the
    sequence and hidden axes of `x` (shape `(batch, seq, hidden_dim)`). It
    equals Hugging Face's `FNetLayer` given the same weights. The transform
    runs in float32 (also under mixed precision) with `keras.ops.fft2`, so
    the block runs on every backend.

    Padding: FNet takes no padding mask. The Fourier transform mixes every
    position, padding included, as in the official FNet code, which drops
    the padding mask because masking in every layer would zero out
    frequencies. Outputs therefore depend on how much padding there is;
    pad consistently (e.g. to a fixed `sequence_length`) between training
    and inference.

    Sublayers (their names are relied on by weight converters):
    - `_mixing_layer_norm`: `keras.layers.LayerNormalization` after the
      Fourier mixing.
    - `_intermediate_dense`: `Dense(intermediate_dim)` with the activation.
    - `_output_dense`: `Dense(hidden_dim)`.
    - `_output_dropout`: `keras.layers.Dropout` on the feedforward output.
    - `_output_layer_norm`: `keras.layers.LayerNormalization`.

    Args:
        intermediate_dim: int. The width of the feedforward network's hidden
            layer.
        dropout: float. The dropout rate of the feedforward output, in
            `[0, 1)`. Defaults to `0`.
        activation: str or callable. The feedforward activation, e.g.
            `"relu"` or `keras_nlp_clone.utils.keras_utils.gelu_approximate`
            (Hugging Face's `"gelu_new"`, FNet's). Defaults to `"relu"`.
        layer_norm_epsilon: float. The epsilon of both layer norms. Defaults
            to `1e-05`.
        kernel_initializer: str or `keras.initializers.Initializer`. The
            initializer of both kernels. Defaults to `"glorot_uniform"`.
        bias_initializer: str or `keras.initializers.Initializer`. The
            initializer of both biases. Defaults to `"zeros"`.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        inputs: float tensor of shape `(batch, seq, hidden_dim)`.
        training: bool. Whether dropout is active. Defaults to `None`
            (Keras' learning phase).

    Returns:
        A tensor of the inputs' shape in the compute dtype.

    Raises:
        ValueError: when `intermediate_dim` is not a positive integer, when
            `dropout` is outside `[0, 1)`, or, at build time, when the inputs
            are not of rank 3.

    Examples:
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> encoder = keras_nlp_clone.layers.FNetEncoder(intermediate_dim=64)
    >>> x = np.random.uniform(size=(2, 10, 32)).astype("float32")
    >>> tuple(encoder(x).shape)
    (2, 10, 32)

    References:
        - [Lee-Thorp et al., 2022](https://arxiv.org/abs/2105.03824), "FNet:
          Mixing Tokens with Fourier Transforms", section 3.
    """

    def __init__(
        self,
        intermediate_dim,
        dropout=0,
        activation="relu",
        layer_norm_epsilon=1e-05,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        owner = type(self).__name__
        argument_checks.check_positive_integer(
            owner, "intermediate_dim", intermediate_dim
        )
        argument_checks.check_rate(owner, "dropout", dropout)
        argument_checks.check_activation(owner, "activation", activation)
        check_layer_norm_epsilon(owner, layer_norm_epsilon)
        super().__init__(**kwargs)
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def _dense_kwargs(self):
        return {
            "kernel_initializer": clone_initializer(self.kernel_initializer),
            "bias_initializer": clone_initializer(self.bias_initializer),
            "dtype": self.dtype_policy,
        }

    def build(self, inputs_shape):
        if len(inputs_shape) != 3:
            raise ValueError(
                "`FNetEncoder` inputs must have shape `(batch, seq, "
                f"hidden_dim)`. Received: shape={tuple(inputs_shape)}."
            )
        hidden_dim = inputs_shape[-1]

        # === Fourier mixing block ===
        self._mixing_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="mixing_layer_norm",
        )
        self._mixing_layer_norm.build(inputs_shape)

        # === Feedforward block ===
        self._intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            name="intermediate_dense",
            **self._dense_kwargs(),
        )
        self._intermediate_dense.build(inputs_shape)
        self._output_dense = keras.layers.Dense(
            hidden_dim, name="output_dense", **self._dense_kwargs()
        )
        self._output_dense.build((*inputs_shape[:-1], self.intermediate_dim))
        self._output_dropout = keras.layers.Dropout(
            rate=self.dropout, dtype=self.dtype_policy, name="output_dropout"
        )
        self._output_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="output_layer_norm",
        )
        self._output_layer_norm.build(inputs_shape)
        self.built = True

    def call(self, inputs, training=None):
        # === Fourier mixing block ===
        # FFTs are not defined for half precision on every backend.
        real = ops.cast(inputs, "float32")
        mixed, _ = ops.fft2((real, ops.zeros_like(real)))
        mixed = ops.cast(mixed, inputs.dtype)
        x = self._mixing_layer_norm(inputs + mixed)

        # === Feedforward block ===
        residual = x
        x = self._intermediate_dense(x)
        x = self._output_dense(x)
        x = self._output_dropout(x, training=training)
        return self._output_layer_norm(x + residual)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
            }
        )
        return config
