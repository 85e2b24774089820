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

Layers, tokenizers, packers, samplers, metrics and preprocessors call the
generic helpers below (`check_positive_integer`, `check_integer`,
`check_number_in_range`, `check_positive_number`, `check_rate`,
`check_choice`, `check_activation`, `check_divisible`, `check_bool`) from their
constructors. Every message has one shape: "`Owner` needs `name` to be
<allowed values>. Received: name=<value>." and, where it helps, a hint.
"""

import inspect
import math

import keras
import numpy as np

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


def _fail(owner, name, value, requirement, hint=None):
    message = (
        f"`{owner}` needs `{name}` to be {requirement}. Received: "
        f"{name}={value!r}."
    )
    if hint:
        message += f" {hint}"
    raise ValueError(message)


def _as_python_scalar(value):
    # NumPy scalars (e.g. sizes read from an array's shape or a config
    # parsed with NumPy) count as the Python number they hold.
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        kind = getattr(value.dtype, "kind", "")
        if kind in "iuf" and kind:
            return value.item()
    return value


def check_integer(
    owner, name, value, minimum=None, maximum=None, allow_none=False, hint=None
):
    """Raises a `ValueError` unless `value` is an int in `[minimum, maximum]`.

    Bools are refused (`True` is not a size); NumPy integers are accepted.

    Args:
        owner: str. The class or function taking the argument, for the
            message.
        name: str. The argument's name.
        value: the value received.
        minimum: int or `None`. The smallest value allowed; `None` for no
            lower bound. Defaults to `None`.
        maximum: int or `None`. The largest value allowed; `None` for no
            upper bound. Defaults to `None`.
        allow_none: bool. Whether `None` is accepted. Defaults to `False`.
        hint: str or `None`. A sentence appended to the message, e.g. what
            the argument means. Defaults to `None`.

    Raises:
        ValueError: naming `owner`, `name`, `value` and the range.

    Example:

    >>> from keras_nlp_clone.utils.argument_checks import check_integer
    >>> check_integer("RandomSwap", "max_swaps", -1, minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: `RandomSwap` needs `max_swaps` to be an integer >= 0. Received: max_swaps=-1.
    """
    if value is None and allow_none:
        return
    if minimum is not None and maximum is not None:
        requirement = f"an integer in [{minimum}, {maximum}]"
    elif minimum is not None:
        requirement = f"an integer >= {minimum}"
    elif maximum is not None:
        requirement = f"an integer <= {maximum}"
    else:
        requirement = "an integer"
    if allow_none:
        requirement += " or `None`"
    number = _as_python_scalar(value)
    if (
        not _is_int(number)
        or (minimum is not None and number < minimum)
        or (maximum is not None and number > maximum)
    ):
        _fail(owner, name, number, requirement, hint)


def check_positive_integer(owner, name, value, allow_none=False, hint=None):
    """Raises a `ValueError` unless `value` is an int >= 1.

    Args:
        owner: str. The class or function taking the argument, for the
            message.
        name: str. The argument's name.
        value: the value received.
        allow_none: bool. Whether `None` is accepted. Defaults to `False`.
        hint: str or `None`. A sentence appended to the message. Defaults
            to `None`.

    Raises:
        ValueError: naming `owner`, `name` and `value`.
    """
    check_integer(
        owner, name, value, minimum=1, allow_none=allow_none, hint=hint
    )


def _interval(low, high, low_inclusive, high_inclusive):
    if low is not None and high is not None:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        return f"in {left}{low}, {high}{right}"
    if low is not None:
        return (">= " if low_inclusive else "> ") + f"{low}"
    if high is not None:
        return ("<= " if high_inclusive else "< ") + f"{high}"
    return ""


def check_number_in_range(
    owner,
    name,
    value,
    low=None,
    high=None,
    low_inclusive=True,
    high_inclusive=True,
    allow_none=False,
    hint=None,
):
    """Raises a `ValueError` unless `value` is a real number in the range.

    Ints, floats and NumPy scalars count as numbers; bools, strings and NaN
    do not.

    Args:
        owner: str. The class or function taking the argument, for the
            message.
        name: str. The argument's name.
        value: the value received.
        low: number or `None`. The lower bound; `None` for none. Defaults to
            `None`.
        high: number or `None`. The upper bound; `None` for none. Defaults
            to `None`.
        low_inclusive: bool. Whether `low` itself is allowed. Defaults to
            `True`.
        high_inclusive: bool. Whether `high` itself is allowed. Defaults to
            `True`.
        allow_none: bool. Whether `None` is accepted. Defaults to `False`.
        hint: str or `None`. A sentence appended to the message. Defaults
            to `None`.

    Raises:
        ValueError: naming `owner`, `name`, `value` and the range, e.g.
            "`TopPSampler` needs `p` to be a number in (0, 1]. Received:
            p=0."

    Example:

    >>> from keras_nlp_clone.utils.argument_checks import check_number_in_range
    >>> check_number_in_range("TopPSampler", "p", 1.5, 0, 1,
    ...     low_inclusive=False)
    Traceback (most recent call last):
    ...
    ValueError: `TopPSampler` needs `p` to be a number in (0, 1]. Received: p=1.5.
    """
    if value is None and allow_none:
        return
    requirement = "a number"
    interval = _interval(low, high, low_inclusive, high_inclusive)
    if interval:
        requirement += " " + interval
    if allow_none:
        requirement += " or `None`"
    number = _as_python_scalar(value)
    ok = isinstance(number, (int, float)) and not isinstance(number, bool)
    ok = ok and not math.isnan(number)  # NaN is in no range
    if ok and low is not None:
        ok = number >= low if low_inclusive else number > low
    if ok and high is not None:
        ok = number <= high if high_inclusive else number < high
    if not ok:
        _fail(owner, name, number, requirement, hint)


def check_positive_number(owner, name, value, allow_none=False, hint=None):
    """Raises a `ValueError` unless `value` is a number > 0.

    Args:
        owner: str. The class or function taking the argument.
        name: str. The argument's name.
        value: the value received.
        allow_none: bool. Whether `None` is accepted. Defaults to `False`.
        hint: str or `None`. A sentence appended to the message. Defaults
            to `None`.

    Raises:
        ValueError: naming `owner`, `name`, `value` and the range.
    """
    check_number_in_range(
        owner,
        name,
        value,
        low=0,
        low_inclusive=False,
        allow_none=allow_none,
        hint=hint,
    )


def check_choice(owner, name, value, choices, hint=None):
    """Raises a `ValueError` unless `value` is one of `choices`.

    Args:
        owner: str. The class or function taking the argument.
        name: str. The argument's name.
        value: the value received.
        choices: sequence. The accepted values (may include `None`).
        hint: str or `None`. A sentence appended to the message, e.g. what
            each choice does. Defaults to `None`.

    Raises:
        ValueError: naming `owner`, `name`, `value` and every choice.

    Example:

    >>> from keras_nlp_clone.utils.argument_checks import check_choice
    >>> check_choice("StartEndPacker", "padding_side", "up",
    ...     ("left", "right"))
    Traceback (most recent call last):
    ...
    ValueError: `StartEndPacker` needs `padding_side` to be one of 'left', 'right'. Received: padding_side='up'.
    """
    # Same type and value: `True` is not the choice `1`, nor `1` `True`.
    if any(
        value is choice or (type(value) is type(choice) and value == choice)
        for choice in choices
    ):
        return
    listed = ", ".join(repr(choice) for choice in choices)
    _fail(owner, name, value, f"one of {listed}", hint)


def check_bool(owner, name, value):
    """Raises a `ValueError` unless `value` is `True` or `False`.

    Strings are the mistake this catches: `lowercase="false"` is truthy,
    so without the check a cased tokenizer would silently lowercase. NumPy
    booleans count as the Python bool they hold; `0`, `1` and `None` are
    refused (say `False`/`True`).

    Args:
        owner: str. The class taking the argument, for the message.
        name: str. The argument's name.
        value: the value received.

    Raises:
        ValueError: naming `owner`, `name` and `value`.

    Example:

    >>> from keras_nlp_clone.utils.argument_checks import check_bool
    >>> check_bool("WordPieceTokenizer", "lowercase", "false")
    Traceback (most recent call last):
    ...
    ValueError: `WordPieceTokenizer` needs `lowercase` to be True or False (a bool). Received: lowercase='false'.
    """
    if isinstance(value, (bool, np.bool_)):
        return
    _fail(owner, name, value, "True or False (a bool)")


def check_divisible(owner, width_name, width, count_name, count):
    """Raises a `ValueError` unless `count` divides `width`.

    For attention widths: each of `count` heads gets `width / count` units.

    Args:
        owner: str. The class taking the arguments.
        width_name: str. The name of the width, e.g. `"hidden_dim"`.
        width: int. The width.
        count_name: str. The name of the divisor, e.g. `"num_heads"`.
        count: int. The divisor.

    Raises:
        ValueError: naming `owner`, both arguments and values, and the
            divisors of `width` that would fit.
    """
    if not (_is_int(width) and _is_int(count)) or count < 1:
        return  # the positivity checks report these
    if width % count != 0:
        fitting = [
            h for h in range(1, min(width, 64) + 1) if width % h == 0
        ]
        raise ValueError(
            f"`{owner}` needs `{width_name}` divisible by `{count_name}` "
            f"(each head gets {width_name} / {count_name} units). Received: "
            f"{width_name}={width}, {count_name}={count}. Head counts "
            f"that divide {width}: {fitting}."
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
    if attention_hidden_dim:
        check_divisible(
            owner,
            "hidden_dim",
            arguments.get("hidden_dim"),
            "num_heads",
            arguments.get("num_heads"),
        )
