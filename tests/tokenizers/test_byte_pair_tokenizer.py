import itertools
import json
import os
import random
import shutil
import time

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_nlp_clone.tokenizers import BytePairTokenizer, Tokenizer
from keras_nlp_clone.tokenizers import _byte_pair_core as core
from keras_nlp_clone.tokenizers.byte_pair_tokenizer import (
    BYTE_TO_UNICODE,
    GPT2_SPLIT_PATTERN,
    UNICODE_TO_BYTE,
)
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import (
    convert_preprocessing_outputs,
    no_convert_scope,
)
from tests import real_data
from tests.test_case import TestCase

# A hand-made vocabulary: "Ġ" is the byte-level symbol of the space.
TINY_VOCAB = {
    "b": 0,
    "u": 1,
    "t": 2,
    "e": 3,
    "r": 4,
    "bu": 5,
    "tt": 6,
    "butt": 7,
    "er": 8,
    "butter": 9,
    "Ġ": 10,
    "f": 11,
    "l": 12,
    "y": 13,
    "fl": 14,
    "fly": 15,
    "Ġfly": 16,
    "<|endoftext|>": 17,
    "<pad>": 18,
}
TINY_MERGES = [
    "b u",
    "t t",
    "e r",
    "bu tt",
    "butt er",
    "f l",
    "fl y",
    "Ġ fly",
]


def byte_level_vocabulary_and_merges():
    """The 256 byte symbols (ids 0-255) plus a few English merges."""
    merges = [
        "Ġ t", "h e", "Ġt he", "i n", "Ġ a", "Ġa n", "n d", "Ġan d",
        "e r", "Ġ b", "u t", "t er", "Ġb ut", "Ġbut ter", "o n", "Ġ s",
    ]  # fmt: skip
    vocabulary = {BYTE_TO_UNICODE[b]: b for b in range(256)}
    for merge in merges:
        token = merge.replace(" ", "")
        vocabulary.setdefault(token, len(vocabulary))
    vocabulary["<|endoftext|>"] = len(vocabulary)
    return vocabulary, merges


BYTE_VOCAB, BYTE_MERGES = byte_level_vocabulary_and_merges()

# Exact GPT-2 ids, from `tiktoken` on GPT-2's files (and rechecked live
# against it in `test_tricky_cases_match_tiktoken`).
TRICKY_CASES = {
    "I'm sure they're 'quoted' and we'll've done it's": [
        40, 1101, 1654, 484, 821, 705, 421, 5191, 6, 290, 356, 1183, 1053,
        1760, 340, 338,
    ],
    "a  b   c": [64, 220, 275, 220, 220, 269],
    "trailing   ": [9535, 4386, 220, 220, 220],
    "line one\nline two\n\n  indented\r\n": [
        1370, 530, 198, 1370, 734, 628, 220, 773, 4714, 201, 198,
    ],
    "1234567 3.14 ²³ ٣": [
        10163, 2231, 3134, 513, 13, 1415, 1587, 110, 126, 111, 18923, 96,
    ],
    "emoji 😀👍🏽 family 👨\u200d👩\u200d👧!": [
        368, 31370, 30325, 222, 41840, 235, 8582, 237, 121, 1641, 50169,
        101, 447, 235, 41840, 102, 447, 235, 41840, 100, 0,
    ],
    "中文字符 日本語 한국어": [
        40792, 23877, 229, 27764, 245, 163, 105, 99, 10545, 245, 98, 17312,
        105, 45739, 252, 220, 47991, 250, 166, 113, 255, 168, 244, 112,
    ],
    "café naïve Ünïcödé e\u0301": [
        66, 1878, 2634, 41492, 49363, 77, 26884, 66, 9101, 67, 2634, 304,
        136, 223,
    ],
    "\t tab\u00a0nbsp\u3000ideographic": [
        197, 7400, 1849, 77, 24145, 5099, 222, 485, 6826,
    ],
    "Hello<|endoftext|>world <|endoftext|><|endoftext|>": [
        15496, 50256, 6894, 220, 50256, 50256,
    ],
    "": [],
    " ": [220],
}  # fmt: skip

# Valid Unicode text: every code point except surrogates.
unicode_text = st.text(st.characters(codec="utf-8"))


def gpt2_tokenizer(**kwargs):
    return BytePairTokenizer(
        vocabulary=real_data.gpt2_vocabulary_path(),
        merges=real_data.gpt2_merges_path(),
        **kwargs,
    )


def tiny_tokenizer(**kwargs):
    return BytePairTokenizer(vocabulary=TINY_VOCAB, merges=TINY_MERGES, **kwargs)


def reference_bpe(symbols, ranks):
    """GPT-2's merge loop, written as in openai/gpt-2 `encoder.py`."""
    word = tuple(symbols)
    while len(word) > 1:
        pairs = set(itertools.pairwise(word))
        bigram = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if bigram not in ranks:
            break
        first, second = bigram
        merged = []
        i = 0
        while i < len(word):
            try:
                j = word.index(first, i)
            except ValueError:
                merged.extend(word[i:])
                break
            merged.extend(word[i:j])
            i = j
            if i < len(word) - 1 and word[i + 1] == second:
                merged.append(first + second)
                i += 2
            else:
                merged.append(word[i])
                i += 1
        word = tuple(merged)
    return list(word)


def merge_with_core(word, merges, loop):
    """Our merge loop (`loop`: "short" or "long") on a word of one-char
    symbols, through a `MergeTable` whose vocabulary lacks every string,
    so all symbols get internal ids; returns the merged strings."""
    symbols = sorted(set(word) | {"z"})
    table = core.MergeTable({"<unused>": 0}, merges, symbols)
    index = {s: i for i, s in enumerate(symbols)}
    ids = [table.byte_ids[index[c]] for c in word]
    merge = core.merge_short if loop == "short" else core.merge_long
    ids = merge(ids, table.table.get, table.no_rank)
    return [table.symbol(i, {0: "<unused>"}) for i in ids]


# === Oracles on real text (tokenized once per module) ===


@pytest.fixture(scope="module")
def gpt2():
    return gpt2_tokenizer(unsplittable_tokens=["<|endoftext|>"])


@pytest.fixture(scope="module")
def tiktoken_gpt2():
    """`tiktoken`'s GPT-2 encoding, built from the same local files."""
    import tiktoken

    with open(real_data.gpt2_vocabulary_path(), encoding="utf-8") as f:
        encoder = json.load(f)
    ranks = {
        bytes(UNICODE_TO_BYTE[c] for c in token): token_id
        for token, token_id in encoder.items()
        if token != "<|endoftext|>"
    }
    return tiktoken.Encoding(
        "gpt2_local",
        pat_str=GPT2_SPLIT_PATTERN,
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": 50256},
    )


@pytest.fixture(scope="module")
def hf_gpt2_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("hf_gpt2")
    shutil.copy(real_data.gpt2_vocabulary_path(), path / "vocab.json")
    shutil.copy(real_data.gpt2_merges_path(), path / "merges.txt")
    return str(path)


@pytest.fixture(scope="module")
def hf_gpt2(hf_gpt2_dir):
    from transformers import GPT2TokenizerFast

    return GPT2TokenizerFast.from_pretrained(hf_gpt2_dir)


@pytest.fixture(scope="module")
def real_texts():
    texts = (
        list(real_data.imdb_texts(700))
        + list(real_data.rotten_tomatoes_texts(300))
        + list(real_data.news_texts(30))
    )
    assert len(texts) >= 1000
    return texts


@pytest.fixture(scope="module")
def real_ids(gpt2, real_texts):
    return gpt2(real_texts)


class TestRealText(TestCase):
    def test_matches_tiktoken(self, real_texts, real_ids, tiktoken_gpt2):
        expected = tiktoken_gpt2.encode_ordinary_batch(real_texts)
        for text, ids, want in zip(real_texts, real_ids, expected):
            assert ids == want, text

    def test_matches_hugging_face(self, real_texts, real_ids, hf_gpt2):
        expected = hf_gpt2(real_texts, add_special_tokens=False)["input_ids"]
        for text, ids, want in zip(real_texts, real_ids, expected):
            assert ids == want, text

    def test_round_trip(self, gpt2, real_texts, real_ids):
        assert gpt2.detokenize(real_ids) == real_texts

    def test_add_prefix_space_matches_hugging_face(
        self, real_texts, hf_gpt2_dir
    ):
        from transformers import GPT2TokenizerFast

        hf = GPT2TokenizerFast.from_pretrained(
            hf_gpt2_dir, add_prefix_space=True
        )
        # HF's fast tokenizer adds no space before a leading space; ours
        # always does (as KerasNLP), so compare on texts without one.
        texts = [t for t in real_texts[:300] if not t[:1].isspace()]
        expected = hf(texts, add_special_tokens=False)["input_ids"]
        assert gpt2_tokenizer(add_prefix_space=True)(texts) == expected

    def test_warm_cache_is_fast(self, gpt2, real_texts, real_ids):
        # Generous bound (measured ~0.5 s): the cache makes repeated words
        # one dict lookup; a regression to per-word TF ops is 100x slower.
        start = time.perf_counter()
        gpt2(real_texts[:1000])
        assert time.perf_counter() - start < 15

    def test_tricky_cases(self, gpt2):
        for text, expected in TRICKY_CASES.items():
            assert gpt2(text) == expected, text
            assert gpt2.detokenize(gpt2(text)) == text

    def test_tricky_cases_match_tiktoken_and_hugging_face(
        self, gpt2, tiktoken_gpt2, hf_gpt2
    ):
        texts = list(TRICKY_CASES)
        ids = gpt2(texts)
        assert ids == [
            tiktoken_gpt2.encode(t, allowed_special="all") for t in texts
        ]
        assert ids == hf_gpt2(texts, add_special_tokens=False)["input_ids"]

    def test_without_unsplittable_tokens_special_text_is_split(
        self, tiktoken_gpt2
    ):
        text = "Hello<|endoftext|>world"
        ids = gpt2_tokenizer()(text)
        assert ids == tiktoken_gpt2.encode_ordinary(text)
        assert 50256 not in ids

    def test_add_prefix_space(self):
        tokenizer = gpt2_tokenizer(add_prefix_space=True)
        assert tokenizer("hello world") == [23748, 995]
        assert gpt2_tokenizer()("hello world") == [31373, 995]
        # Always one more space, as KerasNLP and HF's slow GPT2Tokenizer.
        assert tokenizer(" hello") == [220, 23748]
        assert tokenizer("") == [220]
        assert tokenizer.detokenize(tokenizer("hello")) == " hello"

    def test_long_word_matches_hugging_face(self, gpt2, hf_gpt2):
        rng = random.Random(0)
        word = "".join(rng.choice("abcdefghijklmnop") for _ in range(100_000))
        ids = gpt2(word)
        assert ids == hf_gpt2(word, add_special_tokens=False)["input_ids"]
        assert gpt2.detokenize(ids) == word

    @settings(max_examples=60, deadline=None)
    @given(text=unicode_text)
    def test_arbitrary_text_matches_tiktoken(self, gpt2, tiktoken_gpt2, text):
        ids = gpt2(text.replace("<|endoftext|>", ""))
        assert ids == tiktoken_gpt2.encode_ordinary(
            text.replace("<|endoftext|>", "")
        )


# === Hand-made vocabulary ===


class TestTinyVocabulary(TestCase):
    def test_exact_ids(self):
        tokenizer = tiny_tokenizer()
        assert tokenizer("butterfly") == [9, 15]
        assert tokenizer(" fly") == [16]
        assert tokenizer("butter fly") == [9, 16]
        assert tokenizer("tube") == [2, 1, 0, 3]
        # Runs of spaces: all but the last space stand alone.
        assert tokenizer("butt  fly") == [7, 10, 16]
        assert tokenizer("") == []

    def test_merges_by_rank(self):
        # The lowest-ranked pair merges first: with "t e" ranked first,
        # "butter" no longer becomes "butt" + "er".
        vocabulary = dict(TINY_VOCAB, te=19)
        tokenizer = BytePairTokenizer(
            vocabulary=vocabulary,
            merges=["t e", "b u", "t t", "e r", "bu tt"],
        )
        assert tokenizer.tokenize("butter") == [5, 2, 19, 4]

    def test_batched_and_unbatched(self):
        tokenizer = tiny_tokenizer()
        assert tokenizer(["butterfly", "tube", ""]) == [
            [9, 15],
            [2, 1, 0, 3],
            [],
        ]
        assert tokenizer(("butter",)) == [[9]]
        assert tokenizer([]) == []

    def test_dense_outputs(self):
        tokenizer = tiny_tokenizer(sequence_length=3)
        outputs = tokenizer(["butter fly", "butterfly butt butter"])
        assert keras.ops.is_tensor(outputs)
        assert tuple(outputs.shape) == (2, 3)
        assert keras.backend.standardize_dtype(outputs.dtype) == "int32"
        self.assertAllEqual(outputs, [[9, 16, 0], [9, 15, 10]])
        unbatched = tokenizer("butter")
        assert tuple(unbatched.shape) == (3,)
        self.assertAllEqual(unbatched, [9, 0, 0])
        empty = tokenizer([])
        assert tuple(empty.shape) == (0, 3)

    def test_int64_dtype(self):
        tokenizer = tiny_tokenizer(sequence_length=2, dtype="int64")
        outputs = tokenizer(["butter fly"])
        if keras.backend.backend() != "jax":
            # JAX without x64 mode stores int64 arrays as int32.
            assert keras.backend.standardize_dtype(outputs.dtype) == "int64"
        self.assertAllEqual(outputs, [[9, 16]])
        graph = tf.function(tokenizer)(tf.constant(["butter fly"]))
        assert graph.dtype == tf.int64

    def test_string_dtype(self):
        tokenizer = tiny_tokenizer(dtype="string")
        assert tokenizer(["butter fly", "tube"]) == [
            ["butter", "Ġfly"],
            ["t", "u", "b", "e"],
        ]
        assert tokenizer("butterfly") == ["butter", "fly"]
        dense = tiny_tokenizer(dtype="string", sequence_length=3)
        assert dense(["butter fly", "tube"]) == [
            ["butter", "Ġfly", ""],
            ["t", "u", "b"],
        ]
        graph = tf.function(tokenizer)(tf.constant(["butter fly"]))
        assert graph.to_list() == [[b"butter", "Ġfly".encode()]]
        assert tokenizer.detokenize(["butter", "Ġfly"]) == "butter fly"

    def test_numpy_and_tf_inputs(self):
        tokenizer = tiny_tokenizer()
        expected = [[9, 16], [2, 1, 0, 3]]
        assert tokenizer(np.array(["butter fly", "tube"])) == expected
        assert tokenizer(np.array(["butter fly", "tube"], dtype=object)) == (
            expected
        )
        assert tokenizer(np.array("butter fly")) == [9, 16]
        assert tokenizer(tf.constant(["butter fly", "tube"])) == expected
        assert tokenizer(tf.constant("tube")) == [2, 1, 0, 3]
        assert tokenizer(b"tube") == [2, 1, 0, 3]

    def test_rank_2_inputs(self):
        tokenizer = tiny_tokenizer()
        dense = tf.constant([["butter fly", "tube"], ["fly", "butt"]])
        assert tokenizer(dense) == [
            [[9, 16], [2, 1, 0, 3]],
            [[15], [7]],
        ]
        assert tokenizer([["butter"], ["fly", "tube"]]) == [
            [[9]],
            [[15], [2, 1, 0, 3]],
        ]
        padded = tiny_tokenizer(sequence_length=2)(dense)
        self.assertAllEqual(padded, [[[9, 16], [2, 1]], [[15, 0], [7, 0]]])

    def check_tf_data(self, tokenizer, inputs, expected, batched=True):
        """Eager output == `expected` == output mapped over `tf.data`."""
        self.assertAllEqual(tokenizer(inputs), expected)
        if batched:
            ds = tf.data.Dataset.from_tensor_slices(inputs).batch(len(inputs))
        else:
            ds = tf.data.Dataset.from_tensors(inputs)
        outputs = next(iter(ds.map(tokenizer)))
        self.assertAllEqual(convert_preprocessing_outputs(outputs), expected)

    def test_tf_data_batched(self):
        self.check_tf_data(
            tiny_tokenizer(),
            ["butter fly", "tube", "", "butterfly"],
            [[9, 16], [2, 1, 0, 3], [], [9, 15]],
        )
        self.check_tf_data(
            tiny_tokenizer(sequence_length=3),
            ["butter fly", "tube"],
            [[9, 16, 0], [2, 1, 0]],
        )
        self.check_tf_data(
            tiny_tokenizer(dtype="string"),
            ["butter fly", "tube"],
            [["butter", "Ġfly"], ["t", "u", "b", "e"]],
        )

    def test_tf_data_unbatched(self):
        tokenizer = tiny_tokenizer()
        ds = tf.data.Dataset.from_tensor_slices(["butter fly", "tube"])
        outputs = [x.tolist() for x in ds.map(tokenizer).as_numpy_iterator()]
        assert outputs == [[9, 16], [2, 1, 0, 3]]
        self.check_tf_data(tokenizer, "butter fly", [9, 16], batched=False)
        self.check_tf_data(
            tiny_tokenizer(sequence_length=3), "tube", [2, 1, 0], batched=False
        )

    def test_graph_static_shapes(self):
        dense = tiny_tokenizer(sequence_length=4)
        ragged = tiny_tokenizer()

        @tf.function
        def run(x):
            outputs = (dense(x), ragged(x), dense(x[0]), ragged(x[0]))
            assert outputs[0].shape.as_list() == [2, 4]
            assert isinstance(outputs[1], tf.RaggedTensor)
            assert outputs[1].shape.as_list() == [2, None]
            assert outputs[2].shape.as_list() == [4]
            assert outputs[3].shape.as_list() == [None]
            return outputs

        outputs = run(tf.constant(["butter fly", "tube"]))
        assert outputs[0].numpy().tolist() == [[9, 16, 0, 0], [2, 1, 0, 3]]
        assert outputs[1].to_list() == [[9, 16], [2, 1, 0, 3]]
        assert outputs[3].numpy().tolist() == [9, 16]

    def test_no_convert_scope_returns_tf_values(self):
        # What a preprocessor that calls the tokenizer eagerly receives.
        with no_convert_scope():
            ragged = tiny_tokenizer()(tf.constant(["butter fly", "tube"]))
            dense = tiny_tokenizer(sequence_length=2)(tf.constant(["tube"]))
            single = tiny_tokenizer()(tf.constant("tube"))
            text = tiny_tokenizer().detokenize(tf.constant([9, 16]))
        assert isinstance(ragged, tf.RaggedTensor)
        assert ragged.to_list() == [[9, 16], [2, 1, 0, 3]]
        assert isinstance(dense, tf.Tensor)
        assert dense.numpy().tolist() == [[2, 1]]
        assert single.numpy().tolist() == [2, 1, 0, 3]
        assert text.numpy() == b"butter fly"

    def test_unknown_piece_raises(self):
        with pytest.raises(ValueError, match="'x' is not in the vocabulary"):
            tiny_tokenizer()("bx")

    def test_unsplittable_tokens(self):
        tokenizer = tiny_tokenizer(unsplittable_tokens=["<|endoftext|>"])
        assert tokenizer("butter<|endoftext|> fly<|endoftext|>") == [
            9,
            17,
            16,
            17,
        ]
        assert tokenizer.detokenize([9, 17, 16]) == "butter<|endoftext|> fly"

    def test_unsplittable_tokens_longest_first(self):
        vocabulary = dict(BYTE_VOCAB, **{"<a>": 300, "<a><b>": 301})
        tokenizer = BytePairTokenizer(
            vocabulary=vocabulary,
            merges=BYTE_MERGES,
            unsplittable_tokens=["<a>", "<a><b>"],
        )
        assert tokenizer("<a><b><a>") == [301, 300]


# === Detokenization ===


class TestDetokenize(TestCase):
    def test_inputs(self):
        tokenizer = tiny_tokenizer()
        assert tokenizer.detokenize([9, 16]) == "butter fly"
        assert tokenizer.detokenize([[9, 16], [2, 1, 0, 3]]) == [
            "butter fly",
            "tube",
        ]
        assert tokenizer.detokenize([[9], []]) == ["butter", ""]
        assert tokenizer.detokenize([]) == ""
        assert tokenizer.detokenize(np.array([[9, 16]])) == ["butter fly"]
        assert tokenizer.detokenize(np.array([9, 16], "int64")) == "butter fly"
        tensor = keras.ops.convert_to_tensor([[9, 16], [15, 10]])
        assert tokenizer.detokenize(tensor) == ["butter fly", "fly "]
        ragged = tf.ragged.constant([[9, 16], [2, 1, 0, 3]])
        assert tokenizer.detokenize(ragged) == ["butter fly", "tube"]
        assert tokenizer.detokenize([np.array([9]), np.array([15])]) == [
            "butter",
            "fly",
        ]

    def test_padding_is_kept(self):
        # Like WordPieceTokenizer: id 0 is a token ("b" here).
        tokenizer = tiny_tokenizer(sequence_length=3)
        assert tokenizer.detokenize(tokenizer(["butter"])) == ["butterbb"]

    def test_tf_data(self):
        tokenizer = tiny_tokenizer()
        ds = tf.data.Dataset.from_tensor_slices(["butter fly", "tube"])
        batched = ds.batch(2).map(tokenizer).map(tokenizer.detokenize)
        assert next(iter(batched)).numpy().tolist() == [b"butter fly", b"tube"]
        single = ds.map(tokenizer).map(tokenizer.detokenize)
        assert [x for x in single.as_numpy_iterator()] == [
            b"butter fly",
            b"tube",
        ]

    def test_invalid_utf8_is_replaced(self):
        tokenizer = BytePairTokenizer(vocabulary=BYTE_VOCAB, merges=BYTE_MERGES)
        # A lone continuation byte, then a truncated 3-byte sequence.
        assert tokenizer.detokenize([0x80, 0x61, 0xE4, 0xB8]) == "\ufffda\ufffd"
        # Bytes that are not UTF-8 are tokenized byte by byte.
        assert tokenizer(b"a\xffb") == [0x61, 0xFF, 0x62]

    def test_errors(self):
        tokenizer = tiny_tokenizer()
        with pytest.raises(ValueError, match="token id 99"):
            tokenizer.detokenize([9, 99])
        with pytest.raises(ValueError, match="token id -1"):
            tokenizer.detokenize([[9], [-1]])
        with pytest.raises(ValueError, match="not a single value"):
            tokenizer.detokenize(9)
        with pytest.raises(ValueError, match="integer token ids"):
            tokenizer.detokenize(np.array([1.5]))
        with pytest.raises(ValueError, match="rank 1 or 2"):
            tokenizer.detokenize(np.zeros((1, 1, 1), "int32"))


# === Vocabulary, special tokens, config and presets ===


class _EndTokenTokenizer(BytePairTokenizer):
    """A family-style subclass declaring its special tokens."""

    def __init__(self, **kwargs):
        self._add_special_token("<|endoftext|>", "end_token")
        self._add_special_token("<pad>", "pad_token")
        super().__init__(**kwargs)


class TestVocabularyAndConfig(TestCase):
    def test_accessors(self):
        tokenizer = tiny_tokenizer()
        assert tokenizer.vocabulary_size() == 19
        assert tokenizer.get_vocabulary()[:3] == ["b", "u", "t"]
        assert tokenizer.get_vocabulary()[16] == "Ġfly"
        assert tokenizer.id_to_token(9) == "butter"
        assert tokenizer.id_to_token(np.int64(10)) == "Ġ"
        assert tokenizer.token_to_id("Ġfly") == 16
        assert tokenizer.vocabulary == TINY_VOCAB
        assert tokenizer.merges == TINY_MERGES
        with pytest.raises(ValueError, match="19 is not in the vocabulary"):
            tokenizer.id_to_token(19)
        with pytest.raises(ValueError, match="-1 is not in the vocabulary"):
            tokenizer.id_to_token(-1)
        with pytest.raises(ValueError, match="must be an int"):
            tokenizer.id_to_token("9")
        with pytest.raises(ValueError, match="not in the vocabulary"):
            tokenizer.token_to_id("zzz")

    def test_gpt2_accessors(self, gpt2):
        assert gpt2.vocabulary_size() == 50257
        assert gpt2.id_to_token(50256) == "<|endoftext|>"
        assert gpt2.token_to_id("Ġthe") == 262
        assert gpt2.get_vocabulary()[262] == "Ġthe"
        assert len(gpt2.merges) == 50000
        assert gpt2.merges[0] == "Ġ t"

    def test_special_tokens_from_subclass(self):
        tokenizer = _EndTokenTokenizer(vocabulary=TINY_VOCAB, merges=TINY_MERGES)
        assert tokenizer.end_token == "<|endoftext|>"
        assert tokenizer.end_token_id == 17
        assert tokenizer.pad_token_id == 18
        assert tokenizer.special_token_ids == [17, 18]
        # Declared special tokens are unsplittable without being listed.
        assert tokenizer("fly<pad><|endoftext|>") == [15, 18, 17]
        assert tokenizer.get_config()["unsplittable_tokens"] is None
        revived = _EndTokenTokenizer.from_config(tokenizer.get_config())
        revived.set_vocabulary_and_merges(TINY_VOCAB, TINY_MERGES)
        assert revived("fly<pad>") == [15, 18]

    def test_special_token_missing_from_vocabulary(self):
        vocabulary = dict(TINY_VOCAB)
        del vocabulary["<pad>"]
        with pytest.raises(ValueError, match="`pad_token`='<pad>'"):
            _EndTokenTokenizer(vocabulary=vocabulary, merges=TINY_MERGES)

    def test_config_round_trip(self):
        tokenizer = tiny_tokenizer(
            sequence_length=5,
            add_prefix_space=True,
            unsplittable_tokens=["<pad>"],
            name="bpe",
        )
        config = tokenizer.get_config()
        assert config["vocabulary"] is None and config["merges"] is None
        assert config["sequence_length"] == 5
        assert config["add_prefix_space"] is True
        assert config["unsplittable_tokens"] == ["<pad>"]
        revived = BytePairTokenizer.from_config(config)
        assert revived.get_config() == config
        with pytest.raises(ValueError, match="No vocabulary has been set"):
            revived("fly")
        revived.set_vocabulary_and_merges(TINY_VOCAB, TINY_MERGES)
        self.assertAllEqual(revived("fly<pad>"), tokenizer("fly<pad>"))

    def test_assets_round_trip(self, tmp_path):
        tokenizer = tiny_tokenizer()
        tokenizer.save_assets(str(tmp_path))
        assert sorted(os.listdir(tmp_path)) == ["merges.txt", "vocabulary.json"]
        with open(tmp_path / "vocabulary.json", encoding="utf-8") as f:
            assert json.load(f) == TINY_VOCAB
        with open(tmp_path / "merges.txt", encoding="utf-8") as f:
            assert f.read() == "".join(m + "\n" for m in TINY_MERGES)
        revived = BytePairTokenizer()
        revived.load_assets(str(tmp_path))
        assert revived("butter fly") == [9, 16]

    def test_preset_round_trip(self, tmp_path):
        tokenizer = gpt2_tokenizer(unsplittable_tokens=["<|endoftext|>"])
        tokenizer.save_to_preset(str(tmp_path))
        assert sorted(os.listdir(tmp_path / "assets" / "tokenizer")) == [
            "merges.txt",
            "vocabulary.json",
        ]
        revived = Tokenizer.from_preset(str(tmp_path))
        assert type(revived) is BytePairTokenizer
        text = "Hello world!<|endoftext|> Ünïcödé 😀"
        assert revived(text) == tokenizer(text)
        assert revived.get_config() == tokenizer.get_config()
        dense = BytePairTokenizer.from_preset(str(tmp_path), sequence_length=2)
        self.assertAllEqual(dense("Hello world!"), [15496, 995])

    def test_files_with_header_crlf_and_blank_lines(self, tmp_path):
        with open(tmp_path / "vocab.json", "w", encoding="utf-8") as f:
            json.dump(TINY_VOCAB, f)
        with open(tmp_path / "merges.txt", "w", encoding="utf-8") as f:
            f.write("#version: 0.2\r\n" + "\r\n".join(TINY_MERGES) + "\r\n\n")
        tokenizer = BytePairTokenizer(
            vocabulary=str(tmp_path / "vocab.json"),
            merges=str(tmp_path / "merges.txt"),
        )
        assert tokenizer.merges == TINY_MERGES
        assert tokenizer("butter fly") == [9, 16]

    def test_merges_as_pairs(self):
        pairs = [tuple(m.split(" ")) for m in TINY_MERGES]
        tokenizer = BytePairTokenizer(vocabulary=TINY_VOCAB, merges=pairs)
        assert tokenizer("butter fly") == [9, 16]


class TestErrors(TestCase):
    def test_bad_paths(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="Vocabulary file"):
            BytePairTokenizer(
                vocabulary=str(tmp_path / "nope.json"), merges=TINY_MERGES
            )
        with pytest.raises(FileNotFoundError, match="Merges file"):
            BytePairTokenizer(
                vocabulary=TINY_VOCAB, merges=str(tmp_path / "nope.txt")
            )
        (tmp_path / "bad.json").write_text("{not json")
        with pytest.raises(ValueError, match="not valid JSON"):
            BytePairTokenizer(
                vocabulary=str(tmp_path / "bad.json"), merges=TINY_MERGES
            )

    def test_bad_vocabulary(self):
        with pytest.raises(ValueError, match="must be a dict"):
            BytePairTokenizer(vocabulary=["a", "b"], merges=[])
        with pytest.raises(ValueError, match="int ids"):
            BytePairTokenizer(vocabulary={"a": "0"}, merges=[])
        with pytest.raises(ValueError, match="Token ids must be unique"):
            BytePairTokenizer(vocabulary={"a": 0, "b": 0}, merges=[])
        with pytest.raises(ValueError, match="is empty"):
            BytePairTokenizer(vocabulary={}, merges=[])

    def test_bad_merges(self, tmp_path):
        with pytest.raises(ValueError, match=r"`merges\[1\]`.*'b u t'"):
            BytePairTokenizer(vocabulary=TINY_VOCAB, merges=["b u", "b u t"])
        (tmp_path / "merges.txt").write_text("#version: 0.2\nb u\nbu\n")
        with pytest.raises(ValueError, match="line 3 of"):
            BytePairTokenizer(
                vocabulary=TINY_VOCAB, merges=str(tmp_path / "merges.txt")
            )
        with pytest.raises(ValueError, match="'x', which is not in the voc"):
            BytePairTokenizer(vocabulary=TINY_VOCAB, merges=["b x"])
        with pytest.raises(ValueError, match="list of merge rules"):
            BytePairTokenizer(vocabulary=TINY_VOCAB, merges=3)

    def test_only_one_of_vocabulary_and_merges(self):
        with pytest.raises(ValueError, match="`merges` is `None`"):
            BytePairTokenizer(vocabulary=TINY_VOCAB)
        with pytest.raises(ValueError, match="`vocabulary` is `None`"):
            BytePairTokenizer(merges=TINY_MERGES)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="`dtype`"):
            tiny_tokenizer(dtype="float32")
        with pytest.raises(ValueError, match="`sequence_length`"):
            tiny_tokenizer(sequence_length=0)
        with pytest.raises(ValueError, match="`unsplittable_tokens` must"):
            tiny_tokenizer(unsplittable_tokens="<pad>")
        with pytest.raises(ValueError, match="Unsplittable token '<s>'"):
            tiny_tokenizer(unsplittable_tokens=["<s>"])

    def test_bad_inputs(self):
        tokenizer = tiny_tokenizer()
        with pytest.raises(ValueError, match="use `detokenize\\(\\)`"):
            tokenizer([1, 2])
        with pytest.raises(ValueError, match="expects string inputs"):
            tokenizer(tf.constant([1, 2]))
        with pytest.raises(ValueError, match="expects a string"):
            tokenizer(3)
        with pytest.raises(ValueError, match="No vocabulary has been set"):
            BytePairTokenizer()("fly")

    def test_surrogates_raise(self):
        tokenizer = BytePairTokenizer(vocabulary=BYTE_VOCAB, merges=BYTE_MERGES)
        with pytest.raises(ValueError, match="surrogate code point U\\+D800"):
            tokenizer("a\ud800b")


# === Properties ===


@pytest.fixture(scope="module")
def byte_tokenizer():
    return BytePairTokenizer(
        vocabulary=BYTE_VOCAB,
        merges=BYTE_MERGES,
        unsplittable_tokens=["<|endoftext|>"],
    )


class TestProperties(TestCase):
    @settings(max_examples=150, deadline=None)
    @given(text=unicode_text)
    def test_round_trip(self, byte_tokenizer, text):
        ids = byte_tokenizer(text)
        assert isinstance(ids, list)
        assert all(isinstance(i, int) for i in ids)
        assert all(0 <= i < byte_tokenizer.vocabulary_size() for i in ids)
        assert byte_tokenizer.detokenize(ids) == text
        # Every byte costs at most one id.
        assert len(ids) <= len(text.encode("utf-8"))

    @settings(max_examples=40, deadline=None)
    @given(texts=st.lists(unicode_text, min_size=1, max_size=5))
    def test_batch_equals_rows(self, byte_tokenizer, texts):
        outputs = byte_tokenizer(texts)
        assert outputs == [byte_tokenizer(t) for t in texts]
        assert byte_tokenizer.detokenize(outputs) == texts

    @settings(max_examples=30, deadline=None)
    @given(
        texts=st.lists(unicode_text, min_size=1, max_size=4),
        length=st.integers(1, 12),
    )
    def test_dense_shapes(self, texts, length):
        tokenizer = BytePairTokenizer(
            vocabulary=BYTE_VOCAB, merges=BYTE_MERGES, sequence_length=length
        )
        outputs = tokenizer(texts)
        assert tuple(outputs.shape) == (len(texts), length)
        assert keras.backend.standardize_dtype(outputs.dtype) == "int32"
        ragged = BytePairTokenizer(vocabulary=BYTE_VOCAB, merges=BYTE_MERGES)
        for row, ids in zip(keras.ops.convert_to_numpy(outputs), ragged(texts)):
            ids = ids[:length]
            assert row.tolist() == ids + [0] * (length - len(ids))

    @settings(max_examples=5, deadline=None)
    @given(piece=unicode_text.filter(bool))
    def test_very_long_strings(self, byte_tokenizer, piece):
        text = (piece * (100_000 // len(piece) + 1))[:100_000]
        ids = byte_tokenizer(text)
        assert byte_tokenizer.detokenize(ids) == text

    def test_very_long_word(self, byte_tokenizer):
        text = "the" * 40_000
        ids = byte_tokenizer(text)
        assert byte_tokenizer.detokenize(ids) == text

    @settings(max_examples=150, deadline=None)
    @given(
        word=st.text("abcd", max_size=120),
        merges=st.lists(
            st.tuples(st.text("abcd", min_size=1, max_size=3),
                      st.text("abcd", min_size=1, max_size=3)),
            max_size=25,
        ),
    )  # fmt: skip
    def test_merge_loops_equal_gpt2_reference(self, word, merges):
        # Any merges, trained or not: both of our loops (quadratic for
        # short words, heap for long ones) equal GPT-2's.
        ranks = {pair: rank for rank, pair in enumerate(merges)}
        expected = reference_bpe(word, ranks)
        assert merge_with_core(word, merges, "short") == expected
        assert merge_with_core(word, merges, "long") == expected


# === Caches, the ASCII split and merge ties (the fast paths) ===


def gpt2_oracle_ids(tiktoken_gpt2, texts):
    return tiktoken_gpt2.encode_ordinary_batch(list(texts))


class TestFastPaths(TestCase):
    def test_tokenizers_with_same_files_share_a_warm_cache(
        self, real_texts, tiktoken_gpt2
    ):
        core.clear_shared()
        first = gpt2_tokenizer()
        texts = real_texts[:50]
        expected = gpt2_oracle_ids(tiktoken_gpt2, texts)
        assert first(texts) == expected
        cached = len(first._state.cache)
        assert cached > 100
        # A new tokenizer on the same files reuses the parsed files and the
        # word cache, and gives the same ids; an id and a string tokenizer
        # share the files but not the cache.
        second = gpt2_tokenizer(unsplittable_tokens=["<|endoftext|>"])
        assert second._state.shared is first._state.shared
        assert len(second._state.cache) == cached
        assert second(texts) == expected
        strings = gpt2_tokenizer(dtype="string")
        assert strings._state.shared is first._state.shared
        assert strings._state.cache is not first._state.cache
        assert strings(texts[:5]) == [
            [first.id_to_token(i) for i in ids] for ids in expected[:5]
        ]
        assert first(texts[:5]) == expected[:5]

    def test_same_values_share_and_other_values_do_not(self):
        a = BytePairTokenizer(vocabulary=BYTE_VOCAB, merges=BYTE_MERGES)
        b = BytePairTokenizer(
            vocabulary=dict(BYTE_VOCAB), merges=list(BYTE_MERGES)
        )
        assert a._state.shared is b._state.shared
        other = dict(BYTE_VOCAB)
        other["Ġbutters"] = len(other)
        c = BytePairTokenizer(
            vocabulary=other, merges=BYTE_MERGES + ["Ġbutter s"]
        )
        assert c._state.shared is not a._state.shared
        # "t" + "he", "Ġbutter" (ids by hand from `BYTE_MERGES`).
        assert a("the butter") == [116, 257, 269]
        assert c("the butter") == [116, 257, 269]
        assert a(" butters") == [269, ord("s")]
        assert c(" butters") == [len(other) - 1]

    def test_shared_cores_are_bounded(self):
        core.clear_shared()
        for extra in range(core.MAX_SHARED_CORES + 3):
            vocabulary = dict(TINY_VOCAB, **{f"<x{extra}>": 100 + extra})
            tokenizer = BytePairTokenizer(
                vocabulary=vocabulary, merges=TINY_MERGES
            )
            assert tokenizer("butter fly") == [9, 16]
        assert core.shared_size() == core.MAX_SHARED_CORES

    def test_cache_eviction_keeps_ids_exact(self, real_texts, tiktoken_gpt2):
        core.clear_shared()
        tokenizer = gpt2_tokenizer()
        cache = tokenizer._state.cache
        cache.max_size = 40
        try:
            texts = real_texts[:60]
            expected = gpt2_oracle_ids(tiktoken_gpt2, texts)
            # Twice: the second pass finds some words evicted, some cached.
            assert tokenizer(texts) == expected
            assert 0 < len(cache) <= 40
            assert tokenizer(texts) == expected
            assert len(cache) <= 40
        finally:
            core.clear_shared()

    def test_long_words_are_not_cached(self):
        core.clear_shared()
        tokenizer = BytePairTokenizer(vocabulary=BYTE_VOCAB, merges=BYTE_MERGES)
        long_word = "b" * (core.MAX_CACHED_WORD_LENGTH + 1)
        assert tokenizer(long_word) == [ord("b")] * len(long_word)
        assert long_word not in tokenizer._state.cache
        assert tokenizer("butter") == [ord("b"), 266, 267]  # b ut ter
        assert "butter" in tokenizer._state.cache

    def test_word_cache_unit(self):
        calls = []

        def encode(word):
            calls.append(word)
            return (len(word),)

        cache = core.WordCache(encode, max_size=2)
        assert cache["ab"] == (2,) and cache["ab"] == (2,)
        assert cache["abc"] == (3,)
        assert calls == ["ab", "abc"]
        cache["abcd"]  # Full: starts afresh, then holds the new word.
        assert list(cache) == ["abcd"]
        assert calls == ["ab", "abc", "abcd"]

    @settings(max_examples=200, deadline=None)
    @given(text=st.text(st.characters(max_codepoint=127)))
    def test_ascii_split_equals_gpt2_pattern(self, text):
        import regex

        assert core.ASCII_SPLIT_REGEX.findall(text) == regex.findall(
            GPT2_SPLIT_PATTERN, text
        )

    def test_ascii_split_on_every_pair_of_ascii_characters(self):
        import regex

        gpt2_split = regex.compile(GPT2_SPLIT_PATTERN)
        chars = [chr(i) for i in range(128)]
        for a in chars:
            for b in chars:
                text = f"{a}{b}'s {a}  {b}"
                assert core.split_words(text) == gpt2_split.findall(text), text

    def test_non_ascii_text_is_split_by_the_gpt2_pattern(self, tiktoken_gpt2):
        # \x1c-\x1f are whitespace for `re` but not for GPT-2's pattern;
        # non-ASCII text goes through `regex`.
        tokenizer = gpt2_tokenizer()
        for text in ["a\x1cb \x1f c", "x\u00a0y  z", "n\u2003\u2003m é"]:
            assert tokenizer(text) == tiktoken_gpt2.encode_ordinary(text)

    def test_merge_ties_follow_gpt2(self):
        # A pair that occurs several times is merged everywhere, left to
        # right, before the pairs this creates: with "ab a" ranked before
        # "a b", "abab" gives "ab ab" (merging one "a b" at a time would
        # give "aba b"); overlaps go to the leftmost ("aaaaa" with "a a"
        # gives "aa aa a").
        vocabulary = {"a": 0, "b": 1, "ab": 2, "aba": 3, "aa": 4}
        merges = ["ab a", "a b", "a a"]
        tokenizer = BytePairTokenizer(vocabulary=vocabulary, merges=merges)
        assert tokenizer(["abab", "aaaaa", "aaa", "ababab", "aba"]) == [
            [2, 2], [4, 4, 0], [4, 0], [2, 2, 2], [3],
        ]  # fmt: skip
        ranks = {tuple(m.split(" ")): r for r, m in enumerate(merges)}
        for word in ["abab", "aaaaa", "ababab", "abaab" * 30]:
            expected = reference_bpe(word, ranks)
            pieces = [
                tokenizer.id_to_token(i) for i in tokenizer(word)
            ]  # Both loops: "abaab" * 30 is past `SHORT_WORD`.
            assert pieces == expected, word
            assert merge_with_core(word, list(ranks), "long") == expected

    def test_real_words_both_merge_loops_agree(self, real_texts):
        tokenizer = gpt2_tokenizer()
        shared = tokenizer._state.shared
        table = shared.table
        words = sorted(
            {w for t in real_texts[:100] for w in core.split_words(t)}
        )
        for word in words:
            ids = [table.byte_ids[b] for b in word.encode("utf-8")]
            short = core.merge_short(list(ids), table.table.get, table.no_rank)
            long = core.merge_long(list(ids), table.table.get, table.no_rank)
            assert short == long, word
