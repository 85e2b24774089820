"""The prediction head of a masked language model."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.reversible_embedding import ReversibleEmbedding
from keras_nlp_clone.layers.transformer_layer_utils import check_layer_norm_epsilon
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.keras_utils import clone_initializer
from keras_nlp_clone.utils.keras_utils import head_dtype_policy


@keras_nlp_clone_export
class MaskedLMHead(keras.layers.Layer):
    """Predicts the original tokens at masked positions (BERT's MLM head).

    Gathers the encoder outputs at `mask_positions`, then applies

        Dense(hidden_dim) -> intermediate_activation -> LayerNorm ->
        projection to the vocabulary + output bias -> activation.

    The projection is the transposed token embedding when `token_embedding`
    (a `ReversibleEmbedding`) is given, which ties input and output
    embeddings as BERT does; otherwise it is a dense layer of its own.

    Sublayers and variables (their names are relied on by weight
    converters; for Hugging Face BERT `cls.predictions.transform.dense`,
    `cls.predictions.transform.LayerNorm` and `cls.predictions.bias` map onto
    the first three):
    - `_intermediate_dense`: `Dense(hidden_dim)`, kernel `(hidden_dim,
      hidden_dim)`, with `intermediate_activation`.
    - `_intermediate_layer_norm`: `keras.layers.LayerNormalization`.
    - `_output_bias`: variable `"output_bias"` of shape
      `(vocabulary_size,)`.
    - `_output_dense`: `Dense(vocabulary_size, use_bias=False)`, only when
      `token_embedding` is `None`.

    Args:
        vocabulary_size: int. The number of output classes. May be left
            `None` when `token_embedding` is given (its `input_dim` is used).
            Defaults to `None`.
        token_embedding: `keras_nlp_clone.layers.ReversibleEmbedding`. The
            model's token embedding, whose transposed table projects to the
            vocabulary. Defaults to `None` (an untied projection).
        intermediate_activation: str or callable. The activation after the
            first dense layer, e.g. `keras_nlp_clone.utils.keras_utils.
            gelu_exact` for BERT. Defaults to `"relu"`.
        activation: str or callable. Applied to the logits, e.g.
            `"softmax"`. `None` returns logits. Defaults to `None`.
        layer_norm_epsilon: float. The layer norm's epsilon. Defaults to
            `1e-05`.
        kernel_initializer: str or `keras.initializers.Initializer`. The
            initializer of the dense kernels. Defaults to `"glorot_uniform"`.
        bias_initializer: str or `keras.initializers.Initializer`. The
            initializer of the dense bias and of `output_bias`. Defaults to
            `"zeros"`.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        inputs: float tensor `(batch, seq, hidden_dim)`, the encoder outputs.
        mask_positions: int tensor `(batch, num_masks)`, the positions in
            `seq` to predict.

    Returns:
        A float tensor `(batch, num_masks, vocabulary_size)` of logits (or
        of `activation` applied to them), in the compute dtype; float32
        under a mixed precision policy (`"mixed_float16"`,
        `"mixed_bfloat16"`).

    Raises:
        ValueError: when neither `vocabulary_size` nor `token_embedding` is
            given, when they disagree, when `token_embedding` is not a
            `ReversibleEmbedding`, or, at build time, when the hidden size
            differs from the token embedding's `output_dim`.

    Examples:
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> embedding = keras_nlp_clone.layers.ReversibleEmbedding(100, 16)
    >>> head = keras_nlp_clone.layers.MaskedLMHead(
    ...     token_embedding=embedding, activation="softmax")
    >>> hidden = embedding(np.array([[5, 6, 7, 8]]))
    >>> tuple(head(hidden, mask_positions=np.array([[1, 3]])).shape)
    (1, 2, 100)

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805), the
          masked language modeling objective.
        - [Press and Wolf, 2017](https://arxiv.org/abs/1608.05859), tied
          output embeddings.
    """

    def __init__(
        self,
        vocabulary_size=None,
        token_embedding=None,
        intermediate_activation="relu",
        activation=None,
        layer_norm_epsilon=1e-05,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        if token_embedding is not None and not isinstance(
            token_embedding, ReversibleEmbedding
        ):
            raise ValueError(
                "`token_embedding` must be a "
                "`keras_nlp_clone.layers.ReversibleEmbedding`, which can "
                "project hidden states back to the vocabulary. Received: "
                f"token_embedding={token_embedding!r}."
            )
        owner = type(self).__name__
        argument_checks.check_positive_integer(
            owner, "vocabulary_size", vocabulary_size, allow_none=True
        )
        argument_checks.check_activation(
            owner, "intermediate_activation", intermediate_activation
        )
        argument_checks.check_activation(owner, "activation", activation)
        check_layer_norm_epsilon(owner, layer_norm_epsilon)
        if vocabulary_size is None and token_embedding is None:
            raise ValueError(
                "One of `vocabulary_size` or `token_embedding` must be "
                "given. Received: vocabulary_size=None, "
                "token_embedding=None."
            )
        if (
            vocabulary_size is not None
            and token_embedding is not None
            and vocabulary_size != token_embedding.input_dim
        ):
            raise ValueError(
                "`vocabulary_size` must equal `token_embedding.input_dim`. "
                f"Received: vocabulary_size={vocabulary_size} and "
                f"token_embedding.input_dim={token_embedding.input_dim}. "
                "Leave `vocabulary_size=None` to take it from the embedding."
            )
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size or token_embedding.input_dim
        self.token_embedding = token_embedding
        self.intermediate_activation = keras.activations.get(
            intermediate_activation
        )
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, inputs_shape, mask_positions_shape=None):
        hidden_dim = inputs_shape[-1]
        if (
            self.token_embedding is not None
            and hidden_dim != self.token_embedding.output_dim
        ):
            raise ValueError(
                f"The inputs' hidden size, {hidden_dim}, must equal the "
                "token embedding's `output_dim`, "
                f"{self.token_embedding.output_dim}, to project onto it."
            )
        self._intermediate_dense = keras.layers.Dense(
            hidden_dim,
            activation=self.intermediate_activation,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="intermediate_dense",
        )
        self._intermediate_dense.build(inputs_shape)
        self._intermediate_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="intermediate_layer_norm",
        )
        self._intermediate_layer_norm.build(inputs_shape)
        if self.token_embedding is None:
            self._output_dense = keras.layers.Dense(
                self.vocabulary_size,
                use_bias=False,
                kernel_initializer=clone_initializer(self.kernel_initializer),
                dtype=head_dtype_policy(self.dtype_policy),
                name="output_dense",
            )
            self._output_dense.build(inputs_shape)
        elif not self.token_embedding.built:
            self.token_embedding.build()
        self._output_bias = self.add_weight(
            name="output_bias",
            shape=(self.vocabulary_size,),
            initializer=clone_initializer(self.bias_initializer),
            trainable=True,
        )
        self.built = True

    def call(self, inputs, mask_positions):
        mask_positions = ops.cast(mask_positions, "int32")
        # (batch, num_masks, 1) broadcasts over the hidden axis.
        x = ops.take_along_axis(
            inputs, ops.expand_dims(mask_positions, axis=-1), axis=1
        )
        x = self._intermediate_dense(x)
        x = self._intermediate_layer_norm(x)
        if self.token_embedding is not None:
            logits = self.token_embedding(x, reverse=True)
        else:
            logits = self._output_dense(x)
        dtype = self._logits_dtype()
        logits = ops.cast(logits, dtype)
        logits = logits + ops.cast(self._output_bias, dtype)
        if self.activation is not None:
            logits = self.activation(logits)
        return logits

    def compute_mask(self, inputs, mask=None):
        # Predictions are per masked position, not per input token: an input
        # padding mask does not apply to them.
        return None

    def _logits_dtype(self):
        # float32 under mixed precision (see `head_dtype_policy`).
        return head_dtype_policy(self.dtype_policy).compute_dtype

    def compute_output_shape(self, inputs_shape, mask_positions_shape):
        return (*mask_positions_shape, self.vocabulary_size)

    def compute_output_spec(self, inputs, mask_positions):
        shape = self.compute_output_shape(inputs.shape, mask_positions.shape)
        return keras.KerasTensor(shape, dtype=self._logits_dtype())

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "token_embedding": (
                    None
                    if self.token_embedding is None
                    else keras.layers.serialize(self.token_embedding)
                ),
                "intermediate_activation": keras.activations.serialize(
                    self.intermediate_activation
                ),
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

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("token_embedding"), dict):
            config["token_embedding"] = keras.layers.deserialize(
                config["token_embedding"]
            )
        return cls(**config)
