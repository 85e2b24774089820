import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.position_embedding import PositionEmbedding
from tests.test_case import TestCase


class TestPositionEmbedding(TestCase):
    def test_layer_behaviors(self):
        self.run_layer_test(
            cls=PositionEmbedding,
            init_kwargs={"sequence_length": 8},
            input_data=np.random.uniform(size=(2, 5, 4)).astype("float32"),
            expected_output_shape=(2, 5, 4),
            expected_num_trainable_weights=1,
        )

    def test_variable(self):
        layer = PositionEmbedding(sequence_length=8)
        layer.build((None, 5, 4))
        assert tuple(layer.position_embeddings.shape) == (8, 4)
        assert layer.position_embeddings.name == "embeddings"
        assert layer.embeddings is layer.position_embeddings

    def test_values_sliced_and_broadcast(self):
        layer = PositionEmbedding(sequence_length=6)
        layer.build((None, 4, 3))
        table = np.arange(18, dtype="float32").reshape(6, 3)
        layer.position_embeddings.assign(table)
        inputs = np.zeros((2, 4, 3), "float32")
        outputs = layer(inputs)
        self.assertAllClose(outputs, np.broadcast_to(table[:4], (2, 4, 3)))

    def test_start_index(self):
        layer = PositionEmbedding(sequence_length=6)
        layer.build((None, 2, 3))
        table = np.arange(18, dtype="float32").reshape(6, 3)
        layer.position_embeddings.assign(table)
        outputs = layer(np.zeros((1, 2, 3), "float32"), start_index=3)
        self.assertAllClose(outputs, table[None, 3:5])

    def test_explicit_positions(self):
        layer = PositionEmbedding(sequence_length=6)
        layer.build((None, 3, 3))
        table = np.arange(18, dtype="float32").reshape(6, 3)
        layer.position_embeddings.assign(table)
        positions = np.array([[5, 0, 2], [1, 1, 1]])
        outputs = layer(np.zeros((2, 3, 3), "float32"), positions=positions)
        self.assertAllClose(outputs, table[positions])

    def test_unbatched_input(self):
        layer = PositionEmbedding(sequence_length=6)
        outputs = layer(np.zeros((4, 3), "float32"))
        assert tuple(outputs.shape) == (4, 3)

    def test_dynamic_sequence_length(self):
        inputs = keras.Input(shape=(None, 4))
        outputs = PositionEmbedding(sequence_length=10)(inputs)
        model = keras.Model(inputs, outputs)
        assert tuple(model(np.zeros((2, 3, 4), "float32")).shape) == (2, 3, 4)
        assert tuple(model(np.zeros((2, 7, 4), "float32")).shape) == (2, 7, 4)

    def test_mask_passes_through(self):
        inputs = keras.Input(shape=(None,), dtype="int32")
        x = keras.layers.Embedding(10, 4, mask_zero=True)(inputs)
        outputs = PositionEmbedding(sequence_length=10)(x)
        assert outputs._keras_mask is not None

    def test_config(self):
        layer = PositionEmbedding(sequence_length=12, initializer="zeros")
        config = layer.get_config()
        assert config["sequence_length"] == 12
        revived = PositionEmbedding.from_config(config)
        assert isinstance(revived.initializer, keras.initializers.Zeros)

    def test_too_long_input(self):
        layer = PositionEmbedding(sequence_length=4)
        with pytest.raises(ValueError, match="sequence_length=4"):
            layer(np.zeros((1, 5, 2), "float32"))

    @pytest.mark.parametrize("sequence_length", [0, None, 3.0])
    def test_invalid_sequence_length(self, sequence_length):
        with pytest.raises(ValueError, match="sequence_length"):
            PositionEmbedding(sequence_length=sequence_length)
