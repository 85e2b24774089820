import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.transformer_encoder import TransformerEncoder
from keras_nlp_clone.utils.keras_utils import gelu_exact
from tests.test_case import TestCase

BATCH, SEQ, HIDDEN, HEADS, INTERMEDIATE = 2, 5, 8, 2, 16


def random_inputs(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH, SEQ, HIDDEN)).astype("float32")


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


class TestTransformerEncoder(TestCase):
    @pytest.mark.parametrize("normalize_first", [False, True])
    def test_layer_behaviors(self, normalize_first):
        self.run_layer_test(
            cls=TransformerEncoder,
            init_kwargs={
                "intermediate_dim": INTERMEDIATE,
                "num_heads": HEADS,
                "dropout": 0.1,
                "activation": "gelu",
                "normalize_first": normalize_first,
            },
            input_data=random_inputs(),
            expected_output_shape=(BATCH, SEQ, HIDDEN),
            # 4 attention kernels + 4 biases, 2 dense x 2, 2 norms x 2.
            expected_num_trainable_weights=16,
        )

    def test_layer_behaviors_with_padding_mask(self):
        self.run_layer_test(
            cls=TransformerEncoder,
            init_kwargs={"intermediate_dim": INTERMEDIATE, "num_heads": HEADS},
            input_data={
                "inputs": random_inputs(),
                "padding_mask": np.array([[1, 1, 1, 0, 0], [1] * 5], "int32"),
            },
            expected_output_shape=(BATCH, SEQ, HIDDEN),
        )

    def test_sublayer_names_and_kernel_shapes(self):
        layer = TransformerEncoder(INTERMEDIATE, HEADS)
        layer.build((None, SEQ, HIDDEN))
        attention = layer._self_attention_layer
        assert isinstance(attention, keras.layers.MultiHeadAttention)
        head_dim = HIDDEN // HEADS
        for dense in (
            attention._query_dense,
            attention._key_dense,
            attention._value_dense,
        ):
            assert tuple(dense.kernel.shape) == (HIDDEN, HEADS, head_dim)
            assert tuple(dense.bias.shape) == (HEADS, head_dim)
        assert tuple(attention._output_dense.kernel.shape) == (
            HEADS,
            head_dim,
            HIDDEN,
        )
        for name in (
            "_self_attention_layer_norm",
            "_feedforward_layer_norm",
        ):
            assert isinstance(
                getattr(layer, name), keras.layers.LayerNormalization
            )
        for name in ("_self_attention_dropout", "_feedforward_dropout"):
            assert isinstance(getattr(layer, name), keras.layers.Dropout)
        assert tuple(layer._feedforward_intermediate_dense.kernel.shape) == (
            HIDDEN,
            INTERMEDIATE,
        )
        assert tuple(layer._feedforward_output_dense.kernel.shape) == (
            INTERMEDIATE,
            HIDDEN,
        )

    def test_matches_hugging_face_bert_layer(self):
        torch = pytest.importorskip("torch")
        transformers = pytest.importorskip("transformers")
        from transformers.models.bert.modeling_bert import BertLayer

        config = transformers.BertConfig(
            hidden_size=HIDDEN,
            num_attention_heads=HEADS,
            intermediate_size=INTERMEDIATE,
            hidden_act="gelu",
            layer_norm_eps=1e-12,
            hidden_dropout_prob=0.1,
            attention_probs_dropout_prob=0.1,
        )
        config._attn_implementation = "eager"
        torch.manual_seed(0)
        hf_layer = BertLayer(config).eval()
        with torch.no_grad():
            for param in hf_layer.parameters():
                param.copy_(torch.randn_like(param) * 0.5)
        weights = {
            k: v.detach().numpy() for k, v in hf_layer.state_dict().items()
        }

        layer = TransformerEncoder(
            intermediate_dim=INTERMEDIATE,
            num_heads=HEADS,
            dropout=0.1,
            activation=gelu_exact,
            layer_norm_epsilon=1e-12,
        )
        layer.build((None, SEQ, HIDDEN))
        head_dim = HIDDEN // HEADS
        attention = layer._self_attention_layer
        for ours, theirs in (
            (attention._query_dense, "attention.self.query"),
            (attention._key_dense, "attention.self.key"),
            (attention._value_dense, "attention.self.value"),
        ):
            ours.kernel.assign(
                weights[f"{theirs}.weight"].T.reshape(HIDDEN, HEADS, head_dim)
            )
            ours.bias.assign(weights[f"{theirs}.bias"].reshape(HEADS, head_dim))
        attention._output_dense.kernel.assign(
            weights["attention.output.dense.weight"].T.reshape(
                HEADS, head_dim, HIDDEN
            )
        )
        attention._output_dense.bias.assign(
            weights["attention.output.dense.bias"]
        )
        for ours, theirs in (
            (layer._self_attention_layer_norm, "attention.output.LayerNorm"),
            (layer._feedforward_layer_norm, "output.LayerNorm"),
        ):
            ours.gamma.assign(weights[f"{theirs}.weight"])
            ours.beta.assign(weights[f"{theirs}.bias"])
        for ours, theirs in (
            (layer._feedforward_intermediate_dense, "intermediate.dense"),
            (layer._feedforward_output_dense, "output.dense"),
        ):
            ours.kernel.assign(weights[f"{theirs}.weight"].T)
            ours.bias.assign(weights[f"{theirs}.bias"])

        inputs = random_inputs(seed=1)
        padding_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], "int32")
        additive = (1.0 - padding_mask[:, None, None, :]) * np.finfo(
            "float32"
        ).min
        with torch.no_grad():
            expected = hf_layer(
                torch.from_numpy(inputs),
                attention_mask=torch.from_numpy(additive.astype("float32")),
            )
        if isinstance(expected, (tuple, list)):
            expected = expected[0]
        outputs = layer(inputs, padding_mask=padding_mask, training=False)
        self.assertAllClose(outputs, expected.numpy(), atol=1e-5, rtol=1e-5)

    def test_post_norm_math(self):
        layer = TransformerEncoder(INTERMEDIATE, HEADS, activation="relu")
        inputs = random_inputs()
        outputs = layer(inputs)
        attention = layer._self_attention_layer(inputs, inputs)
        h = layer._self_attention_layer_norm(keras.ops.add(inputs, attention))
        ff = layer._feedforward_output_dense(
            layer._feedforward_intermediate_dense(h)
        )
        expected = layer._feedforward_layer_norm(keras.ops.add(h, ff))
        self.assertAllClose(outputs, expected, atol=1e-5)

    def test_pre_norm_math(self):
        layer = TransformerEncoder(INTERMEDIATE, HEADS, normalize_first=True)
        inputs = random_inputs()
        outputs = layer(inputs)
        x = layer._self_attention_layer_norm(inputs)
        h = keras.ops.add(inputs, layer._self_attention_layer(x, x))
        ff = layer._feedforward_output_dense(
            layer._feedforward_intermediate_dense(
                layer._feedforward_layer_norm(h)
            )
        )
        self.assertAllClose(outputs, keras.ops.add(h, ff), atol=1e-5)

    def test_padding_masks_keys_only(self):
        layer = TransformerEncoder(INTERMEDIATE, HEADS)
        inputs = random_inputs()
        padding_mask = np.array([[1, 1, 1, 0, 0], [1] * 5])
        outputs, scores = layer(
            inputs, padding_mask=padding_mask, return_attention_scores=True
        )
        scores = to_numpy(scores)
        assert scores.shape == (BATCH, HEADS, SEQ, SEQ)
        # No query row attends to padded keys, and padded query rows still
        # attend to the real tokens (they are not masked themselves).
        np.testing.assert_allclose(scores[0, :, :, 3:], 0.0, atol=1e-7)
        np.testing.assert_allclose(scores[0].sum(-1), 1.0, atol=1e-5)
        # Changing padded tokens does not change the real tokens' outputs.
        changed = inputs.copy()
        changed[0, 3:] = 100.0
        other = layer(changed, padding_mask=padding_mask)
        self.assertAllClose(
            to_numpy(outputs)[0, :3], to_numpy(other)[0, :3], atol=1e-5
        )

    def test_attention_mask_merges_with_padding_mask(self):
        layer = TransformerEncoder(INTERMEDIATE, HEADS)
        inputs = random_inputs()
        padding_mask = np.array([[1, 1, 1, 1, 0], [1] * 5])
        causal = np.tril(np.ones((SEQ, SEQ), "int32"))[None].repeat(BATCH, 0)
        merged = causal * padding_mask[:, None, :]
        a = layer(inputs, padding_mask=padding_mask, attention_mask=causal)
        b = layer(inputs, attention_mask=merged)
        self.assertAllClose(a, b, atol=1e-6)
        _, scores = layer(
            inputs,
            padding_mask=padding_mask,
            attention_mask=causal,
            return_attention_scores=True,
        )
        scores = to_numpy(scores)
        upper = np.triu(np.ones((SEQ, SEQ), bool), k=1)
        assert np.all(scores[:, :, upper] == 0)

    def test_keras_mask_is_used_as_padding_mask(self):
        ids = keras.Input((SEQ,), dtype="int32")
        embedding = keras.layers.Embedding(10, HIDDEN, mask_zero=True)
        encoder = TransformerEncoder(INTERMEDIATE, HEADS)
        outputs = encoder(embedding(ids))
        model = keras.Model(ids, outputs)
        data = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]])
        explicit = encoder(embedding(data), padding_mask=data != 0)
        self.assertAllClose(model(data), explicit, atol=1e-5)
        unmasked = encoder(embedding(data), padding_mask=np.ones_like(data))
        assert not np.allclose(to_numpy(explicit)[0], to_numpy(unmasked)[0])

    def test_dropout_is_active_only_in_training(self):
        layer = TransformerEncoder(INTERMEDIATE, HEADS, dropout=0.5)
        inputs = random_inputs()
        self.assertAllClose(
            layer(inputs, training=False), layer(inputs, training=False)
        )
        assert not np.allclose(
            to_numpy(layer(inputs, training=True)),
            to_numpy(layer(inputs, training=False)),
        )

    def test_activation_serialization(self):
        layer = TransformerEncoder(
            INTERMEDIATE, HEADS, activation=gelu_exact, name="encoder"
        )
        config = layer.get_config()
        revived = TransformerEncoder.from_config(config)
        assert revived.activation is gelu_exact
        assert revived.get_config() == config
        layer = TransformerEncoder(INTERMEDIATE, HEADS, activation="gelu")
        assert layer.get_config()["activation"] == "gelu"

    def test_config(self):
        layer = TransformerEncoder(
            intermediate_dim=32,
            num_heads=4,
            dropout=0.2,
            activation="gelu",
            layer_norm_epsilon=1e-12,
            kernel_initializer="he_normal",
            bias_initializer="ones",
            normalize_first=True,
        )
        config = layer.get_config()
        for key, value in {
            "intermediate_dim": 32,
            "num_heads": 4,
            "dropout": 0.2,
            "layer_norm_epsilon": 1e-12,
            "normalize_first": True,
        }.items():
            assert config[key] == value
        revived = TransformerEncoder.from_config(config)
        assert isinstance(
            revived.kernel_initializer, keras.initializers.HeNormal
        )

    def test_num_heads_must_divide_hidden(self):
        layer = TransformerEncoder(INTERMEDIATE, num_heads=3)
        with pytest.raises(ValueError, match="num_heads=3"):
            layer(random_inputs())

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"intermediate_dim": 0, "num_heads": 2}, "intermediate_dim=0"),
            ({"intermediate_dim": 4, "num_heads": 0}, "num_heads=0"),
            (
                {"intermediate_dim": 4, "num_heads": 2, "dropout": 1.0},
                "dropout=1.0",
            ),
        ],
    )
    def test_invalid_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            TransformerEncoder(**kwargs)


@pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="The PyTorch path only."
)
class TestTransformerEncoderTorchPath(TestCase):
    """`_torch_call` (the PyTorch fast path) against the oracle of the same
    layer run through its Keras sublayers (`_torch_fast_path_ok` off)."""

    def run_both(self, layer, fn):
        fast = fn()
        layer._torch_fast_path_ok = lambda: False
        try:
            slow = fn()
        finally:
            del layer._torch_fast_path_ok
        return fast, slow

    @pytest.mark.parametrize("normalize_first", [False, True])
    def test_outputs_match_keras_sublayers(self, normalize_first):
        # Dropout > 0 sends Keras' attention through its explicit softmax
        # path; in inference dropout is the identity on both.
        layer = TransformerEncoder(
            INTERMEDIATE, HEADS, dropout=0.1, activation=gelu_exact,
            normalize_first=normalize_first,
        )
        inputs = random_inputs()
        # Row 1 of the batch has only padding: no key to attend to.
        padding_mask = np.array([[1, 1, 1, 0, 0], [0] * 5])
        causal = np.tril(np.ones((SEQ, SEQ), "int32"))[None].repeat(BATCH, 0)
        layer(inputs)
        assert layer._torch_fast_path_ok()
        for kwargs in (
            {},
            {"padding_mask": padding_mask},
            {"attention_mask": causal},
            {"padding_mask": padding_mask, "attention_mask": causal},
        ):
            fast, slow = self.run_both(
                layer, lambda: to_numpy(layer(inputs, **kwargs))
            )
            self.assertAllClose(fast, slow, atol=2e-6, rtol=1e-5)

    def test_gradients_match_keras_sublayers(self):
        import torch

        layer = TransformerEncoder(INTERMEDIATE, HEADS, activation="relu")
        inputs = random_inputs()
        padding_mask = np.array([[1, 1, 1, 0, 0], [1] * 5])
        weights = torch.tensor(random_inputs(seed=1))
        layer(inputs)

        def gradients():
            x = torch.tensor(inputs, requires_grad=True)
            outputs = layer(x, padding_mask=padding_mask, training=True)
            (outputs * weights).sum().backward()
            grads = [x.grad.numpy().copy()]
            for variable in layer.trainable_weights:
                grads.append(variable.value.grad.numpy().copy())
                variable.value.grad = None
            return grads

        fast, slow = self.run_both(layer, gradients)
        assert len(fast) == 17
        for a, b in zip(fast, slow):
            self.assertAllClose(a, b, atol=1e-5, rtol=1e-5)

    def test_dropout_in_training_is_seeded_and_scaled(self):
        layer = TransformerEncoder(INTERMEDIATE, HEADS, dropout=0.5)
        inputs = random_inputs()
        keras.utils.set_random_seed(3)
        a = to_numpy(layer(inputs, training=True))
        keras.utils.set_random_seed(3)
        b = to_numpy(layer(inputs, training=True))
        self.assertAllEqual(a, b)
        assert not np.allclose(a, to_numpy(layer(inputs, training=False)))

    def test_falls_back_for_lora_and_scores(self):
        layer = TransformerEncoder(INTERMEDIATE, HEADS)
        inputs = random_inputs()
        layer(inputs)
        assert layer._torch_fast_path_ok()
        # Attention scores need the explicit path; it still gives them.
        _, scores = layer(inputs, return_attention_scores=True)
        assert tuple(scores.shape) == (BATCH, HEADS, SEQ, SEQ)
        layer._feedforward_output_dense.enable_lora(2)
        assert not layer._torch_fast_path_ok()
