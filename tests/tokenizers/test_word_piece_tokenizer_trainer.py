import os

import pytest

from keras_nlp_clone.tokenizers import WordPieceTokenizer
from keras_nlp_clone.tokenizers import compute_word_piece_vocabulary
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase

LETTERS = list("abcdefghijklmnopqrstuwxyz")
DATA = ["the quick brown fox jumped"] * 20 + ["the lazy dog jumps"] * 12


class TestComputeWordPieceVocabulary(TestCase):
    def test_learns_frequent_words(self):
        vocab = compute_word_piece_vocabulary(
            DATA, 60, reserved_tokens=["[PAD]", "[UNK]"]
        )
        # Reserved tokens, the alphabet, words seen often enough, and the
        # alphabet again as suffix pieces.
        assert vocab == (
            ["[PAD]", "[UNK]"]
            + [c for c in LETTERS if c != "v"]
            + ["the", "brown", "fox", "jumped", "quick"]
            + ["##" + c for c in LETTERS if c != "v"]
        )

    def test_default_reserved_tokens_and_small_data(self):
        vocab = compute_word_piece_vocabulary(
            ["the quick brown fox", "the lazy dog"], 40
        )
        alphabet = list("abcdefghiklnoqrtuwxyz")
        assert vocab == (
            ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
            + alphabet
            + ["##" + c for c in alphabet]
        )

    def test_dataset_input_batched_or_not(self):
        expected = compute_word_piece_vocabulary(DATA, 60)
        ds = tf.data.Dataset.from_tensor_slices(DATA)
        assert compute_word_piece_vocabulary(ds, 60) == expected
        assert compute_word_piece_vocabulary(ds.batch(7), 60) == expected

    def test_normalization_matches_tokenizer(self):
        vocab = compute_word_piece_vocabulary(
            ["Café Ω 中文"] * 3,
            60,
            lowercase=True,
            strip_accents=True,
            reserved_tokens=["[UNK]"],
        )
        assert vocab == [
            "[UNK]",
            "a",
            "c",
            "e",
            "f",
            "ω",
            "中",
            "文",
            "##a",
            "##c",
            "##e",
            "##f",
            "##ω",
            "##中",
            "##文",
        ]
        tokenizer = WordPieceTokenizer(
            vocabulary=vocab, lowercase=True, strip_accents=True
        )
        assert tokenizer("CAFÉ") == [2, 8, 11, 10]
        assert tokenizer.detokenize(tokenizer("Café Ω")) == "cafe ω"

    def test_split_false_and_suffix_indicator(self):
        vocab = compute_word_piece_vocabulary(
            ["ab c", "b"],
            60,
            split=False,
            suffix_indicator="@@",
            reserved_tokens=["[UNK]"],
        )
        assert vocab == ["[UNK]", " ", "a", "b", "c", "@@ ", "@@a", "@@b", "@@c"]

    def test_output_file(self, tmp_path):
        path = tmp_path / "out" / "vocab.txt"
        vocab = compute_word_piece_vocabulary(
            DATA, 60, vocabulary_output_file=str(path)
        )
        assert os.listdir(path.parent) == ["vocab.txt"]
        assert path.read_text(encoding="utf-8") == "\n".join(vocab) + "\n"
        tokenizer = WordPieceTokenizer(vocabulary=str(path))
        assert tokenizer.detokenize(tokenizer("the lazy fox")) == "the lazy fox"

    def test_errors(self):
        with pytest.raises(ValueError, match="`vocabulary_size` must be a"):
            compute_word_piece_vocabulary(DATA, 0)
        with pytest.raises(ValueError, match="`vocabulary_size` must be a"):
            compute_word_piece_vocabulary(DATA, 10.5)
        with pytest.raises(ValueError, match="must be larger than the"):
            compute_word_piece_vocabulary(DATA, 5)
        with pytest.raises(ValueError, match="Received: str"):
            compute_word_piece_vocabulary("the quick fox", 50)
        with pytest.raises(ValueError, match="list containing 3"):
            compute_word_piece_vocabulary(["a", 3], 50)
        with pytest.raises(ValueError, match="whose elements are string"):
            compute_word_piece_vocabulary(
                tf.data.Dataset.from_tensor_slices([1, 2]), 50
            )
        with pytest.raises(ValueError, match="`reserved_tokens` must be"):
            compute_word_piece_vocabulary(DATA, 50, reserved_tokens="[UNK]")
        with pytest.raises(ValueError, match="`suffix_indicator` must be"):
            compute_word_piece_vocabulary(DATA, 50, suffix_indicator="")
        with pytest.raises(ValueError, match="`vocabulary_output_file`"):
            compute_word_piece_vocabulary(
                DATA, 50, vocabulary_output_file=123
            )
