"""The Transformer encoder block: self-attention then a feedforward network."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.cached_multi_head_attention import (
    CachedMultiHeadAttention,
)
from keras_nlp_clone.layers.transformer_layer_utils import check_block_arguments
from keras_nlp_clone.layers.transformer_layer_utils import dense_kwargs
from keras_nlp_clone.layers.transformer_layer_utils import get_keras_mask
from keras_nlp_clone.layers.transformer_layer_utils import may_read_raw_kernel
from keras_nlp_clone.layers.transformer_layer_utils import (
    merge_padding_and_attention_mask,
)
from keras_nlp_clone.layers.transformer_layer_utils import set_keras_mask

@keras_nlp_clone_export
class TransformerEncoder(keras.layers.Layer):
    """One Transformer encoder block: self-attention then a feedforward net.

    With `normalize_first=False` (the default, "post-norm", as in BERT and
    the original Transformer) the block computes

        h = LayerNorm(x + Dropout(SelfAttention(x)))
        outputs = LayerNorm(h + Dropout(W2 activation(W1 h)))

    which equals Hugging Face's `BertLayer` given the same weights. With
    `normalize_first=True` ("pre-norm", as in GPT-2) it computes

        h = x + Dropout(SelfAttention(LayerNorm(x)))
        outputs = h + Dropout(W2 activation(W1 LayerNorm(h)))

    The hidden size is read from the inputs' last dimension when the layer
    is built; each head has size `hidden_dim // num_heads`.

    Sublayers (their names are relied on by weight converters):
    - `_self_attention_layer`: `CachedMultiHeadAttention(num_heads,
      key_dim=hidden_dim // num_heads)` (used without a cache: the weights
      and outputs of `keras.layers.MultiHeadAttention`, with the attention
      probabilities in float32 under mixed precision); its
      `query`/`key`/`value` kernels have shape `(hidden_dim, num_heads,
      head_dim)` and its output kernel `(num_heads, head_dim, hidden_dim)`.
    - `_self_attention_layer_norm`: `keras.layers.LayerNormalization`.
    - `_self_attention_dropout`: `keras.layers.Dropout`.
    - `_feedforward_intermediate_dense`: `Dense(intermediate_dim)` with the
      activation.
    - `_feedforward_output_dense`: `Dense(hidden_dim)`.
    - `_feedforward_layer_norm`: `keras.layers.LayerNormalization`.
    - `_feedforward_dropout`: `keras.layers.Dropout`.

    Args:
        intermediate_dim: int. The width of the feedforward network's hidden
            layer.
        num_heads: int. The number of attention heads; must divide the
            hidden size.
        dropout: float. The dropout rate of the attention probabilities and
            of both residual branches. Defaults to `0`.
        activation: str or callable. The feedforward activation, e.g.
            `"relu"`, `"gelu"` or
            `keras_nlp_clone.utils.keras_utils.gelu_exact` (BERT's exact
            GELU). Defaults to `"relu"`.
        layer_norm_epsilon: float. The epsilon of both layer norms. Defaults
            to `1e-05`.
        kernel_initializer: str or `keras.initializers.Initializer`. The
            initializer of every kernel. Defaults to `"glorot_uniform"`.
        bias_initializer: str or `keras.initializers.Initializer`. The
            initializer of every bias. Defaults to `"zeros"`.
        normalize_first: bool. Whether to use the pre-norm block (see
            above). Defaults to `False`.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        inputs: float tensor of shape `(batch, seq, hidden_dim)`.
        padding_mask: tensor of shape `(batch, seq)`, 1/True at tokens and
            0/False at padding. It masks keys only: padded positions are
            never attended to, while their own outputs are still computed
            (as in Hugging Face). When `None`, a Keras mask attached to
            `inputs` (e.g. from an `Embedding(mask_zero=True)`) is used.
            Defaults to `None`.
        attention_mask: tensor of shape `(batch, seq, seq)`, 1/True where
            query `i` may attend to key `j`. Combined with `padding_mask` by
            logical AND. Defaults to `None`.
        training: bool. Whether dropout is active. Defaults to `None`
            (Keras' learning phase).
        return_attention_scores: bool. Whether to also return the attention
            probabilities. Defaults to `False`.

    Returns:
        A tensor of the inputs' shape in the compute dtype; with
        `return_attention_scores=True`, a tuple `(outputs, scores)` where
        `scores` has shape `(batch, num_heads, seq, seq)` (float32 under
        a mixed precision policy).

    Raises:
        ValueError: when `intermediate_dim` or `num_heads` is not a positive
            integer, when `dropout` is outside `[0, 1)`, or, at build time,
            when `num_heads` does not divide the hidden size.

    Examples:
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> encoder = keras_nlp_clone.layers.TransformerEncoder(
    ...     intermediate_dim=64, num_heads=4)
    >>> x = np.random.uniform(size=(2, 10, 32)).astype("float32")
    >>> padding_mask = np.ones((2, 10), dtype="int32")
    >>> tuple(encoder(x, padding_mask=padding_mask).shape)
    (2, 10, 32)

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762).
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805).
        - [Xiong et al., 2020](https://arxiv.org/abs/2002.04745), pre-norm
          layer placement.
    """

    def __init__(
        self,
        intermediate_dim,
        num_heads,
        dropout=0,
        activation="relu",
        layer_norm_epsilon=1e-05,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        normalize_first=False,
        **kwargs,
    ):
        check_block_arguments(
            type(self).__name__,
            intermediate_dim,
            num_heads,
            dropout,
            activation,
            layer_norm_epsilon,
        )
        super().__init__(**kwargs)
        self.intermediate_dim = intermediate_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.normalize_first = normalize_first
        self.supports_masking = True

    def _dense_kwargs(self):
        return dense_kwargs(self)

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        if hidden_dim % self.num_heads != 0:
            raise ValueError(
                f"`num_heads={self.num_heads}` must divide the hidden size "
                f"of the inputs, {hidden_dim} (their last dimension). Pick "
                f"a `num_heads` that divides {hidden_dim}."
            )
        head_dim = hidden_dim // self.num_heads

        # === Self-attention block ===
        self._self_attention_layer = CachedMultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=head_dim,
            dropout=self.dropout,
            name="self_attention_layer",
            **self._dense_kwargs(),
        )
        self._self_attention_layer.build(
            query_shape=inputs_shape, value_shape=inputs_shape
        )
        self._self_attention_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="self_attention_layer_norm",
        )
        self._self_attention_layer_norm.build(inputs_shape)
        self._self_attention_dropout = keras.layers.Dropout(
            rate=self.dropout,
            dtype=self.dtype_policy,
            name="self_attention_dropout",
        )

        # === Feedforward block ===
        self._feedforward_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="feedforward_layer_norm",
        )
        self._feedforward_layer_norm.build(inputs_shape)
        self._feedforward_intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            name="feedforward_intermediate_dense",
            **self._dense_kwargs(),
        )
        self._feedforward_intermediate_dense.build(inputs_shape)
        self._feedforward_output_dense = keras.layers.Dense(
            hidden_dim,
            name="feedforward_output_dense",
            **self._dense_kwargs(),
        )
        intermediate_shape = (*inputs_shape[:-1], self.intermediate_dim)
        self._feedforward_output_dense.build(intermediate_shape)
        self._feedforward_dropout = keras.layers.Dropout(
            rate=self.dropout,
            dtype=self.dtype_policy,
            name="feedforward_dropout",
        )
        self.built = True

    def compute_output_spec(
        self,
        inputs,
        padding_mask=None,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
    ):
        # Shapes are known without tracing `call`; this keeps building a
        # functional model (and so `from_preset`) fast.
        outputs = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        if not return_attention_scores:
            return outputs
        batch, length = inputs.shape[0], inputs.shape[1]
        # Attention probabilities are float32 under mixed precision.
        scores = keras.KerasTensor(
            (batch, self.num_heads, length, length),
            dtype=keras.backend.result_type(self.compute_dtype, "float32"),
        )
        return outputs, scores

    def call(
        self,
        inputs,
        padding_mask=None,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
    ):
        x = inputs
        keras_mask = get_keras_mask(inputs)
        if padding_mask is None:
            padding_mask = keras_mask
        if not return_attention_scores and self._torch_fast_path_ok():
            return self._torch_call(
                inputs, padding_mask, attention_mask, training
            )
        mask = merge_padding_and_attention_mask(
            inputs, padding_mask, attention_mask
        )

        # === Self-attention block ===
        residual = x
        if self.normalize_first:
            x = self._self_attention_layer_norm(x)
        # `MultiHeadAttention` would also mask query rows with the Keras mask
        # of its input; padding is already in `mask` as keys only.
        set_keras_mask(x, None)
        attention = self._self_attention_layer(
            query=x,
            value=x,
            attention_mask=mask,
            training=training,
            return_attention_scores=return_attention_scores,
        )
        if keras_mask is not None:
            set_keras_mask(inputs, keras_mask)
        if return_attention_scores:
            attention, scores = attention
        x = self._self_attention_dropout(attention, training=training)
        x = x + residual
        if not self.normalize_first:
            x = self._self_attention_layer_norm(x)

        # === Feedforward block ===
        residual = x
        if self.normalize_first:
            x = self._feedforward_layer_norm(x)
        x = self._feedforward_intermediate_dense(x)
        x = self._feedforward_output_dense(x)
        x = self._feedforward_dropout(x, training=training)
        x = x + residual
        if not self.normalize_first:
            x = self._feedforward_layer_norm(x)

        if return_attention_scores:
            return x, scores
        return x

    def _torch_fast_path_ok(self):
        """Whether `call` may run as `_torch_call`: on PyTorch, for float32
        (or any single-dtype) weights and computation, with plain `Dense`
        and `LayerNormalization` sublayers and the standard attention
        (no LoRA, no quantization, no gate, no sliding window)."""
        if keras.config.backend() != "torch":
            return False
        attention = self._self_attention_layer
        policy = self.dtype_policy
        dense_layers = (
            self._feedforward_intermediate_dense,
            self._feedforward_output_dense,
        )
        norms = (
            self._self_attention_layer_norm,
            self._feedforward_layer_norm,
        )
        return (
            policy.compute_dtype == policy.variable_dtype
            and getattr(policy, "quantization_mode", None) is None
            and type(attention) is CachedMultiHeadAttention
            and attention.dtype_policy.compute_dtype == policy.compute_dtype
            and not attention._use_gate
            and attention._sliding_window is None
            and attention._dropout == self.dropout
            and attention._torch_fast_path_ok()
            and all(
                type(d) is keras.layers.Dense and may_read_raw_kernel(d)
                for d in dense_layers
            )
            and all(
                type(n) is keras.layers.LayerNormalization
                and n.axis in (-1, [-1])
                and n.center
                and n.scale
                and not n.rms_scaling
                for n in norms
            )
        )

    def _torch_call(self, inputs, padding_mask, attention_mask, training):
        """`call` in PyTorch ops, for training and inference alike.

        The same arithmetic as the Keras sublayers (query, key and value
        projections, scaled dot-product attention with the probabilities
        dropped out in training, output projection, dropout, residual,
        layer norm, feedforward), with three differences in how it runs:
        the three projections are one matrix product on the kernels
        reshaped to 2D and concatenated; the attention is PyTorch's
        `scaled_dot_product_attention` (its dropout applies to the
        probabilities, as `keras.layers.MultiHeadAttention`'s does); and a
        padding mask alone stays `(batch, 1, 1, seq)` instead of being
        broadcast to `(batch, seq, seq)`. Dropout draws from PyTorch's
        global generator (seeded by `keras.utils.set_random_seed`), not
        from a Keras `SeedGenerator`. Each `keras.ops` call and each
        `Layer.__call__` costs tens of microseconds of dispatch on this
        backend, and Keras' attention runs the scores through separate
        einsum, masking, softmax and dropout ops; this path cut the train
        step of a 2-layer, hidden-128 BERT classifier (see "Fit on raw
        strings" in `docs/benchmarks.md`).
        """
        import torch

        functional = torch.nn.functional
        attention = self._self_attention_layer
        rate = self.dropout if training else 0.0
        hidden_dim = inputs.shape[-1]

        def linear(dense, x):
            # `Dense` kernels are `(in, out)`, the attention output's
            # `(heads, head_dim, out)`: as `(in, out)` either way.
            kernel = dense.kernel.value
            kernel = kernel.reshape(-1, kernel.shape[-1])
            bias = None if dense.bias is None else dense.bias.value
            return functional.linear(x, kernel.t(), bias)

        def layer_norm(norm, x):
            return functional.layer_norm(
                x,
                (hidden_dim,),
                weight=norm.gamma.value,
                bias=norm.beta.value,
                eps=norm.epsilon,
            )

        mask = None
        if padding_mask is not None:
            # Keys only: `(batch, 1, 1, seq)`, broadcast by the attention.
            mask = torch.as_tensor(padding_mask).to(torch.bool)[:, None, None]
        if attention_mask is not None:
            attention_mask = torch.as_tensor(attention_mask).to(torch.bool)
            attention_mask = attention_mask[:, None]
            mask = attention_mask if mask is None else mask & attention_mask

        x = inputs
        residual = x
        if self.normalize_first:
            x = layer_norm(self._self_attention_layer_norm, x)
        dense = (
            attention._query_dense,
            attention._key_dense,
            attention._value_dense,
        )
        kernel = torch.cat(
            [d.kernel.value.reshape(hidden_dim, -1) for d in dense], dim=1
        )
        bias = None
        if attention._use_bias:
            bias = torch.cat([d.bias.value.reshape(-1) for d in dense])
        batch, length = x.shape[0], x.shape[1]
        num_heads, head_dim = self.num_heads, attention._key_dim
        # `(batch, length, 3, heads, dim)` -> 3 x `(batch, heads, length,
        # dim)`.
        qkv = functional.linear(x, kernel.t(), bias)
        qkv = qkv.view(batch, length, 3, num_heads, head_dim)
        query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        # A query row with no key to attend to gets zeros (PyTorch's
        # boolean-mask semantics), as `keras.layers.Softmax` gives them.
        attended = functional.scaled_dot_product_attention(
            query,
            key,
            value,
            attn_mask=mask,
            dropout_p=rate,
            scale=1.0 / float(head_dim) ** 0.5,
        )
        attended = attended.transpose(1, 2).reshape(batch, length, -1)
        x = linear(attention._output_dense, attended)
        x = functional.dropout(x, rate, training=bool(training)) + residual
        if not self.normalize_first:
            x = layer_norm(self._self_attention_layer_norm, x)

        residual = x
        if self.normalize_first:
            x = layer_norm(self._feedforward_layer_norm, x)
        intermediate = self._feedforward_intermediate_dense
        x = intermediate.activation(linear(intermediate, x))
        x = linear(self._feedforward_output_dense, x)
        x = functional.dropout(x, rate, training=bool(training)) + residual
        if not self.normalize_first:
            x = layer_norm(self._feedforward_layer_norm, x)
        return x

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
                "normalize_first": self.normalize_first,
            }
        )
        return config
