"""A vocabulary-free tokenizer of Unicode codepoints."""

import numpy as np

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.tokenizers.byte_tokenizer import MAX_CODEPOINT
from keras_nlp_clone.tokenizers.byte_tokenizer import (
    check_character_tokenizer_args,
)
from keras_nlp_clone.tokenizers.byte_tokenizer import pad_or_ragged
from keras_nlp_clone.tokenizers.byte_tokenizer import run_detokenize
from keras_nlp_clone.tokenizers.byte_tokenizer import run_tokenize
from keras_nlp_clone.tokenizers.byte_tokenizer import strip_padding
from keras_nlp_clone.tokenizers.sentence_piece_tokenizer import to_id_tensor
from keras_nlp_clone.tokenizers.tokenizer import Tokenizer
from keras_nlp_clone.tokenizers.word_piece_tokenizer import _to_string_tensor
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.lazy_module import tf_text
from keras_nlp_clone.utils.tensor_utils import in_no_convert_scope
from keras_nlp_clone.utils.tensor_utils import in_tf_graph
from keras_nlp_clone.utils.tensor_utils import no_convert_scope

# Encodings supported by TensorFlow's Unicode ops, and the matching Python
# codecs (used for Python `str` inputs and eager outputs).
ENCODINGS = {
    "UTF-8": "utf-8",
    "UTF-16-BE": "utf-16-be",
    "UTF-32-BE": "utf-32-be",
}


def _encode_strings(inputs, codec):
    """Encodes the Python `str` leaves of `inputs` with `codec`."""
    if isinstance(inputs, str):
        return inputs.encode(codec, errors="surrogatepass")
    if isinstance(inputs, (list, tuple)):
        return [_encode_strings(x, codec) for x in inputs]
    if isinstance(inputs, np.ndarray) and inputs.dtype.kind in "UO":
        flat = [_encode_strings(x, codec) for x in inputs.reshape(-1)]
        return np.array(flat, dtype=object).reshape(inputs.shape)
    return inputs


@keras_nlp_clone_export
class UnicodeCodepointTokenizer(Tokenizer):
    """A vocabulary-free tokenizer: strings to Unicode codepoints.

    Every string is optionally case folded and Unicode normalized, then
    decoded from `input_encoding` into codepoints; a character's id is its
    codepoint (`ord(c)`). `detokenize` encodes codepoints back into
    `output_encoding`.

    Id 0 doubles as padding: dense outputs are padded with 0 and
    `detokenize` drops every 0, so text containing NUL (U+0000) does not
    round trip. Any other valid Unicode text round trips exactly
    (`detokenize(tokenize(s)) == s`) with `lowercase=False`, no
    `normalization_form` and no `vocabulary_size`.

    With `vocabulary_size` set, ids are clamped into `[0, vocabulary_size)`:
    every codepoint `>= vocabulary_size` becomes `vocabulary_size - 1`, which
    acts as the out-of-vocabulary id (as in KerasNLP). Clamped characters do
    not round trip.

    Invalid input (bytes that are not valid in `input_encoding`) is decoded
    per `errors`: each invalid sequence becomes `replacement_char`
    (`"replace"`), is dropped (`"ignore"`) or raises (`"strict"`); the same
    applies in `detokenize` to ids that are not Unicode scalar values
    (negative, surrogates, above U+10FFFF).

    The layer takes a string, a list of strings, a NumPy string array or a
    string `tf.Tensor`, eagerly or inside `tf.data.Dataset.map`. Python `str`
    inputs are encoded with `input_encoding`; TF and `bytes` inputs must
    already be in it. Eagerly the layer returns Python lists for ragged
    outputs and backend tensors when `sequence_length` is set; in a
    `tf.function`, a `tf.RaggedTensor` or a dense `tf.Tensor`.

    Args:
        sequence_length: int. If set, outputs are padded with 0 and
            truncated to this length, and are dense. Defaults to `None`.
        lowercase: bool. Whether to case fold the input first, with ICU's
            NFKC case folding (`tf_text.case_fold_utf8`, as KerasNLP), which
            also applies NFKC compatibility mappings (`"ß"` becomes `"ss"`,
            `"ﬁ"` `"fi"`) and removes default-ignorable characters (soft
            hyphen, zero width joiner). Defaults to `True`.
        normalization_form: str. One of `None`, `"NFC"`, `"NFKC"`, `"NFD"`,
            `"NFKD"`: the Unicode normalization applied before decoding.
            Requires `input_encoding="UTF-8"`. Defaults to `None`.
        errors: str. One of `"replace"`, `"ignore"`, `"strict"`: how invalid
            input and invalid ids are handled (see above). Defaults to
            `"replace"`.
        replacement_char: int. The codepoint used by `errors="replace"`.
            Defaults to `65533` (U+FFFD).
        input_encoding: str. One of `"UTF-8"`, `"UTF-16-BE"`,
            `"UTF-32-BE"`: the encoding of input strings. Defaults to
            `"UTF-8"`.
        output_encoding: str. One of `"UTF-8"`, `"UTF-16-BE"`,
            `"UTF-32-BE"`: the encoding of detokenized strings. Eagerly,
            UTF-8 results are Python `str`, others `bytes` in that encoding.
            Defaults to `"UTF-8"`.
        vocabulary_size: int. If set, ids are clamped into
            `[0, vocabulary_size)` (see above). Defaults to `None`.
        dtype: str. An integer output dtype. Defaults to `"int32"`.
        **kwargs: passed to `keras.layers.Layer`.

    Raises:
        ValueError: for an invalid argument.

    Examples:
    >>> tokenizer = keras_nlp_clone.tokenizers.UnicodeCodepointTokenizer()
    >>> tokenizer("Héllo 中")
    [104, 233, 108, 108, 111, 32, 20013]
    >>> tokenizer.detokenize([104, 233, 20013])
    'hé中'

    Dense outputs and a vocabulary limit.
    >>> tokenizer = keras_nlp_clone.tokenizers.UnicodeCodepointTokenizer(
    ...     sequence_length=4, vocabulary_size=256)
    >>> np.array(tokenizer(["é中", "abcdef"]))
    array([[233, 255,   0,   0],
           [ 97,  98,  99, 100]], dtype=int32)

    References:
        - [Clark et al., 2022 (CANINE)](https://arxiv.org/abs/2103.06874)
        - [The Unicode Standard](https://www.unicode.org/versions/latest/)
    """

    def __init__(
        self,
        sequence_length=None,
        lowercase=True,
        normalization_form=None,
        errors="replace",
        replacement_char=65533,
        input_encoding="UTF-8",
        output_encoding="UTF-8",
        vocabulary_size=None,
        dtype="int32",
        **kwargs,
    ):
        check_character_tokenizer_args(
            self.__class__.__name__,
            dtype,
            sequence_length,
            normalization_form,
            errors,
            replacement_char,
        )
        for name, value in (
            ("input_encoding", input_encoding),
            ("output_encoding", output_encoding),
        ):
            if value not in ENCODINGS:
                raise ValueError(
                    f"`{name}` must be one of {list(ENCODINGS)}. Received: "
                    f"{name}={value!r}"
                )
        if normalization_form is not None and input_encoding != "UTF-8":
            raise ValueError(
                '`normalization_form` requires `input_encoding="UTF-8"`. '
                f"Received: normalization_form={normalization_form!r}, "
                f"input_encoding={input_encoding!r}. Transcode the input to "
                "UTF-8, or drop the normalization."
            )
        if vocabulary_size is not None and (
            isinstance(vocabulary_size, bool)
            or not isinstance(vocabulary_size, (int, np.integer))
            or vocabulary_size <= 0
        ):
            raise ValueError(
                "`vocabulary_size` must be a positive int or `None`. "
                f"Received: vocabulary_size={vocabulary_size!r}"
            )
        argument_checks.check_bool(
            self.__class__.__name__, "lowercase", lowercase
        )
        super().__init__(dtype=dtype, **kwargs)
        self.sequence_length = (
            None if sequence_length is None else int(sequence_length)
        )
        self.lowercase = bool(lowercase)
        self.normalization_form = normalization_form
        self.errors = errors
        self.replacement_char = int(replacement_char)
        self.input_encoding = input_encoding
        self.output_encoding = output_encoding
        self._vocabulary_size = (
            None if vocabulary_size is None else int(vocabulary_size)
        )

    # === Vocabulary ===

    def vocabulary_size(self):
        """Returns `vocabulary_size`, or `None` when it was not set."""
        return self._vocabulary_size

    def get_vocabulary(self):
        """Returns `{chr(i): i}` for `i < vocabulary_size`, `{}` if unset.

        As KerasNLP: without `vocabulary_size` the vocabulary is every
        codepoint, too large to list.
        """
        if self._vocabulary_size is None:
            return {}
        return {chr(i): i for i in range(self._vocabulary_size)}

    def _max_id(self):
        if self._vocabulary_size is None:
            return MAX_CODEPOINT
        return self._vocabulary_size - 1

    def id_to_token(self, id):
        """Returns `chr(id)`.

        Raises:
            ValueError: for a non-int, or an id outside
                `[0, vocabulary_size)` (or `[0, 0x10FFFF]` when
                `vocabulary_size` is not set).
        """
        high = self._max_id()
        if (
            isinstance(id, bool)
            or not isinstance(id, (int, np.integer))
            or not 0 <= id <= high
        ):
            raise ValueError(
                f"`id` must be an int in [0, {high}]. Received: id={id!r}"
            )
        return chr(id)

    def token_to_id(self, token):
        """Returns `ord(token)` for a one-character `token`.

        Raises:
            ValueError: for anything but one character, or a character
                whose codepoint is `>= vocabulary_size`.
        """
        if not isinstance(token, str) or len(token) != 1:
            raise ValueError(
                "`token` must be a string of one character. Received: "
                f"token={token!r}. Use `tokenize()` for longer text."
            )
        if ord(token) > self._max_id():
            raise ValueError(
                f"Token {token!r} (codepoint {ord(token)}) is outside the "
                f"vocabulary: `vocabulary_size` is {self._vocabulary_size}."
            )
        return ord(token)

    # === Tokenization ===

    def _tokenize_tf(self, inputs):
        scalar = inputs.shape.rank == 0
        if scalar:
            inputs = tf.expand_dims(inputs, 0)
        encoding = self.input_encoding
        if self.lowercase and encoding != "UTF-8":
            # Case folding works on UTF-8: transcode first (KerasNLP would
            # case fold the raw UTF-16/32 bytes).
            inputs = tf.ragged.map_flat_values(
                tf.strings.unicode_transcode,
                inputs,
                input_encoding=encoding,
                output_encoding="UTF-8",
                errors=self.errors,
                replacement_char=self.replacement_char,
            )
            encoding = "UTF-8"
        if self.lowercase:
            inputs = tf.ragged.map_flat_values(tf_text.case_fold_utf8, inputs)
        if self.normalization_form is not None:
            inputs = tf.ragged.map_flat_values(
                tf_text.normalize_utf8, inputs, self.normalization_form
            )
        tokens = tf.strings.unicode_decode(
            inputs,
            input_encoding=encoding,
            errors=self.errors,
            replacement_char=self.replacement_char,
        )
        tokens = tf.cast(tokens, self.compute_dtype)
        if self._vocabulary_size is not None:
            tokens = tf.ragged.map_flat_values(
                tf.minimum,
                tokens,
                tf.cast(self._vocabulary_size - 1, self.compute_dtype),
            )
        tokens = pad_or_ragged(tokens, self.sequence_length)
        if scalar:
            tokens = tokens[0]
        return tokens

    def tokenize(self, inputs):
        """Maps strings to codepoint ids.

        Args:
            inputs: a str, a list of str, a NumPy string array, or a string
                `tf.Tensor` / `tf.RaggedTensor`.

        Returns:
            Eagerly: a list of ids for one string, a list of lists for a
            batch, or a backend tensor `[batch, sequence_length]` when
            `sequence_length` is set. In a `tf.function`: a `tf.Tensor` or
            `tf.RaggedTensor`.

        Raises:
            ValueError: eagerly, for invalid input with `errors="strict"`
                (in a `tf.function`, a `tf.errors.InvalidArgumentError`).
        """
        if self.input_encoding != "UTF-8":
            inputs = _encode_strings(inputs, ENCODINGS[self.input_encoding])
        inputs = _to_string_tensor(inputs, "tokenize")
        return run_tokenize(self._tokenize_tf, inputs, self.errors)

    def _detokenize_tf(self, inputs):
        ids, scalar = strip_padding(inputs)
        # Ids that are not codepoints become -1 before the int32 cast, so
        # that a large int64 id cannot wrap around into a valid one.
        ids = tf.ragged.map_flat_values(
            lambda x: tf.where((x < 0) | (x > MAX_CODEPOINT), -1, x), ids
        )
        text = tf.strings.unicode_encode(
            tf.cast(ids, tf.int32),
            output_encoding=self.output_encoding,
            errors=self.errors,
            replacement_char=self.replacement_char,
        )
        return text[0] if scalar else text

    def detokenize(self, inputs):
        """Maps codepoint ids back to text, dropping padding ids (0).

        Args:
            inputs: ids as a list of int, a list of lists, a NumPy array, a
                backend tensor, or a `tf.Tensor` / `tf.RaggedTensor`.

        Returns:
            Eagerly: a str for one sequence or a list of str for a batch
            (`bytes` in `output_encoding` when it is not UTF-8). In a
            `tf.function`: a string `tf.Tensor`.

        Raises:
            ValueError: eagerly, for invalid codepoints with
                `errors="strict"`.
        """
        inputs = to_id_tensor(inputs)
        if inputs.dtype == tf.string:
            raise ValueError(
                "`detokenize()` of UnicodeCodepointTokenizer expects integer "
                "codepoint ids. Received strings."
            )
        if self.output_encoding == "UTF-8":
            return run_detokenize(self._detokenize_tf, inputs, self.errors)
        # Eager results stay `bytes` in the output encoding (the generic
        # conversion would decode them as UTF-8).
        convert = not (in_tf_graph() or in_no_convert_scope())
        with no_convert_scope():
            outputs = run_detokenize(self._detokenize_tf, inputs, self.errors)
        if convert:
            outputs = outputs.numpy()
            if isinstance(outputs, np.ndarray):
                outputs = outputs.tolist()
        return outputs

    def call(self, inputs, *args, training=None, **kwargs):
        return self.tokenize(inputs, *args, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "lowercase": self.lowercase,
                "normalization_form": self.normalization_form,
                "errors": self.errors,
                "replacement_char": self.replacement_char,
                "input_encoding": self.input_encoding,
                "output_encoding": self.output_encoding,
                "vocabulary_size": self._vocabulary_size,
            }
        )
        return config
