import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.sine_position_encoding import SinePositionEncoding
from tests.test_case import TestCase


def expected_encoding(positions, hidden_dim, max_wavelength=10000):
    """The formula of Vaswani et al., features interleaved sin/cos."""
    positions = np.asarray(positions, "float64")[..., None]
    k = np.arange(hidden_dim)
    angles = positions / max_wavelength ** (2 * (k // 2) / hidden_dim)
    return np.where(k % 2 == 0, np.sin(angles), np.cos(angles))


class TestSinePositionEncoding(TestCase):
    def test_layer_behaviors(self):
        self.run_layer_test(
            cls=SinePositionEncoding,
            init_kwargs={"max_wavelength": 1000},
            input_data=np.zeros((2, 4, 6), "float32"),
            expected_output_shape=(2, 4, 6),
            expected_output_data=np.broadcast_to(
                expected_encoding(np.arange(4), 6, 1000), (2, 4, 6)
            ),
            expected_num_trainable_weights=0,
            atol=1e-6,
        )

    @pytest.mark.parametrize("max_wavelength", [10000, 100])
    def test_values_against_formula(self, max_wavelength):
        layer = SinePositionEncoding(max_wavelength=max_wavelength)
        inputs = np.random.default_rng(0).standard_normal((3, 50, 16))
        outputs = keras.ops.convert_to_numpy(layer(inputs.astype("float32")))
        expected = expected_encoding(np.arange(50), 16, max_wavelength)
        for row in outputs:
            np.testing.assert_allclose(row, expected, atol=1e-5)
        # Hand-checked entries: position 0 is sin(0)=0, cos(0)=1.
        np.testing.assert_allclose(outputs[0, 0, :4], [0, 1, 0, 1], atol=1e-7)
        np.testing.assert_allclose(
            outputs[0, 1, :2], [np.sin(1.0), np.cos(1.0)], atol=1e-6
        )

    def test_odd_hidden_dim(self):
        outputs = SinePositionEncoding()(np.zeros((1, 7, 5), "float32"))
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(outputs)[0],
            expected_encoding(np.arange(7), 5),
            atol=1e-5,
        )

    def test_start_index_and_positions(self):
        layer = SinePositionEncoding()
        inputs = np.zeros((2, 3, 8), "float32")
        full = keras.ops.convert_to_numpy(layer(np.zeros((2, 10, 8))))
        shifted = layer(inputs, start_index=4)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(shifted), full[:, 4:7], atol=1e-6
        )
        shifted = layer(inputs, start_index=keras.ops.convert_to_tensor(4))
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(shifted), full[:, 4:7], atol=1e-6
        )
        positions = np.array([[0, 5, 9], [2, 2, 1]], "int32")
        outputs = keras.ops.convert_to_numpy(layer(inputs, positions=positions))
        np.testing.assert_allclose(outputs[0], full[0, [0, 5, 9]], atol=1e-6)
        np.testing.assert_allclose(outputs[1], full[0, [2, 2, 1]], atol=1e-6)

    def test_mixed_precision_output_dtype(self):
        layer = SinePositionEncoding(dtype="mixed_bfloat16")
        outputs = layer(np.zeros((1, 4, 8), "float32"))
        assert keras.backend.standardize_dtype(outputs.dtype) == "bfloat16"

    def test_config(self):
        layer = SinePositionEncoding(max_wavelength=500, name="sine")
        config = layer.get_config()
        assert config["max_wavelength"] == 500
        assert SinePositionEncoding.from_config(config).get_config() == config

    @pytest.mark.parametrize("value", [0, -1, "big", True])
    def test_invalid_max_wavelength(self, value):
        with pytest.raises(ValueError, match="max_wavelength"):
            SinePositionEncoding(max_wavelength=value)
