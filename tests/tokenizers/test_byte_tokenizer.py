import os

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_nlp_clone.tokenizers import ByteTokenizer
from keras_nlp_clone.tokenizers import Tokenizer
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase


def _utf8(text):
    return list(text.encode("utf-8"))


class TestByteTokenizer(TestCase):
    def test_exact_ids(self):
        tokenizer = ByteTokenizer(lowercase=False)
        assert tokenizer("Hi!") == [72, 105, 33]
        assert tokenizer("café") == [99, 97, 102, 195, 169]
        assert tokenizer("中文") == [228, 184, 173, 230, 150, 135]
        assert tokenizer("😀") == [240, 159, 152, 128]
        assert tokenizer("") == []
        texts = ["Hi!", "café", "中文", "😀", "", "a\x00b"]
        assert tokenizer(texts) == [_utf8(t) for t in texts]

    def test_lowercase_is_nfkc_case_folding(self):
        tokenizer = ByteTokenizer()
        assert tokenizer("HÉLLO") == _utf8("héllo")
        # ICU case folding with NFKC, as KerasNLP (`case_fold_utf8`):
        # "ß" -> "ss", the ligature "ﬁ" -> "fi", final "Σ" -> "σ", and
        # "İ" -> "i" + combining dot above.
        assert tokenizer("ß ﬁ ΟΔΟΣ İ") == _utf8("ss fi οδοσ i\u0307")
        assert ByteTokenizer(lowercase=False)("ß ﬁ") == _utf8("ß ﬁ")

    def test_normalization_forms(self):
        decomposed = "e\u0301 ﬁ"
        composed = "\u00e9 ﬁ"
        expected = {
            "NFC": "\u00e9 ﬁ",
            "NFD": "e\u0301 ﬁ",
            "NFKC": "\u00e9 fi",
            "NFKD": "e\u0301 fi",
        }
        for form, text in expected.items():
            tokenizer = ByteTokenizer(lowercase=False, normalization_form=form)
            assert tokenizer([decomposed, composed]) == [_utf8(text)] * 2

    def test_invalid_utf8_input_is_kept(self):
        inputs = tf.constant([b"A\xffB\xc3", b"ok"])
        assert ByteTokenizer(lowercase=False)(inputs) == [
            [65, 255, 66, 195],
            [111, 107],
        ]
        # Case folding leaves invalid bytes alone.
        assert ByteTokenizer()(inputs) == [[97, 255, 98, 195], [111, 107]]

    def test_detokenize_errors_modes(self):
        # 255 is never valid UTF-8; [228, 184] is a truncated 3-byte
        # character; [237, 160, 128] encodes a surrogate (invalid).
        ids = [104, 255, 105, 228, 184, 33, 237, 160, 128]
        replace = ByteTokenizer()
        assert replace.detokenize(ids) == "h\ufffdi\ufffd!\ufffd\ufffd\ufffd"
        # The same as Python's `bytes.decode(errors="replace")`.
        assert replace.detokenize(ids) == bytes(ids).decode(errors="replace")
        custom = ByteTokenizer(replacement_char=ord("?"))
        assert custom.detokenize(ids) == "h?i?!???"
        ignore = ByteTokenizer(errors="ignore")
        assert ignore.detokenize(ids) == "hi!"
        strict = ByteTokenizer(errors="strict")
        assert strict.detokenize(_utf8("é!")) == "é!"
        with pytest.raises(ValueError, match='errors="strict"'):
            strict.detokenize(ids)

    def test_sequence_length(self):
        tokenizer = ByteTokenizer(sequence_length=4)
        outputs = tokenizer(["Hello", "hé", ""])
        assert keras.ops.is_tensor(outputs)
        assert tuple(outputs.shape) == (3, 4)
        assert keras.backend.standardize_dtype(outputs.dtype) == "int32"
        self.assertAllEqual(
            outputs, [[104, 101, 108, 108], [104, 195, 169, 0], [0, 0, 0, 0]]
        )
        unbatched = tokenizer("hi")
        assert tuple(unbatched.shape) == (4,)
        self.assertAllEqual(unbatched, [104, 105, 0, 0])
        # Truncation can split a character; detokenize replaces the rest.
        assert tokenizer.detokenize(tokenizer(["abc中"])) == ["abc\ufffd"]
        # Padding is dropped.
        assert tokenizer.detokenize(outputs) == ["hell", "hé", ""]

    def test_input_kinds(self):
        tokenizer = ByteTokenizer()
        expected = [[97, 98], [99]]
        assert tokenizer(np.array(["ab", "c"])) == expected
        assert tokenizer(np.array([b"ab", b"c"], dtype=object)) == expected
        assert tokenizer(tf.constant(["ab", "c"])) == expected
        assert tokenizer(tf.constant("ab")) == [97, 98]
        assert tokenizer(tf.constant([["ab", "c"]])) == [expected]
        assert tokenizer([["ab"], ["c", ""]]) == [[[97, 98]], [[99], []]]
        dense = ByteTokenizer(sequence_length=2)(tf.constant([["abc", "d"]]))
        assert tuple(dense.shape) == (1, 2, 2)
        self.assertAllEqual(dense, [[[97, 98], [100, 0]]])
        with pytest.raises(ValueError, match="expects a string"):
            tokenizer(3)
        with pytest.raises(ValueError, match="expects string inputs"):
            tokenizer(tf.constant([1, 2]))

    def test_detokenize_inputs(self):
        tokenizer = ByteTokenizer()
        assert tokenizer.detokenize([104, 105]) == "hi"
        assert tokenizer.detokenize([[104, 105], []]) == ["hi", ""]
        assert tokenizer.detokenize([]) == ""
        assert tokenizer.detokenize(np.array([[104, 0]])) == ["h"]
        ids = keras.ops.convert_to_tensor([[104, 105]])
        assert tokenizer.detokenize(ids) == ["hi"]
        ragged = tf.ragged.constant([[104], [105, 106]], dtype=tf.int64)
        assert tokenizer.detokenize(ragged) == ["h", "ij"]
        with pytest.raises(ValueError, match=r"token id 256, outside"):
            tokenizer.detokenize([104, 256])
        with pytest.raises(ValueError, match=r"token id -1, outside"):
            tokenizer.detokenize([[-1]])
        with pytest.raises(ValueError, match="integer byte ids"):
            tokenizer.detokenize(["h"])

    def test_tf_data_and_dtype(self):
        texts = ["Hello", "héllo 中", ""]
        for kwargs in ({}, {"sequence_length": 5}, {"dtype": "int64"}):
            self.run_preprocessing_layer_test(
                ByteTokenizer,
                kwargs,
                texts,
                expected_output=[
                    _pad(_utf8(t.lower()), kwargs.get("sequence_length"))
                    for t in texts
                ],
            )
        tokenizer = ByteTokenizer(sequence_length=8)
        ds = tf.data.Dataset.from_tensor_slices(texts).map(tokenizer)
        ds = ds.map(tokenizer.detokenize)
        # Truncation after 8 bytes cut "中" (3 bytes) in two: the rest is
        # replaced.
        assert list(ds.as_numpy_iterator()) == [
            b"hello",
            "héllo \ufffd".encode(),
            b"",
        ]
        graph = tf.function(ByteTokenizer(dtype="int64"))(tf.constant(["a"]))
        assert isinstance(graph, tf.RaggedTensor)
        assert graph.dtype == tf.int64

    def test_vocabulary(self):
        tokenizer = ByteTokenizer()
        assert tokenizer.vocabulary_size() == 256
        vocab = tokenizer.get_vocabulary()
        assert len(vocab) == 256
        assert vocab["a"] == 97 and vocab["\x00"] == 0 and vocab["ÿ"] == 255
        assert tokenizer.id_to_token(97) == "a"
        assert tokenizer.token_to_id("a") == 97
        assert tokenizer.token_to_id("ÿ") == 255
        with pytest.raises(ValueError, match=r"\[0, 255\]"):
            tokenizer.id_to_token(256)
        with pytest.raises(ValueError, match="below 256"):
            tokenizer.token_to_id("中")
        with pytest.raises(ValueError, match="below 256"):
            tokenizer.token_to_id("ab")

    def test_argument_errors(self):
        with pytest.raises(ValueError, match="must be an integer type"):
            ByteTokenizer(dtype="string")
        with pytest.raises(ValueError, match="`normalization_form` must"):
            ByteTokenizer(normalization_form="NFX")
        with pytest.raises(ValueError, match="`errors` must be one of"):
            ByteTokenizer(errors="remove")
        with pytest.raises(ValueError, match="`replacement_char` must"):
            ByteTokenizer(replacement_char=0xD800)
        with pytest.raises(ValueError, match="`sequence_length` must"):
            ByteTokenizer(sequence_length=-1)

    def test_config_and_preset_round_trip(self, tmp_path):
        tokenizer = ByteTokenizer(
            lowercase=False,
            sequence_length=6,
            normalization_form="NFKC",
            errors="ignore",
            replacement_char=63,
            dtype="int64",
        )
        config = tokenizer.get_config()
        revived = ByteTokenizer.from_config(config)
        assert revived.get_config() == config
        tokenizer.save_to_preset(str(tmp_path))
        # No vocabulary files: the config alone restores the tokenizer.
        assert os.listdir(tmp_path / "assets" / "tokenizer") == []
        for cls in (Tokenizer, ByteTokenizer):
            revived = cls.from_preset(str(tmp_path))
            assert type(revived) is ByteTokenizer
            assert revived.get_config() == config
            self.assertAllEqual(revived(["ﬁ Ab"]), [[102, 105, 32, 65, 98, 0]])
            assert revived.detokenize([104, 255, 105]) == "hi"


def _pad(ids, length):
    if length is None:
        return ids
    return (ids + [0] * length)[:length]


# Any Unicode text but surrogates (not encodable as UTF-8).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)))


@pytest.fixture(scope="module")
def tokenizers_by_errors():
    # Built once: hypothesis runs the test on many examples.
    return {
        errors: ByteTokenizer(errors=errors) for errors in ("replace", "ignore")
    }


class TestByteTokenizerProperties(TestCase):
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(texts=st.lists(TEXT, min_size=1, max_size=4))
    def test_ids_are_utf8_bytes_and_round_trip(self, texts):
        tokenizer = ByteTokenizer(lowercase=False)
        ids = tokenizer(texts)
        assert ids == [_utf8(t) for t in texts]
        # Exact round trip, except that NUL (id 0, the padding id) drops.
        assert tokenizer.detokenize(ids) == [
            t.replace("\x00", "") for t in texts
        ]

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(text=TEXT, form=st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]))
    def test_lowercase_and_normalization_give_valid_utf8(self, text, form):
        ids = ByteTokenizer(normalization_form=form)(text)
        assert all(0 <= i < 256 for i in ids)
        bytes(ids).decode("utf-8")  # Valid UTF-8: no exception.

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(ids=st.lists(st.integers(1, 255), max_size=30))
    def test_detokenize_any_bytes_like_python(self, tokenizers_by_errors, ids):
        for errors, tokenizer in tokenizers_by_errors.items():
            assert tokenizer.detokenize(ids) == bytes(ids).decode(
                "utf-8", errors=errors
            )

    def test_very_long_string(self):
        text = ("Unicode ünïcödé 中文 😀 " * 5000)[:100_000]
        assert len(text) == 100_000
        tokenizer = ByteTokenizer(lowercase=False)
        ids = tokenizer(text)
        assert ids == _utf8(text)
        assert tokenizer.detokenize(ids) == text
        dense = ByteTokenizer(sequence_length=100_001)([text, ""])
        assert tuple(dense.shape) == (2, 100_001)
