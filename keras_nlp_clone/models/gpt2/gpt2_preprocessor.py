"""GPT-2 preprocessor."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.gpt2.gpt2_backbone import GPT2Backbone
from keras_nlp_clone.models.gpt2.gpt2_tokenizer import GPT2Tokenizer
from keras_nlp_clone.models.start_end_packing_preprocessor import (
    StartEndPackingPreprocessor,
)
from keras_nlp_clone.utils.tensor_utils import preprocessing_function


@keras_nlp_clone_export
class GPT2Preprocessor(StartEndPackingPreprocessor):
    """GPT-2 preprocessing: strings to `token_ids` and `padding_mask`.

    Tokenizes one segment with a `GPT2Tokenizer`, then packs it with a
    `keras_nlp_clone.layers.StartEndPacker`: `<|endoftext|>` before (when
    `add_start_token`) and after (when `add_end_token`) the tokens,
    truncated (the end token is kept) and right-padded with
    `<|endoftext|>` to `sequence_length`. Since the padding id is also the
    start/end id, `padding_mask` comes from the packer (True at the packed
    tokens, the start and end tokens included), not from the ids. Works
    eagerly on every backend and inside `tf.data.Dataset.map`; `y` and
    `sample_weight` pass through.

    Args:
        tokenizer: `keras_nlp_clone.models.GPT2Tokenizer`.
        sequence_length: int. Packed length. Defaults to `1024`.
        add_start_token: bool. Whether to prepend `<|endoftext|>`. Defaults
            to `True`.
        add_end_token: bool. Whether to append `<|endoftext|>`. Defaults to
            `True`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: a string, a list of strings or a string tensor of shape
            `(batch,)` (or a tuple holding one of these).
        y: optional labels. sample_weight: optional weights.
        sequence_length: int. Overrides `sequence_length` for this call.
            Defaults to `None`.

    Returns:
        A dict `{"token_ids", "padding_mask"}` of shape `(batch,
        sequence_length)` (int32, bool), or `(x, y, sample_weight)` when
        labels are given.

    Raises:
        ValueError: when `x` holds more than one segment (GPT-2 has no
            segment separator; use a classification family such as BERT or
            RoBERTa for sentence pairs).

    Examples:
    >>> import keras
    >>> vocab = {"<|endoftext|>": 0, "a": 1, "b": 2, "Ġ": 3, "ab": 4}
    >>> tokenizer = keras_nlp_clone.models.GPT2Tokenizer(
    ...     vocabulary=vocab, merges=["a b"])
    >>> preprocessor = keras_nlp_clone.models.GPT2Preprocessor(
    ...     tokenizer, sequence_length=6)
    >>> x = preprocessor("ab a")
    >>> keras.ops.convert_to_numpy(x["token_ids"]).tolist()
    [0, 4, 3, 1, 0, 0]
    >>> keras.ops.convert_to_numpy(x["padding_mask"]).tolist()
    [True, True, True, True, True, False]

    References:
        - [Radford et al., 2019](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf)
    """

    backbone_cls = GPT2Backbone
    tokenizer_cls = GPT2Tokenizer

    @preprocessing_function
    def call(self, x, y=None, sample_weight=None, sequence_length=None):
        token_ids, padding_mask = self._pack(
            x, sequence_length or self.sequence_length, self.add_end_token
        )
        x = {"token_ids": token_ids, "padding_mask": padding_mask}
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
