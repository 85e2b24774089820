"""DistilBERT tokenizer."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.bert.bert_tokenizer import BertTokenizer
from keras_nlp_clone.models.distil_bert.distil_bert_backbone import (
    DistilBertBackbone,
)


@keras_nlp_clone_export
class DistilBertTokenizer(BertTokenizer):
    """A DistilBERT tokenizer: WordPiece with BERT's special tokens.

    DistilBERT uses BERT's vocabularies and tokenization unchanged, so this
    is `BertTokenizer` tied to `DistilBertBackbone` presets: the
    vocabulary must hold `"[CLS]"`, `"[SEP]"`, `"[PAD]"`, `"[MASK]"` and
    `"[UNK]"`, whose ids are exposed as `cls_token_id`, `sep_token_id`,
    `pad_token_id`, `mask_token_id` (and `start_token_id`/`end_token_id`
    for the `[CLS]`/`[SEP]` ids). It only splits and maps text to ids;
    `DistilBertPreprocessor` adds the special tokens.

    Args:
        vocabulary: list of str, or str path to a vocabulary file with one
            token per line. `None` when the vocabulary is loaded later from
            a preset's assets.
        lowercase: bool. Lowercase the input (uncased models); accents are
            then stripped too unless `strip_accents=False` is passed.
            Defaults to `False`.
        **kwargs: passed to `BertTokenizer` (`strip_accents`) and
            `WordPieceTokenizer` (`sequence_length`, `dtype`, ...).

    Call arguments:
        inputs: a string, a list of strings or a string tensor `(batch,)`.

    Returns:
        A list of int ids for one string, a list of lists for a batch (or
        a dense int tensor `(batch, sequence_length)` when
        `sequence_length` is set).

    Raises:
        ValueError: when a special token is missing from the vocabulary.

    Examples:
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "fox"]
    >>> tokenizer = keras_nlp_clone.models.DistilBertTokenizer(
    ...     vocabulary=vocab, lowercase=True)
    >>> tokenizer("The fox jumped")
    [5, 6, 1]
    >>> tokenizer.detokenize([5, 6])
    'the fox'

    References:
        - [Sanh et al., 2019](https://arxiv.org/abs/1910.01108)
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    backbone_cls = DistilBertBackbone

    def __init__(self, vocabulary, lowercase=False, **kwargs):
        super().__init__(vocabulary=vocabulary, lowercase=lowercase, **kwargs)
