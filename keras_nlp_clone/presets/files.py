"""The files of a preset directory, and reading them.

A preset is a directory holding everything needed to rebuild a tokenizer,
preprocessor, backbone or task:

    config.json                  backbone class and constructor arguments
    model.weights.h5             backbone weights (see `weights_file.py`)
    tokenizer.json               tokenizer class and arguments
    assets/tokenizer/...         vocabulary files
    preprocessor.json            preprocessor class and arguments (optional)
    task.json                    task class and arguments (task presets only)
    task.weights.h5              weights of the task's own head layers
    metadata.json                versions and parameter count
"""

import json
import os

from keras_nlp_clone.presets.errors import PresetError

CONFIG_FILE = "config.json"
TOKENIZER_CONFIG_FILE = "tokenizer.json"
PREPROCESSOR_CONFIG_FILE = "preprocessor.json"
TASK_CONFIG_FILE = "task.json"
METADATA_FILE = "metadata.json"
MODEL_WEIGHTS_FILE = "model.weights.h5"
TASK_WEIGHTS_FILE = "task.weights.h5"
TOKENIZER_ASSET_DIR = os.path.join("assets", "tokenizer")


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
