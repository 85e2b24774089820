"""The base class of all tokenizers."""

import os

import numpy as np

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.preprocessing_layer import PreprocessingLayer
from keras_nlp_clone.presets.files import TOKENIZER_ASSET_DIR
from keras_nlp_clone.presets.files import TOKENIZER_CONFIG_FILE
from keras_nlp_clone.presets.loader import get_preset_loader
from keras_nlp_clone.presets.registry import classproperty
from keras_nlp_clone.presets.registry import presets_for_class
from keras_nlp_clone.presets.saver import save_serialized_object
from keras_nlp_clone.presets.saver import saves_preset
from keras_nlp_clone.utils.tensor_utils import is_int_dtype
from keras_nlp_clone.utils.tensor_utils import is_string_dtype


def check_output_dtype(dtype, allow_string=True, owner="The tokenizer"):
    """Checks a tokenizer's output `dtype`: an integer type for token ids
    or, when `allow_string`, `"string"` for token strings.

    Raises:
        ValueError: any other dtype, with the accepted ones.
    """
    dtype_name = str(getattr(dtype, "name", dtype))
    try:
        valid = is_int_dtype(dtype_name) or (
            allow_string and is_string_dtype(dtype_name)
        )
    except (ValueError, TypeError):
        valid = False
    if not valid:
        accepted = (
            'an integer type (for token ids) or "string" (for token strings)'
            if allow_string
            else 'an integer type, e.g. "int32"'
        )
        raise ValueError(
            f"`dtype` must be {accepted} in {owner}. Received: dtype={dtype!r}"
        )


def check_sequence_length(sequence_length):
    """Checks `sequence_length`: a positive int or `None`.

    Raises:
        ValueError: anything else (bools, floats, zero, negatives).
    """
    if sequence_length is not None and (
        isinstance(sequence_length, bool)
        or not isinstance(sequence_length, (int, np.integer))
        or sequence_length <= 0
    ):
        raise ValueError(
            "`sequence_length` must be a positive int or `None`. "
            f"Received: sequence_length={sequence_length!r}"
        )


@keras_nlp_clone_export
class Tokenizer(PreprocessingLayer):
    """Base class for tokenizers: strings in, token ids out, and back.

    A tokenizer is a `keras.layers.Layer` that maps strings to token ids
    (`tokenize`, also `__call__`) and token ids back to strings
    (`detokenize`). It works eagerly under every Keras backend and inside
    `tf.data.Dataset.map`.

    Subclasses implement `tokenize`, `detokenize`, `get_vocabulary`,
    `vocabulary_size`, `id_to_token` and `token_to_id`, and, when they have
    vocabulary files, `save_assets` and `load_assets`.

    Special tokens are declared with `_add_special_token(token, name)`. Each
    becomes an attribute `name` holding the token string and, once the
    vocabulary is set, `name + "_id"` holding its id; e.g. a tokenizer that
    declares `self._add_special_token("[CLS]", "cls_token")` exposes
    `cls_token_id`.

    Args:
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Examples:
    >>> tokenizer = keras_nlp_clone.models.BertTokenizer.from_preset(
    ...     "all_minilm_l6_v2_en")
    >>> tokenizer("The quick brown fox.")
    [1996, 4248, 2829, 4419, 1012]
    """

    backbone_cls = None

    def __init__(self, *args, **kwargs):
        self.config_file = kwargs.pop(
            "config_file", TOKENIZER_CONFIG_FILE
        )
        super().__init__(*args, **kwargs)
        self.file_assets = None
        if "_special_token_names" not in self.__dict__:
            object.__setattr__(self, "_special_token_names", [])

    # === Special tokens ===

    def _add_special_token(self, token, name):
        """Declares `token` as the special token exposed as `self.<name>`.

        May be called before `__init__` (subclasses declare their tokens
        before the base constructor loads the vocabulary).
        """
        object.__setattr__(self, name, token)
        if "_special_token_names" not in self.__dict__:
            object.__setattr__(self, "_special_token_names", [])
        if name not in self._special_token_names:
            self._special_token_names.append(name)

    @property
    def special_tokens(self):
        """The declared special token strings, in declaration order."""
        return [getattr(self, name) for name in self._special_token_names]

    @property
    def special_token_ids(self):
        """The ids of `special_tokens` (requires a vocabulary)."""
        return [getattr(self, f"{name}_id") for name in self._special_token_names]

    def _update_special_token_ids(self):
        """Sets `<name>_id` for every special token; call after vocab loads.

        Raises:
            ValueError: when a special token is missing from the vocabulary.
        """
        for name in self._special_token_names:
            token = getattr(self, name)
            if token is None:
                object.__setattr__(self, f"{name}_id", None)
                continue
            token_id = self.token_to_id(token)
            if token_id is None:
                raise ValueError(
                    f"Special token `{name}`={token!r} is not in the "
                    f"vocabulary of {self.__class__.__name__}. Add it to the "
                    "vocabulary, or pass a vocabulary that contains it."
                )
            object.__setattr__(self, f"{name}_id", token_id)

    # === Abstract interface ===

    def tokenize(self, inputs, *args, **kwargs):
        """Maps strings to token ids. Implemented by subclasses."""
        raise NotImplementedError(
            f"{self.__class__.__name__} does not implement `tokenize()`."
        )

    def detokenize(self, inputs, *args, **kwargs):
        """Maps token ids to strings. Implemented by subclasses."""
        raise NotImplementedError(
            f"{self.__class__.__name__} does not implement `detokenize()`."
        )

    def get_vocabulary(self):
        """Returns the vocabulary as a list of token strings, by id."""
        raise NotImplementedError(
            f"{self.__class__.__name__} does not implement `get_vocabulary()`."
        )

    def vocabulary_size(self):
        """Returns the number of tokens in the vocabulary."""
        raise NotImplementedError(
            f"{self.__class__.__name__} does not implement "
            "`vocabulary_size()`."
        )

    def id_to_token(self, id):
        """Returns the token string for integer `id`."""
        raise NotImplementedError(
            f"{self.__class__.__name__} does not implement `id_to_token()`."
        )

    def token_to_id(self, token):
        """Returns the integer id of `token`."""
        raise NotImplementedError(
            f"{self.__class__.__name__} does not implement `token_to_id()`."
        )

    def call(self, inputs, *args, training=None, **kwargs):
        return self.tokenize(inputs, *args, **kwargs)

    # === Assets and presets ===

    def save_assets(self, dir_path):
        """Writes the tokenizer's vocabulary files into `dir_path`."""
        pass

    def load_assets(self, dir_path):
        """Reads the tokenizer's vocabulary files from `dir_path`."""
        pass

    @saves_preset
    def save_to_preset(self, preset_dir, format="keras_nlp_clone"):
        """Saves the tokenizer config and assets into a preset directory.

        Writes `<preset_dir>/tokenizer.json` and the vocabulary files under
        `<preset_dir>/assets/tokenizer/`. Files are written atomically.

        Args:
            preset_dir: str. The preset directory, created if needed.
            format: str. `"keras_nlp_clone"` (this library's layout) or
                `"keras_hub"` (KerasHub's: `keras_hub>` class names, its
                modules and assets, loadable by `keras_hub` 0.32's
                `from_preset` and by ours). Defaults to `"keras_nlp_clone"`.
        """
        if format != "keras_nlp_clone":
            from keras_nlp_clone.presets import keras_hub_format

            keras_hub_format.check_format(format)
            return keras_hub_format.save_keras_hub_preset(
                self, preset_dir, kind="tokenizer"
            )
        save_serialized_object(
            self, preset_dir, config_file=self.config_file
        )
        asset_dir = os.path.join(preset_dir, TOKENIZER_ASSET_DIR)
        os.makedirs(asset_dir, exist_ok=True)
        self.save_assets(asset_dir)

    def export_to_transformers(self, path):
        """Exports the tokenizer as Hugging Face `transformers` tokenizer
        files.

        Writes the vocabulary files (e.g. `vocab.txt` for WordPiece,
        `sentencepiece.bpe.model` for XLM-RoBERTa),
        `tokenizer_config.json` and `special_tokens_map.json` into a new
        directory that `transformers.AutoTokenizer.from_pretrained` loads
        to a tokenizer giving the same ids. The files go to a temporary
        directory renamed to `path` at the end.

        Args:
            path: str. The directory to create; it must not exist or be an
                empty directory.

        Raises:
            ValueError: the tokenizer class has no exporter (the message
                lists the supported classes), or `path` is a file or a
                non-empty directory.

        Examples:
        >>> tokenizer = keras_nlp_clone.models.BertTokenizer.from_preset(
        ...     "all_minilm_l6_v2_en")
        >>> tokenizer.export_to_transformers("/tmp/minilm_tokenizer")
        >>> import transformers
        >>> hf = transformers.AutoTokenizer.from_pretrained(
        ...     "/tmp/minilm_tokenizer")
        >>> hf("The quick brown fox.", add_special_tokens=False)["input_ids"]
        [1996, 4248, 2829, 4419, 1012]
        """
        from keras_nlp_clone.presets import hf_export

        hf_export.export_to_transformers(self, path)

    @classmethod
    def from_preset(cls, preset, config_file="tokenizer.json", **kwargs):
        """Instantiates a tokenizer from a preset.

        Args:
            preset: str. A built-in preset id (see `presets`), a local preset
                directory, a local Hugging Face checkpoint directory, an
                `hf://owner/name` handle or a `kaggle://...` handle.
            config_file: str. The config file to read in the preset.
                Defaults to `"tokenizer.json"`.
            **kwargs: overrides of the saved config (e.g.
                `sequence_length`).

        Returns:
            A tokenizer. Called on the base class, the concrete class saved
            in the preset; called on a subclass, that subclass.

        Raises:
            ValueError: for an unknown preset id or a preset of another
                model family.
            FileNotFoundError: when the preset lacks a required file.
        """
        loader = get_preset_loader(preset)
        return loader.load_tokenizer(cls, config_file, **kwargs)

    @classproperty
    def presets(cls):
        """Dict of built-in preset ids usable with this class's
        `from_preset`, mapped to their metadata."""
        return presets_for_class(cls)

    def get_config(self):
        config = super().get_config()
        config.pop("trainable", None)
        config["config_file"] = self.config_file
        return config
