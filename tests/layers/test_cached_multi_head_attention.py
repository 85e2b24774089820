import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.cached_multi_head_attention import (
    CachedMultiHeadAttention,
)
from keras_nlp_clone.layers.cached_multi_head_attention import (
    cache_updates_in_place,
)
from tests.test_case import TestCase

BATCH, SEQ, HIDDEN, HEADS, HEAD_DIM = 2, 5, 8, 2, 4


def random(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def causal_mask(query_length, key_length, start=0):
    rows = np.arange(query_length)[:, None] + start
    mask = rows >= np.arange(key_length)[None, :]
    return np.broadcast_to(mask, (BATCH, query_length, key_length))


def empty_cache(length=SEQ):
    return np.zeros((BATCH, 2, length, HEADS, HEAD_DIM), "float32")


class TestCachedMultiHeadAttention(TestCase):
    def test_layer_behaviors(self):
        self.run_layer_test(
            cls=CachedMultiHeadAttention,
            init_kwargs={"num_heads": HEADS, "key_dim": HEAD_DIM},
            input_data={
                "query": random((BATCH, SEQ, HIDDEN)),
                "value": random((BATCH, SEQ, HIDDEN), seed=1),
            },
            expected_output_shape=(BATCH, SEQ, HIDDEN),
            expected_num_trainable_weights=8,
            # Checked with a cache below (the cache is cast to bfloat16).
            run_mixed_precision_check=False,
        )

    def test_layer_behaviors_with_cache(self):
        self.run_layer_test(
            cls=CachedMultiHeadAttention,
            init_kwargs={"num_heads": HEADS, "key_dim": HEAD_DIM},
            input_data={
                "query": random((BATCH, SEQ, HIDDEN)),
                "value": random((BATCH, SEQ, HIDDEN), seed=1),
                "cache": empty_cache(),
            },
            call_kwargs={"cache_update_index": 0},
            expected_output_shape=(
                (BATCH, SEQ, HIDDEN),
                (BATCH, 2, SEQ, HEADS, HEAD_DIM),
            ),
        )

    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"use_gate": True},
            {"sliding_window": 2},
            {"output_shape": 5, "use_bias": False},
        ],
        ids=["default", "gate", "sliding_window", "output_shape"],
    )
    def test_without_cache_equals_keras_multi_head_attention(self, kwargs):
        query = random((BATCH, SEQ, HIDDEN))
        value = random((BATCH, 4, HIDDEN), seed=1)
        mask = random((BATCH, SEQ, 4), seed=2) > -0.5
        reference = keras.layers.MultiHeadAttention(
            num_heads=HEADS, key_dim=HEAD_DIM, **kwargs
        )
        expected = reference(query, value, attention_mask=mask)
        layer = CachedMultiHeadAttention(
            num_heads=HEADS, key_dim=HEAD_DIM, **kwargs
        )
        layer(query, value, attention_mask=mask)
        assert [w.path.split("/", 1)[1] for w in layer.weights] == [
            w.path.split("/", 1)[1] for w in reference.weights
        ]
        layer.set_weights(reference.get_weights())
        self.assertAllClose(
            layer(query, value, attention_mask=mask), expected, atol=1e-6
        )
        _, scores = layer(
            query, value, attention_mask=mask, return_attention_scores=True
        )
        _, expected_scores = reference(
            query, value, attention_mask=mask, return_attention_scores=True
        )
        self.assertAllClose(scores, expected_scores, atol=1e-6)

    @pytest.mark.parametrize("sliding_window", [None, 3])
    def test_token_by_token_cache_equals_full_causal_pass(self, sliding_window):
        x = random((BATCH, SEQ, HIDDEN))
        layer = CachedMultiHeadAttention(
            num_heads=HEADS, key_dim=HEAD_DIM, sliding_window=sliding_window
        )
        full = to_numpy(layer(x, x, attention_mask=causal_mask(SEQ, SEQ)))

        # A prompt of 2 tokens in one call, then one token per call.
        cache = empty_cache()
        prompt, cache = layer(
            x[:, :2],
            x[:, :2],
            attention_mask=causal_mask(2, SEQ),
            cache=cache,
            cache_update_index=0,
        )
        outputs = [to_numpy(prompt)]
        for index in range(2, SEQ):
            token = x[:, index : index + 1]
            output, cache = layer(
                token,
                token,
                attention_mask=causal_mask(1, SEQ, index),
                cache=cache,
                # A tensor index, as in a compiled generation loop.
                cache_update_index=keras.ops.convert_to_tensor(index),
            )
            outputs.append(to_numpy(output))
        self.assertAllClose(
            np.concatenate(outputs, axis=1), full, atol=1e-5, rtol=1e-5
        )
        # The cache holds the projected keys and values of every token.
        self.assertAllClose(
            to_numpy(cache)[:, 0],
            to_numpy(layer._key_dense(x)),
            atol=1e-5,
            rtol=1e-5,
        )
        self.assertAllClose(
            to_numpy(cache)[:, 1],
            to_numpy(layer._value_dense(x)),
            atol=1e-5,
            rtol=1e-5,
        )

    def test_cache_without_index_is_used_as_is(self):
        query = random((BATCH, 3, HIDDEN))
        encoded = random((BATCH, 4, HIDDEN), seed=1)
        layer = CachedMultiHeadAttention(num_heads=HEADS, key_dim=HEAD_DIM)
        expected = layer(query, encoded)
        _, cache = layer(
            query, encoded, cache=empty_cache(4), cache_update_index=0
        )
        # Later calls ignore `value`: only the cached projections count.
        output, same_cache = layer(query, np.zeros_like(encoded), cache=cache)
        self.assertAllClose(output, expected, atol=1e-5, rtol=1e-5)
        self.assertAllClose(same_cache, cache)

    def test_attention_scores_with_cache(self):
        x = random((BATCH, SEQ, HIDDEN))
        layer = CachedMultiHeadAttention(num_heads=HEADS, key_dim=HEAD_DIM)
        output, cache, scores = layer(
            x[:, :1],
            x[:, :1],
            attention_mask=causal_mask(1, SEQ, 2),
            cache=empty_cache(),
            cache_update_index=2,
            return_attention_scores=True,
        )
        assert tuple(output.shape) == (BATCH, 1, HIDDEN)
        assert tuple(cache.shape) == (BATCH, 2, SEQ, HEADS, HEAD_DIM)
        scores = to_numpy(scores)
        assert scores.shape == (BATCH, HEADS, 1, SEQ)
        np.testing.assert_allclose(scores[..., 3:], 0.0, atol=1e-7)
        np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)

    def test_symbolic_call_with_cache(self):
        query = keras.Input((1, HIDDEN))
        cache = keras.Input((2, SEQ, HEADS, HEAD_DIM))
        layer = CachedMultiHeadAttention(num_heads=HEADS, key_dim=HEAD_DIM)
        output, new_cache = layer(query, query, cache=cache)
        assert tuple(output.shape) == (None, 1, HIDDEN)
        assert tuple(new_cache.shape) == (None, 2, SEQ, HEADS, HEAD_DIM)

    def test_index_without_cache_raises(self):
        layer = CachedMultiHeadAttention(num_heads=HEADS, key_dim=HEAD_DIM)
        x = random((BATCH, SEQ, HIDDEN))
        with pytest.raises(ValueError, match="without a `cache`"):
            layer(x, x, cache_update_index=0)

    def test_bad_cache_shape_raises(self):
        layer = CachedMultiHeadAttention(num_heads=HEADS, key_dim=HEAD_DIM)
        x = random((BATCH, 1, HIDDEN))
        cache = np.zeros((BATCH, 2, SEQ, HEADS, HEAD_DIM + 1), "float32")
        with pytest.raises(ValueError, match="`cache` must have shape"):
            layer(x, x, cache=cache, cache_update_index=0)

    def test_cache_needs_equal_key_and_value_dims(self):
        layer = CachedMultiHeadAttention(
            num_heads=HEADS, key_dim=HEAD_DIM, value_dim=3
        )
        x = random((BATCH, 1, HIDDEN))
        with pytest.raises(ValueError, match="value_dim=3"):
            layer(x, x, cache=empty_cache(), cache_update_index=0)

    def test_cache_needs_3d_inputs(self):
        layer = CachedMultiHeadAttention(num_heads=HEADS, key_dim=HEAD_DIM)
        x = random((BATCH, 1, 3, HIDDEN))
        with pytest.raises(ValueError, match="3D inputs"):
            layer(x, x, cache=empty_cache(), cache_update_index=0)

    def test_invalid_constructor_arguments(self):
        with pytest.raises(ValueError, match="sliding_window"):
            CachedMultiHeadAttention(
                num_heads=HEADS, key_dim=HEAD_DIM, sliding_window=0
            )

    def test_config(self):
        layer = CachedMultiHeadAttention(
            num_heads=HEADS,
            key_dim=HEAD_DIM,
            dropout=0.1,
            sliding_window=4,
            use_gate=True,
            name="attention",
        )
        config = layer.get_config()
        assert config["num_heads"] == HEADS
        assert config["sliding_window"] == 4
        assert config["use_gate"] is True
        revived = CachedMultiHeadAttention.from_config(config)
        assert revived.get_config() == config


class TestCacheUpdatesInPlace(TestCase):
    def test_in_place_update_equals_copy_and_only_writes_inside_context(self):
        x = random((BATCH, 1, HIDDEN))
        layer = CachedMultiHeadAttention(num_heads=HEADS, key_dim=HEAD_DIM)
        layer(x, x)  # Build.
        cache = keras.ops.convert_to_tensor(
            random((BATCH, 2, SEQ, HEADS, HEAD_DIM), seed=3)
        )
        before = to_numpy(cache).copy()
        mask = causal_mask(1, SEQ, 2)
        args = dict(attention_mask=mask, cache_update_index=2)
        output, copied = layer(x, x, cache=cache, **args)
        # Outside the context the caller's cache is left as it was.
        self.assertAllEqual(to_numpy(cache), before)
        with cache_updates_in_place():
            output_in_place, updated = layer(x, x, cache=cache, **args)
        self.assertAllClose(output_in_place, output, atol=1e-6, rtol=1e-6)
        self.assertAllClose(updated, copied, atol=1e-6, rtol=1e-6)
        # Position 2 now holds the new key and value; the rest is kept.
        expected = before.copy()
        expected[:, 0, 2] = to_numpy(layer._key_dense(x))[:, 0]
        expected[:, 1, 2] = to_numpy(layer._value_dense(x))[:, 0]
        self.assertAllClose(updated, expected, atol=1e-5, rtol=1e-5)
        if keras.config.backend() == "torch":
            # The given tensor itself was written (no copy per token).
            self.assertAllClose(
                to_numpy(cache), expected, atol=1e-5, rtol=1e-5
            )
        else:
            # Immutable tensors (JAX, TensorFlow): nothing to write.
            self.assertAllEqual(to_numpy(cache), before)
