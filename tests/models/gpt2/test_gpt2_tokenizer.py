import shutil

import numpy as np
import pytest

from keras_nlp_clone.models import GPT2Tokenizer
from keras_nlp_clone.models import Tokenizer
from keras_nlp_clone.utils.lazy_module import tf
from tests import real_data
from tests.models.gpt2.conftest import EOT
from tests.models.gpt2.conftest import TINY_VOCAB
from tests.test_case import TestCase


def _ids(*tokens):
    return [TINY_VOCAB[t] for t in tokens]


class TestGPT2Tokenizer(TestCase):
    def test_special_token_ids(self, tiny_tokenizer):
        t = tiny_tokenizer
        assert t.start_token == t.end_token == t.pad_token == "<|endoftext|>"
        assert t.start_token_id == t.end_token_id == t.pad_token_id == EOT
        assert t.special_tokens == ["<|endoftext|>"] * 3

    def test_tokenize_and_detokenize(self, tiny_tokenizer):
        assert tiny_tokenizer("the quick brown fox") == _ids(
            "the", "Ġquick", "Ġbrown", "Ġfox"
        )
        # `<|endoftext|>` in the text is never split.
        assert tiny_tokenizer(["the<|endoftext|> fox", "x<|endoftext|>"]) == [
            _ids("the", "<|endoftext|>", "Ġfox"),
            _ids("x", "<|endoftext|>"),
        ]
        assert tiny_tokenizer.detokenize(_ids("the", "Ġlazy", "Ġdog")) == "the lazy dog"

    def test_tf_data_and_dense_outputs(self, tiny_tokenizer):
        ds = tf.data.Dataset.from_tensor_slices(["the fox", "a dog"]).batch(2)
        ragged = next(iter(ds.map(tiny_tokenizer)))
        assert ragged.to_list() == [_ids("the", "Ġfox"), _ids("a", "Ġdog")]
        dense = GPT2Tokenizer(vocabulary=dict(TINY_VOCAB), merges=[], sequence_length=3)
        assert np.asarray(dense(["ab"])).tolist() == [_ids("a", "b") + [0]]

    def test_missing_special_token_raises(self):
        vocab = {k: v for k, v in TINY_VOCAB.items() if k != "<|endoftext|>"}
        with pytest.raises(ValueError, match="<\\|endoftext\\|>"):
            GPT2Tokenizer(vocabulary=vocab, merges=[])

    def test_config_and_preset_round_trip(self, tiny_tokenizer, tmp_path):
        config = tiny_tokenizer.get_config()
        assert GPT2Tokenizer.from_config(config).get_config() == config
        tiny_tokenizer.save_to_preset(str(tmp_path))
        restored = Tokenizer.from_preset(str(tmp_path))
        assert type(restored) is GPT2Tokenizer
        assert restored.get_vocabulary() == tiny_tokenizer.get_vocabulary()
        assert restored("the lazy dog") == _ids("the", "Ġlazy", "Ġdog")
        assert restored.pad_token_id == EOT


@pytest.fixture(scope="module")
def real_gpt2_dir(tmp_path_factory):
    """The real GPT-2 files under Hugging Face's names."""
    directory = tmp_path_factory.mktemp("gpt2_real")
    shutil.copy(real_data.gpt2_vocabulary_path(), directory / "vocab.json")
    shutil.copy(real_data.gpt2_merges_path(), directory / "merges.txt")
    return directory


@pytest.fixture(scope="module")
def real_tokenizer():
    return GPT2Tokenizer(
        vocabulary=real_data.gpt2_vocabulary_path(),
        merges=real_data.gpt2_merges_path(),
    )


class TestGPT2TokenizerExactness(TestCase):
    def test_special_token_ids_of_real_files(self, real_tokenizer):
        t = real_tokenizer
        assert t.vocabulary_size() == 50257
        assert t.start_token_id == t.end_token_id == t.pad_token_id == 50256

    def test_ids_match_transformers_on_real_text(self, real_tokenizer, real_gpt2_dir):
        import transformers

        reference = transformers.GPT2TokenizerFast.from_pretrained(str(real_gpt2_dir))
        assert len(reference) == 50257
        texts = (
            list(real_data.imdb_texts(200))
            + list(real_data.rotten_tomatoes_texts(100))
            + list(real_data.news_texts(100))
            + ["Hello<|endoftext|> world", "  two  spaces\n\nand\ttabs 'll 're"]
        )
        expected = reference(texts, add_special_tokens=False)["input_ids"]
        ours = real_tokenizer(texts)
        mismatches = [i for i, (a, b) in enumerate(zip(ours, expected)) if a != b]
        assert mismatches == [], f"{len(mismatches)} texts differ, first {mismatches[:5]}"
        assert ours[-2] == [15496, 50256, 995]
        assert real_tokenizer.detokenize(ours[0]) == texts[0]
