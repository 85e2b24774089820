import pytest

from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.tokenizers import Tokenizer
from tests.test_case import TestCase


class TestBertTokenizer(TestCase):
    def test_special_token_ids(self, tiny_tokenizer):
        assert tiny_tokenizer.cls_token_id == 2
        assert tiny_tokenizer.sep_token_id == 3
        assert tiny_tokenizer.pad_token_id == 0
        assert tiny_tokenizer.mask_token_id == 4
        assert tiny_tokenizer.start_token_id == 2
        assert tiny_tokenizer.end_token_id == 3

    def test_tokenize_and_detokenize(self, tiny_tokenizer):
        assert tiny_tokenizer("The quick brown FOX.") == [5, 6, 7, 8, 13]
        assert tiny_tokenizer(["Great movies!", "zebra"]) == [
            [14, 15, 22, 18],
            [1],
        ]
        assert tiny_tokenizer.detokenize([5, 6, 7]) == "the quick brown"

    def test_missing_special_token_raises(self):
        with pytest.raises(ValueError, match=r"\[MASK\]"):
            BertTokenizer(vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])

    def test_preset_round_trip(self, tiny_tokenizer, tmp_path):
        tiny_tokenizer.save_to_preset(str(tmp_path))
        restored = Tokenizer.from_preset(str(tmp_path))
        assert type(restored) is BertTokenizer
        assert restored.get_vocabulary() == tiny_tokenizer.get_vocabulary()
        assert restored("the lazy dog") == [5, 11, 12]


@pytest.mark.large
class TestBertTokenizerExactness(TestCase):
    def test_matches_transformers_on_imdb(self, minilm_dir, imdb_reviews):
        import transformers

        texts = [text for text, _ in imdb_reviews[:1200]]
        reference = transformers.BertTokenizerFast.from_pretrained(minilm_dir)
        expected = reference(texts, add_special_tokens=False)["input_ids"]
        tokenizer = BertTokenizer.from_preset("all_minilm_l6_v2_en")
        ours = tokenizer(texts)
        assert len(ours) == 1200
        mismatches = [i for i, (a, b) in enumerate(zip(ours, expected)) if a != b]
        assert mismatches == [], f"{len(mismatches)} reviews differ, first {mismatches[:5]}"

    def test_preprocessor_matches_transformers_with_special_tokens(
        self, minilm_dir, imdb_reviews
    ):
        import numpy as np
        import transformers

        from keras_nlp_clone.models import BertPreprocessor

        texts = [text for text, _ in imdb_reviews[:64]]
        reference = transformers.BertTokenizerFast.from_pretrained(minilm_dir)
        expected = reference(
            texts, padding="max_length", truncation=True, max_length=128,
            return_tensors="np",
        )
        preprocessor = BertPreprocessor.from_preset(
            "all_minilm_l6_v2_en", sequence_length=128
        )
        ours = preprocessor(texts)
        np.testing.assert_array_equal(
            np.asarray(ours["token_ids"]), expected["input_ids"]
        )
        np.testing.assert_array_equal(
            np.asarray(ours["padding_mask"]).astype("int64"),
            expected["attention_mask"],
        )
