import os

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_nlp_clone.tokenizers import Tokenizer
from keras_nlp_clone.tokenizers import UnicodeCodepointTokenizer
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase


def _ords(text):
    return [ord(c) for c in text]


class TestUnicodeCodepointTokenizer(TestCase):
    def test_exact_ids(self):
        tokenizer = UnicodeCodepointTokenizer(lowercase=False)
        assert tokenizer("Hi!") == [72, 105, 33]
        assert tokenizer("café") == [99, 97, 102, 233]
        assert tokenizer("中文") == [20013, 25991]
        assert tokenizer("😀👍🏽") == [128512, 128077, 127997]
        assert tokenizer("") == []
        texts = ["Hi!", "café", "中文", "😀", "", "a\x00b", "पुस्तक"]
        assert tokenizer(texts) == [_ords(t) for t in texts]

    def test_lowercase_is_nfkc_case_folding(self):
        tokenizer = UnicodeCodepointTokenizer()
        assert tokenizer("HÉLLO") == _ords("héllo")
        assert tokenizer("ß ﬁ ΟΔΟΣ İ") == _ords("ss fi οδοσ i\u0307")
        assert UnicodeCodepointTokenizer(lowercase=False)("ß") == [223]
        # NFKC case folding also removes default ignorables (soft hyphen,
        # zero width joiner).
        assert tokenizer("a\u00adb\u200dc") == _ords("abc")

    def test_normalization_forms(self):
        inputs = ["e\u0301 ﬁ", "\u00e9 ﬁ"]
        expected = {
            "NFC": "\u00e9 ﬁ",
            "NFD": "e\u0301 ﬁ",
            "NFKC": "\u00e9 fi",
            "NFKD": "e\u0301 fi",
        }
        for form, text in expected.items():
            tokenizer = UnicodeCodepointTokenizer(
                lowercase=False, normalization_form=form
            )
            assert tokenizer(inputs) == [_ords(text)] * 2

    def test_invalid_utf8_input_errors_modes(self):
        # 0xff is never valid; 0xc3 starts a 2-byte character cut short;
        # 0xed 0xa0 0x80 encodes a surrogate.
        inputs = tf.constant([b"A\xffB\xc3", b"\xed\xa0\x80!"])
        replace = UnicodeCodepointTokenizer(lowercase=False)
        assert replace(inputs) == [[65, 65533, 66, 65533], [65533] * 3 + [33]]
        custom = UnicodeCodepointTokenizer(replacement_char=63)
        assert custom(inputs) == [[97, 63, 98, 63], [63, 63, 63, 33]]
        ignore = UnicodeCodepointTokenizer(errors="ignore")
        assert ignore(inputs) == [[97, 98], [33]]
        strict = UnicodeCodepointTokenizer(errors="strict")
        assert strict("ok") == [111, 107]
        with pytest.raises(ValueError, match='errors="strict"'):
            strict(inputs)

    def test_detokenize_invalid_codepoints(self):
        # Negative, surrogate, above U+10FFFF, and beyond int32.
        ids = tf.constant([104, -5, 0xD800, 0x110000, 2**33 + 105], tf.int64)
        replace = UnicodeCodepointTokenizer()
        assert replace.detokenize(ids) == "h\ufffd\ufffd\ufffd\ufffd"
        custom = UnicodeCodepointTokenizer(replacement_char=88)
        assert custom.detokenize([110, 105, 10_000_000, 106]) == "niXj"
        ignore = UnicodeCodepointTokenizer(errors="ignore")
        assert ignore.detokenize(ids) == "h"
        strict = UnicodeCodepointTokenizer(errors="strict")
        assert strict.detokenize([104, 233]) == "hé"
        with pytest.raises(ValueError, match="out of range for Unicode"):
            strict.detokenize([104, 0xD800])

    def test_vocabulary_size_clamps(self):
        tokenizer = UnicodeCodepointTokenizer(vocabulary_size=592)
        assert tokenizer("¿Cómo estás?") == _ords("¿cómo estás?")
        assert tokenizer("आप 中") == [591, 591, 32, 591]
        dense = UnicodeCodepointTokenizer(
            sequence_length=4, vocabulary_size=256
        )
        self.assertAllEqual(
            dense(["é中", "abcdef"]), [[233, 255, 0, 0], [97, 98, 99, 100]]
        )
        assert tokenizer.vocabulary_size() == 592
        vocab = tokenizer.get_vocabulary()
        assert len(vocab) == 592 and vocab["a"] == 97 and vocab["ɏ"] == 591
        assert tokenizer.id_to_token(591) == "ɏ"
        assert tokenizer.token_to_id("é") == 233
        with pytest.raises(ValueError, match=r"\[0, 591\]"):
            tokenizer.id_to_token(592)
        with pytest.raises(ValueError, match="outside the vocabulary"):
            tokenizer.token_to_id("中")

    def test_vocabulary_without_size(self):
        tokenizer = UnicodeCodepointTokenizer()
        assert tokenizer.vocabulary_size() is None
        assert tokenizer.get_vocabulary() == {}
        assert tokenizer.id_to_token(20013) == "中"
        assert tokenizer.token_to_id("😀") == 128512
        with pytest.raises(ValueError, match=r"\[0, 1114111\]"):
            tokenizer.id_to_token(0x110000)
        with pytest.raises(ValueError, match="one character"):
            tokenizer.token_to_id("ab")

    def test_sequence_length(self):
        tokenizer = UnicodeCodepointTokenizer(sequence_length=3)
        outputs = tokenizer(["Hello", "中", ""])
        assert keras.ops.is_tensor(outputs)
        assert tuple(outputs.shape) == (3, 3)
        self.assertAllEqual(
            outputs, [[104, 101, 108], [20013, 0, 0], [0, 0, 0]]
        )
        unbatched = tokenizer("hé")
        assert tuple(unbatched.shape) == (3,)
        self.assertAllEqual(unbatched, [104, 233, 0])
        assert tokenizer.detokenize(outputs) == ["hel", "中", ""]

    def test_input_kinds(self):
        tokenizer = UnicodeCodepointTokenizer()
        expected = [[97, 233], [20013]]
        assert tokenizer(np.array(["aé", "中"])) == expected
        assert tokenizer(tf.constant(["aé", "中"])) == expected
        assert tokenizer(tf.constant("中")) == [20013]
        assert tokenizer(tf.constant([["aé", "中"]])) == [expected]
        assert tokenizer([["aé"], ["中", ""]]) == [[[97, 233]], [[20013], []]]
        with pytest.raises(ValueError, match="expects a string"):
            tokenizer(3.0)

    def test_detokenize_inputs(self):
        tokenizer = UnicodeCodepointTokenizer()
        assert tokenizer.detokenize([20013, 25991]) == "中文"
        assert tokenizer.detokenize([[104], []]) == ["h", ""]
        assert tokenizer.detokenize([]) == ""
        assert tokenizer.detokenize(np.array([[104, 0, 0]])) == ["h"]
        ids = keras.ops.convert_to_tensor([[128512, 0]])
        assert tokenizer.detokenize(ids) == ["😀"]
        with pytest.raises(ValueError, match="integer codepoint ids"):
            tokenizer.detokenize(["a"])

    def test_utf16_and_utf32_encodings(self):
        text = "Hé中😀"
        utf16 = UnicodeCodepointTokenizer(
            lowercase=False,
            input_encoding="UTF-16-BE",
            output_encoding="UTF-16-BE",
        )
        # Python strings are encoded with `input_encoding`, TF strings
        # must already be.
        assert utf16(text) == _ords(text)
        assert utf16(tf.constant(text.encode("utf-16-be"))) == _ords(text)
        # Eager detokenized results are bytes in `output_encoding`.
        assert utf16.detokenize(_ords(text)) == text.encode("utf-16-be")
        assert utf16.detokenize([_ords(text), [104]]) == [
            text.encode("utf-16-be"),
            "h".encode("utf-16-be"),
        ]
        utf32 = UnicodeCodepointTokenizer(
            input_encoding="UTF-32-BE", output_encoding="UTF-8"
        )
        # Lowercasing transcodes to UTF-8 first.
        assert utf32(["HÉ中"]) == [_ords("hé中")]
        assert utf32.detokenize(utf32("HÉ")) == "hé"
        # Invalid UTF-16 (a lone high surrogate) follows `errors`.
        invalid = tf.constant([b"\x00A\xd8\x00"])
        assert utf16(invalid) == [[65, 65533]]

    def test_tf_data(self):
        texts = ["Hello", "héllo 中", ""]
        for kwargs in ({}, {"sequence_length": 4}, {"vocabulary_size": 256}):
            expected = []
            for t in texts:
                ids = [
                    min(i, kwargs.get("vocabulary_size", 10**7) - 1)
                    for i in _ords(t.lower())
                ]
                if "sequence_length" in kwargs:
                    ids = (ids + [0] * 4)[:4]
                expected.append(ids)
            self.run_preprocessing_layer_test(
                UnicodeCodepointTokenizer, kwargs, texts, expected
            )
        tokenizer = UnicodeCodepointTokenizer(sequence_length=7)
        ds = tf.data.Dataset.from_tensor_slices(texts).map(tokenizer)
        ds = ds.map(tokenizer.detokenize)
        assert list(ds.as_numpy_iterator()) == [
            b"hello",
            "héllo 中".encode(),
            b"",
        ]
        utf16 = UnicodeCodepointTokenizer(
            input_encoding="UTF-16-BE", output_encoding="UTF-16-BE"
        )
        ds = tf.data.Dataset.from_tensor_slices(["Hé".encode("utf-16-be")])
        ds = ds.map(utf16).map(utf16.detokenize)
        assert list(ds.as_numpy_iterator()) == ["hé".encode("utf-16-be")]

    def test_argument_errors(self):
        with pytest.raises(ValueError, match="must be an integer type"):
            UnicodeCodepointTokenizer(dtype="float32")
        with pytest.raises(ValueError, match="`input_encoding` must be"):
            UnicodeCodepointTokenizer(input_encoding="latin-1")
        with pytest.raises(ValueError, match="`output_encoding` must be"):
            UnicodeCodepointTokenizer(output_encoding="UTF-16")
        with pytest.raises(ValueError, match="requires `input_encoding"):
            UnicodeCodepointTokenizer(
                normalization_form="NFC", input_encoding="UTF-16-BE"
            )
        with pytest.raises(ValueError, match="`vocabulary_size` must be"):
            UnicodeCodepointTokenizer(vocabulary_size=0)
        with pytest.raises(ValueError, match="`errors` must be one of"):
            UnicodeCodepointTokenizer(errors="remove")

    def test_config_and_preset_round_trip(self, tmp_path):
        tokenizer = UnicodeCodepointTokenizer(
            sequence_length=5,
            lowercase=False,
            errors="ignore",
            replacement_char=63,
            input_encoding="UTF-16-BE",
            output_encoding="UTF-32-BE",
            vocabulary_size=1000,
            dtype="int64",
        )
        config = tokenizer.get_config()
        assert UnicodeCodepointTokenizer.from_config(config).get_config() == (
            config
        )
        tokenizer.save_to_preset(str(tmp_path))
        # No vocabulary files: the config alone restores the tokenizer.
        assert os.listdir(tmp_path / "assets" / "tokenizer") == []
        for cls in (Tokenizer, UnicodeCodepointTokenizer):
            revived = cls.from_preset(str(tmp_path))
            assert type(revived) is UnicodeCodepointTokenizer
            assert revived.get_config() == config
            self.assertAllEqual(revived("Aé中"), [65, 233, 999, 0, 0])
            assert revived.detokenize([65, 0xD800, 66]) == "AB".encode(
                "utf-32-be"
            )


# Any Unicode text but surrogates (not encodable as UTF-8).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)))


class TestUnicodeCodepointTokenizerProperties(TestCase):
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(texts=st.lists(TEXT, min_size=1, max_size=4))
    def test_ids_are_codepoints_and_round_trip(self, texts):
        tokenizer = UnicodeCodepointTokenizer(lowercase=False)
        ids = tokenizer(texts)
        assert ids == [_ords(t) for t in texts]
        # Exact round trip, except that NUL (id 0, the padding id) drops.
        assert tokenizer.detokenize(ids) == [
            t.replace("\x00", "") for t in texts
        ]

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        # Characters assigned in Python's Unicode database: TF's ICU knows a
        # newer Unicode, whose new characters Python would leave alone.
        text=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cn"))),
        form=st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]),
    )
    def test_normalization_matches_python_unicodedata(self, text, form):
        import unicodedata

        tokenizer = UnicodeCodepointTokenizer(
            lowercase=False, normalization_form=form
        )
        assert tokenizer(text) == _ords(unicodedata.normalize(form, text))

    def test_very_long_string(self):
        text = ("Unicode ünïcödé 中文 😀 " * 5000)[:100_000]
        tokenizer = UnicodeCodepointTokenizer(lowercase=False)
        ids = tokenizer(text)
        assert ids == _ords(text)
        assert tokenizer.detokenize(ids) == text
        dense = UnicodeCodepointTokenizer(
            sequence_length=100_000, lowercase=False
        )([text, ""])
        assert tuple(dense.shape) == (2, 100_000)
        dense = keras.ops.convert_to_numpy(dense)
        assert dense[0].tolist() == _ords(text) and not dense[1].any()
