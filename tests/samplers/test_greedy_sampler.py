import numpy as np

from keras_nlp_clone.samplers.greedy_sampler import GreedySampler
from tests.samplers.toy_models import BigramModel
from tests.samplers.toy_models import HistoryModel
from tests.samplers.toy_models import compile_fn
from tests.samplers.toy_models import random_table
from tests.samplers.toy_models import reference_greedy
from tests.samplers.toy_models import to_numpy
from tests.test_case import TestCase

VOCAB = 7
MAX_LENGTH = 8


class TestGreedySampler(TestCase):
    def test_matches_reference_greedy(self):
        model = BigramModel(random_table(VOCAB, seed=0))
        prompt = np.zeros((4, MAX_LENGTH), "int32")
        prompt[:, 0] = [0, 3, 5, 6]
        output = GreedySampler()(model.next, prompt, index=1)
        expected = [
            reference_greedy(model, [int(t)], MAX_LENGTH) for t in prompt[:, 0]
        ]
        assert to_numpy(output).tolist() == expected

    def test_cached_history_model_and_ragged_prompts(self):
        model = HistoryModel(random_table(VOCAB, seed=1), num_buckets=3)
        prompt = np.zeros((3, MAX_LENGTH), "int32")
        prompt[0, :1] = [4]
        prompt[1, :3] = [2, 2, 6]
        prompt[2, :2] = [1, 5]
        mask = np.arange(MAX_LENGTH)[None, :] < np.array([[1], [3], [2]])
        cache = model.initial_cache(prompt, 1)
        output = GreedySampler()(
            model.next, prompt, cache=cache, index=1, mask=mask
        )
        expected = [
            reference_greedy(model, [4], MAX_LENGTH),
            reference_greedy(model, [2, 2, 6], MAX_LENGTH),
            reference_greedy(model, [1, 5], MAX_LENGTH),
        ]
        assert to_numpy(output).tolist() == expected

    def test_temperature_does_not_change_result(self):
        model = BigramModel(random_table(VOCAB, seed=2))
        prompt = np.zeros((2, MAX_LENGTH), "int32")
        prompt[:, 0] = [1, 2]
        expected = [reference_greedy(model, [1], MAX_LENGTH)]
        expected.append(reference_greedy(model, [2], MAX_LENGTH))
        for temperature in (0.1, 10.0):
            sampler = GreedySampler(temperature=temperature)
            output = sampler(model.next, prompt, index=1)
            assert to_numpy(output).tolist() == expected

    def test_get_next_token_and_config(self):
        probabilities = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]], "float32")
        tokens = GreedySampler().get_next_token(probabilities)
        assert to_numpy(tokens).tolist() == [1, 0]
        sampler = GreedySampler(temperature=2.0)
        assert sampler.get_config() == {"temperature": 2.0}
        restored = GreedySampler.from_config(sampler.get_config())
        assert restored.get_config() == sampler.get_config()

    def test_compiled_matches_eager(self):
        model = HistoryModel(random_table(VOCAB, seed=3), num_buckets=2)
        prompt = np.zeros((2, MAX_LENGTH), "int32")
        prompt[:, :2] = [[3, 1], [6, 0]]
        cache = model.initial_cache(prompt, 2)
        sampler = GreedySampler()

        def generate(prompt, cache):
            return sampler(model.next, prompt, cache=cache, index=2)

        eager = to_numpy(generate(prompt, cache))
        compiled = to_numpy(compile_fn(generate)(prompt, cache))
        assert eager.tolist() == [
            reference_greedy(model, [3, 1], MAX_LENGTH),
            reference_greedy(model, [6, 0], MAX_LENGTH),
        ]
        assert compiled.tolist() == eager.tolist()

    def test_argmax_of_logits_where_softmax_would_tie(self):
        # exp(-1e-8) rounds to 1.0 in float32: both tokens get probability
        # 0.5 after the softmax, whose argmax would be token 0. The larger
        # logit is token 1, which is what `transformers` picks too.
        logits = np.full((1, VOCAB), -10.0, "float32")
        logits[0, :2] = [0.0, 1e-8]
        assert logits[0, 1] > logits[0, 0]
        probabilities = GreedySampler().compute_probabilities(logits)
        probabilities = to_numpy(probabilities)
        assert probabilities[0, 0] == probabilities[0, 1]

        def next(prompt, cache, index):
            return logits, None, cache

        prompt = np.zeros((1, 3), "int32")
        output = GreedySampler()(next, prompt, index=1)
        assert to_numpy(output).tolist() == [[0, 1, 1]]

    def test_subclass_choosing_from_probabilities_keeps_them(self):
        seen = []

        class Recording(GreedySampler):
            def get_next_token(self, probabilities):
                seen.append(tuple(probabilities.shape))
                return super().get_next_token(probabilities)

        logits = np.eye(VOCAB, dtype="float32")[[3]] * 5.0

        def next(prompt, cache, index):
            return logits, None, cache

        output = Recording()(next, np.zeros((1, 3), "int32"), index=1)
        assert to_numpy(output).tolist() == [[0, 3, 3]]
        assert seen and seen[0] == (1, VOCAB)
