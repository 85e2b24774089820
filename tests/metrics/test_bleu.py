import keras
import numpy as np
import pytest
import sacrebleu
from sacrebleu.metrics.bleu import BLEU
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from keras_nlp_clone.metrics import Bleu
from keras_nlp_clone.metrics.bleu import tokenize_13a
from keras_nlp_clone.tokenizers import ByteTokenizer
from tests.metrics.text_pairs import news_pairs
from tests.test_case import TestCase

TRICKY = [
    "Hello, world. It costs $3.50, i.e. 1,000 yen!",
    "x-ray 10-20 a.b.c. end.",
    "&quot;quoted&quot; &amp; &lt;tag&gt; <skipped> kept",
    "line one-\nline two\nthree  ",
    "Ünïcödé — dashes – and “quotes” ‘single’ ",
    "",
    "   ",
    "trailing comma,",
    "3.",
]


def sacrebleu_tokens(text):
    # SacreBLEU right-strips a segment before its tokenizer runs.
    return Tokenizer13a()(text.rstrip()).split()


def shortest_reference_oracle(hypotheses, references, max_order=4):
    """sacrebleu's corpus counts with KerasNLP's shortest-reference length."""
    # sacrebleu takes reference streams; None marks a missing reference.
    num_streams = max(len(r) for r in references)
    streams = [
        [r[k] if k < len(r) else None for r in references]
        for k in range(num_streams)
    ]
    score = sacrebleu.corpus_bleu(hypotheses, streams, smooth_method="none")
    ref_len = sum(
        min(len(sacrebleu_tokens(r)) for r in refs) for refs in references
    )
    return (
        BLEU.compute_bleu(
            list(score.counts),
            list(score.totals),
            score.sys_len,
            ref_len,
            smooth_method="none",
            max_ngram_order=max_order,
        ).score
        / 100
    )


class TestBleu(TestCase):
    @pytest.mark.large
    def test_default_tokenizer_is_sacrebleu_13a(self):
        references, hypotheses = news_pairs()
        for text in TRICKY + list(references) + list(hypotheses):
            assert tokenize_13a(text) == sacrebleu_tokens(text), text

    @pytest.mark.large
    def test_equals_sacrebleu_on_real_pairs(self):
        references, hypotheses = news_pairs()
        expected = sacrebleu.corpus_bleu(
            list(hypotheses), [list(references)], smooth_method="none"
        ).score
        assert 5 < expected < 60
        bleu = Bleu()
        bleu.update_state(list(references), list(hypotheses))
        np.testing.assert_allclose(
            float(bleu.result()), expected / 100, atol=1e-4
        )
        # Counts accumulate: five updates of 100 pairs give the same score,
        # here with (batch, 1) NumPy inputs.
        bleu.reset_state()
        for start in range(0, 500, 100):
            refs = np.array(references[start : start + 100])[:, None]
            hyps = np.array(hypotheses[start : start + 100])[:, None]
            bleu.update_state(refs, hyps)
        np.testing.assert_allclose(
            float(bleu.result()), expected / 100, atol=1e-4
        )
        # Other orders, against sacrebleu's max_ngram_order.
        for order in (1, 2):
            expected = BLEU(max_ngram_order=order, smooth_method="none")
            expected = expected.corpus_score(
                list(hypotheses), [list(references)]
            ).score
            bleu = Bleu(max_order=order)
            bleu.update_state(list(references), list(hypotheses))
            np.testing.assert_allclose(
                float(bleu.result()), expected / 100, atol=1e-4
            )

    def test_smooth_adds_one_to_every_order(self):
        # KerasNLP's smoothing adds 1 to matches and totals of every order,
        # unigrams included; sacrebleu's "add-k" (k=1) skips unigrams, so
        # the unigram counts get their +1 before `compute_bleu`.
        references, hypotheses = news_pairs()
        refs, hyps = list(references[:40]), list(hypotheses[:40])
        score = sacrebleu.corpus_bleu(hyps, [refs], smooth_method="none")
        counts, totals = list(score.counts), list(score.totals)
        counts[0] += 1
        totals[0] += 1
        expected = BLEU.compute_bleu(
            counts,
            totals,
            score.sys_len,
            score.ref_len,
            smooth_method="add-k",
            smooth_value=1,
        ).score
        bleu = Bleu(smooth=True)
        bleu.update_state(refs, hyps)
        np.testing.assert_allclose(
            float(bleu.result()), expected / 100, atol=1e-4
        )
        # With no 4-gram match at all, smoothing keeps BLEU positive:
        # "a b c d" against "a b c e": p = 4/5, 3/4, 2/3, 1/2; no penalty.
        bleu = Bleu(smooth=True)
        bleu.update_state(["a b c e"], ["a b c d"])
        expected = (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25
        np.testing.assert_allclose(float(bleu.result()), expected, rtol=1e-6)
        unsmoothed = Bleu()
        unsmoothed.update_state(["a b c e"], ["a b c d"])
        assert float(unsmoothed.result()) == 0.0

    @pytest.mark.large
    def test_several_references(self):
        references, hypotheses = news_pairs()
        # Two references each: the real one and another article's sentence,
        # a ragged mix with some examples having one reference only.
        multi = [
            [references[i], references[(i + 1) % 500]]
            if i % 2
            else [references[i]]
            for i in range(500)
        ]
        bleu = Bleu()
        bleu.update_state(multi, list(hypotheses))
        expected = shortest_reference_oracle(list(hypotheses), multi)
        np.testing.assert_allclose(float(bleu.result()), expected, atol=1e-4)
        # Where every hypothesis is no longer than its shortest reference,
        # the shortest is also the closest: plain sacrebleu agrees.
        refs = [["the cat sat on the mat", "a cat was sitting on the mat"]]
        hyps = ["the cat sat on a mat"]
        bleu = Bleu(max_order=2)
        bleu.update_state(refs, hyps)
        expected = BLEU(max_ngram_order=2, smooth_method="none").corpus_score(
            hyps, [[refs[0][0]], [refs[0][1]]]
        )
        np.testing.assert_allclose(
            float(bleu.result()), expected.score / 100, atol=1e-6
        )
        # A hypothesis longer than its shortest reference: 5 tokens against
        # references of 3 and 5 tokens uses length 3 (no brevity penalty,
        # unigram precision 3/5 with the first reference's words).
        bleu = Bleu(max_order=1)
        bleu.update_state([["a b c", "x y z w v"]], "a b c d e")
        np.testing.assert_allclose(float(bleu.result()), 3 / 5, rtol=1e-6)
        # One hypothesis with a 1D list of references (KerasNLP's unbatched
        # form) equals the batched (1, num_references) form.
        unbatched = Bleu()
        unbatched.update_state(multi[1], hypotheses[1])
        batched = Bleu()
        batched.update_state([multi[1]], [hypotheses[1]])
        assert float(unbatched.result()) == float(batched.result())

    def test_tf_inputs(self):
        import tensorflow as tf

        references, hypotheses = news_pairs()
        refs = [[r] for r in references[:50]]
        bleu = Bleu()
        bleu.update_state(
            tf.ragged.constant(refs), tf.constant(hypotheses[:50])
        )
        expected = sacrebleu.corpus_bleu(
            list(hypotheses[:50]), [list(references[:50])], smooth_method="none"
        ).score
        np.testing.assert_allclose(
            float(bleu.result()), expected / 100, atol=1e-4
        )

    def test_custom_tokenizer(self):
        references, hypotheses = news_pairs()
        refs, hyps = list(references[:60]), list(hypotheses[:60])
        bleu = Bleu(tokenizer=lambda texts: [t.split() for t in texts])
        bleu.update_state(refs, hyps)
        # A plain callable stays itself through a config round trip.
        restored = Bleu.from_config(bleu.get_config())
        assert restored.tokenizer is bleu.tokenizer
        expected = sacrebleu.corpus_bleu(
            hyps, [refs], smooth_method="none", tokenize="none"
        ).score
        np.testing.assert_allclose(
            float(bleu.result()), expected / 100, atol=1e-4
        )
        # A library tokenizer (byte ids) works and serializes.
        bleu = Bleu(tokenizer=ByteTokenizer(), max_order=2)
        bleu.update_state(["abc"], ["abd"])
        # Bytes: unigrams 2/3, bigrams 1/2.
        np.testing.assert_allclose(
            float(bleu.result()), (2 / 3 * 1 / 2) ** 0.5, rtol=1e-6
        )
        restored = Bleu.from_config(bleu.get_config())
        assert isinstance(restored.tokenizer, ByteTokenizer)
        restored.update_state(["abc"], ["abd"])
        assert float(restored.result()) == float(bleu.result())

    def test_empty_references_and_hypotheses(self):
        bleu = Bleu()
        assert float(bleu.result()) == 0.0
        # Only empty strings: no tokens at all, BLEU is defined as 0.
        bleu.update_state([""], [""])
        assert float(bleu.result()) == 0.0
        # An empty reference matches nothing.
        bleu.update_state([""], ["some words here"])
        assert float(bleu.result()) == 0.0
        # An empty reference next to a real pair: it adds the hypothesis's
        # n-grams as possible matches and 0 reference tokens.
        pair = ["a b c d e", "a b c d e"]
        bleu = Bleu(max_order=1)
        bleu.update_state([pair[0], ""], [pair[1], "x y"])
        np.testing.assert_allclose(float(bleu.result()), 5 / 7, rtol=1e-6)
        # An empty hypothesis: brevity penalty exp(1 - 5/5)=1 on 5 tokens.
        bleu = Bleu(max_order=1)
        bleu.update_state([pair[0], "q"], [pair[1], ""])
        np.testing.assert_allclose(
            float(bleu.result()), np.exp(1 - 6 / 5), rtol=1e-6
        )
        bleu.reset_state()
        assert float(bleu.result()) == 0.0

    def test_bad_inputs(self):
        bleu = Bleu()
        with pytest.raises(ValueError, match="same number of examples"):
            bleu.update_state(["a", "b", "c"], ["a", "b"])
        with pytest.raises(ValueError, match="same number of examples"):
            bleu.update_state([["a"], ["b"]], ["a", "b", "c"])
        with pytest.raises(ValueError, match="empty batch"):
            bleu.update_state([], [])
        with pytest.raises(TypeError, match="must be a string"):
            bleu.update_state([[1, 2]], ["a"])
        with pytest.raises(TypeError, match="must be a string"):
            bleu.update_state(["a"], np.array([3]))
        with pytest.raises(ValueError, match="no reference"):
            bleu.update_state([[], ["a"]], ["a", "b"])
        with pytest.raises(ValueError, match="nesting depth"):
            bleu.update_state(["a"], [[["a"]]])
        with pytest.raises(ValueError, match="sample_weight"):
            bleu.update_state(["a"], ["a"], sample_weight=[1.0])
        with pytest.raises(ValueError, match="runs eagerly"):
            bleu.update_state(keras.KerasTensor((None,), dtype="string"), ["a"])
        with pytest.raises(ValueError, match="max_order"):
            Bleu(max_order=0)
        with pytest.raises(ValueError, match="floating point"):
            Bleu(dtype="int32")
        with pytest.raises(ValueError, match="callable"):
            Bleu(tokenizer="13a")
        assert float(bleu.result()) == 0.0

    def test_config_round_trip(self):
        bleu = Bleu(max_order=3, smooth=True, name="my_bleu")
        config = bleu.get_config()
        assert config["tokenizer"] is None
        assert config["max_order"] == 3 and config["smooth"] is True
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(bleu)
        )
        assert isinstance(restored, Bleu)
        assert restored.get_config() == config
