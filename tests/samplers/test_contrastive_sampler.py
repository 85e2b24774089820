import numpy as np
import pytest

from keras_nlp_clone.samplers.contrastive_sampler import ContrastiveSampler
from tests.samplers.toy_models import BigramModel
from tests.samplers.toy_models import ConstantModel
from tests.samplers.toy_models import HistoryModel
from tests.samplers.toy_models import compile_fn
from tests.samplers.toy_models import random_table
from tests.samplers.toy_models import reference_contrastive
from tests.samplers.toy_models import reference_greedy
from tests.samplers.toy_models import to_numpy
from tests.test_case import TestCase


def embedding_model(vocab, seed, history=False):
    rng = np.random.default_rng(seed)
    table = random_table(vocab, seed=seed)
    model = HistoryModel(table) if history else BigramModel(table)
    model.embeddings = rng.normal(size=(vocab, 4)).astype("float32")
    return model


class TestContrastiveSampler(TestCase):
    def test_hand_computed(self):
        # p = (0.5, 0.3, 0.2) after every token; h(0) = (1, 0),
        # h(1) = (1, 0.1), h(2) = (0, 1). After the prompt [0], alpha = 0.5:
        #   token 0: 0.5 * 0.5 - 0.5 * cos(h0, h0) = -0.25
        #   token 1: 0.5 * 0.3 - 0.5 * 0.995      = -0.3475
        #   token 2: 0.5 * 0.2 - 0.5 * 0          =  0.1    <- picked
        # Next, the context holds h0 and h2:
        #   token 0: 0.25 - 0.5 * 1 = -0.25; token 1: 0.15 - 0.4975 = -0.3475
        #   token 2: 0.1 - 0.5 * 1 = -0.4                   -> 0 is picked.
        model = BigramModel(
            np.log(np.tile([[0.5, 0.3, 0.2]], (3, 1))).astype("float32"),
            embeddings=np.array([[1, 0], [1, 0.1], [0, 1]], "float32"),
        )
        prompt = np.array([[0, 0, 0]], "int32")
        output = ContrastiveSampler(k=3, alpha=0.5)(
            model.next,
            prompt,
            index=1,
            hidden_states=model.hidden_states(prompt),
        )
        assert to_numpy(output).tolist() == [[0, 2, 0]]
        # With k=2 token 2 is not a candidate: 0 scores -0.25, 1 -0.3475.
        output = ContrastiveSampler(k=2, alpha=0.5)(
            model.next,
            prompt,
            index=1,
            hidden_states=model.hidden_states(prompt),
        )
        assert to_numpy(output).tolist() == [[0, 0, 0]]

    def test_alpha_0_is_greedy(self):
        model = embedding_model(7, seed=0)
        prompt = np.zeros((3, 8), "int32")
        prompt[:, 0] = [1, 3, 5]
        greedy = [reference_greedy(model, [t], 8) for t in prompt[:, 0]]
        output = ContrastiveSampler(k=4, alpha=0.0)(
            model.next,
            prompt,
            index=1,
            hidden_states=model.hidden_states(prompt),
        )
        assert to_numpy(output).tolist() == greedy

    def test_matches_reference(self):
        model = embedding_model(8, seed=1, history=True)
        prompt = np.zeros((3, 9), "int32")
        prompt[:, :2] = [[0, 1], [4, 4], [7, 2]]
        cache = model.initial_cache(prompt, 2)
        output = ContrastiveSampler(k=3, alpha=0.6)(
            model.next,
            prompt,
            cache=cache,
            index=2,
            hidden_states=model.hidden_states(prompt),
        )
        expected = [
            reference_contrastive(model, list(prompt[row, :2]), 9, 3, 0.6)
            for row in range(3)
        ]
        assert to_numpy(output).tolist() == expected
        # Not what greedy search gives.
        assert expected != [
            reference_greedy(model, list(prompt[row, :2]), 9)
            for row in range(3)
        ]

    def test_ragged_prompts_and_stop_tokens(self):
        model = embedding_model(8, seed=2)
        prompt = np.zeros((2, 8), "int32")
        prompt[0, :1] = [3]
        prompt[1, :3] = [5, 5, 1]
        mask = np.arange(8)[None, :] < np.array([[1], [3]])
        output = ContrastiveSampler(k=3, alpha=0.6)(
            model.next,
            prompt,
            index=1,
            mask=mask,
            hidden_states=model.hidden_states(prompt),
        )
        expected = [
            reference_contrastive(model, [3], 8, 3, 0.6),
            reference_contrastive(model, [5, 5, 1], 8, 3, 0.6),
        ]
        assert to_numpy(output).tolist() == expected
        assert expected == [
            [3, 1, 0, 4, 5, 1, 6, 2],
            [5, 5, 1, 0, 7, 0, 4, 0],
        ]
        # Row 1 generates its first 4 at position 6 (its prompt's 5 does
        # not count): the search stops there and position 7 keeps its
        # padding.
        output = ContrastiveSampler(k=3, alpha=0.6)(
            model.next,
            prompt,
            index=1,
            mask=mask,
            stop_token_ids=(4, 5),
            hidden_states=model.hidden_states(prompt),
        )
        assert to_numpy(output).tolist() == [
            [3, 1, 0, 4, 5, 1, 6, 0],
            [5, 5, 1, 0, 7, 0, 4, 0],
        ]

    def test_config_and_errors(self):
        sampler = ContrastiveSampler(k=3, alpha=0.3, temperature=0.5)
        assert sampler.get_config() == {
            "temperature": 0.5,
            "k": 3,
            "alpha": 0.3,
        }
        restored = ContrastiveSampler.from_config(sampler.get_config())
        assert restored.get_config() == sampler.get_config()
        model = ConstantModel([0.5, 0.5])
        with pytest.raises(ValueError, match="hidden_states"):
            sampler(model.next, np.zeros((1, 3), "int32"), index=1)
        for alpha in (-0.1, 1.5, "a"):
            with pytest.raises(ValueError, match="alpha"):
                ContrastiveSampler(alpha=alpha)
        with pytest.raises(ValueError, match="`k`"):
            ContrastiveSampler(k=0)
        with pytest.raises(NotImplementedError, match="ContrastiveSampler"):
            sampler.get_next_token(np.ones((1, 3), "float32"))

    def test_compiled_matches_eager(self):
        model = embedding_model(6, seed=3, history=True)
        prompt = np.zeros((2, 7), "int32")
        prompt[:, :1] = [[2], [5]]
        cache = model.initial_cache(prompt, 1)
        hidden_states = model.hidden_states(prompt)
        sampler = ContrastiveSampler(k=3, alpha=0.6)

        def generate(prompt, cache, hidden_states):
            return sampler(
                model.next,
                prompt,
                cache=cache,
                index=1,
                hidden_states=hidden_states,
            )

        eager = to_numpy(generate(prompt, cache, hidden_states))
        compiled = compile_fn(generate)(prompt, cache, hidden_states)
        assert to_numpy(compiled).tolist() == eager.tolist()
        assert eager.tolist() == [
            reference_contrastive(model, [2], 7, 3, 0.6),
            reference_contrastive(model, [5], 7, 3, 0.6),
        ]
