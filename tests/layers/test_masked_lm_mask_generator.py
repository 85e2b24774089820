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

    def test_selects_ceil_rate_of_selectable_tokens_per_row(self):
        # TensorFlow Text's `RandomItemSelector` count: ceil(rate * n),
        # capped by `mask_selection_length`, over selectable tokens only.
        masker = MaskedLMMaskGenerator(
            **{**DETERMINISTIC, "mask_selection_rate": 0.3},
            unselectable_token_ids=[0, 1],
        )
        rows = [[1, 5, 6, 7, 0], [1] + list(range(2, 12)), [0, 1], [9]]
        outputs = masker(rows)
        counts = [len(row) for row in outputs["mask_positions"]]
        assert counts == [1, 3, 0, 1]
        capped = MaskedLMMaskGenerator(
            **{**DETERMINISTIC, "mask_selection_rate": 0.3},
            unselectable_token_ids=[0, 1],
            mask_selection_length=2,
        )(rows)
        weights = keras.ops.convert_to_numpy(capped["mask_weights"])
        assert weights.sum(axis=1).tolist() == [1.0, 2.0, 0.0, 1.0]

    def test_selection_is_uniform_over_selectable_positions(self):
        masker = MaskedLMMaskGenerator(
            **{**DETERMINISTIC, "mask_selection_rate": 0.25}, seed=11
        )
        # 4000 rows of 8 selectable tokens: 2 picked per row, so each
        # position is picked 1000 times in expectation (sd about 27).
        outputs = masker(np.tile(np.arange(1, 9), (4000, 1)))
        positions = np.asarray(outputs["mask_positions"]).reshape(-1)
        counts = np.bincount(positions, minlength=8)
        assert counts.sum() == 8000
        assert np.all(np.abs(counts - 1000) < 150), counts

    def test_random_token_rate_gives_ids_in_vocabulary(self):
        masker = MaskedLMMaskGenerator(
            vocabulary_size=50,
            mask_selection_rate=1.0,
            mask_token_id=49,
            mask_token_rate=0.0,
            random_token_rate=1.0,
            unselectable_token_ids=[],
            seed=3,
        )
        inputs = np.full((64, 16), 7, dtype="int32")
        token_ids = keras.ops.convert_to_numpy(masker(inputs)["token_ids"])
        assert token_ids.dtype == np.int32
        assert token_ids.min() >= 0 and token_ids.max() < 50
        # Random ids cover the vocabulary (about 20 draws per id).
        assert len(np.unique(token_ids)) > 40

    def test_seed_repeats_and_calls_redraw(self):
        kwargs = {**DETERMINISTIC, "mask_selection_rate": 0.5, "seed": 5}
        inputs = np.tile(np.arange(1, 17), (4, 1))
        first = MaskedLMMaskGenerator(**kwargs)
        second = MaskedLMMaskGenerator(**kwargs)
        a = first(inputs)["mask_positions"]
        self.assertAllEqual(a, second(inputs)["mask_positions"])
        # The next call of the same layer draws new masks.
        assert not np.array_equal(
            np.asarray(a), np.asarray(first(inputs)["mask_positions"])
        )

    def test_new_masks_on_every_tf_data_iterator_under_global_seed(self):
        # `fit` may make a new iterator per epoch. TensorFlow's stateful
        # random ops replay their draws on each new iterator when a
        # global seed is set; the layer's generator must not.
        keras.utils.set_random_seed(1)
        masker = MaskedLMMaskGenerator(
            **{**DETERMINISTIC, "mask_selection_rate": 0.5},
            mask_selection_length=8,
        )
        ds = tf.data.Dataset.from_tensor_slices(
            np.tile(np.arange(1, 17), (8, 1))
        ).batch(4).map(masker)

        def epoch():
            return np.concatenate(
                [batch["mask_positions"].numpy() for batch in ds]
            )

        first, second = epoch(), epoch()
        assert first.shape == second.shape == (8, 8)
        assert not np.array_equal(first, second)

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
            "seed": None,
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
            ({"seed": 1.5}, "seed=1.5"),
        ],
    )
    def test_invalid_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            MaskedLMMaskGenerator(**{**DETERMINISTIC, **kwargs})
