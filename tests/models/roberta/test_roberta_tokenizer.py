import json
import shutil

import numpy as np
import pytest

from keras_nlp_clone.models import RobertaPreprocessor
from keras_nlp_clone.models import RobertaTokenizer
from keras_nlp_clone.models import Tokenizer
from keras_nlp_clone.utils.lazy_module import tf
from tests import real_data
from tests.models.roberta.conftest import TINY_VOCAB
from tests.test_case import TestCase


def _ids(*tokens):
    return [TINY_VOCAB[t] for t in tokens]


class TestRobertaTokenizer(TestCase):
    def test_special_token_ids(self, tiny_tokenizer):
        t = tiny_tokenizer
        assert (t.start_token_id, t.pad_token_id, t.end_token_id) == (0, 1, 2)
        assert (t.unk_token_id, t.mask_token_id) == (3, len(TINY_VOCAB) - 1)
        assert (t.cls_token_id, t.sep_token_id) == (0, 2)
        assert t.special_token_ids == [0, 2, 1, len(TINY_VOCAB) - 1, 3]

    def test_tokenize_and_detokenize(self, tiny_tokenizer):
        assert tiny_tokenizer("the quick brown fox") == _ids(
            "the", "Ġquick", "Ġbrown", "Ġfox"
        )
        # Special tokens in the text are never split.
        assert tiny_tokenizer(["the<mask> fox", "</s>x"]) == [
            _ids("the", "<mask>", "Ġfox"),
            _ids("</s>", "x"),
        ]
        assert tiny_tokenizer.detokenize(_ids("the", "Ġlazy", "Ġdog")) == "the lazy dog"

    def test_tf_data_and_dense_outputs(self, tiny_tokenizer):
        ds = tf.data.Dataset.from_tensor_slices(["the fox", "a dog"]).batch(2)
        ragged = next(iter(ds.map(tiny_tokenizer)))
        assert ragged.to_list() == [_ids("the", "Ġfox"), _ids("a", "Ġdog")]
        dense = RobertaTokenizer(
            vocabulary=dict(TINY_VOCAB), merges=[], sequence_length=3
        )
        assert np.asarray(dense(["ab"])).tolist() == [_ids("a", "b") + [0]]

    def test_missing_special_token_raises(self):
        vocab = {k: v for k, v in TINY_VOCAB.items() if k != "<mask>"}
        with pytest.raises(ValueError, match="<mask>"):
            RobertaTokenizer(vocabulary=vocab, merges=[])

    def test_preset_round_trip(self, tiny_tokenizer, tmp_path):
        tiny_tokenizer.save_to_preset(str(tmp_path))
        restored = Tokenizer.from_preset(str(tmp_path))
        assert type(restored) is RobertaTokenizer
        assert restored.get_vocabulary() == tiny_tokenizer.get_vocabulary()
        assert restored("the lazy dog") == _ids("the", "Ġlazy", "Ġdog")
        assert restored.mask_token_id == len(TINY_VOCAB) - 1


@pytest.fixture(scope="module")
def gpt2_roberta_dir(tmp_path_factory):
    """A RoBERTa-style vocabulary built from the real GPT-2 files.

    RoBERTa uses GPT-2's merges with its own (fairseq) ids. To test that the
    ids come from `vocab.json` and not from GPT-2's order, the vocabulary
    here puts `<s>`, `<pad>`, `</s>`, `<unk>` at 0-3, every GPT-2 token at
    `4 + permutation[gpt2_id]` for a fixed permutation (NumPy
    `default_rng(0)`), and `<mask>` last (50261), as in RoBERTa.
    """
    with open(real_data.gpt2_vocabulary_path(), encoding="utf-8") as f:
        gpt2 = json.load(f)
    permutation = np.random.default_rng(0).permutation(len(gpt2))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for token, gpt2_id in gpt2.items():
        vocab[token] = 4 + int(permutation[gpt2_id])
    vocab["<mask>"] = len(vocab)
    directory = tmp_path_factory.mktemp("gpt2_roberta")
    (directory / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    shutil.copy(real_data.gpt2_merges_path(), directory / "merges.txt")
    # Enough of a Hugging Face checkpoint to load a tokenizer from.
    (directory / "config.json").write_text(json.dumps({"model_type": "roberta"}))
    return directory


class TestRobertaTokenizerExactness(TestCase):
    def test_ids_match_transformers_on_real_text(self, gpt2_roberta_dir):
        import transformers

        reference = transformers.RobertaTokenizer.from_pretrained(str(gpt2_roberta_dir))
        tokenizer = RobertaTokenizer(
            vocabulary=str(gpt2_roberta_dir / "vocab.json"),
            merges=str(gpt2_roberta_dir / "merges.txt"),
        )
        assert tokenizer.vocabulary_size() == 50262 == len(reference)
        assert tokenizer.mask_token_id == 50261 == reference.mask_token_id
        texts = list(real_data.imdb_texts(300)) + list(
            real_data.rotten_tomatoes_texts(100)
        )
        expected = reference(texts, add_special_tokens=False)["input_ids"]
        ours = tokenizer(texts)
        mismatches = [i for i, (a, b) in enumerate(zip(ours, expected)) if a != b]
        assert mismatches == [], f"{len(mismatches)} texts differ, first {mismatches[:5]}"
        assert tokenizer.detokenize(ours[:20]) == texts[:20]

    def test_preprocessor_matches_transformers_on_pairs(self, gpt2_roberta_dir):
        import transformers

        reference = transformers.RobertaTokenizer.from_pretrained(str(gpt2_roberta_dir))
        # Through the Hugging Face converter: a directory with vocab.json
        # and merges.txt.
        preprocessor = RobertaPreprocessor.from_preset(
            str(gpt2_roberta_dir), sequence_length=64
        )
        assert type(preprocessor.tokenizer) is RobertaTokenizer
        texts = list(real_data.rotten_tomatoes_texts(200))
        first, second = texts[:100], texts[100:]
        # Pairs of sentences: most are truncated (round robin = HF's
        # longest_first), some fit with padding.
        expected = reference(
            first, second, truncation=True, max_length=64,
            padding="max_length", return_tensors="np",
        )
        ours = preprocessor((first, second))
        assert 0 < int(np.sum(expected["attention_mask"].all(1))) < 100
        np.testing.assert_array_equal(np.asarray(ours["token_ids"]), expected["input_ids"])
        np.testing.assert_array_equal(
            np.asarray(ours["padding_mask"]).astype("int64"), expected["attention_mask"]
        )
        # Single reviews, truncated to 64.
        expected = reference(
            first, truncation=True, max_length=64, padding="max_length",
            return_tensors="np",
        )
        np.testing.assert_array_equal(
            np.asarray(preprocessor(first)["token_ids"]), expected["input_ids"]
        )
