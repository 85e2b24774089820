"""A WordPiece tokenizer (BERT style), built on TensorFlow Text."""

import collections
import os
import re
import threading
import types

import keras
import numpy as np

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.tokenizers.tokenizer import Tokenizer
from keras_nlp_clone.tokenizers.tokenizer import check_output_dtype
from keras_nlp_clone.tokenizers.tokenizer import check_sequence_length
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.lazy_module import tf_text
from keras_nlp_clone.utils.tensor_utils import convert_preprocessing_outputs
from keras_nlp_clone.utils.tensor_utils import in_no_convert_scope
from keras_nlp_clone.utils.tensor_utils import in_tf_graph
from keras_nlp_clone.utils.tensor_utils import is_string_dtype
from keras_nlp_clone.utils.tensor_utils import ragged_constant
from keras_nlp_clone.utils.tensor_utils import ragged_to_list

VOCAB_FILENAME = "vocabulary.txt"

# Words longer than this many characters become the OOV token, as in BERT
# and Hugging Face `tokenizers` (`max_input_chars_per_word`).
MAX_CHARS_PER_WORD = 100

# The pre-splitting below follows BERT's `BasicTokenizer` (and the Hugging
# Face `BertNormalizer` + `BertPreTokenizer`), written as RE2 patterns.

# Characters BERT's `clean_text` deletes: NUL, U+FFFD and every "other"
# (Cc, Cf, Co, Cs) character except tab, newline and carriage return.
CONTROL_REGEX = r"[\x00\x{FFFD}]|[^\P{C}\t\n\r]"

# Unicode `White_Space` (what ICU, Rust and Hugging Face split on). RE2's
# `\s` only covers ASCII whitespace.
WHITESPACE_REGEX = (
    r"[\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}"
    r"\x{202F}\x{205F}\x{3000}]"
)

# All ASCII non-alphanumeric printable characters (BERT counts `$`, `^`,
# `` ` `` etc. as punctuation) and the Unicode punctuation categories.
PUNCTUATION_REGEX = r"[!-/:-@\[-`{-~\p{P}]"

# The CJK Unified Ideograph blocks BERT isolates as single-character words.
CJK_REGEX = (
    r"[\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}"
    r"\x{2A700}-\x{2B73F}\x{2B740}-\x{2B81F}\x{2B820}-\x{2CEAF}"
    r"\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]"
)


def _special_tokens_regex(special_tokens):
    """An RE2 alternation matching any of `special_tokens`, longest first."""
    if not special_tokens:
        return None
    tokens = sorted(set(special_tokens), key=len, reverse=True)
    return "|".join(re.escape(token) for token in tokens)


def normalize_words(text, lowercase=False, strip_accents=False):
    """Lowercases and/or strips accents from a string tensor.

    Mirrors BERT: accents are stripped by NFD decomposition followed by
    deletion of nonspacing marks (`Mn`), and lowercasing is per character
    (no final-sigma rule, no NFKC case folding).

    Args:
        text: a string `tf.Tensor` of any shape.
        lowercase: bool. Whether to lowercase.
        strip_accents: bool. Whether to strip accents.

    Returns:
        A string `tf.Tensor` of the same shape.
    """
    if strip_accents:
        text = tf_text.normalize_utf8(text, "NFD")
        text = tf.strings.regex_replace(text, r"\p{Mn}", "")
    if lowercase:
        # ICU lowercases a word-final capital sigma to "ς"; BERT maps every
        # "Σ" to "σ". Lowercasing it first makes the two agree.
        text = tf.strings.regex_replace(text, "\u03a3", "\u03c3")
        text = tf.strings.lower(text, encoding="utf-8")
    return text


def pretokenize(
    text,
    lowercase=False,
    strip_accents=False,
    split=True,
    split_on_cjk=True,
    special_tokens=None,
):
    """Normalizes and splits strings into words, as BERT does before WordPiece.

    With `split=True`: control characters are deleted; the text is split on
    Unicode whitespace (dropped) and on punctuation and, with `split_on_cjk`,
    CJK ideographs (each kept as a one-character word). `special_tokens` are
    kept whole and are neither split nor normalized.

    Args:
        text: a rank 1 string `tf.Tensor`.
        lowercase: bool. Whether to lowercase.
        strip_accents: bool. Whether to strip accents.
        split: bool. Whether to split; if `False` every string is one word.
        split_on_cjk: bool. Whether CJK ideographs are split apart.
        special_tokens: list of str or `None`. Tokens never split or
            normalized.

    Returns:
        A `tf.RaggedTensor` of words, shape `[batch, None]`.
    """
    special_regex = _special_tokens_regex(special_tokens)
    if not split:
        words = tf.expand_dims(text, -1)
        words = tf.RaggedTensor.from_tensor(words)
    else:
        text = tf.strings.regex_replace(text, CONTROL_REGEX, "")
        keep = [PUNCTUATION_REGEX]
        if split_on_cjk:
            keep.append(CJK_REGEX)
        if special_regex:
            keep.insert(0, special_regex)
        if special_regex is None:
            # Normalizing whole strings first is cheaper and is the order
            # BERT uses.
            text = normalize_words(text, lowercase, strip_accents)
        keep_regex = "|".join(keep)
        if special_regex is None:
            # Static regexes (compiled once per graph, unlike `regex_split`'s
            # pattern tensors, compiled on every call): put spaces around
            # kept characters, turn Unicode whitespace into spaces, split.
            text = tf.strings.regex_replace(text, f"({keep_regex})", r" \1 ")
            text = tf.strings.regex_replace(text, WHITESPACE_REGEX, " ")
            return _drop_empty(tf.strings.split(text, sep=" "))
        words = tf_text.regex_split(
            text, WHITESPACE_REGEX + "|" + keep_regex, keep_regex
        )
    flat = words.flat_values
    normalized = normalize_words(flat, lowercase, strip_accents)
    if special_regex:
        is_special = tf.strings.regex_full_match(flat, special_regex)
        normalized = tf.where(is_special, flat, normalized)
    return _drop_empty(words.with_flat_values(normalized))


def _drop_empty(words):
    # Stripping accents can empty a word made only of combining marks.
    return tf.ragged.boolean_mask(words, tf.strings.length(words) > 0)


def _atomic_write_lines(path, lines):
    """Writes `lines` (one a line, `\n`-terminated) to `path` atomically."""
    from keras_nlp_clone.presets.saver import atomic_write_text

    atomic_write_text(path, "".join(f"{line}\n" for line in lines))


def load_vocabulary_file(path):
    """Reads a vocabulary file, one token a line; returns a list of str."""
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Vocabulary file not found: {path!r}. Pass a list of tokens or "
            "the path of a text file with one token per line."
        )
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ValueError(
            f"Vocabulary file {path!r} is not UTF-8 text: line {line} holds "
            f"the byte {data[e.start:e.start + 1]!r}. The file is damaged or "
            "is not a vocabulary: pass a text file with one token per line."
        ) from None
    # Split on "\n" only: `str.splitlines` would also split tokens
    # containing e.g. U+2028 or U+001C.
    # As text-mode `open` did: "\r\n" and "\r" end lines too.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# Built FastWordpiece model flatbuffers by their builder arguments
# (vocabulary tuple included), most recently used last.
_FAST_WORDPIECE_MODELS = collections.OrderedDict()
_FAST_WORDPIECE_CACHE_SIZE = 8
_FAST_WORDPIECE_LOCK = threading.Lock()


def fast_wordpiece_model(vocabulary, max_bytes_per_word, suffix_indicator,
                         oov_token, no_pretokenization, support_detokenization):
    """The `tf_text` FastWordpiece model flatbuffer (bytes) of a vocabulary.

    Building it is the largest part of making a WordPiece tokenizer (about
    0.1 s for BERT's 30,522 tokens, twice per tokenizer), so built models
    are kept by their arguments' content, the last
    `_FAST_WORDPIECE_CACHE_SIZE` of them: loading the same vocabulary
    again (another `from_preset` of the preset, a tokenizer and its copy in
    a preprocessor) reuses the bytes.

    Args:
        vocabulary: tuple of str. The tokens, by id.
        max_bytes_per_word: int. Longer words become `oov_token`.
        suffix_indicator: str. The prefix of word-continuing pieces.
        oov_token: str. The unknown-word token.
        no_pretokenization: bool. Whether the model tokenizes single words
            (`True`) or splits text into words first (`False`).
        support_detokenization: bool. Whether the model can detokenize.

    Returns:
        bytes, the model flatbuffer for `tf_text.FastWordpieceTokenizer`.
    """
    key = (vocabulary, max_bytes_per_word, suffix_indicator, oov_token,
           bool(no_pretokenization), bool(support_detokenization))
    with _FAST_WORDPIECE_LOCK:
        model = _FAST_WORDPIECE_MODELS.get(key)
        if model is not None:
            _FAST_WORDPIECE_MODELS.move_to_end(key)
            return model
    from tensorflow_text.core.pybinds import (
        pywrap_fast_wordpiece_tokenizer_model_builder as builder,
    )

    model = builder.build_fast_wordpiece_model(
        list(vocabulary), max_bytes_per_word, suffix_indicator, oov_token,
        no_pretokenization, support_detokenization,
    )
    with _FAST_WORDPIECE_LOCK:
        _FAST_WORDPIECE_MODELS[key] = model
        while len(_FAST_WORDPIECE_MODELS) > _FAST_WORDPIECE_CACHE_SIZE:
            _FAST_WORDPIECE_MODELS.popitem(last=False)
    return model


def _dtype_name(dtype):
    dtype = getattr(dtype, "name", dtype)
    return str(dtype)


@keras_nlp_clone_export
class WordPieceTokenizer(Tokenizer):
    """A WordPiece tokenizer: strings to subword ids, BERT style.

    The tokenizer first splits text into words (unless `split=False`), then
    splits every word greedily into the longest vocabulary pieces, marking
    pieces that continue a word with `suffix_indicator`. A word with a piece
    missing from the vocabulary, or longer than 100 characters, becomes
    `oov_token`. With `lowercase=True, strip_accents=True` and an uncased BERT
    vocabulary, the ids are exactly those of Hugging Face's
    `BertTokenizerFast` (without special tokens).

    Pre-splitting (`split=True`) follows BERT's basic tokenizer: control
    characters are deleted, text is split on Unicode whitespace, and every
    punctuation character (Unicode `P*` plus all non-alphanumeric printable
    ASCII) and, with `split_on_cjk`, every CJK ideograph becomes its own
    word.

    The layer takes a string, a list of strings, or a string `tf.Tensor`
    (rank 0, 1 or 2), eagerly or inside `tf.data.Dataset.map`. Eagerly it
    returns Python lists of ids (or token strings) for ragged outputs and
    backend tensors when `sequence_length` is set; in a `tf.function` it
    returns a `tf.RaggedTensor` or a dense `tf.Tensor`.

    Args:
        vocabulary: list of str, or str. The vocabulary, or the path of a
            file with one token a line; a token's id is its index. If `None`,
            the vocabulary must be set later (`load_assets`, `set_vocabulary`)
            before the tokenizer is used. Defaults to `None`.
        sequence_length: int. If set, outputs are padded with 0 (or `""`)
            and truncated to this length, and are dense. Defaults to `None`.
        lowercase: bool. Whether to lowercase the input. Defaults to `False`.
        strip_accents: bool. Whether to strip accents (NFD then delete
            nonspacing marks). Defaults to `False`.
        split: bool. Whether to split on whitespace and punctuation. If
            `False`, every input string is treated as one word. Defaults to
            `True`.
        split_on_cjk: bool. Whether to split CJK ideographs into
            one-character words (only with `split=True`). Defaults to `True`.
        suffix_indicator: str. The prefix marking a piece that continues a
            word. Defaults to `"##"`.
        oov_token: str. The token for unknown words; must be in the
            vocabulary. Defaults to `"[UNK]"`.
        special_tokens: list of str. Tokens that, with
            `special_tokens_in_strings=True`, are recognised whole in input
            strings. Each must be in the vocabulary. Defaults to `None`.
        special_tokens_in_strings: bool. Whether input strings may contain
            special tokens (e.g. `"[CLS] hi [SEP]"`) to map to their ids
            instead of splitting them. Defaults to `False`.
        dtype: str. The output dtype: an integer dtype for ids, or
            `"string"` for token strings. Defaults to `"int32"`.
        **kwargs: passed to `keras.layers.Layer`.

    Examples:

    Ragged outputs.
    >>> vocab = ["[UNK]", "the", "qu", "##ick", "fox", "."]
    >>> tokenizer = keras_nlp_clone.tokenizers.WordPieceTokenizer(
    ...     vocabulary=vocab, lowercase=True)
    >>> tokenizer("The quick fox.")
    [1, 2, 3, 4, 5]
    >>> tokenizer(["The fox.", "the quick"])
    [[1, 4, 5], [1, 2, 3]]

    Dense outputs and token strings.
    >>> tokenizer = keras_nlp_clone.tokenizers.WordPieceTokenizer(
    ...     vocabulary=vocab, lowercase=True, sequence_length=4,
    ...     dtype="string")
    >>> tokenizer(["The quick fox."])
    [['the', 'qu', '##ick', 'fox']]

    Detokenization.
    >>> tokenizer = keras_nlp_clone.tokenizers.WordPieceTokenizer(
    ...     vocabulary=vocab)
    >>> tokenizer.detokenize([1, 2, 3, 4])
    'the quick fox'

    Mapped over a `tf.data.Dataset`.
    >>> ds = tf.data.Dataset.from_tensor_slices(["the fox", "the quick"])
    >>> ds = ds.map(tokenizer)

    References:
        - [Schuster and Nakajima, 2012](https://research.google/pubs/pub37842/)
        - [Song et al., 2021](https://arxiv.org/abs/2012.15524)
    """

    def __init__(
        self,
        vocabulary=None,
        sequence_length=None,
        lowercase=False,
        strip_accents=False,
        split=True,
        split_on_cjk=True,
        suffix_indicator="##",
        oov_token="[UNK]",
        special_tokens=None,
        special_tokens_in_strings=False,
        dtype="int32",
        **kwargs,
    ):
        check_output_dtype(dtype, owner=self.__class__.__name__)
        for name, value in (
            ("lowercase", lowercase),
            ("strip_accents", strip_accents),
            ("split", split),
            ("split_on_cjk", split_on_cjk),
            ("special_tokens_in_strings", special_tokens_in_strings),
        ):
            argument_checks.check_bool(self.__class__.__name__, name, value)
        super().__init__(dtype=dtype, **kwargs)
        check_sequence_length(sequence_length)
        if not isinstance(oov_token, str) or not oov_token:
            raise ValueError(
                "`oov_token` must be a non-empty string that is in the "
                f"vocabulary. Received: oov_token={oov_token!r}"
            )
        if not isinstance(suffix_indicator, str) or not suffix_indicator:
            raise ValueError(
                "`suffix_indicator` must be a non-empty string. Received: "
                f"suffix_indicator={suffix_indicator!r}"
            )
        if special_tokens is not None:
            if isinstance(special_tokens, str) or not all(
                isinstance(t, str) and t for t in special_tokens
            ):
                raise ValueError(
                    "`special_tokens` must be a list of non-empty strings. "
                    f"Received: special_tokens={special_tokens!r}"
                )
            special_tokens = list(special_tokens)

        self.sequence_length = (
            None if sequence_length is None else int(sequence_length)
        )
        # Python bools (NumPy ones would not serialize to JSON configs).
        self.lowercase = bool(lowercase)
        self.strip_accents = bool(strip_accents)
        self.split = bool(split)
        self.split_on_cjk = bool(split_on_cjk)
        self.suffix_indicator = suffix_indicator
        self.oov_token = oov_token
        self._init_special_tokens = special_tokens
        self.special_tokens_in_strings = bool(special_tokens_in_strings)
        self._output_string = is_string_dtype(_dtype_name(dtype))
        self.set_vocabulary(vocabulary)

    # === Vocabulary ===

    def set_vocabulary(self, vocabulary):
        """Sets the vocabulary: a list of tokens, a file path, or `None`."""
        self._eager_fns = {}
        if vocabulary is None:
            self._vocabulary = None
            self._vocabulary_index = None
            self._fast_word_piece = None
            self._word_piece = None
            return
        # Where the tokens come from, for error messages.
        source, in_source = "`vocabulary`", ""
        if isinstance(vocabulary, str):
            source = f"Vocabulary file {vocabulary!r}"
            in_source = f" ({source})"
            vocabulary = load_vocabulary_file(vocabulary)
        elif isinstance(vocabulary, (list, tuple)):
            vocabulary = list(vocabulary)
        else:
            raise ValueError(
                "`vocabulary` must be a list of strings or the path of a "
                "vocabulary file (one token a line). Received: "
                f"{type(vocabulary).__name__}"
            )
        if not vocabulary:
            raise ValueError(f"{source} is empty: pass at least one token.")
        if not all(isinstance(token, str) for token in vocabulary):
            i, token = next(
                (i, t) for i, t in enumerate(vocabulary) if not isinstance(t, str)
            )
            raise ValueError(
                "`vocabulary` must contain only strings. Received "
                f"{token!r} ({type(token).__name__}) at index {i}."
            )
        index = {token: i for i, token in enumerate(vocabulary)}
        if len(index) != len(vocabulary):
            first = {}
            for i, token in enumerate(vocabulary):
                if token in first:
                    where = (
                        f"lines {first[token] + 1} and {i + 1}"
                        if in_source
                        else f"ids {first[token]} and {i}"
                    )
                    raise ValueError(
                        f"{source} contains the token {token!r} twice "
                        f"({where}). Token ids must be unique: remove the "
                        "duplicate."
                    )
                first[token] = i
        if self.oov_token not in index:
            raise ValueError(
                f"`oov_token` {self.oov_token!r} is not in the "
                f"vocabulary{in_source}. "
                "Add it to the vocabulary or pass `oov_token=` a token it "
                "contains."
            )
        for token in self._init_special_tokens or []:
            if token not in index:
                raise ValueError(
                    f"Special token {token!r} (from `special_tokens`) is not "
                    f"in the vocabulary{in_source}."
                )
        for name in self._special_token_names:
            token = getattr(self, name)
            if token is not None and token not in index:
                raise ValueError(
                    f"Special token `{name}`={token!r} is not in the "
                    f"vocabulary of {self.__class__.__name__}{in_source}. "
                    "Add it to the "
                    "vocabulary, or pass a vocabulary that contains it."
                )
        # Set past Keras' attribute tracking, which would walk all 30k
        # tokens of a tuple (and wrap a list into a tracked copy).
        vocabulary = tuple(vocabulary)
        object.__setattr__(self, "_vocabulary", vocabulary)
        self._vocabulary_index = types.MappingProxyType(index)
        self._oov_token_id = index[self.oov_token]

        out_type = tf.string if self._output_string else tf.int32

        def fast_word_piece(max_bytes_per_word, no_pretokenization, **kwargs):
            # The model flatbuffer becomes a uint8 tensor straight from its
            # bytes: `tf_text` itself converts it through a Python list of
            # ints (about half the build time for a 30k vocabulary).
            model = fast_wordpiece_model(
                vocabulary,
                max_bytes_per_word,
                self.suffix_indicator,
                self.oov_token,
                no_pretokenization,
                kwargs.get("support_detokenization", False),
            )
            return tf_text.FastWordpieceTokenizer(
                token_out_type=out_type,
                model_buffer=tf.constant(np.frombuffer(model, dtype=np.uint8)),
            )

        with tf.init_scope():
            # End to end: BERT pre-splitting and WordPiece in one linear pass.
            self._fast_word_piece = fast_word_piece(
                MAX_CHARS_PER_WORD, False, support_detokenization=True
            )
            # Word by word, for our own pre-splitting. Word length limits
            # are applied in characters by `_tokenize_words`.
            self._word_piece = fast_word_piece(4 * MAX_CHARS_PER_WORD, True)
        self._update_special_token_ids()

    @property
    def vocabulary(self):
        """The vocabulary as a list of str, or `None` if not set."""
        return None if self._vocabulary is None else list(self._vocabulary)

    def _check_vocabulary(self):
        if self._vocabulary is None:
            raise ValueError(
                f"No vocabulary has been set for {self.__class__.__name__}. "
                "Pass `vocabulary=` to the constructor, or call "
                "`load_assets(dir)` / `set_vocabulary(vocab)` first."
            )

    def get_vocabulary(self):
        """Returns the vocabulary as a list of token strings, by id."""
        self._check_vocabulary()
        return list(self._vocabulary)

    def vocabulary_size(self):
        """Returns the number of tokens in the vocabulary."""
        self._check_vocabulary()
        return len(self._vocabulary)

    def id_to_token(self, id):
        """Returns the token string of integer `id`."""
        self._check_vocabulary()
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)):
            raise ValueError(
                f"`id` must be an int. Received: id={id!r} "
                f"({type(id).__name__})"
            )
        if id < 0 or id >= len(self._vocabulary):
            raise ValueError(
                f"`id` must be in [0, {len(self._vocabulary) - 1}] (the "
                f"vocabulary has {len(self._vocabulary)} tokens). Received: "
                f"id={int(id)}"
            )
        return self._vocabulary[id]

    def token_to_id(self, token):
        """Returns the integer id of the string `token`."""
        self._check_vocabulary()
        if not isinstance(token, str):
            raise ValueError(
                f"`token` must be a str. Received: {token!r} "
                f"({type(token).__name__})"
            )
        if token not in self._vocabulary_index:
            raise ValueError(
                f"Token {token!r} is not in the vocabulary. Use "
                "`tokenize()` to split text into vocabulary tokens."
            )
        return self._vocabulary_index[token]

    # === Tokenization ===

    def _protected_tokens(self):
        if not self.special_tokens_in_strings:
            return None
        tokens = list(self._init_special_tokens or [])
        tokens += [t for t in self.special_tokens if t is not None]
        return tokens or None

    def _tokenize_words(self, words):
        """WordPiece on a rank 1 tensor of words -> ragged `[words, None]`."""
        too_long = (
            tf.strings.length(words, unit="UTF8_CHAR") > MAX_CHARS_PER_WORD
        )
        words = tf.where(too_long, self.oov_token, words)
        return self._word_piece.tokenize(words)

    def _tokenize_split(self, text, special_tokens=None):
        words = pretokenize(
            text,
            lowercase=self.lowercase,
            strip_accents=self.strip_accents,
            split=self.split,
            split_on_cjk=self.split_on_cjk,
            special_tokens=special_tokens,
        )
        pieces = self._tokenize_words(words.flat_values)
        return words.with_flat_values(pieces).merge_dims(1, 2)

    def _tokenize_strings(self, text):
        """Tokenizes a rank 1 string tensor -> ragged `[batch, None]`."""
        special_tokens = self._protected_tokens()
        if special_tokens or not self.split or not self.split_on_cjk:
            return self._tokenize_split(text, special_tokens)

        # Fast path: normalize whole strings, then one FastWordpiece pass
        # that also pre-splits (ICU whitespace, BERT punctuation, CJK).
        clean = tf.strings.regex_replace(text, CONTROL_REGEX, "")
        clean = normalize_words(clean, self.lowercase, self.strip_accents)
        tokens = self._fast_word_piece.tokenize(clean)

        # FastWordpiece limits words in bytes, BERT in characters. Only
        # rows with an OOV token can differ; redo those word by word.
        oov = self.oov_token if self._output_string else self._oov_token_id
        has_oov = tf.reduce_any(tf.equal(tokens, oov), axis=1)

        def redo_oov_rows():
            rows = tf.where(has_oov)[:, 0]
            redone = self._tokenize_split(tf.gather(text, rows))
            redone = redone.with_row_splits_dtype(tokens.row_splits.dtype)
            n = tf.shape(tokens.row_splits, out_type=tf.int64)[0] - 1
            order = tf.tensor_scatter_nd_update(
                tf.range(n),
                tf.expand_dims(rows, 1),
                n + tf.range(tf.size(rows, out_type=tf.int64)),
            )
            return tf.gather(tf.concat([tokens, redone], axis=0), order)

        # Unconditional on purpose: the redo runs on the (usually empty) set
        # of OOV rows. A `tf.cond` here costs ~4 ms a batch inside
        # `tf.data` (functional `If` op), more than the redo on no rows.
        return redo_oov_rows()

    def _tokenize_tf(self, inputs):
        """The graph body of `tokenize` for a string tensor of any rank."""
        scalar = inputs.shape.rank == 0
        if scalar:
            inputs = tf.expand_dims(inputs, 0)
        if isinstance(inputs, tf.RaggedTensor):
            tokens = inputs.with_flat_values(
                self._tokenize_strings(inputs.flat_values)
            )
        elif inputs.shape.rank == 1:
            tokens = self._tokenize_strings(inputs)
        else:
            inputs = tf.RaggedTensor.from_tensor(inputs)
            tokens = inputs.with_flat_values(
                self._tokenize_strings(inputs.flat_values)
            )
        if self.sequence_length is not None:
            shape = [None] * (tokens.shape.rank - 1) + [self.sequence_length]
            tokens = tokens.to_tensor(shape=shape)
        if scalar:
            tokens = tokens[0]
        if not self._output_string and self.compute_dtype != "int32":
            tokens = tf.cast(tokens, self.compute_dtype)
        return tokens

    def _eager_tokenize_fn(self, inputs):
        """A cached `tf.function` for eager calls, keyed by input kind."""
        ragged = isinstance(inputs, tf.RaggedTensor)
        key = ("ragged" if ragged else "dense", inputs.shape.rank)
        fn = self._eager_fns.get(key)
        if fn is None:
            if not ragged and inputs.shape.rank == 1:
                fn = tf.function(
                    self._tokenize_tf,
                    input_signature=[tf.TensorSpec([None], tf.string)],
                )
                # Trace now, on this thread: large batches then call it from
                # several threads at once, and concurrent first traces race
                # in AutoGraph's conversion cache.
                fn.get_concrete_function()
            else:
                fn = tf.function(self._tokenize_tf, reduce_retracing=True)
            self._eager_fns[key] = fn
        return fn

    def tokenize(self, inputs):
        """Maps strings to token ids (or token strings with `dtype="string"`).

        Args:
            inputs: a str, a list of str, or a string `tf.Tensor` /
                `tf.RaggedTensor`.

        Returns:
            Eagerly: a list of ids for one string, a list of lists for a
            batch, or a backend tensor `[batch, sequence_length]` when
            `sequence_length` is set. In a `tf.function`: a `tf.Tensor` or
            `tf.RaggedTensor`.
        """
        self._check_vocabulary()
        inputs = _to_string_tensor(inputs, "tokenize")
        if in_tf_graph():
            return self._tokenize_tf(inputs)
        scalar = inputs.shape.rank == 0
        if scalar:
            inputs = tf.reshape(inputs, [1])
        fn = self._eager_tokenize_fn(inputs)
        convert = not in_no_convert_scope()
        shards = _shard_batch(inputs)
        if len(shards) == 1:
            outputs = [_run_and_convert(fn, inputs, convert)]
        else:
            # TF Text kernels are single threaded; running shards of a big
            # batch from a thread pool (TF releases the GIL) uses every core
            # without tracing the function more than once.
            outputs = list(
                _thread_pool().map(
                    lambda x: _run_and_convert(fn, x, convert), shards
                )
            )
        if convert and isinstance(outputs[0], list):
            outputs = [row for shard in outputs for row in shard]
        elif len(outputs) == 1:
            outputs = outputs[0]
        elif convert:
            outputs = keras.ops.concatenate(outputs, axis=0)
        else:
            outputs = tf.concat(outputs, axis=0)
        return outputs[0] if scalar else outputs

    def _detokenize_tf(self, inputs):
        scalar = inputs.shape.rank == 1
        if scalar:
            inputs = tf.expand_dims(inputs, 0)
        if isinstance(inputs, tf.Tensor):
            inputs = tf.RaggedTensor.from_tensor(inputs)
        if inputs.dtype == tf.string:
            # Join token strings, gluing suffix pieces onto the word before.
            outputs = tf.strings.reduce_join(inputs, axis=-1, separator=" ")
            outputs = tf.strings.regex_replace(
                outputs, " " + re.escape(self.suffix_indicator), ""
            )
        else:
            ids = tf.cast(inputs, tf.int64)
            flat = ids.flat_values
            size = tf.constant(len(self._vocabulary), tf.int64)
            with tf.control_dependencies(
                [
                    tf.debugging.assert_non_negative(
                        flat, message="detokenize: token ids must be >= 0"
                    ),
                    tf.debugging.assert_less(
                        flat,
                        size,
                        message="detokenize: token ids must be < "
                        f"vocabulary_size() = {len(self._vocabulary)}",
                    ),
                ]
            ):
                ids = tf.identity(ids)
            outputs = self._fast_word_piece.detokenize(ids)
        if scalar:
            outputs = outputs[0]
        return outputs

    def detokenize(self, inputs):
        """Maps token ids (or token strings) back to text.

        Pieces starting with `suffix_indicator` are joined to the piece
        before them; other pieces are separated by a space. Padding ids are
        not removed. No ids (`[]`, or an empty row) give `""`.

        Args:
            inputs: ids as a list of int, a list of lists, a NumPy array, a
                backend tensor, or a `tf.Tensor` / `tf.RaggedTensor`.

        Returns:
            A str for one sequence, a list of str for a batch (eagerly), or
            a string `tf.Tensor` in a `tf.function`.
        """
        self._check_vocabulary()
        inputs = _to_id_tensor(inputs)
        if not in_tf_graph():
            _check_ids_eagerly(inputs, len(self._vocabulary))
        if in_tf_graph():
            return self._detokenize_tf(inputs)
        # One function per input kind and rank: `reduce_retracing` would
        # otherwise relax the rank, which TF Text's detokenize needs.
        key = (
            "detokenize",
            isinstance(inputs, tf.RaggedTensor),
            inputs.shape.rank,
            inputs.dtype.name,
        )
        fn = self._eager_fns.get(key)
        if fn is None:
            fn = tf.function(self._detokenize_tf, reduce_retracing=True)
            self._eager_fns[key] = fn
        outputs = fn(inputs)
        if in_no_convert_scope():
            return outputs
        return convert_preprocessing_outputs(outputs)

    def call(self, inputs, *args, training=None, **kwargs):
        return self.tokenize(inputs, *args, **kwargs)

    # === Assets and config ===

    def save_assets(self, dir_path):
        """Writes `vocabulary.txt` (one token a line) into `dir_path`."""
        self._check_vocabulary()
        _atomic_write_lines(
            os.path.join(dir_path, VOCAB_FILENAME), self._vocabulary
        )

    def load_assets(self, dir_path):
        """Sets the vocabulary from `vocabulary.txt` in `dir_path`."""
        self.set_vocabulary(os.path.join(dir_path, VOCAB_FILENAME))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                # The vocabulary is saved as an asset, not in the config.
                "vocabulary": None,
                "sequence_length": self.sequence_length,
                "lowercase": self.lowercase,
                "strip_accents": self.strip_accents,
                "split": self.split,
                "split_on_cjk": self.split_on_cjk,
                "suffix_indicator": self.suffix_indicator,
                "oov_token": self.oov_token,
                "special_tokens": self._init_special_tokens,
                "special_tokens_in_strings": self.special_tokens_in_strings,
            }
        )
        return config


# Eager batches are split in shards of at least this many strings, one
# shard a core, and tokenized concurrently.
_MIN_SHARD_SIZE = 64
_POOL = None


def _num_threads():
    return max(1, min(os.cpu_count() or 1, 16))


def _thread_pool():
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(
            max_workers=_num_threads(), thread_name_prefix="word_piece"
        )
    return _POOL


def _shard_batch(inputs):
    if isinstance(inputs, tf.RaggedTensor) or inputs.shape.rank != 1:
        return [inputs]
    n = int(inputs.shape[0])
    num_shards = min(_num_threads(), n // _MIN_SHARD_SIZE)
    if num_shards <= 1:
        return [inputs]
    bounds = [(n * i) // num_shards for i in range(num_shards + 1)]
    return [inputs[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _run_and_convert(fn, inputs, convert):
    outputs = fn(inputs)
    if not convert:
        return outputs
    if isinstance(outputs, tf.RaggedTensor):
        return ragged_to_list(outputs)
    return convert_preprocessing_outputs(outputs)


def _to_string_tensor(inputs, method):
    """Converts `tokenize` inputs to a string `tf.Tensor`/`tf.RaggedTensor`."""
    if isinstance(inputs, (tf.Tensor, tf.RaggedTensor)):
        tensor = inputs
    elif isinstance(inputs, (str, bytes)):
        tensor = tf.constant(inputs)
    elif isinstance(inputs, (list, tuple)):
        if len(inputs) == 0:
            return tf.constant([], dtype=tf.string)
        if all(isinstance(x, (str, bytes)) for x in inputs):
            tensor = tf.constant(list(inputs))
        elif all(isinstance(x, (list, tuple)) for x in inputs):
            try:
                tensor = tf.ragged.constant(inputs, dtype=tf.string)
            except (TypeError, ValueError) as e:
                raise ValueError(
                    f"`{method}()` expects strings. Received a nested list "
                    f"that is not all strings ({e})."
                ) from None
        else:
            bad = next(x for x in inputs if not isinstance(x, (str, bytes)))
            raise ValueError(
                f"`{method}()` expects a string or a list of strings. "
                f"Received a list containing {bad!r} "
                f"({type(bad).__name__})."
            )
    elif isinstance(inputs, np.ndarray) and inputs.dtype.kind in "USO":
        if inputs.dtype.kind == "U":
            inputs = inputs.astype(object)
        tensor = tf.constant(inputs)
    else:
        raise ValueError(
            f"`{method}()` expects a string, a list of strings or a string "
            f"tensor. Received: {type(inputs).__name__}. To map ids back to "
            "text, use `detokenize()`."
        )
    if tensor.dtype != tf.string:
        raise ValueError(
            f"`{method}()` expects string inputs. Received a tensor of dtype "
            f"{tensor.dtype.name}. To map ids back to text, use "
            "`detokenize()`."
        )
    return tensor


def _to_id_tensor(inputs):
    """Converts `detokenize` inputs to an int (or string) TF tensor."""
    if isinstance(inputs, (tf.Tensor, tf.RaggedTensor)):
        tensor = inputs
    elif isinstance(inputs, (list, tuple)):
        if len(inputs) == 0:
            # The tokenization of "": no ids.
            return tf.zeros([0], dtype=tf.int32)
        if all(isinstance(x, (list, tuple, np.ndarray)) for x in inputs):
            tensor = ragged_constant([list(x) for x in inputs])
        else:
            tensor = tf.constant(inputs)
    elif isinstance(inputs, (int, np.integer, str)):
        raise ValueError(
            "`detokenize()` expects a sequence of ids (a list or a tensor), "
            f"not a single value. Received: {inputs!r}. Use `id_to_token()` "
            "for one id."
        )
    else:
        if not isinstance(inputs, np.ndarray):
            inputs = keras.ops.convert_to_numpy(inputs)
        tensor = tf.constant(inputs)
    if tensor.dtype != tf.string and not tensor.dtype.is_integer:
        raise ValueError(
            "`detokenize()` expects integer token ids. Received dtype "
            f"{tensor.dtype.name}."
        )
    if tensor.shape.rank == 0:
        raise ValueError(
            "`detokenize()` expects a sequence of ids, not a scalar. Use "
            "`id_to_token()` for one id."
        )
    return tensor


def _check_ids_eagerly(inputs, vocabulary_size):
    if inputs.dtype == tf.string:
        return
    flat = inputs.flat_values if isinstance(inputs, tf.RaggedTensor) else inputs
    values = flat.numpy()
    if values.size == 0:
        return
    low, high = values.min(), values.max()
    if low < 0 or high >= vocabulary_size:
        bad = low if low < 0 else high
        raise ValueError(
            f"`detokenize()` received token id {int(bad)}, outside the "
            f"vocabulary range [0, {vocabulary_size - 1}]."
        )
