import keras
import numpy as np
import pytest

from keras_nlp_clone.samplers.top_k_sampler import TopKSampler
from tests.samplers.toy_models import BigramModel
from tests.samplers.toy_models import ConstantModel
from tests.samplers.toy_models import compile_fn
from tests.samplers.toy_models import frequencies
from tests.samplers.toy_models import random_table
from tests.samplers.toy_models import reference_greedy
from tests.samplers.toy_models import to_numpy
from tests.test_case import TestCase

PROBABILITIES = np.array([0.15, 0.5, 0.05, 0.3])


class TestTopKSampler(TestCase):
    def test_draws_only_top_k_with_renormalized_frequencies(self):
        prompt = np.zeros((4000, 2), "int32")
        sampler = TopKSampler(k=2, seed=21)
        tokens = to_numpy(
            sampler(ConstantModel(PROBABILITIES).next, prompt, index=1)
        )
        tokens = tokens[:, 1]
        assert set(np.unique(tokens).tolist()) == {1, 3}
        np.testing.assert_allclose(
            frequencies(tokens, 4), [0.0, 0.625, 0.0, 0.375], atol=0.03
        )

    def test_never_outside_top_k_and_seeded(self):
        table = random_table(8, seed=4)
        model = BigramModel(table)
        prompt = np.zeros((64, 10), "int32")
        prompt[:, 0] = np.arange(64) % 8
        tokens = to_numpy(TopKSampler(k=3, seed=1)(model.next, prompt, index=1))
        top3 = np.argsort(-table, axis=1)[:, :3]
        for row in tokens:
            for previous, token in zip(row[:-1], row[1:]):
                assert token in top3[previous]
        # The same seed gives the same tokens.
        again = TopKSampler(k=3, seed=1)(model.next, prompt, index=1)
        assert to_numpy(again).tolist() == tokens.tolist()

    def test_k_1_is_greedy(self):
        model = BigramModel(random_table(8, seed=5))
        prompt = np.zeros((4, 8), "int32")
        prompt[:, 0] = [0, 2, 5, 7]
        greedy = [reference_greedy(model, [t], 8) for t in prompt[:, 0]]
        top_1 = to_numpy(TopKSampler(k=1, seed=3)(model.next, prompt, index=1))
        assert top_1.tolist() == greedy

    def test_config_and_errors(self):
        sampler = TopKSampler(k=3, seed=2, temperature=0.8)
        assert sampler.get_config() == {"temperature": 0.8, "k": 3, "seed": 2}
        restored = TopKSampler.from_config(sampler.get_config())
        assert restored.get_config() == sampler.get_config()
        for k in (0, -1, 2.5, None):
            with pytest.raises(ValueError, match="`k`"):
                TopKSampler(k=k)
        with pytest.raises(ValueError, match="larger than the vocabulary"):
            TopKSampler(k=9)(
                ConstantModel(PROBABILITIES).next,
                np.zeros((1, 2), "int32"),
                index=1,
            )

    def test_compiled(self):
        model = BigramModel(random_table(8, seed=7, scale=0.5))
        prompt = np.zeros((3, 8), "int32")
        prompt[:, 0] = [1, 4, 6]
        eager = to_numpy(TopKSampler(k=2, seed=0)(model.next, prompt, index=1))
        sampler = TopKSampler(k=2, seed=0)
        generate = compile_fn(lambda p: sampler(model.next, p, index=1))
        tokens = to_numpy(generate(prompt))
        if keras.config.backend() == "jax":
            assert tokens.tolist() == eager.tolist()
        # TensorFlow's XLA kernels draw other numbers than eager ones; the
        # draws stay within the top k.
        top2 = np.argsort(-model.table, axis=1)[:, :2]
        for row in tokens:
            for previous, token in zip(row[:-1], row[1:]):
                assert token in top2[previous]
