import sys

import keras
import numpy as np
import pytest
from rouge_score import rouge_scorer
from rouge_score import tokenizers

from keras_nlp_clone.metrics import RougeN
from tests.metrics.text_pairs import news_pairs
from tests.test_case import TestCase

TRICKY = [
    "Hello, WORLD!! It's 3.50 -- running runners ran.",
    "Ünïcödé café naïve résumé, ÆØÅ and 東京 text",
    "",
    "   ",
    "a-b_c d'e f.g",
    "generously generalizations happily conditional",
]


def rouge_score_means(rouge_type, references, hypotheses, use_stemmer):
    scorer = rouge_scorer.RougeScorer([rouge_type], use_stemmer=use_stemmer)
    scores = [
        scorer.score(r, h)[rouge_type] for r, h in zip(references, hypotheses)
    ]
    return {
        "precision": np.mean([s.precision for s in scores]),
        "recall": np.mean([s.recall for s in scores]),
        "f1_score": np.mean([s.fmeasure for s in scores]),
    }


def assert_scores(result, expected, atol=1e-6):
    assert sorted(result) == ["f1_score", "precision", "recall"]
    for key in expected:
        np.testing.assert_allclose(
            float(result[key]), expected[key], atol=atol, err_msg=key
        )


class TestRougeN(TestCase):
    @pytest.mark.large
    @pytest.mark.parametrize("use_stemmer", [False, True])
    def test_tokenization_equals_rouge_score(self, use_stemmer):
        references, hypotheses = news_pairs()
        oracle = tokenizers.DefaultTokenizer(use_stemmer=use_stemmer)
        metric = RougeN(use_stemmer=use_stemmer)
        for text in TRICKY + list(references) + list(hypotheses):
            assert metric._tokenize(text) == oracle.tokenize(text), text

    @pytest.mark.large
    @pytest.mark.parametrize(
        "order, use_stemmer", [(1, False), (2, False), (3, False), (2, True)]
    )
    def test_equals_rouge_score_on_real_pairs(self, order, use_stemmer):
        references, hypotheses = news_pairs()
        expected = rouge_score_means(
            f"rouge{order}", references, hypotheses, use_stemmer
        )
        # The pairs spread the scores: neither all 0 nor all 1.
        assert 0.1 < expected["f1_score"] < 0.9
        metric = RougeN(order=order, use_stemmer=use_stemmer)
        # Per-example means accumulate over updates of different sizes.
        for start, stop in ((0, 1), (1, 200), (200, 500)):
            metric.update_state(
                list(references[start:stop]), list(hypotheses[start:stop])
            )
        assert_scores(metric.result(), expected)

    def test_keras_nlp_docstring_values(self):
        rouge_n = RougeN(order=2)
        y_true = "the tiny little cat was found under the big funny bed"
        y_pred = "the cat was under the bed"
        np.testing.assert_allclose(
            float(rouge_n(y_true, y_pred)["f1_score"]), 0.26666668, rtol=1e-6
        )

    def test_input_forms(self):
        import tensorflow as tf

        references, hypotheses = news_pairs()
        refs, hyps = list(references[:20]), list(hypotheses[:20])
        expected = rouge_score_means("rouge2", refs, hyps, False)
        for y_true, y_pred in (
            (np.array(refs), np.array(hyps)),
            (np.array(refs)[:, None], np.array(hyps)[:, None]),
            (tf.constant(refs), tf.constant(hyps)[:, None]),
            ([r.encode() for r in refs], hyps),
        ):
            metric = RougeN()
            metric.update_state(y_true, y_pred)
            assert_scores(metric.result(), expected)

    def test_empty_texts_and_reset(self):
        metric = RougeN(order=1)
        assert_scores(
            metric.result(), {"precision": 0, "recall": 0, "f1_score": 0}
        )
        # Empty reference, empty hypothesis, both empty: each scores 0 (as
        # rouge-score); the fourth example is perfect: means are 1/4.
        metric.update_state(["", "a b", "", "c d"], ["a b", "", "", "c d"])
        assert_scores(
            metric.result(),
            {"precision": 0.25, "recall": 0.25, "f1_score": 0.25},
        )
        expected = rouge_score_means(
            "rouge1", ["", "a b", "", "c d"], ["a b", "", "", "c d"], False
        )
        assert_scores(metric.result(), expected)
        metric.reset_state()
        assert float(metric.result()["f1_score"]) == 0.0

    def test_bad_inputs(self):
        metric = RougeN()
        with pytest.raises(ValueError, match="same number of examples"):
            metric.update_state(["a", "b"], ["a"])
        with pytest.raises(ValueError, match="empty batch"):
            metric.update_state([], [])
        with pytest.raises(TypeError, match="must be a string"):
            metric.update_state([1, 2], ["a", "b"])
        with pytest.raises(ValueError, match=r"\(batch_size, 1\)"):
            metric.update_state([["a", "b"]], ["a"])
        with pytest.raises(ValueError, match="nesting depth"):
            metric.update_state([[["a"]]], ["a"])
        with pytest.raises(ValueError, match="sample_weight"):
            metric.update_state(["a"], ["a"], sample_weight=[2.0])
        with pytest.raises(ValueError, match="runs eagerly"):
            metric.update_state(
                keras.KerasTensor((None,), dtype="string"), ["a"]
            )
        for order in (0, 10, 2.0, True):
            with pytest.raises(ValueError, match="order"):
                RougeN(order=order)
        with pytest.raises(ValueError, match="floating point"):
            RougeN(dtype="int32")
        assert float(metric.result()["f1_score"]) == 0.0

    def test_missing_nltk_error(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "nltk.stem", None)
        with pytest.raises(ImportError, match="pip install nltk"):
            RougeN(use_stemmer=True)
        RougeN(use_stemmer=False)

    def test_config_round_trip(self):
        metric = RougeN(order=3, use_stemmer=True, name="r3", dtype="float64")
        config = metric.get_config()
        assert config["order"] == 3 and config["use_stemmer"] is True
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(metric)
        )
        assert isinstance(restored, RougeN)
        assert restored.get_config() == config
        restored.update_state("running dogs", "the dog runs")
        assert float(restored.result()["recall"]) == 0.0
