import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.alibi_bias import AlibiBias
from keras_nlp_clone.layers.alibi_bias import alibi_slopes
from tests.test_case import TestCase

# Layer calls (each head count compiles its own ops) on a few counts, powers
# of two and not; the slope function itself on every count up to 32.
HEAD_COUNTS = [1, 3, 6, 8, 12]


def bias_of(layer, num_heads, query_length, key_length):
    """The bias the layer adds: its output on zero scores."""
    scores = np.zeros((1, num_heads, query_length, key_length), "float32")
    return keras.ops.convert_to_numpy(layer(scores))[0]


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


class TestAlibiBias(TestCase):
    def test_layer_behaviors(self):
        scores = np.random.default_rng(0).standard_normal((2, 4, 3, 5))
        self.run_layer_test(
            cls=AlibiBias,
            init_kwargs={"alibi_bias_max": 8},
            input_data=scores.astype("float32"),
            expected_output_shape=(2, 4, 3, 5),
            expected_num_trainable_weights=0,
            expected_num_non_trainable_weights=0,
        )

    def test_paper_slopes_for_eight_heads(self):
        # Press et al., section 3: "for 8 heads the slopes are the
        # geometric sequence 1/2^1, 1/2^2, ..., 1/2^8".
        assert alibi_slopes(8) == [2.0**-h for h in range(1, 9)]
        # "For 16 heads ... 1/2^0.5, 1/2^1, ..., 1/2^8."
        assert alibi_slopes(16) == [2.0 ** (-h / 2) for h in range(1, 17)]

    @pytest.mark.parametrize("alibi_bias_max", [8, 16])
    def test_slopes_equal_transformers_mpt(self, alibi_bias_max):
        torch = pytest.importorskip("torch")
        mpt = pytest.importorskip("transformers.models.mpt.modeling_mpt")
        for num_heads in range(1, 33):
            with torch.no_grad():
                theirs = mpt.build_mpt_alibi_tensor(
                    num_heads, 2, alibi_bias_max=alibi_bias_max
                ).numpy()[:, 0, 0]  # -slope at key 0 of 2.
            np.testing.assert_allclose(
                alibi_slopes(num_heads, alibi_bias_max), -theirs, rtol=1e-6
            )

    @pytest.mark.parametrize("alibi_bias_max", [8, 16])
    def test_equals_transformers_mpt_alibi(self, alibi_bias_max):
        torch = pytest.importorskip("torch")
        mpt = pytest.importorskip("transformers.models.mpt.modeling_mpt")
        layer = AlibiBias(alibi_bias_max=alibi_bias_max)
        query_length, key_length = 3, 7
        for num_heads in HEAD_COUNTS:
            with torch.no_grad():
                theirs = mpt.build_mpt_alibi_tensor(
                    num_heads, key_length, alibi_bias_max=alibi_bias_max
                ).numpy()  # (num_heads, 1, key_length)
            ours = bias_of(layer, num_heads, query_length, key_length)
            expected = np.broadcast_to(theirs, ours.shape)
            np.testing.assert_allclose(
                ours, expected, rtol=1e-6, atol=1e-7, err_msg=str(num_heads)
            )

    def test_softmax_equals_transformers_bloom_alibi(self):
        torch = pytest.importorskip("torch")
        bloom = pytest.importorskip("transformers.models.bloom.modeling_bloom")
        layer = AlibiBias()
        rng = np.random.default_rng(1)
        key_length = 6
        for num_heads in HEAD_COUNTS:
            with torch.no_grad():
                theirs = bloom.build_alibi_tensor(
                    torch.ones(1, key_length, dtype=torch.int64),
                    num_heads,
                    torch.float32,
                ).numpy()  # (num_heads, 1, key_length): slope * j
            ours = bias_of(layer, num_heads, 1, key_length)
            # BLOOM's bias is `slope * j`, ours `slope * (j - (k - 1))`: the
            # same slopes, shifted by a constant per row.
            slopes = theirs[:, 0, 1]
            np.testing.assert_allclose(
                ours, theirs - slopes[:, None, None] * (key_length - 1),
                rtol=1e-6, atol=1e-6,
            )
            scores = rng.standard_normal((num_heads, 4, key_length))
            np.testing.assert_allclose(
                softmax(scores + ours), softmax(scores + theirs), atol=1e-6
            )

    @pytest.mark.parametrize("num_heads", [6, 12])
    def test_causal_softmax_equals_paper_formula(self, num_heads):
        # The paper's bias for query i and key j <= i is -m * (i - j), with
        # m the reference implementation's slopes (written out here from
        # the paper's rule for non-powers of two).
        power = 2 ** int(np.floor(np.log2(num_heads)))
        slopes = [2.0 ** (-8 * h / power) for h in range(1, power + 1)]
        slopes += [2.0 ** (-4 * h / power) for h in range(1, 2 * power, 2)]
        slopes = np.array(slopes[:num_heads])
        length = 9
        i = np.arange(length)[:, None]
        j = np.arange(length)[None, :]
        paper_bias = -slopes[:, None, None] * (i - j)
        causal = j <= i
        scores = np.random.default_rng(2).standard_normal(
            (2, num_heads, length, length)
        ).astype("float32")
        ours = keras.ops.convert_to_numpy(AlibiBias()(scores))
        big_negative = -1e9
        expected = softmax(np.where(causal, scores + paper_bias, big_negative))
        got = softmax(np.where(causal, ours, big_negative))
        np.testing.assert_allclose(got, expected, atol=1e-6)

    def test_dynamic_key_length_in_a_compiled_model(self):
        inputs = keras.Input(shape=(4, None, None))
        model = keras.Model(inputs, AlibiBias()(inputs))
        for key_length in (3, 5):
            scores = np.zeros((1, 4, 2, key_length), "float32")
            np.testing.assert_allclose(
                keras.ops.convert_to_numpy(model.predict(scores, verbose=0)),
                bias_of(AlibiBias(), 4, 2, key_length)[None],
            )

    def test_config(self):
        layer = AlibiBias(alibi_bias_max=12, name="alibi")
        config = layer.get_config()
        assert config["alibi_bias_max"] == 12
        revived = AlibiBias.from_config(config)
        assert revived.get_config() == config
        np.testing.assert_allclose(
            bias_of(revived, 3, 1, 4), bias_of(layer, 3, 1, 4)
        )

    @pytest.mark.parametrize("value", [0, -1, "8", None, True])
    def test_invalid_alibi_bias_max(self, value):
        with pytest.raises(ValueError, match="alibi_bias_max"):
            AlibiBias(alibi_bias_max=value)

    def test_wrong_rank(self):
        with pytest.raises(ValueError, match="rank 4"):
            AlibiBias()(np.zeros((2, 3, 3), "float32"))

    def test_unknown_num_heads(self):
        with pytest.raises(ValueError, match="num_heads"):
            AlibiBias()(keras.Input(shape=(None, 3, 3)))
