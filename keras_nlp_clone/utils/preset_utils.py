"""Preset resolution, loading and saving (work in progress)."""

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


class classproperty(property):
    """A read-only property computed on the class."""

    def __get__(self, _, owner_cls):
        return self.fget(owner_cls)


def atomic_write_text(path, text):
    """Writes `text` to `path` via a temporary file and `os.replace`."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp_")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_serialized_object(obj, preset_dir, config_file):
    import keras

    config = keras.saving.serialize_keras_object(obj)
    atomic_write_text(
        os.path.join(preset_dir, config_file), json.dumps(config, indent=4)
    )


def presets_for_class(cls):
    return {}


def get_preset_loader(preset):
    raise NotImplementedError
