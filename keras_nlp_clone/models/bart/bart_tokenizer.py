"""BART tokenizer."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.bart.bart_backbone import BartBackbone
from keras_nlp_clone.tokenizers.byte_pair_tokenizer import BytePairTokenizer


@keras_nlp_clone_export
class BartTokenizer(BytePairTokenizer):
    """A BART tokenizer: GPT-2's byte-level BPE with RoBERTa's ids.

    A `keras_nlp_clone.tokenizers.BytePairTokenizer` whose vocabulary must
    hold `"<s>"`, `"</s>"`, `"<pad>"`, `"<mask>"` and `"<unk>"` (ids 0, 2,
    1, 50264 and 3 in the published models, which share RoBERTa's
    vocabulary). Their ids are exposed as `start_token_id`, `end_token_id`,
    `pad_token_id`, `mask_token_id` and `unk_token_id`. The special tokens
    are never split when they occur in the text. The tokenizer only splits
    and maps text to ids; `BartSeq2SeqLMPreprocessor` adds the special
    tokens and padding.

    Args:
        vocabulary: dict or str. Token -> id, or the path of a JSON file
            holding it (Hugging Face's `vocab.json`). `None` when it is
            loaded later from a preset's assets. Defaults to `None`.
        merges: list of str or str. The merge rules (`"a b"` each, by
            rank), or the path of a merges file (`merges.txt`). Defaults to
            `None`.
        **kwargs: passed to `BytePairTokenizer` (`sequence_length`,
            `add_prefix_space`, `unsplittable_tokens`, `dtype`, ...).

    Call arguments:
        inputs: a str, a list of str, or a string tensor.

    Returns:
        Token ids: a list for one string, a list of lists for a batch
        (eagerly), or a dense tensor when `sequence_length` is set.

    Raises:
        ValueError: when a special token is missing from the vocabulary,
            or for any error of `BytePairTokenizer`.

    Examples:
    >>> tokenizer = keras_nlp_clone.models.BartTokenizer.from_preset(
    ...     "bart_base_en")
    >>> tokenizer.detokenize(tokenizer("The quick brown fox."))
    'The quick brown fox.'

    A tiny vocabulary.
    >>> vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "a": 4,
    ...          "b": 5, "Ġ": 6, "ab": 7, "<mask>": 8}
    >>> tokenizer = keras_nlp_clone.models.BartTokenizer(
    ...     vocabulary=vocab, merges=["a b"])
    >>> tokenizer("ab a</s>")
    [7, 6, 4, 2]

    References:
        - [Lewis et al., 2019](https://arxiv.org/abs/1910.13461)
    """

    backbone_cls = BartBackbone

    def __init__(self, vocabulary=None, merges=None, **kwargs):
        self._add_special_token("<s>", "start_token")
        self._add_special_token("</s>", "end_token")
        self._add_special_token("<pad>", "pad_token")
        self._add_special_token("<mask>", "mask_token")
        self._add_special_token("<unk>", "unk_token")
        super().__init__(vocabulary=vocabulary, merges=merges, **kwargs)
