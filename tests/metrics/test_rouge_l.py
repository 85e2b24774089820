import keras
import numpy as np
import pytest

from keras_nlp_clone.metrics import RougeL
from keras_nlp_clone.metrics.rouge_l import lcs_length
from tests.metrics.test_rouge_n import assert_scores
from tests.metrics.test_rouge_n import rouge_score_means
from tests.metrics.text_pairs import news_pairs
from tests.test_case import TestCase


def python_lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    return table[-1][-1]


class TestRougeL(TestCase):
    def test_lcs_equals_textbook_dynamic_programme(self):
        rng = np.random.default_rng(0)
        for _ in range(300):
            a = rng.integers(0, 4, size=rng.integers(0, 12)).tolist()
            b = rng.integers(0, 4, size=rng.integers(0, 12)).tolist()
            assert lcs_length(a, b) == python_lcs(a, b), (a, b)

    @pytest.mark.large
    @pytest.mark.parametrize("use_stemmer", [False, True])
    def test_equals_rouge_score_on_real_pairs(self, use_stemmer):
        references, hypotheses = news_pairs()
        expected = rouge_score_means(
            "rougeL", references, hypotheses, use_stemmer
        )
        assert 0.1 < expected["f1_score"] < 0.9
        metric = RougeL(use_stemmer=use_stemmer)
        metric.update_state(list(references[:250]), list(hypotheses[:250]))
        metric.update_state(
            np.array(references[250:])[:, None], np.array(hypotheses[250:])
        )
        assert_scores(metric.result(), expected)

    def test_keras_nlp_docstring_values(self):
        y_true = "the tiny little cat was found under the big funny bed"
        y_pred = "the cat was under the bed"
        np.testing.assert_allclose(
            float(RougeL()(y_true, y_pred)["f1_score"]), 0.7058824, rtol=1e-6
        )
        y_true = [y_true, "i really love contributing to KerasNLP"]
        y_pred = [y_pred, "i love contributing to KerasNLP"]
        np.testing.assert_allclose(
            float(RougeL()(y_true, y_pred)["f1_score"]), 0.80748665, rtol=1e-6
        )
        y_true = [[t] for t in y_true]
        y_pred = [[t] for t in y_pred]
        np.testing.assert_allclose(
            float(RougeL()(y_true, y_pred)["f1_score"]), 0.80748665, rtol=1e-6
        )

    def test_empty_texts(self):
        metric = RougeL()
        assert float(metric.result()["precision"]) == 0.0
        refs, hyps = ["", "x y", "", "a b c"], ["x y", "", "", "a c"]
        metric.update_state(refs, hyps)
        assert_scores(
            metric.result(), rouge_score_means("rougeL", refs, hyps, False)
        )
        np.testing.assert_allclose(float(metric.result()["precision"]), 0.25)

    def test_bad_inputs(self):
        metric = RougeL()
        with pytest.raises(ValueError, match="same number of examples"):
            metric.update_state("a", ["a", "b"])
        with pytest.raises(ValueError, match="empty batch"):
            metric.update_state(
                np.array([], dtype=str), np.array([], dtype=str)
            )
        with pytest.raises(TypeError, match="must be a string"):
            metric.update_state(["a"], [None])
        with pytest.raises(ValueError, match="floating point"):
            RougeL(dtype="int8")

    def test_config_round_trip(self):
        metric = RougeL(use_stemmer=False, name="rl")
        config = metric.get_config()
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(metric)
        )
        assert isinstance(restored, RougeL)
        assert restored.get_config() == config
        assert config["name"] == "rl" and config["use_stemmer"] is False
