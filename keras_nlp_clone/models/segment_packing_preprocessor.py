"""Shared base of the preprocessors that tokenize and pack text segments."""

from keras_nlp_clone.models.preprocessor import Preprocessor
from keras_nlp_clone.utils import argument_checks


class SegmentPackingPreprocessor(Preprocessor):
    """Tokenizes one or more text segments and packs them to a fixed length.

    Internal base of `TextClassifierPreprocessor` and `MaskedLMPreprocessor`:
    it holds the tokenizer, a `MultiSegmentPacker` (built on first use, once
    the tokenizer's special token ids are known) and the `sequence_length`
    and `truncate` settings; subclasses write `call` with
    `_tokenize_and_pack`.

    Args:
        tokenizer: a `keras_nlp_clone.tokenizers.Tokenizer` with
            `start_token_id`, `end_token_id` and `pad_token_id`.
        sequence_length: int. Length of the packed outputs. Defaults to
            `512`.
        truncate: str. `"round_robin"` or `"waterfall"`. Defaults to
            `"round_robin"`.
        **kwargs: passed to `keras.layers.Layer`.

    Class attributes a family may override:
        include_segment_ids: bool. Whether the outputs hold
            `"segment_ids"` (BERT) or not (RoBERTa, DistilBERT, whose
            backbones take no segment input). Defaults to `True`.
        num_separators: int. How many end tokens separate two segments: 1
            for BERT (`[CLS] a [SEP] b [SEP]`), 2 for RoBERTa
            (`<s> a </s></s> b </s>`). Defaults to `1`.

    Raises:
        ValueError: for an unknown `truncate`, or a `sequence_length` that
            is not an integer >= 1.
    """

    include_segment_ids = True
    num_separators = 1

    def __init__(
        self, tokenizer, sequence_length=512, truncate="round_robin", **kwargs
    ):
        argument_checks.check_positive_integer(
            type(self).__name__, "sequence_length", sequence_length
        )
        argument_checks.check_choice(
            type(self).__name__,
            "truncate",
            truncate,
            ("round_robin", "waterfall"),
        )
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self._sequence_length = int(sequence_length)
        self.truncate = truncate
        self._packer = None

    @property
    def packer(self):
        """The `MultiSegmentPacker`, built on first use."""
        if self._packer is None:
            from keras_nlp_clone.layers.multi_segment_packer import (
                MultiSegmentPacker,
            )

            self._packer = MultiSegmentPacker(
                start_value=self.tokenizer.start_token_id,
                end_value=self.tokenizer.end_token_id,
                sep_value=[self.tokenizer.end_token_id] * self.num_separators,
                pad_value=self.tokenizer.pad_token_id,
                truncate=self.truncate,
                sequence_length=self._sequence_length,
            )
        return self._packer

    @property
    def sequence_length(self):
        """The packed sequence length; settable at any time."""
        return self._sequence_length

    @sequence_length.setter
    def sequence_length(self, value):
        argument_checks.check_positive_integer(
            type(self).__name__, "sequence_length", value
        )
        self._sequence_length = int(value)
        if self._packer is not None:
            self._packer.sequence_length = int(value)

    def _tokenize_and_pack(self, x):
        """Returns `(token_ids, segment_ids, padding_mask)` for raw `x` (a
        string tensor, or a tuple of them for several segments)."""
        segments = x if isinstance(x, tuple) else (x,)
        segments = tuple(self.tokenizer(segment) for segment in segments)
        token_ids, segment_ids = self.packer(segments)
        return token_ids, segment_ids, token_ids != self.tokenizer.pad_token_id

    def _backbone_inputs(self, token_ids, segment_ids, padding_mask):
        """The backbone's input dict, with `segment_ids` only when the
        family's backbone takes them (`include_segment_ids`)."""
        x = {"token_ids": token_ids}
        if self.include_segment_ids:
            x["segment_ids"] = segment_ids
        x["padding_mask"] = padding_mask
        return x

    def get_config(self):
        config = super().get_config()
        config.update(
            {"sequence_length": self.sequence_length, "truncate": self.truncate}
        )
        return config
