"""BERT tokenizer."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.bert.bert_backbone import BertBackbone
from keras_nlp_clone.tokenizers.word_piece_tokenizer import WordPieceTokenizer


@keras_nlp_clone_export
class BertTokenizer(WordPieceTokenizer):
    """A BERT tokenizer: WordPiece with BERT's special tokens.

    A `keras_nlp_clone.tokenizers.WordPieceTokenizer` whose vocabulary must
    hold `"[CLS]"`, `"[SEP]"`, `"[PAD]"`, `"[MASK]"` and `"[UNK]"`; their
    ids are exposed as `cls_token_id`, `sep_token_id`, `pad_token_id`,
    `mask_token_id` (and `start_token_id`/`end_token_id`, aliases of the
    `[CLS]`/`[SEP]` ids used by the generic preprocessors). It only splits
    and maps text to ids; `BertPreprocessor` adds the special tokens.

    Args:
        vocabulary: list of str, or str path to a vocabulary file with one
            token per line. `None` when the vocabulary is loaded later from
            a preset's assets. Defaults to `None`.
        lowercase: bool. Lowercase the input (uncased models). Defaults to
            `False`.
        strip_accents: bool or `None`. Strip accents; `None` follows
            `lowercase`, as in the original uncased BERT. Defaults to
            `None`.
        **kwargs: passed to `WordPieceTokenizer` (`sequence_length`,
            `dtype`, `special_tokens_in_strings`, ...).

    Raises:
        ValueError: when a special token is missing from the vocabulary.

    Examples:
    >>> tokenizer = keras_nlp_clone.models.BertTokenizer.from_preset(
    ...     "all_minilm_l6_v2_en")
    >>> tokenizer("The quick brown fox jumped.")
    [1996, 4248, 2829, 4419, 5598, 1012]
    >>> tokenizer.detokenize([1996, 4248, 2829])
    'the quick brown'

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    backbone_cls = BertBackbone

    def __init__(self, vocabulary=None, lowercase=False, strip_accents=None, **kwargs):
        self._add_special_token("[CLS]", "cls_token")
        self._add_special_token("[SEP]", "sep_token")
        self._add_special_token("[PAD]", "pad_token")
        self._add_special_token("[MASK]", "mask_token")
        self._add_special_token("[UNK]", "unk_token")
        if strip_accents is None:
            strip_accents = lowercase
        kwargs.setdefault("oov_token", "[UNK]")
        kwargs.setdefault("special_tokens", None)
        super().__init__(
            vocabulary=vocabulary,
            lowercase=lowercase,
            strip_accents=strip_accents,
            **kwargs,
        )

    def _update_special_token_ids(self):
        super()._update_special_token_ids()
        object.__setattr__(self, "start_token_id", self.cls_token_id)
        object.__setattr__(self, "end_token_id", self.sep_token_id)
