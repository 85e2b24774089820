"""A SentencePiece tokenizer running Google's `sentencepiece` library."""

import base64
import binascii
import itertools
import os

import numpy as np

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.tokenizers.tokenizer import Tokenizer
from keras_nlp_clone.tokenizers.tokenizer import check_output_dtype
from keras_nlp_clone.tokenizers.tokenizer import check_sequence_length
from keras_nlp_clone.tokenizers.word_piece_tokenizer import _check_ids_eagerly
from keras_nlp_clone.tokenizers.word_piece_tokenizer import _dtype_name
from keras_nlp_clone.tokenizers.word_piece_tokenizer import _to_id_tensor
from keras_nlp_clone.tokenizers.word_piece_tokenizer import _to_string_tensor
from keras_nlp_clone.utils.lazy_module import LazyModule
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import convert_preprocessing_outputs
from keras_nlp_clone.utils.tensor_utils import in_no_convert_scope
from keras_nlp_clone.utils.tensor_utils import in_tf_graph
from keras_nlp_clone.utils.tensor_utils import is_string_dtype

VOCAB_FILENAME = "vocabulary.spm"

spm = LazyModule("sentencepiece")

# A `str` proto longer than this that is valid base64 is read as the
# base64-encoded model rather than as a file path (KerasNLP's heuristic; no
# real path is that long).
_BASE64_MIN_LENGTH = 2048


def _read_proto(proto):
    """Returns the serialized model bytes of a `proto` argument."""
    if isinstance(proto, (bytes, bytearray, memoryview)):
        return bytes(proto)
    if isinstance(proto, str) and len(proto) > _BASE64_MIN_LENGTH:
        try:
            return base64.b64decode(proto, validate=True)
        except (binascii.Error, ValueError):
            pass
    if isinstance(proto, (str, os.PathLike)):
        path = os.fspath(proto)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"SentencePiece model file not found: {path!r}. Pass the path "
                "of a `.model`/`.spm` file or the serialized model as bytes."
            )
        with open(path, "rb") as f:
            return f.read()
    raise ValueError(
        "`proto` must be the path of a SentencePiece model file (str) or the "
        "serialized model (bytes). Received: "
        f"{type(proto).__name__}"
    )


def to_id_tensor(inputs):
    """Converts `detokenize` inputs (ids or token strings) to a TF tensor.

    Like WordPiece's conversion, and also accepts empty sequences (`[]`,
    `[[1, 2], []]`, the tokenization of empty strings); a list of lists of
    ints becomes a `tf.RaggedTensor` without a slow per-element conversion.
    """
    if isinstance(inputs, (list, tuple)):
        if len(inputs) == 0:
            return tf.constant([], tf.int32)
        if all(isinstance(x, (list, tuple, np.ndarray)) for x in inputs):
            rows = [
                x.tolist() if isinstance(x, np.ndarray) else x for x in inputs
            ]
            flat = list(itertools.chain.from_iterable(rows))
            if all(
                isinstance(v, int) and not isinstance(v, bool) for v in flat
            ):
                lengths = np.fromiter(map(len, rows), np.int64, len(rows))
                values = np.array(flat, dtype=np.int64).reshape(-1)
                return tf.RaggedTensor.from_row_lengths(values, lengths)
            if not any(isinstance(v, (str, bytes, list, tuple)) for v in flat):
                bad = next(
                    v
                    for v in flat
                    if isinstance(v, bool) or not isinstance(v, int)
                )
                raise ValueError(
                    "`detokenize()` expects integer token ids. Received "
                    f"{bad!r} ({type(bad).__name__})."
                )
    return _to_id_tensor(inputs)


def _map_rows(fn, ragged):
    """Applies `fn` (ragged `[n, None]` -> `[n]`) to the innermost rows."""
    if ragged.ragged_rank == 1:
        return fn(ragged)
    return ragged.with_values(_map_rows(fn, ragged.values))


class _SentencePieceOps:
    """TensorFlow ops running the `sentencepiece` library on a model.

    The methods take and return `tf.Tensor`s / `tf.RaggedTensor`s, like
    those of `tf_text.SentencepieceTokenizer`: eagerly they call the
    library directly, inside a `tf.function` through `tf.py_function`.

    Args:
        processor: a loaded `sentencepiece.SentencePieceProcessor`.
        out_string: bool. Whether `tokenize` returns pieces, not ids.
        add_bos: bool. Whether `tokenize` prepends the model's `<s>` id.
        add_eos: bool. Whether `tokenize` appends the model's `</s>` id.
    """

    def __init__(
        self, processor, out_string=False, add_bos=False, add_eos=False
    ):
        self.processor = processor
        self.out_string = out_string
        self.add_bos = add_bos
        self.add_eos = add_eos

    def _encode_arrays(self, strings):
        """An array of UTF-8 `bytes` -> flat (values, row lengths)."""
        rows = self.processor.encode(
            list(strings),
            add_bos=self.add_bos,
            add_eos=self.add_eos,
            out_type=bytes if self.out_string else int,
        )
        lengths = np.fromiter(map(len, rows), np.int64, len(rows))
        flat = itertools.chain.from_iterable(rows)
        if self.out_string:
            values = np.array(list(flat), dtype=object)
        else:
            values = np.fromiter(flat, np.int32, int(lengths.sum()))
        return values, lengths

    def _encode_flat(self, strings):
        """Rank 1 string tensor -> ragged `[batch, None]` ids or pieces."""
        out_type = tf.string if self.out_string else tf.int32
        if in_tf_graph():
            values, lengths = tf.py_function(
                lambda x: self._encode_arrays(x.numpy()),
                [strings],
                [out_type, tf.int64],
            )
            values.set_shape([None])
            lengths.set_shape([None])
        else:
            values, lengths = self._encode_arrays(strings.numpy())
            values = tf.constant(values, dtype=out_type)
        return tf.RaggedTensor.from_row_lengths(values, lengths, validate=False)

    def tokenize(self, inputs):
        """String tensor of rank >= 1 -> ragged ids (or pieces), one more
        axis."""
        if isinstance(inputs, tf.Tensor) and inputs.shape.rank != 1:
            inputs = tf.RaggedTensor.from_tensor(inputs)
        if isinstance(inputs, tf.RaggedTensor):
            return inputs.with_flat_values(
                self._encode_flat(inputs.flat_values)
            )
        return self._encode_flat(inputs)

    def _decode_arrays(self, values, lengths):
        """Flat ids (or pieces) split by `lengths` -> UTF-8 `bytes` array."""
        if values.dtype == object:
            values = [v.decode("utf-8", errors="replace") for v in values]
        else:
            values = values.tolist()
        rows, start = [], 0
        for length in lengths.tolist():
            rows.append(values[start : start + length])
            start += length
        texts = self.processor.decode(rows)
        return np.array([t.encode("utf-8") for t in texts], dtype=object)

    def _decode_rows(self, ids):
        """Ragged `[batch, None]` ids or pieces -> `[batch]` strings."""
        values, lengths = ids.values, ids.row_lengths()
        if in_tf_graph():
            text = tf.py_function(
                lambda v, n: self._decode_arrays(v.numpy(), n.numpy()),
                [values, lengths],
                tf.string,
            )
            text.set_shape([None])
            return text
        return tf.constant(
            self._decode_arrays(values.numpy(), lengths.numpy()), tf.string
        )

    def detokenize(self, inputs):
        """Ids (or pieces) of rank >= 1 -> strings, one axis less.

        `""` pieces (the padding of dense string outputs) are dropped.
        """
        scalar = inputs.shape.rank == 1
        if scalar:
            inputs = tf.expand_dims(inputs, 0)
        if isinstance(inputs, tf.Tensor):
            inputs = tf.RaggedTensor.from_tensor(inputs)
        if inputs.dtype == tf.string:
            inputs = tf.ragged.boolean_mask(inputs, tf.not_equal(inputs, ""))
        else:
            inputs = tf.cast(inputs, tf.int32)
        outputs = _map_rows(self._decode_rows, inputs)
        return outputs[0] if scalar else outputs


@keras_nlp_clone_export
class SentencePieceTokenizer(Tokenizer):
    """A SentencePiece tokenizer: strings to subword ids with a trained model.

    The tokenizer applies a trained SentencePiece model (unigram or BPE, as
    produced by `compute_sentence_piece_proto` or Google's `sentencepiece`
    trainer), including the model's own normalization (e.g. NFKC). The
    segmentation is done by Google's `sentencepiece` library itself, so ids
    are exactly those of `sentencepiece.SentencePieceProcessor.encode` on the
    same model, and `detokenize` is the processor's `decode`.

    Why not TensorFlow Text's `SentencepieceTokenizer` (KerasNLP's engine):
    its bundled, older SentencePiece breaks ties between equally scored
    unigram segmentations differently (e.g. `"Mooo"` as `"oo" "o"` instead
    of `"o" "oo"`), which changes the ids of a few percent of real reviews.
    Inside a `tf.function` or `tf.data.Dataset.map` the library runs through
    `tf.py_function`: graphs work in `tf.data` pipelines but cannot be
    exported as a SavedModel without Python.

    The layer takes a string, a list of strings, or a string `tf.Tensor`
    (rank 0, 1 or 2), eagerly or inside `tf.data.Dataset.map`. Eagerly it
    returns Python lists of ids (or pieces) for ragged outputs and backend
    tensors when `sequence_length` is set; in a `tf.function` it returns a
    `tf.RaggedTensor` or a dense `tf.Tensor`.

    Args:
        proto: str or bytes. The path of a SentencePiece model file, or the
            serialized model proto. If `None`, the model must be set later
            (`load_assets`, `set_proto`) before the tokenizer is used.
            Defaults to `None`.
        sequence_length: int. If set, outputs are padded with 0 (or `""`)
            and truncated to this length, and are dense. Defaults to `None`.
        dtype: str. The output dtype: an integer dtype for ids, or
            `"string"` for pieces. Defaults to `"int32"`.
        add_bos: bool. Whether to prepend the model's beginning-of-sequence
            id. Defaults to `False`.
        add_eos: bool. Whether to append the model's end-of-sequence id
            (dropped by truncation when the sequence is too long). Defaults
            to `False`.
        **kwargs: passed to `keras.layers.Layer`.

    Raises:
        ValueError: for an invalid `dtype`, `sequence_length` or `proto`
            (bytes that are not a SentencePiece model).
        FileNotFoundError: for a `proto` path that does not exist.

    Examples:
    >>> proto = keras_nlp_clone.tokenizers.compute_sentence_piece_proto(
    ...     ["the quick brown fox", "the lazy dog"] * 10, vocabulary_size=27)
    >>> tokenizer = keras_nlp_clone.tokenizers.SentencePieceTokenizer(
    ...     proto=proto)
    >>> ids = tokenizer(["the quick fox", "the dog"])
    >>> tokenizer.detokenize(ids)
    ['the quick fox', 'the dog']

    Dense outputs.
    >>> tokenizer = keras_nlp_clone.tokenizers.SentencePieceTokenizer(
    ...     proto=proto, sequence_length=8)
    >>> tokenizer(["the quick fox"]).shape
    (1, 8)

    Mapped over a `tf.data.Dataset`.
    >>> ds = tf.data.Dataset.from_tensor_slices(["the fox", "the dog"])
    >>> ds = ds.map(tokenizer)

    References:
        - [Kudo and Richardson, 2018](https://arxiv.org/abs/1808.06226)
        - [Kudo, 2018](https://arxiv.org/abs/1804.10959)
    """

    def __init__(
        self,
        proto=None,
        sequence_length=None,
        dtype="int32",
        add_bos=False,
        add_eos=False,
        **kwargs,
    ):
        check_output_dtype(dtype, owner=self.__class__.__name__)
        for name, value in (("add_bos", add_bos), ("add_eos", add_eos)):
            argument_checks.check_bool(self.__class__.__name__, name, value)
        super().__init__(dtype=dtype, **kwargs)
        check_sequence_length(sequence_length)
        self.sequence_length = (
            None if sequence_length is None else int(sequence_length)
        )
        self.add_bos = bool(add_bos)
        self.add_eos = bool(add_eos)
        self._output_string = is_string_dtype(_dtype_name(dtype))
        self.proto = None
        self.set_proto(proto)
        self.file_assets = [VOCAB_FILENAME]

    # === Model ===

    def set_proto(self, proto):
        """Sets the model: a file path, serialized bytes, or `None`.

        Raises:
            ValueError: when `proto` is not a SentencePiece model.
            FileNotFoundError: when a path does not exist.
        """
        if proto is None:
            self.proto = None
            self._processor = None
            self._sentence_piece = None
            self._id_model = None
            return
        source = "`proto`"
        if isinstance(proto, (str, os.PathLike)) and os.path.isfile(proto):
            source = f"SentencePiece model file {os.fspath(proto)!r}"
        proto_bytes = _read_proto(proto)
        if not proto_bytes:
            raise ValueError(
                f"{source} is empty. Pass a trained SentencePiece model (e.g. "
                "from `compute_sentence_piece_proto`)."
            )
        processor = spm.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(proto_bytes)
        except RuntimeError:
            raise ValueError(
                f"{source} is not a valid serialized SentencePiece model (its "
                f"{len(proto_bytes)} bytes could not be parsed as a "
                "`ModelProto`). Pass the bytes or the path of a model trained "
                "by `sentencepiece` or `compute_sentence_piece_proto`."
            ) from None
        self._processor = processor
        # Strings -> ids (or pieces) as configured, and ids -> text.
        self._sentence_piece = _SentencePieceOps(
            processor, self._output_string, self.add_bos, self.add_eos
        )
        self._id_model = _SentencePieceOps(processor)
        self.proto = proto_bytes
        self._update_special_token_ids()

    def _check_vocabulary(self):
        if self.proto is None:
            raise ValueError(
                f"No SentencePiece model has been set for "
                f"{self.__class__.__name__}. Pass `proto=` to the "
                "constructor, or call `load_assets(dir)` / `set_proto(proto)` "
                "first."
            )

    def get_vocabulary(self):
        """Returns the model's pieces as a list of str, by id."""
        self._check_vocabulary()
        return [
            self._processor.id_to_piece(i)
            for i in range(self._processor.get_piece_size())
        ]

    def vocabulary_size(self):
        """Returns the number of pieces of the model."""
        self._check_vocabulary()
        return self._processor.get_piece_size()

    def id_to_token(self, id):
        """Returns the piece (str) of integer `id`.

        Raises:
            ValueError: when `id` is not an int in
                `[0, vocabulary_size())`.
        """
        self._check_vocabulary()
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)):
            raise ValueError(
                f"`id` must be an int. Received: id={id!r} "
                f"({type(id).__name__})"
            )
        size = self._processor.get_piece_size()
        if id < 0 or id >= size:
            raise ValueError(
                f"`id` must be in [0, {size - 1}] (the model has {size} "
                f"pieces). Received: id={int(id)}"
            )
        return self._processor.id_to_piece(int(id))

    def token_to_id(self, token):
        """Returns the id of the piece `token`.

        As in SentencePiece (and KerasNLP), a string that is not a piece of
        the model maps to the unknown-piece id.
        """
        self._check_vocabulary()
        if not isinstance(token, str):
            raise ValueError(
                f"`token` must be a str. Received: {token!r} "
                f"({type(token).__name__})"
            )
        return self._processor.piece_to_id(token)

    # === Tokenization ===

    def _tokenize_tf(self, inputs):
        scalar = inputs.shape.rank == 0
        if scalar:
            inputs = tf.expand_dims(inputs, 0)
        tokens = self._sentence_piece.tokenize(inputs)
        if self.sequence_length is not None:
            shape = [None] * (tokens.shape.rank - 1) + [self.sequence_length]
            tokens = tokens.to_tensor(shape=shape)
        if scalar:
            tokens = tokens[0]
        if not self._output_string and self.compute_dtype != "int32":
            tokens = tf.cast(tokens, self.compute_dtype)
        return tokens

    def tokenize(self, inputs):
        """Maps strings to ids (or pieces with `dtype="string"`).

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
        outputs = self._tokenize_tf(inputs)
        if not in_no_convert_scope():
            outputs = convert_preprocessing_outputs(outputs)
        return outputs[0] if scalar else outputs

    def _detokenize_tf(self, inputs):
        return self._id_model.detokenize(inputs)

    def detokenize(self, inputs):
        """Maps ids (or pieces) back to text, as SentencePiece's `decode`.

        Control pieces (`<pad>`, `<s>`, `</s>` of models trained by
        `compute_sentence_piece_proto`) decode to nothing; the unknown piece
        decodes to `" ⁇ "`.

        Args:
            inputs: ids as a list of int, a list of lists, a NumPy array, a
                backend tensor, or a `tf.Tensor` / `tf.RaggedTensor`; or
                pieces as strings.

        Returns:
            A str for one sequence, a list of str for a batch (eagerly), or
            a string `tf.Tensor` in a `tf.function`.

        Raises:
            ValueError: eagerly, for ids outside `[0, vocabulary_size())`.
        """
        self._check_vocabulary()
        inputs = to_id_tensor(inputs)
        if in_tf_graph():
            return self._detokenize_tf(inputs)
        _check_ids_eagerly(inputs, self._processor.get_piece_size())
        outputs = self._detokenize_tf(inputs)
        if in_no_convert_scope():
            return outputs
        return convert_preprocessing_outputs(outputs)

    def call(self, inputs, *args, training=None, **kwargs):
        return self.tokenize(inputs, *args, **kwargs)

    # === Assets and config ===

    def save_assets(self, dir_path):
        """Writes the model to `vocabulary.spm` in `dir_path` (atomically)."""
        from keras_nlp_clone.presets.saver import atomic_save

        self._check_vocabulary()

        def write(path):
            with open(path, "wb") as f:
                f.write(self.proto)

        atomic_save(os.path.join(dir_path, VOCAB_FILENAME), write)

    def load_assets(self, dir_path):
        """Sets the model from `vocabulary.spm` in `dir_path`."""
        self.set_proto(os.path.join(dir_path, VOCAB_FILENAME))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                # The model is saved as an asset, not in the config.
                "proto": None,
                "sequence_length": self.sequence_length,
                "add_bos": self.add_bos,
                "add_eos": self.add_eos,
            }
        )
        return config
