"""Training a SentencePiece model from text."""

import io
import os

import numpy as np

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.utils.lazy_module import LazyModule
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import tf_loaded

spm = LazyModule("sentencepiece")

MODEL_TYPES = ("unigram", "bpe", "word", "char")


def _is_file_list(data):
    return len(data) > 0 and all(
        isinstance(x, (str, os.PathLike)) and os.path.isfile(x) for x in data
    )


def _file_lines(paths):
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                yield line.rstrip("\r\n")


def _dataset_strings(dataset):
    spec = dataset.element_spec
    if not isinstance(spec, tf.TensorSpec) or spec.dtype != tf.string:
        raise ValueError(
            "`data` must be a `tf.data.Dataset` whose elements are string "
            f"tensors (batched or not). Received element_spec={spec}."
        )
    for element in dataset.as_numpy_iterator():
        if isinstance(element, bytes):
            yield element.decode("utf-8", errors="replace")
        else:
            for value in np.asarray(element).reshape(-1):
                yield value.decode("utf-8", errors="replace")


def _sentences(data):
    """An iterator of str sentences from any accepted `data`."""
    # A dataset exists only if TensorFlow is imported; lists of strings do
    # not need TensorFlow.
    if tf_loaded() and isinstance(data, tf.data.Dataset):
        return _dataset_strings(data)
    if isinstance(data, np.ndarray):
        data = data.reshape(-1).tolist()
    if isinstance(data, (list, tuple)):
        if not data:
            raise ValueError("`data` is empty: pass at least one string.")
        if _is_file_list(data):
            return _file_lines([os.fspath(x) for x in data])
        paths = [
            x
            for x in data
            if isinstance(x, (str, os.PathLike)) and os.path.isfile(x)
        ]
        if paths:
            missing = next(
                x
                for x in data
                if not (isinstance(x, (str, os.PathLike)) and os.path.isfile(x))
            )
            raise ValueError(
                "`data` mixes paths of existing files (e.g. "
                f"{os.fspath(paths[0])!r}) with other entries (e.g. "
                f"{missing!r}, not a file). Pass only text file paths, or "
                "only texts."
            )
        bad = [x for x in data if not isinstance(x, (str, bytes))]
        if bad:
            raise ValueError(
                "`data` must be a list of strings, a list of text file "
                "paths or a `tf.data.Dataset` of strings. Received a list "
                f"containing {bad[0]!r} ({type(bad[0]).__name__})."
            )
        return (
            x.decode("utf-8", errors="replace") if isinstance(x, bytes) else x
            for x in data
        )
    raise ValueError(
        "`data` must be a list of strings, a list of text file paths or a "
        f"`tf.data.Dataset` of strings. Received: {type(data).__name__}"
    )


@keras_nlp_clone_export
def compute_sentence_piece_proto(
    data,
    vocabulary_size,
    model_type="unigram",
    proto_output_file=None,
    lowercase=False,
):
    """Trains a SentencePiece model from text and returns its proto.

    Runs Google's `sentencepiece` trainer on every string of `data`. The
    model reserves ids 0 to 3 for `<pad>`, `<unk>`, `<s>` and `</s>` (so
    that `SentencePieceTokenizer`'s padding id 0 is the pad piece) and
    normalizes text with NFKC (`"nmt_nfkc"`), or with NFKC and case folding
    (`"nmt_nfkc_cf"`) when `lowercase=True`; the normalization is stored in
    the model, so a `SentencePieceTokenizer` built from it lowercases its
    inputs too. Training runs on one thread, so the same data gives the same
    model.

    `data` may be a list of strings, a `tf.data.Dataset` of strings (scalar
    or batched elements), or, as in KerasNLP, a list of paths of text files
    read line by line. A list is read as files when every entry is the path
    of an existing file. SentencePiece's defaults apply otherwise: sentences
    longer than 4,192 bytes are skipped.

    Args:
        data: a list of str, a list of text file paths, or a
            `tf.data.Dataset` of strings.
        vocabulary_size: int. The number of pieces of the model, including
            the 4 reserved ones. The trainer fails when the data cannot
            produce that many (e.g. a large size on little text), or when it
            is smaller than the number of distinct characters + 4.
        model_type: str. One of `"unigram"`, `"bpe"`, `"word"`, `"char"`.
            Defaults to `"unigram"`.
        proto_output_file: str. If set, the model is written to this path
            (atomically) and `None` is returned. Defaults to `None`.
        lowercase: bool. Whether to case fold the text, in training and in
            the model's normalization. Defaults to `False`.

    Returns:
        The serialized model proto (`bytes`), or `None` when
        `proto_output_file` is set.

    Raises:
        ValueError: for invalid arguments, or when the trainer rejects the
            data (the trainer's message is included).

    Examples:
    >>> proto = keras_nlp_clone.tokenizers.compute_sentence_piece_proto(
    ...     ["the quick brown fox", "the lazy dog"] * 10, vocabulary_size=27)
    >>> tokenizer = keras_nlp_clone.tokenizers.SentencePieceTokenizer(
    ...     proto=proto)
    >>> tokenizer.detokenize(tokenizer("the quick dog"))
    'the quick dog'

    References:
        - [Kudo and Richardson, 2018](https://arxiv.org/abs/1808.06226)
        - [SentencePiece](https://github.com/google/sentencepiece)
    """
    if (
        isinstance(vocabulary_size, bool)
        or not isinstance(vocabulary_size, (int, np.integer))
        or vocabulary_size <= 4
    ):
        raise ValueError(
            "`vocabulary_size` must be an int larger than 4 (ids 0-3 are "
            "reserved for <pad>, <unk>, <s> and </s>). Received: "
            f"vocabulary_size={vocabulary_size!r}"
        )
    if model_type not in MODEL_TYPES:
        raise ValueError(
            f"`model_type` must be one of {list(MODEL_TYPES)}. Received: "
            f"model_type={model_type!r}"
        )
    if proto_output_file is not None and not isinstance(
        proto_output_file, (str, os.PathLike)
    ):
        raise ValueError(
            "`proto_output_file` must be a file path (str) or `None`. "
            f"Received: {proto_output_file!r}"
        )
    sentences = _sentences(data)
    writer = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=sentences,
            model_writer=writer,
            vocab_size=int(vocabulary_size),
            model_type=model_type,
            normalization_rule_name="nmt_nfkc_cf" if lowercase else "nmt_nfkc",
            pad_id=0,
            unk_id=1,
            bos_id=2,
            eos_id=3,
            num_threads=1,
            minloglevel=2,
        )
    except RuntimeError as e:
        raise ValueError(
            f"SentencePiece training failed: {str(e).rstrip('.')}. Adjust "
            "`vocabulary_size` as the message says: its upper bound grows "
            "with the amount of text, its lower bound is the number of "
            "distinct characters + 4."
        ) from None
    proto = writer.getvalue()
    if proto_output_file is None:
        return proto
    from keras_nlp_clone.presets.saver import atomic_save

    def write(path):
        with open(path, "wb") as f:
            f.write(proto)

    atomic_save(os.fspath(proto_output_file), write)
    return None
