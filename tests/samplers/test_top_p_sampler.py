import numpy as np
import pytest

from keras_nlp_clone.samplers.top_p_sampler import TopPSampler
from tests.samplers.toy_models import BigramModel
from tests.samplers.toy_models import ConstantModel
from tests.samplers.toy_models import compile_fn
from tests.samplers.toy_models import frequencies
from tests.samplers.toy_models import random_table
from tests.samplers.toy_models import reference_greedy
from tests.samplers.toy_models import to_numpy
from tests.test_case import TestCase

# Sorted: 0.5 (token 1), 0.3 (token 3), 0.15 (token 0), 0.05 (token 2).
PROBABILITIES = np.array([0.15, 0.5, 0.05, 0.3])


def sample_once(sampler, num_samples=4000):
    prompt = np.zeros((num_samples, 2), "int32")
    model = ConstantModel(PROBABILITIES)
    return to_numpy(sampler(model.next, prompt, index=1))[:, 1]


class TestTopPSampler(TestCase):
    def test_nucleus(self):
        # p=0.7: tokens 1 (0.5) and 3 (0.5 + 0.3 >= 0.7) form the nucleus.
        tokens = sample_once(TopPSampler(p=0.7, seed=31))
        assert set(np.unique(tokens).tolist()) == {1, 3}
        np.testing.assert_allclose(
            frequencies(tokens, 4), [0.0, 0.625, 0.0, 0.375], atol=0.03
        )
        # p=0.9: token 0 joins (0.8 < 0.9); token 2 never.
        tokens = sample_once(TopPSampler(p=0.9, seed=32))
        assert set(np.unique(tokens).tolist()) == {0, 1, 3}
        np.testing.assert_allclose(
            frequencies(tokens, 4),
            [0.15 / 0.95, 0.5 / 0.95, 0.0, 0.3 / 0.95],
            atol=0.03,
        )

    def test_tiny_p_or_k_1_is_greedy(self):
        model = BigramModel(random_table(8, seed=8))
        prompt = np.zeros((4, 8), "int32")
        prompt[:, 0] = [0, 3, 5, 6]
        greedy = [reference_greedy(model, [t], 8) for t in prompt[:, 0]]
        for sampler in (TopPSampler(p=1e-6, seed=1), TopPSampler(p=0.9, k=1)):
            output = to_numpy(sampler(model.next, prompt, index=1))
            assert output.tolist() == greedy

    def test_config_and_errors(self):
        sampler = TopPSampler(p=0.5, k=3, seed=2, temperature=0.9)
        assert sampler.get_config() == {
            "temperature": 0.9,
            "p": 0.5,
            "k": 3,
            "seed": 2,
        }
        restored = TopPSampler.from_config(sampler.get_config())
        assert restored.get_config() == sampler.get_config()
        for p in (0, 1.5, -0.1, "a"):
            with pytest.raises(ValueError, match="`p`"):
                TopPSampler(p=p)
        with pytest.raises(ValueError, match="`k`"):
            TopPSampler(k=0)

    def test_compiled_tiny_p_is_greedy(self):
        model = BigramModel(random_table(8, seed=10))
        prompt = np.zeros((3, 8), "int32")
        prompt[:, 0] = [1, 2, 7]
        sampler = TopPSampler(p=1e-6, seed=0)
        generate = compile_fn(lambda p: sampler(model.next, p, index=1))
        assert to_numpy(generate(prompt)).tolist() == [
            reference_greedy(model, [t], 8) for t in prompt[:, 0]
        ]
