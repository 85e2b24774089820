"""A byte-level byte-pair encoding (BPE) tokenizer: GPT-2, RoBERTa, BART.

The tokenizer follows OpenAI's GPT-2 encoder: text is pre-split into words by
GPT-2's regular expression, each word's UTF-8 bytes are mapped to printable
characters by GPT-2's byte-to-unicode table, and merges are applied by rank.
The core runs in Python (`_byte_pair_core`: GPT-2's split pattern, merges on
integer ids, a bounded word cache shared by tokenizers with the same files);
inside `tf.data.Dataset.map` or a `tf.function` it runs through
`tf.py_function`.
"""

import hashlib
import itertools
import json
import os

import keras
import numpy as np
import regex

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.tokenizers import _byte_pair_core as core
from keras_nlp_clone.tokenizers._byte_pair_core import (  # noqa: F401
    GPT2_SPLIT_PATTERN,
)
from keras_nlp_clone.tokenizers.tokenizer import (
    Tokenizer,
    check_output_dtype,
    check_sequence_length,
)
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import (
    convert_preprocessing_outputs,
    in_no_convert_scope,
    in_tf_graph,
    is_string_dtype,
)

VOCAB_FILENAME = "vocabulary.json"
MERGES_FILENAME = "merges.txt"

_SURROGATE_REGEX = regex.compile("[\ud800-\udfff]")

_chain = itertools.chain.from_iterable


def bytes_to_unicode():
    """GPT-2's reversible map from the 256 byte values to printable chars.

    Printable Latin-1 bytes (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) map to themselves;
    the other 68 bytes (controls, space, ...) map to `chr(256 + k)` in byte
    order, so that no token contains whitespace or control characters
    (e.g. the space byte becomes `"Ġ"`).

    Returns:
        A dict from int (0-255) to a one-character str.
    """
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    mapping = {b: chr(b) for b in printable}
    shift = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shift)
            shift += 1
    return mapping


BYTE_TO_UNICODE = bytes_to_unicode()
UNICODE_TO_BYTE = {c: b for b, c in BYTE_TO_UNICODE.items()}
# `str.translate` table from Latin-1 characters (one per byte) to the
# byte-level characters: `word.encode().decode("latin-1").translate(...)`.
_LATIN1_TO_BYTE_LEVEL = {b: c for b, c in BYTE_TO_UNICODE.items()}


def _read_bytes(path, what):
    if not isinstance(path, str) or not os.path.isfile(path):
        raise FileNotFoundError(
            f"{what} file not found: {path!r}. Pass an in-memory value or "
            "the path of an existing file."
        )
    with open(path, "rb") as f:
        return f.read()


def _read_text(path, what, data=None):
    """The UTF-8 text of a file (`data`: its bytes, if already read)."""
    if data is None:
        data = _read_bytes(path, what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ValueError(
            f"{what} file {path!r} is not UTF-8 text: line {line} holds the "
            f"byte {data[e.start:e.start + 1]!r}. The file is damaged or is "
            "of another kind."
        ) from None
    # As text-mode `open` did: "\r\n" and "\r" end lines too.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _refuse_duplicate_keys(path):
    """A JSON `object_pairs_hook` that refuses a key given twice (plain
    `json.loads` keeps the last one silently)."""

    def hook(pairs):
        result = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(
                    f"vocabulary file {path!r} lists the token {key!r} twice "
                    f"(ids {result[key]!r} and {value!r}). Each token must "
                    "appear once: remove the duplicate."
                )
            result[key] = value
        return result

    return hook


def load_vocabulary(vocabulary, data=None):
    """Validates a BPE vocabulary: a dict, or the path of a JSON file.

    Args:
        vocabulary: dict of str token -> int id, or str, the path of a JSON
            object such as GPT-2's `encoder.json` or a Hugging Face
            `vocab.json`.
        data: bytes, the file's content if already read. Defaults to
            `None`.

    Returns:
        A new dict of str -> int.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the file is not a JSON object, or a token is not a
            non-empty str, or an id is not a non-negative int, or two tokens
            share an id.
    """
    source = "`vocabulary`"
    if isinstance(vocabulary, str):
        path = vocabulary
        source = f"vocabulary file {path!r}"
        try:
            vocabulary = json.loads(
                _read_text(path, "Vocabulary", data),
                object_pairs_hook=_refuse_duplicate_keys(path),
            )
        except json.JSONDecodeError as e:
            raise ValueError(
                f"The {source} is not valid JSON ({e}). Expected a JSON "
                'object mapping tokens to ids, like GPT-2\'s "encoder.json".'
            ) from None
    if not isinstance(vocabulary, dict):
        raise ValueError(
            f"{source} must be a dict mapping token strings to int ids, or "
            "the path of a JSON file holding one. Received: "
            f"{type(vocabulary).__name__}"
        )
    if not vocabulary:
        raise ValueError(f"{source} is empty: pass at least one token.")
    # Fast path (C-level checks); the loop below finds what is wrong.
    ids = list(vocabulary.values())
    if (
        set(map(type, vocabulary)) == {str}
        and set(map(type, ids)) == {int}
        and "" not in vocabulary
        and min(ids) >= 0
        and len(set(ids)) == len(ids)
    ):
        return dict(vocabulary)
    result = {}
    seen_ids = {}
    for token, token_id in vocabulary.items():
        if not isinstance(token, str) or not token:
            raise ValueError(
                f"{source} must have non-empty str tokens as keys. Received "
                f"the key {token!r}."
            )
        if isinstance(token_id, bool) or not isinstance(
            token_id, (int, np.integer)
        ):
            raise ValueError(
                f"{source} must map tokens to int ids. Received "
                f"{token!r}: {token_id!r} ({type(token_id).__name__})."
            )
        token_id = int(token_id)
        if token_id < 0:
            raise ValueError(
                f"{source} ids must be >= 0. Received {token!r}: {token_id}."
            )
        if token_id in seen_ids:
            raise ValueError(
                f"{source} maps both {seen_ids[token_id]!r} and {token!r} to "
                f"id {token_id}. Token ids must be unique."
            )
        seen_ids[token_id] = token
        result[token] = token_id
    return result


def load_merges(merges):
    """Validates BPE merge rules: a list, or the path of a merges file.

    A merges file (GPT-2's `vocab.bpe`, a Hugging Face `merges.txt`) holds
    one rule `"a b"` a line; a first line starting with `#version` and blank
    lines are skipped. In-memory rules are `"a b"` strings or `(a, b)` pairs.

    Args:
        merges: list of str or of pairs of str, or str, a file path.

    Returns:
        A list of `(a, b)` tuples, in rank order (first = merged first).

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: a rule is not two non-empty pieces separated by one
            space.
    """
    return _parse_merges(merges)


def _parse_merges(merges, data=None):
    """`load_merges` (`data`: the file's bytes, if already read); a fast
    path, with `_located_merges` to say where a bad rule is."""
    if isinstance(merges, str):
        lines = _read_text(merges, "Merges", data).split("\n")
        if lines[0].startswith("#version"):
            lines = lines[1:]
        lines = [line for line in lines if line.strip()]
        rules = [tuple(line.split(" ")) for line in lines]
        if all(len(r) == 2 and r[0] and r[1] for r in rules):
            return rules
    return [rule for _, rule in _located_merges(merges, data)]


def _located_merges(merges, data=None):
    """`load_merges`, each rule with where it came from: `(where, (a, b))`,
    `where` naming the file and line (or the list index)."""
    if isinstance(merges, str):
        path = merges
        lines = _read_text(path, "Merges", data).split("\n")
        entries = [
            (f"line {i + 1} of {path!r}", line.rstrip("\r"))
            for i, line in enumerate(lines)
        ]
    elif isinstance(merges, (list, tuple)):
        entries = [(f"`merges[{i}]`", m) for i, m in enumerate(merges)]
    else:
        raise ValueError(
            "`merges` must be a list of merge rules (strings `\"a b\"`) or "
            "the path of a merges file. Received: "
            f"{type(merges).__name__}"
        )
    rules = []
    for index, (where, entry) in enumerate(entries):
        if isinstance(entry, str):
            if index == 0 and entry.startswith("#version"):
                continue
            if not entry.strip():
                continue
            pieces = entry.split(" ")
        elif isinstance(entry, (list, tuple)):
            pieces = list(entry)
        else:
            raise ValueError(
                f"{where} must be a str `\"a b\"` or a pair of str. "
                f"Received: {entry!r} ({type(entry).__name__})"
            )
        if len(pieces) != 2 or not all(
            isinstance(p, str) and p for p in pieces
        ):
            raise ValueError(
                f"Malformed merge rule at {where}: {entry!r}. Each rule must "
                'be two non-empty tokens separated by one space, e.g. "Ġ t".'
            )
        rules.append((where, (pieces[0], pieces[1])))
    return rules


class _SharedVocabulary:
    """A validated vocabulary and merges, their merge table on integer ids
    and the word caches built on them.

    One object is shared by every tokenizer built from the same content
    (`_byte_pair_core.shared`, keyed by the files' bytes or by the values),
    so a new tokenizer for files already loaded skips reading them and
    starts with a warm word cache. Nothing in it changes once built except
    the caches, which hold pure functions of the vocabulary and merges.
    """

    def __init__(self, vocabulary, merges):
        self.vocabulary = vocabulary
        self.merges = merges
        self.table = core.MergeTable(
            vocabulary, merges, [BYTE_TO_UNICODE[b] for b in range(256)]
        )
        self.id_to_token = {i: t for t, i in vocabulary.items()}
        self._id_to_bytes = None
        self._caches = {}
        self._byte_id = self.table.byte_ids.__getitem__
        self._table_get = self.table.table.get
        self._id_to_str = self.id_to_token.__getitem__

    def cache(self, output_string):
        """The word cache for ids (`output_string=False`) or token strings."""
        cache = self._caches.get(output_string)
        if cache is None:
            cache = core.WordCache(
                self._encode_ids if not output_string else self._encode_strings
            )
            cache = self._caches.setdefault(output_string, cache)
        return cache

    def _encode_ids(self, word):
        """The tuple of ids of one word (a cache miss)."""
        try:
            raw = word.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise ValueError(
                f"Cannot tokenize {word!r}: it contains a surrogate code "
                "point, which is not valid Unicode text. Remove it or "
                "replace it (e.g. `s.encode('utf-8', 'replace').decode()`)."
            ) from None
        table = self.table
        ids = list(map(self._byte_id, raw))
        if len(ids) <= core.SHORT_WORD:
            ids = core.merge_short(ids, self._table_get, table.no_rank)
        else:
            ids = core.merge_long(ids, self._table_get, table.no_rank)
        if ids and max(ids) >= table.limit:
            piece = next(
                table.extra[i - table.limit] for i in ids if i >= table.limit
            )
            raise ValueError(
                f"Cannot tokenize {word!r}: its byte-pair piece "
                f"{piece!r} is not in the vocabulary. A byte-level "
                "vocabulary must hold the 256 byte symbols and the result "
                "of every merge."
            )
        return tuple(ids)

    def _encode_strings(self, word):
        return tuple(map(self._id_to_str, self._encode_ids(word)))

    @property
    def id_to_bytes(self):
        """A list: id -> the bytes of its token (`None` for unused ids);
        built on first use (only `detokenize` needs it)."""
        if self._id_to_bytes is None:
            id_to_bytes = [None] * (max(self.id_to_token) + 1)
            for token_id, token in self.id_to_token.items():
                id_to_bytes[token_id] = _token_to_bytes(token)
            self._id_to_bytes = id_to_bytes
        return self._id_to_bytes


class _BytePairState:
    """What a tokenizer tokenizes with: a `_SharedVocabulary` and its own
    unsplittable tokens, swapped as a whole.

    A plain object (not tracked by Keras, which would copy big lists and
    dicts into tracked containers).
    """

    def __init__(self, shared, unsplittable_tokens, output_string):
        self.shared = shared
        self.vocabulary = shared.vocabulary
        self.merges = shared.merges
        self.id_to_token = shared.id_to_token
        self.output_string = output_string
        self.cache = shared.cache(output_string)
        self.unsplittable = {
            token: (token if output_string else shared.vocabulary[token])
            for token in unsplittable_tokens
        }
        if unsplittable_tokens:
            longest_first = sorted(unsplittable_tokens, key=len, reverse=True)
            self.unsplittable_regex = regex.compile(
                "|".join(regex.escape(t) for t in longest_first)
            )
        else:
            self.unsplittable_regex = None

    @property
    def id_to_bytes(self):
        return self.shared.id_to_bytes


def _token_to_bytes(token):
    """The bytes a vocabulary token stands for.

    Byte-level tokens map back through the byte-to-unicode table; a token
    with characters outside it (e.g. an added special token such as
    `"<s> x"` or `"中"`) stands for its own UTF-8 encoding.
    """
    try:
        return bytes(UNICODE_TO_BYTE[c] for c in token)
    except KeyError:
        return token.encode("utf-8", "surrogatepass")


def _load_shared(vocabulary, merges, in_source):
    """The `_SharedVocabulary` for `vocabulary` and `merges` (values or
    file paths): the one already built from the same content, or a new one.

    Files are keyed by the SHA-256 of their bytes (so a known pair is not
    parsed again), values by their content.
    """
    if isinstance(vocabulary, str) and isinstance(merges, str):
        vocabulary_data = _read_bytes(vocabulary, "Vocabulary")
        merges_data = _read_bytes(merges, "Merges")
        key = (
            "files",
            hashlib.sha256(vocabulary_data).digest(),
            hashlib.sha256(merges_data).digest(),
        )
        return core.shared(
            key,
            lambda: _build_shared(
                load_vocabulary(vocabulary, vocabulary_data),
                merges,
                merges_data,
                in_source,
            ),
        )
    vocabulary = load_vocabulary(vocabulary)
    rules = _parse_merges(merges)
    key = ("values", tuple(vocabulary.items()), tuple(rules))
    return core.shared(
        key, lambda: _build_shared(vocabulary, merges, None, in_source, rules)
    )


def _build_shared(vocabulary, merges, data, in_source, rules=None):
    """Parses `merges`, checks its pieces are in `vocabulary` (an error
    names the rule's file and line, or list index) and builds the
    `_SharedVocabulary`."""
    if rules is None:
        rules = _parse_merges(merges, data)
    if not set(_chain(rules)) <= vocabulary.keys():
        for where, (a, b) in _located_merges(merges, data):
            for piece in (a, b):
                if piece not in vocabulary:
                    raise ValueError(
                        f"Merge rule at {where} ({a + ' ' + b!r}) uses the "
                        f"token {piece!r}, which is not in the vocabulary"
                        f"{in_source}. Pass the vocabulary and merges of the "
                        "same model."
                    )
    return _SharedVocabulary(vocabulary, rules)


def _dtype_name(dtype):
    return str(getattr(dtype, "name", dtype))


@keras_nlp_clone_export
class BytePairTokenizer(Tokenizer):
    """A byte-level byte-pair encoding tokenizer, as in GPT-2 and RoBERTa.

    Given GPT-2's `vocabulary` and `merges` (or those of RoBERTa, BART, ...),
    the ids are exactly those of OpenAI's GPT-2 encoder, `tiktoken`'s `gpt2`
    encoding and Hugging Face's `GPT2TokenizerFast` (tested on real IMDB
    reviews, Rotten Tomatoes sentences and news articles). Text is split into
    words by GPT-2's regular expression
    (`'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+`),
    the UTF-8 bytes of each word are mapped to printable characters by
    GPT-2's byte-to-unicode table (a space becomes `"Ġ"`), and merges are
    applied lowest rank first. Since every byte has a symbol, any text can be
    tokenized and `detokenize(tokenize(x)) == x` for every valid Unicode
    string, given a vocabulary holding the 256 byte symbols.

    `unsplittable_tokens` (and the special tokens a family subclass declares,
    e.g. GPT-2's `"<|endoftext|>"`) are matched in the raw text first, the
    longest first, and each becomes its own id; the text between them is
    tokenized as above.

    The layer takes a str, a list of str, a NumPy string array or a string
    `tf.Tensor` / `tf.RaggedTensor` (rank 0, 1 or 2). Eagerly, outputs are
    Python lists of ids for ragged results (`[ids]` for one string, a list
    of lists for a batch) and backend tensors of shape `(sequence_length,)` /
    `(batch, sequence_length)` when `sequence_length` is set (padded with 0,
    truncated). In a `tf.function` or `tf.data.Dataset.map` it returns a
    `tf.RaggedTensor` or a dense `tf.Tensor`.

    The tokenizer itself runs in Python: words are split by the standard
    `re` module on ASCII text and by the `regex` package otherwise, merges
    run on integer ids, and a cache of up to 100,000 words makes a repeated
    word cost one dictionary lookup. The parsed vocabulary and merges and
    the word cache are shared by every tokenizer built from the same
    content (files with the same bytes, or equal values; the 4 most
    recently used are kept), so a second tokenizer for the same files
    neither parses them again nor starts cold. In a graph
    (`tf.data.Dataset.map`, `tf.function`) it is wrapped in `tf.py_function`:
    this works in `tf.data` pipelines, but such a graph runs Python, so it
    cannot be exported into a SavedModel, served without Python, or run on
    TPU.

    Inputs of type `bytes` (and string tensors) that are not valid UTF-8 are
    tokenized byte by byte, exactly; `str` inputs containing surrogate code
    points (not valid Unicode text, not encodable as UTF-8) raise a
    `ValueError`. `detokenize` decodes the bytes with `errors="replace"`.

    Args:
        vocabulary: dict or str. The token -> id mapping, or the path of a
            JSON file holding it (GPT-2's `encoder.json`, a Hugging Face
            `vocab.json`). If `None`, set it later with `load_assets` or
            `set_vocabulary_and_merges` (preset loading does this).
            Defaults to `None`.
        merges: list of str or str. The merge rules, `"a b"` each, by rank
            (first merged first), or the path of a merges file (GPT-2's
            `vocab.bpe`, a Hugging Face `merges.txt`; a first `#version`
            line and blank lines are skipped). Both pieces of a rule must be
            in the vocabulary. Defaults to `None`.
        sequence_length: int. If set, outputs are padded with 0 and truncated
            to this length, and are dense. Defaults to `None`.
        add_prefix_space: bool. Whether to prepend a space to every input
            string, so that its first word is tokenized like the words after
            a space (as KerasNLP and Hugging Face's slow `GPT2Tokenizer` do:
            always, even before a leading space or an unsplittable token).
            Defaults to `False`.
        unsplittable_tokens: list of str. Strings never split, each mapped
            to its own id (they must be in the vocabulary). Special tokens
            declared by a subclass are added automatically. Defaults to
            `None`.
        dtype: str. The output dtype: an integer dtype for ids, or
            `"string"` for the byte-level token strings (e.g. `"Ġthe"`).
            Defaults to `"int32"`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        inputs: a str, a list of str, a NumPy string array, or a string
            `tf.Tensor` / `tf.RaggedTensor` of rank 0, 1 or 2.

    Returns:
        Token ids (or token strings): `[num_tokens]` for one string,
        `[batch, num_tokens]` (ragged) for a batch, or
        `[..., sequence_length]` when `sequence_length` is set.

    Raises:
        ValueError: for an invalid vocabulary, merges, dtype or
            `sequence_length`, a special or unsplittable token missing from
            the vocabulary, non-string inputs, or a `str` with surrogates.
        FileNotFoundError: when a vocabulary or merges path does not exist.

    Examples:

    A tiny vocabulary (real ones hold the 256 byte symbols and all merges).
    >>> vocab = {"b": 0, "u": 1, "t": 2, "e": 3, "r": 4, "bu": 5, "tt": 6,
    ...          "butt": 7, "er": 8, "butter": 9, "Ġ": 10}
    >>> merges = ["b u", "t t", "e r", "bu tt", "butt er"]
    >>> tokenizer = keras_nlp_clone.tokenizers.BytePairTokenizer(
    ...     vocabulary=vocab, merges=merges)
    >>> tokenizer("butter")
    [9]
    >>> tokenizer(["butter butt", "tube"])
    [[9, 10, 7], [2, 1, 0, 3]]
    >>> tokenizer.detokenize([9, 10, 7])
    'butter butt'

    Dense outputs.
    >>> tokenizer = keras_nlp_clone.tokenizers.BytePairTokenizer(
    ...     vocabulary=vocab, merges=merges, sequence_length=4)
    >>> tokenizer(["butter", "tube"])  # a backend tensor
    [[9, 0, 0, 0], [2, 1, 0, 3]]

    GPT-2's files, mapped over a `tf.data.Dataset`.
    >>> tokenizer = keras_nlp_clone.tokenizers.BytePairTokenizer(
    ...     vocabulary="encoder.json", merges="vocab.bpe",
    ...     unsplittable_tokens=["<|endoftext|>"])
    >>> tokenizer("Hello world!<|endoftext|>")
    [15496, 995, 0, 50256]
    >>> ds = tf.data.Dataset.from_tensor_slices(["a b", "c"]).map(tokenizer)

    References:
        - [Sennrich et al., 2016](https://arxiv.org/abs/1508.07909)
        - [Radford et al., 2019](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf)
        - [openai/gpt-2 `src/encoder.py`](https://github.com/openai/gpt-2/blob/master/src/encoder.py)
    """

    def __init__(
        self,
        vocabulary=None,
        merges=None,
        sequence_length=None,
        add_prefix_space=False,
        unsplittable_tokens=None,
        dtype="int32",
        **kwargs,
    ):
        check_output_dtype(dtype, owner=self.__class__.__name__)
        super().__init__(dtype=dtype, **kwargs)
        check_sequence_length(sequence_length)
        argument_checks.check_bool(
            self.__class__.__name__, "add_prefix_space", add_prefix_space
        )
        if unsplittable_tokens is not None:
            if isinstance(unsplittable_tokens, str) or not all(
                isinstance(t, str) and t for t in unsplittable_tokens
            ):
                raise ValueError(
                    "`unsplittable_tokens` must be a list of non-empty "
                    f"strings. Received: {unsplittable_tokens!r}"
                )
            unsplittable_tokens = list(unsplittable_tokens)
        self.sequence_length = (
            None if sequence_length is None else int(sequence_length)
        )
        self.add_prefix_space = bool(add_prefix_space)
        self.unsplittable_tokens = unsplittable_tokens
        self._output_string = is_string_dtype(_dtype_name(dtype))
        self.file_assets = [VOCAB_FILENAME, MERGES_FILENAME]
        self.set_vocabulary_and_merges(vocabulary, merges)

    # === Vocabulary ===

    def set_vocabulary_and_merges(self, vocabulary, merges):
        """Sets the vocabulary and merges, from values or file paths.

        Args:
            vocabulary: dict of token -> id, or a JSON file path, or `None`.
            merges: list of `"a b"` rules, or a merges file path, or `None`.
                Pass both, or both `None` to unset them.

        Raises:
            ValueError: see the class docstring; also when only one of the
                two is `None`.
        """
        if vocabulary is None and merges is None:
            self._state = None
            return
        if vocabulary is None or merges is None:
            missing = "vocabulary" if vocabulary is None else "merges"
            raise ValueError(
                f"`{missing}` is `None` but "
                f"`{'merges' if missing == 'vocabulary' else 'vocabulary'}` "
                "is set. A byte-pair tokenizer needs both: pass "
                "`vocabulary=` and `merges=` (values or file paths)."
            )
        in_source = (
            f" (vocabulary file {vocabulary!r})"
            if isinstance(vocabulary, str)
            else ""
        )
        shared = _load_shared(vocabulary, merges, in_source)
        vocabulary = shared.vocabulary
        for name in self._special_token_names:
            token = getattr(self, name)
            if token is not None and token not in vocabulary:
                raise ValueError(
                    f"Special token `{name}`={token!r} is not in the "
                    f"vocabulary of {self.__class__.__name__}{in_source}. "
                    "Pass a vocabulary that contains it."
                )
        unsplittable = []
        for token in list(self.unsplittable_tokens or []) + [
            t for t in self.special_tokens if t is not None
        ]:
            if token not in vocabulary:
                raise ValueError(
                    f"Unsplittable token {token!r} (from "
                    f"`unsplittable_tokens`) is not in the vocabulary"
                    f"{in_source}. Add "
                    "it to the vocabulary or remove it from "
                    "`unsplittable_tokens`."
                )
            if token not in unsplittable:
                unsplittable.append(token)
        self._state = _BytePairState(
            shared, unsplittable, self._output_string
        )
        self._update_special_token_ids()

    def _check_vocabulary(self):
        if getattr(self, "_state", None) is None:
            raise ValueError(
                f"No vocabulary has been set for {self.__class__.__name__}. "
                "Pass `vocabulary=` and `merges=` to the constructor, or "
                "call `load_assets(dir)` / `set_vocabulary_and_merges()` "
                "first."
            )
        return self._state

    @property
    def vocabulary(self):
        """The vocabulary as a dict of token -> id, or `None` if not set."""
        state = getattr(self, "_state", None)
        return None if state is None else dict(state.vocabulary)

    @property
    def merges(self):
        """The merge rules as a list of `"a b"` str, or `None` if not set."""
        state = getattr(self, "_state", None)
        if state is None:
            return None
        return [f"{a} {b}" for a, b in state.merges]

    def get_vocabulary(self):
        """Returns the vocabulary as a list of token strings, by id."""
        state = self._check_vocabulary()
        return [state.id_to_token[i] for i in sorted(state.id_to_token)]

    def vocabulary_size(self):
        """Returns the number of tokens in the vocabulary."""
        return len(self._check_vocabulary().vocabulary)

    def id_to_token(self, id):
        """Returns the token string of integer `id`.

        Raises:
            ValueError: when `id` is not an int or no token has that id.
        """
        state = self._check_vocabulary()
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)):
            raise ValueError(
                f"`id` must be an int. Received: id={id!r} "
                f"({type(id).__name__})"
            )
        token = state.id_to_token.get(int(id))
        if token is None:
            raise ValueError(
                f"`id` {int(id)} is not in the vocabulary (ids range over "
                f"[0, {max(state.id_to_token)}], "
                f"{len(state.vocabulary)} tokens)."
            )
        return token

    def token_to_id(self, token):
        """Returns the integer id of the string `token`.

        Raises:
            ValueError: when `token` is not a str in the vocabulary.
        """
        state = self._check_vocabulary()
        if not isinstance(token, str):
            raise ValueError(
                f"`token` must be a str. Received: {token!r} "
                f"({type(token).__name__})"
            )
        token_id = state.vocabulary.get(token)
        if token_id is None:
            raise ValueError(
                f"Token {token!r} is not in the vocabulary. Use "
                "`tokenize()` to split text into vocabulary tokens."
            )
        return token_id

    # === Tokenization core (Python) ===

    def _encode_text(self, state, text):
        """Tokenizes one str into a list of ids (or token strings)."""
        if self.add_prefix_space:
            text = " " + text
        encode = state.cache.__getitem__
        if state.unsplittable_regex is None:
            return list(_chain(map(encode, core.split_words(text))))
        output = []
        start = 0
        for match in state.unsplittable_regex.finditer(text):
            if match.start() > start:
                chunk = text[start : match.start()]
                output.extend(_chain(map(encode, core.split_words(chunk))))
            output.append(state.unsplittable[match.group()])
            start = match.end()
        if start < len(text):
            chunk = text[start:]
            output.extend(_chain(map(encode, core.split_words(chunk))))
        return output

    def _tokenize_python(self, texts):
        """Tokenizes a list of str/bytes into a list of lists."""
        state = self._check_vocabulary()
        rows = []
        for text in texts:
            if isinstance(text, bytes):
                text = text.decode("utf-8", "surrogateescape")
            elif not text.isascii() and _SURROGATE_REGEX.search(text):
                bad = _SURROGATE_REGEX.search(text).group()
                raise ValueError(
                    "Cannot tokenize a str containing the surrogate code "
                    f"point U+{ord(bad):04X}: it is not valid Unicode text. "
                    "Remove it, or pass the text's bytes (invalid UTF-8 is "
                    "tokenized byte by byte)."
                )
            rows.append(self._encode_text(state, text))
        return rows

    # === Tokenization: inputs and outputs ===

    def _out_np_dtype(self):
        return object if self._output_string else np.dtype(self.compute_dtype)

    def _out_tf_dtype(self):
        return tf.string if self._output_string else tf.as_dtype(
            self.compute_dtype
        )

    def _flat_arrays(self, rows):
        """`rows` as flat values and int64 row splits (NumPy arrays)."""
        lengths = [len(r) for r in rows]
        splits = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=splits[1:])
        flat = [t for r in rows for t in r]
        if self._output_string:
            values = np.array([t.encode("utf-8") for t in flat], dtype=object)
        else:
            values = np.array(flat, dtype=self._out_np_dtype())
        return values, splits

    def _tokenize_flat_tf(self, strings):
        """Tokenizes a rank 1 string tensor -> `(values, row_splits)`."""
        out_dtype = self._out_tf_dtype()

        def run(x):
            values, splits = self._flat_arrays(
                self._tokenize_python(x.numpy().tolist())
            )
            if self._output_string and values.size == 0:
                values = np.zeros([0], dtype=object)
            return values, splits

        if tf.executing_eagerly():
            values, splits = run(strings)
            return tf.constant(values, dtype=out_dtype), tf.constant(splits)
        values, splits = tf.py_function(
            run, [strings], Tout=[out_dtype, tf.int64]
        )
        values.set_shape([None])
        n = strings.shape[0]
        splits.set_shape([None if n is None else n + 1])
        return values, splits

    def _tokenize_tf(self, inputs):
        """Tokenizes a string `tf.Tensor`/`tf.RaggedTensor` with TF ops
        around the Python core (graph or eager)."""
        scalar = inputs.shape.rank == 0
        if scalar:
            inputs = tf.expand_dims(inputs, 0)
        if isinstance(inputs, tf.RaggedTensor):
            outer = inputs
        elif inputs.shape.rank == 1:
            outer = None
        else:
            outer = tf.RaggedTensor.from_tensor(inputs)
        flat = inputs if outer is None else outer.flat_values
        values, splits = self._tokenize_flat_tf(flat)
        tokens = tf.RaggedTensor.from_row_splits(values, splits, validate=False)
        if outer is not None:
            tokens = outer.with_flat_values(tokens)
        if self.sequence_length is not None:
            shape = [None] * (tokens.shape.rank - 1) + [self.sequence_length]
            tokens = tokens.to_tensor(shape=shape)
            if outer is None and inputs.shape[0] is not None:
                tokens.set_shape([inputs.shape[0], self.sequence_length])
        if scalar:
            tokens = tokens[0]
        return tokens

    def _format_eager(self, rows, scalar):
        """Eager outputs for a rank 0 or 1 input, from Python rows."""
        length = self.sequence_length
        convert = not in_no_convert_scope()
        if length is None:
            if convert:
                return rows[0] if scalar else rows
            values, splits = self._flat_arrays(rows)
            values = tf.constant(values, dtype=self._out_tf_dtype())
            if scalar:
                return values
            return tf.RaggedTensor.from_row_splits(
                values, tf.constant(splits), validate=False
            )
        if self._output_string:
            dense = [r[:length] + [""] * (length - len(r[:length])) for r in rows]
            if convert:
                return dense[0] if scalar else dense
            dense = tf.constant(dense, dtype=tf.string, shape=[len(rows), length])
            return dense[0] if scalar else dense
        dense = np.zeros((len(rows), length), dtype=self._out_np_dtype())
        for i, row in enumerate(rows):
            row = row[:length]
            dense[i, : len(row)] = row
        if scalar:
            dense = dense[0]
        if convert:
            return keras.ops.convert_to_tensor(dense)
        return tf.constant(dense)

    def tokenize(self, inputs):
        """Maps strings to token ids (or token strings with `dtype="string"`).

        Args:
            inputs: a str, a list of str, a NumPy string array, or a string
                `tf.Tensor` / `tf.RaggedTensor` (rank 0, 1 or 2).

        Returns:
            Eagerly: a list of ids for one string, a list of lists for a
            batch, or a backend tensor `(batch, sequence_length)` /
            `(sequence_length,)` when `sequence_length` is set. In a
            `tf.function`: a `tf.Tensor` or `tf.RaggedTensor`.
        """
        self._check_vocabulary()
        if in_tf_graph():
            return self._tokenize_tf(_to_string_tensor(inputs))
        texts = _as_python_strings(inputs)
        if texts is not None:
            strings, scalar = texts
            return self._format_eager(self._tokenize_python(strings), scalar)
        outputs = self._tokenize_tf(_to_string_tensor(inputs))
        if in_no_convert_scope():
            return outputs
        return convert_preprocessing_outputs(outputs)

    # === Detokenization ===

    def _decode_rows(self, rows):
        """Maps a list of id (or token string) lists to a list of str."""
        state = self._check_vocabulary()
        id_to_bytes = state.id_to_bytes
        size = len(id_to_bytes)
        outputs = []
        for row in rows:
            if row and isinstance(row[0], (str, bytes)):
                parts = []
                for token in row:
                    if isinstance(token, bytes):
                        token = token.decode("utf-8", "surrogateescape")
                    parts.append(_token_to_bytes(token))
            else:
                try:
                    parts = [id_to_bytes[i] for i in row]
                    if None in parts:
                        raise IndexError
                    if row and min(row) < 0:
                        raise IndexError
                except (IndexError, TypeError):
                    bad = next(
                        i
                        for i in row
                        if not isinstance(i, (int, np.integer))
                        or isinstance(i, bool)
                        or not 0 <= i < size
                        or id_to_bytes[i] is None
                    )
                    raise ValueError(
                        f"`detokenize()` received the token id {bad!r}, "
                        f"which is not in the vocabulary (ids range over "
                        f"[0, {size - 1}])."
                    ) from None
            outputs.append(b"".join(parts).decode("utf-8", "replace"))
        return outputs

    def _detokenize_tf(self, inputs):
        scalar = inputs.shape.rank == 1
        if scalar:
            inputs = tf.expand_dims(inputs, 0)
        if isinstance(inputs, tf.Tensor):
            inputs = tf.RaggedTensor.from_tensor(inputs)
        if inputs.ragged_rank > 1 or inputs.flat_values.shape.rank != 1:
            raise ValueError(
                "`detokenize()` expects ids of rank 1 or 2. Received rank "
                f"{inputs.shape.rank}."
            )

        def run(values, splits):
            values = values.numpy().tolist()
            splits = splits.numpy().tolist()
            rows = [values[a:b] for a, b in itertools.pairwise(splits)]
            decoded = self._decode_rows(rows)
            return np.array([s.encode("utf-8") for s in decoded], dtype=object)

        values = inputs.flat_values
        if values.dtype != tf.string:
            values = tf.cast(values, tf.int64)
        outputs = tf.py_function(
            run, [values, inputs.row_splits], Tout=tf.string
        )
        outputs.set_shape(inputs.shape[:1])
        if scalar:
            outputs = outputs[0]
        return outputs

    def detokenize(self, inputs):
        """Maps token ids (or token strings) back to text.

        The bytes of the tokens are joined and decoded as UTF-8 with
        `errors="replace"`. Padding ids are not removed. An empty list is
        one empty sequence (`""`).

        Args:
            inputs: ids as a list of int, a list of lists, a NumPy array, a
                backend tensor, or a `tf.Tensor` / `tf.RaggedTensor`, of rank
                1 (one sequence) or 2 (a batch).

        Returns:
            A str for one sequence, a list of str for a batch (eagerly), or
            a string `tf.Tensor` in a `tf.function`.

        Raises:
            ValueError: for ids outside the vocabulary, non-integer ids, or
                a scalar input (use `id_to_token`).
        """
        self._check_vocabulary()
        if in_tf_graph():
            return self._detokenize_tf(_to_id_tensor(inputs))
        rows, scalar = _as_python_ids(inputs)
        outputs = self._decode_rows(rows)
        if in_no_convert_scope():
            outputs = tf.constant(outputs, dtype=tf.string)
            return outputs[0] if scalar else outputs
        return outputs[0] if scalar else outputs

    def call(self, inputs, *args, training=None, **kwargs):
        return self.tokenize(inputs, *args, **kwargs)

    # === Assets and config ===

    def save_assets(self, dir_path):
        """Writes `vocabulary.json` and `merges.txt` into `dir_path`,
        atomically."""
        from keras_nlp_clone.presets.saver import atomic_write_text

        state = self._check_vocabulary()
        vocabulary = dict(sorted(state.vocabulary.items(), key=lambda x: x[1]))
        atomic_write_text(
            os.path.join(dir_path, VOCAB_FILENAME),
            json.dumps(vocabulary, ensure_ascii=False),
        )
        atomic_write_text(
            os.path.join(dir_path, MERGES_FILENAME),
            "".join(f"{a} {b}\n" for a, b in state.merges),
        )

    def load_assets(self, dir_path):
        """Sets the vocabulary and merges from `vocabulary.json` and
        `merges.txt` in `dir_path`."""
        self.set_vocabulary_and_merges(
            os.path.join(dir_path, VOCAB_FILENAME),
            os.path.join(dir_path, MERGES_FILENAME),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                # The vocabulary and merges are saved as assets.
                "vocabulary": None,
                "merges": None,
                "sequence_length": self.sequence_length,
                "add_prefix_space": self.add_prefix_space,
                "unsplittable_tokens": (
                    None
                    if self.unsplittable_tokens is None
                    else list(self.unsplittable_tokens)
                ),
            }
        )
        return config


def _decode_bytes(x):
    return x.decode("utf-8", "surrogateescape") if isinstance(x, bytes) else x


def _as_python_strings(inputs):
    """`(list of str/bytes, scalar)` for rank 0/1 inputs, else `None`.

    Raises:
        ValueError: for non-string inputs.
    """
    if isinstance(inputs, (str, bytes)):
        return [inputs], True
    if isinstance(inputs, (list, tuple)):
        if all(isinstance(x, (str, bytes)) for x in inputs):
            return list(inputs), False
        if all(isinstance(x, (list, tuple)) for x in inputs):
            return None  # Nested: rank 2, through TF.
        bad = next(x for x in inputs if not isinstance(x, (str, bytes)))
        raise ValueError(
            "`tokenize()` expects a string or a list of strings. Received a "
            f"list containing {bad!r} ({type(bad).__name__}). To map ids "
            "back to text, use `detokenize()`."
        )
    if isinstance(inputs, np.ndarray) and inputs.dtype.kind in "USO":
        if inputs.ndim == 0:
            return [inputs.item()], True
        if inputs.ndim == 1:
            return inputs.tolist(), False
        return None
    if isinstance(inputs, tf.Tensor) and inputs.dtype == tf.string:
        if inputs.shape.rank == 0:
            return [inputs.numpy()], True
        if inputs.shape.rank == 1:
            return inputs.numpy().tolist(), False
    return None


def _to_string_tensor(inputs):
    """Converts `tokenize` inputs to a string `tf.Tensor`/`tf.RaggedTensor`."""
    if isinstance(inputs, (tf.Tensor, tf.RaggedTensor)):
        tensor = inputs
    elif isinstance(inputs, (str, bytes)):
        tensor = tf.constant(inputs)
    elif isinstance(inputs, (list, tuple)):
        if len(inputs) == 0:
            return tf.constant([], dtype=tf.string)
        try:
            if all(isinstance(x, (str, bytes)) for x in inputs):
                tensor = tf.constant(list(inputs))
            else:
                tensor = tf.ragged.constant(inputs, dtype=tf.string)
        except (TypeError, ValueError) as e:
            raise ValueError(
                "`tokenize()` expects strings. Received a nested list that "
                f"is not all strings ({e})."
            ) from None
    elif isinstance(inputs, np.ndarray) and inputs.dtype.kind in "USO":
        if inputs.dtype.kind == "U":
            inputs = inputs.astype(object)
        tensor = tf.constant(inputs)
    else:
        raise ValueError(
            "`tokenize()` expects a string, a list of strings or a string "
            f"tensor. Received: {type(inputs).__name__}. To map ids back to "
            "text, use `detokenize()`."
        )
    if tensor.dtype != tf.string:
        raise ValueError(
            "`tokenize()` expects string inputs. Received a tensor of dtype "
            f"{tensor.dtype.name}. To map ids back to text, use "
            "`detokenize()`."
        )
    if tensor.shape.rank is not None and tensor.shape.rank > 2:
        raise ValueError(
            "`tokenize()` expects a string tensor of rank 0, 1 or 2. "
            f"Received rank {tensor.shape.rank}."
        )
    return tensor


def _to_id_tensor(inputs):
    """Converts graph-mode `detokenize` inputs to a TF tensor."""
    if isinstance(inputs, (tf.Tensor, tf.RaggedTensor)):
        tensor = inputs
    else:
        tensor = tf.convert_to_tensor(inputs)
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


def _is_id(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _as_python_ids(inputs):
    """Eager `detokenize` inputs as `(list of rows, scalar)`.

    A row is a list of int ids (or of token strings).

    Raises:
        ValueError: for scalars, non-integer ids or ranks other than 1, 2.
    """
    if isinstance(inputs, (int, np.integer, str, bytes)):
        raise ValueError(
            "`detokenize()` expects a sequence of ids (a list or a tensor), "
            f"not a single value. Received: {inputs!r}. Use `id_to_token()` "
            "for one id."
        )
    if isinstance(inputs, (list, tuple)):
        if all(_is_id(x) or isinstance(x, (str, bytes)) for x in inputs):
            return [list(inputs)], True
        rows = []
        for row in inputs:
            if isinstance(row, np.ndarray) or keras.ops.is_tensor(row):
                row = keras.ops.convert_to_numpy(row).tolist()
            if not isinstance(row, (list, tuple)) or not all(
                _is_id(x) or isinstance(x, (str, bytes)) for x in row
            ):
                raise ValueError(
                    "`detokenize()` expects a list of ids or a list of "
                    f"lists of ids. Received an element {row!r}."
                )
            rows.append(list(row))
        return rows, False
    if isinstance(inputs, tf.RaggedTensor):
        if inputs.shape.rank not in (1, 2):
            raise ValueError(
                "`detokenize()` expects ids of rank 1 or 2. Received rank "
                f"{inputs.shape.rank}."
            )
        _check_dtype(inputs.dtype)
        return _decode_nested(inputs.to_list()), False
    if isinstance(inputs, tf.Tensor):
        _check_dtype(inputs.dtype)
        array = inputs.numpy()
    else:
        try:
            array = keras.ops.convert_to_numpy(inputs)
        except (TypeError, ValueError):
            raise ValueError(
                "`detokenize()` expects ids as a list, a NumPy array or a "
                f"tensor. Received: {type(inputs).__name__}."
            ) from None
        array = np.asarray(array)
        if array.dtype.kind not in "iuOS":
            raise ValueError(
                "`detokenize()` expects integer token ids. Received dtype "
                f"{array.dtype}."
            )
    if array.ndim == 0:
        raise ValueError(
            "`detokenize()` expects a sequence of ids, not a scalar. Use "
            "`id_to_token()` for one id."
        )
    if array.ndim > 2:
        raise ValueError(
            "`detokenize()` expects ids of rank 1 or 2. Received shape "
            f"{array.shape}."
        )
    rows = _decode_nested(array.tolist())
    if array.ndim == 1:
        return [rows], True
    return rows, False


def _decode_nested(x):
    if isinstance(x, list):
        return [_decode_nested(e) for e in x]
    return _decode_bytes(x)


def _check_dtype(dtype):
    if dtype != tf.string and not dtype.is_integer:
        raise ValueError(
            "`detokenize()` expects integer token ids. Received dtype "
            f"{dtype.name}."
        )
