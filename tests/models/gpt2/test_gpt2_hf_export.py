"""GPT-2 export to Hugging Face `transformers` (`export_to_transformers`).

Oracles: `transformers` itself. A small random `GPT2CausalLM` (the real
GPT-2 vocabulary of 50,257 tokens, hidden 32, 2 layers, 4 heads, every
weight perturbed so that no layer norm or bias sits at its initial value)
with the real GPT-2 tokenizer is exported; `AutoModelForCausalLM`,
`AutoModel` and `AutoTokenizer` load the directories, and their logits,
hidden states, greedy continuations and token ids (on real news text) are
compared with ours. The other direction starts from a random Hugging Face
`GPT2LMHeadModel`: loaded with our `from_preset` and exported again, every
tensor of its `model.safetensors` comes back identical.
"""

import json
import os

import keras
import numpy as np
import pytest

from keras_nlp_clone.models import GPT2Backbone
from keras_nlp_clone.models import GPT2CausalLM
from keras_nlp_clone.models import GPT2CausalLMPreprocessor
from keras_nlp_clone.models import GPT2Tokenizer
from tests import real_data
from tests.models.gpt2.conftest import TINY_MERGES
from tests.models.gpt2.conftest import TINY_VOCAB
from tests.test_case import TestCase

EOT = 50256
VOCAB_SIZE = 50257
MAX_SEQUENCE_LENGTH = 32


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
def tokenizer():
    return GPT2Tokenizer(
        vocabulary=real_data.gpt2_vocabulary_path(),
        merges=real_data.gpt2_merges_path(),
    )


@pytest.fixture(scope="module")
def causal_lm(tokenizer):
    backbone = GPT2Backbone(
        vocabulary_size=VOCAB_SIZE,
        num_layers=2,
        num_heads=4,
        hidden_dim=32,
        intermediate_dim=64,
        max_sequence_length=MAX_SEQUENCE_LENGTH,
    )
    _perturb(backbone, seed=0)
    preprocessor = GPT2CausalLMPreprocessor(tokenizer, sequence_length=16)
    return GPT2CausalLM(backbone, preprocessor=preprocessor)


@pytest.fixture(scope="module")
def exported(causal_lm, tmp_path_factory):
    """Directories of the exported task (with its tokenizer), backbone and
    tokenizer."""
    root = tmp_path_factory.mktemp("gpt2_export")
    paths = {name: str(root / name) for name in ("task", "backbone", "tokenizer")}
    causal_lm.export_to_transformers(paths["task"])
    causal_lm.backbone.export_to_transformers(paths["backbone"])
    causal_lm.preprocessor.tokenizer.export_to_transformers(paths["tokenizer"])
    return paths


@pytest.fixture(scope="module")
def news_batch(tokenizer):
    """Two right-padded rows of real news tokens (12 and 20 tokens)."""
    texts = real_data.news_texts(2)
    lengths = (12, 20)
    token_ids = np.full((2, 20), EOT, "int32")
    padding_mask = np.zeros((2, 20), "int32")
    for row, (text, n) in enumerate(zip(texts, lengths)):
        ids = tokenizer(text)[:n]
        assert len(ids) == n
        token_ids[row, :n] = ids
        padding_mask[row, :n] = 1
    return {"token_ids": token_ids, "padding_mask": padding_mask}


def _torch_inputs(batch):
    import torch

    return {
        "input_ids": torch.tensor(batch["token_ids"], dtype=torch.long),
        "attention_mask": torch.tensor(batch["padding_mask"], dtype=torch.long),
    }


class TestGPT2ExportToTransformers(TestCase):
    def test_files_and_config(self, exported):
        assert sorted(os.listdir(exported["task"])) == [
            "config.json",
            "merges.txt",
            "model.safetensors",
            "special_tokens_map.json",
            "tokenizer_config.json",
            "vocab.json",
        ]
        assert sorted(os.listdir(exported["backbone"])) == [
            "config.json",
            "model.safetensors",
        ]
        with open(os.path.join(exported["task"], "config.json")) as f:
            config = json.load(f)
        assert config["model_type"] == "gpt2"
        assert config["architectures"] == ["GPT2LMHeadModel"]
        assert (config["bos_token_id"], config["eos_token_id"]) == (EOT, EOT)
        with open(os.path.join(exported["backbone"], "config.json")) as f:
            assert json.load(f)["architectures"] == ["GPT2Model"]

    def test_causal_lm_logits_match(self, causal_lm, exported, news_batch):
        import torch
        import transformers

        model, info = transformers.AutoModelForCausalLM.from_pretrained(
            exported["task"], output_loading_info=True
        )
        assert type(model).__name__ == "GPT2LMHeadModel"
        assert info["missing_keys"] == set() or not info["missing_keys"]
        assert not info["unexpected_keys"]
        assert model.lm_head.weight is model.transformer.wte.weight
        with torch.no_grad():
            ref = model.eval()(**_torch_inputs(news_batch)).logits.numpy()
        ours = keras.ops.convert_to_numpy(causal_lm(news_batch))
        real = news_batch["padding_mask"].astype(bool)
        np.testing.assert_allclose(ours[real], ref[real], atol=1e-4, rtol=0)
        assert ref[real].std() > 1.0

    def test_backbone_hidden_states_match(self, causal_lm, exported, news_batch):
        import torch
        import transformers

        model, info = transformers.AutoModel.from_pretrained(
            exported["backbone"], output_loading_info=True
        )
        assert type(model).__name__ == "GPT2Model"
        assert not info["missing_keys"] and not info["unexpected_keys"]
        with torch.no_grad():
            ref = model.eval()(**_torch_inputs(news_batch)).last_hidden_state
        ours = keras.ops.convert_to_numpy(causal_lm.backbone(news_batch))
        real = news_batch["padding_mask"].astype(bool)
        np.testing.assert_allclose(ours[real], ref.numpy()[real], atol=1e-4, rtol=0)

    def test_greedy_generate_matches(self, causal_lm, exported, news_batch):
        import torch
        import transformers

        model = transformers.AutoModelForCausalLM.from_pretrained(exported["task"])
        model.generation_config = transformers.GenerationConfig()
        prompt = news_batch["token_ids"][:1, :12]
        num_new = 6
        with torch.no_grad():
            out = model.eval().generate(
                torch.tensor(prompt, dtype=torch.long),
                attention_mask=torch.ones(prompt.shape, dtype=torch.long),
                do_sample=False,
                max_new_tokens=num_new,
                eos_token_id=None,
                pad_token_id=EOT,
                output_scores=True,
                return_dict_in_generate=True,
            )
        reference = out.sequences[0].tolist()
        # Every step is decided by a clear margin.
        scores = np.sort(torch.stack(out.scores)[:, 0].numpy(), axis=-1)
        assert (scores[:, -1] - scores[:, -2]).min() > 1e-3
        # Ours, greedily: the argmax of our logits, one token at a time, on
        # the right-padded batch's shape (the causal mask keeps padding out
        # of the real positions; one shape keeps JAX from recompiling).
        # Our cached `generate` equals this recomputation and Hugging Face's
        # `generate` on the same weights: test_gpt2_causal_lm_hf.py.
        ours = [int(t) for t in prompt[0]]
        for _ in range(num_new):
            x = {key: value.copy() for key, value in news_batch.items()}
            x["token_ids"][0, : len(ours)] = ours
            x["padding_mask"][0] = 0
            x["padding_mask"][0, : len(ours)] = 1
            logits = keras.ops.convert_to_numpy(causal_lm(x))
            ours.append(int(np.argmax(logits[0, len(ours) - 1])))
        assert ours == reference
        assert len(set(reference[12:])) >= 2

    def test_tokenizer_ids_match_on_real_text(self, tokenizer, exported):
        import transformers

        texts = list(real_data.news_texts(10)) + [
            "Hello world!<|endoftext|> A second  document,\n\nwith 123 émojis 🤗.",
        ]
        for name in ("task", "tokenizer"):
            hf = transformers.AutoTokenizer.from_pretrained(exported[name])
            assert type(hf).__name__ == "GPT2Tokenizer"
            assert hf.eos_token_id == EOT and hf.pad_token_id == EOT
            for text in texts:
                assert hf(text)["input_ids"] == tokenizer(text), text[:60]
        assert sorted(os.listdir(exported["tokenizer"])) == [
            "merges.txt",
            "special_tokens_map.json",
            "tokenizer_config.json",
            "vocab.json",
        ]

    def test_add_prefix_space_is_refused(self, tmp_path):
        tokenizer = GPT2Tokenizer(
            vocabulary=dict(TINY_VOCAB), merges=list(TINY_MERGES), add_prefix_space=True
        )
        with pytest.raises(ValueError, match="add_prefix_space=True"):
            tokenizer.export_to_transformers(str(tmp_path / "out"))
        assert not os.path.exists(tmp_path / "out")


class TestGPT2TransformersRoundTrip(TestCase):
    @pytest.mark.parametrize("class_name", ["GPT2LMHeadModel", "GPT2Model"])
    def test_hf_to_ours_to_hf_is_identical(self, class_name, tmp_path):
        import torch
        import transformers

        config = transformers.GPT2Config(
            vocab_size=300,
            n_positions=24,
            n_embd=16,
            n_layer=2,
            n_head=4,
            bos_token_id=299,
            eos_token_id=299,
        )
        torch.manual_seed(0)
        model = getattr(transformers, class_name)(config)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.add_(0.1 * torch.randn_like(parameter))
        source = tmp_path / "hf"
        model.save_pretrained(source)
        if class_name == "GPT2Model":
            ours = GPT2Backbone.from_preset(str(source))
        else:
            ours = GPT2CausalLM.from_preset(str(source), preprocessor=None)
        ours.export_to_transformers(str(tmp_path / "again"))
        before = _read_safetensors(str(source / "model.safetensors"))
        after = _read_safetensors(str(tmp_path / "again" / "model.safetensors"))
        assert sorted(after) == sorted(before)
        for key, value in before.items():
            assert after[key].dtype == value.dtype, key
            np.testing.assert_array_equal(after[key], value, err_msg=key)
        with open(tmp_path / "again" / "config.json") as f:
            config_after = json.load(f)
        for key in ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head"):
            assert config_after[key] == getattr(config, key)
