"""The weights file of a preset (`model.weights.h5`).

Weights are read from HDF5, never pickle.
"""

from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.errors import short_message

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
    other `.weights.h5` files (Keras' own layout, e.g. KerasHub presets) are
    read by the family's KerasHub name table (`keras_hub_format.py`).
    `value_for` serves the stored value of a variable by its path, so
    variables can be created from the file.

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
        value = dataset[()]
        import keras

        if keras.backend.backend() == "jax":
            import jax

            # One copy; `jnp.asarray` (what converting it would call) costs
            # twice as much for large arrays.
            return jax.device_put(value)
        return value

    def load_into(self, model, skip_ids=()):
        """Assigns every variable of `model` from the file.

        Variables whose id is in `skip_ids` and whose path matches the
        file's entry at their position were created from that entry (see
        `value_for`) and are not assigned again.
        """
        if self._file is None:
            # Keras' object-tree layout (KerasHub presets) or a damaged
            # file: read by the family's KerasHub name table.
            from keras_nlp_clone.presets.keras_hub_format import (
                load_backbone_weights,
            )

            load_backbone_weights(model, self.path)
            return
        try:
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
                f"`{model.__class__.__name__}`: {short_message(e, 400)}. The file is "
                "damaged or was saved from a model with another config; "
                "re-save the preset."
            ) from e
