"""Checking and deserializing the configs of a preset.

Loading never runs code named by the preset: every class in a config must be
one of this library's registered classes or a Keras built-in; lambdas and
functions of other modules are refused before Keras sees the config.
"""

from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.errors import short_message

_SAFE_MODULE_PREFIXES = ("keras", "keras_nlp_clone")


def check_config_is_safe(config, path="config"):
    """Checks that a serialized config names only allowed classes.

    Every nested class or function must be registered by `keras_nlp_clone`
    (a `registered_name` with a package prefix) or come from Keras; lambdas
    and other modules are refused, so loading a preset cannot import or run
    code named in its files.

    Raises:
        PresetError: naming the offending entry.
    """
    from keras_nlp_clone.api_export import get_registered_class

    if isinstance(config, list):
        for i, value in enumerate(config):
            check_config_is_safe(value, f"{path}[{i}]")
        return
    if not isinstance(config, dict):
        return
    if "class_name" in config:
        module = config.get("module") or ""
        registered = str(config.get("registered_name") or "")
        if config["class_name"] == "__lambda__":
            raise PresetError(
                f"{path} holds a lambda; presets may only refer to Keras "
                "built-ins and this library's classes and functions."
            )
        if config["class_name"] == "function":
            # Keras writes a registered function as module `builtins`, its
            # `registered_name` in `config`.
            name = config.get("config")
            ours = isinstance(name, str) and get_registered_class(name) is not None
            if not ours and module.split(".")[0] != "keras":
                raise PresetError(
                    f"{path} names function {name!r} from module `{module}`."
                    " Presets may only use this library's functions and "
                    "Keras built-ins."
                )
        elif ">" in registered:
            if get_registered_class(registered) is None:
                raise PresetError(
                    f"{path} names `{registered}`, which is not a class of "
                    "keras_nlp_clone. Presets may only use this library's "
                    "classes and Keras built-ins."
                )
        elif module and module.split(".")[0] not in _SAFE_MODULE_PREFIXES:
            raise PresetError(
                f"{path} names `{config['class_name']}` from module "
                f"`{module}`. Presets may only use this library's classes "
                "and Keras built-ins."
            )
    for key, value in config.items():
        check_config_is_safe(value, f"{path}.{key}")


def config_class(config, filename):
    """Returns the registered class named by a serialized config.

    Raises:
        PresetError: the config does not name a keras_nlp_clone class.
    """
    from keras_nlp_clone.api_export import get_registered_class

    name = config.get("registered_name") or config.get("class_name")
    cls = get_registered_class(name) if isinstance(name, str) else None
    if cls is None:
        raise PresetError(
            f"`{filename}` names class {name!r}, which is not a "
            "keras_nlp_clone class."
        )
    return cls


def _point_at_our_classes(config):
    """Rewrites registered class references to this library's classes.

    Keras imports the `module` a config names; configs written by KerasHub
    name `keras_hub...` modules. Pointing every registered reference at our
    own class's module means deserialization imports nothing else.
    """
    from keras_nlp_clone.api_export import PACKAGE
    from keras_nlp_clone.api_export import get_registered_class

    if isinstance(config, list):
        return [_point_at_our_classes(v) for v in config]
    if not isinstance(config, dict):
        return config
    config = {k: _point_at_our_classes(v) for k, v in config.items()}
    registered = config.get("registered_name")
    if isinstance(registered, str) and ">" in registered:
        cls = get_registered_class(registered)
        if cls is not None:
            config["registered_name"] = f"{PACKAGE}>{cls.__name__}"
            config["module"] = cls.__module__
    return config


def _type_name(value):
    return "null" if value is None else type(value).__name__


def check_config_types(cls, inner, filename):
    """Checks the JSON types of a saved config against `cls.__init__`.

    A value whose argument defaults to a bool must be `true`/`false`, one
    whose argument defaults to a number must be a JSON number; `null` and
    other arguments are left to the constructor's own checks (which also
    tell an int from a float).

    Args:
        cls: the class the config builds.
        inner: dict. The config's `"config"` entry.
        filename: str. The file it was read from, for messages.

    Raises:
        PresetError: naming the file, the key, the value and the type
            expected.
    """
    import inspect

    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return
    for key, value in inner.items():
        parameter = parameters.get(key)
        if parameter is None or value is None:
            continue
        default = parameter.default
        if isinstance(default, bool):
            ok, expected = isinstance(value, bool), "true or false"
        elif isinstance(default, (int, float)):
            # Whether an int or a float is right is the constructor's check.
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            expected = "a number"
        else:
            continue
        if not ok:
            raise PresetError(
                f"`{filename}` sets `{key}` to {value!r} ({_type_name(value)}"
                f"), but `{cls.__name__}` needs {expected} there. The file "
                "is damaged or was edited by hand: fix the value or re-save "
                "the preset with `save_to_preset`."
            )


def deserialize(config, filename, **overrides):
    """Builds the object of a checked serialized config, with overrides.

    Raises:
        PresetError: naming `filename`, when the config names a class that
            is not allowed, its `"config"` entry is not a JSON object, a
            value has the wrong JSON type, or the constructor refuses it.
            Nothing is built then.
    """
    import keras

    check_config_is_safe(config, filename)
    inner = config.get("config", {})
    if not isinstance(inner, dict):
        raise PresetError(
            f"The `\"config\"` entry of `{filename}` must be a JSON object "
            f"of constructor arguments; it is a {_type_name(inner)}. The file "
            "is damaged: re-save the preset with `save_to_preset`."
        )
    config = _point_at_our_classes(config)
    inner = config.get("config", {})
    # Only the file's values are checked here: overrides are the caller's.
    check_config_types(config_class(config, filename), inner, filename)
    inner = dict(inner)
    inner.update(overrides)
    config["config"] = inner
    try:
        return keras.saving.deserialize_keras_object(config, safe_mode=True)
    except PresetError:
        raise
    except (TypeError, ValueError) as e:
        # Keras wraps a constructor's error in a generic TypeError; quote
        # the innermost one, which names the argument.
        cause = e
        while cause.__cause__ is not None or cause.__context__ is not None:
            cause = cause.__cause__ or cause.__context__
        raise PresetError(
            f"`{filename}` holds a config that `{config['class_name']}` "
            f"refuses ({type(cause).__name__}: {short_message(cause, 400)})."
            " Fix the value or re-save the preset with `save_to_preset`."
        ) from e
