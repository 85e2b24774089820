import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.position_embedding import PositionEmbedding
from keras_nlp_clone.layers.reversible_embedding import ReversibleEmbedding
from keras_nlp_clone.layers.token_and_position_embedding import (
    TokenAndPositionEmbedding,
)
from tests.test_case import TestCase


class TestTokenAndPositionEmbedding(TestCase):
    def test_layer_behaviors(self):
        self.run_layer_test(
            cls=TokenAndPositionEmbedding,
            init_kwargs={
                "vocabulary_size": 10,
                "sequence_length": 6,
                "embedding_dim": 4,
                "embeddings_initializer": "ones",
            },
            input_data=np.array([[1, 2, 3, 0], [4, 5, 0, 0]]),
            expected_output_shape=(2, 4, 4),
            expected_output_data=2 * np.ones((2, 4, 4)),
            expected_num_trainable_weights=2,
        )

    def test_sublayers_and_sum(self):
        layer = TokenAndPositionEmbedding(
            vocabulary_size=7, sequence_length=5, embedding_dim=3
        )
        ids = np.array([[1, 6, 0]])
        outputs = layer(ids)
        assert isinstance(layer.token_embedding, ReversibleEmbedding)
        assert isinstance(layer.position_embedding, PositionEmbedding)
        tokens = keras.ops.convert_to_numpy(layer.token_embedding.embeddings)
        positions = keras.ops.convert_to_numpy(
            layer.position_embedding.position_embeddings
        )
        self.assertAllClose(outputs, tokens[ids] + positions[None, :3])
        shifted = layer(ids, start_index=2)
        self.assertAllClose(shifted, tokens[ids] + positions[None, 2:5])

    def test_tie_weights_false(self):
        layer = TokenAndPositionEmbedding(
            vocabulary_size=7, sequence_length=5, embedding_dim=3,
            tie_weights=False,
        )
        layer(np.array([[1, 2]]))
        assert len(layer.trainable_weights) == 3

    def test_mask_zero(self):
        layer = TokenAndPositionEmbedding(
            vocabulary_size=7, sequence_length=5, embedding_dim=3,
            mask_zero=True,
        )
        ids = np.array([[1, 2, 0]])
        self.assertAllEqual(layer.compute_mask(ids), [[True, True, False]])
        inputs = keras.Input((None,), dtype="int32")
        assert layer(inputs)._keras_mask is not None

    def test_config(self):
        layer = TokenAndPositionEmbedding(
            vocabulary_size=7,
            sequence_length=5,
            embedding_dim=3,
            tie_weights=False,
            embeddings_initializer="zeros",
            mask_zero=True,
        )
        config = layer.get_config()
        for key, value in {
            "vocabulary_size": 7,
            "sequence_length": 5,
            "embedding_dim": 3,
            "tie_weights": False,
            "mask_zero": True,
        }.items():
            assert config[key] == value
        revived = TokenAndPositionEmbedding.from_config(config)
        assert revived.get_config() == config

    def test_invalid_arguments(self):
        with pytest.raises(ValueError, match="embedding_dim=0"):
            TokenAndPositionEmbedding(10, 5, 0)
