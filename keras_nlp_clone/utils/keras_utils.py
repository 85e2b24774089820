"""Small helpers around Keras shared by layers and models."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export


def clone_initializer(initializer):
    """Returns a fresh copy of a Keras initializer.

    Sharing one initializer instance between variables makes them draw the
    same values; every variable should get its own copy.

    Args:
        initializer: a `keras.initializers.Initializer`, a string or a dict.

    Returns:
        A new initializer of the same class and config (strings and dicts are
        returned as they are, since Keras builds a new instance from them).
    """
    if not isinstance(initializer, keras.initializers.Initializer):
        return initializer
    return initializer.__class__.from_config(initializer.get_config())


# Registered (and allow-listed for presets) so that layers taking it as
# `activation` serialize by name.
@keras_nlp_clone_export
def gelu_exact(x):
    """GELU with the exact erf formulation, as Hugging Face's `"gelu"`.

    Args:
        x: a float tensor of any shape.

    Returns:
        `x * Phi(x)` with `Phi` the standard normal CDF, same shape and dtype.

    References:
        - [Hendrycks and Gimpel, 2016](https://arxiv.org/abs/1606.08415)
    """
    return keras.activations.gelu(x, approximate=False)


@keras_nlp_clone_export
def gelu_approximate(x):
    """GELU with the tanh approximation, as GPT-2 and Hugging Face's
    `"gelu_new"`.

    Args:
        x: a float tensor of any shape.

    Returns:
        `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))`, same
        shape and dtype.

    References:
        - [Hendrycks and Gimpel, 2016](https://arxiv.org/abs/1606.08415)
    """
    return keras.activations.gelu(x, approximate=True)


class EarlyAttributeMixin:
    """Allows assigning attributes before a functional model's constructor.

    Backbones and tasks create their layers as attributes (so converters and
    users can reach them by name) before calling
    `keras.Model.__init__(inputs=..., outputs=...)`. Keras' attribute
    tracking, and `torch.nn.Module.__setattr__` under the PyTorch backend,
    are not set up that early; the functional graph tracks those layers
    anyway, so early assignments (and property setters) bypass tracking.
    """

    def __setattr__(self, name, value):
        is_property = isinstance(getattr(type(self), name, None), property)
        if is_property or not self.__dict__.get("_functional_initialized"):
            return object.__setattr__(self, name, value)
        return super().__setattr__(name, value)

    def _mark_functional_initialized(self):
        object.__setattr__(self, "_functional_initialized", True)


def head_dtype_policy(dtype=None):
    """The dtype policy of a model's output head (the layer making logits).

    Under a mixed precision policy (`"mixed_float16"`, `"mixed_bfloat16"`)
    a model computes in float16 or bfloat16 and keeps float32 variables;
    its logits are computed in float32 (the variable dtype), as the loss
    and the samplers' softmax take them, as the Keras mixed precision guide
    advises for a model's last layer, and as KerasNLP computed its
    `ReversibleEmbedding` projections (`reverse_dtype="float32"`). Other
    policies (float32, a full `"bfloat16"`, quantized ones) are returned as
    they are.

    Args:
        dtype: `None` (the global policy), a policy name or a
            `keras.DTypePolicy` (or `DTypePolicyMap`, whose default policy
            decides).

    Returns:
        A `keras.DTypePolicy`: `DTypePolicy(variable_dtype)` for a mixed,
        unquantized policy, else the policy itself.

    Examples:
    >>> head_dtype_policy("mixed_bfloat16").name
    'float32'
    >>> head_dtype_policy("bfloat16").name
    'bfloat16'

    References:
        - [Micikevicius et al., 2018](https://arxiv.org/abs/1710.03740),
          mixed precision training.
    """
    if dtype is None:
        policy = keras.config.dtype_policy()
    else:
        policy = keras.dtype_policies.get(dtype)
    if (
        policy.quantization_mode is None
        and policy.compute_dtype != policy.variable_dtype
    ):
        return keras.DTypePolicy(policy.variable_dtype)
    return policy
