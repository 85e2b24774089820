"""Learning a WordPiece vocabulary from text."""

import collections
import os

import numpy as np

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.tokenizers.word_piece_tokenizer import _atomic_write_lines
from keras_nlp_clone.tokenizers.word_piece_tokenizer import pretokenize
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import assert_tf_available

_BATCH_SIZE = 1024


def _to_string_dataset(data):
    if isinstance(data, (list, tuple, np.ndarray)):
        if isinstance(data, np.ndarray):
            data = data.tolist()
        if not all(isinstance(x, (str, bytes)) for x in data):
            bad = next(x for x in data if not isinstance(x, (str, bytes)))
            raise ValueError(
                "`data` must be a `tf.data.Dataset` of strings or a list of "
                f"strings. Received a list containing {bad!r} "
                f"({type(bad).__name__})."
            )
        return tf.data.Dataset.from_tensor_slices(
            tf.constant(list(data), dtype=tf.string)
        ).batch(_BATCH_SIZE)
    if isinstance(data, tf.data.Dataset):
        spec = data.element_spec
        if not isinstance(spec, tf.TensorSpec) or spec.dtype != tf.string:
            raise ValueError(
                "`data` must be a `tf.data.Dataset` whose elements are "
                f"string tensors. Received element_spec={spec}."
            )
        if spec.shape.rank == 0:
            return data.batch(_BATCH_SIZE)
        if spec.shape.rank == 1:
            return data
        return data.map(lambda x: tf.reshape(x, [-1]))
    raise ValueError(
        "`data` must be a `tf.data.Dataset` of strings or a list of "
        f"strings. Received: {type(data).__name__}"
    )


@keras_nlp_clone_export
def compute_word_piece_vocabulary(
    data,
    vocabulary_size,
    vocabulary_output_file=None,
    lowercase=False,
    strip_accents=False,
    split=True,
    split_on_cjk=True,
    suffix_indicator="##",
    reserved_tokens=["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"],
):
    """Learns a WordPiece vocabulary from text.

    The text is normalized and split into words exactly as
    `keras_nlp_clone.tokenizers.WordPieceTokenizer` does with the same
    arguments, the words are counted, and TensorFlow Text's WordPiece
    learner (the one behind BERT's vocabularies) picks subwords by a binary
    search on a frequency threshold. The result starts with
    `reserved_tokens`, then every single character, then learned pieces.

    Args:
        data: a `tf.data.Dataset` of strings (batched or not), or a list of
            strings.
        vocabulary_size: int. The target vocabulary size; the learner
            aims within 5% below it. Every character of the (filtered)
            alphabet is always included, with and without
            `suffix_indicator`, so a tiny target may be exceeded.
        vocabulary_output_file: str. If set, the vocabulary is also written
            there, one token a line (atomically). Defaults to `None`.
        lowercase: bool. Whether to lowercase the text. Defaults to `False`.
        strip_accents: bool. Whether to strip accents. Defaults to `False`.
        split: bool. Whether to split on whitespace and punctuation; if
            `False`, every string is one word. Defaults to `True`.
        split_on_cjk: bool. Whether to split CJK ideographs apart. Defaults
            to `True`.
        suffix_indicator: str. The prefix of pieces that continue a word.
            Defaults to `"##"`.
        reserved_tokens: list of str. Tokens placed first in the
            vocabulary, e.g. special tokens. Defaults to
            `["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]`.

    Returns:
        The vocabulary, a list of str.

    Examples:
    >>> vocab = keras_nlp_clone.tokenizers.compute_word_piece_vocabulary(
    ...     ["the quick brown fox", "the lazy dog"], vocabulary_size=40)
    >>> tokenizer = keras_nlp_clone.tokenizers.WordPieceTokenizer(
    ...     vocabulary=vocab)
    """
    assert_tf_available("compute_word_piece_vocabulary")
    if (
        isinstance(vocabulary_size, bool)
        or not isinstance(vocabulary_size, (int, np.integer))
        or vocabulary_size <= 0
    ):
        raise ValueError(
            "`vocabulary_size` must be a positive int. Received: "
            f"vocabulary_size={vocabulary_size!r}"
        )
    if vocabulary_output_file is not None and not isinstance(
        vocabulary_output_file, str
    ):
        raise ValueError(
            "`vocabulary_output_file` must be a file path (str) or `None`. "
            f"Received: {vocabulary_output_file!r}"
        )
    if not isinstance(suffix_indicator, str) or not suffix_indicator:
        raise ValueError(
            "`suffix_indicator` must be a non-empty string. Received: "
            f"suffix_indicator={suffix_indicator!r}"
        )
    if reserved_tokens is None:
        reserved_tokens = []
    if isinstance(reserved_tokens, str) or not all(
        isinstance(t, str) and t for t in reserved_tokens
    ):
        raise ValueError(
            "`reserved_tokens` must be a list of non-empty strings. "
            f"Received: reserved_tokens={reserved_tokens!r}"
        )
    if len(reserved_tokens) >= vocabulary_size:
        raise ValueError(
            f"`vocabulary_size` ({vocabulary_size}) must be larger than the "
            f"number of `reserved_tokens` ({len(reserved_tokens)})."
        )

    from tensorflow_text.tools.wordpiece_vocab import (
        wordpiece_tokenizer_learner_lib as learner,
    )

    dataset = _to_string_dataset(data)

    def to_words(text):
        words = pretokenize(
            text,
            lowercase=lowercase,
            strip_accents=strip_accents,
            split=split,
            split_on_cjk=split_on_cjk,
        )
        return words.flat_values

    dataset = dataset.map(to_words, num_parallel_calls=tf.data.AUTOTUNE)
    counts = collections.Counter()
    for words in dataset.as_numpy_iterator():
        unique, freq = np.unique(words, return_counts=True)
        counts.update(dict(zip(unique.tolist(), freq.tolist())))
    word_counts = sorted(
        (word.decode("utf-8", errors="replace"), count)
        for word, count in counts.items()
    )
    vocabulary = learner.learn(
        word_counts,
        vocab_size=vocabulary_size,
        reserved_tokens=list(reserved_tokens),
        upper_thresh=10_000_000,
        lower_thresh=10,
        num_iterations=4,
        max_input_tokens=5_000_000,
        max_token_length=50,
        max_unique_chars=1000,
        joiner=suffix_indicator,
    )
    if vocabulary_output_file is not None:
        _atomic_write_lines(os.path.abspath(vocabulary_output_file), vocabulary)
    return vocabulary
