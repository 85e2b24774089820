"""Base preprocessor for causal language modelling."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.start_end_packing_preprocessor import (
    StartEndPackingPreprocessor,
)
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import preprocessing_function


def strip_to_ragged(token_ids, keep_mask, ids_to_strip):
    """Drops the positions of `token_ids` where `keep_mask` is False or the
    id is one of `ids_to_strip`, returning a `tf.RaggedTensor` (TensorFlow
    ops; `token_ids` of shape `(batch, length)` or `(length,)`)."""
    keep = tf.cast(keep_mask, "bool")
    for token_id in ids_to_strip:
        keep = tf.logical_and(keep, tf.not_equal(token_ids, token_id))
    return tf.ragged.boolean_mask(token_ids, keep)


@keras_nlp_clone_export
class CausalLMPreprocessor(StartEndPackingPreprocessor):
    """Preprocessing for causal language models: strings to next-token
    prediction examples.

    For training (`call`), tokenizes each string, packs it with a
    `keras_nlp_clone.layers.StartEndPacker` to `sequence_length + 1` tokens
    (start token before, end token after, when enabled; truncated,
    right-padded), and returns the inputs `token_ids[:-1]` with their
    `padding_mask`, the labels `token_ids[1:]` (each position's next token)
    and the sample weights `padding_mask[1:]` (padding does not count in the
    loss). For generation, `generate_preprocess` packs prompts without an
    end token and `generate_postprocess` turns generated ids back into
    strings. Runs eagerly on every backend and inside
    `tf.data.Dataset.map`.

    Families subclass it setting `backbone_cls` and `tokenizer_cls` (e.g.
    `GPT2CausalLMPreprocessor`). The tokenizer must define
    `start_token_id`, `end_token_id` and `pad_token_id`. The padding mask
    comes from the packer, not from the ids, so a family may pad with its
    start or end id (GPT-2 uses `<|endoftext|>` for all three).

    Args:
        tokenizer: a `keras_nlp_clone.tokenizers.Tokenizer` of the family.
        sequence_length: int. The length of the packed inputs and labels.
            Defaults to `1024`.
        add_start_token: bool. Whether to prepend the start token. Defaults
            to `True`.
        add_end_token: bool. Whether to append the end token (training only;
            prompts never get one). Defaults to `True`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: a string, a list of strings or a string tensor of shape
            `(batch,)` (or a one-element tuple of these).
        y: must be `None`: the labels are computed from `x`.
        sample_weight: must be `None`; the padding mask is the weight.
        sequence_length: int. Overrides `sequence_length` for this call.
            Defaults to `None`.

    Returns:
        The tuple `(x, y, sample_weight)`: `x` a dict with `token_ids`
        (int32) and `padding_mask` (bool) of shape `(batch,
        sequence_length)`; `y` int32 and `sample_weight` bool of the same
        shape.

    Raises:
        ValueError: when labels or sample weights are passed, or when `x`
            holds several segments; at construction, for a
            `sequence_length` that is not an integer >= 1.

    Examples:
    >>> import keras
    >>> vocab = {"<|endoftext|>": 0, "a": 1, "b": 2, "Ġ": 3, "ab": 4}
    >>> tokenizer = keras_nlp_clone.models.GPT2Tokenizer(
    ...     vocabulary=vocab, merges=["a b"])
    >>> preprocessor = keras_nlp_clone.models.GPT2CausalLMPreprocessor(
    ...     tokenizer, sequence_length=5)
    >>> x, y, sample_weight = preprocessor("ab a")
    >>> keras.ops.convert_to_numpy(x["token_ids"]).tolist()
    [0, 4, 3, 1, 0]
    >>> keras.ops.convert_to_numpy(y).tolist()
    [4, 3, 1, 0, 0]
    >>> keras.ops.convert_to_numpy(sample_weight).tolist()
    [True, True, True, True, False]
    >>> prompt = preprocessor.generate_preprocess("ab", sequence_length=4)
    >>> keras.ops.convert_to_numpy(prompt["token_ids"]).tolist()
    [0, 4, 0, 0]

    References:
        - [KerasNLP CausalLMPreprocessor](https://keras.io/api/keras_nlp/base_classes/causal_lm_preprocessor/).
    """

    @preprocessing_function
    def call(self, x, y=None, sample_weight=None, sequence_length=None):
        if y is not None or sample_weight is not None:
            raise ValueError(
                f"`{type(self).__name__}` computes the labels (the next token at "
                "each position) and sample weights (the padding mask) from "
                "`x`. Pass only the text, e.g. `fit(texts)` or a dataset of "
                "strings, not `(x, y)`."
            )
        sequence_length = sequence_length or self.sequence_length
        token_ids, padding_mask = self._pack(
            x, sequence_length + 1, self.add_end_token
        )
        x = {
            "token_ids": token_ids[..., :-1],
            "padding_mask": padding_mask[..., :-1],
        }
        y, sample_weight = token_ids[..., 1:], padding_mask[..., 1:]
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    @preprocessing_function
    def generate_preprocess(self, x, sequence_length=None):
        """Packs prompts for `generate`: the start token (when
        `add_start_token`), the tokens, no end token, right padding.

        Args:
            x: a string, a list of strings or a string tensor `(batch,)`.
            sequence_length: int. The generation length (`max_length`).
                Defaults to `None` (`self.sequence_length`).

        Returns:
            A dict with `token_ids` (int32) and `padding_mask` (bool, True
            at the prompt's tokens) of shape `(batch, sequence_length)`.
        """
        token_ids, padding_mask = self._pack(
            x, sequence_length or self.sequence_length, add_end_token=False
        )
        return {"token_ids": token_ids, "padding_mask": padding_mask}

    @preprocessing_function
    def generate_postprocess(self, x):
        """Turns generated ids back into strings.

        Drops padding (`padding_mask` False) and the tokenizer's special
        tokens (start, end, padding), then detokenizes.

        Args:
            x: a dict with `token_ids` and `padding_mask` of shape `(batch,
                length)` (or `(length,)`), as returned by `generate` without
                a preprocessor.

        Returns:
            A string, or a list of strings for a batch.
        """
        token_ids = tf.cast(x["token_ids"], "int32")
        ids = strip_to_ragged(
            token_ids, x["padding_mask"], self.tokenizer.special_token_ids
        )
        return self.tokenizer.detokenize(ids)
