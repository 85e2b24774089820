"""`GPT2CausalLM` against Hugging Face `GPT2LMHeadModel` on the same weights.

A small random `GPT2LMHeadModel` (vocabulary of the tiny conftest tokenizer,
hidden 32, 2 layers, 4 heads, 64 positions) gets a large initializer range
plus noise on every parameter, so that its logits are well separated (the
test checks the margin between the two best tokens on the Hugging Face side,
so an argmax tie cannot make it flaky) and a misplaced tensor cannot hide.
It is saved with `save_pretrained` (safetensors) and loaded with our
`from_preset`. Prompts of different lengths share one right-padded batch on
our side; Hugging Face generates each prompt alone, unpadded.
"""

import json

import numpy as np
import pytest

from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import CausalLM
from keras_nlp_clone.models import GPT2Backbone
from keras_nlp_clone.models import GPT2CausalLM
from keras_nlp_clone.models import GPT2CausalLMPreprocessor
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.samplers import BeamSampler
from tests.models.gpt2.conftest import EOT
from tests.models.gpt2.conftest import TINY_MERGES
from tests.models.gpt2.conftest import TINY_VOCAB
from tests.models.gpt2.conftest import write_tokenizer_files
from tests.test_case import TestCase

VOCAB_SIZE = len(TINY_VOCAB)
MAX_LENGTH = 16
# Deliberately unsorted, with a one-token prompt (decoding starts at 1).
PROMPT_LENGTHS = (1, 4, 9, 6)
NUM_BEAMS = 3


def _hf_config(**kwargs):
    import transformers

    return transformers.GPT2Config(
        vocab_size=VOCAB_SIZE,
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=4,
        initializer_range=0.3,
        bos_token_id=EOT,
        eos_token_id=EOT,
        **kwargs,
    )


def _perturbed_model(config, seed=0):
    import torch
    import transformers

    torch.manual_seed(seed)
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    return model


@pytest.fixture(scope="module")
def hf_lm(tmp_path_factory):
    """`(directory, model)`: the saved random `GPT2LMHeadModel` (tied head)
    with the tiny tokenizer files, and the model itself with an empty
    generation config (no forced tokens, length or repetition settings, no
    end token unless a test passes one)."""
    import transformers

    directory = tmp_path_factory.mktemp("hf_gpt2_lm")
    model = _perturbed_model(_hf_config())
    model.save_pretrained(directory)
    write_tokenizer_files(directory, TINY_VOCAB, TINY_MERGES)
    model.generation_config = transformers.GenerationConfig()
    return str(directory), model


@pytest.fixture(scope="module")
def prompts():
    """Token id prompts of the lengths `PROMPT_LENGTHS` (no end token)."""
    rng = np.random.default_rng(0)
    return [rng.integers(0, EOT, size=n).tolist() for n in PROMPT_LENGTHS]


def _batch(prompts, length=MAX_LENGTH):
    """Right-padded `token_ids` (padding `EOT`) and bool `padding_mask`."""
    token_ids = np.full((len(prompts), length), EOT, "int32")
    padding_mask = np.zeros((len(prompts), length), bool)
    for row, prompt in enumerate(prompts):
        token_ids[row, : len(prompt)] = prompt
        padding_mask[row, : len(prompt)] = True
    return {"token_ids": token_ids, "padding_mask": padding_mask}


def _hf_generate(model, prompt, **kwargs):
    """Hugging Face `generate` on one unpadded prompt; returns the ids (a
    list, prompt included) and the per-step scores `(steps, vocab)`."""
    import torch

    input_ids = torch.tensor([prompt], dtype=torch.long)
    with torch.no_grad():
        out = model.generate(
            input_ids,
            attention_mask=torch.ones_like(input_ids),
            do_sample=False,
            max_length=MAX_LENGTH,
            pad_token_id=EOT,
            output_scores=True,
            return_dict_in_generate=True,
            **kwargs,
        )
    return out.sequences[0].tolist(), torch.stack(out.scores)[:, 0].numpy()


@pytest.fixture(scope="module")
def hf_greedy(hf_lm, prompts):
    """Hugging Face greedy continuations of `prompts` to `MAX_LENGTH`
    tokens, without an end token."""
    _, model = hf_lm
    outputs = []
    for prompt in prompts:
        ids, scores = _hf_generate(model, prompt, num_beams=1, eos_token_id=None)
        # The argmax is decided by a clear margin at every step, far above
        # float32 differences between the two implementations.
        top2 = np.sort(scores, axis=-1)[:, -2:]
        assert (top2[:, 1] - top2[:, 0]).min() > 1e-3
        assert len(ids) == MAX_LENGTH
        outputs.append(ids)
    return outputs


def _load(directory):
    causal_lm = GPT2CausalLM.from_preset(directory, preprocessor=None)
    causal_lm.compile(sampler="greedy")
    return causal_lm


class TestGPT2CausalLMFromTransformers(TestCase):
    def test_from_preset_resolves_family_and_preprocessor(self, hf_lm):
        directory, _ = hf_lm
        causal_lm = CausalLM.from_preset(directory)
        assert type(causal_lm) is GPT2CausalLM
        assert type(causal_lm.backbone) is GPT2Backbone
        assert type(causal_lm.preprocessor) is GPT2CausalLMPreprocessor
        assert causal_lm.preprocessor.tokenizer.end_token_id == EOT
        assert causal_lm.backbone.max_sequence_length == 64
        assert (
            GPT2CausalLM.from_preset(directory, preprocessor=None).preprocessor is None
        )

    def test_logits_match_transformers(self, hf_lm, prompts):
        import torch

        directory, model = hf_lm
        causal_lm = _load(directory)
        inputs = _batch(prompts, length=max(PROMPT_LENGTHS) + 2)
        ours = causal_lm.predict(inputs, verbose=0)
        assert ours.shape == (len(prompts), max(PROMPT_LENGTHS) + 2, VOCAB_SIZE)
        with torch.no_grad():
            ref = model(
                input_ids=torch.tensor(inputs["token_ids"], dtype=torch.long),
                attention_mask=torch.tensor(inputs["padding_mask"], dtype=torch.long),
            ).logits.numpy()
        real = inputs["padding_mask"]
        np.testing.assert_allclose(ours[real], ref[real], atol=1e-4, rtol=0)
        # The logits are far from trivial.
        assert ref[real].std() > 1.0

    def test_greedy_matches_transformers(self, hf_lm, prompts, hf_greedy):
        causal_lm = _load(hf_lm[0])
        inputs = _batch(prompts)
        out = causal_lm.generate(inputs, stop_token_ids=None)
        assert set(out) == {"token_ids", "padding_mask"}
        assert out["token_ids"].shape == (len(prompts), MAX_LENGTH)
        assert out["token_ids"].tolist() == hf_greedy
        assert out["padding_mask"].all()
        # The inputs were not written into.
        for key, value in _batch(prompts).items():
            np.testing.assert_array_equal(inputs[key], value)
        # Non-degenerate continuations: several distinct tokens per row.
        for row, n in zip(hf_greedy, PROMPT_LENGTHS):
            assert len(set(row[n:])) >= 3

    def test_greedy_with_end_token_matches_transformers(
        self, hf_lm, prompts, hf_greedy
    ):
        directory, model = hf_lm
        # An end token that greedy decoding actually produces: the 4th
        # generated token of the first prompt.
        eos = hf_greedy[0][PROMPT_LENGTHS[0] + 3]
        assert eos != EOT
        references = [
            _hf_generate(model, prompt, num_beams=1, eos_token_id=eos)[0]
            for prompt in prompts
        ]
        # At least one prompt stops early, one before another.
        lengths = [len(ref) for ref in references]
        assert min(lengths) < MAX_LENGTH and len(set(lengths)) > 1
        causal_lm = _load(directory)
        out = causal_lm.generate(_batch(prompts), stop_token_ids=[eos])
        for row, (ref, prompt) in enumerate(zip(references, prompts)):
            n = len(ref)
            assert out["token_ids"][row, :n].tolist() == ref
            if n < MAX_LENGTH:
                assert ref[-1] == eos and eos not in ref[len(prompt) : -1]
            # The padding mask is True up to and including the first end
            # token the row generated.
            assert out["padding_mask"][row].tolist() == [True] * n + [False] * (
                MAX_LENGTH - n
            )
        # Also as a plain int.
        again = causal_lm.generate(_batch(prompts), stop_token_ids=eos)
        np.testing.assert_array_equal(again["padding_mask"], out["padding_mask"])

    def test_beam_matches_transformers(self, hf_lm, prompts, hf_greedy):
        directory, model = hf_lm
        references = [
            _hf_generate(
                model,
                prompt,
                num_beams=NUM_BEAMS,
                length_penalty=0.0,
                early_stopping=False,
                eos_token_id=None,
            )[0]
            for prompt in prompts
        ]
        causal_lm = GPT2CausalLM.from_preset(directory, preprocessor=None)
        causal_lm.compile(sampler=BeamSampler(num_beams=NUM_BEAMS))
        out = causal_lm.generate(_batch(prompts), stop_token_ids=None)
        assert out["token_ids"].tolist() == references
        # Beam search finds other sequences than greedy search here.
        assert references != hf_greedy

    def test_cached_greedy_equals_full_recomputation(self, hf_lm, prompts):
        causal_lm = _load(hf_lm[0])
        inputs = _batch(prompts)
        generated = causal_lm.generate(inputs, stop_token_ids=None)["token_ids"]
        # Naive decoding: the whole model on the whole sequence at each
        # step, argmax at the next position; prompt positions are kept.
        token_ids = inputs["token_ids"].copy()
        prompt_mask = inputs["padding_mask"]
        positions = np.arange(MAX_LENGTH)[None, :]
        for index in range(min(PROMPT_LENGTHS), MAX_LENGTH):
            mask = np.logical_or(prompt_mask, positions < index)
            # One input shape throughout: compiled once.
            logits = causal_lm.predict_on_batch(
                {"token_ids": token_ids, "padding_mask": mask}
            )
            next_token = logits[:, index - 1].argmax(axis=-1)
            token_ids[:, index] = np.where(
                prompt_mask[:, index], token_ids[:, index], next_token
            )
        np.testing.assert_array_equal(generated, token_ids)

    def test_untied_head_raises(self, tmp_path):
        import torch

        model = _perturbed_model(_hf_config(tie_word_embeddings=False), seed=1)
        with torch.no_grad():
            model.lm_head.weight.add_(1.0)
        assert not torch.equal(model.lm_head.weight, model.transformer.wte.weight)
        model.save_pretrained(tmp_path)
        write_tokenizer_files(tmp_path, TINY_VOCAB, TINY_MERGES)
        config = json.loads((tmp_path / "config.json").read_text())
        assert config["tie_word_embeddings"] is False
        with pytest.raises(PresetError, match="not tied"):
            GPT2CausalLM.from_preset(str(tmp_path))
        with pytest.raises(PresetError, match="not tied"):
            CausalLM.from_preset(str(tmp_path), preprocessor=None)
        # The backbone alone (no head) still loads.
        assert type(Backbone.from_preset(str(tmp_path))) is GPT2Backbone
