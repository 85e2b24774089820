"""A token embedding that can also project hidden states back to logits."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.utils import argument_checks


@keras_nlp_clone_export
class ReversibleEmbedding(keras.layers.Embedding):
    """An embedding layer that can also map hidden states to vocabulary logits.

    Called normally, it looks up integer ids in an `(input_dim, output_dim)`
    table, exactly like `keras.layers.Embedding`. Called with `reverse=True`,
    it multiplies hidden states of shape `(..., output_dim)` by the
    transposed table, giving logits of shape `(..., input_dim)`. This is the
    weight tying of language model heads: the input embedding doubles as the
    output projection. With `tie_weights=False` the reverse projection uses
    its own `(output_dim, input_dim)` variable instead.

    The embedding table is `self.embeddings` (variable name `"embeddings"`)
    and the untied projection `self.reverse_embeddings` (variable name
    `"reverse_embeddings"`).

    Args:
        input_dim: int. The vocabulary size.
        output_dim: int. The embedding size.
        tie_weights: bool. Whether the reverse projection reuses the
            transposed embedding table. Defaults to `True`.
        embeddings_initializer: str or `keras.initializers.Initializer`. The
            initializer of the table (and of `reverse_embeddings`). Defaults
            to `"uniform"`.
        embeddings_regularizer: a `keras.regularizers.Regularizer` for the
            table(s). Defaults to `None`.
        embeddings_constraint: a `keras.constraints.Constraint` for the
            table(s). Defaults to `None`.
        mask_zero: bool. Whether id `0` is padding, giving a Keras mask that
            downstream layers honour. Defaults to `False`.
        reverse_dtype: str. The dtype in which the reverse projection is
            computed, e.g. `"float32"` for stable logits under mixed
            precision. `None` uses the layer's compute dtype. Defaults to
            `None`.
        logit_soft_cap: float. When set, reverse logits are soft-capped to
            `logit_soft_cap * tanh(logits / logit_soft_cap)`. Defaults to
            `None`.
        **kwargs: passed to `keras.layers.Embedding` (`name`, `dtype`, ...).

    Call arguments:
        inputs: with `reverse=False`, integer ids of any shape; with
            `reverse=True`, float hidden states of shape
            `(..., output_dim)`.
        reverse: bool. Whether to project hidden states to logits instead
            of looking up ids. Defaults to `False`.

    Returns:
        With `reverse=False`, embeddings of shape `inputs.shape +
        (output_dim,)` in the compute dtype; with `reverse=True`, logits of
        shape `inputs.shape[:-1] + (input_dim,)` in `reverse_dtype` (or the
        compute dtype).

    Raises:
        ValueError: when `input_dim` or `output_dim` is not a positive
            integer (raised by `keras.layers.Embedding`), or when
            `logit_soft_cap` is not positive.

    Examples:
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> embedding = keras_nlp_clone.layers.ReversibleEmbedding(
    ...     input_dim=100, output_dim=8)
    >>> hidden = embedding(np.array([[1, 2, 3]]))
    >>> tuple(hidden.shape)
    (1, 3, 8)
    >>> logits = embedding(hidden, reverse=True)
    >>> tuple(logits.shape)
    (1, 3, 100)

    References:
        - [Press and Wolf, 2017](https://arxiv.org/abs/1608.05859), tying
          the input and output embeddings.
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762), section
          3.4, weight sharing in the Transformer.
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        tie_weights=True,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        reverse_dtype=None,
        logit_soft_cap=None,
        **kwargs,
    ):
        owner = type(self).__name__
        argument_checks.check_positive_integer(owner, "input_dim", input_dim)
        argument_checks.check_positive_integer(owner, "output_dim", output_dim)
        argument_checks.check_positive_number(
            owner, "logit_soft_cap", logit_soft_cap, allow_none=True
        )
        super().__init__(
            input_dim,
            output_dim,
            embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            embeddings_constraint=embeddings_constraint,
            mask_zero=mask_zero,
            **kwargs,
        )
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, inputs_shape=None):
        if self.built:
            return
        mode = self.quantization_mode
        if mode not in (None, "int8"):
            raise ValueError(
                f"`ReversibleEmbedding` supports the int8 quantized dtype "
                f"policy only. Received: dtype policy with "
                f"quantization_mode={mode!r} for layer `{self.name}`. Build "
                "it with a float policy and call `quantize('int8')`."
            )
        # An int8 policy builds int8 tables (`_int8_build`) in place of the
        # float ones, in the order `quantize` creates them.
        super().build(inputs_shape)
        if not self.tie_weights and mode is None:
            self.reverse_embeddings = self.add_weight(
                name="reverse_embeddings",
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer,
                regularizer=self.embeddings_regularizer,
                constraint=self.embeddings_constraint,
                trainable=True,
            )

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        if self.tie_weights:
            kernel = ops.transpose(ops.convert_to_tensor(self.embeddings))
        else:
            kernel = self.reverse_embeddings
        dtype = self.reverse_dtype or self.compute_dtype
        logits = ops.matmul(ops.cast(inputs, dtype), ops.cast(kernel, dtype))
        if self.logit_soft_cap is not None:
            cap = ops.cast(self.logit_soft_cap, logits.dtype)
            logits = ops.multiply(ops.tanh(ops.divide(logits, cap)), cap)
        return logits

    # === int8 quantization ===

    def quantize(self, mode=None, type_check=True, config=None):
        if type_check and type(self) is not ReversibleEmbedding:
            raise self._not_implemented_error(self.quantize)
        if mode != "int8":
            raise NotImplementedError(
                "`ReversibleEmbedding` supports `quantize('int8')` only. "
                f"Received: mode={mode!r}."
            )
        self.quantization_config = config
        # The table is quantized per row (one scale per token), as Keras'
        # `Embedding` does; the untied projection `(output_dim, input_dim)`
        # per column, i.e. also one scale per token (output logit).
        quantizer = keras.quantizers.AbsMaxQuantizer(axis=-1)
        embeddings, embeddings_scale = quantizer(self._embeddings, to_numpy=True)
        embeddings_scale = ops.squeeze(embeddings_scale, axis=-1)
        del self._embeddings
        if not self.tie_weights:
            reverse_quantizer = keras.quantizers.AbsMaxQuantizer(axis=0)
            reverse, reverse_scale = reverse_quantizer(
                self.reverse_embeddings, to_numpy=True
            )
            reverse_scale = ops.squeeze(reverse_scale, axis=0)
            del self.reverse_embeddings
        self.quantized_build((self.input_dim, self.output_dim), mode, config)
        self._embeddings.assign(embeddings)
        self.embeddings_scale.assign(embeddings_scale)
        if not self.tie_weights:
            self.reverse_embeddings.assign(reverse)
            self.reverse_embeddings_scale.assign(reverse_scale)
        if self.dtype_policy.quantization_mode is None:
            self.dtype_policy = keras.dtype_policies.get(
                f"{mode}_from_{self.dtype_policy.name}"
            )

    def _int8_build(self, embeddings_shape, config=None):
        super()._int8_build(embeddings_shape, config)
        self.inputs_quantizer = keras.quantizers.AbsMaxQuantizer(axis=-1)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                name="reverse_embeddings",
                shape=(self.output_dim, self.input_dim),
                initializer="zeros",
                dtype="int8",
                trainable=False,
            )
            self.reverse_embeddings_scale = self.add_weight(
                name="reverse_embeddings_scale",
                shape=(self.input_dim,),
                initializer="ones",
                trainable=False,
            )

    def _int8_call(self, inputs, reverse=False, training=None):
        if not reverse:
            return super()._int8_call(inputs, training=training)
        if self.tie_weights:
            kernel = ops.transpose(ops.convert_to_tensor(self._embeddings))
            kernel_scale = ops.convert_to_tensor(self.embeddings_scale)
        else:
            kernel = ops.convert_to_tensor(self.reverse_embeddings)
            kernel_scale = ops.convert_to_tensor(self.reverse_embeddings_scale)
        dtype = self.reverse_dtype or self.compute_dtype

        # Hidden states are quantized per token at call time and multiplied
        # in int8 (as Keras' int8 `Dense` does); gradients reach the inputs
        # through the dequantized kernel, so layers below (e.g. LoRA
        # weights) can still be trained.
        @ops.custom_gradient
        def int8_matmul(inputs, kernel, kernel_scale):
            def grad_fn(*args, upstream=None):
                if upstream is None:
                    (upstream,) = args
                float_kernel = ops.divide(
                    ops.cast(kernel, upstream.dtype),
                    ops.cast(kernel_scale, upstream.dtype),
                )
                inputs_grad = ops.matmul(upstream, ops.transpose(float_kernel))
                return (ops.cast(inputs_grad, inputs.dtype), None, None)

            quantized, inputs_scale = self.inputs_quantizer(inputs, axis=-1)
            logits = ops.cast(ops.matmul(quantized, kernel), dtype)
            scale = ops.multiply(
                ops.cast(inputs_scale, dtype), ops.cast(kernel_scale, dtype)
            )
            return ops.divide(logits, scale), grad_fn

        logits = int8_matmul(inputs, kernel, kernel_scale)
        if self.logit_soft_cap is not None:
            cap = ops.cast(self.logit_soft_cap, logits.dtype)
            logits = ops.multiply(ops.tanh(ops.divide(logits, cap)), cap)
        return logits

    def compute_mask(self, inputs, mask=None):
        # A reverse call receives float hidden states: its logits carry no
        # padding mask of their own.
        if not self.mask_zero or "float" in str(inputs.dtype):
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return (*input_shape[:-1], self.input_dim)
        return super().compute_output_shape(input_shape)

    def compute_output_spec(self, inputs, reverse=False):
        if not reverse:
            return super().compute_output_spec(inputs)
        return keras.KerasTensor(
            self.compute_output_shape(inputs.shape, reverse=True),
            dtype=self.reverse_dtype or self.compute_dtype,
        )

    @property
    def variable_serialization_spec(self):
        # `reverse_embeddings` (and its int8 scale) is saved after the
        # embedding variables; the Keras loader skips names the layer does
        # not have (tied weights).
        spec = dict(super().variable_serialization_spec)
        spec = {
            mode: [*names, "reverse_embeddings"] for mode, names in spec.items()
        }
        spec["int8"] = [*spec["int8"], "reverse_embeddings_scale"]
        return spec

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "tie_weights": self.tie_weights,
                "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap,
            }
        )
        return config
