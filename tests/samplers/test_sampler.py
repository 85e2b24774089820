import keras
import numpy as np
import pytest

from keras_nlp_clone.samplers.greedy_sampler import GreedySampler
from keras_nlp_clone.samplers.sampler import Sampler
from keras_nlp_clone.samplers.sampler import normalize_stop_token_ids
from tests.samplers.toy_models import BigramModel
from tests.samplers.toy_models import compile_fn
from tests.samplers.toy_models import permutation_table
from tests.samplers.toy_models import softmax
from tests.samplers.toy_models import to_numpy
from tests.test_case import TestCase

VOCAB = 10
# 1 -> 2 -> 3 -> 4 -> 1 ...; 5 -> 6 -> 7 -> 8 -> 3; 9 -> 5; 0 -> 9.
SUCCESSORS = [9, 2, 3, 4, 1, 6, 7, 8, 3, 5]


def chain_model():
    return BigramModel(permutation_table(SUCCESSORS, VOCAB))


class ArgmaxSampler(Sampler):
    def get_next_token(self, probabilities):
        return keras.ops.argmax(probabilities, axis=-1)


class TestSampler(TestCase):
    def test_base_class_has_no_get_next_token(self):
        with pytest.raises(NotImplementedError, match="get_next_token"):
            Sampler().get_next_token(np.ones((1, 3), "float32"))
        with pytest.raises(NotImplementedError, match="get_next_token"):
            Sampler()(chain_model().next, np.ones((1, 3), "int32"), index=1)

    def test_subclass_fills_prompt(self):
        prompt = np.array([[1, 0, 0, 0, 0], [5, 0, 0, 0, 0]], "int32")
        output = ArgmaxSampler()(chain_model().next, prompt, index=1)
        assert tuple(output.shape) == (2, 5)
        assert to_numpy(output).tolist() == [
            [1, 2, 3, 4, 1],
            [5, 6, 7, 8, 3],
        ]

    def test_compute_probabilities_and_temperature(self):
        logits = np.array([[1.0, 2.0, 0.5]], "float16")
        for temperature in (1.0, 0.5, 3.0):
            probs = Sampler(temperature).compute_probabilities(logits)
            assert keras.backend.standardize_dtype(probs.dtype) == "float32"
            np.testing.assert_allclose(
                to_numpy(probs),
                softmax(logits.astype("float64") / temperature),
                rtol=1e-5,
            )
        # Lower temperature sharpens, higher flattens.
        cold = to_numpy(Sampler(0.1).compute_probabilities(logits))
        hot = to_numpy(Sampler(100.0).compute_probabilities(logits))
        assert cold[0, 1] > 0.99
        np.testing.assert_allclose(hot, np.full((1, 3), 1 / 3), atol=0.01)

    def test_bad_arguments(self):
        for temperature in (0, -1.0, "hot", None):
            with pytest.raises(ValueError, match="temperature"):
                Sampler(temperature=temperature)
        prompt = np.ones((1, 3), "int32")
        with pytest.raises(ValueError, match="stop_token_ids"):
            GreedySampler()(chain_model().next, prompt, stop_token_ids=())
        with pytest.raises(ValueError, match="stop_token_ids"):
            GreedySampler()(chain_model().next, prompt, stop_token_ids="a")
        with pytest.raises(TypeError, match="stop_token_id"):
            GreedySampler()(chain_model().next, prompt, stop_token_id=(3,))

    def test_prompts_of_different_lengths_keep_their_tokens(self):
        # Row 1's prompt [5, 9] is not what the model would generate (5 ->
        # 6): the mask keeps the 9, and generation goes on from it.
        prompt = np.array([[1, 0, 0, 0, 0, 0], [5, 9, 0, 0, 0, 0]], "int32")
        mask = prompt != 0
        output = GreedySampler()(chain_model().next, prompt, index=1, mask=mask)
        assert to_numpy(output).tolist() == [
            [1, 2, 3, 4, 1, 2],
            [5, 9, 5, 6, 7, 8],
        ]

    def test_index_after_prompt(self):
        prompt = np.array([[5, 6, 0, 0, 0]], "int32")
        output = GreedySampler()(chain_model().next, prompt, index=2)
        assert to_numpy(output).tolist() == [[5, 6, 7, 8, 3]]

    def test_stop_token_ids_stop_early(self):
        # Row 0 generates the stop token 3 at position 2, row 1 at 4; row 0
        # goes on until then, and positions 5... keep their padding.
        prompt = np.zeros((2, 9), "int32")
        prompt[:, 0] = [1, 5]
        output = GreedySampler()(
            chain_model().next, prompt, index=1, stop_token_ids=[3, 42]
        )
        assert to_numpy(output).tolist() == [
            [1, 2, 3, 4, 1, 0, 0, 0, 0],
            [5, 6, 7, 8, 3, 0, 0, 0, 0],
        ]
        # Accepted forms of `stop_token_ids`.
        assert normalize_stop_token_ids(None) is None
        assert normalize_stop_token_ids(3) == (3,)
        assert normalize_stop_token_ids([3, 42]) == (3, 42)
        assert normalize_stop_token_ids(np.array([7])) == (7,)

    def test_stop_tokens_in_prompt_or_padding_do_not_stop(self):
        # The prompt's own 3 is not generated, and the stop id 0 equals the
        # padding: neither ends generation; the generated 0 at position 4 does.
        prompt = np.array([[3, 0, 0, 0, 0, 0, 0, 0]], "int32")
        successors = list(SUCCESSORS)
        successors[2] = 0
        model = BigramModel(permutation_table(successors, VOCAB))
        output = GreedySampler()(
            model.next,
            prompt,
            index=1,
            mask=prompt != 0,
            stop_token_ids=(3, 0),
        )
        assert to_numpy(output).tolist() == [[3, 4, 1, 2, 0, 0, 0, 0]]
        output = GreedySampler()(
            model.next, prompt, index=1, stop_token_ids=(0,)
        )
        assert to_numpy(output).tolist() == [[3, 4, 1, 2, 0, 0, 0, 0]]

    def test_cache_is_carried_through_the_loop(self):
        # The next token is the number of steps taken so far (mod vocab),
        # read from a nested cache: each call must see the last cache.
        def next(prompt, cache, index):
            steps = cache["steps"][0]
            logits = keras.ops.one_hot(steps % VOCAB, VOCAB) * 10.0
            new_cache = {
                "steps": (steps + 1,),
                "offset": cache["offset"],
            }
            return logits, None, new_cache

        cache = {
            "steps": (np.array([2, 7], "int32"),),
            "offset": np.zeros((2, 3), "float32"),
        }
        prompt = np.zeros((2, 5), "int32")
        output = GreedySampler()(next, prompt, cache=cache, index=1)
        assert to_numpy(output).tolist() == [
            [0, 2, 3, 4, 5],
            [0, 7, 8, 9, 0],
        ]

    def test_model_variables_follow_an_enclosing_stateless_scope(self):
        # `next` reads a layer's weights. Under JAX, `model=` maps them into
        # the loop body, so values given by an enclosing StatelessScope
        # (as in a jitted `generate`) are the ones used.
        layer = keras.layers.Embedding(VOCAB, VOCAB)
        layer.build((None,))
        layer.embeddings.assign(permutation_table(SUCCESSORS, VOCAB))

        def next(prompt, cache, index):
            previous = keras.ops.take(prompt, index - 1, axis=1)
            return layer(previous), None, cache

        prompt = np.zeros((1, 5), "int32")
        prompt[0, 0] = 5
        output = GreedySampler()(next, prompt, index=1, model=layer)
        assert to_numpy(output).tolist() == [[5, 6, 7, 8, 3]]
        if keras.config.backend() != "jax":
            return
        import jax

        other = permutation_table(
            [(t + 1) % VOCAB for t in range(VOCAB)], VOCAB
        )

        @jax.jit
        def generate(prompt, table):
            mapping = [(layer.embeddings, table)]
            with keras.StatelessScope(state_mapping=mapping):
                return GreedySampler()(next, prompt, index=1, model=layer)

        output = generate(prompt, other)
        assert to_numpy(output).tolist() == [[5, 6, 7, 8, 9]]

    def test_config_round_trip(self):
        sampler = ArgmaxSampler(temperature=0.7)
        assert sampler.get_config() == {"temperature": 0.7}
        assert (
            ArgmaxSampler.from_config(sampler.get_config()).temperature == 0.7
        )
        assert Sampler().variables == []

    def test_compiled_matches_eager(self):
        prompt = np.zeros((2, 9), "int32")
        prompt[:, 0] = [1, 5]
        prompt[1, 1] = 9
        mask = prompt != 0
        model = chain_model()
        sampler = GreedySampler()

        def generate(prompt, mask):
            return sampler(
                model.next, prompt, index=1, mask=mask, stop_token_ids=(3,)
            )

        eager = to_numpy(generate(prompt, mask))
        compiled = to_numpy(compile_fn(generate)(prompt, mask))
        assert eager.tolist() == [
            [1, 2, 3, 4, 1, 2, 3, 0, 0],
            [5, 9, 5, 6, 7, 8, 3, 0, 0],
        ]
        assert compiled.tolist() == eager.tolist()
