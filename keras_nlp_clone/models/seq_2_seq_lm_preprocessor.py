"""Base preprocessor for sequence-to-sequence language modelling."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.start_end_packer import StartEndPacker
from keras_nlp_clone.models.causal_lm_preprocessor import strip_to_ragged
from keras_nlp_clone.models.preprocessor import Preprocessor
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import preprocessing_function


def _split_inputs(x, family):
    """Returns `(encoder_text, decoder_text or None)` from a dict or text."""
    if isinstance(x, dict):
        unknown = sorted(set(x) - {"encoder_text", "decoder_text"})
        if "encoder_text" not in x or unknown:
            raise ValueError(
                f"{family} takes a dict with the keys `encoder_text` and "
                "`decoder_text` (the source and the target text). Received "
                f"keys {sorted(x)}."
            )
        return x["encoder_text"], x.get("decoder_text")
    return x, None


@keras_nlp_clone_export
class Seq2SeqLMPreprocessor(Preprocessor):
    """Preprocessing for sequence-to-sequence language models: pairs of
    source and target strings to next-token prediction examples.

    For training (`call`), `x` is a dict with `encoder_text` (the source)
    and `decoder_text` (the target). The source is tokenized and packed to
    `encoder_sequence_length` (with `encoder_start_ids()` before and
    `encoder_end_ids()` after); the target is packed to
    `decoder_sequence_length + 1` (with `decoder_start_ids()` before and
    the end token after). The outputs are the model inputs
    `encoder_token_ids`, `encoder_padding_mask`, `decoder_token_ids` and
    `decoder_padding_mask` (the packed target without its last token), the
    labels (the packed target without its first token: each position's next
    token) and the sample weights (their padding mask). For generation,
    `generate_preprocess` packs the source, and the decoder prompt
    (`decoder_text`, or an empty one) without an end token;
    `generate_postprocess` detokenizes the decoder ids.

    Families subclass it setting `backbone_cls` and `tokenizer_cls`, and
    override the packing hooks where their format differs (BART's decoder
    starts with `</s><s>`). The tokenizer must define `start_token_id`,
    `end_token_id` and `pad_token_id`.

    Args:
        tokenizer: a `keras_nlp_clone.tokenizers.Tokenizer` of the family.
        encoder_sequence_length: int. The packed source length. Defaults to
            `1024`.
        decoder_sequence_length: int. The packed target length. Defaults to
            `1024`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: a dict with `encoder_text` and `decoder_text`, each a string, a
            list of strings or a string tensor `(batch,)`.
        y: must be `None`. sample_weight: must be `None`.
        encoder_sequence_length: int. Overrides `encoder_sequence_length`
            for this call. Defaults to `None`.
        decoder_sequence_length: int. Overrides `decoder_sequence_length`
            for this call. Defaults to `None`.
        sequence_length: int. An alias of `decoder_sequence_length`.
            Defaults to `None`.

    Returns:
        `(x, y, sample_weight)`: `x` a dict with `encoder_token_ids`
        (int32), `encoder_padding_mask` (bool) of shape `(batch,
        encoder_sequence_length)` and `decoder_token_ids`,
        `decoder_padding_mask` of shape `(batch, decoder_sequence_length)`;
        `y` (int32) and `sample_weight` (bool) of the decoder's shape.

    Raises:
        ValueError: when `x` is not such a dict, or labels are passed; at
            construction, for an `encoder_sequence_length` or
            `decoder_sequence_length` that is not an integer >= 1.

    Examples:
    >>> import keras
    >>> vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "a": 4,
    ...          "b": 5, "Ġ": 6, "ab": 7, "<mask>": 8}
    >>> tokenizer = keras_nlp_clone.models.BartTokenizer(
    ...     vocabulary=vocab, merges=["a b"])
    >>> preprocessor = keras_nlp_clone.models.BartSeq2SeqLMPreprocessor(
    ...     tokenizer, encoder_sequence_length=5, decoder_sequence_length=5)
    >>> x, y, w = preprocessor({"encoder_text": "ab", "decoder_text": "a"})
    >>> keras.ops.convert_to_numpy(x["encoder_token_ids"]).tolist()
    [0, 7, 2, 1, 1]
    >>> keras.ops.convert_to_numpy(x["decoder_token_ids"]).tolist()
    [2, 0, 4, 2, 1]
    >>> keras.ops.convert_to_numpy(y).tolist()
    [0, 4, 2, 1, 1]

    References:
        - [KerasNLP Seq2SeqLMPreprocessor](https://keras.io/api/keras_nlp/base_classes/seq_2_seq_lm_preprocessor/).
    """

    def __init__(
        self,
        tokenizer,
        encoder_sequence_length=1024,
        decoder_sequence_length=1024,
        **kwargs,
    ):
        for name, value in (
            ("encoder_sequence_length", encoder_sequence_length),
            ("decoder_sequence_length", decoder_sequence_length),
        ):
            argument_checks.check_positive_integer(
                type(self).__name__, name, value
            )
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self.encoder_sequence_length = int(encoder_sequence_length)
        self.decoder_sequence_length = int(decoder_sequence_length)
        self._packers = None

    # === Packing hooks (families override these) ===

    def encoder_start_ids(self):
        """Token ids put before the source. Defaults to the start token."""
        return [self.tokenizer.start_token_id]

    def encoder_end_ids(self):
        """Token ids put after the source. Defaults to the end token."""
        return [self.tokenizer.end_token_id]

    def decoder_start_ids(self):
        """Token ids that start every target (the decoder prompt's fixed
        prefix). Defaults to the start token."""
        return [self.tokenizer.start_token_id]

    def decoder_end_ids(self):
        """Token ids put after the target (training only). Defaults to the
        end token."""
        return [self.tokenizer.end_token_id]

    def _get_packers(self):
        if self._packers is None:
            pad = self.tokenizer.pad_token_id
            self._packers = (
                StartEndPacker(
                    start_value=self.encoder_start_ids(),
                    end_value=self.encoder_end_ids(),
                    pad_value=pad,
                    sequence_length=self.encoder_sequence_length,
                    return_padding_mask=True,
                ),
                StartEndPacker(
                    start_value=self.decoder_start_ids(),
                    end_value=self.decoder_end_ids(),
                    pad_value=pad,
                    sequence_length=self.decoder_sequence_length,
                    return_padding_mask=True,
                ),
            )
        return self._packers

    def _family(self):
        return type(self).__name__

    def _pack(self, encoder_text, decoder_text, encoder_length, decoder_length, add_end):
        encoder_packer, decoder_packer = self._get_packers()
        encoder_token_ids, encoder_padding_mask = encoder_packer(
            self.tokenizer(encoder_text), sequence_length=encoder_length
        )
        decoder_token_ids, decoder_padding_mask = decoder_packer(
            self.tokenizer(decoder_text),
            sequence_length=decoder_length,
            add_end_value=add_end,
        )
        return {
            "encoder_token_ids": encoder_token_ids,
            "encoder_padding_mask": encoder_padding_mask,
            "decoder_token_ids": decoder_token_ids,
            "decoder_padding_mask": decoder_padding_mask,
        }

    @preprocessing_function
    def call(
        self,
        x,
        y=None,
        sample_weight=None,
        *,
        encoder_sequence_length=None,
        decoder_sequence_length=None,
        sequence_length=None,
    ):
        if y is not None or sample_weight is not None:
            raise ValueError(
                f"`{self._family()}` computes the labels (the next target "
                "token at each position) and sample weights from `x`. Pass "
                "the targets as `x['decoder_text']`, not as `y`."
            )
        encoder_text, decoder_text = _split_inputs(x, self._family())
        if decoder_text is None:
            raise ValueError(
                f"`{self._family()}` needs `decoder_text` (the target) for "
                "training. For generation from a source text, call "
                "`generate_preprocess` (what `generate` does)."
            )
        decoder_length = (
            decoder_sequence_length or sequence_length or self.decoder_sequence_length
        )
        packed = self._pack(
            encoder_text,
            decoder_text,
            encoder_sequence_length or self.encoder_sequence_length,
            decoder_length + 1,
            add_end=True,
        )
        decoder_token_ids = packed["decoder_token_ids"]
        decoder_padding_mask = packed["decoder_padding_mask"]
        packed["decoder_token_ids"] = decoder_token_ids[..., :-1]
        packed["decoder_padding_mask"] = decoder_padding_mask[..., :-1]
        y = decoder_token_ids[..., 1:]
        sample_weight = decoder_padding_mask[..., 1:]
        return keras.utils.pack_x_y_sample_weight(packed, y, sample_weight)

    @preprocessing_function
    def generate_preprocess(
        self,
        x,
        *,
        encoder_sequence_length=None,
        decoder_sequence_length=None,
        sequence_length=None,
    ):
        """Packs sources and decoder prompts for `generate`.

        Args:
            x: the source text (a string, a list of strings or a string
                tensor `(batch,)`), or a dict with `encoder_text` and
                optionally `decoder_text` (a prompt the target must start
                with; empty by default).
            encoder_sequence_length: int. Defaults to
                `self.encoder_sequence_length`.
            decoder_sequence_length: int. The generation length
                (`max_length`). Defaults to `self.decoder_sequence_length`.
            sequence_length: int. An alias of `decoder_sequence_length`.

        Returns:
            A dict with `encoder_token_ids`, `encoder_padding_mask` of
            shape `(batch, encoder_sequence_length)` and
            `decoder_token_ids`, `decoder_padding_mask` (True at the decoder
            prompt) of shape `(batch, decoder_sequence_length)`.
        """
        encoder_text, decoder_text = _split_inputs(x, self._family())
        if decoder_text is None:
            # An empty prompt: only `decoder_start_ids()`.
            decoder_text = tf.fill(tf.shape(encoder_text), "")
        return self._pack(
            encoder_text,
            decoder_text,
            encoder_sequence_length or self.encoder_sequence_length,
            decoder_sequence_length or sequence_length or self.decoder_sequence_length,
            add_end=False,
        )

    @preprocessing_function
    def generate_postprocess(self, x):
        """Turns generated decoder ids back into strings.

        Drops padding (`decoder_padding_mask` False) and the tokenizer's
        special tokens, then detokenizes.

        Args:
            x: a dict with `decoder_token_ids` and `decoder_padding_mask` of
                shape `(batch, length)` (other keys are ignored).

        Returns:
            A string, or a list of strings for a batch.
        """
        token_ids = tf.cast(x["decoder_token_ids"], "int32")
        ids = strip_to_ragged(
            token_ids, x["decoder_padding_mask"], self.tokenizer.special_token_ids
        )
        return self.tokenizer.detokenize(ids)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder_sequence_length": self.encoder_sequence_length,
                "decoder_sequence_length": self.decoder_sequence_length,
            }
        )
        return config
