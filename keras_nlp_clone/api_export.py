"""Registration of the library's public, serializable classes.

Every public layer, tokenizer and model class is decorated with
`keras_nlp_clone_export`. That registers it with Keras serialization under the
`keras_nlp_clone>` package prefix, and records it in an allow-list that the
preset loader uses: a preset may only name classes from this list, so loading a
preset never imports or runs code named by the file.
"""

import keras

PACKAGE = "keras_nlp_clone"
# Registered-name prefixes of presets that use the same class names and
# constructor arguments (KerasHub / KerasNLP); see docs/presets.md.
_COMPATIBLE_PACKAGES = ("keras_hub", "keras_nlp")
_REGISTERED_CLASSES = {}
# Class names of compatible packages that differ from ours, e.g. KerasHub's
# "BertTextClassifier" -> our "BertClassifier" (see `register_compatible_alias`).
_COMPATIBLE_ALIASES = {}


def keras_nlp_clone_export(cls):
    """Decorator: registers a public class (or function) for serialization.

    Args:
        cls: a class or function defined in this library.

    Returns:
        `cls`, unchanged.
    """
    keras.saving.register_keras_serializable(package=PACKAGE)(cls)
    _REGISTERED_CLASSES[f"{PACKAGE}>{cls.__name__}"] = cls
    return cls


def get_registered_class(registered_name):
    """Returns the registered class named `registered_name`, or `None`.

    Args:
        registered_name: str, `"keras_nlp_clone>ClassName"` or `"ClassName"`;
            `"keras_hub>ClassName"` and `"keras_nlp>ClassName"` map to the
            class of the same name here.
    """
    if ">" not in registered_name:
        registered_name = f"{PACKAGE}>{registered_name}"
    package, _, name = registered_name.partition(">")
    if package in _COMPATIBLE_PACKAGES:
        # Presets written by KerasHub / KerasNLP name the same classes.
        name = _COMPATIBLE_ALIASES.get(name, name)
        registered_name = f"{PACKAGE}>{name}"
    return _REGISTERED_CLASSES.get(registered_name)


def register_compatible_alias(alias, name):
    """Lets `"keras_hub>{alias}"` / `"keras_nlp>{alias}"` name our class `name`.

    Used where KerasHub names a class differently (its
    `BertTextClassifier` is our `BertClassifier`).

    Args:
        alias: str. The class name used by KerasHub / KerasNLP.
        name: str. Our registered class name.
    """
    _COMPATIBLE_ALIASES[alias] = name


def registered_classes():
    """All registered classes (not functions), as a list."""
    return [c for c in _REGISTERED_CLASSES.values() if isinstance(c, type)]
