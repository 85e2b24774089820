import itertools
import json

import keras
import numpy as np
import pytest
from keras import ops

from keras_nlp_clone import samplers
from keras_nlp_clone.models import GPT2Backbone
from keras_nlp_clone.models import GPT2CausalLM
from keras_nlp_clone.samplers import SpeculativeSampler
from tests.samplers.toy_models import BigramModel
from tests.samplers.toy_models import random_table
from tests.samplers.toy_models import softmax
from tests.samplers.toy_models import to_numpy
from tests.test_case import TestCase

VOCAB = 97
LENGTH = 16


def _gpt2(num_layers, hidden_dim, seed):
    keras.utils.set_random_seed(seed)
    backbone = GPT2Backbone(
        vocabulary_size=VOCAB,
        num_layers=num_layers,
        num_heads=4,
        hidden_dim=hidden_dim,
        intermediate_dim=2 * hidden_dim,
        max_sequence_length=LENGTH,
    )
    # Larger embeddings: well separated logits and varied greedy
    # continuations (random GPT-2s otherwise repeat their last token).
    for variable in backbone.token_embedding.weights:
        variable.assign(variable * 2.0)
    for variable in backbone.position_embedding.weights:
        variable.assign(variable * 10.0)
    causal_lm = GPT2CausalLM(backbone)
    causal_lm.compile(sampler="greedy")
    return causal_lm


def _truncated_draft(target):
    """One layer: the target's embeddings, first block and final norm."""
    draft = _gpt2(1, target.backbone.hidden_dim, seed=3)
    source, dest = target.backbone, draft.backbone
    for a, b in [
        (source.token_embedding, dest.token_embedding),
        (source.position_embedding, dest.position_embedding),
        (source.transformer_layers[0], dest.transformer_layers[0]),
        (source.layer_norm, dest.layer_norm),
    ]:
        for x, y in zip(a.weights, b.weights):
            y.assign(x)
    return draft


@pytest.fixture(scope="module")
def models():
    target = _gpt2(4, 64, seed=1)
    models = {
        "target": target,
        "small": _gpt2(1, 32, seed=2),  # random: accepts almost nothing
        "truncated": _truncated_draft(target),
    }
    # The oracle: the target's greedy ids (`GreedySampler`, itself tested
    # against full recomputation in tests/models/gpt2).
    models["greedy"] = _greedy(target)
    return models


# Prompts of lengths 3, 6 and 1 in one batch (the mask keeps them).
PROMPTS = [[5, 6, 7], [8, 9, 10, 11, 12, 13], [40]]


def _inputs():
    token_ids = np.zeros((len(PROMPTS), LENGTH), "int32")
    padding_mask = np.zeros((len(PROMPTS), LENGTH), bool)
    for i, row in enumerate(PROMPTS):
        token_ids[i, : len(row)] = row
        padding_mask[i, : len(row)] = True
    return {"token_ids": token_ids, "padding_mask": padding_mask}


def _greedy(target, stop_token_ids=None):
    target.compile(sampler="greedy")
    return target.generate(_inputs(), stop_token_ids=stop_token_ids)


def _speculative(target, draft, k, stop_token_ids=None):
    target.compile(sampler=SpeculativeSampler(k), draft_model=draft)
    return target.generate(_inputs(), stop_token_ids=stop_token_ids)


class TestSpeculativeGPT2(TestCase):
    def test_greedy_ids_are_the_targets_greedy_ids(self, models):
        target = models["target"]
        reference = models["greedy"]["token_ids"]
        # The continuations vary (the test can tell drafts apart).
        assert len(set(reference[0, 3:].tolist())) > 5
        # A random draft of 1 block, hidden 32 (the target: 4 blocks,
        # hidden 64): almost every token is rejected.
        out = _speculative(target, models["small"], 2)["token_ids"]
        np.testing.assert_array_equal(out, reference)

    def test_all_accepted_when_the_target_drafts(self, models):
        # Every token accepted, plus the extra token each iteration.
        target = models["target"]
        out = _speculative(target, target, 3)["token_ids"]
        np.testing.assert_array_equal(out, models["greedy"]["token_ids"])

    def test_eager_generate_step_with_stop_tokens(self, models):
        # The truncated draft: some tokens accepted, some rejected.
        target, draft = models["target"], models["truncated"]
        reference = models["greedy"]["token_ids"]
        # Stop ids that rows 0 and 1 generate at different positions.
        stop = (int(reference[0, 5]), int(reference[1, 8]))
        expected = _greedy(target, stop_token_ids=stop)
        target.compile(sampler=SpeculativeSampler(3), draft_model=draft)
        inputs = {k: ops.convert_to_tensor(v) for k, v in _inputs().items()}
        eager = to_numpy(target.generate_step(inputs, stop_token_ids=stop))
        compiled = _speculative(target, draft, 3, stop_token_ids=stop)
        for outputs in (eager, compiled):
            for key in ("token_ids", "padding_mask"):
                np.testing.assert_array_equal(outputs[key], expected[key])
        # Generation stopped early: the last positions keep the padding.
        assert (expected["token_ids"][:, -2:] == 0).all()

    def test_draft_with_another_vocabulary(self, models):
        keras.utils.set_random_seed(4)
        backbone = GPT2Backbone(
            vocabulary_size=VOCAB + 3, num_layers=1, num_heads=2,
            hidden_dim=8, intermediate_dim=16, max_sequence_length=LENGTH,
        )
        draft = GPT2CausalLM(backbone)
        with pytest.raises(ValueError, match="draft vocabulary size 100, "
                           "target vocabulary size 97"):
            models["target"].compile(
                sampler=SpeculativeSampler(), draft_model=draft
            )

    def test_compile_errors(self, models):
        target = models["target"]
        with pytest.raises(ValueError, match="needs a draft model"):
            target.compile(sampler=SpeculativeSampler())
        with pytest.raises(ValueError, match="`draft_model` is used by"):
            target.compile(sampler="greedy", draft_model=models["small"])
        with pytest.raises(ValueError, match="must be a `GPT2CausalLM`"):
            target.compile(sampler=SpeculativeSampler(), draft_model="gpt2")
        target.compile(sampler="greedy")


def _make_next(table):
    model = BigramModel(table)
    return model.next


def _make_verify(table):
    def verify_next(prompt, cache, index, length):
        block = ops.slice(prompt, [0, index - 1], [ops.shape(prompt)[0], length])
        return ops.take(table, block, axis=0), None, cache

    return verify_next


def _bigram_greedy(table, prompt, mask, index, stop=None):
    """NumPy greedy decoding of a bigram table, with mask and stop ids."""
    prompt = np.array(prompt)
    done = np.zeros(len(prompt), bool)
    for position in range(index, prompt.shape[1]):
        if stop is not None and done.all():
            break
        token = table[prompt[:, position - 1]].argmax(-1)
        keep = mask[:, position]
        prompt[:, position] = np.where(keep, prompt[:, position], token)
        if stop is not None:
            done |= np.isin(prompt[:, position], stop) & ~keep
    return prompt


class TestSpeculativeSampler(TestCase):
    def test_greedy_toy_with_mask_and_stop(self):
        vocab = 11
        target = random_table(vocab, seed=0)
        draft = target.copy()
        draft[[2, 5, 7]] = random_table(vocab, seed=1)[[2, 5, 7]]
        prompt = np.zeros((3, 12), "int32")
        prompt[0, :2] = [1, 2]
        prompt[1, :5] = [3, 4, 6, 8, 9]
        prompt[2, :1] = [10]
        mask = prompt > 0
        full = _bigram_greedy(target, prompt, mask, 1)
        # Every row generates one of these by position 6.
        early = tuple(int(t) for t in set(full[:, 6].tolist()))
        for stop, k, verify in [(None, 2, True), (early, 4, False),
                                (early, 20, True)]:
            expected = _bigram_greedy(target, prompt, mask, 1, stop)
            out = SpeculativeSampler(k)(
                _make_next(target), prompt, index=1, mask=mask,
                stop_token_ids=stop, draft_next=_make_next(draft),
                verify_next=_make_verify(target) if verify else None,
            )
            np.testing.assert_array_equal(to_numpy(out), expected)
        # The stop ids end generation early in this case.
        assert (expected[:, -1] == 0).all()

    def test_vocabulary_mismatch_names_both_sizes(self):
        sampler = SpeculativeSampler(2)
        prompt = np.zeros((1, 6), "int32")
        with pytest.raises(ValueError, match="draft vocabulary size 5, "
                           "target vocabulary size 7"):
            sampler(_make_next(random_table(7, 0)), prompt, index=1,
                    draft_next=_make_next(random_table(5, 1)))

    def test_argument_errors(self):
        with pytest.raises(ValueError, match="num_speculative_tokens"):
            SpeculativeSampler(0)
        with pytest.raises(ValueError, match="seed"):
            SpeculativeSampler(seed="a")
        with pytest.raises(ValueError, match="BeamSampler"):
            SpeculativeSampler(base_sampler="beam")
        with pytest.raises(ValueError, match="draft_next"):
            SpeculativeSampler()(_make_next(random_table(4, 0)),
                                 np.zeros((1, 4), "int32"), index=1)

    def test_serialization_round_trip(self):
        sampler = SpeculativeSampler(
            3, base_sampler=samplers.TopKSampler(k=2, temperature=0.5), seed=7
        )
        config = json.loads(json.dumps(samplers.serialize(sampler)))
        restored = samplers.deserialize(config)
        assert type(restored) is SpeculativeSampler
        assert restored.get_config() == sampler.get_config()
        assert restored.base_sampler.k == 2
        assert restored.base_sampler.temperature == 0.5
        assert type(samplers.get("speculative")) is SpeculativeSampler
        assert samplers.get("speculative").num_speculative_tokens == 5
        assert samplers.get("speculative").base_sampler is None
        restored = samplers.get({"class_name": "speculative",
                                 "config": {"base_sampler": "random"}})
        assert type(restored.base_sampler) is samplers.RandomSampler


def _filtered(probabilities, k):
    """NumPy top-k filter (the base sampler's distribution)."""
    if k is None:
        return probabilities
    order = np.argsort(-probabilities)
    kept = np.zeros_like(probabilities)
    kept[order[:k]] = probabilities[order[:k]]
    return kept / kept.sum()


def _sequence_distribution(table, first, steps, k):
    """Exact probability of every continuation of `first` (NumPy)."""
    vocab = table.shape[0]
    probabilities = {}
    for sequence in itertools.product(range(vocab), repeat=steps):
        p, previous = 1.0, first
        for token in sequence:
            p *= _filtered(softmax(table[previous]), k)[token]
            previous = token
        probabilities[sequence] = p
    return probabilities


def _chi_square(counts, probabilities, total):
    statistic, cells = 0.0, 0
    for sequence, p in probabilities.items():
        if p * total < 1e-9:
            assert counts.get(sequence, 0) == 0, sequence
            continue
        statistic += (counts.get(sequence, 0) - p * total) ** 2 / (p * total)
        cells += 1
    return statistic, cells - 1


class TestSpeculativeSamplingDistribution(TestCase):
    """The output follows the target's distribution, not the draft's.

    A bigram target and a different bigram draft on 4 tokens; each of
    4000 rows generates 3 tokens after token 0 (64 possible sequences).
    The chi-square statistic against the exact target distribution must
    stay under 120 (p < 2e-5 for 63 degrees of freedom would exceed it;
    the seeded runs give about 40-80), while against the draft-only
    distribution (what accepting every draft token would give) it is in
    the thousands.
    """

    @pytest.mark.parametrize(
        "base_sampler,k,same_draft",
        [("random", None, False), ("top_k", 3, False), ("random", None, True)],
    )
    def test_distribution_matches_target(self, base_sampler, k, same_draft):
        vocab, steps, rows = 4, 3, 4000
        target = random_table(vocab, seed=5, scale=1.0)
        draft = target if same_draft else random_table(vocab, seed=6, scale=1.0)
        base = samplers.TopKSampler(k=k) if k else samplers.RandomSampler()
        sampler = SpeculativeSampler(2, base_sampler=base, seed=11)
        prompt = np.zeros((rows, steps + 1), "int32")
        out = to_numpy(
            sampler(_make_next(target), prompt, index=1,
                    draft_next=_make_next(draft),
                    verify_next=_make_verify(target))
        )
        counts = {}
        for row in out[:, 1:]:
            counts[tuple(row)] = counts.get(tuple(row), 0) + 1
        exact = _sequence_distribution(target, 0, steps, k)
        statistic, dof = _chi_square(counts, exact, rows)
        assert statistic < 120, (statistic, dof)
        if not same_draft:
            wrong = _sequence_distribution(draft, 0, steps, k)
            assert _chi_square_or_inf(counts, wrong, rows) > 1000

    def test_mixed_acceptance_with_small_batches(self):
        # Three rows per call: the rows often accept several draft tokens
        # (the draft is close to the target), so the all-accepted,
        # partly-accepted and rejected paths all occur.
        vocab, steps, calls = 3, 3, 150
        target = random_table(vocab, seed=7, scale=1.0)
        draft = target + random_table(vocab, seed=8, scale=0.4)
        sampler = SpeculativeSampler(2, base_sampler="random", seed=3)
        prompt = np.zeros((3, steps + 1), "int32")
        draft_next, next = _make_next(draft), _make_next(target)
        verify = _make_verify(target)

        def call(prompt):
            return sampler(next, prompt, index=1, draft_next=draft_next,
                           verify_next=verify)

        counts = {}
        for out in _repeated_calls(sampler, call, prompt, calls):
            for row in out[:, 1:]:
                counts[tuple(row)] = counts.get(tuple(row), 0) + 1
        exact = _sequence_distribution(target, 0, steps, None)
        statistic, dof = _chi_square(counts, exact, 3 * calls)
        # 26 degrees of freedom: 70 is exceeded with p < 1e-5.
        assert statistic < 70, (statistic, dof)


def _chi_square_or_inf(counts, probabilities, total):
    statistic = 0.0
    for sequence, count in counts.items():
        p = probabilities.get(sequence, 0.0)
        if p == 0:
            return float("inf")
        statistic += (count - p * total) ** 2 / (p * total)
    return statistic


def _repeated_calls(sampler, call, prompt, calls):
    """`call(prompt)` `calls` times, compiled once (eager JAX and TensorFlow
    loops would trace the loop on every call), the seed advancing."""
    backend = keras.config.backend()
    if backend == "jax":
        import jax

        def stateless(state, prompt):
            mapping = zip(sampler.variables, state)
            with keras.StatelessScope(state_mapping=mapping) as scope:
                out = call(prompt)
            return out, [scope.get_current_value(v) for v in sampler.variables]

        stateless = jax.jit(stateless)
        state = [v.value for v in sampler.variables]
        outputs = []
        for _ in range(calls):
            out, state = stateless(state, prompt)
            outputs.append(np.asarray(out))
        return outputs
    if backend == "tensorflow":
        import tensorflow as tf

        call = tf.function(call)
    return [to_numpy(call(prompt)) for _ in range(calls)]
