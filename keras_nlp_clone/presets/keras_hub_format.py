"""KerasHub's preset format, both ways.

A preset saved by KerasHub (`keras_hub` 0.32) has the same files as ours
(`config.json`, `tokenizer.json`, `preprocessor.json`, `task.json`,
`assets/tokenizer/...`, `metadata.json`), with configs naming
`keras_hub>...` classes; those map to our classes of the same name and
arguments (`api_export.get_registered_class`, plus the aliases a family
registers here, e.g. `BertTextClassifier` -> `BertClassifier`). Its weights
files differ: `model.weights.h5` and `task.weights.h5` are in Keras' own
object-tree layout, one group per layer named after the layer's class in
creation order (`layers/transformer_encoder_1/_self_attention_layer/
query_dense/vars/0`), where ours are one dataset per variable
(`weights_file.py`).

Each family registers a table (in its `convert_<family>.py`) from our layer
paths (the path of a variable without its last part, e.g.
`transformer_layer_1/self_attention_layer/query`) to KerasHub's object
paths. Reading walks our model's layers, looks each layer up in the table
and reads its variables from `vars/0`, `vars/1`, ... in Keras' own order
(trainable then non-trainable, in creation order, as
`Layer.save_own_variables`); every variable must be found with the right
shape and every array of the file must be used, else a `PresetError` names
the file and nothing is assigned. Writing uses the same table the other way,
and rewrites our configs to name KerasHub's classes and modules, so that
`keras_hub.models.<Class>.from_preset(directory)` loads the directory.

This module never imports `keras_hub`.
"""

import datetime
import json
import os
import warnings

from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.errors import short_message
from keras_nlp_clone.presets.files import CONFIG_FILE
from keras_nlp_clone.presets.files import METADATA_FILE
from keras_nlp_clone.presets.files import MODEL_WEIGHTS_FILE
from keras_nlp_clone.presets.files import PREPROCESSOR_CONFIG_FILE
from keras_nlp_clone.presets.files import TASK_CONFIG_FILE
from keras_nlp_clone.presets.files import TASK_WEIGHTS_FILE
from keras_nlp_clone.presets.files import TOKENIZER_ASSET_DIR
from keras_nlp_clone.presets.files import TOKENIZER_CONFIG_FILE
from keras_nlp_clone.presets.saver import atomic_save
from keras_nlp_clone.presets.saver import atomic_write_text

KERAS_HUB_PACKAGE = "keras_hub"
# The KerasHub release whose layout this module reads and writes (tested).
KERAS_HUB_VERSION = "0.32.0"
FORMATS = ("keras_nlp_clone", "keras_hub")

# Our backbone class name -> `KerasHubFamily`.
_FAMILIES = {}


class KerasHubFamily:
    """What one model family needs to read and write KerasHub presets.

    Args:
        backbone_name: str. Our backbone class name, e.g. `"BertBackbone"`.
        classes: dict. Our class name -> `(KerasHub class name, KerasHub
            module)` for every class of the family a preset can hold
            (backbone, tokenizer, preprocessors, tasks).
        backbone_layers: list of `(ours, theirs)` pairs: our layer path ->
            KerasHub object path under `layers/` in `model.weights.h5`. Either
            side may hold `{i}` (ours) / `{_i}` (theirs) for transformer
            layer `i`: `{_i}` is `""` for layer 0 and `"_<i>"` after, as
            Keras numbers objects of one class.
        head_layers: dict. Our task class name -> list of `(ours, theirs)`
            pairs for the task's own layers in `task.weights.h5`.
        config_from_keras_hub: dict. Our class name -> config entries to set
            when reading a KerasHub config of that class (e.g. the GELU
            variant KerasHub's BERT computes).
        config_to_keras_hub: dict. Our class name -> `{key: value}`: config
            keys KerasHub's class does not take, dropped on writing; a
            warning says so when the key does not hold `value` (what
            KerasHub's class always computes).
        refused_tasks: dict. Our task class name -> why its head does not
            correspond exactly to KerasHub's; reading or writing its task
            weights in KerasHub's format raises a `PresetError` with it.
    """

    def __init__(
        self,
        backbone_name,
        classes,
        backbone_layers,
        head_layers=None,
        config_from_keras_hub=None,
        config_to_keras_hub=None,
        refused_tasks=None,
    ):
        self.refused_tasks = dict(refused_tasks or {})
        self.backbone_name = backbone_name
        self.classes = dict(classes)
        self.backbone_layers = list(backbone_layers)
        self.head_layers = dict(head_layers or {})
        self.config_from_keras_hub = dict(config_from_keras_hub or {})
        self.config_to_keras_hub = dict(config_to_keras_hub or {})


def register_keras_hub_family(family):
    """Registers a family's KerasHub tables (called by the family package).

    Also registers KerasHub's class names that differ from ours (e.g.
    `BertTextClassifier` for `BertClassifier`) as aliases, so configs
    naming them load.

    Args:
        family: `KerasHubFamily`.
    """
    from keras_nlp_clone.api_export import register_compatible_alias

    _FAMILIES[family.backbone_name] = family
    for ours, (theirs, _) in family.classes.items():
        if theirs != ours:
            register_compatible_alias(theirs, ours)


# === Object paths of shared layers ===


def transformer_encoder_paths(ours, theirs):
    """`(ours, theirs)` layer pairs inside one `TransformerEncoder`.

    Args:
        ours: str. Our path of the encoder layer, e.g.
            `"transformer_layer_{i}"`.
        theirs: str. KerasHub's, e.g. `"transformer_encoder{_i}"`.

    Returns:
        A list of `(our layer path, KerasHub object path)` pairs.
    """
    attention = [
        (f"{ours}/self_attention_layer/{a}", f"{theirs}/_self_attention_layer/{b}")
        for a, b in _ATTENTION
    ]
    return attention + [
        (f"{ours}/{a}", f"{theirs}/_{a}")
        for a in (
            "self_attention_layer_norm",
            "feedforward_layer_norm",
            "feedforward_intermediate_dense",
            "feedforward_output_dense",
        )
    ]


def transformer_decoder_paths(ours, theirs):
    """`(ours, theirs)` layer pairs inside one `TransformerDecoder` (with
    cross-attention layers when the decoder has them; unused pairs are
    ignored).

    Args:
        ours: str. Our path of the decoder layer.
        theirs: str. KerasHub's.

    Returns:
        A list of `(our layer path, KerasHub object path)` pairs.
    """
    pairs = []
    for our_block, their_block in (
        ("self_attention", "_self_attention_layer"),
        ("cross_attention", "_cross_attention_layer"),
    ):
        pairs += [
            (f"{ours}/{our_block}/{a}", f"{theirs}/{their_block}/{b}")
            for a, b in _ATTENTION
        ]
    return pairs + [
        (f"{ours}/{a}", f"{theirs}/_{a}")
        for a in (
            "self_attention_layer_norm",
            "cross_attention_layer_norm",
            "feedforward_layer_norm",
            "feedforward_intermediate_dense",
            "feedforward_output_dense",
        )
    ]


# Our `MultiHeadAttention` sublayer names -> Keras' attribute names.
_ATTENTION = (
    ("query", "query_dense"),
    ("key", "key_dense"),
    ("value", "value_dense"),
    ("attention_output", "output_dense"),
)


def _expand(pairs, num_layers):
    """Table pairs with `{i}` / `{_i}` expanded, as a dict ours -> theirs."""
    table = {}
    for ours, theirs in pairs:
        if "{i}" not in ours:
            table[ours] = theirs
            continue
        for i in range(num_layers):
            table[ours.replace("{i}", str(i))] = theirs.replace(
                "{_i}", "" if i == 0 else f"_{i}"
            )
    return table


def _own_variables(layers, skip=()):
    """`(layer path, variables)` for every layer holding variables of its
    own, variables in Keras' saving order (`Layer.save_own_variables`);
    layers whose id is in `skip` (a backbone's, e.g. the token embedding a
    masked-LM head projects onto) are left out."""
    seen = set(skip)
    for top in layers:
        for layer in top._flatten_layers(include_self=True):
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            variables = list(layer._trainable_variables) + list(
                layer._non_trainable_variables
            )
            if variables:
                yield variables[0].path.rsplit("/", 1)[0], variables


def _num_layers(model):
    backbone = getattr(model, "backbone", model)
    return int(getattr(backbone, "num_layers", 0) or 0)


def _family_for(model):
    backbone = getattr(model, "backbone", model)
    for cls in type(backbone).__mro__:
        family = _FAMILIES.get(cls.__name__)
        if family is not None:
            return family
    raise PresetError(
        f"`{type(backbone).__name__}` has no KerasHub weight layout here. "
        f"Families with one: {sorted(_FAMILIES)}."
    )


def _layer_table(model, layers, pairs, path, skip=()):
    """Our layer path -> (KerasHub group, variables), checked."""
    table = _expand(pairs, _num_layers(model))
    plan = []
    for layer_path, variables in _own_variables(layers, skip):
        theirs = table.get(layer_path)
        if theirs is None:
            raise PresetError(
                f"`{path}`: layer `{layer_path}` of "
                f"`{type(model).__name__}` has no KerasHub counterpart in "
                "the family's table, so the file cannot be read or written "
                "for this model (LoRA or quantized models are not supported "
                "in this format)."
            )
        plan.append((f"layers/{theirs}/vars", variables))
    return plan


# === Reading ===


def is_keras_layout(path):
    """Whether a `.weights.h5` file is in Keras' object-tree layout (as
    KerasHub writes), i.e. has a top-level `layers` group and no `format`
    attribute of ours.

    Args:
        path: str. The file.

    Returns:
        bool; `False` for a file that cannot be opened as HDF5.
    """
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return "format" not in f.attrs and "layers" in f
    except OSError:
        return False


def _read_plan(plan, path, skip_prefixes=("optimizer",)):
    """Reads every variable's array; raises before assigning anything."""
    import h5py
    import numpy as np

    problems = []
    values = []
    try:
        with h5py.File(path, "r") as f:
            used = set()
            for group, variables in plan:
                for i, variable in enumerate(variables):
                    name = f"{group}/{i}"
                    dataset = f.get(name)
                    if not isinstance(dataset, h5py.Dataset):
                        problems.append(f"`{name}` (for `{variable.path}`) is missing")
                        continue
                    if tuple(dataset.shape) != tuple(variable.shape):
                        problems.append(
                            f"`{name}` has shape {tuple(dataset.shape)}, "
                            f"`{variable.path}` has {tuple(variable.shape)}"
                        )
                        continue
                    used.add(name)
                    values.append((variable, np.asarray(dataset[()])))
                if len(problems) > 5:
                    break
            extra = []
            f.visititems(
                lambda n, o: extra.append(n)
                if isinstance(o, h5py.Dataset)
                and n not in used
                and not n.startswith(tuple(skip_prefixes))
                else None
            )
    except OSError as e:
        raise PresetError(
            f"Could not load weights from `{path}`: it is damaged or not an "
            f"HDF5 weights file ({short_message(e)}). Re-save the preset or "
            "download it again."
        ) from e
    if extra and not problems:
        problems.append(
            f"the file holds arrays the model has no place for: {extra[:5]}"
        )
    if problems:
        raise PresetError(
            f"Could not load weights from `{path}` (KerasHub / Keras layout) "
            f"into this model: {'; '.join(problems[:5])}. The file was saved from "
            "a model of another config or family; nothing was loaded."
        )
    return values


def load_backbone_weights(backbone, path):
    """Loads a KerasHub `model.weights.h5` into one of our backbones.

    Args:
        backbone: a built backbone of a family with a KerasHub table.
        path: str. The weights file.

    Raises:
        PresetError: naming `path`, when the file is damaged, lacks a
            variable, has a wrong shape or holds arrays the model has no
            place for. Nothing is assigned then.
    """
    family = _family_for(backbone)
    plan = _layer_table(backbone, [backbone], family.backbone_layers, path)
    for variable, value in _read_plan(plan, path):
        variable.assign(value)


def _head_pairs(task, path):
    family = _family_for(task)
    for cls in type(task).__mro__:
        if cls.__name__ in family.refused_tasks:
            raise PresetError(
                f"`{path}`: `{type(task).__name__}` cannot be read or written "
                f"in KerasHub's format: {family.refused_tasks[cls.__name__]}"
            )
        if cls.__name__ in family.head_layers:
            return family.head_layers[cls.__name__]
    raise PresetError(
        f"`{path}`: `{type(task).__name__}` has no KerasHub head layout here."
    )


def _backbone_layer_ids(task):
    return {id(layer) for layer in task.backbone._flatten_layers()}


def _head_layers(task):
    """The task's own layers with weights (not the backbone's, some of which
    a task may call directly, as a tied embedding)."""
    backbone_layers = {id(layer) for layer in task.backbone._flatten_layers()}
    return [
        layer
        for layer in task.layers
        if id(layer) not in backbone_layers
        and layer is not task.preprocessor
        and layer.weights
    ]


def load_task_weights(task, path):
    """Loads a KerasHub `task.weights.h5` into the head layers of a task.

    Args:
        task: one of our tasks.
        path: str. The file.

    Raises:
        PresetError: as `load_backbone_weights`.
    """
    plan = _layer_table(
        task,
        _head_layers(task),
        _head_pairs(task, path),
        path,
        skip=_backbone_layer_ids(task),
    )
    for variable, value in _read_plan(plan, path):
        variable.assign(value)


def _rename_classes(config, mapping, path):
    """Rewrites registered class references of a serialized config."""
    if isinstance(config, list):
        return [_rename_classes(v, mapping, path) for v in config]
    if not isinstance(config, dict):
        return config
    config = {k: _rename_classes(v, mapping, path) for k, v in config.items()}
    registered = config.get("registered_name")
    if isinstance(registered, str) and ">" in registered:
        config = mapping(config, path)
    return config


def config_from_keras_hub(config):
    """Our backbone config for a backbone config written by KerasHub.

    Sets the entries the family declares for KerasHub (e.g. BERT's
    `intermediate_activation="gelu_approximate"`); any other config is
    returned unchanged.

    Args:
        config: dict. A serialized backbone config (`config.json`).

    Returns:
        dict.
    """
    if not isinstance(config, dict):
        return config
    registered = str(config.get("registered_name") or "")
    package, _, name = registered.partition(">")
    if package != KERAS_HUB_PACKAGE:
        return config
    family = _FAMILIES.get(name)
    if family is None or name not in family.config_from_keras_hub:
        return config
    config = dict(config)
    inner = dict(config.get("config") or {})
    for key, value in family.config_from_keras_hub[name].items():
        inner.setdefault(key, value)
    config["config"] = inner
    return config


# === Writing ===


def _to_keras_hub_config(config, path):
    """Rewrites one registered reference of ours to KerasHub's class."""
    from keras_nlp_clone.api_export import PACKAGE
    from keras_nlp_clone.api_export import get_registered_class

    package, _, name = config["registered_name"].partition(">")
    if package != PACKAGE:
        return config
    cls = get_registered_class(config["registered_name"])
    family = None
    for candidate in _FAMILIES.values():
        if name in candidate.classes:
            family = candidate
            break
    if family is None or cls is None:
        raise PresetError(
            f"`{path}`: `{name}` has no KerasHub counterpart; presets in "
            f"KerasHub's format can hold the classes of "
            f"{sorted(_FAMILIES)} families."
        )
    their_name, module = family.classes[name]
    inner = dict(config.get("config") or {})
    for key, theirs in family.config_to_keras_hub.get(name, {}).items():
        if key in inner:
            value = inner.pop(key)
            if value != theirs:
                warnings.warn(
                    f"`{path}`: `{name}` has {key}={value!r}; KerasHub's "
                    f"`{their_name}` has no such argument and always computes"
                    f" {key}={theirs!r}, so its outputs will differ slightly"
                    " from this model's.",
                    stacklevel=4,
                )
    for key in ("compile_config", "build_config"):
        inner.pop(key, None)
    return {
        "module": module,
        "class_name": their_name,
        "config": inner,
        "registered_name": f"{KERAS_HUB_PACKAGE}>{their_name}",
    }


def _write_config(obj, preset_dir, filename):
    import keras

    path = os.path.join(preset_dir, filename)
    config = keras.saving.serialize_keras_object(obj)
    config = _rename_classes(config, _to_keras_hub_config, path)
    for key in ("compile_config", "build_config"):
        config.pop(key, None)
    atomic_write_text(path, json.dumps(config, indent=4))


def _write_h5(plan, path):
    import h5py
    import keras

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            for group, variables in plan:
                for i, variable in enumerate(variables):
                    f.create_dataset(
                        f"{group}/{i}", data=keras.ops.convert_to_numpy(variable)
                    )

    atomic_save(path, write)


def _write_metadata(backbone, preset_dir, tasks):
    import keras

    import keras_nlp_clone

    metadata = {
        "keras_version": keras.version(),
        "keras_hub_version": KERAS_HUB_VERSION,
        "keras_nlp_clone_version": keras_nlp_clone.__version__,
        "parameter_count": int(backbone.count_params()),
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "tasks": tasks,
    }
    atomic_write_text(
        os.path.join(preset_dir, METADATA_FILE), json.dumps(metadata, indent=4)
    )


def _save_backbone(backbone, preset_dir):
    family = _family_for(backbone)
    path = os.path.join(preset_dir, MODEL_WEIGHTS_FILE)
    plan = _layer_table(backbone, [backbone], family.backbone_layers, path)
    _write_config(backbone, preset_dir, CONFIG_FILE)
    _write_h5(plan, path)
    tasks = sorted({_task_base(_registered(name)) for name in family.head_layers})
    _write_metadata(backbone, preset_dir, tasks)


def _task_base(cls):
    """The task base class name (`TextClassifier`, `MaskedLM`, ...) of a
    task class, skipping a family's class another subclasses
    (`XLMRobertaMaskedLM` -> `RobertaMaskedLM` -> `MaskedLM`)."""
    for base in cls.__mro__[1:]:
        if base.__module__.count(".") == 2 and base.__module__.startswith(
            "keras_nlp_clone.models."
        ):
            return base.__name__
    return cls.__mro__[1].__name__


def _registered(name):
    from keras_nlp_clone.api_export import get_registered_class

    return get_registered_class(name)


def _save_tokenizer(tokenizer, preset_dir):
    _write_config(
        tokenizer, preset_dir, getattr(tokenizer, "config_file", TOKENIZER_CONFIG_FILE)
    )
    asset_dir = os.path.join(preset_dir, TOKENIZER_ASSET_DIR)
    os.makedirs(asset_dir, exist_ok=True)
    tokenizer.save_assets(asset_dir)


def _save_preprocessor(preprocessor, preset_dir):
    _write_config(
        preprocessor,
        preset_dir,
        getattr(preprocessor, "config_file", PREPROCESSOR_CONFIG_FILE),
    )
    _save_tokenizer(preprocessor.tokenizer, preset_dir)


def _save_task(task, preset_dir):
    path = os.path.join(preset_dir, TASK_WEIGHTS_FILE)
    layers = _head_layers(task)
    pairs = _head_pairs(task, path)
    plan = (
        _layer_table(task, layers, pairs, path, skip=_backbone_layer_ids(task))
        if layers
        else []
    )
    _write_config(task, preset_dir, TASK_CONFIG_FILE)
    if plan:
        # KerasHub's compiled task holds an unbuilt optimizer with two
        # variables (iterations, learning rate) and looks for them here.
        optimizer = getattr(task, "optimizer", None)
        variables = list(getattr(optimizer, "variables", []))[:2]
        if len(variables) == 2:
            plan.append(("optimizer/vars", variables))
        _write_h5(plan, path)
    elif os.path.exists(path):
        os.remove(path)
    _save_backbone(task.backbone, preset_dir)
    if task.preprocessor is not None:
        _save_preprocessor(task.preprocessor, preset_dir)


_SAVERS = {
    "backbone": _save_backbone,
    "task": _save_task,
    "preprocessor": _save_preprocessor,
    "tokenizer": _save_tokenizer,
}


def save_keras_hub_preset(obj, preset_dir, kind):
    """Writes `obj` as a preset in KerasHub's format.

    `keras_hub.models.<Class>.from_preset(preset_dir)` then builds KerasHub's
    counterpart of `obj` with the same weights (configs name `keras_hub>`
    classes and modules; weights in Keras' layout with KerasHub's object
    paths; tokenizer assets under `assets/tokenizer/`; `metadata.json` with
    `keras_hub_version`). Our own `from_preset` reads the directory too.
    Called by `save_to_preset(..., format="keras_hub")` of backbones, tasks,
    preprocessors and tokenizers.

    Args:
        obj: a backbone, task, preprocessor or tokenizer of a family with a
            KerasHub table (BERT, DistilBERT, RoBERTa, XLM-RoBERTa, GPT-2,
            BART).
        preset_dir: str. Directory to write; created if needed.
        kind: str. `"backbone"`, `"task"`, `"preprocessor"` or
            `"tokenizer"`: what `obj` is.

    Raises:
        PresetError: `obj` (or a class it holds) has no KerasHub counterpart.

    Example:
    >>> backbone = keras_nlp_clone.models.GPT2Backbone(
    ...     vocabulary_size=10, num_layers=1, num_heads=2, hidden_dim=4,
    ...     intermediate_dim=8, max_sequence_length=8)
    >>> backbone.save_to_preset(preset_dir, format="keras_hub")
    """
    os.makedirs(preset_dir, exist_ok=True)
    _SAVERS[kind](obj, preset_dir)


def check_format(format):
    """Raises a `ValueError` naming `format` unless it is a known format.

    Args:
        format: str. `"keras_nlp_clone"` or `"keras_hub"`.
    """
    if format not in FORMATS:
        raise ValueError(
            f"`format` must be one of {FORMATS}. Received: format={format!r}."
        )

