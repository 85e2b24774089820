"""Hypothesis strategies shared by the fuzzed robustness suite.

The strategies draw the inputs that break text pipelines in practice:
arbitrary Unicode (including NUL and other control characters), lone
combining marks, right-to-left (Hebrew, Arabic) and CJK runs, emoji joined
with zero width joiners, strings of 100 kB, byte strings that are not valid
UTF-8 (passed as `tf.string`), and ragged batches of ids with empty rows.
It also builds the suite's tiny tokenizers (`make_tokenizer`): hand-made
WordPiece and byte-level BPE vocabularies, GPT-2's real files, and a small
SentencePiece model trained on real reviews.

`tests/conftest.py` runs Hypothesis derandomized, so every strategy here
draws the same examples on every run and machine.
"""

import functools

from hypothesis import strategies as st

from keras_nlp_clone.models import BartTokenizer
from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.models import DistilBertTokenizer
from keras_nlp_clone.models import GPT2Tokenizer
from keras_nlp_clone.models import RobertaTokenizer
from keras_nlp_clone.models import XLMRobertaTokenizer
from keras_nlp_clone.tokenizers import BytePairTokenizer
from keras_nlp_clone.tokenizers import ByteTokenizer
from keras_nlp_clone.tokenizers import SentencePieceTokenizer
from keras_nlp_clone.tokenizers import UnicodeCodepointTokenizer
from keras_nlp_clone.tokenizers import WordPieceTokenizer
from keras_nlp_clone.tokenizers import compute_sentence_piece_proto
from keras_nlp_clone.tokenizers.byte_pair_tokenizer import bytes_to_unicode
from tests import real_data

# === Character pools ===

# Every Unicode scalar value except surrogates (which are not encodable as
# UTF-8): NUL, C0/C1 controls, unassigned and private-use code points are in.
ANY_CHARACTER = st.characters(blacklist_categories=("Cs",))
# Nonspacing and enclosing marks: U+0301 (acute), U+0308 (diaeresis),
# U+20DD (enclosing circle), U+0E31 (Thai), U+05B8 (Hebrew qamats).
COMBINING_MARKS = st.sampled_from(
    ["\u0301", "\u0308", "\u0327", "\u20dd", "\u0e31", "\u05b8", "\u3099"]
)
HEBREW = st.characters(min_codepoint=0x05D0, max_codepoint=0x05EA)
ARABIC = st.characters(min_codepoint=0x0621, max_codepoint=0x064A)
CJK = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # ideographs
    st.characters(min_codepoint=0x3041, max_codepoint=0x3096),  # hiragana
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),  # hangul
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),  # ext. B
)
# Emoji sequences joined by U+200D (ZWJ), with skin tones and U+FE0F.
EMOJI_ZWJ = st.sampled_from(
    [
        "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466",
        "\U0001F3F3\ufe0f\u200d\U0001F308",
        "\U0001F469\U0001F3FD\u200d\U0001F4BB",
        "\U0001F1EF\U0001F1F5",  # a flag: two regional indicators
        "\u2764\ufe0f\u200d\U0001F525",
        "\U0001F9D1\u200d\U0001F91D\u200d\U0001F9D1",
        "\u200d",  # a lone joiner
    ]
)
ASCII_WORDS = st.sampled_from(
    ["the", "quick", "fox", "a", "movie", "good", "!", ".", " ", "  ", "\n"]
)

# The ways invalid UTF-8 shows up: stray continuation bytes, a truncated
# multibyte sequence, overlong encodings, an encoded surrogate, a code
# point past U+10FFFF, and bytes that never occur in UTF-8.
INVALID_UTF8_PIECES = [
    b"\x80",
    b"\xbf\xbf",
    b"\xc3",
    b"\xe4\xb8",
    b"\xf0\x9f\x98",
    b"\xc0\xaf",
    b"\xe0\x80\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xfe",
    b"\xff",
]


# === Text strategies ===


def any_text(max_size=24):
    """Arbitrary Unicode strings (every scalar value but surrogates)."""
    return st.text(alphabet=ANY_CHARACTER, max_size=max_size)


def combining_mark_text(max_size=8):
    """Strings that start with, or consist of, lone combining marks."""
    piece = st.one_of(COMBINING_MARKS, ASCII_WORDS, CJK)
    return st.builds(
        lambda mark, rest: mark + "".join(rest),
        COMBINING_MARKS,
        st.lists(piece, max_size=max_size),
    )


def rtl_cjk_text(max_size=8):
    """Runs of Hebrew, Arabic and CJK characters mixed with ASCII words."""
    run = st.one_of(
        st.text(alphabet=HEBREW, min_size=1, max_size=6),
        st.text(alphabet=ARABIC, min_size=1, max_size=6),
        st.text(alphabet=CJK, min_size=1, max_size=6),
        ASCII_WORDS,
    )
    return st.lists(run, max_size=max_size).map(" ".join)


def emoji_text(max_size=6):
    """Emoji ZWJ sequences, flags and lone joiners between words."""
    return st.lists(st.one_of(EMOJI_ZWJ, ASCII_WORDS), max_size=max_size).map(
        "".join
    )


def long_text(size=100_000):
    """Strings of exactly `size` characters (100 kB by default), made by
    repeating a short mixed-script piece."""
    piece = st.one_of(
        st.just("The quick brown fox. "),
        st.just("שלום עולם مرحبا 中文字符 "),
        st.just("\U0001F468\u200d\U0001F469\u200d\U0001F467 e\u0301 "),
        st.just("x" * 64),  # one 100 kB "word"
    )
    return piece.map(lambda p: (p * (size // len(p) + 1))[:size])


def fuzz_text(max_size=24):
    """Any of the short text strategies above (not the 100 kB one)."""
    return st.one_of(
        any_text(max_size),
        combining_mark_text(),
        rtl_cjk_text(),
        emoji_text(),
    )


def text_batches(min_size=1, max_size=4, text=None):
    """Lists of fuzzed strings; the empty string is always a candidate."""
    text = fuzz_text() if text is None else text
    return st.lists(
        st.one_of(st.just(""), text), min_size=min_size, max_size=max_size
    )


def invalid_utf8_bytes():
    """Byte strings that are not valid UTF-8: valid text with at least one
    invalid piece spliced in."""
    part = st.one_of(
        st.sampled_from(INVALID_UTF8_PIECES),
        rtl_cjk_text(max_size=2).map(lambda s: s.encode("utf-8")),
        st.binary(max_size=4),
    )
    return st.builds(
        lambda bad, parts, where: b"".join(
            parts[:where] + [bad] + parts[where:]
        ),
        st.sampled_from(INVALID_UTF8_PIECES),
        st.lists(part, max_size=4),
        st.integers(0, 4),
    )


# === Id strategies ===


def ragged_ids(max_id=50, max_rows=4, max_row_length=6, min_rows=1):
    """Ragged batches of ids in `[1, max_id)` as lists of lists; empty rows
    (and all-empty batches) are likely."""
    row = st.one_of(
        st.just([]),
        st.lists(st.integers(1, max_id - 1), max_size=max_row_length),
    )
    return st.lists(row, min_size=min_rows, max_size=max_rows)


# === Tiny tokenizers ===

WORDPIECE_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
    "the", "quick", "fox", "a", "movie", "good", "!", ".", "##s", "##e",
    "中", "文", "ש", "##ל", "م", "e",
]
BPE_WORDS = ["the", "Ġthe", "Ġquick", "Ġfox", "Ġa", "Ġmovie", "Ġgood"]


def byte_level_vocabulary(prefix_tokens, suffix_tokens):
    """The 256 byte symbols after `prefix_tokens`, the merge chains of
    `BPE_WORDS`, then `suffix_tokens`; returns `(vocabulary, merges)`."""
    merges = []
    for word in BPE_WORDS:
        symbols = list(word)
        while len(symbols) > 1:
            rule = f"{symbols[0]} {symbols[1]}"
            if rule not in merges:
                merges.append(rule)
            symbols = [symbols[0] + symbols[1]] + symbols[2:]
    tokens = list(prefix_tokens) + list(bytes_to_unicode().values())
    for rule in merges:
        if rule.replace(" ", "") not in tokens:
            tokens.append(rule.replace(" ", ""))
    tokens += list(suffix_tokens)
    return {token: i for i, token in enumerate(tokens)}, merges


ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


@functools.lru_cache(maxsize=1)
def tiny_sentence_piece_proto():
    """A 300-piece unigram SentencePiece model on 200 real IMDB reviews,
    with SentencePiece's default layout (`<unk>` 0, `<s>` 1, `</s>` 2),
    trained once per process."""
    return compute_sentence_piece_proto(
        list(real_data.imdb_texts(200)), vocabulary_size=300
    )


def make_tokenizer(name, sp_proto, **kwargs):
    """Builds the tokenizer of case `name`; `kwargs` go to its constructor."""
    if name == "word_piece":
        return WordPieceTokenizer(
            vocabulary=WORDPIECE_VOCAB, lowercase=True, **kwargs
        )
    if name == "byte_pair":
        vocab, merges = byte_level_vocabulary([], [])
        return BytePairTokenizer(vocabulary=vocab, merges=merges, **kwargs)
    if name == "byte_pair_gpt2_files":
        return BytePairTokenizer(
            vocabulary=real_data.gpt2_vocabulary_path(),
            merges=real_data.gpt2_merges_path(),
            **kwargs,
        )
    if name == "sentence_piece":
        return SentencePieceTokenizer(proto=sp_proto, **kwargs)
    if name == "byte":
        return ByteTokenizer(lowercase=False, **kwargs)
    if name == "unicode_codepoint":
        return UnicodeCodepointTokenizer(lowercase=False, **kwargs)
    if name == "unicode_codepoint_vocab_300":
        return UnicodeCodepointTokenizer(vocabulary_size=300, **kwargs)
    if name in ("bert", "distil_bert"):
        cls = BertTokenizer if name == "bert" else DistilBertTokenizer
        return cls(vocabulary=WORDPIECE_VOCAB, lowercase=True, **kwargs)
    if name == "xlm_roberta":
        return XLMRobertaTokenizer(proto=sp_proto, **kwargs)
    if name == "gpt2":
        vocab, merges = byte_level_vocabulary([], ["<|endoftext|>"])
        return GPT2Tokenizer(vocabulary=vocab, merges=merges, **kwargs)
    cls = {"roberta": RobertaTokenizer, "bart": BartTokenizer}[name]
    vocab, merges = byte_level_vocabulary(ROBERTA_SPECIALS, ["<mask>"])
    return cls(vocabulary=vocab, merges=merges, **kwargs)
