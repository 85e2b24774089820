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


def gelu_exact(x):
    """GELU with the exact erf formulation, as Hugging Face's `"gelu"`."""
    return keras.activations.gelu(x, approximate=False)
