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


class skip_variable_initialization:
    """Context in which new Keras variables are not randomly initialised.

    They start as zeros (under PyTorch: unfilled memory), so every variable
    created inside must be assigned afterwards.

    Loading a preset builds a model and then overwrites every variable from
    the weights file; drawing random initial values first (truncated normal
    for tens of millions of parameters) is wasted work, the largest part of
    `from_preset` time. Only use it when every variable created inside will
    be assigned afterwards.

    It swaps Keras' (private) variable initialisation hook for the duration
    of the block; if that hook is not found (another Keras version), the
    context does nothing and variables are initialised as usual.

    Args:
        initial_values: optional callable `(variable) -> array or None`.
            When it returns an array (e.g. read from a weights file by the
            variable's path), the variable starts with that value and its
            id is added to `self.initialized`, so the caller can skip
            assigning it again. Ignored under PyTorch, where reading into
            unfilled memory is cheaper.
    """

    def __init__(self, initial_values=None):
        self.initial_values = initial_values
        self.initialized = set()

    def __enter__(self):
        try:
            from keras.src.backend import Variable as BackendVariable
            from keras.src.backend.common.variables import Variable
        except ImportError:
            self._patched = []
            return self

        torch_backend = keras.backend.backend() == "torch"

        def zeros_init(variable, initializer):
            dtype = keras.backend.standardize_dtype(variable._dtype)
            if torch_backend:
                # Unfilled memory: converting a NumPy array would copy (and
                # page in) every buffer once more. The caller overwrites it.
                import torch

                from keras.src.backend.torch.core import to_torch_dtype

                value = torch.empty(variable._shape, dtype=to_torch_dtype(dtype))
                variable._initialize(value)
                return
            if self.initial_values is not None:
                value = self.initial_values(variable)
                if value is not None:
                    variable._initialize(variable._convert_to_tensor(value))
                    self.initialized.add(id(variable))
                    return
            # Filled by the backend: no NumPy buffer to copy in.
            value = keras.ops.zeros(variable._shape, dtype=dtype)
            variable._initialize(variable._convert_to_tensor(value))

        # The backend's class may override the common hook (TensorFlow does).
        self._patched = []
        for cls in set(BackendVariable.__mro__) | {Variable}:
            original = cls.__dict__.get("_initialize_with_initializer")
            if original is not None:
                self._patched.append((cls, original))
                cls._initialize_with_initializer = zeros_init
        return self

    def __exit__(self, *args):
        for cls, original in self._patched:
            cls._initialize_with_initializer = original


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
