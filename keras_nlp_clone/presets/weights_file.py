"""The weights file of a preset (`model.weights.h5`).

Weights are read from HDF5, never pickle.
"""

import os

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

    # Data aligned to 64 bytes: loading hands JAX views of the file's bytes
    # that XLA's CPU client can use without a copy (see `WeightsFile`).
    with h5py.File(
        path, "w", alignment_threshold=1, alignment_interval=64
    ) as f:
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


def _read_file_aligned(path):
    """The whole file's bytes in one NumPy `uint8` array whose start is
    64-byte aligned (one read, no other copy), or `None` where the file
    cannot be read so (datasets are then read one by one with h5py)."""
    import numpy as np

    try:
        size = os.path.getsize(path)
        buffer = np.empty(size + 64, dtype=np.uint8)
        start = (-buffer.ctypes.data) % 64
        data = buffer[start : start + size]
        with open(path, "rb", buffering=0) as f:
            view = memoryview(data)
            read = 0
            while read < size:
                n = f.readinto(view[read:])
                if not n:
                    return None  # The file shrank meanwhile.
                read += n
        return data
    except (OSError, MemoryError):
        return None


def _eager_tensor_of(array):
    """A TensorFlow eager tensor of a NumPy array, sharing its memory when
    the array is aligned for TensorFlow (64 bytes suffice), else a copy.

    `tf.convert_to_tensor` copies every NumPy array first (so that writes to
    the array cannot reach the tensor), then the tensor may copy again when
    that copy is not aligned; a `tf.Variable` created from an aliasing
    tensor takes its buffer as it is. The weights file's buffer is private
    to the load (nothing else writes to it), so sharing it is safe, as under
    JAX. Falls back to `array` itself (copied by TensorFlow) if TensorFlow's
    private eager tensor class is not where, or not called how, this expects
    (it is not public API and may change between TensorFlow releases).
    """
    try:
        from tensorflow.python.eager import context
        from tensorflow.python.framework import dtypes
        from tensorflow.python.framework import ops

        ctx = context.context()
        ctx.ensure_initialized()
        return ops.EagerTensor(
            array, ctx.device_name, dtypes.as_dtype(array.dtype).as_datatype_enum
        )
    except (ImportError, AttributeError, TypeError):
        return array


class _Entry:
    """One dataset of a weights file: its variable path, shape, dtype and,
    when its bytes lie contiguous and unfiltered in the file, their offset."""

    __slots__ = ("dataset", "path", "shape", "dtype", "offset", "size")

    def __init__(self, dataset):
        import numpy as np

        self.dataset = dataset
        self.path = dataset.attrs.get("path")
        self.shape = tuple(dataset.shape)
        self.dtype = dataset.dtype
        offset = None
        if (
            dataset.chunks is None
            and not dataset.compression
            and self.dtype.kind in "biuf"
            and self.dtype.isnative
        ):
            offset = dataset.id.get_offset()
            if offset is not None and offset % self.dtype.itemsize:
                offset = None  # An unaligned view would be slow everywhere.
        self.offset = offset
        self.size = int(np.prod(self.shape, dtype=np.int64))


class WeightsFile:
    """Reads a preset's weights file into a model; a context manager.

    Files written by `save_weights_file` are read directly, one dataset per
    variable by position (checked against the variable count and shapes);
    other `.weights.h5` files (Keras' own layout, e.g. KerasHub presets) are
    read by the family's KerasHub name table (`keras_hub_format.py`).
    `value_for` serves the stored value of a variable by its path, so
    variables can be created from the file (see `initialize_variables`).

    The file is read in one go into memory of its own (64-byte aligned),
    and contiguous datasets (all that `save_weights_file` writes) are
    served as NumPy views of it: that read is the only copy. Under JAX such
    a view (64-byte aligned, which `save_weights_file` arranges) becomes
    the variable's buffer as it is (XLA's CPU client aliases it), under
    PyTorch the parameter's storage, under TensorFlow the variable's
    buffer too (through an eager tensor sharing it). (The file is not
    memory-mapped: a model would then crash when the file is overwritten
    in place, e.g. by `save_weights`.) Other datasets are read with h5py.

    Raises:
        PresetError: from `load_into`, when the file is damaged or does not
            fit the model.
    """

    def __init__(self, path):
        self.path = path
        self._file = None
        self._entries = []
        self._by_path = {}
        self._buffer = None

    def __enter__(self):
        import h5py

        try:
            self._file = h5py.File(self.path, "r")
        except OSError:
            return self  # `load_into` reports the damage.
        if self._file.attrs.get("format") == WEIGHTS_FORMAT:
            try:
                count = int(self._file.attrs["count"])
                self._entries = [
                    _Entry(self._file[f"{i:05d}"]) for i in range(count)
                ]
            except (KeyError, ValueError, OSError):
                self._entries = None  # `load_into` reports the damage.
            for entry in self._entries or ():
                self._by_path.setdefault(entry.path, entry)
            if any(e.offset is not None for e in self._entries or ()):
                self._buffer = _read_file_aligned(self.path)
        else:
            self._file.close()
            self._file = None
        return self

    def __exit__(self, *args):
        if self._file is not None:
            self._file.close()
        # Variables created from views keep the buffer alive.
        self._buffer = None

    def _array(self, entry):
        """The stored array of `entry`: a view of the file's bytes read at
        `__enter__` when it can be one, else read with h5py."""
        if self._buffer is not None and entry.offset is not None:
            end = entry.offset + entry.size * entry.dtype.itemsize
            if end <= self._buffer.size:
                return (
                    self._buffer[entry.offset : end]
                    .view(entry.dtype)
                    .reshape(entry.shape)
                )
        return entry.dataset[()]

    def value_for(self, variable):
        """The stored array for `variable`'s path (same shape), or `None`.

        Under JAX a `jax.Array` (sharing the view's memory when aligned),
        under PyTorch a `torch.Tensor` sharing it, under TensorFlow an eager
        tensor sharing it when aligned (see `_eager_tensor_of`), else a
        NumPy array.
        """
        entry = self._by_path.get(variable.path)
        if entry is None or entry.shape != tuple(variable._shape):
            return None
        value = self._array(entry)
        import keras

        backend = keras.backend.backend()
        if backend == "jax":
            import jax

            # No copy for a 64-byte aligned view (XLA's CPU client aliases
            # it); one copy otherwise. `jnp.asarray` would copy twice.
            return jax.device_put(value)
        if backend == "torch":
            import torch

            return torch.from_numpy(value)
        if backend == "tensorflow":
            return _eager_tensor_of(value)
        return value

    def initialize_variables(self):
        """A context in which new variables start from this file's values
        (see `initialize_variables_from`)."""
        return initialize_variables_from(self.value_for)

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
            entries = self._entries
            if entries is None:
                entries = [
                    _Entry(f[f"{i:05d}"]) for i in range(int(f.attrs["count"]))
                ]
            variables = model.weights
            if len(entries) != len(variables):
                raise ValueError(
                    f"the file holds {len(entries)} variables, the "
                    f"model has {len(variables)}"
                )
            for i, (entry, variable) in enumerate(zip(entries, variables)):
                if entry.shape != tuple(variable.shape):
                    raise ValueError(
                        f"variable {i} (`{entry.path}` in the "
                        f"file, `{variable.path}` in the model) has shape "
                        f"{entry.shape} in the file and "
                        f"{tuple(variable.shape)} in the model"
                    )
                if id(variable) in skip_ids and entry.path == variable.path:
                    continue
                _assign_from_dataset(variable, entry.dataset)
        except (OSError, ValueError, KeyError) as e:
            raise PresetError(
                f"Could not load weights from `{self.path}` into "
                f"`{model.__class__.__name__}`: {short_message(e, 400)}. The file is "
                "damaged or was saved from a model with another config; "
                "re-save the preset."
            ) from e


class initialize_variables_from:
    """Context in which new Keras variables start from given values.

    Loading a preset builds a model whose every variable is then
    overwritten from the weights file; drawing random initial values first
    (truncated normal for tens of millions of parameters) is wasted work.
    Inside this context a new variable takes `initial_values(variable)`
    when that is not `None` (its id is then added to `self.initialized`, so
    the caller can skip assigning it again); else a floating point (or
    int8, quantized) variable starts unfilled (PyTorch) or as zeros and
    must be assigned afterwards, and any other (a dropout's seed generator
    state, a counter) is initialised as usual.

    It swaps Keras' (private) variable initialisation hook for the duration
    of the block; if that hook is not found (another Keras version), the
    context does nothing and variables are initialised as usual.

    Args:
        initial_values: callable `(variable) -> value or None`, e.g.
            `WeightsFile.value_for`.
    """

    def __init__(self, initial_values):
        self.initial_values = initial_values
        self.initialized = set()
        self._patched = []

    def __enter__(self):
        import keras

        try:
            from keras.src.backend import Variable as BackendVariable
            from keras.src.backend.common.variables import Variable
        except ImportError:
            return self
        torch_backend = keras.backend.backend() == "torch"

        def initialize(variable, initializer):
            value = self.initial_values(variable)
            if value is not None:
                if not torch_backend:
                    value = variable._convert_to_tensor(value)
                # PyTorch: `_initialize` wraps the tensor in a Parameter
                # without a copy when its dtype is the variable's.
                variable._initialize(value)
                self.initialized.add(id(variable))
                return
            dtype = keras.backend.standardize_dtype(variable._dtype)
            if not ("float" in dtype or dtype.startswith("int8")):
                # Not a weight: e.g. a dropout's seed generator state, which
                # needs its own (distinct) seed, or a counter. Cheap.
                value = initializer(variable._shape, dtype=variable._dtype)
                variable._initialize(variable._convert_to_tensor(value))
                return
            if torch_backend:
                # Unfilled memory; the caller overwrites it.
                import torch

                from keras.src.backend.torch.core import to_torch_dtype

                variable._initialize(
                    torch.empty(variable._shape, dtype=to_torch_dtype(dtype))
                )
                return
            # Filled by the backend: no NumPy buffer to copy in.
            value = keras.ops.zeros(variable._shape, dtype=dtype)
            variable._initialize(variable._convert_to_tensor(value))

        # The backend's class may override the common hook (TensorFlow does).
        for cls in set(BackendVariable.__mro__) | {Variable}:
            original = cls.__dict__.get("_initialize_with_initializer")
            if original is not None:
                self._patched.append((cls, original))
                cls._initialize_with_initializer = initialize
        return self

    def __exit__(self, *args):
        for cls, original in self._patched:
            cls._initialize_with_initializer = original
        self._patched = []
