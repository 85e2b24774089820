import keras
import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from keras_nlp_clone.metrics import EditDistance
from keras_nlp_clone.metrics.edit_distance import levenshtein
from tests.metrics.text_pairs import news_pairs
from tests.test_case import TestCase


class TestEditDistance(TestCase):
    def test_levenshtein_equals_rapidfuzz_on_random_sequences(self):
        rng = np.random.default_rng(0)
        for _ in range(400):
            a = rng.integers(0, 5, size=rng.integers(0, 15)).tolist()
            b = rng.integers(0, 5, size=rng.integers(0, 15)).tolist()
            assert levenshtein(a, b) == Levenshtein.distance(a, b), (a, b)

    @pytest.mark.large
    def test_word_error_rate_equals_rapidfuzz_on_real_pairs(self):
        references, hypotheses = news_pairs()
        refs = [r.split() for r in references]
        hyps = [h.split() for h in hypotheses]
        distances = [Levenshtein.distance(r, h) for r, h in zip(refs, hyps)]
        total_ref = sum(len(r) for r in refs)

        normalized = EditDistance()
        unnormalized = EditDistance(normalize=False)
        for start in range(0, 500, 125):
            normalized.update_state(
                refs[start : start + 125], hyps[start : start + 125]
            )
            unnormalized.update_state(
                refs[start : start + 125], hyps[start : start + 125]
            )
        np.testing.assert_allclose(
            float(normalized.result()), sum(distances) / total_ref, rtol=1e-6
        )
        np.testing.assert_allclose(
            float(unnormalized.result()), np.mean(distances), rtol=1e-6
        )

    def test_character_error_rate_and_int_tokens(self):
        references, hypotheses = news_pairs()
        refs = [list(r) for r in references[:40]]
        hyps = [list(h) for h in hypotheses[:40]]
        expected = sum(
            Levenshtein.distance(r, h)
            for r, h in zip(references[:40], hypotheses[:40])
        ) / sum(len(r) for r in refs)
        metric = EditDistance()
        metric.update_state(refs, hyps)
        np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-6)
        # Code points as int tokens, through a tf.RaggedTensor and NumPy.
        import tensorflow as tf

        ref_ids = tf.ragged.constant(
            [[ord(c) for c in r] for r in references[:40]]
        )
        hyp_ids = [np.array([ord(c) for c in h]) for h in hypotheses[:40]]
        metric = EditDistance()
        metric.update_state(ref_ids, hyp_ids)
        np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-6)
        # A dense batch of ids (no padding) as a backend tensor.
        metric = EditDistance(normalize=False)
        metric.update_state(
            keras.ops.convert_to_tensor([[1, 2, 3], [4, 5, 6]]),
            keras.ops.convert_to_tensor([[1, 3, 3], [6, 5, 4]]),
        )
        np.testing.assert_allclose(float(metric.result()), 1.5)

    def test_keras_nlp_docstring_values(self):
        y_true = "the tiny little cat was found under the big funny bed".split()
        y_pred = "the cat was found under the bed".split()
        np.testing.assert_allclose(
            float(EditDistance()(y_true, y_pred)), 0.36363637, rtol=1e-6
        )
        y_true = [y_true, "it is sunny today".split()]
        y_pred = [y_pred, "it is sunny but with a hint of cloud cover".split()]
        np.testing.assert_allclose(
            float(EditDistance()(y_true, y_pred)), 0.73333335, rtol=1e-6
        )

    def test_empty_references(self):
        metric = EditDistance()
        assert float(metric.result()) == 0.0
        # Only empty references: no reference token; 0 edits give 0.0 ...
        metric.update_state([[]], [[]])
        assert float(metric.result()) == 0.0
        # ... and any edit gives inf (edits against nothing).
        metric.update_state([[]], [["a", "b"]])
        assert float(metric.result()) == float("inf")
        # Next to a real reference, an empty one just adds its insertions.
        metric.update_state([["a", "b", "c", "d"]], [["a", "b", "c", "d"]])
        np.testing.assert_allclose(float(metric.result()), 2 / 4)
        unnormalized = EditDistance(normalize=False)
        unnormalized.update_state([[], ["x"]], [["a", "b"], []])
        np.testing.assert_allclose(float(unnormalized.result()), 1.5)
        unnormalized.reset_state()
        assert float(unnormalized.result()) == 0.0

    def test_bad_inputs(self):
        metric = EditDistance()
        with pytest.raises(ValueError, match="same number of examples"):
            metric.update_state([["a"], ["b"]], [["a"]])
        with pytest.raises(ValueError, match="plain string"):
            metric.update_state("the cat", "the dog")
        with pytest.raises(ValueError, match="empty batch"):
            metric.update_state(
                np.zeros((0, 3), "int32"), np.zeros((0, 3), "int32")
            )
        with pytest.raises(ValueError, match="rank 1"):
            metric.update_state(
                np.zeros((2, 3, 4), "int32"), np.zeros((2, 3, 4), "int32")
            )
        with pytest.raises(TypeError, match="kind"):
            metric.update_state([["a", "b"]], [[1, 2]])
        with pytest.raises(TypeError, match="all be strings"):
            metric.update_state([[0.5, 1.5]], [[0.5]])
        with pytest.raises(ValueError, match="sample_weight"):
            metric.update_state([["a"]], [["a"]], sample_weight=[1.0])
        with pytest.raises(ValueError, match="runs eagerly"):
            metric.update_state(
                keras.KerasTensor((None, 4), dtype="int32"), [[1]]
            )
        with pytest.raises(ValueError, match="floating point"):
            EditDistance(dtype="int32")
        assert float(metric.result()) == 0.0

    def test_config_round_trip(self):
        metric = EditDistance(normalize=False, name="wer")
        config = metric.get_config()
        assert config["normalize"] is False
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(metric)
        )
        assert isinstance(restored, EditDistance)
        assert restored.get_config() == config
