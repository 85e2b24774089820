import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.cached_multi_head_attention import (
    CachedMultiHeadAttention,
)
from keras_nlp_clone.layers.transformer_decoder import TransformerDecoder
from keras_nlp_clone.utils.keras_utils import gelu_exact
from tests.test_case import TestCase

BATCH, SEQ, ENC_SEQ, HIDDEN, HEADS, INTERMEDIATE = 2, 5, 4, 8, 2, 16
HEAD_DIM = HIDDEN // HEADS


def random(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def empty_cache(length):
    return np.zeros((BATCH, 2, length, HEADS, HEAD_DIM), "float32")


def compiled(fn):
    """`fn` compiled as a generation loop would be on each backend."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.jit(fn)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    return fn


def copy_attention(attention, q, k, v, o):
    """Copies torch-layout `(out, in)` projections into a Keras MHA."""
    for dense, (weight, bias) in (
        (attention._query_dense, q),
        (attention._key_dense, k),
        (attention._value_dense, v),
    ):
        dense.kernel.assign(weight.T.reshape(HIDDEN, HEADS, HEAD_DIM))
        dense.bias.assign(bias.reshape(HEADS, HEAD_DIM))
    attention._output_dense.kernel.assign(
        o[0].T.reshape(HEADS, HEAD_DIM, HIDDEN)
    )
    attention._output_dense.bias.assign(o[1])


def copy_norm(norm, weight, bias):
    norm.gamma.assign(weight)
    norm.beta.assign(bias)


def copy_dense(dense, weight, bias):
    dense.kernel.assign(weight.T)
    dense.bias.assign(bias)


def randomize_torch(module):
    import torch

    torch.manual_seed(0)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn_like(param) * 0.5)
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def additive(mask):
    """Boolean `(batch, q, k)` mask -> HF's additive `(batch, 1, q, k)`."""
    return ((1.0 - mask[:, None].astype("float32")) * -1e9).astype("float32")


class TestTransformerDecoder(TestCase):
    def test_layer_behaviors_with_cross_attention_and_masks(self):
        self.run_layer_test(
            cls=TransformerDecoder,
            init_kwargs={
                "intermediate_dim": INTERMEDIATE,
                "num_heads": HEADS,
                "dropout": 0.1,
                "activation": "gelu",
            },
            input_data={
                "decoder_sequence": random((BATCH, SEQ, HIDDEN)),
                "encoder_sequence": random((BATCH, ENC_SEQ, HIDDEN), seed=1),
                "decoder_padding_mask": np.array(
                    [[1, 1, 1, 0, 0], [1] * SEQ], "int32"
                ),
                "encoder_padding_mask": np.array(
                    [[1, 1, 0, 0], [1] * ENC_SEQ], "int32"
                ),
            },
            expected_output_shape=(BATCH, SEQ, HIDDEN),
            # Plus 8 cross-attention variables and a norm.
            expected_num_trainable_weights=26,
        )

    def test_sublayers(self):
        layer = TransformerDecoder(INTERMEDIATE, HEADS)
        layer.build((None, SEQ, HIDDEN))
        assert isinstance(layer._self_attention_layer, CachedMultiHeadAttention)
        assert layer._cross_attention_layer is None
        layer = TransformerDecoder(INTERMEDIATE, HEADS)
        layer.build((None, SEQ, HIDDEN), (None, ENC_SEQ, 6))
        cross = layer._cross_attention_layer
        assert isinstance(cross, CachedMultiHeadAttention)
        assert tuple(cross._key_dense.kernel.shape) == (6, HEADS, HEAD_DIM)
        for name in (
            "_self_attention_layer_norm",
            "_cross_attention_layer_norm",
            "_feedforward_layer_norm",
        ):
            assert isinstance(
                getattr(layer, name), keras.layers.LayerNormalization
            )
        assert tuple(layer._feedforward_intermediate_dense.kernel.shape) == (
            HIDDEN,
            INTERMEDIATE,
        )
        assert tuple(layer._feedforward_output_dense.kernel.shape) == (
            INTERMEDIATE,
            HIDDEN,
        )

    def test_matches_hugging_face_bart_decoder_layer(self):
        torch = pytest.importorskip("torch")
        transformers = pytest.importorskip("transformers")
        from transformers.models.bart.modeling_bart import BartDecoderLayer

        config = transformers.BartConfig(
            d_model=HIDDEN,
            decoder_attention_heads=HEADS,
            decoder_ffn_dim=INTERMEDIATE,
            activation_function="gelu",
        )
        config._attn_implementation = "eager"
        hf_layer = BartDecoderLayer(config, layer_idx=0).eval()
        w = randomize_torch(hf_layer)

        layer = TransformerDecoder(
            INTERMEDIATE, HEADS, activation=gelu_exact, layer_norm_epsilon=1e-5
        )
        layer.build((None, SEQ, HIDDEN), (None, ENC_SEQ, HIDDEN))

        def pair(name):
            return w[f"{name}.weight"], w[f"{name}.bias"]

        for ours, theirs in (
            (layer._self_attention_layer, "self_attn"),
            (layer._cross_attention_layer, "encoder_attn"),
        ):
            copy_attention(
                ours,
                pair(f"{theirs}.q_proj"),
                pair(f"{theirs}.k_proj"),
                pair(f"{theirs}.v_proj"),
                pair(f"{theirs}.out_proj"),
            )
        copy_norm(
            layer._self_attention_layer_norm, *pair("self_attn_layer_norm")
        )
        copy_norm(
            layer._cross_attention_layer_norm, *pair("encoder_attn_layer_norm")
        )
        copy_norm(layer._feedforward_layer_norm, *pair("final_layer_norm"))
        copy_dense(layer._feedforward_intermediate_dense, *pair("fc1"))
        copy_dense(layer._feedforward_output_dense, *pair("fc2"))

        decoder = random((BATCH, SEQ, HIDDEN), seed=1)
        encoder = random((BATCH, ENC_SEQ, HIDDEN), seed=2)
        encoder_padding = np.array([[1, 1, 1, 0], [1] * ENC_SEQ], bool)
        causal = np.tril(np.ones((SEQ, SEQ), bool))[None].repeat(BATCH, 0)
        cross = np.broadcast_to(encoder_padding[:, None], (BATCH, SEQ, ENC_SEQ))
        with torch.no_grad():
            expected = hf_layer(
                torch.from_numpy(decoder),
                attention_mask=torch.from_numpy(additive(causal)),
                encoder_hidden_states=torch.from_numpy(encoder),
                encoder_attention_mask=torch.from_numpy(additive(cross)),
            )
        if isinstance(expected, (tuple, list)):
            expected = expected[0]
        outputs = layer(decoder, encoder, encoder_padding_mask=encoder_padding)
        self.assertAllClose(outputs, expected.numpy(), atol=1e-5, rtol=1e-5)

    def test_matches_hugging_face_gpt2_block(self):
        torch = pytest.importorskip("torch")
        transformers = pytest.importorskip("transformers")
        from transformers.models.gpt2.modeling_gpt2 import GPT2Block

        config = transformers.GPT2Config(
            n_embd=HIDDEN, n_head=HEADS, n_inner=INTERMEDIATE
        )
        config._attn_implementation = "eager"
        hf_block = GPT2Block(config, layer_idx=0).eval()
        w = randomize_torch(hf_block)

        layer = TransformerDecoder(
            INTERMEDIATE,
            HEADS,
            activation=lambda x: keras.activations.gelu(x, approximate=True),
            layer_norm_epsilon=config.layer_norm_epsilon,
            normalize_first=True,
        )
        layer.build((None, SEQ, HIDDEN))
        # GPT-2's `Conv1D` weights are `(in, out)`; q, k, v are fused.
        qkv_weight = np.split(w["attn.c_attn.weight"], 3, axis=1)
        qkv_bias = np.split(w["attn.c_attn.bias"], 3)
        copy_attention(
            layer._self_attention_layer,
            *[(wt.T, b) for wt, b in zip(qkv_weight, qkv_bias)],
            (w["attn.c_proj.weight"].T, w["attn.c_proj.bias"]),
        )
        copy_norm(
            layer._self_attention_layer_norm, w["ln_1.weight"], w["ln_1.bias"]
        )
        copy_norm(
            layer._feedforward_layer_norm, w["ln_2.weight"], w["ln_2.bias"]
        )
        copy_dense(
            layer._feedforward_intermediate_dense,
            w["mlp.c_fc.weight"].T,
            w["mlp.c_fc.bias"],
        )
        copy_dense(
            layer._feedforward_output_dense,
            w["mlp.c_proj.weight"].T,
            w["mlp.c_proj.bias"],
        )

        inputs = random((BATCH, SEQ, HIDDEN), seed=3)
        causal = np.tril(np.ones((SEQ, SEQ), bool))[None].repeat(BATCH, 0)
        with torch.no_grad():
            expected = hf_block(
                torch.from_numpy(inputs),
                attention_mask=torch.from_numpy(additive(causal)),
            )
        if isinstance(expected, (tuple, list)):
            expected = expected[0]
        self.assertAllClose(
            layer(inputs), expected.numpy(), atol=1e-5, rtol=1e-5
        )

    def test_post_norm_math(self):
        layer = TransformerDecoder(INTERMEDIATE, HEADS)
        x = random((BATCH, SEQ, HIDDEN))
        causal = np.tril(np.ones((SEQ, SEQ), bool))[None]
        outputs = layer(x)
        attention = layer._self_attention_layer(x, x, attention_mask=causal)
        h = layer._self_attention_layer_norm(keras.ops.add(x, attention))
        ff = layer._feedforward_output_dense(
            layer._feedforward_intermediate_dense(h)
        )
        expected = layer._feedforward_layer_norm(keras.ops.add(h, ff))
        self.assertAllClose(outputs, expected, atol=1e-5)

    @pytest.mark.parametrize("normalize_first", [False, True])
    def test_cached_decoding_equals_full_pass(self, normalize_first):
        layer = TransformerDecoder(
            INTERMEDIATE, HEADS, normalize_first=normalize_first
        )
        x = random((BATCH, SEQ, HIDDEN))
        full = to_numpy(layer(x))

        cache = empty_cache(SEQ)
        prompt, cache = layer(
            x[:, :2],
            self_attention_cache=cache,
            self_attention_cache_update_index=0,
        )
        outputs = [to_numpy(prompt)]

        @compiled
        def step(token, cache, index):
            return layer(
                token,
                self_attention_cache=cache,
                self_attention_cache_update_index=index,
            )

        for index in range(2, SEQ):
            output, cache = step(
                x[:, index : index + 1],
                cache,
                keras.ops.convert_to_tensor(index, "int32"),
            )
            outputs.append(to_numpy(output))
        self.assertAllClose(
            np.concatenate(outputs, axis=1), full, atol=1e-5, rtol=1e-5
        )

    @pytest.mark.parametrize("normalize_first", [False, True])
    def test_cached_decoding_with_cross_attention_equals_full_pass(
        self, normalize_first
    ):
        layer = TransformerDecoder(
            INTERMEDIATE, HEADS, normalize_first=normalize_first
        )
        x = random((BATCH, SEQ, HIDDEN))
        encoded = random((BATCH, ENC_SEQ, HIDDEN), seed=1)
        encoder_padding = np.array([[1, 1, 1, 0], [1] * ENC_SEQ], bool)
        full = to_numpy(layer(x, encoded, encoder_padding_mask=encoder_padding))

        # The first call fills both caches, later calls reuse the
        # cross-attention cache as it is.
        prompt, self_cache, cross_cache = layer(
            x[:, :2],
            encoded,
            encoder_padding_mask=encoder_padding,
            self_attention_cache=empty_cache(SEQ),
            self_attention_cache_update_index=0,
            cross_attention_cache=empty_cache(ENC_SEQ),
            cross_attention_cache_update_index=0,
        )
        outputs = [to_numpy(prompt)]
        for index in range(2, SEQ):
            output, self_cache, new_cross_cache = layer(
                x[:, index : index + 1],
                encoded,
                encoder_padding_mask=encoder_padding,
                self_attention_cache=self_cache,
                self_attention_cache_update_index=index,
                cross_attention_cache=cross_cache,
            )
            self.assertAllClose(new_cross_cache, cross_cache)
            outputs.append(to_numpy(output))
        self.assertAllClose(
            np.concatenate(outputs, axis=1), full, atol=1e-5, rtol=1e-5
        )

    def test_causality_and_padding(self):
        layer = TransformerDecoder(INTERMEDIATE, HEADS)
        x = random((BATCH, SEQ, HIDDEN))
        outputs = to_numpy(layer(x))
        # Changing the last two tokens leaves the earlier outputs alone.
        changed = x.copy()
        changed[:, 3:] = 10.0
        self.assertAllClose(
            to_numpy(layer(changed))[:, :3], outputs[:, :3], atol=1e-5
        )
        assert not np.allclose(to_numpy(layer(changed))[:, 3:], outputs[:, 3:])
        # Without the causal mask, they change everything.
        assert not np.allclose(
            to_numpy(layer(changed, use_causal_mask=False))[:, :3],
            to_numpy(layer(x, use_causal_mask=False))[:, :3],
        )
        # Padded keys are never attended to.
        padding = np.array([[1, 1, 1, 1, 0], [1] * SEQ], "int32")
        changed = x.copy()
        changed[0, 4] = 10.0
        padded = to_numpy(
            layer(x, decoder_padding_mask=padding, use_causal_mask=False)
        )
        padded_changed = to_numpy(
            layer(changed, decoder_padding_mask=padding, use_causal_mask=False)
        )
        self.assertAllClose(padded[0, :4], padded_changed[0, :4], atol=1e-5)

    def test_encoder_padding_mask(self):
        layer = TransformerDecoder(INTERMEDIATE, HEADS)
        x = random((BATCH, SEQ, HIDDEN))
        encoded = random((BATCH, ENC_SEQ, HIDDEN), seed=1)
        padding = np.array([[1, 1, 0, 0], [1] * ENC_SEQ], bool)
        outputs = to_numpy(layer(x, encoded, encoder_padding_mask=padding))
        changed = encoded.copy()
        changed[0, 2:] = 10.0
        self.assertAllClose(
            to_numpy(layer(x, changed, encoder_padding_mask=padding))[0],
            outputs[0],
            atol=1e-5,
        )
        # The same as an explicit encoder attention mask.
        attention = np.broadcast_to(padding[:, None], (BATCH, SEQ, ENC_SEQ))
        self.assertAllClose(
            layer(x, encoded, encoder_attention_mask=attention),
            outputs,
            atol=1e-6,
        )

    def test_keras_mask_is_used_as_padding_mask(self):
        ids = keras.Input((SEQ,), dtype="int32")
        embedding = keras.layers.Embedding(10, HIDDEN, mask_zero=True)
        decoder = TransformerDecoder(INTERMEDIATE, HEADS)
        model = keras.Model(ids, decoder(embedding(ids), use_causal_mask=False))
        data = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]])
        explicit = decoder(
            embedding(data),
            decoder_padding_mask=data != 0,
            use_causal_mask=False,
        )
        self.assertAllClose(model(data), explicit, atol=1e-5)

    def test_dropout_is_active_only_in_training(self):
        layer = TransformerDecoder(INTERMEDIATE, HEADS, dropout=0.5)
        x = random((BATCH, SEQ, HIDDEN))
        self.assertAllClose(layer(x, training=False), layer(x, training=False))
        assert not np.allclose(
            to_numpy(layer(x, training=True)), to_numpy(layer(x))
        )

    def test_config(self):
        layer = TransformerDecoder(
            intermediate_dim=32,
            num_heads=4,
            dropout=0.2,
            activation=gelu_exact,
            layer_norm_epsilon=1e-12,
            kernel_initializer="he_normal",
            bias_initializer="ones",
            normalize_first=True,
            name="decoder",
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
        revived = TransformerDecoder.from_config(config)
        assert revived.get_config() == config
        assert revived.activation is gelu_exact
        assert isinstance(
            revived.kernel_initializer, keras.initializers.HeNormal
        )

    def test_build_config_restores_cross_attention(self):
        layer = TransformerDecoder(INTERMEDIATE, HEADS)
        x = random((BATCH, SEQ, HIDDEN))
        encoded = random((BATCH, ENC_SEQ, HIDDEN), seed=1)
        outputs = layer(x, encoded)
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(layer)
        )
        # Built from the saved shapes, before any call.
        assert revived.built
        assert revived._cross_attention_layer is not None
        revived.set_weights(layer.get_weights())
        self.assertAllClose(revived(x, encoded), outputs, atol=1e-6)

    def test_encoder_sequence_must_match_build(self):
        x = random((BATCH, SEQ, HIDDEN))
        encoded = random((BATCH, ENC_SEQ, HIDDEN), seed=1)
        layer = TransformerDecoder(INTERMEDIATE, HEADS)
        layer(x)
        with pytest.raises(ValueError, match="built without cross-attention"):
            layer(x, encoded)
        layer = TransformerDecoder(INTERMEDIATE, HEADS)
        layer(x, encoded)
        with pytest.raises(ValueError, match="built with cross-attention"):
            layer(x)
        with pytest.raises(ValueError, match="both be given or both"):
            layer(
                x,
                encoded,
                self_attention_cache=empty_cache(SEQ),
                self_attention_cache_update_index=0,
            )

    def test_padding_mask_length_must_match_keys(self):
        layer = TransformerDecoder(INTERMEDIATE, HEADS)
        x = random((BATCH, 1, HIDDEN))
        with pytest.raises(ValueError, match="decoder_padding_mask"):
            layer(
                x,
                decoder_padding_mask=np.ones((BATCH, 1), "int32"),
                self_attention_cache=empty_cache(SEQ),
                self_attention_cache_update_index=0,
            )

    def test_num_heads_must_divide_hidden(self):
        layer = TransformerDecoder(INTERMEDIATE, num_heads=3)
        with pytest.raises(ValueError, match="num_heads=3"):
            layer(random((BATCH, SEQ, HIDDEN)))

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
            TransformerDecoder(**kwargs)
