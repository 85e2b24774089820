"""The base class of all preprocessors."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.preprocessing_layer import PreprocessingLayer
from keras_nlp_clone.presets.files import PREPROCESSOR_CONFIG_FILE
from keras_nlp_clone.presets.loader import get_preset_loader
from keras_nlp_clone.presets.registry import classproperty
from keras_nlp_clone.presets.registry import presets_for_class
from keras_nlp_clone.presets.saver import save_serialized_object
from keras_nlp_clone.presets.saver import saves_preset


@keras_nlp_clone_export
class Preprocessor(PreprocessingLayer):
    """Base class for preprocessors: raw inputs to a backbone's input dict.

    A preprocessor holds a tokenizer and turns raw strings (and labels) into
    the dict of dense tensors a backbone takes, e.g. `token_ids`,
    `segment_ids` and `padding_mask`. Its `call(x, y=None,
    sample_weight=None)` returns `x` alone or the tuple `(x, y,
    sample_weight)` (as `keras.utils.pack_x_y_sample_weight`), so that it
    can be mapped over a `tf.data.Dataset` of `(text, label)` pairs.

    Subclasses set the class attributes `backbone_cls` and `tokenizer_cls`,
    and assign the tokenizer to `self.tokenizer` in their constructor.

    Args:
        **kwargs: passed to `keras.layers.Layer`.

    Examples:
    >>> preprocessor = keras_nlp_clone.models.TextClassifierPreprocessor \\
    ...     .from_preset("all_minilm_l6_v2_en", sequence_length=16)
    >>> preprocessor(["Hello world!"])["token_ids"].shape
    (1, 16)
    """

    backbone_cls = None
    tokenizer_cls = None

    def __init__(self, *args, **kwargs):
        self.config_file = kwargs.pop(
            "config_file", PREPROCESSOR_CONFIG_FILE
        )
        super().__init__(*args, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("trainable", None)
        config["tokenizer"] = keras.layers.serialize(self.tokenizer)
        config["config_file"] = self.config_file
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("tokenizer"), dict):
            config["tokenizer"] = keras.layers.deserialize(config["tokenizer"])
        return cls(**config)

    @classproperty
    def presets(cls):
        """Dict of built-in preset ids usable with this class's
        `from_preset`, id -> metadata."""
        return presets_for_class(cls)

    @classmethod
    def from_preset(cls, preset, config_file="preprocessor.json", **kwargs):
        """Instantiates a preprocessor from a preset.

        When the preset holds a saved preprocessor of a compatible class
        (`preprocessor.json`), it is restored with `kwargs` overriding its
        config; otherwise a new one is built around the preset's tokenizer.

        Args:
            preset: str. A built-in preset id, a local preset or Hugging Face
                directory, `hf://owner/name` or `kaggle://...`.
            config_file: str. Defaults to `"preprocessor.json"`.
            **kwargs: constructor overrides, e.g. `sequence_length=128`.

        Returns:
            A preprocessor; called on a base class such as
            `TextClassifierPreprocessor`, the family's subclass.

        Raises:
            keras_nlp_clone.presets.errors.PresetError: unknown id or
                a preset of another family.
        """
        loader = get_preset_loader(preset)
        return loader.load_preprocessor(cls, config_file, **kwargs)

    @saves_preset
    def save_to_preset(self, preset_dir, format="keras_nlp_clone"):
        """Writes `preprocessor.json` and the tokenizer (config and assets)
        into `preset_dir`, atomically file by file.

        Args:
            preset_dir: str. The preset directory, created if needed.
            format: str. `"keras_nlp_clone"` or `"keras_hub"` (KerasHub's
                layout, see `Backbone.save_to_preset`). Defaults to
                `"keras_nlp_clone"`.
        """
        if format != "keras_nlp_clone":
            from keras_nlp_clone.presets import keras_hub_format

            keras_hub_format.check_format(format)
            return keras_hub_format.save_keras_hub_preset(
                self, preset_dir, kind="preprocessor"
            )
        save_serialized_object(
            self, preset_dir, config_file=self.config_file
        )
        self.tokenizer.save_to_preset(preset_dir)
