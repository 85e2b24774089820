"""GPT-2 causal language model preprocessor."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.causal_lm_preprocessor import CausalLMPreprocessor
from keras_nlp_clone.models.gpt2.gpt2_backbone import GPT2Backbone
from keras_nlp_clone.models.gpt2.gpt2_tokenizer import GPT2Tokenizer


@keras_nlp_clone_export
class GPT2CausalLMPreprocessor(CausalLMPreprocessor):
    """GPT-2 preprocessing for `GPT2CausalLM`: strings to next-token
    prediction examples, and prompts for `generate`.

    A `CausalLMPreprocessor` with a `GPT2Tokenizer`: `<|endoftext|>` is the
    start, end and padding token, so the padding mask comes from the packer
    (True at the packed tokens, the start and end tokens included).
    `generate_postprocess` drops `<|endoftext|>` and padding before
    detokenizing.

    Args:
        tokenizer: `keras_nlp_clone.models.GPT2Tokenizer`.
        sequence_length: int. The length of the packed inputs and labels.
            Defaults to `1024`.
        add_start_token: bool. Whether to prepend `<|endoftext|>`. Defaults
            to `True`.
        add_end_token: bool. Whether to append `<|endoftext|>` (training
            only). Defaults to `True`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: a string, a list of strings or a string tensor `(batch,)`.
        y: must be `None`. sample_weight: must be `None`.
        sequence_length: int. Overrides `sequence_length` for this call.

    Returns:
        `(x, y, sample_weight)`: `x` a dict with `token_ids` (int32) and
        `padding_mask` (bool) of shape `(batch, sequence_length)`, `y` the
        next token at each position and `sample_weight` the padding mask of
        `y`.

    Raises:
        ValueError: when labels are passed or `x` holds several segments.

    Examples:
    >>> import keras
    >>> vocab = {"<|endoftext|>": 0, "a": 1, "b": 2, "Ġ": 3, "ab": 4}
    >>> tokenizer = keras_nlp_clone.models.GPT2Tokenizer(
    ...     vocabulary=vocab, merges=["a b"])
    >>> preprocessor = keras_nlp_clone.models.GPT2CausalLMPreprocessor(
    ...     tokenizer, sequence_length=4)
    >>> x, y, _ = preprocessor(["ab a"])
    >>> keras.ops.convert_to_numpy(x["token_ids"]).tolist()
    [[0, 4, 3, 1]]
    >>> keras.ops.convert_to_numpy(y).tolist()
    [[4, 3, 1, 0]]
    >>> preprocessor.generate_postprocess({
    ...     "token_ids": [[0, 4, 3, 1, 0]],
    ...     "padding_mask": [[True, True, True, True, True]]})
    ['ab a']

    References:
        - [Radford et al., 2019](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf)
    """

    backbone_cls = GPT2Backbone
    tokenizer_cls = GPT2Tokenizer
