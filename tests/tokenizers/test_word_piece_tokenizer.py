import os

import keras
import numpy as np
import pytest

from keras_nlp_clone.tokenizers import WordPieceTokenizer
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase

VOCAB = [
    "[PAD]",  # 0
    "[UNK]",  # 1
    "[CLS]",  # 2
    "[SEP]",  # 3
    "the",  # 4
    "qu",  # 5
    "##ick",  # 6
    "brown",  # 7
    "fox",  # 8
    ".",  # 9
    "!",  # 10
    "cafe",  # 11
    "café",  # 12
    "中",  # 13
    "文",  # 14
    "[",  # 15
    "]",  # 16
    "The",  # 17
    "中文",  # 18
    "##s",  # 19
]


class TestWordPieceTokenizer(TestCase):
    def test_tokenize_ragged_batch(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        outputs = tokenizer(["the quick brown fox.", "the fox!", ""])
        assert outputs == [[4, 5, 6, 7, 8, 9], [4, 8, 10], []]

    def test_tokenize_unbatched(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        assert tokenizer("the quick fox") == [4, 5, 6, 8]
        assert tokenizer(tf.constant("the fox")) == [4, 8]

    def test_tokenize_rank_2_input(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        outputs = tokenizer(tf.constant([["the fox", "quick"], ["!", "zzz"]]))
        assert outputs == [[[4, 8], [5, 6]], [[10], [1]]]

    def test_tokenize_ragged_input(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        outputs = tokenizer([["the fox", "quick"], ["!"]])
        assert outputs == [[[4, 8], [5, 6]], [[10]]]

    def test_tokenize_dense(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB, sequence_length=4)
        outputs = tokenizer(["the quick brown fox.", "fox"])
        assert keras.ops.is_tensor(outputs)
        assert tuple(outputs.shape) == (2, 4)
        assert keras.backend.standardize_dtype(outputs.dtype) == "int32"
        self.assertAllEqual(outputs, [[4, 5, 6, 7], [8, 0, 0, 0]])
        unbatched = tokenizer("fox !")
        assert tuple(unbatched.shape) == (4,)
        self.assertAllEqual(unbatched, [8, 10, 0, 0])

    def test_int64_dtype(self):
        tokenizer = WordPieceTokenizer(
            vocabulary=VOCAB, sequence_length=3, dtype="int64"
        )
        outputs = tokenizer(["the fox"])
        if keras.backend.backend() != "jax":
            # JAX without x64 mode stores int64 arrays as int32.
            assert keras.backend.standardize_dtype(outputs.dtype) == "int64"
        self.assertAllEqual(outputs, [[4, 8, 0]])
        graph = tf.function(tokenizer)(tf.constant(["the fox"]))
        assert graph.dtype == tf.int64

    def test_string_dtype(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB, dtype="string")
        assert tokenizer(["the quick fox", "zzz"]) == [
            ["the", "qu", "##ick", "fox"],
            ["[UNK]"],
        ]
        assert tokenizer("fox!") == ["fox", "!"]
        dense = WordPieceTokenizer(
            vocabulary=VOCAB, dtype="string", sequence_length=3
        )
        assert dense(["the quick fox", "fox"]) == [
            ["the", "qu", "##ick"],
            ["fox", "", ""],
        ]

    def test_lowercase_and_strip_accents(self):
        plain = WordPieceTokenizer(vocabulary=VOCAB)
        assert plain("The café") == [17, 12]
        lower = WordPieceTokenizer(vocabulary=VOCAB, lowercase=True)
        assert lower("The CAFÉ") == [4, 12]
        stripped = WordPieceTokenizer(
            vocabulary=VOCAB, lowercase=True, strip_accents=True
        )
        assert stripped("The CAFÉ") == [4, 11]
        # Decomposed input (e + combining acute) strips the same way.
        assert stripped("cafe\u0301") == [11]

    def test_split_false(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB, split=False)
        assert tokenizer(["quick", "fox.", "the fox"]) == [[5, 6], [1], [1]]

    def test_split_on_cjk(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        assert tokenizer("中文") == [13, 14]
        no_cjk = WordPieceTokenizer(vocabulary=VOCAB, split_on_cjk=False)
        assert no_cjk("中文") == [18]
        assert no_cjk("the 中文.") == [4, 18, 9]

    def test_whitespace_and_control_characters(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        # NUL and zero-width/format characters are deleted (BERT
        # `clean_text`); Unicode spaces and line separators split.
        assert tokenizer("f\x00ox\u200b the\u00a0fox\u2028the\u3000fox") == [
            8,
            4,
            8,
            4,
            8,
        ]
        assert tokenizer("\t\n the \r\n") == [4]

    def test_long_word_is_oov(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB + ["a", "##a"])
        assert tokenizer("a" * 100) == [20] + [21] * 99
        assert tokenizer("a" * 101) == [1]
        # The limit is in characters, not bytes (Hugging Face semantics).
        vocab = VOCAB + ["ж", "##ж"]
        tokenizer = WordPieceTokenizer(vocabulary=vocab)
        assert tokenizer("ж" * 60 + " fox") == [20] + [21] * 59 + [8]
        assert tokenizer(["fox", "ж" * 101]) == [[8], [1]]

    def test_special_tokens_in_strings(self):
        tokenizer = WordPieceTokenizer(
            vocabulary=VOCAB,
            lowercase=True,
            special_tokens=["[CLS]", "[SEP]", "[PAD]"],
            special_tokens_in_strings=True,
        )
        outputs = tokenizer(["[CLS] The fox[SEP][PAD]", "[cls] fox"])
        assert outputs == [[2, 4, 8, 3, 0], [15, 1, 16, 8]]
        plain = WordPieceTokenizer(
            vocabulary=VOCAB,
            lowercase=True,
            special_tokens=["[CLS]", "[SEP]"],
        )
        assert plain("[CLS] fox") == [15, 1, 16, 8]

    def test_eager_equals_tf_data(self):
        inputs = ["the quick brown fox.", "the fox!", "zzz brown"]
        for kwargs in ({}, {"sequence_length": 5}, {"dtype": "string"}):
            tokenizer = WordPieceTokenizer(vocabulary=VOCAB, **kwargs)
            eager = tokenizer(inputs)
            ds = tf.data.Dataset.from_tensor_slices(inputs)
            unbatched = [_to_python(x) for x in ds.map(tokenizer)]
            batched = [_to_python(x) for x in ds.batch(2).map(tokenizer)]
            eager = _to_python(eager)
            assert unbatched == eager
            assert batched[0] + batched[1] == eager

    def test_large_batch_is_sharded_in_order(self):
        # Eager batches of >= 128 strings run in shards on a thread pool.
        inputs = ["the fox", "quick brown", "zzz", "the"] * 50
        expected = [[4, 8], [5, 6, 7], [1], [4]] * 50
        assert WordPieceTokenizer(vocabulary=VOCAB)(inputs) == expected
        dense = WordPieceTokenizer(vocabulary=VOCAB, sequence_length=2)
        outputs = dense(inputs)
        assert tuple(outputs.shape) == (200, 2)
        self.assertAllEqual(outputs, [[4, 8], [5, 6], [1, 0], [4, 0]] * 50)
        strings = WordPieceTokenizer(
            vocabulary=VOCAB, dtype="string", sequence_length=1
        )
        assert strings(inputs) == [["the"], ["qu"], ["[UNK]"], ["the"]] * 50

    def test_tf_function(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        fn = tf.function(tokenizer)
        outputs = fn(tf.constant(["the fox", "quick"]))
        assert isinstance(outputs, tf.RaggedTensor)
        assert outputs.to_list() == [[4, 8], [5, 6]]

    def test_detokenize(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        assert tokenizer.detokenize([4, 5, 6, 8, 9]) == "the quick fox ."
        assert tokenizer.detokenize([[4, 5, 6], [8]]) == ["the quick", "fox"]
        assert tokenizer.detokenize(np.array([[8, 0]])) == ["fox [PAD]"]
        ids = keras.ops.convert_to_tensor([[4, 8]])
        assert tokenizer.detokenize(ids) == ["the fox"]
        assert tokenizer.detokenize(["the", "qu", "##ick"]) == "the quick"
        ds = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([[4, 8]]))
        ds = ds.map(tokenizer.detokenize)
        assert list(ds.as_numpy_iterator()) == [b"the fox"]

    def test_round_trip(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        text = ["the quick brown fox", "the fox"]
        assert tokenizer.detokenize(tokenizer(text)) == text

    def test_vocabulary_accessors(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        assert tokenizer.vocabulary_size() == 20
        assert tokenizer.get_vocabulary() == VOCAB
        assert tokenizer.id_to_token(6) == "##ick"
        assert tokenizer.id_to_token(np.int64(4)) == "the"
        assert tokenizer.token_to_id("fox") == 8

    def test_vocabulary_file(self, tmp_path):
        path = tmp_path / "vocab.txt"
        path.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
        tokenizer = WordPieceTokenizer(vocabulary=str(path))
        assert tokenizer.get_vocabulary() == VOCAB
        assert tokenizer("the quick") == [4, 5, 6]

    def test_config_round_trip(self, tmp_path):
        tokenizer = WordPieceTokenizer(
            vocabulary=VOCAB,
            sequence_length=7,
            lowercase=True,
            strip_accents=True,
            split_on_cjk=False,
            special_tokens=["[CLS]"],
            special_tokens_in_strings=True,
            name="wp",
        )
        config = tokenizer.get_config()
        assert config["vocabulary"] is None
        assert config["sequence_length"] == 7
        assert config["lowercase"] is True
        assert config["strip_accents"] is True
        assert config["split"] is True
        assert config["split_on_cjk"] is False
        assert config["suffix_indicator"] == "##"
        assert config["oov_token"] == "[UNK]"
        assert config["special_tokens"] == ["[CLS]"]
        assert config["special_tokens_in_strings"] is True
        restored = WordPieceTokenizer.from_config(config)
        assert restored.get_config() == config
        tokenizer.save_assets(str(tmp_path))
        restored.load_assets(str(tmp_path))
        inputs = ["[CLS] The Café fox", "中文"]
        self.assertAllEqual(restored(inputs), tokenizer(inputs))

    def test_keras_serialization(self):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB, dtype="string")
        serialized = keras.saving.serialize_keras_object(tokenizer)
        restored = keras.saving.deserialize_keras_object(serialized)
        assert isinstance(restored, WordPieceTokenizer)
        assert restored.compute_dtype == "string"
        restored.set_vocabulary(VOCAB)
        assert restored("the fox") == ["the", "fox"]

    def test_save_and_load_assets(self, tmp_path):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        tokenizer.save_assets(str(tmp_path))
        assert os.listdir(tmp_path) == ["vocabulary.txt"]
        text = (tmp_path / "vocabulary.txt").read_text(encoding="utf-8")
        assert text == "\n".join(VOCAB) + "\n"
        empty = WordPieceTokenizer()
        empty.load_assets(str(tmp_path))
        assert empty.get_vocabulary() == VOCAB
        assert empty("the quick fox") == [4, 5, 6, 8]

    def test_errors(self, tmp_path):
        with pytest.raises(ValueError, match="`oov_token` '<unk>' is not"):
            WordPieceTokenizer(vocabulary=VOCAB, oov_token="<unk>")
        with pytest.raises(ValueError, match="`dtype` must be an integer"):
            WordPieceTokenizer(vocabulary=VOCAB, dtype="float32")
        with pytest.raises(ValueError, match="`sequence_length` must be"):
            WordPieceTokenizer(vocabulary=VOCAB, sequence_length=0)
        with pytest.raises(ValueError, match="contains the token 'a' twice"):
            WordPieceTokenizer(vocabulary=["[UNK]", "a", "a"])
        with pytest.raises(ValueError, match="must be a list of strings"):
            WordPieceTokenizer(vocabulary={"[UNK]": 0})
        with pytest.raises(ValueError, match=r"Special token '\[MASK\]'"):
            WordPieceTokenizer(vocabulary=VOCAB, special_tokens=["[MASK]"])
        with pytest.raises(FileNotFoundError, match="Vocabulary file not"):
            WordPieceTokenizer(vocabulary=str(tmp_path / "missing.txt"))
        with pytest.raises(FileNotFoundError, match="vocabulary.txt"):
            WordPieceTokenizer().load_assets(str(tmp_path))

        with pytest.raises(ValueError, match="No vocabulary has been set"):
            WordPieceTokenizer()("the fox")

        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        with pytest.raises(ValueError, match=r"`id` must be in \[0, 19\]"):
            tokenizer.id_to_token(20)
        with pytest.raises(ValueError, match=r"`id` must be in \[0, 19\]"):
            tokenizer.id_to_token(-1)
        with pytest.raises(ValueError, match="`id` must be an int"):
            tokenizer.id_to_token("4")
        with pytest.raises(ValueError, match="'dog' is not in the vocab"):
            tokenizer.token_to_id("dog")
        with pytest.raises(ValueError, match="expects string inputs"):
            tokenizer(tf.constant([1, 2]))
        with pytest.raises(ValueError, match="list containing 3"):
            tokenizer(["the", 3])
        with pytest.raises(ValueError, match="token id 20, outside"):
            tokenizer.detokenize([4, 20])
        with pytest.raises(ValueError, match="token id -1, outside"):
            tokenizer.detokenize([[4], [-1]])
        with pytest.raises(ValueError, match="expects integer token ids"):
            tokenizer.detokenize(np.array([1.0, 2.0]))
        with pytest.raises(ValueError, match="not a single value"):
            tokenizer.detokenize(4)


def _to_python(x):
    if isinstance(x, tf.RaggedTensor):
        x = x.to_list()
    elif isinstance(x, tf.Tensor):
        x = x.numpy().tolist()
    elif isinstance(x, np.ndarray):
        x = x.tolist()
    elif not isinstance(x, list):
        x = keras.ops.convert_to_numpy(x).tolist()
    return _decode(x)


def _decode(x):
    if isinstance(x, bytes):
        return x.decode("utf-8")
    if isinstance(x, list):
        return [_decode(e) for e in x]
    return x


# Edge strings where BERT-style pre-tokenization is easy to get wrong.
EDGE_STRINGS = [
    "Café naïve résumé ÀÉÎÕÜ",
    "ΣΑΣ ΌΣΟΣ Σ. İstanbul ıi ß ǅ ǈ ǋ ＡＢＣ ﬁ ﬀ ﬃ ² Ⅻ ① ㍿ Ω K Å …",
    "中文字符测试 日本語のテキスト 한국어 \ud7a3",
    "hello,world!!! (test) [x] {y} $5 ^_^ `q` ~ ¿Qué? ¡Sí! «ok» „x“ ‘y’ — –",
    "a\x00b\x01c\x7fd\u200be\ufeff\u00adf\u2028g\u00a0h\u3000i\x0bj\x0ck"
    "\x1cl\x85m\ue000n",
    "emoji 😀🎬👍🏽 ❤️ and a😀b",
    "<br /><br />Great movie<br />",
    "tab\there\nnewline\r\nwindows",
    "",
    "   ",
    "ab\u0301\u0301cd \u0301 \u0301x",
    "x" * 100,
    "x" * 101,
    "y" * 30 + "中" + "y" * 80,
    "é" * 101,
    "А" * 60,
    "ж" * 51 + " hi",
    "😀" * 30,
]


@pytest.mark.large
class TestWordPieceTokenizerExactness(TestCase):
    """Ids equal Hugging Face's BERT tokenizers on the same vocabulary."""

    def test_matches_hugging_face_on_imdb(self, minilm_dir, imdb_reviews):
        from transformers import BertTokenizer
        from transformers import BertTokenizerFast

        texts = [text for text, _ in imdb_reviews] + EDGE_STRINGS
        assert len(texts) == 2000 + len(EDGE_STRINGS)
        tokenizer = WordPieceTokenizer(
            vocabulary=os.path.join(minilm_dir, "vocab.txt"),
            lowercase=True,
            strip_accents=True,
        )
        ours = tokenizer(texts)

        fast = BertTokenizerFast.from_pretrained(minilm_dir)
        expected = fast(texts, add_special_tokens=False)["input_ids"]
        mismatches = [i for i in range(len(texts)) if ours[i] != expected[i]]
        assert mismatches == [], [texts[i][:80] for i in mismatches[:5]]

        # The slow Python tokenizer agrees on the edge strings and a sample.
        slow = BertTokenizer.from_pretrained(minilm_dir)
        for i in list(range(0, 2000, 10)) + list(range(2000, len(texts))):
            assert ours[i] == slow.encode(texts[i], add_special_tokens=False)

        # Dense and tf.data outputs agree with the ragged ones.
        dense = WordPieceTokenizer(
            vocabulary=os.path.join(minilm_dir, "vocab.txt"),
            lowercase=True,
            strip_accents=True,
            sequence_length=512,
        )
        padded = fast(
            texts[:64],
            add_special_tokens=False,
            padding="max_length",
            truncation=True,
            max_length=512,
        )["input_ids"]
        self.assertAllEqual(dense(texts[:64]), padded)
        ds = tf.data.Dataset.from_tensor_slices(texts[:64]).batch(16)
        mapped = [row for b in ds.map(tokenizer) for row in b.to_list()]
        assert mapped == expected[:64]

    def test_string_tokens_match_hugging_face(self, minilm_dir, imdb_reviews):
        from transformers import BertTokenizerFast

        texts = [text for text, _ in imdb_reviews[:200]] + EDGE_STRINGS
        tokenizer = WordPieceTokenizer(
            vocabulary=os.path.join(minilm_dir, "vocab.txt"),
            lowercase=True,
            strip_accents=True,
            dtype="string",
        )
        fast = BertTokenizerFast.from_pretrained(minilm_dir)
        expected = [fast.tokenize(text) for text in texts]
        assert tokenizer(texts) == expected


@pytest.mark.large
class TestWordPieceTokenizerShardedFirstCall(TestCase):
    def test_first_call_on_a_large_batch(self, minilm_dir, imdb_reviews):
        # A first eager call big enough to be split across threads: the
        # function is traced on the calling thread before the shards run
        # (concurrent first traces once raced in AutoGraph's cache; that
        # race did not reproduce deterministically here). Shards must come
        # back complete and in order, call after call.
        vocabulary = os.path.join(minilm_dir, "vocab.txt")
        texts = [text for text, _ in imdb_reviews]
        expected = None
        for _ in range(4):
            tokenizer = WordPieceTokenizer(
                vocabulary=vocabulary, lowercase=True, strip_accents=True
            )
            out = tokenizer(texts)
            assert len(out) == len(texts)
            expected = expected or out
            assert out == expected
