"""The registry of built-in presets and Hugging Face converters.

Model families fill it when they are imported (`models/<family>/__init__.py`
calls `register_presets` and `register_hf_converter`); this package never
imports a family by name.
"""

from keras_nlp_clone.presets.errors import PresetError

# id -> {"metadata": {...}, "kaggle_handle": str, "backbone": class name,
#        "local_sources": [...]}
BUILTIN_PRESETS = {}
# Hugging Face `model_type` -> converter module (see `register_hf_converter`).
HF_CONVERTERS = {}


class classproperty(property):
    """A read-only property computed on the class (e.g. `Bert.presets`)."""

    def __get__(self, _, owner_cls):
        return self.fget(owner_cls)


def register_presets(presets, backbone_name, aliases=None):
    """Adds built-in presets of one model family to the registry.

    Args:
        presets: dict. Preset id -> dict with `metadata` (`description`,
            `params`, `path`: the family folder name), `kaggle_handle`
            (`"kaggle://..."`) and optionally `local_sources`: a list of
            `{"python_package": name, "subdir": path}` entries naming
            installed packages that ship the files.
        backbone_name: str. The backbone class name of the family, e.g.
            `"BertBackbone"`.
        aliases: optional dict, alias id -> preset id (newer names).
    """
    for preset_id, entry in presets.items():
        entry = dict(entry)
        entry["backbone"] = backbone_name
        BUILTIN_PRESETS[preset_id] = entry
    for alias, target in (aliases or {}).items():
        entry = dict(BUILTIN_PRESETS[target])
        entry["metadata"] = dict(entry["metadata"], alias_of=target)
        BUILTIN_PRESETS[alias] = entry


def register_hf_converter(model_type, converter):
    """Registers a Hugging Face checkpoint converter for `model_type`.

    Args:
        model_type: str. The `model_type` of a Hugging Face `config.json`.
        converter: a module or object with `backbone_cls_name` (str),
            `convert_backbone_config(hf_config) -> dict`,
            `convert_weights(backbone, reader, hf_config)`,
            `convert_tokenizer(cls, preset_dir, hf_config, **kwargs)` and
            optionally `convert_head(task, reader, hf_config)`, which copies
            a task head (e.g. a masked LM head) when the checkpoint has one.
    """
    HF_CONVERTERS[model_type] = converter


def backbone_name_of(cls):
    """The backbone class name a tokenizer/preprocessor/task/backbone uses.

    Args:
        cls: a registered class (backbone, task, preprocessor, tokenizer).

    Returns:
        str, e.g. `"BertBackbone"`, or `None` for base classes that belong
        to no family (`Backbone`, `Tokenizer`, `TextClassifier`, ...).
    """
    from keras_nlp_clone.api_export import get_registered_class

    # The base class is found through the registry, so that this package
    # never imports `keras_nlp_clone.models`.
    Backbone = get_registered_class("Backbone")
    if isinstance(cls, type) and Backbone is not None and issubclass(cls, Backbone):
        return None if cls is Backbone else cls.__name__
    backbone_cls = getattr(cls, "backbone_cls", None)
    if backbone_cls is None:
        tokenizer_cls = getattr(cls, "tokenizer_cls", None)
        backbone_cls = getattr(tokenizer_cls, "backbone_cls", None)
    return None if backbone_cls is None else backbone_cls.__name__


def presets_for_class(cls):
    """Built-in presets usable with `cls.from_preset`, id -> metadata.

    For base classes (`Backbone`, `Tokenizer`, `TextClassifier`, ...) every
    preset is listed; for a family's class, that family's presets.
    """
    name = backbone_name_of(cls)
    return {
        preset_id: dict(entry["metadata"])
        for preset_id, entry in BUILTIN_PRESETS.items()
        if name is None or entry["backbone"] == name
    }


def find_subclass(base_cls, backbone_name):
    """The concrete registered subclass of `base_cls` for a backbone.

    `TextClassifier.from_preset("bert_...")` must build a
    `BertTextClassifier`; this finds it among registered classes whose
    `backbone_cls` (or tokenizer's `backbone_cls`) is `backbone_name`.
    Aliases resolve to the first registered (older) name.

    Raises:
        PresetError: no such class exists.
    """
    from keras_nlp_clone.api_export import registered_classes

    if backbone_name_of(base_cls) == backbone_name:
        return base_cls
    candidates = [
        c
        for c in registered_classes()
        if issubclass(c, base_cls) and backbone_name_of(c) == backbone_name
    ]
    if not candidates:
        raise PresetError(
            f"No `{base_cls.__name__}` subclass exists for presets of "
            f"`{backbone_name}`."
        )
    return candidates[0]
