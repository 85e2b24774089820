"""Checking and deserializing the configs of a preset.

Loading never runs code named by the preset: every class in a config must be
one of this library's registered classes or a Keras built-in; lambdas and
functions of other modules are refused before Keras sees the config.
"""

from keras_nlp_clone.presets.errors import PresetError

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


def deserialize(config, filename, **overrides):
    """Builds the object of a checked serialized config, with overrides."""
    import keras

    check_config_is_safe(config, filename)
    config = _point_at_our_classes(config)
    inner = dict(config.get("config", {}))
    inner.update(overrides)
    config["config"] = inner
    return keras.saving.deserialize_keras_object(config, safe_mode=True)
