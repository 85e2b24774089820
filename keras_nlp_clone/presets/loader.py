"""Loading the parts of a preset: the loader of each preset format.

`get_preset_loader(handle)` resolves the handle and picks the loader:
`KerasPresetLoader` for this library's own presets, `HFPresetLoader` for a
Hugging Face checkpoint directory (through the converter registered for its
`model_type`).
"""

import os

from keras_nlp_clone.presets.config_safety import check_config_is_safe
from keras_nlp_clone.presets.config_safety import config_class
from keras_nlp_clone.presets.config_safety import deserialize
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.errors import short_message
from keras_nlp_clone.presets.files import CONFIG_FILE
from keras_nlp_clone.presets.files import MODEL_WEIGHTS_FILE
from keras_nlp_clone.presets.files import PREPROCESSOR_CONFIG_FILE
from keras_nlp_clone.presets.files import TASK_CONFIG_FILE
from keras_nlp_clone.presets.files import TASK_WEIGHTS_FILE
from keras_nlp_clone.presets.files import TOKENIZER_ASSET_DIR
from keras_nlp_clone.presets.files import TOKENIZER_CONFIG_FILE
from keras_nlp_clone.presets.files import load_json
from keras_nlp_clone.presets.handles import resolve_preset_dir
from keras_nlp_clone.presets.integrity import FileChecker
from keras_nlp_clone.presets.registry import HF_CONVERTERS
from keras_nlp_clone.presets.registry import backbone_name_of
from keras_nlp_clone.presets.registry import find_subclass
from keras_nlp_clone.presets.safetensors_reader import SafetensorsReader
from keras_nlp_clone.presets.weights_file import WeightsFile


def _check_family(cls, backbone_name, preset_dir, source=CONFIG_FILE):
    requested = backbone_name_of(cls)
    if requested is not None and requested != backbone_name:
        raise PresetError(
            f"The preset at `{preset_dir}` is a `{backbone_name}` preset "
            f"(its `{source}` names `{backbone_name}`) and cannot be loaded "
            f"into `{cls.__name__}`, whose backbone is `{requested}`. Use the "
            f"`from_preset` of a `{backbone_name[:-8]}` class, or of a base "
            "class such as `keras_nlp_clone.models.Backbone`; if that file "
            "was copied from another preset by mistake, restore it."
        )


class PresetLoader:
    """Loads the parts of a preset directory. Subclasses differ in format."""

    def __init__(self, preset_dir):
        self.preset_dir = preset_dir
        # The file that names the preset's family (for error messages).
        self._family_source = CONFIG_FILE

    def check_file(self, relpath):
        """Checks a file against the preset's integrity record before it is
        read (see `integrity.py`); formats without records check nothing."""

    def check_tree(self, reldir):
        """Checks every recorded file below `reldir` (see `check_file`)."""

    def _read_json(self, filename, required=True):
        self.check_file(filename)
        return load_json(self.preset_dir, filename, required=required)

    def _load_assets(self, tokenizer):
        """Reads the tokenizer's vocabulary files from the preset's assets;
        any failure becomes a `PresetError` naming the directory."""
        self.check_tree(TOKENIZER_ASSET_DIR)
        asset_dir = os.path.join(self.preset_dir, TOKENIZER_ASSET_DIR)
        try:
            tokenizer.load_assets(asset_dir)
        except PresetError:
            raise
        except Exception as e:
            present = sorted(os.listdir(asset_dir)) if os.path.isdir(asset_dir) else []
            raise PresetError(
                f"Could not read the vocabulary of `{type(tokenizer).__name__}`"
                f" from `{asset_dir}` ({type(e).__name__}: {short_message(e, 600)})."
                f" Files present: {present}. The preset is incomplete or "
                "damaged: download it again or re-save it with "
                "`save_to_preset`."
            ) from e
        return tokenizer

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
        _check_family(cls, name, self.preset_dir, self._family_source)
        config = self._read_json(config_file, required=False)
        if config is not None:
            saved_cls = config_class(config, config_file)
            if issubclass(saved_cls, cls):
                preprocessor = deserialize(config, config_file, **kwargs)
                self._load_assets(preprocessor.tokenizer)
                return preprocessor
        cls = find_subclass(cls, name)
        tokenizer = self.load_tokenizer(cls.tokenizer_cls)
        return cls(tokenizer=tokenizer, **kwargs)

    def load_task(self, cls, load_weights=True, **kwargs):
        """Loads a task: the saved one when the preset has a compatible
        `task.json` (head weights included), else a new task on the
        preset's backbone and preprocessor."""
        name = self.backbone_name()
        _check_family(cls, name, self.preset_dir, self._family_source)
        config = self._read_json(TASK_CONFIG_FILE, required=False)
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
                self.check_file(TASK_WEIGHTS_FILE)
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
    """Loads presets in this library's own format (see `files.py`)."""

    def __init__(self, preset_dir, config):
        from keras_nlp_clone.presets.keras_hub_format import config_from_keras_hub

        super().__init__(preset_dir)
        self.checker = FileChecker(preset_dir)
        # A KerasHub config may need entries KerasHub's class implies.
        self.config = config = config_from_keras_hub(config)
        if config is not None:
            check_config_is_safe(config, CONFIG_FILE)
            self._backbone_name = config_class(config, CONFIG_FILE).__name__
        else:
            # A tokenizer-only (or preprocessor-only) preset: the family is
            # that of the saved tokenizer.
            self._family_source = TOKENIZER_CONFIG_FILE
            tokenizer_config = self._read_json(TOKENIZER_CONFIG_FILE)
            self._backbone_name = backbone_name_of(
                config_class(tokenizer_config, TOKENIZER_CONFIG_FILE)
            )

    def backbone_name(self):
        return self._backbone_name

    def check_file(self, relpath):
        self.checker.check(relpath)

    def check_tree(self, reldir):
        self.checker.check_tree(reldir)

    def load_backbone(self, cls, load_weights=True, **kwargs):
        if self.config is None:
            load_json(self.preset_dir, CONFIG_FILE)  # raises, listing files
        _check_family(cls, self.backbone_name(), self.preset_dir)
        self.check_file(CONFIG_FILE)
        if not load_weights:
            return deserialize(self.config, CONFIG_FILE, **kwargs)
        path = os.path.join(self.preset_dir, MODEL_WEIGHTS_FILE)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"The preset at `{self.preset_dir}` has no "
                f"`{MODEL_WEIGHTS_FILE}`. Pass `load_weights=False` for a "
                "randomly initialised model, or re-save the preset."
            )
        # Variables start from the file's values (views of the file read once,
        # see `WeightsFile`), so no random initial values are drawn and
        # nothing is assigned twice; those a mismatch leaves unfilled are
        # assigned (or the mismatch raises) in `load_into`. Building
        # allocates many small objects; pausing the cyclic garbage collector
        # meanwhile avoids full collections that cost more than the build.
        # Hash the weights while the model is built (hashing releases the
        # GIL); the result is checked before any value is used.
        self.checker.check_in_background(MODEL_WEIGHTS_FILE)
        with WeightsFile(path) as weights, _gc_paused():
            with weights.initialize_variables() as init:
                backbone = deserialize(self.config, CONFIG_FILE, **kwargs)
            self.check_file(MODEL_WEIGHTS_FILE)  # waits for the hash
            weights.load_into(backbone, skip_ids=init.initialized)
        return backbone

    def load_tokenizer(self, cls, config_file=TOKENIZER_CONFIG_FILE, **kwargs):
        _check_family(cls, self.backbone_name(), self.preset_dir, self._family_source)
        config = self._read_json(config_file)
        saved_cls = config_class(config, config_file)
        if not issubclass(saved_cls, cls):
            raise PresetError(
                f"`{config_file}` in `{self.preset_dir}` holds a "
                f"`{saved_cls.__name__}`, not a `{cls.__name__}`."
            )
        tokenizer = deserialize(config, config_file, **kwargs)
        return self._load_assets(tokenizer)


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
        config_path = os.path.join(self.preset_dir, CONFIG_FILE)
        try:
            backbone_config = self.converter.convert_backbone_config(self.hf_config)
        except PresetError:
            raise
        except (KeyError, TypeError, ValueError) as e:
            # A missing key or a value of the wrong type in `config.json`.
            raise PresetError(
                f"`{config_path}` cannot be read as a Hugging Face "
                f"{self.backbone_name()} config: {type(e).__name__}: {e}. The "
                "file is damaged or incomplete: fix it or download the "
                "checkpoint again."
            ) from e
        backbone_config.update(kwargs)
        try:
            backbone = backbone_cls(**backbone_config)
        except ValueError as e:
            if isinstance(e, PresetError) or any(f"`{name}`" in str(e) for name in kwargs):
                raise  # The caller's own override is at fault.
            raise PresetError(
                f"`{config_path}` gives {self.backbone_name()} an invalid "
                f"value: {e}"
            ) from e
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
        if backbone_name_of(cls) is None:
            backbone_cls = get_registered_class(self.backbone_name())
            cls = find_subclass(cls, backbone_cls.__name__)
        return self.converter.convert_tokenizer(
            cls, self.preset_dir, self.hf_config, **kwargs
        )


def get_preset_loader(preset):
    """Resolves `preset` and returns the loader for its format.

    Raises:
        PresetError / PresetNotAvailableError / FileNotFoundError: see
            `resolve_preset_dir` and `load_json`.
    """
    # Families register their converters when `keras_nlp_clone` is imported
    # (which any `from_preset` caller has done), so nothing is imported here.
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
