"""A vocabulary-free tokenizer of UTF-8 bytes."""

import numpy as np

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.tokenizers.sentence_piece_tokenizer import to_id_tensor
from keras_nlp_clone.tokenizers.tokenizer import Tokenizer
from keras_nlp_clone.tokenizers.tokenizer import check_output_dtype
from keras_nlp_clone.tokenizers.tokenizer import check_sequence_length
from keras_nlp_clone.tokenizers.word_piece_tokenizer import _check_ids_eagerly
from keras_nlp_clone.tokenizers.word_piece_tokenizer import _to_string_tensor
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.lazy_module import tf_text
from keras_nlp_clone.utils.tensor_utils import convert_preprocessing_outputs
from keras_nlp_clone.utils.tensor_utils import in_no_convert_scope
from keras_nlp_clone.utils.tensor_utils import in_tf_graph

NORMALIZATION_FORMS = (None, "NFC", "NFKC", "NFD", "NFKD")
ERRORS = ("strict", "replace", "ignore")
MAX_CODEPOINT = 0x10FFFF
# The one-byte string of every byte value, to map ids back to bytes.
_BYTE_STRINGS = [bytes([i]) for i in range(256)]


def check_character_tokenizer_args(
    cls_name,
    dtype,
    sequence_length,
    normalization_form,
    errors,
    replacement_char,
):
    """Validates the arguments shared by the byte and codepoint tokenizers.

    Raises:
        ValueError: naming the first invalid argument.
    """
    check_output_dtype(dtype, allow_string=False, owner=cls_name)
    check_sequence_length(sequence_length)
    if normalization_form not in NORMALIZATION_FORMS:
        raise ValueError(
            f"`normalization_form` must be one of {list(NORMALIZATION_FORMS)}."
            f" Received: normalization_form={normalization_form!r}"
        )
    if errors not in ERRORS:
        raise ValueError(
            f"`errors` must be one of {list(ERRORS)}. Received: "
            f"errors={errors!r}"
        )
    if (
        isinstance(replacement_char, bool)
        or not isinstance(replacement_char, (int, np.integer))
        or not 0 <= replacement_char <= MAX_CODEPOINT
        or 0xD800 <= replacement_char <= 0xDFFF
    ):
        raise ValueError(
            "`replacement_char` must be a Unicode codepoint (an int in "
            "[0, 0x10FFFF], not a surrogate), e.g. 65533 for U+FFFD. "
            f"Received: replacement_char={replacement_char!r}"
        )


def pad_or_ragged(tokens, sequence_length):
    """Pads/truncates the last axis of ragged `tokens` to a dense tensor."""
    if sequence_length is None:
        return tokens
    shape = [None] * (tokens.shape.rank - 1) + [sequence_length]
    return tokens.to_tensor(shape=shape)


def _strict_error(e, method):
    message = e.message.strip().split(" [Op")[0].split("}} ")[-1]
    return ValueError(
        f'`{method}()` met an invalid sequence with `errors="strict"` '
        f'({message.rstrip(".")}). Pass `errors="replace"` or '
        '`errors="ignore"` to the tokenizer to replace or drop invalid '
        "characters."
    )


def run_tokenize(tokenize_tf, inputs, errors=None):
    """Runs the TF body `tokenize_tf` on a string tensor, in graph or eagerly.

    Eagerly (outside `no_convert_scope`), ragged results become Python lists
    and dense ones backend tensors; a scalar input gives one sequence. An
    invalid sequence with `errors="strict"` is a `ValueError` eagerly.
    """
    if in_tf_graph():
        return tokenize_tf(inputs)
    scalar = inputs.shape.rank == 0
    if scalar:
        inputs = tf.reshape(inputs, [1])
    try:
        outputs = tokenize_tf(inputs)
    except tf.errors.InvalidArgumentError as e:
        if errors != "strict":
            raise
        raise _strict_error(e, "tokenize") from None
    if not in_no_convert_scope():
        outputs = convert_preprocessing_outputs(outputs)
    return outputs[0] if scalar else outputs


def run_detokenize(detokenize_tf, inputs, errors):
    """Runs the TF body `detokenize_tf` on an id tensor, in graph or eagerly.

    Eagerly, an invalid sequence with `errors="strict"` is a `ValueError`.
    """
    if in_tf_graph():
        return detokenize_tf(inputs)
    try:
        outputs = detokenize_tf(inputs)
    except tf.errors.InvalidArgumentError as e:
        if errors != "strict":
            raise
        raise _strict_error(e, "detokenize") from None
    if in_no_convert_scope():
        return outputs
    return convert_preprocessing_outputs(outputs)


def strip_padding(ids):
    """Turns an id tensor into a ragged batch without the padding id 0.

    Returns:
        `(ragged_ids, scalar)`: ids of rank >= 2 as a `tf.RaggedTensor`, and
        whether a batch axis was added to a rank 1 input.
    """
    scalar = ids.shape.rank == 1
    if scalar:
        ids = tf.expand_dims(ids, 0)
    if isinstance(ids, tf.Tensor):
        ids = tf.RaggedTensor.from_tensor(ids)
    return tf.ragged.boolean_mask(ids, tf.not_equal(ids, 0)), scalar


@keras_nlp_clone_export
class ByteTokenizer(Tokenizer):
    """A vocabulary-free tokenizer: strings to their UTF-8 bytes.

    Every string is optionally case folded and Unicode normalized, then split
    into its UTF-8 bytes; a byte's id is its value in `[0, 256)`. The
    vocabulary is implicit: `vocabulary_size()` is 256 and `get_vocabulary()`
    maps `chr(i)` to `i`, as in KerasNLP.

    Id 0 doubles as padding: dense outputs are padded with 0 and
    `detokenize` drops every 0 before decoding, so text containing NUL
    (U+0000) does not round trip. Any other text round trips exactly
    (`detokenize(tokenize(s)) == s`) with `lowercase=False` and no
    `normalization_form`. Bytes that are not valid UTF-8 in inputs are
    tokenized as they are; `errors` and `replacement_char` decide how
    `detokenize` decodes invalid byte sequences.

    The layer takes a string, a list of strings, a NumPy string array or a
    string `tf.Tensor`, eagerly or inside `tf.data.Dataset.map`. Eagerly it
    returns Python lists for ragged outputs and backend tensors when
    `sequence_length` is set; in a `tf.function`, a `tf.RaggedTensor` or a
    dense `tf.Tensor`.

    Args:
        lowercase: bool. Whether to case fold the input first, with ICU's
            NFKC case folding (`tf_text.case_fold_utf8`, as KerasNLP), which
            also applies NFKC compatibility mappings (`"ß"` becomes `"ss"`,
            `"ﬁ"` `"fi"`) and removes default-ignorable characters (soft
            hyphen, zero width joiner). Defaults to `True`.
        sequence_length: int. If set, outputs are padded with 0 and
            truncated to this length, and are dense. Defaults to `None`.
        normalization_form: str. One of `None`, `"NFC"`, `"NFKC"`, `"NFD"`,
            `"NFKD"`: the Unicode normalization applied before splitting.
            Defaults to `None`.
        errors: str. How `detokenize` handles invalid UTF-8: `"replace"`
            each invalid byte sequence with `replacement_char`, `"ignore"`
            (drop) it, or `"strict"` (raise). Defaults to `"replace"`.
        replacement_char: int. The codepoint used by `errors="replace"`.
            Defaults to `65533` (U+FFFD).
        dtype: str. An integer output dtype. Defaults to `"int32"`.
        **kwargs: passed to `keras.layers.Layer`.

    Raises:
        ValueError: for an invalid argument.

    Examples:
    >>> tokenizer = keras_nlp_clone.tokenizers.ByteTokenizer()
    >>> tokenizer("Héllo")
    [104, 195, 169, 108, 108, 111]
    >>> tokenizer(["hi", "é"])
    [[104, 105], [195, 169]]
    >>> tokenizer.detokenize([104, 195, 169])
    'hé'

    Dense outputs.
    >>> tokenizer = keras_nlp_clone.tokenizers.ByteTokenizer(
    ...     sequence_length=4)
    >>> np.array(tokenizer(["hello", "hi"]))
    array([[104, 101, 108, 108],
           [104, 105,   0,   0]], dtype=int32)

    Invalid UTF-8 when detokenizing.
    >>> tokenizer = keras_nlp_clone.tokenizers.ByteTokenizer(
    ...     replacement_char=ord("?"))
    >>> tokenizer.detokenize([104, 255, 105])
    'h?i'

    References:
        - [Xue et al., 2022 (ByT5)](https://arxiv.org/abs/2105.13626)
    """

    def __init__(
        self,
        lowercase=True,
        sequence_length=None,
        normalization_form=None,
        errors="replace",
        replacement_char=65533,
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
        argument_checks.check_bool(
            self.__class__.__name__, "lowercase", lowercase
        )
        super().__init__(dtype=dtype, **kwargs)
        self.lowercase = bool(lowercase)
        self.sequence_length = (
            None if sequence_length is None else int(sequence_length)
        )
        self.normalization_form = normalization_form
        self.errors = errors
        self.replacement_char = int(replacement_char)

    # === Vocabulary ===

    def vocabulary_size(self):
        """Returns 256, the number of byte values."""
        return 256

    def get_vocabulary(self):
        """Returns `{chr(i): i}` for every byte value `i` (as KerasNLP)."""
        return {chr(i): i for i in range(256)}

    def id_to_token(self, id):
        """Returns `chr(id)` for a byte value `id` in `[0, 256)`.

        Raises:
            ValueError: for a non-int or an id outside `[0, 256)`.
        """
        if (
            isinstance(id, bool)
            or not isinstance(id, (int, np.integer))
            or not 0 <= id < 256
        ):
            raise ValueError(
                f"`id` must be an int in [0, 255] (a byte value). Received: "
                f"id={id!r}"
            )
        return chr(id)

    def token_to_id(self, token):
        """Returns `ord(token)` for a one-character `token` below U+0100.

        Raises:
            ValueError: for anything else (a character above U+00FF is
                several bytes; tokenize it instead).
        """
        if not isinstance(token, str) or len(token) != 1 or ord(token) >= 256:
            raise ValueError(
                "`token` must be one character with a codepoint below 256 "
                f"(a byte value). Received: token={token!r}. Use "
                "`tokenize()` to get the UTF-8 bytes of any text."
            )
        return ord(token)

    # === Tokenization ===

    def _tokenize_tf(self, inputs):
        scalar = inputs.shape.rank == 0
        if scalar:
            inputs = tf.expand_dims(inputs, 0)
        if self.lowercase:
            inputs = tf.ragged.map_flat_values(tf_text.case_fold_utf8, inputs)
        if self.normalization_form is not None:
            inputs = tf.ragged.map_flat_values(
                tf_text.normalize_utf8, inputs, self.normalization_form
            )
        chars = tf.strings.bytes_split(inputs)
        tokens = tf.ragged.map_flat_values(
            lambda x: tf.reshape(tf.io.decode_raw(x, tf.uint8), [-1]), chars
        )
        tokens = tf.cast(tokens, self.compute_dtype)
        tokens = pad_or_ragged(tokens, self.sequence_length)
        if scalar:
            tokens = tokens[0]
        return tokens

    def tokenize(self, inputs):
        """Maps strings to their UTF-8 byte ids.

        Args:
            inputs: a str, a list of str, a NumPy string array, or a string
                `tf.Tensor` / `tf.RaggedTensor`.

        Returns:
            Eagerly: a list of ids for one string, a list of lists for a
            batch, or a backend tensor `[batch, sequence_length]` when
            `sequence_length` is set. In a `tf.function`: a `tf.Tensor` or
            `tf.RaggedTensor`.
        """
        return run_tokenize(
            self._tokenize_tf, _to_string_tensor(inputs, "tokenize")
        )

    def _detokenize_tf(self, inputs):
        byte_strings = tf.constant(_BYTE_STRINGS)
        ids, scalar = strip_padding(inputs)
        text = tf.strings.reduce_join(
            tf.gather(byte_strings, tf.cast(ids, tf.int32)), axis=-1
        )
        text = tf.strings.unicode_transcode(
            text,
            input_encoding="UTF-8",
            output_encoding="UTF-8",
            errors=self.errors,
            replacement_char=self.replacement_char,
        )
        return text[0] if scalar else text

    def detokenize(self, inputs):
        """Maps byte ids back to text, dropping padding ids (0).

        Args:
            inputs: ids as a list of int, a list of lists, a NumPy array, a
                backend tensor, or a `tf.Tensor` / `tf.RaggedTensor`.

        Returns:
            A str for one sequence, a list of str for a batch (eagerly), or
            a string `tf.Tensor` in a `tf.function`.

        Raises:
            ValueError: eagerly, for ids outside `[0, 256)`, or invalid
                UTF-8 with `errors="strict"`.
        """
        inputs = to_id_tensor(inputs)
        if inputs.dtype == tf.string:
            raise ValueError(
                "`detokenize()` of ByteTokenizer expects integer byte ids. "
                "Received strings."
            )
        if not in_tf_graph():
            _check_ids_eagerly(inputs, 256)
        return run_detokenize(self._detokenize_tf, inputs, self.errors)

    def call(self, inputs, *args, training=None, **kwargs):
        return self.tokenize(inputs, *args, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "lowercase": self.lowercase,
                "sequence_length": self.sequence_length,
                "normalization_form": self.normalization_form,
                "errors": self.errors,
                "replacement_char": self.replacement_char,
            }
        )
        return config
