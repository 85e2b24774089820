"""GPT-2 tokenizer."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.gpt2.gpt2_backbone import GPT2Backbone
from keras_nlp_clone.tokenizers.byte_pair_tokenizer import BytePairTokenizer


@keras_nlp_clone_export
class GPT2Tokenizer(BytePairTokenizer):
    """A GPT-2 tokenizer: byte-level BPE with `<|endoftext|>`.

    A `keras_nlp_clone.tokenizers.BytePairTokenizer` whose vocabulary must
    hold `"<|endoftext|>"` (id 50256 in the published models). That one
    token serves as the start, end and padding token: `start_token_id`,
    `end_token_id` and `pad_token_id` are all its id. It is never split when
    it occurs in the text. The tokenizer only splits and maps text to ids;
    `GPT2Preprocessor` adds the start/end tokens and padding.

    Args:
        vocabulary: dict or str. Token -> id, or the path of a JSON file
            holding it (`vocab.json`, or OpenAI's `encoder.json`). `None`
            when it is loaded later from a preset's assets. Defaults to
            `None`.
        merges: list of str or str. The merge rules (`"a b"` each, by
            rank), or the path of a merges file (`merges.txt`, or OpenAI's
            `vocab.bpe`). Defaults to `None`.
        **kwargs: passed to `BytePairTokenizer` (`sequence_length`,
            `add_prefix_space`, `unsplittable_tokens`, `dtype`, ...).

    Call arguments:
        inputs: a str, a list of str, or a string tensor.

    Returns:
        Token ids: a list for one string, a list of lists for a batch
        (eagerly), or a dense tensor when `sequence_length` is set.

    Raises:
        ValueError: when `"<|endoftext|>"` is missing from the vocabulary,
            or for any error of `BytePairTokenizer`.

    Examples:
    >>> tokenizer = keras_nlp_clone.models.GPT2Tokenizer.from_preset(
    ...     "gpt2_base_en")
    >>> tokenizer.detokenize(tokenizer("The quick brown fox."))
    'The quick brown fox.'

    A tiny vocabulary.
    >>> vocab = {"<|endoftext|>": 0, "a": 1, "b": 2, "Ġ": 3, "ab": 4}
    >>> tokenizer = keras_nlp_clone.models.GPT2Tokenizer(
    ...     vocabulary=vocab, merges=["a b"])
    >>> tokenizer("ab a<|endoftext|>")
    [4, 3, 1, 0]

    References:
        - [Radford et al., 2019](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf)
    """

    backbone_cls = GPT2Backbone

    def __init__(self, vocabulary=None, merges=None, **kwargs):
        # One token for the three roles, as in KerasNLP and Hugging Face.
        self._add_special_token("<|endoftext|>", "end_token")
        self._add_special_token("<|endoftext|>", "start_token")
        self._add_special_token("<|endoftext|>", "pad_token")
        super().__init__(vocabulary=vocabulary, merges=merges, **kwargs)
