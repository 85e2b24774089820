"""Helpers shared by the Transformer blocks (`TransformerEncoder`,
`TransformerDecoder`): argument checks, sublayer arguments and masks."""

from keras import ops

from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.keras_utils import clone_initializer

try:  # Keras keeps per-tensor masks here on every backend (JAX included).
    from keras.src.backend import get_keras_mask
    from keras.src.backend import set_keras_mask
except ImportError:  # pragma: no cover - older Keras 3 releases.

    def get_keras_mask(x):
        return getattr(x, "_keras_mask", None)

    def set_keras_mask(x, mask):
        try:
            x._keras_mask = mask
        except AttributeError:
            pass


def merge_padding_and_attention_mask(inputs, padding_mask, attention_mask):
    """Merges a key padding mask and an attention mask into one.

    Args:
        inputs: the sequence, `(batch, seq, hidden)`; only its shape is used.
        padding_mask: `(batch, seq)`, 1/True at tokens, 0/False at padding,
            or `None`.
        attention_mask: `(batch, seq, seq)`, 1/True where query `i` may
            attend to key `j`, or `None`.

    Returns:
        A boolean `(batch, seq, seq)` mask, the logical AND of the two
        (padding masks keys only: every query row may attend to every
        non-padding key), or `None` when both are `None`.
    """
    mask = None
    if padding_mask is not None:
        padding_mask = ops.cast(padding_mask, "bool")
        shape = ops.shape(inputs)
        mask = ops.broadcast_to(
            ops.expand_dims(padding_mask, axis=1),
            (shape[0], shape[1], shape[1]),
        )
    if attention_mask is not None:
        attention_mask = ops.cast(attention_mask, "bool")
        mask = (
            attention_mask
            if mask is None
            else ops.logical_and(mask, attention_mask)
        )
    return mask


def check_block_arguments(
    owner, intermediate_dim, num_heads, dropout, activation, layer_norm_epsilon
):
    """Checks the arguments every Transformer block takes.

    Args:
        owner: str. The block's class name, for the messages.
        intermediate_dim: the feedforward width received.
        num_heads: the number of attention heads received.
        dropout: the dropout rate received.
        activation: the feedforward activation received.
        layer_norm_epsilon: the layer normalization epsilon received.

    Raises:
        ValueError: `intermediate_dim` or `num_heads` is not an int >= 1,
            `dropout` is not in [0, 1), `activation` is not one Keras
            resolves, or `layer_norm_epsilon` is not a number > 0; the
            message names `owner`, the argument and the value.
    """
    argument_checks.check_positive_integer(
        owner, "intermediate_dim", intermediate_dim
    )
    argument_checks.check_positive_integer(owner, "num_heads", num_heads)
    argument_checks.check_rate(owner, "dropout", dropout)
    argument_checks.check_activation(owner, "activation", activation)
    check_layer_norm_epsilon(owner, layer_norm_epsilon)


def check_layer_norm_epsilon(owner, value):
    """Raises a `ValueError` unless `layer_norm_epsilon` is a number > 0.

    Args:
        owner: str. The layer's class name, for the message.
        value: the epsilon received.

    Raises:
        ValueError: naming `owner`, `layer_norm_epsilon` and `value`.
    """
    argument_checks.check_positive_number(
        owner,
        "layer_norm_epsilon",
        value,
        hint="It keeps the normalization from dividing by zero, e.g. 1e-5.",
    )


def dense_kwargs(layer):
    """Arguments of a block's dense sublayers: fresh copies of its kernel
    and bias initializers (so no two sublayers share a seeded initializer)
    and its dtype policy."""
    return {
        "kernel_initializer": clone_initializer(layer.kernel_initializer),
        "bias_initializer": clone_initializer(layer.bias_initializer),
        "dtype": layer.dtype_policy,
    }


def can_call_directly(layer, cache, training):
    """Whether a block may run its sublayers' `call` directly (skipping
    `keras.layers.Layer.__call__`) for one step of cached decoding.

    `Layer.__call__` does bookkeeping (argument binding, masks, name
    scopes, dtype casts) that costs more than the arithmetic of a
    one-token decoding step when ops run eagerly (PyTorch). It is skipped
    only where it changes nothing: a cache is given (inference-time
    decoding), not training (dropout is the identity), the layer is built,
    and its dtype policy neither mixes dtypes nor quantizes (so there is
    no autocast to apply).

    Args:
        layer: the calling `keras.layers.Layer`.
        cache: the cache passed to it, or `None`.
        training: the `training` call argument.

    Returns:
        bool.
    """
    policy = layer.dtype_policy
    return (
        cache is not None
        and not training
        and layer.built
        and policy.compute_dtype == policy.variable_dtype
        and getattr(policy, "quantization_mode", None) is None
    )


def may_read_raw_kernel(layer):
    """Whether a fast path may use `layer.kernel` as the layer's whole
    float weight matrix: not for a LoRA-enabled layer (the low-rank update
    is added at call time) nor for a quantized one (an int8 kernel needs
    its scales)."""
    return not getattr(layer, "lora_enabled", False) and (
        getattr(layer, "quantization_mode", None) is None
    )


def direct_call(layer, *args, **kwargs):
    """`layer.call(...)`, or `layer.quantized_call(...)` for a quantized
    layer (what `Layer.__call__` would dispatch to)."""
    if getattr(layer, "quantization_mode", None) is not None:
        return layer.quantized_call(*args, **kwargs)
    return layer.call(*args, **kwargs)


def _torch_dense(layer, x):
    import torch

    y = torch.matmul(x, layer.kernel.value)
    if layer.bias is not None:
        y = y + layer.bias.value
    return layer.activation(y)


def _torch_layer_norm(layer, x):
    import torch

    return torch.nn.functional.layer_norm(
        x,
        (x.shape[-1],),
        weight=layer.gamma.value,
        bias=layer.beta.value,
        eps=layer.epsilon,
    )


def _torch_direct_call(layer, args, kwargs):
    """PyTorch ops for the plain `Dense` and `LayerNormalization` layers of
    the Transformer blocks (one `keras.ops` call costs tens of
    microseconds of dispatch there, more than a decoding step's
    arithmetic); `None` for other layers or configurations."""
    import keras

    if len(args) != 1 or kwargs:
        return None
    kind = type(layer)
    if (
        kind is keras.layers.Dense
        and may_read_raw_kernel(layer)
        and len(args[0].shape) >= 2
    ):
        return _torch_dense(layer, args[0])
    if (
        kind is keras.layers.LayerNormalization
        and layer.axis in (-1, [-1])
        and layer.center
        and layer.scale
        and not layer.rms_scaling
    ):
        return _torch_layer_norm(layer, args[0])
    return None


def call_layer(layer, direct, *args, **kwargs):
    """`layer.call(*args, **kwargs)` when `direct`, else
    `layer(*args, **kwargs)` (see `can_call_directly`). On PyTorch, direct
    calls of plain `Dense` and `LayerNormalization` layers run the same
    arithmetic in PyTorch ops."""
    if not direct:
        return layer(*args, **kwargs)
    import keras

    if keras.config.backend() == "torch":
        outputs = _torch_direct_call(layer, args, kwargs)
        if outputs is not None:
            return outputs
    return direct_call(layer, *args, **kwargs)
