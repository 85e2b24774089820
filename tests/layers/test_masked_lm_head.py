import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.masked_lm_head import MaskedLMHead
from keras_nlp_clone.layers.reversible_embedding import ReversibleEmbedding
from tests.test_case import TestCase

VOCAB, HIDDEN = 12, 4


def hidden_states(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, 5, HIDDEN)).astype("float32")


MASK_POSITIONS = np.array([[0, 3, 4], [1, 1, 2]], "int32")


class TestMaskedLMHead(TestCase):
    def test_layer_behaviors_untied(self):
        self.run_layer_test(
            cls=MaskedLMHead,
            init_kwargs={
                "vocabulary_size": VOCAB,
                "activation": "softmax",
            },
            input_data={
                "inputs": hidden_states(),
                "mask_positions": MASK_POSITIONS,
            },
            expected_output_shape=(2, 3, VOCAB),
            # dense kernel + bias, norm gamma + beta, output dense, bias.
            expected_num_trainable_weights=6,
            # Logits are float32 under mixed precision: checked below.
            run_mixed_precision_check=False,
        )

    def test_mixed_precision_logits_are_float32(self):
        layer = MaskedLMHead(vocabulary_size=VOCAB, dtype="mixed_bfloat16")
        logits = layer(hidden_states(), MASK_POSITIONS)
        assert keras.backend.standardize_dtype(logits.dtype) == "float32"
        assert layer._intermediate_dense.compute_dtype == "bfloat16"
        assert {w.dtype for w in layer.weights} == {"float32"}
        spec = layer.compute_output_spec(
            keras.KerasTensor((2, 5, HIDDEN)), keras.KerasTensor((2, 3), "int32")
        )
        assert spec.dtype == "float32"

    def test_layer_behaviors_tied(self):
        embedding = ReversibleEmbedding(VOCAB, HIDDEN)
        embedding.build()
        self.run_layer_test(
            cls=MaskedLMHead,
            init_kwargs={"token_embedding": embedding},
            input_data={
                "inputs": hidden_states(),
                "mask_positions": MASK_POSITIONS,
            },
            expected_output_shape=(2, 3, VOCAB),
            # Includes the shared embedding table.
            expected_num_trainable_weights=6,
            run_mixed_precision_check=False,
        )

    def test_sublayer_and_variable_names(self):
        embedding = ReversibleEmbedding(VOCAB, HIDDEN)
        head = MaskedLMHead(token_embedding=embedding)
        head(hidden_states(), mask_positions=MASK_POSITIONS)
        assert head.vocabulary_size == VOCAB
        assert tuple(head._intermediate_dense.kernel.shape) == (HIDDEN, HIDDEN)
        assert isinstance(
            head._intermediate_layer_norm, keras.layers.LayerNormalization
        )
        assert tuple(head._output_bias.shape) == (VOCAB,)
        assert head._output_bias.name == "output_bias"
        assert not hasattr(head, "_output_dense")

    def test_values_tied(self):
        embedding = ReversibleEmbedding(VOCAB, HIDDEN)
        head = MaskedLMHead(
            token_embedding=embedding,
            intermediate_activation="relu",
            bias_initializer="ones",
        )
        inputs = hidden_states()
        outputs = head(inputs, mask_positions=MASK_POSITIONS)

        gathered = inputs[np.arange(2)[:, None], MASK_POSITIONS]
        kernel = keras.ops.convert_to_numpy(head._intermediate_dense.kernel)
        bias = keras.ops.convert_to_numpy(head._intermediate_dense.bias)
        x = np.maximum(gathered @ kernel + bias, 0)
        mean = x.mean(-1, keepdims=True)
        var = x.var(-1, keepdims=True)
        x = (x - mean) / np.sqrt(var + 1e-5)
        table = keras.ops.convert_to_numpy(embedding.embeddings)
        expected = x @ table.T + 1.0
        self.assertAllClose(outputs, expected, atol=1e-5, rtol=1e-5)

    def test_tied_gradients_reach_the_embedding(self):
        ids = keras.Input((5,), dtype="int32")
        positions = keras.Input((2,), dtype="int32")
        embedding = ReversibleEmbedding(VOCAB, HIDDEN)
        head = MaskedLMHead(token_embedding=embedding)
        outputs = head(embedding(ids), mask_positions=positions)
        model = keras.Model([ids, positions], outputs)
        assert len(model.trainable_weights) == 6
        model.compile(
            optimizer="sgd",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        before = keras.ops.convert_to_numpy(embedding.embeddings).copy()
        model.fit(
            [np.array([[1, 2, 3, 4, 5]]), np.array([[1, 3]])],
            np.array([[2, 4]]),
            verbose=0,
        )
        after = keras.ops.convert_to_numpy(embedding.embeddings)
        assert not np.allclose(before, after)

    def test_input_mask_is_not_propagated(self):
        ids = keras.Input((5,), dtype="int32")
        positions = keras.Input((2,), dtype="int32")
        embedding = ReversibleEmbedding(VOCAB, HIDDEN, mask_zero=True)
        head = MaskedLMHead(token_embedding=embedding)
        outputs = head(embedding(ids), mask_positions=positions)
        assert getattr(outputs, "_keras_mask", None) is None

    def test_config_round_trip_with_embedding(self):
        embedding = ReversibleEmbedding(VOCAB, HIDDEN)
        head = MaskedLMHead(
            token_embedding=embedding,
            intermediate_activation="gelu",
            activation="softmax",
            layer_norm_epsilon=1e-12,
        )
        config = head.get_config()
        revived = MaskedLMHead.from_config(config)
        assert isinstance(revived.token_embedding, ReversibleEmbedding)
        assert revived.vocabulary_size == VOCAB
        assert revived.get_config() == config
        assert config["intermediate_activation"] == "gelu"
        assert config["activation"] == "softmax"

    def test_needs_vocabulary_size_or_embedding(self):
        with pytest.raises(ValueError, match="vocabulary_size"):
            MaskedLMHead()

    def test_vocabulary_size_mismatch(self):
        embedding = ReversibleEmbedding(VOCAB, HIDDEN)
        with pytest.raises(ValueError, match="vocabulary_size=5"):
            MaskedLMHead(vocabulary_size=5, token_embedding=embedding)

    def test_token_embedding_type(self):
        with pytest.raises(ValueError, match="ReversibleEmbedding"):
            MaskedLMHead(token_embedding=keras.layers.Embedding(VOCAB, HIDDEN))

    def test_hidden_size_mismatch(self):
        head = MaskedLMHead(token_embedding=ReversibleEmbedding(VOCAB, 6))
        with pytest.raises(ValueError, match="hidden size, 4"):
            head(hidden_states(), mask_positions=MASK_POSITIONS)
