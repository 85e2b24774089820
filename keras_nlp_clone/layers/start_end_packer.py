"""Adds start and end tokens to sequences and pads them to a fixed length."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.preprocessing_layer import PreprocessingLayer
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import convert_to_ragged_batch
from keras_nlp_clone.utils.tensor_utils import preprocessing_function

PADDING_SIDES = ("left", "right")


def _as_list(value):
    """`None` -> `[]`, a scalar -> `[scalar]`, a list or tuple -> a list."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _check_padding_side(owner, padding_side):
    argument_checks.check_choice(
        owner,
        "padding_side",
        padding_side,
        PADDING_SIDES,
        hint="Use 'right' to pad after the tokens (BERT) or 'left' to pad "
        "before them.",
    )


def _check_sequence_length(owner, sequence_length):
    argument_checks.check_positive_integer(
        owner,
        "sequence_length",
        sequence_length,
        allow_none=True,
        hint="Pass the number of tokens each packed sequence should have, "
        "e.g. `512`.",
    )


def _retype_empty(x, values):
    """Gives ragged `x` the dtype of the special tokens `values` when `x`
    holds no token at all.

    An eager input without a single token carries no dtype of its own: `[]`
    converts to a string tensor and `[[], []]` to a float one. Such an input
    takes the special tokens' dtype (int32 for ids, string for token
    strings) instead of failing to concatenate with them.
    """
    values = [v for v in values if v is not None]
    if not values or x.flat_values.shape[0] != 0:
        return x
    dtype = tf.string if isinstance(values[0], str) else tf.int32
    if x.dtype == dtype:
        return x
    return x.with_flat_values(tf.zeros([0], dtype=dtype))


def _special_tokens(values, batch_size, dtype):
    """A `(batch_size, len(values))` ragged tensor repeating `values`."""
    row = tf.constant(values, dtype=dtype)
    dense = tf.tile(row[tf.newaxis, :], [batch_size, 1])
    return tf.RaggedTensor.from_tensor(dense)


def _pad(x, sequence_length, pad_value, padding_side):
    """Pads (and cuts) the rows of ragged `x` to `sequence_length`.

    With `sequence_length=None` rows are padded to the longest row.
    """
    batch_size = x.nrows()
    shape = [batch_size, sequence_length]
    if padding_side == "left":
        x = tf.reverse(x, axis=[1])
        x = x.to_tensor(default_value=pad_value, shape=shape)
        return tf.reverse(x, axis=[1])
    return x.to_tensor(default_value=pad_value, shape=shape)


@keras_nlp_clone_export
class StartEndPacker(PreprocessingLayer):
    """Adds start and end tokens to a sequence and pads it to a fixed length.

    Takes one sequence of tokens (ids or token strings) per example, puts
    `start_value` before it and `end_value` after it, then pads it with
    `pad_value` (or truncates it) to exactly `sequence_length` tokens. When
    the sequence is too long, tokens are dropped from its end, and the end
    token is still added, so that a truncated sequence keeps its end marker.

    The body is TensorFlow ops: the layer works eagerly under every Keras
    backend (returning backend tensors) and inside `tf.data.Dataset.map`.

    Args:
        sequence_length: int. The length of the packed outputs. `None` pads
            every row of a batch to the longest row. Can be overridden per
            call.
        start_value: int, str or list. The token(s) put at the start of each
            sequence; a list adds several tokens. `None` adds none. Defaults
            to `None`.
        end_value: int, str or list. The token(s) put at the end of each
            sequence. `None` adds none. Defaults to `None`.
        pad_value: int or str. The token used to pad. `None` pads with `0`
            for ids and `""` for strings. Defaults to `None`.
        return_padding_mask: bool. Whether to also return a boolean mask,
            `True` at tokens and `False` at padding. Defaults to `False`.
        name: str. The layer's name. Defaults to `None` (a unique name).
        padding_side: str. `"right"` pads after the tokens, `"left"` before
            them. Defaults to `"right"`.
        **kwargs: passed to `keras.layers.Layer` (`dtype`, ...).

    Call arguments:
        inputs: a `tf.Tensor`, `tf.RaggedTensor`, NumPy array or (nested)
            Python list of ids or token strings, of shape `(seq,)` for one
            sequence or `(batch, seq)` for a batch (rows may differ in
            length).
        sequence_length: int. Overrides the layer's `sequence_length` for
            this call. Defaults to `None` (use the layer's).
        add_start_value: bool. Whether to add `start_value` in this call.
            Defaults to `True`.
        add_end_value: bool. Whether to add `end_value` in this call.
            Defaults to `True`.

    Returns:
        A dense tensor of shape `(batch, sequence_length)` (or
        `(sequence_length,)` for unbatched input) with the input's dtype; with
        `return_padding_mask=True`, a tuple `(token_ids, padding_mask)` whose
        second item is a boolean tensor of the same shape.

    Raises:
        ValueError: when `sequence_length` is not a positive integer, when
            `padding_side` is not `"left"` or `"right"`, or when
            `sequence_length` is too short to hold the start and end tokens.

    Examples:
    >>> import keras
    >>> import keras_nlp_clone
    >>> packer = keras_nlp_clone.layers.StartEndPacker(
    ...     sequence_length=6, start_value=1, end_value=2)
    >>> keras.ops.convert_to_numpy(packer([5, 6, 7])).tolist()
    [1, 5, 6, 7, 2, 0]
    >>> keras.ops.convert_to_numpy(packer([[5, 6, 7], [8]])).tolist()
    [[1, 5, 6, 7, 2, 0], [1, 8, 2, 0, 0, 0]]

    Token strings, left padding and a padding mask:
    >>> packer = keras_nlp_clone.layers.StartEndPacker(
    ...     sequence_length=5, start_value="<s>", end_value="</s>",
    ...     pad_value="<pad>", padding_side="left",
    ...     return_padding_mask=True)
    >>> tokens, mask = packer(["a", "b"])
    >>> tokens
    ['<pad>', '<s>', 'a', 'b', '</s>']
    >>> keras.ops.convert_to_numpy(mask).tolist()
    [False, True, True, True, True]

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805), the BERT
          input format with start and end markers.
    """

    def __init__(
        self,
        sequence_length,
        start_value=None,
        end_value=None,
        pad_value=None,
        return_padding_mask=False,
        name=None,
        padding_side="right",
        **kwargs,
    ):
        _check_sequence_length(type(self).__name__, sequence_length)
        _check_padding_side(type(self).__name__, padding_side)
        super().__init__(name=name, **kwargs)
        self.sequence_length = sequence_length
        self.start_value = start_value
        self.end_value = end_value
        self.pad_value = pad_value
        self.return_padding_mask = return_padding_mask
        self.padding_side = padding_side

    @preprocessing_function
    def call(
        self,
        inputs,
        sequence_length=None,
        add_start_value=True,
        add_end_value=True,
    ):
        _check_sequence_length(type(self).__name__, sequence_length)
        sequence_length = sequence_length or self.sequence_length
        x, unbatched, _ = convert_to_ragged_batch(inputs)
        x = _retype_empty(
            x, _as_list(self.start_value) + _as_list(self.end_value)
        )
        batch_size = x.nrows()
        start = _as_list(self.start_value) if add_start_value else []
        end = _as_list(self.end_value) if add_end_value else []
        if sequence_length is not None and len(start) + len(end) > (
            sequence_length
        ):
            raise ValueError(
                f"`sequence_length={sequence_length}` cannot hold the "
                f"{len(start)} start and {len(end)} end tokens. Pass a "
                f"`sequence_length` of at least {len(start) + len(end) + 1}."
            )

        if start:
            x = tf.concat(
                [_special_tokens(start, batch_size, x.dtype), x], axis=1
            )
        if end:
            if sequence_length is not None:
                x = x[:, : sequence_length - len(end)]
            end_tokens = _special_tokens(end, batch_size, x.dtype)
            x = tf.concat([x, end_tokens], axis=1)
        elif sequence_length is not None:
            # Cut here, from the end: left padding would cut the reversed
            # rows, dropping the start tokens instead.
            x = x[:, :sequence_length]

        token_ids = _pad(
            x, sequence_length, self.pad_value, self.padding_side
        )
        if unbatched:
            token_ids = tf.squeeze(token_ids, axis=0)
        if not self.return_padding_mask:
            return token_ids
        mask = tf.ones_like(x, dtype=tf.bool)
        mask = _pad(mask, sequence_length, False, self.padding_side)
        if unbatched:
            mask = tf.squeeze(mask, axis=0)
        return token_ids, mask

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "start_value": self.start_value,
                "end_value": self.end_value,
                "pad_value": self.pad_value,
                "return_padding_mask": self.return_padding_mask,
                "padding_side": self.padding_side,
            }
        )
        return config
