"""Packs several segments into one sequence with start, separator and end."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.preprocessing_layer import PreprocessingLayer
from keras_nlp_clone.layers.start_end_packer import _as_list
from keras_nlp_clone.layers.start_end_packer import _check_padding_side
from keras_nlp_clone.layers.start_end_packer import _check_sequence_length
from keras_nlp_clone.layers.start_end_packer import _pad
from keras_nlp_clone.layers.start_end_packer import _retype_empty
from keras_nlp_clone.layers.start_end_packer import _special_tokens
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.lazy_module import tf_text
from keras_nlp_clone.utils.tensor_utils import convert_to_ragged_batch
from keras_nlp_clone.utils.tensor_utils import preprocessing_function

TRUNCATE_STRATEGIES = ("round_robin", "waterfall")


@keras_nlp_clone_export
class MultiSegmentPacker(PreprocessingLayer):
    """Packs one or more segments into a single sequence for an encoder.

    Joins segments (e.g. a sentence pair) into the layout used by BERT-style
    models,

        `start_value a end_value` for one segment, and
        `start_value a sep_value b end_value` for two (and so on),

    which for BERT is `[CLS] a [SEP] b [SEP]`. It also returns segment ids:
    `0` for the start token, the first segment and its separator, `1` for the
    second segment and the token after it, and so on. Segments are trimmed so
    that the packed sequence fits in `sequence_length`, and the result is
    padded with `pad_value` to exactly that length.

    Two trimming strategies are offered:
    - `"round_robin"`: one token at a time is kept from each segment in turn,
      so long segments are cut to a fair share. This is BERT's strategy.
    - `"waterfall"`: segments keep their tokens in order; the first segment
      is kept whole if it fits, the next gets what room is left, and so on.

    The body is TensorFlow ops: the layer works eagerly under every Keras
    backend (returning backend tensors) and inside `tf.data.Dataset.map`.

    Args:
        sequence_length: int. The length of the packed outputs. Can be
            overridden per call.
        start_value: int, str or list. The token(s) put first. A list adds
            several tokens.
        end_value: int, str or list. The token(s) put after the last segment.
        sep_value: int, str or list. The token(s) put between segments.
            `None` uses `end_value` (BERT). A list such as
            `["</s>", "</s>"]` gives RoBERTa's double separator. Defaults to
            `None`.
        pad_value: int or str. The padding token. `None` pads with `0` for
            ids and `""` for strings. Defaults to `None`.
        truncate: str. `"round_robin"` or `"waterfall"`, see above. Defaults
            to `"round_robin"`.
        padding_side: str. `"right"` pads after the tokens, `"left"` before
            them. Defaults to `"right"`.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        inputs: one segment, or a tuple of segments. Each segment is a
            `tf.Tensor`, `tf.RaggedTensor`, NumPy array or (nested) Python
            list of ids or token strings, of shape `(seq,)` for one example
            or `(batch, seq)` for a batch (rows may differ in length). All
            segments must be batched alike. Use a tuple, not a list, for
            several segments: a list is read as one segment.
        sequence_length: int. Overrides the layer's `sequence_length` for
            this call. Defaults to `None` (use the layer's).
        add_start_value: bool. Whether to add `start_value`. Defaults to
            `True`.
        add_end_value: bool. Whether to add `end_value`. Defaults to `True`.

    Returns:
        A tuple `(token_ids, segment_ids)` of dense tensors of shape
        `(batch, sequence_length)` (or `(sequence_length,)` for unbatched
        input). `token_ids` has the inputs' dtype, `segment_ids` is `int32`.

    Raises:
        ValueError: when `truncate` or `padding_side` is not one of the
            allowed values, when `sequence_length` is not a positive integer
            or too short to hold the special tokens, or when segments mix
            batched and unbatched inputs.

    Examples:
    >>> import keras
    >>> import keras_nlp_clone
    >>> packer = keras_nlp_clone.layers.MultiSegmentPacker(
    ...     sequence_length=8, start_value=101, end_value=102)
    >>> token_ids, segment_ids = packer(([1, 2, 3], [4, 5]))
    >>> keras.ops.convert_to_numpy(token_ids).tolist()
    [101, 1, 2, 3, 102, 4, 5, 102]
    >>> keras.ops.convert_to_numpy(segment_ids).tolist()
    [0, 0, 0, 0, 0, 1, 1, 1]

    A batch, trimmed round robin to fit 7 tokens:
    >>> packer = keras_nlp_clone.layers.MultiSegmentPacker(
    ...     sequence_length=7, start_value=101, end_value=102)
    >>> token_ids, _ = packer(([[1, 2, 3, 4], [1]], [[5, 6, 7], [5]]))
    >>> keras.ops.convert_to_numpy(token_ids).tolist()
    [[101, 1, 2, 102, 5, 6, 102], [101, 1, 102, 5, 102, 0, 0]]

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805), the BERT
          sentence-pair format.
        - [Liu et al., 2019](https://arxiv.org/abs/1907.11692), RoBERTa's
          double separator.
    """

    def __init__(
        self,
        sequence_length,
        start_value,
        end_value,
        sep_value=None,
        pad_value=None,
        truncate="round_robin",
        padding_side="right",
        **kwargs,
    ):
        owner = type(self).__name__
        _check_sequence_length(owner, sequence_length)
        argument_checks.check_choice(
            owner,
            "truncate",
            truncate,
            TRUNCATE_STRATEGIES,
            hint="Use 'round_robin' to trim every segment fairly (BERT) or "
            "'waterfall' to trim the last segments first.",
        )
        _check_padding_side(owner, padding_side)
        super().__init__(**kwargs)
        self.sequence_length = sequence_length
        self.start_value = start_value
        self.end_value = end_value
        self.sep_value = sep_value
        self.pad_value = pad_value
        self.truncate = truncate
        self.padding_side = padding_side

    def _trim(self, segments, max_length):
        if self.truncate == "round_robin":
            trimmer = tf_text.RoundRobinTrimmer(max_seq_length=max_length)
        else:
            trimmer = tf_text.WaterfallTrimmer(max_seq_length=max_length)
        return trimmer.trim(segments)

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
        if not isinstance(inputs, (list, tuple)):
            inputs = (inputs,)
        if len(inputs) == 0:
            raise ValueError(
                "`MultiSegmentPacker` needs at least one segment. Received "
                "an empty tuple of segments."
            )
        segments = []
        unbatched_flags = []
        for segment in inputs:
            if not isinstance(segment, (tf.Tensor, tf.RaggedTensor)):
                segment = tf.convert_to_tensor(segment)
            segment, unbatched, _ = convert_to_ragged_batch(segment)
            segments.append(segment)
            unbatched_flags.append(unbatched)
        if len(set(unbatched_flags)) > 1:
            raise ValueError(
                "All segments must be batched alike: either all of rank 1 "
                "(one example) or all of rank 2 (a batch). Received ranks "
                f"{[1 if u else 2 for u in unbatched_flags]}. Batch the "
                "unbatched segments, e.g. with `tf.expand_dims(x, 0)`."
            )
        unbatched = unbatched_flags[0]
        specials = (
            _as_list(self.start_value)
            + _as_list(self.end_value)
            + _as_list(self.sep_value)
        )
        segments = [_retype_empty(s, specials) for s in segments]
        dtype = segments[0].dtype
        segments = [
            s if s.dtype == dtype else tf.cast(s, dtype) for s in segments
        ]

        start = _as_list(self.start_value) if add_start_value else []
        end = _as_list(self.end_value) if add_end_value else []
        sep = (
            _as_list(self.end_value)
            if self.sep_value is None
            else _as_list(self.sep_value)
        )
        num_special = len(start) + len(sep) * (len(segments) - 1) + len(end)
        if num_special > sequence_length:
            raise ValueError(
                f"`sequence_length={sequence_length}` cannot hold the "
                f"{num_special} special tokens needed to pack "
                f"{len(segments)} segment(s). Pass a `sequence_length` of "
                f"at least {num_special + 1}."
            )
        segments = self._trim(segments, sequence_length - num_special)

        batch_size = segments[0].nrows()
        pieces, segment_ids = [], []

        def add(tokens, segment_id):
            pieces.append(tokens)
            segment_ids.append(
                tf.ones_like(tokens, dtype=tf.int32) * segment_id
            )

        if start:
            add(_special_tokens(start, batch_size, dtype), 0)
        last = len(segments) - 1
        for i, segment in enumerate(segments):
            add(segment, i)
            closing = end if i == last else sep
            if closing:
                add(_special_tokens(closing, batch_size, dtype), i)
        token_ids = tf.concat(pieces, axis=1)
        segment_ids = tf.concat(segment_ids, axis=1)

        token_ids = _pad(
            token_ids, sequence_length, self.pad_value, self.padding_side
        )
        segment_ids = _pad(segment_ids, sequence_length, 0, self.padding_side)
        if unbatched:
            token_ids = tf.squeeze(token_ids, axis=0)
            segment_ids = tf.squeeze(segment_ids, axis=0)
        return token_ids, segment_ids

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "start_value": self.start_value,
                "end_value": self.end_value,
                "sep_value": self.sep_value,
                "pad_value": self.pad_value,
                "truncate": self.truncate,
                "padding_side": self.padding_side,
            }
        )
        return config
