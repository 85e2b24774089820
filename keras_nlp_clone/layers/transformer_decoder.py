"""The Transformer decoder block: causal self-attention, optional
cross-attention, then a feedforward network."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.cached_multi_head_attention import (
    CachedMultiHeadAttention,
)
from keras_nlp_clone.layers.transformer_layer_utils import call_layer
from keras_nlp_clone.layers.transformer_layer_utils import can_call_directly
from keras_nlp_clone.layers.transformer_layer_utils import check_block_arguments
from keras_nlp_clone.layers.transformer_layer_utils import dense_kwargs
from keras_nlp_clone.layers.transformer_layer_utils import get_keras_mask
from keras_nlp_clone.layers.transformer_layer_utils import set_keras_mask


def compute_causal_mask(batch_size, query_length, key_length, start_index=0):
    """A causal attention mask, offset for cached decoding.

    Args:
        batch_size: int or int scalar tensor.
        query_length: int or int scalar tensor, the number of queries.
        key_length: int or int scalar tensor, the number of keys (the cache
            length when decoding with a cache).
        start_index: int or int scalar tensor, the position of the first
            query (the cache update index). Defaults to `0`.

    Returns:
        A boolean tensor of shape `(batch_size, query_length, key_length)`,
        True where the query at position `start_index + i` may attend to
        key `j`, i.e. where `j <= start_index + i`.
    """
    rows = ops.arange(query_length, dtype="int32") + ops.cast(
        start_index, "int32"
    )
    columns = ops.arange(key_length, dtype="int32")
    mask = ops.greater_equal(rows[:, None], columns[None, :])
    return ops.broadcast_to(mask[None], (batch_size, query_length, key_length))


def _key_padding_mask(padding_mask, key_length, name):
    """`(batch, keys)` padding mask -> boolean `(batch, 1, keys)`."""
    length = padding_mask.shape[-1]
    if (
        isinstance(length, int)
        and isinstance(key_length, int)
        and length != key_length
    ):
        raise ValueError(
            f"`{name}` must have one entry per attended position, "
            f"{key_length} here (the sequence length, or the cache length "
            f"when a cache is passed). Received: {name} of shape "
            f"{tuple(padding_mask.shape)}."
        )
    return ops.expand_dims(ops.cast(padding_mask, "bool"), axis=1)


def _merge_masks(*masks):
    """Logical AND of the boolean masks that are not `None` (or `None`)."""
    merged = None
    for mask in masks:
        if mask is None:
            continue
        mask = ops.cast(mask, "bool")
        merged = mask if merged is None else ops.logical_and(merged, mask)
    return merged


@keras_nlp_clone_export
class TransformerDecoder(keras.layers.Layer):
    """One Transformer decoder block, with optional cross-attention.

    The block has a causal self-attention sublayer, a cross-attention
    sublayer attending to an encoder's output (only when the layer is first
    called, and so built, with an `encoder_sequence`), and a feedforward
    network. With `normalize_first=False` (the default, "post-norm", as in
    the original Transformer and BART) each sublayer `f` computes

        x = LayerNorm(x + Dropout(f(x)))

    and with `normalize_first=True` ("pre-norm", as in GPT-2)

        x = x + Dropout(f(LayerNorm(x)))

    where the feedforward network is `W2 activation(W1 x)`. Given the same
    weights this equals Hugging Face's `BartDecoderLayer` (post-norm) and
    `GPT2Block` (pre-norm, decoder only).

    For generation, the block takes key/value caches (see
    `CachedMultiHeadAttention`): `self_attention_cache` with
    `self_attention_cache_update_index` writes the new tokens' keys and
    values at that index and attends over the cache with a causal mask
    offset by the index, so that decoding one token at a time gives the
    outputs of one full causal pass. `cross_attention_cache` holds the
    projected encoder keys/values: filled once with
    `cross_attention_cache_update_index=0`, then reused with `None`.

    The hidden size is read from the last dimension of `decoder_sequence`
    when the layer is built; each head has size `hidden_dim // num_heads`.

    Sublayers (their names are relied on by weight converters):
    - `_self_attention_layer`: `CachedMultiHeadAttention(num_heads,
      key_dim=hidden_dim // num_heads)`, with `_self_attention_layer_norm`
      and `_self_attention_dropout`.
    - `_cross_attention_layer` (or `None` without cross-attention), with
      `_cross_attention_layer_norm` and `_cross_attention_dropout`.
    - `_feedforward_intermediate_dense` (`Dense(intermediate_dim)` with the
      activation), `_feedforward_output_dense` (`Dense(hidden_dim)`),
      `_feedforward_layer_norm`, `_feedforward_dropout`.

    Args:
        intermediate_dim: int. The width of the feedforward network's hidden
            layer.
        num_heads: int. The number of attention heads; must divide the
            hidden size.
        dropout: float. The dropout rate of the attention probabilities and
            of the residual branches. Defaults to `0`.
        activation: str or callable. The feedforward activation. Defaults to
            `"relu"`.
        layer_norm_epsilon: float. The epsilon of the layer norms. Defaults
            to `1e-05`.
        kernel_initializer: str or `keras.initializers.Initializer`. The
            initializer of every kernel. Defaults to `"glorot_uniform"`.
        bias_initializer: str or `keras.initializers.Initializer`. The
            initializer of every bias. Defaults to `"zeros"`.
        normalize_first: bool. Whether to use the pre-norm block (see
            above). Defaults to `False`.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        decoder_sequence: float tensor of shape
            `(batch, target_length, hidden_dim)`.
        encoder_sequence: float tensor of shape
            `(batch, source_length, encoder_dim)`, the encoder's output.
            Must be given on every call if and only if it was given when
            the layer was built. Defaults to `None`.
        decoder_padding_mask: tensor of shape `(batch, keys)`, 1/True at
            tokens and 0/False at padding, masking self-attention keys;
            `keys` is `target_length` without a cache and the cache length
            with one. When `None` and no self-attention cache is given, a
            Keras mask attached to `decoder_sequence` is used. Defaults to
            `None`.
        decoder_attention_mask: tensor of shape `(batch, target_length,
            keys)`, 1/True where a query may attend to a key; combined with
            the padding and causal masks by logical AND. Defaults to
            `None`.
        encoder_padding_mask: tensor of shape `(batch, source_length)`
            masking cross-attention keys. When `None`, a Keras mask attached
            to `encoder_sequence` is used. Defaults to `None`.
        encoder_attention_mask: tensor of shape `(batch, target_length,
            source_length)` for cross-attention. Defaults to `None`.
        self_attention_cache: float tensor of shape
            `(batch, 2, max_length, num_heads, head_dim)`. Defaults to
            `None`.
        self_attention_cache_update_index: int or int scalar tensor, the
            position of the first token of `decoder_sequence` in the cache.
            Defaults to `None` (the cache is read, not updated).
        cross_attention_cache: float tensor of shape
            `(batch, 2, source_length, num_heads, head_dim)`. With
            cross-attention, given if and only if `self_attention_cache` is.
            Defaults to `None`.
        cross_attention_cache_update_index: int or int scalar tensor, where
            the projected `encoder_sequence` is written into
            `cross_attention_cache` (`0` to fill it); `None` reuses the
            cache as it is. Defaults to `None`.
        use_causal_mask: bool. Whether self-attention is causal. Defaults to
            `True`.
        training: bool. Whether dropout is active. Defaults to `None`.

    Returns:
        A tensor of the shape of `decoder_sequence`; with a self-attention
        cache the tuple `(outputs, self_attention_cache)`, and with both
        caches `(outputs, self_attention_cache, cross_attention_cache)`,
        holding the updated caches.

    Raises:
        ValueError: when `intermediate_dim` or `num_heads` is not a positive
            integer, when `dropout` is outside `[0, 1)`; at build time when
            `num_heads` does not divide the hidden size; at call time when
            `encoder_sequence` is given to a layer built without it (or
            missing for a layer built with it), when only one of the two
            caches is given with cross-attention, or when a padding mask's
            length does not match the attended positions.

    Examples:
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> decoder = keras_nlp_clone.layers.TransformerDecoder(
    ...     intermediate_dim=64, num_heads=4)
    >>> x = np.random.uniform(size=(2, 10, 32)).astype("float32")
    >>> tuple(decoder(x).shape)
    (2, 10, 32)
    >>> # With cross-attention to an encoder output.
    >>> seq2seq = keras_nlp_clone.layers.TransformerDecoder(
    ...     intermediate_dim=64, num_heads=4)
    >>> encoded = np.random.uniform(size=(2, 6, 32)).astype("float32")
    >>> tuple(seq2seq(x, encoded).shape)
    (2, 10, 32)
    >>> # Decode one token at position 3 with a cache for 10 positions.
    >>> cache = np.zeros((2, 2, 10, 4, 8), "float32")
    >>> out, cache = decoder(x[:, 3:4], self_attention_cache=cache,
    ...     self_attention_cache_update_index=3)
    >>> tuple(out.shape)
    (2, 1, 32)

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762).
        - [Lewis et al., 2019](https://arxiv.org/abs/1910.13461), BART.
        - [Radford et al., 2019](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf),
          GPT-2 (pre-norm).
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
        self._cross_attention_layer = None

    def _dense_kwargs(self):
        return dense_kwargs(self)

    def _layer_norm(self, name, shape):
        layer = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            dtype=self.dtype_policy,
            name=name,
        )
        layer.build(shape)
        return layer

    def _dropout(self, name):
        return keras.layers.Dropout(
            rate=self.dropout, dtype=self.dtype_policy, name=name
        )

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        hidden_dim = decoder_sequence_shape[-1]
        if hidden_dim % self.num_heads != 0:
            raise ValueError(
                f"`num_heads={self.num_heads}` must divide the hidden size "
                f"of the decoder sequence, {hidden_dim} (its last "
                f"dimension). Pick a `num_heads` that divides {hidden_dim}."
            )
        head_dim = hidden_dim // self.num_heads

        # === Self-attention block ===
        self._self_attention_layer = CachedMultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=head_dim,
            dropout=self.dropout,
            name="self_attention",
            **self._dense_kwargs(),
        )
        self._self_attention_layer.build(
            query_shape=decoder_sequence_shape,
            value_shape=decoder_sequence_shape,
        )
        self._self_attention_layer_norm = self._layer_norm(
            "self_attention_layer_norm", decoder_sequence_shape
        )
        self._self_attention_dropout = self._dropout("self_attention_dropout")

        # === Cross-attention block (only with an encoder sequence) ===
        self._cross_attention_layer = None
        if encoder_sequence_shape is not None:
            self._cross_attention_layer = CachedMultiHeadAttention(
                num_heads=self.num_heads,
                key_dim=head_dim,
                dropout=self.dropout,
                name="cross_attention",
                **self._dense_kwargs(),
            )
            self._cross_attention_layer.build(
                query_shape=decoder_sequence_shape,
                value_shape=encoder_sequence_shape,
            )
            self._cross_attention_layer_norm = self._layer_norm(
                "cross_attention_layer_norm", decoder_sequence_shape
            )
            self._cross_attention_dropout = self._dropout(
                "cross_attention_dropout"
            )

        # === Feedforward block ===
        self._feedforward_intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            name="feedforward_intermediate_dense",
            **self._dense_kwargs(),
        )
        self._feedforward_intermediate_dense.build(decoder_sequence_shape)
        self._feedforward_output_dense = keras.layers.Dense(
            hidden_dim,
            name="feedforward_output_dense",
            **self._dense_kwargs(),
        )
        self._feedforward_output_dense.build(
            (*decoder_sequence_shape[:-1], self.intermediate_dim)
        )
        self._feedforward_layer_norm = self._layer_norm(
            "feedforward_layer_norm", decoder_sequence_shape
        )
        self._feedforward_dropout = self._dropout("feedforward_dropout")
        self.built = True

    def _check_call_arguments(
        self, encoder_sequence, self_attention_cache, cross_attention_cache
    ):
        has_cross_attention = self._cross_attention_layer is not None
        if encoder_sequence is not None and not has_cross_attention:
            raise ValueError(
                "This `TransformerDecoder` was built without cross-attention "
                "(first called without `encoder_sequence`), but was called "
                "with an `encoder_sequence`. The call arguments must not "
                "change: build the layer with `layer(decoder_sequence, "
                "encoder_sequence)` to use cross-attention."
            )
        if encoder_sequence is None and has_cross_attention:
            raise ValueError(
                "This `TransformerDecoder` was built with cross-attention "
                "(first called with `encoder_sequence`), but was called "
                "without one. Pass `encoder_sequence` on every call."
            )
        if has_cross_attention and (
            (self_attention_cache is None) != (cross_attention_cache is None)
        ):
            raise ValueError(
                "With cross-attention, `self_attention_cache` and "
                "`cross_attention_cache` must both be given or both be "
                "`None`. Received: self_attention_cache is "
                f"{'None' if self_attention_cache is None else 'set'}, "
                "cross_attention_cache is "
                f"{'None' if cross_attention_cache is None else 'set'}."
            )

    def _self_attention_mask(
        self,
        decoder_sequence,
        decoder_padding_mask,
        decoder_attention_mask,
        use_causal_mask,
        cache,
        cache_update_index,
    ):
        shape = ops.shape(decoder_sequence)
        batch_size, query_length = shape[0], shape[1]
        key_length = query_length if cache is None else ops.shape(cache)[2]
        padding = None
        if decoder_padding_mask is not None:
            padding = _key_padding_mask(
                decoder_padding_mask, key_length, "decoder_padding_mask"
            )
        causal = None
        if use_causal_mask:
            causal = compute_causal_mask(
                batch_size,
                query_length,
                key_length,
                0 if cache_update_index is None else cache_update_index,
            )
        return _merge_masks(padding, decoder_attention_mask, causal)

    def _residual_block(
        self, x, layer_norm, dropout, sublayer, training, direct=False
    ):
        residual = x
        if self.normalize_first:
            x = call_layer(layer_norm, direct, x)
        x, extra = sublayer(x)
        if not direct:  # Direct calls are for inference: no dropout.
            x = dropout(x, training=training)
        x = ops.add(x, residual)
        if not self.normalize_first:
            x = call_layer(layer_norm, direct, x)
        return x, extra

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        decoder_attention_mask=None,
        encoder_padding_mask=None,
        encoder_attention_mask=None,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        cross_attention_cache_update_index=None,
        use_causal_mask=True,
        training=None,
    ):
        self._check_call_arguments(
            encoder_sequence, self_attention_cache, cross_attention_cache
        )
        # One step of cached decoding: skip the sublayers' `__call__`
        # bookkeeping (see `can_call_directly`).
        direct = can_call_directly(self, self_attention_cache, training)
        decoder_keras_mask = get_keras_mask(decoder_sequence)
        if decoder_padding_mask is None and self_attention_cache is None:
            decoder_padding_mask = decoder_keras_mask
        self_attention_mask = self._self_attention_mask(
            decoder_sequence,
            decoder_padding_mask,
            decoder_attention_mask,
            use_causal_mask,
            self_attention_cache,
            self_attention_cache_update_index,
        )

        def self_attention(x):
            # Padding is already in the mask; Keras masks must not also mask
            # query rows inside the attention layer.
            set_keras_mask(x, None)
            outputs = call_layer(
                self._self_attention_layer,
                direct,
                query=x,
                value=x,
                attention_mask=self_attention_mask,
                cache=self_attention_cache,
                cache_update_index=self_attention_cache_update_index,
                training=training,
            )
            if self_attention_cache is None:
                return outputs, None
            return outputs

        x, self_attention_cache = self._residual_block(
            decoder_sequence,
            self._self_attention_layer_norm,
            self._self_attention_dropout,
            self_attention,
            training,
            direct,
        )

        if self._cross_attention_layer is not None:
            encoder_keras_mask = get_keras_mask(encoder_sequence)
            if encoder_padding_mask is None:
                encoder_padding_mask = encoder_keras_mask
            padding = None
            if encoder_padding_mask is not None:
                padding = _key_padding_mask(
                    encoder_padding_mask,
                    ops.shape(encoder_sequence)[1],
                    "encoder_padding_mask",
                )
            cross_attention_mask = _merge_masks(padding, encoder_attention_mask)

            def cross_attention(x):
                set_keras_mask(x, None)
                set_keras_mask(encoder_sequence, None)
                outputs = call_layer(
                    self._cross_attention_layer,
                    direct,
                    query=x,
                    value=encoder_sequence,
                    attention_mask=cross_attention_mask,
                    cache=cross_attention_cache,
                    cache_update_index=cross_attention_cache_update_index,
                    training=training,
                )
                if encoder_keras_mask is not None:
                    set_keras_mask(encoder_sequence, encoder_keras_mask)
                if cross_attention_cache is None:
                    return outputs, None
                return outputs

            x, cross_attention_cache = self._residual_block(
                x,
                self._cross_attention_layer_norm,
                self._cross_attention_dropout,
                cross_attention,
                training,
                direct,
            )

        def feedforward(x):
            x = call_layer(self._feedforward_intermediate_dense, direct, x)
            return call_layer(self._feedforward_output_dense, direct, x), None

        x, _ = self._residual_block(
            x,
            self._feedforward_layer_norm,
            self._feedforward_dropout,
            feedforward,
            training,
            direct,
        )
        if decoder_keras_mask is not None:
            set_keras_mask(decoder_sequence, decoder_keras_mask)

        if self_attention_cache is None:
            return x
        if cross_attention_cache is None:
            return x, self_attention_cache
        return x, self_attention_cache, cross_attention_cache

    def compute_output_spec(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        decoder_attention_mask=None,
        encoder_padding_mask=None,
        encoder_attention_mask=None,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        cross_attention_cache_update_index=None,
        use_causal_mask=True,
        training=None,
    ):
        # Shapes are known without tracing `call`; this keeps building a
        # functional model fast.
        outputs = keras.KerasTensor(
            decoder_sequence.shape, dtype=self.compute_dtype
        )
        if self_attention_cache is None:
            return outputs
        caches = (self_attention_cache,)
        if cross_attention_cache is not None:
            caches += (cross_attention_cache,)
        caches = tuple(
            keras.KerasTensor(c.shape, dtype=self.compute_dtype) for c in caches
        )
        return (outputs, *caches)

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
