"""Shared base of the preprocessors that pack one segment between start and
end tokens (GPT-2's preprocessor, causal language models)."""

from keras_nlp_clone.layers.start_end_packer import StartEndPacker
from keras_nlp_clone.models.preprocessor import Preprocessor
from keras_nlp_clone.utils import argument_checks


def single_segment(x, family="This model"):
    """Unwraps a one-element tuple; raises for several segments.

    Raises:
        ValueError: when `x` is a tuple of more than one segment.
    """
    if isinstance(x, tuple):
        if len(x) != 1:
            raise ValueError(
                f"{family} requires each input to contain only one segment "
                f"(one text segment per example), but received {len(x)}. "
                "It has no segment separator: join the segments "
                "into one string, or use a classification family such as "
                "BERT or RoBERTa for sentence pairs."
            )
        x = x[0]
    return x


class StartEndPackingPreprocessor(Preprocessor):
    """Tokenizes one text segment and packs it between start and end tokens.

    Internal base of `GPT2Preprocessor` and `CausalLMPreprocessor`: it holds
    the tokenizer, a `StartEndPacker` (built on first use, once the
    tokenizer's special token ids are known; it returns the padding mask,
    so a family may pad with its start or end id) and the
    `sequence_length`, `add_start_token` and `add_end_token` settings;
    subclasses write `call` with `_pack`.

    Args:
        tokenizer: a `keras_nlp_clone.tokenizers.Tokenizer` with
            `start_token_id`, `end_token_id` and `pad_token_id`.
        sequence_length: int. Packed length. Defaults to `1024`.
        add_start_token: bool. Whether to prepend the start token. Defaults
            to `True`.
        add_end_token: bool. Whether to append the end token. Defaults to
            `True`.
        **kwargs: passed to `keras.layers.Layer`.

    Raises:
        ValueError: for a `sequence_length` that is not an integer >= 1.
    """

    def __init__(
        self,
        tokenizer,
        sequence_length=1024,
        add_start_token=True,
        add_end_token=True,
        **kwargs,
    ):
        argument_checks.check_positive_integer(
            type(self).__name__, "sequence_length", sequence_length
        )
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self._sequence_length = int(sequence_length)
        self.add_start_token = add_start_token
        self.add_end_token = add_end_token
        self._packer = None

    @property
    def packer(self):
        """The `StartEndPacker`, built on first use (once the tokenizer's
        special token ids are known)."""
        if self._packer is None:
            self._packer = StartEndPacker(
                start_value=self.tokenizer.start_token_id,
                end_value=self.tokenizer.end_token_id,
                pad_value=self.tokenizer.pad_token_id,
                sequence_length=self._sequence_length,
                return_padding_mask=True,
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

    def _pack(self, x, sequence_length, add_end_token):
        """Tokenizes one segment `x` (TensorFlow ops) and packs it to
        `sequence_length`; returns `(token_ids, padding_mask)`."""
        x = single_segment(x, type(self).__name__)
        return self.packer(
            self.tokenizer(x),
            sequence_length=sequence_length,
            add_start_value=self.add_start_token,
            add_end_value=add_end_token,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "add_start_token": self.add_start_token,
                "add_end_token": self.add_end_token,
            }
        )
        return config
