"""BART export to Hugging Face `transformers` (`export_to_transformers`).

Oracles: `transformers` itself. A small random `BartSeq2SeqLM` (hidden 32,
2 + 2 layers, 4 heads, every weight perturbed so that no layer norm or bias
sits at its initial value) with a BART-style tokenizer built from the real
GPT-2 files (`gpt2_bart_dir` in conftest: RoBERTa's special tokens at ids
0-3, GPT-2's tokens permuted after them, `<mask>` last) is exported.
`AutoModelForSeq2SeqLM`, `AutoModel` and `AutoTokenizer` load the
directories; logits, encoder and decoder hidden states and token ids on
real news text are compared with ours. The other direction starts from a
random Hugging Face `BartForConditionalGeneration`/`BartModel`: loaded with
our `from_preset` and exported again, every tensor comes back identical.
"""

import json
import os

import keras
import numpy as np
import pytest

from keras_nlp_clone.models import BartBackbone
from keras_nlp_clone.models import BartSeq2SeqLM
from keras_nlp_clone.models import BartSeq2SeqLMPreprocessor
from keras_nlp_clone.models import BartTokenizer
from tests import real_data
from tests.models.bart.conftest import hf_bart_outputs
from tests.models.bart.conftest import make_hf_bart
from tests.test_case import TestCase

PAD = 1


def _perturb(model, seed, scale=0.3):
    """Adds normal noise (std `scale`) to every weight of `model`."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        value = np.asarray(variable.numpy())
        variable.assign(value + scale * rng.standard_normal(value.shape))


def _read_safetensors(path):
    from safetensors.numpy import load_file

    return load_file(path)


@pytest.fixture(scope="module")
def tokenizer(gpt2_bart_dir):
    return BartTokenizer(
        vocabulary=str(gpt2_bart_dir / "vocab.json"),
        merges=str(gpt2_bart_dir / "merges.txt"),
    )


@pytest.fixture(scope="module")
def seq_2_seq_lm(tokenizer):
    backbone = BartBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        num_heads=4,
        hidden_dim=32,
        intermediate_dim=64,
        max_sequence_length=32,
    )
    _perturb(backbone, seed=0)
    preprocessor = BartSeq2SeqLMPreprocessor(
        tokenizer, encoder_sequence_length=24, decoder_sequence_length=16
    )
    return BartSeq2SeqLM(backbone, preprocessor=preprocessor)


@pytest.fixture(scope="module")
def exported(seq_2_seq_lm, tmp_path_factory):
    root = tmp_path_factory.mktemp("bart_export")
    paths = {name: str(root / name) for name in ("task", "backbone", "tokenizer")}
    seq_2_seq_lm.export_to_transformers(paths["task"])
    seq_2_seq_lm.backbone.export_to_transformers(paths["backbone"])
    seq_2_seq_lm.preprocessor.tokenizer.export_to_transformers(paths["tokenizer"])
    return paths


@pytest.fixture(scope="module")
def news_batch(seq_2_seq_lm):
    """Real news text packed by our preprocessor: encoder rows of 24 tokens
    and decoder rows of 16 (`</s> <s> ...`), some padded, some truncated."""
    texts = real_data.news_texts(4)
    x, _, _ = seq_2_seq_lm.preprocessor(
        {
            "encoder_text": [texts[0][:60], texts[1][:300]],
            "decoder_text": [texts[2][:200], texts[3][:30]],
        }
    )
    batch = {key: np.asarray(value).astype("int32") for key, value in x.items()}
    for key in ("encoder_padding_mask", "decoder_padding_mask"):
        assert (batch[key] == 0).any() and batch[key].all(1).any()
    return batch


class TestBartExportToTransformers(TestCase):
    def test_configs(self, exported, tokenizer):
        for name, architecture in (
            ("task", "BartForConditionalGeneration"),
            ("backbone", "BartModel"),
        ):
            with open(os.path.join(exported[name], "config.json")) as f:
                config = json.load(f)
            assert config["model_type"] == "bart"
            assert config["architectures"] == [architecture]
            assert config["max_position_embeddings"] == 32
            assert (config["pad_token_id"], config["decoder_start_token_id"]) == (
                PAD,
                tokenizer.end_token_id,
            )
        assert sorted(os.listdir(exported["task"])) == [
            "config.json",
            "merges.txt",
            "model.safetensors",
            "special_tokens_map.json",
            "tokenizer_config.json",
            "vocab.json",
        ]

    def test_seq_2_seq_lm_logits_match(self, seq_2_seq_lm, exported, news_batch):
        import transformers

        model, info = transformers.AutoModelForSeq2SeqLM.from_pretrained(
            exported["task"], output_loading_info=True
        )
        assert type(model).__name__ == "BartForConditionalGeneration"
        assert not info["missing_keys"] and not info["unexpected_keys"]
        ref = hf_bart_outputs(model.eval(), news_batch).logits.numpy()
        ours = keras.ops.convert_to_numpy(seq_2_seq_lm(news_batch))
        real = news_batch["decoder_padding_mask"].astype(bool)
        np.testing.assert_allclose(ours[real], ref[real], atol=1e-4, rtol=0)
        assert ref[real].std() > 1.0

    def test_backbone_hidden_states_match(self, seq_2_seq_lm, exported, news_batch):
        import transformers

        model, info = transformers.AutoModel.from_pretrained(
            exported["backbone"], output_loading_info=True
        )
        assert type(model).__name__ == "BartModel"
        assert not info["missing_keys"] and not info["unexpected_keys"]
        ref = hf_bart_outputs(model.eval(), news_batch)
        ours = seq_2_seq_lm.backbone(news_batch)
        for side, hf_output in (
            ("encoder", ref.encoder_last_hidden_state),
            ("decoder", ref.last_hidden_state),
        ):
            real = news_batch[f"{side}_padding_mask"].astype(bool)
            np.testing.assert_allclose(
                keras.ops.convert_to_numpy(ours[f"{side}_sequence_output"])[real],
                hf_output.numpy()[real],
                atol=1e-4,
                rtol=0,
            )

    def test_tokenizer_ids_match_on_real_text(
        self, seq_2_seq_lm, tokenizer, exported
    ):
        import transformers

        texts = list(real_data.news_texts(8)) + [
            "The <mask> sat on the mat.</s> A second  one,\n\nwith émojis 🤗.",
        ]
        for name in ("tokenizer", "task"):
            hf = transformers.AutoTokenizer.from_pretrained(exported[name])
            assert (hf.pad_token_id, hf.eos_token_id, hf.mask_token_id) == (
                PAD,
                tokenizer.end_token_id,
                tokenizer.mask_token_id,
            )
            for text in texts:
                assert hf(text, add_special_tokens=False)["input_ids"] == tokenizer(
                    text
                )
        # With its special tokens: our encoder packing `<s> ... </s>`.
        x, _, _ = seq_2_seq_lm.preprocessor(
            {"encoder_text": [texts[0][:50]], "decoder_text": ["a"]}
        )
        n = int(np.asarray(x["encoder_padding_mask"]).sum())
        assert hf(texts[0][:50])["input_ids"] == (
            np.asarray(x["encoder_token_ids"])[0, :n].tolist()
        )


class TestBartTransformersRoundTrip(TestCase):
    @pytest.mark.parametrize(
        "class_name", ["BartForConditionalGeneration", "BartModel"]
    )
    def test_hf_to_ours_to_hf_is_identical(self, class_name, tmp_path):
        import torch

        source = tmp_path / "hf"
        _, model = make_hf_bart(source, class_name)
        # The two rows before position 0 are never read; our backbone
        # does not hold them, and the export writes zeros there.
        with torch.no_grad():
            for side in (model.base_model.encoder, model.base_model.decoder):
                side.embed_positions.weight[:2].zero_()
        model.save_pretrained(source)
        if class_name == "BartModel":
            ours = BartBackbone.from_preset(str(source))
        else:
            ours = BartSeq2SeqLM.from_preset(str(source), preprocessor=None)
        ours.export_to_transformers(str(tmp_path / "again"))
        before = _read_safetensors(str(source / "model.safetensors"))
        after = _read_safetensors(str(tmp_path / "again" / "model.safetensors"))
        assert sorted(after) == sorted(before)
        for key, value in before.items():
            np.testing.assert_array_equal(after[key], value, err_msg=key)
