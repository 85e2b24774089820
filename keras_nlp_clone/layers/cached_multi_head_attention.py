"""Multi-head attention with a key/value cache for autoregressive decoding."""

import contextlib
import math
import threading

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.transformer_layer_utils import can_call_directly
from keras_nlp_clone.layers.transformer_layer_utils import direct_call
from keras_nlp_clone.layers.transformer_layer_utils import may_read_raw_kernel
from keras_nlp_clone.utils import argument_checks


_IN_PLACE = threading.local()


@contextlib.contextmanager
def cache_updates_in_place():
    """Within this context, cached inference on PyTorch writes the new keys
    and values into the given cache tensor instead of a copy of it.

    For generation loops that own their caches (`CausalLM.generate`): each
    step's cache replaces the previous one, so the copy that keeps the
    caller's cache unchanged (a whole cache per layer per token, about a
    fifth of a PyTorch decoding step at batch 8) is not needed. A cache
    position is always written before any query attends to it (the causal
    mask hides later positions), so samplers that branch (beam,
    contrastive: they repeat or gather the cache into new tensors) and
    speculative decoding (it rewrites rejected positions) are unaffected.
    JAX and TensorFlow are unaffected (XLA already updates the loop's cache
    in place).
    """
    previous = getattr(_IN_PLACE, "enabled", False)
    _IN_PLACE.enabled = True
    try:
        yield
    finally:
        _IN_PLACE.enabled = previous


@keras_nlp_clone_export
class CachedMultiHeadAttention(keras.layers.MultiHeadAttention):
    """`keras.layers.MultiHeadAttention` with a key/value cache.

    Without a cache the layer computes exactly what
    `keras.layers.MultiHeadAttention` computes with the same weights and the
    same `attention_mask`. With a cache it supports the two uses of
    autoregressive decoding:

    - **Self-attention while decoding** (`cache` and `cache_update_index`):
      the keys and values of the new query tokens (usually one) are
      projected and written into the cache at `cache_update_index` (with
      `keras.ops.slice_update`), and the query attends over the whole
      updated cache. Cache slots not filled yet hold stale values: the
      caller's `attention_mask` must hide them, e.g. a causal mask in which
      the query at position `cache_update_index + i` sees cache positions
      `<= cache_update_index + i` (as `TransformerDecoder` builds).
    - **Cross-attention to a fixed sequence** (`cache` without
      `cache_update_index`): the cached keys and values are used as they
      are and `key`/`value` are not projected.

    The cache is a single tensor of shape
    `(batch, 2, max_length, num_heads, key_dim)`: index `0` of axis 1 holds
    the projected keys, index `1` the projected values. It is cast to the
    layer's compute dtype. A cache can be created with zeros and filled
    with one call over the whole prompt (`cache_update_index=0`).

    The weights are those of `keras.layers.MultiHeadAttention` (the
    `query`, `key`, `value` and `attention_output` `EinsumDense` sublayers,
    plus `gate` with `use_gate=True`), so checkpoints of either layer load
    into the other.

    Under a mixed precision policy (`"mixed_float16"`,
    `"mixed_bfloat16"`) the projections run in the compute dtype, but the
    attention probabilities are always computed in float32 (at least):
    `keras.ops.dot_product_attention`, used when there is no dropout to
    apply and no scores to return, does so on every backend, and the
    explicit path (dropout in training, `return_attention_scores=True`)
    does so here too, where `keras.layers.MultiHeadAttention` would run
    its softmax in float16. Returned scores are float32.

    Args:
        num_heads: int. The number of attention heads.
        key_dim: int. The size of each head for query and key.
        value_dim: int. The size of each head for value. `None` uses
            `key_dim`. With a cache, it must equal `key_dim` (keys and
            values share one cache tensor). Defaults to `None`.
        dropout: float. The dropout rate of the attention probabilities.
            Defaults to `0.0`.
        use_bias: bool. Whether the projections have biases. Defaults to
            `True`.
        output_shape: int or tuple. The output's trailing shape; `None`
            projects back to the query's last dimension. Defaults to
            `None`.
        attention_axes: int or tuple of ints. The axes attention runs over;
            `None` means all axes but batch, heads and features. A cache
            needs the default, attention over axis 1 of 3D inputs. Defaults
            to `None`.
        sliding_window: int. When set, each query attends only to keys
            within `sliding_window - 1` positions of itself. With
            `cache_update_index`, query positions are counted from that
            index, so cached decoding masks the same band as a full pass.
            Defaults to `None`.
        flash_attention: bool. Whether to use the backend's flash attention
            kernel; `None` lets Keras decide (see
            `keras.config.enable_flash_attention`). As in
            `keras.layers.MultiHeadAttention`, it cannot be combined with
            `dropout > 0` or `return_attention_scores=True`. Defaults to
            `None`.
        kernel_initializer: str or initializer. The kernels' initializer.
            Defaults to `"glorot_uniform"`.
        bias_initializer: str or initializer. The biases' initializer.
            Defaults to `"zeros"`.
        kernel_regularizer: regularizer for the kernels. Defaults to `None`.
        bias_regularizer: regularizer for the biases. Defaults to `None`.
        activity_regularizer: regularizer for the output. Defaults to
            `None`.
        kernel_constraint: constraint for the kernels. Defaults to `None`.
        bias_constraint: constraint for the biases. Defaults to `None`.
        use_gate: bool. Whether to gate the attention output with a sigmoid
            projection of the query, as `keras.layers.MultiHeadAttention`
            does. Defaults to `False`.
        seed: int. The seed of the attention dropout. Defaults to `None`.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        query: float tensor of shape `(batch, target_length, query_dim)`.
        value: float tensor of shape `(batch, source_length, value_dim)`.
            With a cache and no `cache_update_index` it is not used (the
            cached values are), but must still be passed.
        key: float tensor of shape `(batch, source_length, key_dim)`.
            `None` uses `value`. Defaults to `None`.
        attention_mask: bool or int tensor of shape
            `(batch, target_length, keys)`, 1/True where a query may attend
            to a key, with `keys = source_length` without a cache and
            `keys = max_length` with one. Keras masks attached to the
            inputs are not used (unlike `keras.layers.MultiHeadAttention`):
            pass every mask here. Defaults to `None`.
        cache: float tensor of shape
            `(batch, 2, max_length, num_heads, key_dim)`, or `None`.
            Defaults to `None`.
        cache_update_index: int or int scalar tensor. The position at which
            the projected `key`/`value` of this call are written into
            `cache`. Only valid with a cache. Defaults to `None`.
        return_attention_scores: bool. Whether to also return the attention
            probabilities. Defaults to `False`.
        training: bool. Whether dropout is active. Defaults to `None`.

    Returns:
        The attention output of shape `(batch, target_length, query_dim)`
        (or the trailing `output_shape`); with a cache, the tuple
        `(output, cache)` where `cache` is the updated cache (the input
        cache when `cache_update_index` is `None`). With
        `return_attention_scores=True`, the scores of shape
        `(batch, num_heads, target_length, keys)` are appended:
        `(output, scores)` or `(output, cache, scores)`.

    Raises:
        ValueError: from `keras.layers.MultiHeadAttention` for invalid
            constructor arguments; when `cache_update_index` is given
            without a cache; when a cache is used with non-3D inputs,
            custom `attention_axes` or `value_dim != key_dim`; or when the
            cache's shape does not match `(batch, 2, max_length, num_heads,
            key_dim)`.

    Examples:
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> layer = keras_nlp_clone.layers.CachedMultiHeadAttention(
    ...     num_heads=2, key_dim=4)
    >>> x = np.random.uniform(size=(1, 5, 8)).astype("float32")
    >>> tuple(layer(x, x).shape)
    (1, 5, 8)
    >>> # Fill a cache for 5 positions with the first 3 tokens, then one more.
    >>> cache = np.zeros((1, 2, 5, 2, 4), "float32")
    >>> mask = np.tril(np.ones((5, 5), bool))[None]
    >>> out, cache = layer(x[:, :3], x[:, :3], attention_mask=mask[:, :3],
    ...     cache=cache, cache_update_index=0)
    >>> out, cache = layer(x[:, 3:4], x[:, 3:4], attention_mask=mask[:, 3:4],
    ...     cache=cache, cache_update_index=3)
    >>> tuple(out.shape), tuple(cache.shape)
    ((1, 1, 8), (1, 2, 5, 2, 4))

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762).
        - [Pope et al., 2022](https://arxiv.org/abs/2211.05102), key/value
          caching for efficient Transformer inference.
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        owner = type(self).__name__
        argument_checks.check_positive_integer(owner, "num_heads", num_heads)
        argument_checks.check_positive_integer(owner, "key_dim", key_dim)
        argument_checks.check_positive_integer(
            owner, "value_dim", value_dim, allow_none=True
        )
        argument_checks.check_rate(owner, "dropout", dropout)
        argument_checks.check_positive_integer(
            owner, "sliding_window", sliding_window, allow_none=True
        )
        super().__init__(
            num_heads=num_heads,
            key_dim=key_dim,
            value_dim=value_dim,
            dropout=dropout,
            use_bias=use_bias,
            output_shape=output_shape,
            attention_axes=attention_axes,
            sliding_window=sliding_window,
            flash_attention=flash_attention,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            use_gate=use_gate,
            seed=seed,
            **kwargs,
        )

    def call(
        self,
        query,
        value,
        key=None,
        attention_mask=None,
        cache=None,
        cache_update_index=None,
        return_attention_scores=False,
        training=None,
    ):
        if cache is None and cache_update_index is not None:
            raise ValueError(
                "`cache_update_index` was given without a `cache`. Pass the "
                "cache to update (shape `(batch, 2, max_length, num_heads, "
                "key_dim)`), or leave `cache_update_index=None`. Received: "
                f"cache_update_index={cache_update_index!r}."
            )
        if key is None:
            key = value
        if cache is not None:
            self._check_cache(query, cache)
        if (
            not return_attention_scores
            and self._sliding_window is None
            and not self._use_gate
            and can_call_directly(self, cache, training)
        ):
            return self._call_cached_inference(
                query, key, value, attention_mask, cache, cache_update_index
            )

        gate = self._gate_dense(query) if self._use_gate else None
        # `(batch, target_length, num_heads, key_dim)`.
        query_heads = self._query_dense(query)

        if cache is None:
            key_heads = self._key_dense(key)
            value_heads = self._value_dense(value)
        else:
            cache = ops.cast(cache, self.compute_dtype)
            key_heads = cache[:, 0, ...]
            value_heads = cache[:, 1, ...]
            if cache_update_index is not None:
                start = [0, cache_update_index, 0, 0]
                key_heads = ops.slice_update(
                    key_heads, start, self._key_dense(key)
                )
                value_heads = ops.slice_update(
                    value_heads, start, self._value_dense(value)
                )
                cache = ops.stack((key_heads, value_heads), axis=1)

        if self._sliding_window is not None:
            window = self._sliding_window_mask(
                query_heads, key_heads, cache_update_index
            )
            attention_mask = (
                window
                if attention_mask is None
                else ops.logical_and(ops.cast(attention_mask, "bool"), window)
            )

        attention_output, scores = self._compute_attention(
            query_heads,
            key_heads,
            value_heads,
            attention_mask,
            training,
            return_attention_scores,
        )
        if gate is not None:
            attention_output = ops.multiply(attention_output, gate)
        output = self._output_dense(attention_output)

        outputs = (output,) if cache is None else (output, cache)
        if return_attention_scores:
            outputs += (scores,)
        return outputs[0] if len(outputs) == 1 else outputs

    def _call_cached_inference(
        self, query, key, value, attention_mask, cache, cache_update_index
    ):
        """The cached path for inference: the same arithmetic as `call`,
        with the projections' `call` run directly and the attention done by
        `keras.ops.dot_product_attention` (PyTorch's fused
        `scaled_dot_product_attention` on that backend), since dropout is
        off. Used when `can_call_directly` holds."""
        if keras.config.backend() == "torch" and self._torch_fast_path_ok():
            return self._torch_cached_inference(
                query, key, value, attention_mask, cache, cache_update_index
            )
        query_heads = direct_call(self._query_dense, query)
        cache = ops.cast(cache, self.compute_dtype)
        if cache_update_index is not None:
            # One in-place update of the whole cache (XLA updates a loop
            # variable in place; slicing keys and values out, updating
            # each and stacking them back copies the cache every step).
            update = ops.stack(
                (
                    direct_call(self._key_dense, key),
                    direct_call(self._value_dense, value),
                ),
                axis=1,
            )
            cache = ops.slice_update(
                cache, [0, 0, cache_update_index, 0, 0], update
            )
        key_heads = cache[:, 0, ...]
        value_heads = cache[:, 1, ...]
        mask = None
        if attention_mask is not None:
            # `(batch, target, source)` -> `(batch, 1, target, source)`.
            mask = ops.expand_dims(ops.cast(attention_mask, "bool"), axis=1)
        attention_output = ops.dot_product_attention(
            query_heads,
            key_heads,
            value_heads,
            mask=mask,
            scale=1.0 / math.sqrt(float(self._key_dim)),
        )
        return direct_call(self._output_dense, attention_output), cache

    def _probabilities_dtype(self):
        # At least float32: float16 or bfloat16 probabilities lose the
        # small weights of long attention spans.
        return keras.backend.result_type(self.compute_dtype, "float32")

    def _masked_softmax(self, attention_scores, attention_mask=None):
        # `keras.layers.MultiHeadAttention` calls its `Softmax` sublayer,
        # which casts the scores to the layer's compute dtype (float16
        # under "mixed_float16"). Its `call` computes in the dtype it is
        # given: the scores cast up to float32.
        scores = ops.cast(attention_scores, self._probabilities_dtype())
        if attention_mask is not None:
            # `(batch, target, source)` -> `(batch, 1, target, source)`,
            # as `keras.layers.MultiHeadAttention` expands it.
            axis = -len(self._attention_axes) * 2 - 1
            for _ in range(len(scores.shape) - len(attention_mask.shape)):
                attention_mask = ops.expand_dims(attention_mask, axis=axis)
        return self._softmax.call(scores, mask=attention_mask)

    def _torch_fast_path_ok(self):
        dense_layers = (
            self._query_dense,
            self._key_dense,
            self._value_dense,
            self._output_dense,
        )
        return (
            self._query_dense.equation == "abc,cde->abde"
            and self._key_dense.equation == "abc,cde->abde"
            and self._value_dense.equation == "abc,cde->abde"
            and self._output_dense.equation == "abcd,cde->abe"
            and all(may_read_raw_kernel(d) for d in dense_layers)
        )

    def _torch_cached_inference(
        self, query, key, value, attention_mask, cache, cache_update_index
    ):
        """`_call_cached_inference` in PyTorch ops: the projections as
        matrix products on the kernels reshaped to 2D and PyTorch's
        `scaled_dot_product_attention`. Each `keras.ops` call costs tens of
        microseconds of dispatch on this backend, more than the arithmetic
        of one decoding step."""
        import torch

        def project(dense, x):
            kernel = dense.kernel.value
            y = torch.matmul(x, kernel.reshape(kernel.shape[0], -1))
            if dense.bias is not None:
                y = y + dense.bias.value.reshape(-1)
            return y.reshape(*x.shape[:-1], *kernel.shape[1:])

        cache = cache.to(query.dtype)
        # `(batch, length, heads, dim)` -> `(batch, heads, length, dim)`.
        query_heads = project(self._query_dense, query).transpose(1, 2)
        if cache_update_index is not None:
            # One copy of the cache (the caller's cache is left as it was),
            # written in place; no copy inside `cache_updates_in_place()`.
            index = int(cache_update_index)
            length = key.shape[1]
            if not getattr(_IN_PLACE, "enabled", False):
                cache = cache.clone()
            cache[:, 0, index : index + length] = project(self._key_dense, key)
            cache[:, 1, index : index + length] = project(
                self._value_dense, value
            )
        key_heads, value_heads = cache[:, 0], cache[:, 1]
        mask = None
        if attention_mask is not None:
            mask = attention_mask.to(torch.bool).unsqueeze(1)
        attention_output = torch.nn.functional.scaled_dot_product_attention(
            query_heads,
            key_heads.transpose(1, 2),
            value_heads.transpose(1, 2),
            attn_mask=mask,
            scale=1.0 / math.sqrt(float(self._key_dim)),
        )
        kernel = self._output_dense.kernel.value
        output = torch.matmul(
            attention_output.transpose(1, 2).flatten(2),
            kernel.reshape(-1, kernel.shape[-1]),
        )
        if self._output_dense.bias is not None:
            output = output + self._output_dense.bias.value
        return output, cache

    def _check_cache(self, query, cache):
        if len(query.shape) != 3 or self._attention_axes not in (None, (1,)):
            raise ValueError(
                "A key/value cache needs 3D inputs `(batch, length, dim)` "
                "and attention over axis 1 (`attention_axes=None`). "
                f"Received: query of shape {tuple(query.shape)} and "
                f"attention_axes={self._attention_axes!r}."
            )
        if self._value_dim != self._key_dim:
            raise ValueError(
                "Keys and values share one cache tensor, so a cache needs "
                f"`value_dim == key_dim`. Received: key_dim={self._key_dim}, "
                f"value_dim={self._value_dim}."
            )
        shape = tuple(cache.shape)
        expected = (2, self._num_heads, self._key_dim)
        if len(shape) != 5 or (shape[1], shape[3], shape[4]) != expected:
            raise ValueError(
                "`cache` must have shape `(batch, 2, max_length, num_heads, "
                f"key_dim)` = `(batch, 2, max_length, {self._num_heads}, "
                f"{self._key_dim})` for this layer. Received: cache of shape "
                f"{shape}."
            )

    def _sliding_window_mask(self, query_heads, key_heads, start):
        query_length = ops.shape(query_heads)[1]
        key_length = ops.shape(key_heads)[1]
        rows = ops.arange(query_length, dtype="int32")
        if start is not None:
            rows = rows + ops.cast(start, "int32")
        columns = ops.arange(key_length, dtype="int32")
        distance = ops.abs(rows[:, None] - columns[None, :])
        return ops.less(distance, self._sliding_window)[None]

    def compute_output_spec(
        self,
        query,
        value,
        key=None,
        attention_mask=None,
        cache=None,
        cache_update_index=None,
        return_attention_scores=False,
        training=None,
    ):
        if self._output_shape:
            output_shape = (*query.shape[:-1], *self._output_shape)
        else:
            output_shape = query.shape
        outputs = (keras.KerasTensor(output_shape, dtype=self.compute_dtype),)
        if cache is not None:
            outputs += (
                keras.KerasTensor(cache.shape, dtype=self.compute_dtype),
            )
        if return_attention_scores:
            keys = value.shape[1] if cache is None else cache.shape[2]
            scores_shape = (
                query.shape[0],
                self._num_heads,
                query.shape[1],
                keys,
            )
            outputs += (
                keras.KerasTensor(
                    scores_shape, dtype=self._probabilities_dtype()
                ),
            )
        return outputs[0] if len(outputs) == 1 else outputs
