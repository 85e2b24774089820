import numpy as np
import pytest

from keras_nlp_clone.models import BartTokenizer
from keras_nlp_clone.models import Tokenizer
from keras_nlp_clone.utils.lazy_module import tf
from tests import real_data
from tests.models.bart.conftest import TINY_VOCAB
from tests.test_case import TestCase


def _ids(*tokens):
    return [TINY_VOCAB[t] for t in tokens]


class TestBartTokenizer(TestCase):
    def test_special_token_ids(self, tiny_tokenizer):
        t = tiny_tokenizer
        assert (t.start_token_id, t.pad_token_id, t.end_token_id) == (0, 1, 2)
        assert (t.unk_token_id, t.mask_token_id) == (3, len(TINY_VOCAB) - 1)
        assert t.special_tokens == ["<s>", "</s>", "<pad>", "<mask>", "<unk>"]
        assert t.special_token_ids == [0, 2, 1, len(TINY_VOCAB) - 1, 3]

    def test_tokenize_and_detokenize(self, tiny_tokenizer):
        assert tiny_tokenizer("the quick brown fox") == _ids(
            "the", "Ġquick", "Ġbrown", "Ġfox"
        )
        # Special tokens in the text are never split.
        assert tiny_tokenizer(["the<mask> fox", "</s><s>x"]) == [
            _ids("the", "<mask>", "Ġfox"),
            _ids("</s>", "<s>", "x"),
        ]
        assert tiny_tokenizer.detokenize(_ids("the", "Ġlazy", "Ġdog")) == "the lazy dog"

    def test_tf_data_and_dense_outputs(self, tiny_tokenizer):
        ds = tf.data.Dataset.from_tensor_slices(["the fox", "a dog"]).batch(2)
        ragged = next(iter(ds.map(tiny_tokenizer)))
        assert ragged.to_list() == [_ids("the", "Ġfox"), _ids("a", "Ġdog")]
        dense = BartTokenizer(vocabulary=dict(TINY_VOCAB), merges=[], sequence_length=3)
        assert np.asarray(dense(["ab"])).tolist() == [_ids("a", "b") + [0]]

    @pytest.mark.parametrize("token", ["<s>", "</s>", "<pad>", "<mask>", "<unk>"])
    def test_missing_special_token_raises(self, token):
        vocab = {k: v for k, v in TINY_VOCAB.items() if k != token}
        with pytest.raises(ValueError, match=token):
            BartTokenizer(vocabulary=vocab, merges=[])

    def test_preset_round_trip(self, tiny_tokenizer, tmp_path):
        tiny_tokenizer.save_to_preset(str(tmp_path))
        restored = Tokenizer.from_preset(str(tmp_path))
        assert type(restored) is BartTokenizer
        assert restored.get_vocabulary() == tiny_tokenizer.get_vocabulary()
        assert restored("the lazy dog") == _ids("the", "Ġlazy", "Ġdog")
        assert restored.mask_token_id == len(TINY_VOCAB) - 1


class TestBartTokenizerExactness(TestCase):
    def test_ids_match_transformers_on_real_text(self, gpt2_bart_dir):
        import transformers

        reference = transformers.BartTokenizer.from_pretrained(str(gpt2_bart_dir))
        # Through the Hugging Face converter: vocab.json and merges.txt.
        tokenizer = BartTokenizer.from_preset(str(gpt2_bart_dir))
        assert type(tokenizer) is BartTokenizer
        assert tokenizer.vocabulary_size() == 50262 == len(reference)
        for name in ("bos", "eos", "pad", "unk", "mask"):
            ours = {"bos": "start", "eos": "end"}.get(name, name)
            assert getattr(tokenizer, f"{ours}_token_id") == getattr(
                reference, f"{name}_token_id"
            )
        texts = (
            list(real_data.imdb_texts(300))
            + list(real_data.rotten_tomatoes_texts(100))
            + list(real_data.news_texts(20))
        )
        expected = reference(texts, add_special_tokens=False)["input_ids"]
        ours = tokenizer(texts)
        mismatches = [i for i, (a, b) in enumerate(zip(ours, expected)) if a != b]
        assert mismatches == [], f"{len(mismatches)} texts differ, first {mismatches[:5]}"
        assert tokenizer.detokenize(ours[:20]) == texts[:20]
        # With the special tokens HF adds, `<s> text </s>`.
        expected = reference(texts[:50])["input_ids"]
        assert [[0] + ids + [2] for ids in ours[:50]] == expected
