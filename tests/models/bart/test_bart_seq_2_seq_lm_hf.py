"""`BartSeq2SeqLM` against Hugging Face `BartForConditionalGeneration` on
the same weights.

A small random `BartForConditionalGeneration` (the tiny conftest
vocabulary, hidden 32, 2 + 2 layers, 4 heads, 32 positions) gets an
initializer range of 0.05 plus noise (std 0.2) on every parameter, so that
its logits are well separated (the test checks the margin between the two
best tokens on the Hugging Face side, so an argmax tie cannot make it
flaky) and a misplaced tensor cannot hide. It is saved with
`save_pretrained` (safetensors) and loaded with our `from_preset`. Hugging
Face generates with an empty `GenerationConfig` (BART's defaults such as
`forced_eos_token_id`, `forced_bos_token_id`, `no_repeat_ngram_size`,
`min_length` and `length_penalty` neutralised) and the decoder prompt
`</s> <s>` given as `decoder_input_ids`, as our preprocessor packs it.
"""

import shutil

import numpy as np
import pytest

from keras_nlp_clone.models import BartBackbone
from keras_nlp_clone.models import BartSeq2SeqLM
from keras_nlp_clone.models import BartSeq2SeqLMPreprocessor
from keras_nlp_clone.models import Seq2SeqLM
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.samplers import BeamSampler
from tests.models.bart.conftest import make_hf_bart
from tests.models.bart.conftest import padded_inputs
from tests.test_case import TestCase

MAX_LENGTH = 20
NUM_BEAMS = 3
# Right-padded sources of 4, 6 and 8 tokens (`<pad>` is 1).
SOURCES = np.array(
    [[0, 280, 281, 2, 1, 1, 1, 1],
     [0, 283, 284, 5, 40, 2, 1, 1],
     [0, 7, 9, 290, 300, 301, 302, 2]],
    "int32",
)


def _config():
    return dict(
        d_model=32, encoder_ffn_dim=64, decoder_ffn_dim=64, init_std=0.05
    )


@pytest.fixture(scope="module")
def hf_lm(tmp_path_factory):
    """`(directory, model)`: the saved random `BartForConditionalGeneration`
    with the tiny tokenizer files, and the model with an empty generation
    config."""
    import transformers

    directory, model = make_hf_bart(
        tmp_path_factory.mktemp("hf_bart_lm"),
        "BartForConditionalGeneration",
        noise=0.2,
        **_config(),
    )
    model.generation_config = transformers.GenerationConfig()
    return directory, model


def _prompts(length=MAX_LENGTH):
    """Our generation inputs: `SOURCES` and the decoder prompt `</s> <s>`
    right-padded to `length`."""
    decoder = np.ones((len(SOURCES), length), "int32")
    decoder[:, :2] = [2, 0]
    decoder_mask = np.zeros_like(decoder, dtype=bool)
    decoder_mask[:, :2] = True
    return {
        "encoder_token_ids": SOURCES,
        "encoder_padding_mask": SOURCES != 1,
        "decoder_token_ids": decoder,
        "decoder_padding_mask": decoder_mask,
    }


def _hf_generate(model, **kwargs):
    """Hugging Face `generate` on the padded `SOURCES` batch with the
    decoder prompt `</s> <s>`; returns the ids (lists, prompt included) and
    the output."""
    import torch

    input_ids = torch.tensor(SOURCES, dtype=torch.long)
    with torch.no_grad():
        out = model.generate(
            input_ids,
            attention_mask=(input_ids != 1).long(),
            decoder_input_ids=torch.tensor([[2, 0]] * len(SOURCES)),
            decoder_start_token_id=2,
            do_sample=False,
            max_length=MAX_LENGTH,
            pad_token_id=1,
            return_dict_in_generate=True,
            output_scores=True,
            **kwargs,
        )
    return out.sequences.tolist(), out


@pytest.fixture(scope="module")
def hf_greedy(hf_lm):
    """Hugging Face greedy continuations to `MAX_LENGTH`, no end token."""
    _, model = hf_lm
    ids, out = _hf_generate(model, num_beams=1, eos_token_id=None)
    import torch

    scores = torch.stack(out.scores).numpy()
    # The argmax is decided by a clear margin at every step, far above
    # float32 differences between the two implementations.
    top2 = np.sort(scores, axis=-1)[..., -2:]
    assert (top2[..., 1] - top2[..., 0]).min() > 1e-3
    assert all(len(row) == MAX_LENGTH for row in ids)
    return ids


def _load(directory, sampler="greedy"):
    seq_2_seq_lm = BartSeq2SeqLM.from_preset(directory, preprocessor=None)
    seq_2_seq_lm.compile(sampler=sampler)
    return seq_2_seq_lm


def _first_stop(row, stop, start=2):
    """The row up to and including its first `stop` after the prompt."""
    for i in range(start, len(row)):
        if row[i] == stop:
            return row[: i + 1]
    return row


class TestBartSeq2SeqLMFromTransformers(TestCase):
    def test_from_preset_resolves_family_and_preprocessor(self, hf_lm):
        directory, _ = hf_lm
        seq_2_seq_lm = Seq2SeqLM.from_preset(directory)
        assert type(seq_2_seq_lm) is BartSeq2SeqLM
        assert type(seq_2_seq_lm.backbone) is BartBackbone
        assert type(seq_2_seq_lm.preprocessor) is BartSeq2SeqLMPreprocessor
        tokenizer = seq_2_seq_lm.preprocessor.tokenizer
        assert (tokenizer.start_token_id, tokenizer.end_token_id) == (0, 2)
        # Packed lengths are capped to the checkpoint's positions, so that
        # `generate` on text works without setting them by hand.
        limit = seq_2_seq_lm.backbone.max_sequence_length
        preprocessor = seq_2_seq_lm.preprocessor
        assert preprocessor.encoder_sequence_length == limit
        assert preprocessor.decoder_sequence_length == limit
        seq_2_seq_lm.compile(sampler="greedy")
        assert isinstance(seq_2_seq_lm.generate("the quick brown fox"), str)

    def test_logits_match(self, hf_lm):
        import torch

        directory, model = hf_lm
        seq_2_seq_lm = _load(directory)
        inputs = padded_inputs()
        ours = seq_2_seq_lm.predict(inputs, verbose=0)
        with torch.no_grad():
            ref = model(
                input_ids=torch.tensor(inputs["encoder_token_ids"], dtype=torch.long),
                attention_mask=torch.tensor(inputs["encoder_padding_mask"]),
                decoder_input_ids=torch.tensor(
                    inputs["decoder_token_ids"], dtype=torch.long
                ),
                decoder_attention_mask=torch.tensor(inputs["decoder_padding_mask"]),
                use_cache=False,
            ).logits.numpy()
        assert ours.shape == ref.shape == (2, 6, model.config.vocab_size)
        real = inputs["decoder_padding_mask"][..., None].astype(bool)
        assert np.abs(np.where(real, ours - ref, 0)).max() < 1e-4
        assert np.abs(ref).max() > 1.0

    def test_greedy_matches(self, hf_lm, hf_greedy):
        directory, _ = hf_lm
        seq_2_seq_lm = _load(directory)
        out = seq_2_seq_lm.generate(_prompts(), stop_token_ids=None)
        assert out["decoder_token_ids"].tolist() == hf_greedy
        assert out["decoder_padding_mask"].all()

    def test_greedy_with_stop_token_matches(self, hf_lm, hf_greedy):
        directory, model = hf_lm
        # A token the first sequence generates after a few steps: the rows
        # stop at different positions (or not at all).
        stop = hf_greedy[0][6]
        expected, _ = _hf_generate(model, num_beams=1, eos_token_id=stop)
        seq_2_seq_lm = _load(directory)
        out = seq_2_seq_lm.generate(_prompts(), stop_token_ids=[stop])
        lengths = []
        for ours, mask, ref in zip(
            out["decoder_token_ids"].tolist(), out["decoder_padding_mask"], expected
        ):
            ours = _first_stop(ours, stop)
            assert ours == _first_stop(ref, stop)
            # The padding mask covers exactly the tokens up to the stop.
            assert mask.tolist() == [True] * len(ours) + [False] * (
                MAX_LENGTH - len(ours)
            )
            lengths.append(len(ours))
        assert min(lengths) < MAX_LENGTH

    def test_beam_search_matches(self, hf_lm, hf_greedy):
        directory, model = hf_lm
        expected, _ = _hf_generate(
            model,
            num_beams=NUM_BEAMS,
            eos_token_id=None,
            length_penalty=0.0,
            early_stopping=False,
            no_repeat_ngram_size=0,
            num_return_sequences=1,
        )
        seq_2_seq_lm = _load(directory, BeamSampler(num_beams=NUM_BEAMS))
        out = seq_2_seq_lm.generate(_prompts(), stop_token_ids=None)
        assert out["decoder_token_ids"].tolist() == expected
        # Beam search found something other than the greedy path somewhere.
        assert expected != hf_greedy

    def test_head_checks(self, hf_lm, tmp_path):
        import torch
        from safetensors.numpy import load_file
        from safetensors.numpy import save_file

        # A non-zero `final_logits_bias` is refused by the task (the
        # backbone still loads).
        directory, model = make_hf_bart(
            tmp_path / "bias", "BartForConditionalGeneration", **_config()
        )
        with torch.no_grad():
            model.final_logits_bias[0, 5] = 0.5
        model.save_pretrained(directory)
        with pytest.raises(PresetError, match="final_logits_bias"):
            BartSeq2SeqLM.from_preset(directory)
        BartBackbone.from_preset(directory)
        # An `lm_head.weight` that differs from the shared embedding.
        directory, _ = hf_lm
        tensors = load_file(f"{directory}/model.safetensors")
        tensors["lm_head.weight"] = tensors["model.shared.weight"] + 1.0
        untied = tmp_path / "untied"
        untied.mkdir()
        for name in ("config.json", "vocab.json", "merges.txt"):
            shutil.copy(f"{directory}/{name}", untied / name)
        save_file(tensors, str(untied / "model.safetensors"))
        with pytest.raises(PresetError, match="lm_head.weight"):
            BartSeq2SeqLM.from_preset(str(untied))
        # A tied copy is accepted.
        tensors["lm_head.weight"] = tensors["model.shared.weight"]
        save_file(tensors, str(untied / "model.safetensors"))
        assert type(BartSeq2SeqLM.from_preset(str(untied))) is BartSeq2SeqLM
