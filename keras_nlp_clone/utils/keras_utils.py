"""Small helpers around Keras shared by layers and models."""

import keras


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


# Registered so that layers taking it as `activation` serialize by name.
@keras.saving.register_keras_serializable(package="keras_nlp_clone")
def gelu_exact(x):
    """GELU with the exact erf formulation, as Hugging Face's `"gelu"`."""
    return keras.activations.gelu(x, approximate=False)


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
