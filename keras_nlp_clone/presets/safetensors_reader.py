"""Reading tensors from a Hugging Face checkpoint (safetensors only)."""

import difflib
import json
import os

from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.errors import short_message


class SafetensorsReader:
    """Reads tensors by name from a Hugging Face checkpoint directory.

    Handles a single `model.safetensors` or a sharded checkpoint with
    `model.safetensors.index.json`. Tensors are returned as float32 NumPy
    arrays. Used as a context manager; records which tensors were read so
    a converter can check that none was left over.

    Raises:
        FileNotFoundError: no safetensors file.
        PresetError: only a `pytorch_model.bin` (pickle, which can execute
            code) is there; it is refused, never opened.
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
            pickled = [
                name
                for name in ("pytorch_model.bin", "pytorch_model.bin.index.json")
                if os.path.exists(os.path.join(preset_dir, name))
            ]
            if pickled:
                raise PresetError(
                    f"No `model.safetensors` in `{preset_dir}`; it has "
                    f"`{pickled[0]}`, which is refused: PyTorch checkpoints "
                    "are pickle files, and unpickling can execute code. "
                    "Convert it where you trust the file, with `transformers`"
                    " (`AutoModel.from_pretrained(path).save_pretrained(path,"
                    " safe_serialization=True)`), then load the directory."
                )
            raise FileNotFoundError(
                f"No `model.safetensors` in `{preset_dir}`."
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
                    f"or not a safetensors file ({short_message(e)})."
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
