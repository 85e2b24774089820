import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.rotary_embedding import RotaryEmbedding
from tests.test_case import TestCase

BATCH, SEQ, HEADS, HEAD_DIM = 2, 7, 3, 8


def random(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def numpy_rope(x, positions, base=10000.0, scale=1.0):
    """Half-layout RoPE on `(batch, seq, heads, dim)` in float64."""
    dim = x.shape[-1]
    inverse = 1.0 / base ** (np.arange(0, dim, 2) / dim)
    angles = np.asarray(positions, "float64")[..., None] / scale * inverse
    angles = np.concatenate([angles, angles], axis=-1)
    if angles.ndim == 2:
        angles = angles[None]
    cos, sin = np.cos(angles)[:, :, None], np.sin(angles)[:, :, None]
    half = dim // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def hf_rope(x, config_kwargs, positions):
    """Hugging Face Llama's rotary embedding applied to `x` as a query."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    config = LlamaConfig(
        hidden_size=HEADS * HEAD_DIM,
        num_attention_heads=HEADS,
        **config_kwargs,
    )
    rotary = LlamaRotaryEmbedding(config)
    # HF's layout is `(batch, heads, seq, dim)`.
    q = torch.from_numpy(np.transpose(x, (0, 2, 1, 3)).copy())
    position_ids = torch.from_numpy(np.asarray(positions, "int64"))
    if position_ids.ndim == 1:
        position_ids = position_ids[None].expand(x.shape[0], -1)
    with torch.no_grad():
        cos, sin = rotary(q, position_ids)
        rotated, _ = apply_rotary_pos_emb(q, q, cos, sin)
    return np.transpose(rotated.numpy(), (0, 2, 1, 3))


class TestRotaryEmbedding(TestCase):
    def test_layer_behaviors(self):
        x = random((BATCH, SEQ, HEADS, HEAD_DIM))
        self.run_layer_test(
            cls=RotaryEmbedding,
            init_kwargs={"max_wavelength": 100, "scaling_factor": 2.0},
            input_data=x,
            expected_output_shape=x.shape,
            expected_output_data=numpy_rope(
                x, np.arange(SEQ), base=100.0, scale=2.0
            ),
            expected_num_trainable_weights=0,
            atol=1e-5,
            rtol=1e-5,
        )

    def test_matches_hugging_face_llama_rope(self):
        x = random((BATCH, SEQ, HEADS, HEAD_DIM))
        expected = hf_rope(x, {"rope_theta": 500.0}, np.arange(SEQ))
        outputs = RotaryEmbedding(max_wavelength=500)(x)
        self.assertAllClose(outputs, expected, atol=1e-5, rtol=1e-5)

    def test_linear_scaling_matches_hugging_face(self):
        x = random((BATCH, SEQ, HEADS, HEAD_DIM))
        expected = hf_rope(
            x,
            {
                "rope_parameters": {
                    "rope_type": "linear",
                    "factor": 4.0,
                    "rope_theta": 10000.0,
                }
            },
            np.arange(SEQ) + 3,
        )
        layer = RotaryEmbedding(scaling_factor=4.0)
        self.assertAllClose(
            layer(x, start_index=3), expected, atol=1e-5, rtol=1e-5
        )
        self.assertAllClose(
            layer(x, start_index=3),
            numpy_rope(x, np.arange(SEQ) + 3, scale=4.0),
            atol=1e-5,
            rtol=1e-5,
        )

    def test_yarn_matches_hugging_face(self):
        x = random((BATCH, SEQ, HEADS, HEAD_DIM))
        positions = np.array([[0, 1, 2, 50, 100, 500, 1000]] * BATCH)
        expected = hf_rope(
            x,
            {
                "max_position_embeddings": 1024,
                "rope_parameters": {
                    "rope_type": "yarn",
                    "factor": 8.0,
                    "rope_theta": 10000.0,
                    "beta_fast": 16.0,
                    "beta_slow": 2.0,
                    "original_max_position_embeddings": 128,
                },
            },
            positions,
        )
        layer = RotaryEmbedding(
            scaling_factor=8.0,
            rope_type="yarn",
            beta_fast=16.0,
            beta_slow=2.0,
            original_max_position_embeddings=128,
        )
        self.assertAllClose(
            layer(x, positions=positions), expected, atol=1e-4, rtol=1e-4
        )

    def test_start_index_equals_slice_of_full(self):
        x = random((BATCH, SEQ, HEADS, HEAD_DIM))
        layer = RotaryEmbedding()
        full = keras.ops.convert_to_numpy(layer(x))
        for index in (0, 3, SEQ - 1):
            token = x[:, index : index + 1]
            self.assertAllClose(
                layer(token, start_index=index),
                full[:, index : index + 1],
                atol=1e-6,
            )
        self.assertAllClose(
            layer(x[:, 2:4], start_index=keras.ops.convert_to_tensor(2)),
            full[:, 2:4],
            atol=1e-6,
        )

    def test_relative_positions(self):
        # Dot products of rotated queries and keys depend only on the
        # distance between their positions.
        q, k = random((1, 1, 1, HEAD_DIM)), random((1, 1, 1, HEAD_DIM), 1)
        layer = RotaryEmbedding()

        def score(i, j):
            rq = keras.ops.convert_to_numpy(layer(q, start_index=i))
            rk = keras.ops.convert_to_numpy(layer(k, start_index=j))
            return float(np.sum(rq * rk))

        assert score(5, 2) == pytest.approx(score(13, 10), abs=1e-4)
        assert score(0, 0) == pytest.approx(float(np.sum(q * k)), abs=1e-5)

    def test_axes_and_3d_inputs(self):
        x = random((BATCH, SEQ, HEADS, HEAD_DIM))
        expected = keras.ops.convert_to_numpy(RotaryEmbedding()(x))
        # `(batch, heads, seq, dim)` with `sequence_axis=2`.
        moved = np.transpose(x, (0, 2, 1, 3))
        outputs = RotaryEmbedding(sequence_axis=2)(moved)
        self.assertAllClose(
            np.transpose(keras.ops.convert_to_numpy(outputs), (0, 2, 1, 3)),
            expected,
            atol=1e-6,
        )
        # `(batch, seq, dim)`.
        outputs = RotaryEmbedding()(x[:, :, 0])
        self.assertAllClose(outputs, expected[:, :, 0], atol=1e-6)

    def test_config(self):
        layer = RotaryEmbedding(
            max_wavelength=500,
            scaling_factor=2.0,
            rope_type="yarn",
            sequence_axis=2,
            name="rope",
        )
        config = layer.get_config()
        assert config["rope_type"] == "yarn"
        assert config["sequence_axis"] == 2
        assert RotaryEmbedding.from_config(config).get_config() == config

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"rope_type": "dynamic"}, "rope_type='dynamic'"),
            ({"scaling_factor": 0}, "scaling_factor=0"),
            ({"max_wavelength": -1}, "max_wavelength=-1"),
            ({"denominator_dim": 4}, "denominator_dim=4"),
        ],
    )
    def test_invalid_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            RotaryEmbedding(**kwargs)

    def test_odd_feature_dim_raises(self):
        with pytest.raises(ValueError, match="even"):
            RotaryEmbedding()(np.zeros((1, 2, 5), "float32"))
