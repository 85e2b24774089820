"""The weights file: damaged files and files of another model."""

import shutil

import numpy as np
import pytest

from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.presets.errors import PresetError
from tests.presets.preset_fixtures import VOCAB
from tests.presets.preset_fixtures import drop_records
from tests.presets.preset_fixtures import pristine_preset  # noqa: F401
from tests.presets.preset_fixtures import saved_preset  # noqa: F401
from tests.test_case import TestCase


class TestWeightsFiles(TestCase):
    def test_damaged_weights(self, saved_preset):
        (saved_preset / "model.weights.h5").write_bytes(b"not an hdf5 file")
        drop_records(saved_preset)  # the file's own checks, not the record's
        with pytest.raises(PresetError, match="Could not load weights"):
            BertBackbone.from_preset(str(saved_preset))

    def test_keras_format_weights_still_load(self, saved_preset):
        original = BertBackbone.from_preset(str(saved_preset))
        drop_records(saved_preset)  # the weights file is replaced by hand
        # A `.weights.h5` in Keras' own layout (as KerasHub presets have).
        original.save_weights(str(saved_preset / "model.weights.h5"))
        restored = BertBackbone.from_preset(str(saved_preset))
        for a, b in zip(original.weights, restored.weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    def _swap_in_weights_of(self, saved_preset, tmp_path, **overrides):
        config = dict(
            vocabulary_size=len(VOCAB),
            num_layers=1,
            num_heads=2,
            hidden_dim=4,
            intermediate_dim=8,
            max_sequence_length=8,
        )
        config.update(overrides)
        BertBackbone(**config).save_to_preset(str(tmp_path / "other"))
        shutil.copy(
            tmp_path / "other" / "model.weights.h5",
            saved_preset / "model.weights.h5",
        )

    def test_weights_of_another_config_are_refused(self, saved_preset, tmp_path):
        self._swap_in_weights_of(saved_preset, tmp_path, num_layers=2)
        drop_records(saved_preset)  # the file's own checks, not the record's
        with pytest.raises(PresetError, match="the file holds 39 variables, the model has 23"):
            BertBackbone.from_preset(str(saved_preset))

    def test_weights_of_another_shape_are_refused(self, saved_preset, tmp_path):
        self._swap_in_weights_of(saved_preset, tmp_path, vocabulary_size=len(VOCAB) + 1)
        drop_records(saved_preset)  # the file's own checks, not the record's
        with pytest.raises(PresetError, match=r"token_embedding/embeddings.*\(9, 4\) in the file"):
            BertBackbone.from_preset(str(saved_preset))


class TestEagerTensorOf:
    """`_eager_tensor_of`: shares an aligned array's memory, and falls back
    to the array itself when TensorFlow's private class changes."""

    def test_shares_memory_and_values(self):
        import numpy as np

        from keras_nlp_clone.presets import weights_file

        buffer = np.zeros(64 + 4 * 6, dtype=np.uint8)
        start = (-buffer.ctypes.data) % 64
        array = buffer[start : start + 24].view(np.float32).reshape(2, 3)
        array[...] = np.arange(6, dtype=np.float32).reshape(2, 3)
        tensor = weights_file._eager_tensor_of(array)
        np.testing.assert_array_equal(tensor.numpy(), array)
        assert tensor.dtype.name == "float32" and tuple(tensor.shape) == (2, 3)
        array[0, 0] = 7.0
        assert tensor.numpy()[0, 0] == 7.0

    def test_changed_private_class_falls_back_to_the_array(self, monkeypatch):
        import numpy as np
        from tensorflow.python.framework import ops

        from keras_nlp_clone.presets import weights_file

        class Changed:
            def __init__(self, *args):
                raise TypeError("new signature")

        monkeypatch.setattr(ops, "EagerTensor", Changed)
        array = np.ones((2, 2), dtype=np.float32)
        assert weights_file._eager_tensor_of(array) is array
