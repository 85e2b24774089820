"""Constructor argument checks shared by every backbone and task.

`Backbone.__new__` and `Task.__new__` call `check_constructor_arguments`
before the subclass constructor runs, so a size of zero, a dropout of 1.5 or
an activation name Keras does not know is reported with the argument's name,
the value received and the allowed range, before any weight exists. Without
it these mistakes fail deep inside Keras (`Dense(units=0)`: "Received an
invalid value for `units`") or, worse, build a model that trains on nothing
(`dropout=1.0` zeroes every activation during `fit`).

The checks go by argument name, so a new model family gets them by using the
library's standard names (`vocabulary_size`, `num_layers`, `num_heads`,
`hidden_dim`, `intermediate_dim`, `max_sequence_length`, `num_segments`,
`num_classes`, `dropout`, `activation`); no family lists them itself.
"""

import inspect

import keras

# Arguments that must be integers >= 1 (or `None`, where the constructor's
# default is `None`, e.g. a classifier's `hidden_dim`).
POSITIVE_INTEGERS = (
    "vocabulary_size",
    "num_layers",
    "num_heads",
    "hidden_dim",
    "intermediate_dim",
    "max_sequence_length",
    "num_segments",
    "num_classes",
)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_positive_integer(owner, name, value, allow_none=False):
    """Raises a `ValueError` unless `value` is an int >= 1.

    Args:
        owner: str. The class or function taking the argument, for the
            message.
        name: str. The argument's name.
        value: the value received.
        allow_none: bool. Whether `None` is accepted. Defaults to `False`.

    Raises:
        ValueError: naming `owner`, `name` and `value`.
    """
    if value is None and allow_none:
        return
    # NumPy integers (e.g. sizes read from an array's shape) are ints too.
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        value = value.item() if "int" in str(value.dtype) else value
    if not _is_int(value) or value < 1:
        raise ValueError(
            f"`{owner}` needs `{name}` to be an integer >= 1. Received: "
            f"{name}={value!r}."
        )


def check_rate(owner, name, value):
    """Raises a `ValueError` unless `value` is a number in [0, 1).

    A dropout rate of 1 drops every unit: training would see only zeros.

    Args:
        owner: str. The class taking the argument, for the message.
        name: str. The argument's name.
        value: the value received.

    Raises:
        ValueError: naming `owner`, `name`, `value` and the range.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"`{owner}` needs `{name}` to be a number in [0, 1). Received: "
            f"{name}={value!r}."
        )
    if not 0 <= value < 1:
        raise ValueError(
            f"`{owner}` needs `{name}` in [0, 1) (the fraction of units "
            f"dropped during training). Received: {name}={value!r}."
        )


def check_activation(owner, name, value):
    """Raises a `ValueError` unless Keras resolves `value` to an activation.

    Args:
        owner: str. The class taking the argument, for the message.
        name: str. The argument's name.
        value: `None`, a string, a callable or a serialized activation.

    Raises:
        ValueError: naming `owner`, `name`, `value` and some accepted names.
    """
    if value is None or callable(value):
        return
    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        known = ", ".join(
            repr(n)
            for n in ("linear", "relu", "gelu", "sigmoid", "softmax", "tanh")
        )
        raise ValueError(
            f"`{owner}` got an unknown activation: {name}={value!r}. Pass "
            f"`None`, a callable, or a name Keras knows (e.g. {known}; see "
            "`keras.activations`)."
        ) from None


def check_constructor_arguments(cls, args, kwargs, attention_hidden_dim=False):
    """Checks a backbone's or task's constructor arguments, by name.

    Binds `args`/`kwargs` to `cls.__init__` and checks, where present: the
    sizes in `POSITIVE_INTEGERS` are ints >= 1 (`None` allowed where the
    constructor's default is `None`), `dropout` is in [0, 1), `activation`
    is one Keras resolves, and, with `attention_hidden_dim`, `num_heads`
    divides `hidden_dim`. Arguments that
    do not bind are left for the constructor to report.

    Args:
        cls: the class being constructed.
        args: tuple. Its positional constructor arguments.
        kwargs: dict. Its keyword constructor arguments.
        attention_hidden_dim: bool. Whether `hidden_dim` is the attention
            width, which `num_heads` must divide (backbones; a classifier's
            `hidden_dim` is its pooler's width). Defaults to `False`.

    Raises:
        ValueError: naming the class, the argument, the value received and
            what is allowed.

    Example:

    >>> from keras_nlp_clone.models import BertBackbone
    >>> BertBackbone(vocabulary_size=100, num_layers=0, num_heads=2,
    ...     hidden_dim=8, intermediate_dim=16)
    Traceback (most recent call last):
    ...
    ValueError: `BertBackbone` needs `num_layers` to be an integer >= 1. Received: num_layers=0.
    """
    signature = inspect.signature(cls.__init__)
    try:
        bound = signature.bind_partial(None, *args, **kwargs)
    except TypeError:
        return  # the constructor itself reports unknown or missing arguments
    arguments = bound.arguments
    owner = cls.__name__

    def default_of(name):
        parameter = signature.parameters.get(name)
        return None if parameter is None else parameter.default

    for name in POSITIVE_INTEGERS:
        if name in arguments:
            check_positive_integer(
                owner, name, arguments[name], allow_none=default_of(name) is None
            )
    if "dropout" in arguments:
        check_rate(owner, "dropout", arguments["dropout"])
    if "activation" in arguments:
        check_activation(owner, "activation", arguments["activation"])
    num_heads = arguments.get("num_heads")
    hidden_dim = arguments.get("hidden_dim")
    if (
        attention_hidden_dim
        and _is_int(num_heads)
        and _is_int(hidden_dim)
        and hidden_dim % num_heads != 0
    ):
        fitting = [h for h in range(1, min(hidden_dim, 64) + 1) if hidden_dim % h == 0]
        raise ValueError(
            f"`{owner}` needs `hidden_dim` divisible by `num_heads` (each "
            f"head gets hidden_dim / num_heads units). Received: "
            f"hidden_dim={hidden_dim}, num_heads={num_heads}. Head counts "
            f"that divide {hidden_dim}: {fitting}."
        )
