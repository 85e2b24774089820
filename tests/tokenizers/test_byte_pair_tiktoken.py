"""The opt-in `tiktoken` fast path of `BytePairTokenizer` (`_byte_pair_tiktoken`).

Every check compares the tokenizer with the fast path against the same
tokenizer forced onto its Python core (`_byte_pair_tiktoken.ENABLED =
False`), and, on real text, against `tiktoken`'s GPT-2 encoding and Hugging
Face's `GPT2TokenizerFast` built from the same files.
"""

import json
import random
import shutil

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_nlp_clone.tokenizers import BytePairTokenizer
from keras_nlp_clone.tokenizers import _byte_pair_core as core
from keras_nlp_clone.tokenizers import _byte_pair_tiktoken as fast
from keras_nlp_clone.tokenizers import byte_pair_tokenizer as bpt
from keras_nlp_clone.utils.lazy_module import tf
from tests import real_data
from tests.test_case import TestCase


def gpt2_tokenizer(vocabulary=None, **kwargs):
    return BytePairTokenizer(
        vocabulary=vocabulary or real_data.gpt2_vocabulary_path(),
        merges=real_data.gpt2_merges_path(),
        **kwargs,
    )


@pytest.fixture(autouse=True)
def fast_path_on(monkeypatch):
    """The fast path is opt-in: switched on for every test here."""
    monkeypatch.setattr(fast, "ENABLED", True)


def python_core(tokenizer, texts):
    """The rows of `tokenizer`'s Python core alone."""
    return tokenizer._tokenize_slow(tokenizer._state, list(texts))


def both_paths(make, inputs):
    """`make()(inputs)` with the fast path, then forced onto the Python
    core (a new tokenizer each time, caches cleared)."""
    outputs = []
    for enabled in (True, False):
        previous = fast.ENABLED
        fast.ENABLED = enabled
        core.clear_shared()
        try:
            tokenizer = make()
            uses_fast = tokenizer._state.shared.fast_core() is not None
            outputs.append((tokenizer(inputs), uses_fast))
        finally:
            fast.ENABLED = previous
            core.clear_shared()
    (with_fast, used), (python, unused) = outputs
    assert used and not unused
    return with_fast, python


@pytest.fixture(scope="module")
def tiktoken_gpt2():
    """`tiktoken`'s GPT-2 encoding from the same files (ranks are ids)."""
    import tiktoken

    with open(real_data.gpt2_vocabulary_path(), encoding="utf-8") as f:
        encoder = json.load(f)
    ranks = {
        bytes(bpt.UNICODE_TO_BYTE[c] for c in token): token_id
        for token, token_id in encoder.items()
        if token != "<|endoftext|>"
    }
    return tiktoken.Encoding(
        "gpt2_local",
        pat_str=bpt.GPT2_SPLIT_PATTERN,
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": 50256},
    )


@pytest.fixture(scope="module")
def hf_gpt2(tmp_path_factory):
    from transformers import GPT2TokenizerFast

    path = tmp_path_factory.mktemp("hf_gpt2")
    shutil.copy(real_data.gpt2_vocabulary_path(), path / "vocab.json")
    shutil.copy(real_data.gpt2_merges_path(), path / "merges.txt")
    return GPT2TokenizerFast.from_pretrained(str(path))


@pytest.fixture(scope="module")
def gpt2():
    return gpt2_tokenizer()


@pytest.fixture(scope="module")
def real_texts():
    return (
        list(real_data.imdb_texts(600))
        + list(real_data.rotten_tomatoes_texts(300))
        + list(real_data.news_texts(30))
    )


# Inputs of the robustness catalogue, and texts that mix ASCII words with
# non-ASCII spaces and letters at every kind of cut.
FUZZ_INPUTS = [
    "",
    " ",
    "\x00",
    "a\x00b \x00 c",
    "\u0301",
    " \u0301x e\u0301 \u0301\u0301",
    "שלום עולם hello مرحبا 123",
    "中文字符 日本語 한국어 mixed with English",
    "family 👨\u200d👩\u200d👧 and 👍🏽!",
    "x" * 20_000,
    "ab é " * 4_000,
    "tab\u00a0nbsp\u3000ideo\u2003em \x85next\u2028line",
    "a\x1cb \x1f c \x0b d\x0c",
    "it's\u00a0'quoted' don’t we’ll",
    "\u00a0 \u00a0x  \u3000  y\u00a0",
    "trailing é   ",
    "é",
    "\U00011dda醒 and ascii",
    b"\xff\xfe abc \x80 d",
    b"ab\xe3\x83 cd \xe3\x83\xbc",
    b"plain bytes",
]


class TestFastPathIsUsed(TestCase):
    def test_gpt2_merges_are_verified(self):
        tokenizer = gpt2_tokenizer()
        merges = tokenizer._state.shared.merges
        assert fast.merges_digest(merges) in fast.VERIFIED_MERGES
        fast_core = tokenizer._state.shared.fast_core()
        assert fast_core is not None
        assert fast_core.identity  # GPT-2's ids are its ranks.

    def test_other_merges_keep_the_python_core(self):
        tokenizer = BytePairTokenizer(
            vocabulary={"a": 0, "b": 1, "ab": 2}, merges=["a b"]
        )
        assert tokenizer._state.shared.fast_core() is None
        assert tokenizer(["ab", "ba"]) == [[2], [1, 0]]

    def test_disabled(self):
        previous = fast.ENABLED
        fast.ENABLED = False
        try:
            assert gpt2_tokenizer()._state.shared.fast_core() is None
        finally:
            fast.ENABLED = previous


class TestSameIds(TestCase):
    def test_real_text_matches_python_core_tiktoken_and_hugging_face(
        self, real_texts, tiktoken_gpt2, hf_gpt2
    ):
        with_fast, python = both_paths(gpt2_tokenizer, real_texts)
        expected = tiktoken_gpt2.encode_ordinary_batch(real_texts)
        hf_ids = hf_gpt2(real_texts, add_special_tokens=False)["input_ids"]
        for text, a, b, c, d in zip(
            real_texts, with_fast, python, expected, hf_ids
        ):
            assert a == b == c == d, text

    def test_fuzz_inputs_match_python_core(self, gpt2):
        with_fast = gpt2(FUZZ_INPUTS)
        python = python_core(gpt2, FUZZ_INPUTS)
        for text, a, b in zip(FUZZ_INPUTS, with_fast, python):
            assert a == b, text[:80]

    def test_where_tiktoken_splits_otherwise_ids_stay_ours(
        self, tiktoken_gpt2, hf_gpt2
    ):
        # U+11DDA is a letter for the `regex` package's Unicode tables (so
        # one word with "醒"), not for Rust's (`tiktoken`, Hugging Face):
        # the words, so the ids, differ. Non-ASCII text therefore stays
        # with the Python core, and both paths give its ids.
        text = "\U00011dda醒"
        assert len(regex.findall(bpt.GPT2_SPLIT_PATTERN, text)) == 1
        ours = [172, 239, 115, 22757]
        rust = [172, 239, 115, 248, 165, 10253]
        assert tiktoken_gpt2.encode_ordinary(text) == rust
        assert hf_gpt2(text, add_special_tokens=False)["input_ids"] == rust
        with_fast, python = both_paths(gpt2_tokenizer, [text, "ok " + text])
        assert with_fast == python == [ours, [482, 220] + ours]

    def test_surrogates_raise_on_both_paths(self):
        for enabled in (True, False):
            previous = fast.ENABLED
            fast.ENABLED = enabled
            try:
                with pytest.raises(ValueError, match="U\\+D800"):
                    gpt2_tokenizer()(["fine", "bad \ud800 text"])
            finally:
                fast.ENABLED = previous

    def test_ascii_tokens_encode_to_themselves_on_both_paths(self):
        # The base of `VERIFIED_MERGES`: each ASCII token of GPT-2's table,
        # as a text, gives the same ids both ways (17 non-ASCII tokens,
        # partial UTF-8 sequences, do not, so non-ASCII text does not take
        # the fast path).
        with open(real_data.gpt2_vocabulary_path(), encoding="utf-8") as f:
            vocabulary = json.load(f)
        words = []
        for token in vocabulary:
            data = bpt._token_to_bytes(token)
            if data.isascii() and token != "<|endoftext|>":
                words.append(data.decode("ascii"))
        assert len(words) > 30_000
        with_fast, python = both_paths(gpt2_tokenizer, words)
        assert with_fast == python
        assert sum(len(ids) == 1 for ids in with_fast) > 30_000

    def test_options_match_python_core(self, real_texts):
        texts = real_texts[:40] + [
            "a<|endoftext|>b é",
            "<|endoftext|>",
            "x<|endoftext|>\u00e9".encode(),
            b"\xff<|endoftext|> \xfe",
            b"plain <|endoftext|>",
        ]
        for kwargs in [
            {"add_prefix_space": True},
            {"dtype": "string"},
            {"unsplittable_tokens": ["<|endoftext|>"]},
        ]:
            tokenizer = gpt2_tokenizer(**kwargs)
            assert tokenizer(texts) == python_core(tokenizer, texts), kwargs
        tokenizer = gpt2_tokenizer(sequence_length=16)
        self.assertAllEqual(
            tokenizer(texts),
            [(r + [0] * 16)[:16] for r in python_core(tokenizer, texts)],
        )
        # Small batches run on the calling thread, larger ones threaded.
        assert len(texts) >= fast.MIN_THREADED_BATCH
        tokenizer = gpt2_tokenizer()
        expected = python_core(tokenizer, texts)
        for n in (1, 2, fast.MIN_THREADED_BATCH - 1, len(texts)):
            assert tokenizer(texts[:n]) == expected[:n]

    def test_ids_are_not_ranks(self, real_texts, tiktoken_gpt2):
        # RoBERTa/BART-style: GPT-2's tokens with other ids (specials
        # first, the rest shuffled); the fast path maps ranks to ids.
        with open(real_data.gpt2_vocabulary_path(), encoding="utf-8") as f:
            gpt2_vocabulary = json.load(f)
        order = list(range(len(gpt2_vocabulary)))
        random.Random(0).shuffle(order)
        new_id = {old: 4 + new for old, new in enumerate(order)}
        vocabulary = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
        vocabulary.update({t: new_id[i] for t, i in gpt2_vocabulary.items()})
        texts = real_texts[:100] + FUZZ_INPUTS[:9]
        with_fast, python = both_paths(
            lambda: gpt2_tokenizer(vocabulary=vocabulary), texts
        )
        expected = [
            [new_id[i] for i in ids]
            for ids in tiktoken_gpt2.encode_ordinary_batch(texts[:100])
        ]
        assert with_fast[:100] == python[:100] == expected
        assert with_fast == python
        tokenizer = gpt2_tokenizer(vocabulary=vocabulary)
        assert not tokenizer._state.shared.fast_core().identity

    def test_tf_data_matches_python_core(self, real_texts):
        texts = real_texts[:64] + ["é x", ""]

        def run():
            tokenizer = gpt2_tokenizer()
            dataset = tf.data.Dataset.from_tensor_slices(texts).batch(32)
            rows = []
            for batch in dataset.map(tokenizer):
                rows.extend(batch.to_list())
            return rows

        results = []
        for enabled in (True, False):
            previous = fast.ENABLED
            fast.ENABLED = enabled
            core.clear_shared()
            try:
                results.append(run())
            finally:
                fast.ENABLED = previous
                core.clear_shared()
        assert results[0] == results[1]
        assert len(results[0]) == len(texts)


# ASCII with the non-ASCII characters that matter for the cuts.
mixed_text = st.text(
    st.sampled_from(
        list("ab Z9'. \t\n\x0b\x1c")
        + ["\u00a0", "\u3000", "\x85", "é", "中", "\u0301", "😀", "’"]
    ),
    max_size=40,
)


class TestCuts(TestCase):
    @settings(max_examples=300, deadline=None)
    @given(text=mixed_text)
    def test_cut_parts_split_into_the_words_of_the_whole(self, text):
        split = regex.compile(bpt.GPT2_SPLIT_PATTERN).findall
        pieces = []
        start = 0
        for match in bpt._NON_ASCII_CHUNK.finditer(text):
            pieces += [text[start : match.start()], match.group()]
            assert not match.group().isascii()
            start = match.end()
        pieces.append(text[start:])
        assert "".join(pieces) == text
        assert [w for p in pieces for w in split(p)] == split(text)

    @settings(max_examples=150, deadline=None)
    @given(texts=st.lists(mixed_text, max_size=20))
    def test_mixed_text_matches_python_core(self, gpt2, texts):
        assert gpt2._state.shared.fast_core() is not None
        state = gpt2._state
        assert gpt2(texts) == gpt2._tokenize_slow(state, texts)
