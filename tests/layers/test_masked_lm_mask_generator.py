import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.masked_lm_mask_generator import (
    MaskedLMMaskGenerator,
)
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase

# Selecting every selectable token and always using the mask token makes the
# layer deterministic.
DETERMINISTIC = {
    "vocabulary_size": 20,
    "mask_selection_rate": 1.0,
    "mask_token_id": 19,
    "mask_token_rate": 1.0,
    "random_token_rate": 0.0,
}


class TestMaskedLMMaskGenerator(TestCase):
    def test_preprocessing_layer_dense_padded(self):
        self.run_preprocessing_layer_test(
            cls=MaskedLMMaskGenerator,
            init_kwargs={
                **DETERMINISTIC,
                "mask_selection_length": 4,
                "unselectable_token_ids": [0, 1],
            },
            input_data=np.array([[1, 5, 6, 0], [1, 7, 0, 0]]),
            expected_output={
                "token_ids": [[1, 19, 19, 0], [1, 19, 0, 0]],
                "mask_positions": [[1, 2, 0, 0], [1, 0, 0, 0]],
                "mask_ids": [[5, 6, 0, 0], [7, 0, 0, 0]],
                "mask_weights": [[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]],
            },
        )

    def test_preprocessing_layer_ragged(self):
        self.run_preprocessing_layer_test(
            cls=MaskedLMMaskGenerator,
            init_kwargs=DETERMINISTIC,
            input_data=[[5, 6, 7], [8]],
            expected_output={
                "token_ids": [[19, 19, 19], [19]],
                "mask_positions": [[0, 1, 2], [0]],
                "mask_ids": [[5, 6, 7], [8]],
                "mask_weights": [[1.0, 1.0, 1.0], [1.0]],
            },
        )

    def test_unbatched(self):
        masker = MaskedLMMaskGenerator(
            **DETERMINISTIC, mask_selection_length=3
        )
        outputs = masker(np.array([0, 5, 6, 0]))
        self.assertAllEqual(outputs["token_ids"], [0, 19, 19, 0])
        self.assertAllEqual(outputs["mask_positions"], [1, 2, 0])
        self.assertAllEqual(outputs["mask_ids"], [5, 6, 0])
        self.assertAllEqual(outputs["mask_weights"], [1.0, 1.0, 0.0])

    def test_mask_selection_length_caps_selections(self):
        masker = MaskedLMMaskGenerator(
            **DETERMINISTIC, mask_selection_length=2
        )
        outputs = masker(np.array([[5, 6, 7, 8, 9]]))
        token_ids = keras.ops.convert_to_numpy(outputs["token_ids"])
        positions = keras.ops.convert_to_numpy(outputs["mask_positions"])
        assert (token_ids == 19).sum() == 2
        assert positions.shape == (1, 2)
        assert (token_ids[0, positions[0]] == 19).all()
        self.assertAllEqual(
            outputs["mask_ids"], np.array([[5, 6, 7, 8, 9]])[0][positions]
        )

    def test_random_masking_statistics(self):
        masker = MaskedLMMaskGenerator(
            vocabulary_size=1000,
            mask_selection_rate=0.5,
            mask_token_id=999,
            unselectable_token_ids=[0],
            mask_token_rate=0.8,
            random_token_rate=0.1,
        )
        inputs = np.tile(np.arange(1, 101), (20, 1))
        outputs = masker(inputs)
        positions = outputs["mask_positions"]
        num_selected = sum(len(row) for row in positions)
        assert 800 < num_selected < 1200  # 2000 tokens at rate 0.5.
        token_ids = keras.ops.convert_to_numpy(outputs["token_ids"])
        masked = [
            token_ids[i, p] for i, row in enumerate(positions) for p in row
        ]
        mask_fraction = np.mean(np.array(masked) == 999)
        assert 0.7 < mask_fraction < 0.9
        # Unselected tokens are untouched; ids record the originals.
        changed = token_ids != inputs
        for i, row in enumerate(positions):
            assert set(np.nonzero(changed[i])[0]) <= set(row)
            assert outputs["mask_ids"][i] == inputs[i][row].tolist()

    def test_unselectable_tokens_never_selected(self):
        masker = MaskedLMMaskGenerator(
            **{**DETERMINISTIC, "mask_selection_rate": 0.9},
            unselectable_token_ids=[0, 1, 2],
        )
        outputs = masker([[1, 3, 2, 4, 0], [2, 1, 0]])
        for row, ids in zip(outputs["mask_ids"], [[3, 4], []]):
            assert set(row) <= set(ids)

    def test_in_tf_data(self):
        masker = MaskedLMMaskGenerator(
            **DETERMINISTIC, mask_selection_length=3
        )
        ds = tf.data.Dataset.from_tensor_slices(
            tf.ragged.constant([[5, 6], [7, 8, 9]])
        ).batch(2)
        outputs = next(iter(ds.map(masker)))
        assert outputs["mask_positions"].shape == (2, 3)
        assert outputs["mask_weights"].dtype == tf.float32

    def test_config(self):
        masker = MaskedLMMaskGenerator(
            vocabulary_size=30,
            mask_selection_rate=0.2,
            mask_token_id=4,
            mask_selection_length=5,
            unselectable_token_ids=[0, 1, 2],
            mask_token_rate=0.7,
            random_token_rate=0.2,
        )
        config = masker.get_config()
        for key, value in {
            "vocabulary_size": 30,
            "mask_selection_rate": 0.2,
            "mask_token_id": 4,
            "mask_selection_length": 5,
            "unselectable_token_ids": [0, 1, 2],
            "mask_token_rate": 0.7,
            "random_token_rate": 0.2,
        }.items():
            assert config[key] == value
        assert MaskedLMMaskGenerator.from_config(config).get_config() == config

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"mask_token_rate": 0.9, "random_token_rate": 0.2}, "at most 1"),
            ({"mask_selection_rate": 1.5}, "mask_selection_rate=1.5"),
            ({"random_token_rate": -0.1}, "random_token_rate=-0.1"),
            ({"mask_token_id": 20}, "mask_token_id=20"),
            ({"vocabulary_size": 0}, "vocabulary_size=0"),
            ({"mask_selection_length": 0}, "mask_selection_length=0"),
        ],
    )
    def test_invalid_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            MaskedLMMaskGenerator(**{**DETERMINISTIC, **kwargs})
