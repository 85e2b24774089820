import json
import os
import shutil

import numpy as np
import pytest

from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.models import DistilBertPreprocessor
from keras_nlp_clone.models import DistilBertTokenizer
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.handles import resolve_preset_dir
from keras_nlp_clone.tokenizers import Tokenizer
from tests.real_data import imdb_texts
from tests.real_data import rotten_tomatoes_texts
from tests.test_case import TestCase


class TestDistilBertTokenizer(TestCase):
    def test_special_token_ids(self, tiny_tokenizer):
        assert tiny_tokenizer.cls_token_id == 2
        assert tiny_tokenizer.sep_token_id == 3
        assert tiny_tokenizer.pad_token_id == 0
        assert tiny_tokenizer.mask_token_id == 4
        assert tiny_tokenizer.unk_token_id == 1
        assert (tiny_tokenizer.start_token_id, tiny_tokenizer.end_token_id) == (2, 3)

    def test_tokenize_and_detokenize(self, tiny_tokenizer, tiny_vocab):
        assert tiny_tokenizer("The quick brown FOX.") == [5, 6, 7, 8, 13]
        assert tiny_tokenizer(["Great movies!", "zebra"]) == [[14, 15, 22, 18], [1]]
        assert tiny_tokenizer.detokenize([5, 6, 7]) == "the quick brown"
        # `lowercase` defaults to False, as in the reference: cased models.
        cased = DistilBertTokenizer(tiny_vocab)
        assert cased("The fox") == [1, 8]

    def test_missing_special_token_raises(self):
        with pytest.raises(ValueError, match=r"\[MASK\]"):
            DistilBertTokenizer(vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])

    def test_preset_round_trip(self, tiny_tokenizer, tmp_path):
        tiny_tokenizer.save_to_preset(str(tmp_path))
        restored = Tokenizer.from_preset(str(tmp_path))
        assert type(restored) is DistilBertTokenizer
        assert restored.get_vocabulary() == tiny_tokenizer.get_vocabulary()
        assert restored("the lazy dog") == [5, 11, 12]
        with pytest.raises(PresetError, match="DistilBertBackbone"):
            BertTokenizer.from_preset(str(tmp_path))


@pytest.fixture(scope="module")
def hf_uncased_dir(tmp_path_factory):
    """A Hugging Face DistilBERT tokenizer directory as the hub ships it
    (`vocab.txt`, `tokenizer_config.json`, `config.json`), holding the real
    30,522-token uncased WordPiece vocabulary of `all_minilm_l6_v2_en`."""
    import transformers

    directory = tmp_path_factory.mktemp("hf_distilbert_uncased")
    vocab = os.path.join(resolve_preset_dir("all_minilm_l6_v2_en"), "vocab.txt")
    shutil.copy(vocab, directory / "vocab.txt")
    (directory / "tokenizer_config.json").write_text(
        json.dumps({"do_lower_case": True, "tokenizer_class": "DistilBertTokenizer"})
    )
    transformers.DistilBertConfig().save_pretrained(directory)
    return str(directory)


class TestDistilBertTokenizerExactness(TestCase):
    def test_matches_transformers_on_imdb(self, hf_uncased_dir):
        import transformers

        texts = list(imdb_texts(300))
        reference = transformers.DistilBertTokenizerFast.from_pretrained(hf_uncased_dir)
        expected = reference(texts, add_special_tokens=False)["input_ids"]
        # Through the Hugging Face converter (do_lower_case from the config)
        # and built directly from the vocabulary file.
        converted = DistilBertTokenizer.from_preset(hf_uncased_dir)
        direct = DistilBertTokenizer(
            os.path.join(hf_uncased_dir, "vocab.txt"), lowercase=True
        )
        assert converted.vocabulary_size() == 30522
        for tokenizer in (converted, direct):
            ours = tokenizer(texts)
            mismatches = [i for i, (a, b) in enumerate(zip(ours, expected)) if a != b]
            assert len(ours) == 300 and mismatches == [], mismatches[:5]

    def test_preprocessor_matches_transformers(self, hf_uncased_dir):
        import transformers

        texts = list(imdb_texts(300))
        reference = transformers.DistilBertTokenizerFast.from_pretrained(hf_uncased_dir)
        expected = reference(
            texts,
            padding="max_length",
            truncation=True,
            max_length=128,
            return_tensors="np",
        )
        assert "token_type_ids" not in expected
        preprocessor = DistilBertPreprocessor.from_preset(
            hf_uncased_dir, sequence_length=128
        )
        ours = preprocessor(texts)
        assert sorted(ours) == ["padding_mask", "token_ids"]
        np.testing.assert_array_equal(
            np.asarray(ours["token_ids"]), expected["input_ids"]
        )
        np.testing.assert_array_equal(
            np.asarray(ours["padding_mask"]).astype("int64"), expected["attention_mask"]
        )
        # Sentence pairs of short real sentences (no truncation: the
        # packer's round-robin truncation splits the budget evenly, which
        # differs from `transformers`' "longest_first" by a token).
        sentences = list(rotten_tomatoes_texts(200))
        pairs = (sentences[:100], sentences[100:])
        expected = reference(*pairs, padding="max_length", max_length=160)
        assert max(map(sum, expected["attention_mask"])) < 160
        ours = DistilBertPreprocessor(preprocessor.tokenizer, sequence_length=160)(
            pairs
        )
        np.testing.assert_array_equal(
            np.asarray(ours["token_ids"]), np.asarray(expected["input_ids"])
        )
