import os

import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.reversible_embedding import ReversibleEmbedding
from tests.test_case import TestCase


class TestReversibleEmbedding(TestCase):
    @pytest.mark.parametrize("tie_weights", [True, False])
    def test_layer_behaviors(self, tie_weights):
        self.run_layer_test(
            cls=ReversibleEmbedding,
            init_kwargs={
                "input_dim": 10,
                "output_dim": 4,
                "tie_weights": tie_weights,
                "embeddings_initializer": "ones",
            },
            input_data=np.array([[1, 2, 3], [4, 5, 0]]),
            expected_output_shape=(2, 3, 4),
            expected_output_data=np.ones((2, 3, 4)),
            expected_num_trainable_weights=1 if tie_weights else 2,
        )

    @pytest.mark.parametrize("tie_weights", [True, False])
    def test_reverse_layer_behaviors(self, tie_weights):
        self.run_layer_test(
            cls=ReversibleEmbedding,
            init_kwargs={
                "input_dim": 10,
                "output_dim": 4,
                "tie_weights": tie_weights,
            },
            input_data=np.random.uniform(size=(2, 3, 4)).astype("float32"),
            call_kwargs={"reverse": True},
            expected_output_shape=(2, 3, 10),
            expected_num_trainable_weights=1 if tie_weights else 2,
        )

    def test_tied_reverse_is_transposed_matmul(self):
        layer = ReversibleEmbedding(6, 3)
        layer.build()
        table = np.arange(18, dtype="float32").reshape(6, 3) / 10
        layer.embeddings.assign(table)
        ids = np.array([[0, 5, 2]])
        self.assertAllClose(layer(ids), table[ids])
        hidden = np.random.uniform(size=(2, 4, 3)).astype("float32")
        self.assertAllClose(
            layer(hidden, reverse=True), hidden @ table.T, atol=1e-5
        )

    def test_untied_reverse_uses_its_own_variable(self):
        layer = ReversibleEmbedding(6, 3, tie_weights=False)
        layer.build()
        assert tuple(layer.reverse_embeddings.shape) == (3, 6)
        assert layer.reverse_embeddings.path.endswith("reverse_embeddings")
        kernel = np.random.uniform(size=(3, 6)).astype("float32")
        layer.reverse_embeddings.assign(kernel)
        hidden = np.random.uniform(size=(2, 3)).astype("float32")
        self.assertAllClose(
            layer(hidden, reverse=True), hidden @ kernel, atol=1e-5
        )

    def test_logit_soft_cap(self):
        layer = ReversibleEmbedding(4, 2, logit_soft_cap=2.0)
        layer.build()
        table = np.array([[10.0, 0], [0, 1], [-10, 0], [0, 0]], "float32")
        layer.embeddings.assign(table)
        hidden = np.array([[1.0, 1.0]], "float32")
        expected = 2.0 * np.tanh((hidden @ table.T) / 2.0)
        self.assertAllClose(layer(hidden, reverse=True), expected, atol=1e-6)

    def test_reverse_dtype(self):
        layer = ReversibleEmbedding(
            8, 4, reverse_dtype="float32", dtype="mixed_bfloat16"
        )
        hidden = layer(np.array([[1, 2]]))
        assert keras.backend.standardize_dtype(hidden.dtype) == "bfloat16"
        logits = layer(hidden, reverse=True)
        assert keras.backend.standardize_dtype(logits.dtype) == "float32"

    def test_mask_zero(self):
        layer = ReversibleEmbedding(5, 2, mask_zero=True)
        ids = np.array([[1, 0, 3]])
        mask = layer.compute_mask(ids)
        self.assertAllEqual(mask, [[True, False, True]])
        hidden = layer(ids)
        assert layer.compute_mask(hidden) is None

    def test_symbolic_reverse_shape(self):
        layer = ReversibleEmbedding(7, 4)
        ids = keras.Input((5,), dtype="int32")
        logits = layer(layer(ids), reverse=True)
        assert tuple(logits.shape) == (None, 5, 7)

    @pytest.mark.parametrize("tie_weights", [True, False])
    def test_saved_model_round_trip(self, tie_weights, tmp_path):
        ids = keras.Input((3,), dtype="int32")
        layer = ReversibleEmbedding(10, 4, tie_weights=tie_weights)
        model = keras.Model(ids, layer(layer(ids), reverse=True))
        path = os.path.join(tmp_path, "model.keras")
        model.save(path)
        restored = keras.saving.load_model(path)
        data = np.array([[1, 2, 3]])
        self.assertAllClose(restored(data), model(data))
        restored_layer = restored.layers[-1]
        if not tie_weights:
            self.assertAllClose(
                restored_layer.reverse_embeddings, layer.reverse_embeddings
            )

    def test_config(self):
        layer = ReversibleEmbedding(
            10,
            4,
            tie_weights=False,
            reverse_dtype="float32",
            logit_soft_cap=30.0,
            mask_zero=True,
        )
        config = layer.get_config()
        assert config["tie_weights"] is False
        assert config["reverse_dtype"] == "float32"
        assert config["logit_soft_cap"] == 30.0
        assert config["mask_zero"] is True
        assert config["input_dim"] == 10 and config["output_dim"] == 4

    def test_invalid_soft_cap(self):
        with pytest.raises(ValueError, match="logit_soft_cap=0"):
            ReversibleEmbedding(10, 4, logit_soft_cap=0)


def _int8_reference(hidden, table, table_scale):
    """The int8 reverse projection in NumPy: hidden states quantized per
    row (absmax to [-127, 127]), an int32 product with the int8 table,
    rescaled."""
    hidden_scale = 127.0 / np.maximum(np.abs(hidden).max(-1, keepdims=True), 1e-7)
    q = np.clip(np.round(hidden * hidden_scale), -127, 127).astype("int32")
    return (q @ table.astype("int32").T) / (hidden_scale * table_scale)


class TestQuantizedReversibleEmbedding(TestCase):
    @pytest.mark.parametrize("tie_weights", [True, False])
    def test_int8_reverse_projection(self, tie_weights):
        keras.utils.set_random_seed(0)
        layer = ReversibleEmbedding(20, 8, tie_weights=tie_weights)
        ids = np.array([[1, 2, 3, 19]])
        hidden = np.random.default_rng(0).normal(size=(2, 3, 8)).astype("float32")
        float_lookup = keras.ops.convert_to_numpy(layer(ids))
        float_logits = keras.ops.convert_to_numpy(layer(hidden, reverse=True))
        layer.quantize("int8")
        assert layer.quantization_mode == "int8"
        assert layer._embeddings.dtype == "int8"
        assert tuple(layer.embeddings_scale.shape) == (20,)
        if tie_weights:
            table = keras.ops.convert_to_numpy(layer._embeddings)
            scale = keras.ops.convert_to_numpy(layer.embeddings_scale)
        else:
            assert layer.reverse_embeddings.dtype == "int8"
            assert tuple(layer.reverse_embeddings_scale.shape) == (20,)
            table = keras.ops.convert_to_numpy(layer.reverse_embeddings).T
            scale = keras.ops.convert_to_numpy(layer.reverse_embeddings_scale)
        logits = keras.ops.convert_to_numpy(layer(hidden, reverse=True))
        self.assertAllClose(
            logits, _int8_reference(hidden, table, scale), atol=1e-4, rtol=1e-4
        )
        # Close to float32 (int8 rounding of both operands).
        error = np.abs(logits - float_logits).max()
        assert 0 < error <= 0.02 * np.abs(float_logits).max()
        lookup = keras.ops.convert_to_numpy(layer(ids))
        assert np.abs(lookup - float_lookup).max() <= 0.01 * np.abs(float_lookup).max()
        with pytest.raises(ValueError, match="already quantized"):
            layer.quantize("int8")

    def test_int8_policy_builds_the_quantized_variables(self):
        quantized = ReversibleEmbedding(20, 8, tie_weights=False)
        quantized.build()
        quantized.quantize("int8")
        built = ReversibleEmbedding(
            20, 8, tie_weights=False, dtype="int8_from_float32"
        )
        built.build()
        assert [(v.name, v.dtype, tuple(v.shape)) for v in built.weights] == [
            (v.name, v.dtype, tuple(v.shape)) for v in quantized.weights
        ]

    def test_other_modes_refused(self):
        layer = ReversibleEmbedding(20, 8)
        layer.build()
        with pytest.raises(NotImplementedError, match="int8"):
            layer.quantize("int4")
        assert layer.quantization_mode is None
        assert layer.embeddings.dtype == "float32"
