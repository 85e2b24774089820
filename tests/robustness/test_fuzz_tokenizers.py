"""Fuzzed robustness of every tokenizer.

Each tokenizer (the five general ones and the model tokenizers of the six
families) gets tiny vocabularies built once per module, and Hypothesis draws
hostile text (see `fuzz_strategies`). Checked for every draw: no crash,
outputs of the documented type and shape (a string gives one list of ids, a
batch a list of lists, dense tensors of `(batch, sequence_length)` with
`sequence_length`), ids in `[0, vocabulary_size)`. Where a docstring
promises it, `detokenize(tokenize(x)) == x` exactly, and where an outside
reference exists (the `sentencepiece` processor, Python's UTF-8 codec for
bytes) the ids equal its output.
"""

import keras
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_nlp_clone.tokenizers import UnicodeCodepointTokenizer
from keras_nlp_clone.utils.lazy_module import tf
from tests.robustness import fuzz_strategies as fs

FAST = settings(max_examples=8)

@pytest.fixture(scope="module")
def sp_proto():
    return fs.tiny_sentence_piece_proto()


@pytest.fixture(scope="module")
def tokenizers(sp_proto):
    """Every tokenizer under test (ragged outputs), by case id."""
    return {name: fs.make_tokenizer(name, sp_proto) for name in ALL}


ALL = [
    "word_piece",
    "byte_pair",
    "byte_pair_gpt2_files",
    "sentence_piece",
    "byte",
    "unicode_codepoint",
    "unicode_codepoint_vocab_300",
    "bert",
    "distil_bert",
    "roberta",
    "xlm_roberta",
    "gpt2",
    "bart",
]
# Tokenizers that promise `detokenize(tokenize(x)) == x` for valid Unicode
# text: byte-level BPE for all of it; the character tokenizers except for
# NUL (id 0 is padding, dropped by `detokenize`).
ROUND_TRIP_ALL_TEXT = ["byte_pair", "byte_pair_gpt2_files", "gpt2", "roberta", "bart"]
ROUND_TRIP_NO_NUL = ["byte", "unicode_codepoint"]
BYTE_LEVEL_BPE = ["byte_pair", "byte_pair_gpt2_files", "gpt2", "roberta", "bart"]

TEXT_KINDS = {
    "any_unicode": fs.any_text(),
    "combining_marks": fs.combining_mark_text(),
    "rtl_cjk": fs.rtl_cjk_text(),
    "emoji_zwj": fs.emoji_text(),
}


def vocabulary_size(tokenizer):
    size = tokenizer.vocabulary_size()
    # Without `vocabulary_size`, every codepoint is an id.
    return 0x110000 if size is None else size


def to_list(x):
    if isinstance(x, list):
        return x
    if isinstance(x, (tf.Tensor, tf.RaggedTensor)):
        return x.to_list() if isinstance(x, tf.RaggedTensor) else x.numpy().tolist()
    return keras.ops.convert_to_numpy(x).tolist()


def assert_ids(ids, tokenizer):
    """`ids` is a list of Python ints in `[0, vocabulary_size)`."""
    assert isinstance(ids, list), type(ids)
    size = vocabulary_size(tokenizer)
    for i in ids:
        assert isinstance(i, int) and 0 <= i < size, (i, size)


# === Every tokenizer, every kind of text ===


@pytest.mark.parametrize("name", ALL)
def test_batch_ids_in_range(tokenizers, name):
    tokenizer = tokenizers[name]

    @FAST
    @given(fs.text_batches())
    def check(texts):
        outputs = tokenizer(texts)
        assert isinstance(outputs, list) and len(outputs) == len(texts)
        for row in outputs:
            assert_ids(row, tokenizer)
        # A scalar string gives the first row alone, as a flat list.
        assert tokenizer(texts[0]) == outputs[0]
        # The empty string has no tokens.
        if "" in texts:
            assert outputs[texts.index("")] == []

    check()


# One length per tokenizer, alternating 1 and 5 over the list (both
# lengths are covered; each case builds a tokenizer, which is what costs).
@pytest.mark.parametrize(
    "name, length", [(name, (1, 5)[i % 2]) for i, name in enumerate(ALL)]
)
def test_dense_shape_with_sequence_length(tokenizers, sp_proto, name, length):
    ragged_tokenizer = tokenizers[name]
    tokenizer = fs.make_tokenizer(name, sp_proto, sequence_length=length)

    @settings(max_examples=4)
    @given(fs.text_batches())
    def check(texts):
        dense = tokenizer(texts)
        single = tokenizer(texts[0])
        assert tuple(dense.shape) == (len(texts), length)
        assert "int32" in str(dense.dtype)
        assert tuple(single.shape) == (length,)
        # Dense rows are the ragged rows, truncated and padded with 0
        # (XLM-RoBERTa: with `<pad>`, 1, as documented).
        pad = 1 if name == "xlm_roberta" else 0
        expected = [
            (row + [pad] * length)[:length] for row in ragged_tokenizer(texts)
        ]
        assert to_list(dense) == expected

    check()


@pytest.mark.parametrize("name", ALL)
def test_invalid_utf8_bytes(tokenizers, name):
    tokenizer = tokenizers[name]

    @FAST
    @given(st.lists(fs.invalid_utf8_bytes(), min_size=1, max_size=3))
    def check(byte_strings):
        outputs = tokenizer(tf.constant(byte_strings, dtype=tf.string))
        assert len(outputs) == len(byte_strings)
        for row in outputs:
            assert_ids(row, tokenizer)
        # Detokenizing whatever came out is also safe.
        detokenized = tokenizer.detokenize(outputs)
        assert len(detokenized) == len(byte_strings)

    check()


@pytest.mark.parametrize("name", ALL)
def test_100_kb_string(tokenizers, name):
    tokenizer = tokenizers[name]

    @settings(max_examples=2)
    @given(fs.long_text())
    def check(text):
        ids = tokenizer(text)
        assert_ids(ids, tokenizer)
        assert len(ids) > 0

    check()


# === Round trips, where promised ===


@pytest.mark.parametrize("name", ROUND_TRIP_ALL_TEXT + ROUND_TRIP_NO_NUL)
def test_round_trip(tokenizers, name):
    tokenizer = tokenizers[name]
    text = fs.fuzz_text()
    if name in ROUND_TRIP_NO_NUL:
        text = text.map(lambda s: s.replace("\x00", ""))

    @FAST
    @given(st.lists(text, min_size=1, max_size=3))
    def check(texts):
        assert tokenizer.detokenize(tokenizer(texts)) == texts

    check()


@pytest.mark.parametrize("name", ROUND_TRIP_ALL_TEXT + ROUND_TRIP_NO_NUL)
def test_round_trip_100_kb(tokenizers, name):
    tokenizer = tokenizers[name]

    @settings(max_examples=2)
    @given(fs.long_text())
    def check(text):
        assert tokenizer.detokenize(tokenizer(text)) == text

    check()


def test_byte_tokenizer_invalid_utf8_ids_are_the_bytes(tokenizers):
    # Documented: invalid UTF-8 input is tokenized as it is, byte by byte;
    # `detokenize` replaces each invalid sequence with U+FFFD. The oracle
    # is Python's codec with `errors="replace"` (one U+FFFD per maximal
    # invalid subpart, as TensorFlow's transcoder).
    tokenizer = tokenizers["byte"]

    @FAST
    @given(fs.invalid_utf8_bytes().filter(lambda b: b"\x00" not in b))
    def check(data):
        ids = tokenizer(tf.constant(data))
        assert ids == list(data)
        assert tokenizer.detokenize(ids) == data.decode("utf-8", "replace")

    check()


def test_unicode_codepoint_invalid_utf8_is_replaced(tokenizers):
    # Documented: each invalid input sequence becomes `replacement_char`.
    tokenizer = tokenizers["unicode_codepoint"]

    @FAST
    @given(fs.invalid_utf8_bytes())
    def check(data):
        ids = tokenizer(tf.constant(data))
        assert ids == [ord(c) for c in data.decode("utf-8", "replace")]

    check()


def test_unicode_codepoint_strict_errors_raise_value_error():
    # Documented: `errors="strict"` raises (a `ValueError` eagerly).
    tokenizer = UnicodeCodepointTokenizer(errors="strict", lowercase=False)

    @FAST
    @given(fs.invalid_utf8_bytes())
    def check(data):
        with pytest.raises(ValueError, match='errors="strict"'):
            tokenizer(tf.constant(data))

    check()


@pytest.mark.parametrize("name", BYTE_LEVEL_BPE)
def test_byte_level_bpe_invalid_utf8(tokenizers, name):
    # Documented: invalid UTF-8 is tokenized byte by byte, exactly, and
    # `detokenize` decodes with `errors="replace"`.
    tokenizer = tokenizers[name]

    @FAST
    @given(fs.invalid_utf8_bytes())
    def check(data):
        ids = tokenizer(tf.constant(data))
        assert tokenizer.detokenize(ids) == data.decode("utf-8", "replace")

    check()


@pytest.mark.parametrize("kind", list(TEXT_KINDS))
def test_sentence_piece_ids_equal_sentencepiece(tokenizers, sp_proto, kind):
    # Documented: ids are those of `SentencePieceProcessor.encode`, and
    # `detokenize` is its `decode`.
    import sentencepiece

    tokenizer = tokenizers["sentence_piece"]
    processor = sentencepiece.SentencePieceProcessor(model_proto=sp_proto)

    @FAST
    @given(fs.text_batches(text=TEXT_KINDS[kind]))
    def check(texts):
        ids = tokenizer(texts)
        assert ids == processor.encode(texts)
        assert tokenizer.detokenize(ids) == processor.decode(ids)

    check()


def test_word_piece_round_trips_vocabulary_words(tokenizers):
    # Text made of whole vocabulary words joined by single spaces comes back
    # exactly (WordPiece joins pieces with spaces and glues `##` pieces).
    tokenizer = tokenizers["word_piece"]
    words = ["the", "quick", "fox", "a", "movie", "good", "theses"]

    @FAST
    @given(
        st.lists(
            st.lists(st.sampled_from(words), max_size=6), min_size=1, max_size=3
        )
    )
    def check(rows):
        texts = [" ".join(row) for row in rows]
        ids = tokenizer(texts)
        assert tokenizer.detokenize(ids) == texts
        assert all(1 not in row for row in ids)  # no [UNK]

    check()


# === Pinned regressions found by this suite ===


@pytest.mark.parametrize("name", ["word_piece", "bert", "distil_bert"])
def test_word_piece_detokenizes_the_empty_tokenization(tokenizers, name):
    # `detokenize(tokenize(""))` raised "received an empty list", and
    # `detokenize(tokenize([""]))` "expects integer token ids. Received
    # dtype float32" (`tf.ragged.constant([[]])` is float32).
    tokenizer = tokenizers[name]
    assert tokenizer("") == []
    assert tokenizer.detokenize(tokenizer("")) == ""
    assert tokenizer.detokenize(tokenizer([""])) == [""]
    assert tokenizer.detokenize(tokenizer(["", "the fox"])) == ["", "the fox"]
