import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.f_net_encoder import FNetEncoder
from keras_nlp_clone.utils.keras_utils import gelu_approximate
from tests.test_case import TestCase

BATCH, SEQ, HIDDEN, INTERMEDIATE = 2, 5, 8, 16


def random_inputs(shape=(BATCH, SEQ, HIDDEN), seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def numpy_reference(x, weights, epsilon, activation):
    """FNet's block from the paper's equations, in float64 NumPy."""

    def layer_norm(v, gamma, beta):
        mean = v.mean(-1, keepdims=True)
        var = ((v - mean) ** 2).mean(-1, keepdims=True)
        return (v - mean) / np.sqrt(var + epsilon) * gamma + beta

    x = x.astype("float64")
    mixed = np.fft.fft2(x, axes=(1, 2)).real
    h = layer_norm(x + mixed, *weights["mixing_layer_norm"])
    w1, b1 = weights["intermediate_dense"]
    w2, b2 = weights["output_dense"]
    ff = activation(h @ w1 + b1) @ w2 + b2
    return layer_norm(h + ff, *weights["output_layer_norm"])


def randomize(layer, seed=0):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [rng.standard_normal(w.shape) * 0.5 for w in layer.get_weights()]
    )


class TestFNetEncoder(TestCase):
    def test_layer_behaviors(self):
        self.run_layer_test(
            cls=FNetEncoder,
            init_kwargs={
                "intermediate_dim": INTERMEDIATE,
                "dropout": 0.1,
                "activation": "gelu",
            },
            input_data=random_inputs(),
            expected_output_shape=(BATCH, SEQ, HIDDEN),
            # 2 dense x (kernel, bias), 2 norms x (gamma, beta).
            expected_num_trainable_weights=8,
            expected_num_non_trainable_weights=0,
        )

    def test_sublayer_names_and_shapes(self):
        layer = FNetEncoder(INTERMEDIATE)
        layer.build((None, SEQ, HIDDEN))
        assert tuple(layer._intermediate_dense.kernel.shape) == (
            HIDDEN,
            INTERMEDIATE,
        )
        assert tuple(layer._output_dense.kernel.shape) == (
            INTERMEDIATE,
            HIDDEN,
        )
        for name in ("_mixing_layer_norm", "_output_layer_norm"):
            assert isinstance(
                getattr(layer, name), keras.layers.LayerNormalization
            )
        assert isinstance(layer._output_dropout, keras.layers.Dropout)

    def test_matches_hugging_face_fnet_layer(self):
        torch = pytest.importorskip("torch")
        transformers = pytest.importorskip("transformers")
        from transformers.models.fnet.modeling_fnet import FNetLayer

        config = transformers.FNetConfig(
            hidden_size=HIDDEN,
            intermediate_size=INTERMEDIATE,
            hidden_act="gelu_new",
            layer_norm_eps=1e-12,
            hidden_dropout_prob=0.1,
            use_tpu_fourier_optimizations=False,
        )
        torch.manual_seed(0)
        hf_layer = FNetLayer(config).eval()
        with torch.no_grad():
            for param in hf_layer.parameters():
                param.copy_(torch.randn_like(param) * 0.5)
        sd = {k: v.detach().numpy() for k, v in hf_layer.state_dict().items()}

        layer = FNetEncoder(
            intermediate_dim=INTERMEDIATE,
            dropout=0.1,
            activation=gelu_approximate,
            layer_norm_epsilon=1e-12,
        )
        layer.build((None, SEQ, HIDDEN))
        layer._mixing_layer_norm.set_weights(
            [
                sd["fourier.output.LayerNorm.weight"],
                sd["fourier.output.LayerNorm.bias"],
            ]
        )
        layer._intermediate_dense.set_weights(
            [sd["intermediate.dense.weight"].T, sd["intermediate.dense.bias"]]
        )
        layer._output_dense.set_weights(
            [sd["output.dense.weight"].T, sd["output.dense.bias"]]
        )
        layer._output_layer_norm.set_weights(
            [sd["output.LayerNorm.weight"], sd["output.LayerNorm.bias"]]
        )
        x = random_inputs(seed=3)
        with torch.no_grad():
            expected = hf_layer(torch.from_numpy(x))[0].numpy()
        self.assertAllClose(layer(x), expected, atol=1e-5, rtol=1e-5)

    # Odd sizes on both FFT axes; the Hugging Face test covers (2, 5, 8).
    @pytest.mark.parametrize("shape", [(1, 7, 5)])
    def test_matches_numpy_reference(self, shape):
        layer = FNetEncoder(INTERMEDIATE, layer_norm_epsilon=1e-5)
        layer.build((None, *shape[1:]))
        randomize(layer, seed=1)
        weights = {
            name: [w.astype("float64") for w in sub.get_weights()]
            for name, sub in (
                ("mixing_layer_norm", layer._mixing_layer_norm),
                ("intermediate_dense", layer._intermediate_dense),
                ("output_dense", layer._output_dense),
                ("output_layer_norm", layer._output_layer_norm),
            )
        }
        x = random_inputs(shape, seed=2)
        expected = numpy_reference(
            x, weights, 1e-5, lambda v: np.maximum(v, 0.0)
        )
        self.assertAllClose(layer(x), expected, atol=1e-5, rtol=1e-5)

    def test_no_padding_mask_padding_changes_outputs(self):
        # FNet mixes every position: appending padding changes the outputs
        # at the real tokens (documented; there is no mask to pass).
        layer = FNetEncoder(INTERMEDIATE)
        padded = random_inputs()
        padded[:, 3:] = 0.0
        short = to_numpy(layer(padded[:, :3]))
        long = to_numpy(layer(padded))[:, :3]
        assert np.abs(short - long).max() > 1e-3

    def test_dropout_only_in_training(self):
        layer = FNetEncoder(INTERMEDIATE, dropout=0.5)
        x = random_inputs()
        inference = to_numpy(layer(x, training=False))
        np.testing.assert_allclose(to_numpy(layer(x)), inference)
        assert np.abs(to_numpy(layer(x, training=True)) - inference).max() > 0

    def test_config(self):
        layer = FNetEncoder(
            intermediate_dim=32,
            dropout=0.2,
            activation=gelu_approximate,
            layer_norm_epsilon=1e-12,
            kernel_initializer="he_normal",
            bias_initializer="ones",
        )
        config = layer.get_config()
        for key, value in {
            "intermediate_dim": 32,
            "dropout": 0.2,
            "layer_norm_epsilon": 1e-12,
        }.items():
            assert config[key] == value
        revived = FNetEncoder.from_config(config)
        assert revived.get_config() == config
        assert revived.activation is gelu_approximate

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"intermediate_dim": 0}, "intermediate_dim=0"),
            ({"intermediate_dim": 8.0}, "intermediate_dim=8.0"),
            ({"intermediate_dim": 8, "dropout": 1.0}, "dropout=1.0"),
        ],
    )
    def test_invalid_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            FNetEncoder(**kwargs)

    def test_wrong_rank(self):
        with pytest.raises(ValueError, match="hidden_dim"):
            FNetEncoder(8)(np.zeros((2, 8), "float32"))
