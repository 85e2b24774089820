"""Writing preset files: atomic writes, configs and metadata."""

import datetime
import json
import os
import tempfile

from keras_nlp_clone.presets.files import METADATA_FILE


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
