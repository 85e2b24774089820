"""Looking samplers up by name, and saving them as configs."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.samplers.beam_sampler import BeamSampler
from keras_nlp_clone.samplers.contrastive_sampler import ContrastiveSampler
from keras_nlp_clone.samplers.greedy_sampler import GreedySampler
from keras_nlp_clone.samplers.random_sampler import RandomSampler
from keras_nlp_clone.samplers.sampler import Sampler
from keras_nlp_clone.samplers.speculative_sampler import SpeculativeSampler
from keras_nlp_clone.samplers.top_k_sampler import TopKSampler
from keras_nlp_clone.samplers.top_p_sampler import TopPSampler

# The short names of the built-in samplers, as in KerasNLP.
SAMPLERS_BY_NAME = {
    "beam": BeamSampler,
    "contrastive": ContrastiveSampler,
    "greedy": GreedySampler,
    "random": RandomSampler,
    "speculative": SpeculativeSampler,
    "top_k": TopKSampler,
    "top_p": TopPSampler,
}


def _valid_names():
    return ", ".join(f'"{name}"' for name in SAMPLERS_BY_NAME)


def _lookup(name, custom_objects):
    """The sampler class called `name` (short name, class name, or
    registered name such as `"keras_nlp_clone>TopKSampler"`), or `None`."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in SAMPLERS_BY_NAME:
        return SAMPLERS_BY_NAME[name]
    class_name = name.rpartition(">")[2]
    for cls in SAMPLERS_BY_NAME.values():
        if class_name == cls.__name__:
            return cls
    return None


@keras_nlp_clone_export
def serialize(sampler):
    """Returns the config dict of a sampler, for `deserialize`.

    Args:
        sampler: a `keras_nlp_clone.samplers.Sampler` instance.

    Returns:
        A JSON-serializable dict with `"module"`, `"class_name"`,
        `"config"` (the sampler's `get_config()`) and `"registered_name"`,
        as written by `keras.saving.serialize_keras_object`.

    Raises:
        ValueError: when `sampler` is not a `Sampler`.

    Examples:
    >>> import keras_nlp_clone
    >>> sampler = keras_nlp_clone.samplers.TopKSampler(k=3, seed=1)
    >>> config = keras_nlp_clone.samplers.serialize(sampler)
    >>> config["class_name"], config["config"]["k"]
    ('TopKSampler', 3)

    References:
        - [KerasNLP samplers](https://keras.io/api/keras_nlp/samplers/).
    """
    if not isinstance(sampler, Sampler):
        raise ValueError(
            "`serialize` takes a `keras_nlp_clone.samplers.Sampler` "
            f"instance. Received: {sampler!r} of type "
            f"{type(sampler).__name__}."
        )
    return keras.saving.serialize_keras_object(sampler)


@keras_nlp_clone_export
def deserialize(config, custom_objects=None):
    """Builds a sampler from a name or a config dict.

    Args:
        config: a dict as written by `serialize` (or any dict with
            `"class_name"` and `"config"`, where the class name may be a
            short name such as `"top_k"`), or a string: a short name
            (`"beam"`, `"contrastive"`, `"greedy"`, `"random"`, `"top_k"`,
            `"top_p"`) or a class name (`"TopKSampler"`), built with its
            default arguments.
        custom_objects: dict mapping names to custom `Sampler` subclasses.
            Defaults to `None`.

    Returns:
        A `keras_nlp_clone.samplers.Sampler` instance.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones),
            a dict without `"class_name"`, or anything that does not build a
            `Sampler`.

    Examples:
    >>> import keras_nlp_clone
    >>> sampler = keras_nlp_clone.samplers.deserialize(
    ...     {"class_name": "top_k", "config": {"k": 3}}
    ... )
    >>> type(sampler).__name__, sampler.k
    ('TopKSampler', 3)

    References:
        - [KerasNLP samplers](https://keras.io/api/keras_nlp/samplers/).
    """
    if isinstance(config, str):
        cls = _lookup(config, custom_objects)
        if cls is None:
            raise ValueError(
                f"Unknown sampler name {config!r}. Valid names are "
                f"{_valid_names()} (or a class name such as "
                '"TopKSampler", or a `Sampler` instance).'
            )
        sampler = cls()
    elif isinstance(config, dict):
        if "class_name" not in config:
            raise ValueError(
                'A sampler config dict needs a `"class_name"` key, as '
                "written by `keras_nlp_clone.samplers.serialize`. Received: "
                f"{config!r}."
            )
        name = config.get("registered_name") or config["class_name"]
        cls = _lookup(name, custom_objects) or _lookup(
            config["class_name"], custom_objects
        )
        if cls is not None:
            sampler = cls.from_config(dict(config.get("config") or {}))
        else:
            try:
                sampler = keras.saving.deserialize_keras_object(
                    config, custom_objects=custom_objects
                )
            except (TypeError, ValueError) as e:
                raise ValueError(
                    f"Unknown sampler class {config['class_name']!r}. Valid "
                    f"names are {_valid_names()}; pass custom samplers in "
                    f"`custom_objects`. ({e})"
                ) from e
    else:
        raise ValueError(
            "`deserialize` takes a sampler name or a config dict. "
            f"Received: {config!r} of type {type(config).__name__}."
        )
    if not isinstance(sampler, Sampler):
        raise ValueError(
            f"{config!r} does not describe a `Sampler`; it built {sampler!r}."
        )
    return sampler


@keras_nlp_clone_export
def get(identifier):
    """Returns a sampler from a name, a config dict or an instance.

    This is what generative tasks call on `compile(sampler=...)`.

    Args:
        identifier: a `Sampler` instance (returned as is), a `Sampler`
            subclass (built with its defaults), a short name (`"beam"`,
            `"contrastive"`, `"greedy"`, `"random"`, `"top_k"`,
            `"top_p"`) or class name (built with its defaults), a config
            dict (see `deserialize`), or `None` (returns `None`).

    Returns:
        A `keras_nlp_clone.samplers.Sampler` instance, or `None`.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones)
            or an identifier of another type.

    Examples:
    >>> import keras_nlp_clone
    >>> type(keras_nlp_clone.samplers.get("greedy")).__name__
    'GreedySampler'
    >>> sampler = keras_nlp_clone.samplers.TopPSampler(p=0.5)
    >>> keras_nlp_clone.samplers.get(sampler) is sampler
    True

    References:
        - [KerasNLP samplers](https://keras.io/api/keras_nlp/samplers/).
    """
    if identifier is None or isinstance(identifier, Sampler):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Sampler):
        return identifier()
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    raise ValueError(
        "Could not interpret sampler identifier "
        f"{identifier!r} (type {type(identifier).__name__}). Pass a name "
        f"({_valid_names()}), a config dict, or a "
        "`keras_nlp_clone.samplers.Sampler` instance."
    )
