import numpy as np
import pytest

from keras_nlp_clone.samplers.beam_sampler import BeamSampler
from tests.samplers.toy_models import BigramModel
from tests.samplers.toy_models import HistoryModel
from tests.samplers.toy_models import brute_force
from tests.samplers.toy_models import compile_fn
from tests.samplers.toy_models import random_table
from tests.samplers.toy_models import reference_beam
from tests.samplers.toy_models import reference_greedy
from tests.samplers.toy_models import to_numpy
from tests.test_case import TestCase

VOCAB = 3
MAX_LENGTH = 4


def ragged_prompts():
    """Row 0: prompt [2] (3 new tokens); row 1: prompt [1, 0] (2 new)."""
    prompt = np.array([[2, 0, 0, 0], [1, 0, 0, 0]], "int32")
    mask = np.array([[1, 0, 0, 0], [1, 1, 0, 0]], bool)
    return prompt, mask, [[2], [1, 0]]


class TestBeamSampler(TestCase):
    def test_exhaustive_beams_equal_brute_force(self):
        # With 9 = 3**2 beams nothing is ever pruned before the last step:
        # the beams are the 9 best of all continuations. The history model
        # reads the prefix from the cache, which must follow its beam.
        model = HistoryModel(random_table(VOCAB, seed=0), num_buckets=3)
        prompt, mask, prefixes = ragged_prompts()
        cache = model.initial_cache(prompt, 1)
        sampler = BeamSampler(num_beams=9, return_all_beams=True)
        beams, log_probs = sampler(
            model.next, prompt, cache=cache, index=1, mask=mask
        )
        assert tuple(beams.shape) == (2, 9, MAX_LENGTH)
        assert tuple(log_probs.shape) == (2, 9)
        beams, log_probs = to_numpy(beams), to_numpy(log_probs)
        for row, prefix in enumerate(prefixes):
            expected = brute_force(model, prefix, MAX_LENGTH, VOCAB)
            num_real = min(9, len(expected))
            assert beams[row, :num_real].tolist() == [
                seq for _, seq in expected[:num_real]
            ]
            np.testing.assert_allclose(
                log_probs[row, :num_real],
                [score for score, _ in expected[:num_real]],
                rtol=1e-5,
            )
            # Sorted best first.
            assert np.all(np.diff(log_probs[row]) <= 0)

        best = BeamSampler(num_beams=9)(
            model.next, prompt, cache=cache, index=1, mask=mask
        )
        assert to_numpy(best).tolist() == [
            brute_force(model, prefix, MAX_LENGTH, VOCAB)[0][1]
            for prefix in prefixes
        ]

    def test_matches_reference_beam_search(self):
        vocab, max_length = 6, 7
        model = HistoryModel(random_table(vocab, seed=1), num_buckets=4)
        prompt = np.zeros((3, max_length), "int32")
        prompt[:, :2] = [[0, 1], [4, 4], [5, 2]]
        cache = model.initial_cache(prompt, 2)
        beams, log_probs = BeamSampler(num_beams=3, return_all_beams=True)(
            model.next, prompt, cache=cache, index=2
        )
        for row in range(3):
            expected = reference_beam(
                model, list(prompt[row, :2]), max_length, 3
            )
            assert to_numpy(beams)[row].tolist() == [s for _, s in expected]
            np.testing.assert_allclose(
                to_numpy(log_probs)[row], [s for s, _ in expected], rtol=1e-5
            )

    def test_one_beam_is_greedy(self):
        model = BigramModel(random_table(7, seed=2))
        prompt = np.zeros((4, 8), "int32")
        prompt[:, 0] = [0, 2, 4, 6]
        greedy = [reference_greedy(model, [t], 8) for t in prompt[:, 0]]
        beam = to_numpy(BeamSampler(num_beams=1)(model.next, prompt, index=1))
        assert beam.tolist() == greedy

    def test_beam_beats_greedy(self):
        # Greedy takes 1 (0.5) then 2 (0.4): 0.2. Beam finds 2 then 3: 0.4.
        table = np.log(
            np.array(
                [
                    [0.1, 0.5, 0.4, 1e-4],
                    [0.3, 0.3, 0.4, 1e-4],
                    [1e-4, 1e-4, 1e-4, 1.0],
                    [0.25, 0.25, 0.25, 0.25],
                ],
                "float32",
            )
        )
        model = BigramModel(table)
        prompt = np.zeros((1, 3), "int32")
        assert reference_greedy(model, [0], 3) == [0, 1, 2]
        beam = BeamSampler(num_beams=2)(model.next, prompt, index=1)
        assert to_numpy(beam).tolist() == [[0, 2, 3]]

    def test_stop_token_ids(self):
        # Every beam reaching a stop token ends the search early.
        table = np.full((4, 4), -5.0, "float32")
        table[0, 1] = table[1, 3] = table[0, 2] = table[2, 3] = 5.0
        table[3, 1] = 5.0
        model = BigramModel(table)
        prompt = np.zeros((1, 6), "int32")
        output = BeamSampler(num_beams=2)(
            model.next, prompt, index=1, stop_token_ids=(3,)
        )
        # Without the stop, position 3 would hold 1 (3 -> 1).
        output = to_numpy(output).tolist()
        assert output in ([[0, 1, 3, 0, 0, 0]], [[0, 2, 3, 0, 0, 0]])

    def test_config_and_errors(self):
        sampler = BeamSampler(
            num_beams=3, return_all_beams=True, temperature=2.0
        )
        assert sampler.get_config() == {
            "temperature": 2.0,
            "num_beams": 3,
            "return_all_beams": True,
        }
        restored = BeamSampler.from_config(sampler.get_config())
        assert restored.get_config() == sampler.get_config()
        with pytest.raises(ValueError, match="num_beams"):
            BeamSampler(num_beams=0)
        with pytest.raises(ValueError, match="return_all_beams"):
            BeamSampler(return_all_beams="yes")
        with pytest.raises(NotImplementedError, match="BeamSampler"):
            sampler.get_next_token(np.ones((1, 3), "float32"))

    def test_compiled_matches_eager(self):
        model = HistoryModel(random_table(5, seed=3), num_buckets=3)
        prompt = np.zeros((2, 6), "int32")
        prompt[0, :1] = [3]
        prompt[1, :2] = [1, 4]
        mask = prompt != 0
        mask[:, 0] = True
        cache = model.initial_cache(prompt, 1)
        sampler = BeamSampler(num_beams=3, return_all_beams=True)

        def generate(prompt, cache, mask):
            return sampler(model.next, prompt, cache=cache, index=1, mask=mask)

        eager = to_numpy(generate(prompt, cache, mask))
        compiled = to_numpy(compile_fn(generate)(prompt, cache, mask))
        assert compiled[0].tolist() == eager[0].tolist()
        np.testing.assert_allclose(compiled[1], eager[1], rtol=1e-5)
